#!/usr/bin/env bash
# mpi.sh — data-parallel training on this machine: one process with 2 threads against 2 MPI ranks
# with 1 thread each (the same 2 cores, the same global batch), for a char LSTM and a deep
# autoencoder, and the share of a step the gradient all-reduce takes (exprun reports it: results.h5
# attributes allreduce_seconds_per_step and step_seconds_per_step, rank 0's clock).
#
#   usage: bench/mpi.sh [ROUNDS=3]
#
# Workloads (real data: run datasets/prepare_fortunes.sh first; Fashion-MNIST from Debian):
#   lstm   configs/lstm_text.yaml: 2 x LSTM 256, batch 32 x 64 characters, 40 steps
#   ae     configs/ae_fashion.yaml with hidden 256-64-256 (784-256-64-256-784), batch 128, 200 steps
# Each round runs both ways, alternating; the table gives the median training throughput
# (metrics.csv: tokens_per_sec or samples_per_sec over the epoch's training time) and the
# all-reduce's share. On 2 cores no speed-up is expected: the point is that the path is real.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
build=${BENCH_BUILD:-build}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d /tmp/bench-mpi.XXXXXX)
lstm=(configs/lstm_text.yaml train.epochs=1 train.max_steps_per_epoch=40 data.validation_fraction=0.01)
ae=(configs/ae_fashion.yaml "model.hidden=[{units: 256, activation: sigmoid}]" model.code=64 train.epochs=1
    train.max_steps_per_epoch=200 data.validation_fraction=0.01)
for r in $(seq 1 "$rounds"); do
  for w in lstm ae; do
    declare -n args=$w
    "$build/exprun" "${args[@]}" threads=2 --quiet --out "$out/$w-1x2-$r" >/dev/null
    mpirun --oversubscribe --bind-to none -np 2 "$build/exprun" "${args[@]}" threads=1 --quiet \
      --out "$out/$w-2x1-$r" >/dev/null
    unset -n args
  done
done
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import csv, statistics, sys, h5py
out, rounds = sys.argv[1], int(sys.argv[2])
print(f"{'workload':<8} {'1 rank x 2 threads':>20} {'2 ranks x 1 thread':>20} {'2x1 / 1x2':>10} {'all-reduce':>22}  ({rounds} rounds, median)")
for w, unit in (("lstm", "tokens_per_sec"), ("ae", "samples_per_sec")):
    def rate(kind):
        return statistics.median(float(list(csv.DictReader(open(f"{out}/{w}-{kind}-{r}/metrics.csv")))[0][unit])
                                 for r in range(1, rounds + 1))
    def reduce_share():
        ms, share = [], []
        for r in range(1, rounds + 1):
            a = h5py.File(f"{out}/{w}-2x1-{r}/results.h5", "r").attrs
            ms.append(1e3 * a["allreduce_seconds_per_step"])
            share.append(a["allreduce_seconds_per_step"] / a["step_seconds_per_step"])
        return statistics.median(ms), statistics.median(share)
    one, two = rate("1x2"), rate("2x1")
    ms, share = reduce_share()
    print(f"{w:<8} {one:>20.0f} {two:>20.0f} {two / one:>10.2f} {ms:>10.2f} ms = {100 * share:>4.1f}%   {unit}")
print(f"runs: {out}")
PY
