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
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

for kind in "${@:-release}"; do
  case "$kind" in
    release) setup build/release --buildtype=release ;;
    asan) setup build/asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
            -Dcpp_args=-fno-sanitize-recover=all ;;
    fuzz) CXX=clang++ setup build/fuzz --buildtype=debugoptimized -Dfuzz=true -Dtests=false \
            -Db_sanitize=address,undefined -Db_lundef=false -Dcpp_args=-fno-sanitize-recover=all ;;
    *) echo "ci/build.sh: unknown build '$kind', expected release, asan or fuzz" >&2; exit 2 ;;
  esac
  echo "ci/build.sh: building $kind"
  ninja -C "build/$kind" -j "$jobs" | tail -n 1
done
