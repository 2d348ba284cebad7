#!/usr/bin/env bash
# Installs exactly the Debian 12 packages that Accord's build, tests and run need.
# Idempotent: runs `apt-get update` and `apt-get install` only when something is missing.
# Uses sudo when not root.
set -euo pipefail

PACKAGES=(
  # build
  cmake g++ make ninja-build pkg-config
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  libabsl-dev libyaml-cpp-dev libsqlite3-dev libcivetweb-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 prometheus curl procps
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
