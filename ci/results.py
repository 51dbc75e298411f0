#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Test results for ci/test.sh, counted from the runners' own reports.

  results.py record DIR NAME pass|fail [DETAIL]   write one result as JUnit XML
  results.py summary DIR                          count every *.xml in DIR and
                                                  print 'tests: N passed, M failed[, K skipped]';
                                                  exit 1 when anything failed

Catch2 (--reporter junit) and pytest (--junitxml) write JUnit XML; a stage
with no runner of its own (the fuzz corpus replay) records its outcome here.
A report that is missing or unreadable counts as a failure, so a crashed
runner can never pass for a clean one.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr


def record(out_dir, name, status, detail=""):
    os.makedirs(out_dir, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    body = "" if status == "pass" else "<failure message=%s>%s</failure>" % (quoteattr(detail or "failed"), escape(detail))
    with open(os.path.join(out_dir, "record-%s.xml" % safe), "w") as f:
        f.write('<?xml version="1.0"?>\n<testsuite name="ci" tests="1"><testcase classname="ci" name=%s>%s</testcase></testsuite>\n'
                % (quoteattr(name), body))


def summary(out_dir):
    passed = failed = skipped = 0
    failures = []
    for path in sorted(glob.glob(os.path.join(out_dir, "*.xml"))):
        try:
            root = ET.parse(path).getroot()
        except (ET.ParseError, OSError) as e:
            failed += 1
            failures.append("%s: unreadable report (%s)" % (os.path.basename(path), e))
            continue
        cases = root.iter("testcase")
        for case in cases:
            name = "%s::%s" % (case.get("classname", ""), case.get("name", ""))
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                failures.append(name)
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    for f in failures:
        print("FAILED: %s" % f)
    line = "tests: %d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "record":
        record(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else "")
    elif len(sys.argv) == 3 and sys.argv[1] == "summary":
        sys.exit(summary(sys.argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
