#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's first command: installs what is needed, builds bulwarkd, brings
# up the lab (tools/lab) and runs the attack show (tools/show.py) against
# bulwarkd on its embedded default configuration: a legit client browsing
# while bounded attacks run, then a summary. --for SECONDS keeps bulwarkd
# running that long after the show, --interactive until Ctrl-C; --quick
# runs smaller attacks. Exits non-zero if a legit request failed.
set -euo pipefail
cd "$(dirname "$0")/.."

hold=0 quick=
while [ $# -gt 0 ]; do
  case "$1" in
    --for) hold=${2:?--for needs a number of seconds}; shift 2 ;;
    --interactive) hold=-1; shift ;;
    --quick) quick=--quick; shift ;;
    -h|--help) sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ci/demo.sh: usage: ci/demo.sh [--quick] [--for SECONDS | --interactive]" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/demo.sh: run as root: the lab needs network namespaces" >&2
  exit 1
fi
bash ci/install.sh
# only what the show runs: bulwarkd (a fresh build of everything takes far longer)
[ -f build/release/build.ninja ] || meson setup build/release -Dbuildtype=release >/dev/null
echo "== building bulwarkd"
start=$(date +%s)
ninja -C build/release controlplane/bulwarkd >build/release/demo-build.log 2>&1 ||
  { tail -n 40 build/release/demo-build.log >&2; echo "ci/demo.sh: the build failed" >&2; exit 1; }
echo "== built in $(( $(date +%s) - start ))s"
bulwarkd=$(pwd)/build/release/controlplane/bulwarkd

echo "== checking the embedded default configuration (bulwarkd -c)"
"$bulwarkd" -c

prefix=${BULWARK_LAB_PREFIX:-bwlab-}
tools/lab --prefix "$prefix" down >/dev/null
# the lab comes down on every way out: success, failure, Ctrl-C
trap 'tools/lab --prefix "$prefix" down' EXIT
trap 'exit 130' INT TERM
tools/lab --prefix "$prefix" up
/usr/bin/python3 tools/show.py --bulwarkd "$bulwarkd" --prefix "$prefix" --hold "$hold" $quick
