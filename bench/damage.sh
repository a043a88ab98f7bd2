#!/usr/bin/env bash
# damage.sh — the randomized checkpoint-damage run of issue 20, at full size (the suite's
# test_trust does 60). A small run is stopped mid-epoch with a checkpoint; N times, one random
# bit (or, one time in four, a random range of 1–64 bytes) of that checkpoint is damaged and the
# run resumed with a 120 s bound. Every outcome must be a refusal (exit 3, naming the file) or a
# run bit-identical to the undamaged one; the counts are printed, and the exit status is non-zero
# if any resume crashed, hung or finished with other bits.
#
#   usage: bench/damage.sh [N=240] [SEED=20261204]
#   EXPRUN_DAMAGE_RESEAL=1 bench/damage.sh   also give LATEST the damaged file's digest, so the
#                                            damage meets HDF5 and the file's own checks
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-240}
seed=${2:-20261204}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target exprun test_trust >/dev/null
export EXPRUN_BIN=$PWD/build/exprun EXPRUN_SOURCE_DIR=$PWD OPENBLAS_NUM_THREADS=1
EXPRUN_DAMAGE_FLIPS=$n EXPRUN_DAMAGE_SEED=$seed build/test_trust | grep -E "random damage|Test:.*FAILED|asserts"
