#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds bulwark: ci/build.sh [release|asan|fuzz]...  (default: release)
#   release  g++, -O3, the product (build/release)
#   asan     g++ with AddressSanitizer + UBSan, unit tests included (build/asan)
#   fuzz     clang with libFuzzer + ASan + UBSan, the fuzz targets (build/fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

setup() { # DIR ARGS...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

for kind in "${@:-release}"; do
  case "$kind" in
    release) setup build/release -Dbuildtype=release ;;
    # GCC 12 reports false maybe-uninitialized warnings inside libstdc++
    # (std::regex, std::function) once ASan instruments them, and a false
    # mismatched-new-delete inside Boost.Asio's coroutine frames (its
    # awaitable_frame_base operator new/delete pair, inlined): not ours.
    asan) setup build/asan -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
            "-Dcpp_args=['-fno-sanitize-recover=all','-Wno-maybe-uninitialized','-Wno-mismatched-new-delete']" ;;
    fuzz) CXX=clang++ setup build/fuzz -Dbuildtype=debugoptimized -Dfuzz=true -Dtests=false \
            -Db_sanitize=address,undefined -Db_lundef=false -Dcpp_args=-fno-sanitize-recover=all ;;
    *) echo "ci/build.sh: unknown build '$kind', expected release, asan or fuzz" >&2; exit 2 ;;
  esac
  echo "ci/build.sh: building $kind"
  log=build/$kind/ninja.log.txt
  if ! ninja -C "build/$kind" -j "$jobs" >"$log" 2>&1; then
    grep -E 'error|FAILED|undefined reference' "$log" | head -n 40 >&2
    echo "ci/build.sh: the $kind build failed (full log: $log)" >&2
    exit 1
  fi
  tail -n 1 "$log"
done
