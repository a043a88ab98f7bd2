#!/usr/bin/env bash
# bench/run.sh — the benchmark suite in one command: exprun beside PyTorch on every workload of
# issue 8, the machine's sgemm rate, end-to-end runs and start-up time.
#
#   bash bench/run.sh [--repeats N] [--only lstm_h256,ae_deep] [--no-e2e] [--quick]
#
# Builds exprun (Release) in build-bench/, runs bench/suite.py (which waits for a quiet machine
# before every measurement and alternates the programs) and writes bench/results/RESULTS.md and
# bench/results/raw.jsonl; prints the table. Takes about 40 minutes on 2 quiet cores.
#
# Environment, the same for both programs: OPENBLAS_CORETYPE as set, else Haswell (Debian's
# OpenBLAS 0.3.21 does not know newer CPUs and would fall back to its slow Prescott kernels);
# OPENBLAS_NUM_THREADS and the rest as they are. BENCH_BUILD / BENCH_OUT move the build and
# results directories.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BENCH_BUILD:-$root/build-bench}"
out="${BENCH_OUT:-$root/bench/results}"

if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    export OPENBLAS_CORETYPE=Haswell
fi
echo "run.sh: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-(unset)}" >&2

# Debian's packages the suite needs (PyTorch, hyperfine, the datasets), installed if missing.
bash "$root/scripts/setup.sh" --no-build --bench >&2

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEXPRUN_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target exprun bench_exprun sgemm_rate >/dev/null

cd "$root"
exec /usr/bin/python3 "$root/bench/suite.py" --build "$build" --out "$out" \
    --invocation "bash bench/run.sh $*" "$@"
