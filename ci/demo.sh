#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's first command: installs what is needed, builds bulwark, brings
# up the lab (tools/lab) and runs bulwarkd in it on its embedded default
# configuration. Runs until Ctrl-C (or --for SECONDS; 30 s when there is no
# terminal), then removes the lab.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=
case "${1:-}" in
  --for) duration=${2:?--for needs a number of seconds} ;;
  -h|--help) sed -n '3,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") [ -t 0 ] || duration=30 ;;
  *) echo "ci/demo.sh: usage: ci/demo.sh [--for SECONDS]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/demo.sh: run as root: the lab needs network namespaces" >&2
  exit 1
fi
bash ci/install.sh
bash ci/build.sh release
bulwarkd=$(pwd)/build/release/controlplane/bulwarkd

echo "== checking the embedded default configuration (bulwarkd -c)"
"$bulwarkd" -c

prefix=${BULWARK_LAB_PREFIX:-bwlab-}
tools/lab --prefix "$prefix" down >/dev/null
trap 'tools/lab --prefix "$prefix" down' EXIT
tools/lab --prefix "$prefix" up

echo "== running bulwarkd in namespace ${prefix}bw${duration:+ for ${duration}s} (Ctrl-C stops it)"
tools/lab --prefix "$prefix" exec -- "$bulwarkd" -q </dev/null &
pid=$!
if [ -n "$duration" ]; then
  # bounded wait, polling so an early exit of bulwarkd ends it at once
  for _ in $(seq "$duration"); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -TERM "$pid" 2>/dev/null || true
else
  trap 'kill -INT "$pid" 2>/dev/null || true' INT
fi
wait "$pid" || true
wait "$pid" 2>/dev/null || true
echo "== bulwarkd stopped"
