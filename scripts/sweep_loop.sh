#!/usr/bin/env bash
# sweep_loop.sh — a learning-rate sweep written as a plain shell loop: one exprun run per value,
# one after another. It needs no sweep: block in the spec; each value is a command-line override,
# recorded in that run's overrides.txt. All runs go into one folder, and `exprun summarize` puts
# them side by side at the end.
#
#   usage: scripts/sweep_loop.sh SPEC [key=value ...]
#   e.g.   scripts/sweep_loop.sh configs/ae_fashion.yaml train.epochs=5
#   env:   EXPRUN  the exprun program (default: build/exprun next to this script)
#          OUT     the folder for the runs (default: results/lr-loop-YYYYmmdd-HHMMSS)
#
# For a sweep described in the spec itself (grid and zip lists, run N at a time, failures
# counted) use `exprun sweep SPEC --jobs N` instead; on a cluster, scripts/sweep_slurm.sh.
set -uo pipefail        # no -e: one failed run must not stop the others

EXPRUN=${EXPRUN:-"$(dirname "$0")/../build/exprun"}
SPEC=${1:?usage: scripts/sweep_loop.sh SPEC [key=value ...]}
shift
OUT=${OUT:-results/lr-loop-$(date +%Y%m%d-%H%M%S)}

failed=0
for lr in 1.0e-2 3.0e-3 1.0e-3 3.0e-4; do   # YAML-1.2-safe numbers (PyYAML reads 1e-3 as text)
  echo "== optimizer.lr=$lr"
  # --out names the run after its value; exprun refuses to write over an existing run.
  "$EXPRUN" "$SPEC" "$@" optimizer.lr="$lr" --out "$OUT/lr-$lr"
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "== optimizer.lr=$lr failed (exit status $status)" >&2
    failed=$((failed + 1))
  fi
done

"$EXPRUN" summarize "$OUT"          # name, status, epochs, final/best losses, time, overrides
exit "$failed"                      # like `exprun sweep`: the number of failed runs
