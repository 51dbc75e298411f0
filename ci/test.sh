#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: installs what is needed, builds every flavour and
# runs every test, then prints 'tests: N passed, M failed' counted from the
# runners' reports. Exits non-zero when anything failed or a runner crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
results=$top/build/results
rm -rf "$results"
mkdir -p "$results"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
py=/usr/bin/python3   # Debian's: the python3 first on PATH may lack pytest and scapy

t0=$(date +%s)
stage_start=$t0
stage() { # NAME: prints the time of the stage that just ended
  local now; now=$(date +%s)
  printf '== %-28s %4ds (total %ds)\n' "$1" $((now - stage_start)) $((now - t0))
  stage_start=$now
}
fail_stage() { # NAME DETAIL: a stage that could not run counts as a failed test
  "$py" ci/results.py record "$results" "$1" fail "$2"
  echo "ci/test.sh: $1: $2" >&2
}

if [ "$(id -u)" -eq 0 ]; then
  bash ci/install.sh || { echo "ci/test.sh: install failed" >&2; exit 1; }
else
  echo "ci/test.sh: not root: skipping ci/install.sh (packages must be present)"
fi
stage "install"

bash ci/build.sh release || { fail_stage "build release" "the release build failed"; }
stage "build release"
bash ci/build.sh asan || { fail_stage "build asan" "the sanitizer build failed"; }
stage "build asan+ubsan"
bash ci/build.sh fuzz || { fail_stage "build fuzz" "the fuzz build failed"; }
stage "build fuzz (clang)"

run_unit() { # FLAVOUR
  local bin=build/$1/tests/unit_tests xml=$results/unit-$1.xml
  if [ ! -x "$bin" ]; then fail_stage "unit tests ($1)" "no binary"; return; fi
  "$bin" --reporter junit --out "$xml" --name "unit-$1" >/dev/null 2>"$results/unit-$1.stderr"
  local rc=$?
  if [ $rc -ne 0 ] && ! grep -q '<failure' "$xml" 2>/dev/null; then
    fail_stage "unit tests ($1)" "runner exited $rc with no failure reported (crash?): $(tail -n 5 "$results/unit-$1.stderr")"
  fi
  # Catch2's JUnit file holds failures; show them here too
  [ $rc -eq 0 ] || "$bin" --reporter compact 2>&1 | grep -E 'failed|FAILED' | head -n 40
}
run_unit release
stage "unit tests (release)"
run_unit asan
stage "unit tests (asan+ubsan)"

# Each fuzz target replays its stored corpus once: a regression test.
for target in build/fuzz/tests/fuzz/*_fuzz; do
  [ -x "$target" ] || continue
  name=$(basename "$target" _fuzz)
  corpus=tests/fuzz/corpus/$name
  n=$(find "$corpus" -type f | wc -l)
  if "$target" -runs=0 "$corpus" >"$results/fuzz-$name.log" 2>&1; then
    "$py" ci/results.py record "$results" "fuzz replay $name ($n inputs)" pass
  else
    fail_stage "fuzz replay $name ($n inputs)" "$(grep -E 'ERROR|SUMMARY' "$results/fuzz-$name.log" | head -n 3)"
  fi
done
stage "fuzz corpus replay"

if [ "$(id -u)" -eq 0 ]; then
  BULWARKD=$top/build/release/controlplane/bulwarkd \
    "$py" -m pytest -q -p no:cacheprovider --junitxml="$results/integration.xml" tests/integration
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    fail_stage "integration tests" "pytest exited $rc (usage error, interrupted or no tests)"
  fi
  # The proxy, the checker and the shield (DPDK in the lab) once more on the
  # ASan+UBSan bulwarkd: memory errors, leaks at exit (LeakSanitizer makes
  # it exit 23) and UB fail them.
  BULWARKD=$top/build/asan/controlplane/bulwarkd \
    "$py" -m pytest -q -p no:cacheprovider --junitxml="$results/integration-asan.xml" \
    -o junit_suite_name=integration-asan tests/integration/test_proxy.py tests/integration/test_check.py \
    tests/integration/test_slow_attacks.py tests/integration/test_limits.py tests/integration/test_tunnel.py \
    tests/integration/test_unix.py tests/integration/test_haproxy_regtests.py tests/integration/test_rules.py \
    tests/integration/test_shield.py tests/integration/test_host_port.py
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    fail_stage "integration tests (asan)" "pytest exited $rc (usage error, interrupted or no tests)"
  fi
else
  echo "ci/test.sh: not root: integration tests need network namespaces" >&2
  fail_stage "integration tests" "not run: needs root"
fi
stage "integration tests (lab)"

"$py" ci/results.py summary "$results"
