#!/usr/bin/env bash
# Installs what kvol needs to build, test and run on Debian 12 (apt only). Idempotent: installs
# only what is missing. Needs root (or sudo).
set -euo pipefail
pkgs=(
  cmake ninja-build ccache g++ clang-14 libclang-rt-14-dev pkg-config
  libsqlite3-dev libyaml-dev nlohmann-json3-dev libboost-dev libcli11-dev libssl-dev zlib1g-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang-format-14 libprotobuf-dev protobuf-compiler
  crun busybox-static util-linux e2fsprogs xfsprogs git ca-certificates jq
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  echo "deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
