#!/usr/bin/env bash
# recurrent_claims.sh — runs the recurrent claims of the lecture and prints the figures:
#   adding problem (T = 100): test MSE of the vanilla RNN, the LSTM and the GRU (baseline ≈ 0.167),
#     the first epoch each got below 0.01 on validation, and the vanishing-gradient diagnostic
#     (‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ in the first epoch: how much gradient reaches the first step);
#   exploding gradients: the same RNN family unclipped (diverges) and clipped (finite);
#   running parity (synced many-to-many) and sequential Fashion-MNIST (many-to-one).
# Usage: bench/recurrent_claims.sh [adding|exploding|parity|fashion|all]   (default all; ~30 min)
set -uo pipefail
cd "$(dirname "$0")/.."
exprun=${EXPRUN:-build/exprun}
out=${OUT:-bench/out/recurrent}
mkdir -p "$out"
what=${1:-all}

summary() {  # run_dir label
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
d, label = sys.argv[1], sys.argv[2]
f = h5py.File(d + "/results.h5", "r")
m = f["metrics/epochs"][()]
names = m.dtype.names
val = m["val_loss"]
below = [int(e) for e, v in zip(m["epoch"], val) if v < 0.01]
line = f"{label:28s} epochs {int(m['epoch'][-1]):3d}  final val {val[-1]:.5f}"
if "test_loss" in names: line += f"  test loss {m['test_loss'][-1]:.5f}"
if "test_accuracy" in names: line += f"  test accuracy {m['test_accuracy'][-1]:.4f}"
line += f"  first epoch val<0.01: {below[0] if below else '-'}"
line += f"  wall {np.nansum(m['epoch_time']):.0f} s"
if "diagnostics/grad_norm_by_time" in f:
    g = f["diagnostics/grad_norm_by_time"][()]
    line += f"  grad ‖dL/dh_1‖/‖dL/dh_T‖ epoch1 {g[0,0]/g[0,-1]:.2e} last {g[-1,0]/g[-1,-1]:.2e}"
print(line)
PY
}

if [ "$what" = adding ] || [ "$what" = all ]; then
  for cell in rnn lstm gru; do
    rm -rf "$out/adding_$cell"
    /usr/bin/time -f "adding_$cell wall %e s" "$exprun" "configs/adding_$cell.yaml" --out "$out/adding_$cell" --quiet
    summary "$out/adding_$cell" "adding_$cell"
  done
fi
if [ "$what" = exploding ] || [ "$what" = all ]; then
  rm -rf "$out/exploding" "$out/exploding_clipped"
  "$exprun" configs/exploding_rnn.yaml --out "$out/exploding" --quiet; echo "exploding_rnn unclipped: exit $? (4 = diverged)"
  "$exprun" configs/exploding_rnn.yaml clip.type=global_norm clip.threshold=1.0 --out "$out/exploding_clipped" --quiet
  echo "exploding_rnn clipped at 1.0: exit $?"; summary "$out/exploding_clipped" "exploding_rnn clipped"
fi
if [ "$what" = parity ] || [ "$what" = all ]; then
  rm -rf "$out/parity"; "$exprun" configs/parity_gru.yaml --out "$out/parity" --quiet; summary "$out/parity" "parity_gru"
fi
if [ "$what" = fashion ] || [ "$what" = all ]; then
  rm -rf "$out/fashion_rows"; "$exprun" configs/fashion_rows_lstm.yaml --out "$out/fashion_rows" --quiet
  summary "$out/fashion_rows" "fashion_rows_lstm"
fi
