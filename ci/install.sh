#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package bulwark needs to build, test and run the lab.
# Idempotent: packages already present are skipped by apt; safe to run twice.
set -euo pipefail

PACKAGES=(
  # build
  build-essential g++ pkg-config meson ninja-build
  libdpdk-dev dpdk-dev            # DPDK 22.11 (dpdk-dev carries dpdk-testpmd)
  libhyperscan-dev libpcre2-dev   # regex: one-pass matching, captures/replacements
  libboost1.74-dev                # Asio, Beast
  libssl-dev                      # OpenSSL 3
  libfmt-dev nlohmann-json3-dev libedit-dev
  catch2                          # Catch2 2 (unit tests)
  clang libclang-rt-14-dev        # libFuzzer and sanitizer runtimes
  # tests and lab
  python3 python3-pytest python3-scapy
  iproute2 iputils-ping ethtool tcpdump tshark curl openssl procps
  hping3 slowhttptest wrk
  haproxy nginx                   # baselines for benchmarks and behaviour checks
)

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/install.sh: must run as root (it calls apt-get)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "ci/install.sh: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "ci/install.sh: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# haproxy/nginx must not start services on install: tests start their own on loopback.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ci/install.sh: done"
