#!/usr/bin/env bash
# setup.sh — install what exprun needs from Debian packages (only what is missing), then
# configure and build it with CMake into build/. Safe to run again: it skips what is there.
# Works as root or as a user with sudo.
#   usage: scripts/setup.sh [--no-build] [--bench]
#   --bench also installs what bench/run.sh uses beside PyTorch (which the tests need: test_export
#   loads exported models into it): hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
bench=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --bench) bench=1 ;;
    *) echo "setup: unknown option '$arg' (expected --no-build or --bench)" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  build-essential cmake pkg-config git
  libyaml-dev libhdf5-dev hdf5-tools libopenblas-dev liblapacke-dev libcunit1-dev zlib1g-dev libpng-dev
  libcairo2-dev fonts-dejavu-core poppler-utils chromium
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev python3-onnx
  python3 python3-h5py python3-numpy python3-pandas python3-torch
  dataset-fashion-mnist fortunes
  valgrind clang libclang-rt-14-dev
  openmpi-bin libopenmpi-dev
  slurmctld slurmd slurm-client munge
)
if [ "$bench" -eq 1 ]; then PACKAGES+=(hyperfine); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all Debian packages present"
fi

# onnxruntime, for the tests that run exprun's ONNX exports (scripts/check_onnx.py): the npm
# package onnxruntime-node at the version scripts/onnx/package-lock.json pins, its install step
# kept from downloading (the package carries its Linux binaries). Node.js from Debian if the
# machine has none.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if [ ! -f scripts/onnx/node_modules/onnxruntime-node/package.json ]; then
  echo "setup: installing onnxruntime-node (npm) into scripts/onnx"
  (cd scripts/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

if [ "$build" -eq 1 ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)"
  echo "setup: built build/exprun"
fi
