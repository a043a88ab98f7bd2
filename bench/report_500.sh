#!/usr/bin/env bash
# report_500.sh — `exprun report` at 500 runs: the page's size, the time exprun takes to write it,
# and the time headless Chromium takes to open it (the page's own script time, data-load-ms, and the
# browser's wall time from start to the DOM dump), medians of ROUNDS.
#
#   usage: bench/report_500.sh [BUILD_DIR=build] [RUNS=500] [ROUNDS=3]
#
# The runs: a sweep of RUNS tiny autoencoders (16 inputs, 10 epochs at batch 1: 1,350 steps each,
# every step logged, so each training series is downsampled to 1,000 points), trained first with
# `exprun sweep --jobs 2` into a scratch folder (about two minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build} runs=${2:-500} rounds=${3:-3}
exe=$(pwd)/$build/exprun
work=$(mktemp -d /tmp/report500.XXXXXX)
/usr/bin/python3 - "$work/data.h5" <<'PY'
import sys, h5py, numpy as np
x = np.random.default_rng(3).random((150, 16)).astype("f4")
with h5py.File(sys.argv[1], "w") as f:
    f["x"] = x
PY
lrs=$(/usr/bin/python3 -c "import numpy as np; print(', '.join(f'{v:.3g}' for v in np.geomspace(1e-4, 3e-2, $runs // 20)))")
cat > "$work/sweep.yaml" <<YAML
version: 1
name: r500
threads: 1
data: {source: hdf5, path: data.h5}
model: {type: autoencoder, code: 4}
loss: squared_error
optimizer: {lr: 0.01}
train: {epochs: 10, batch_size: 1, log_every: 1, checkpoint_every: 0}

sweep: {grid: {optimizer.lr: [$lrs], seed: [$(seq -s, 1 20)]}}
YAML
t0=$(date +%s.%N)
"$exe" sweep "$work/sweep.yaml" --jobs 2 --quiet --sweep-dir "$work/sweep" > "$work/sweep.log" 2>&1
t1=$(date +%s.%N)
echo "trained $(ls -d "$work"/sweep/trial-*/ | wc -l) runs in $(echo "$t1 - $t0" | bc) s"
write=() load=() wall=()
for r in $(seq 1 "$rounds"); do
  a=$(date +%s.%N)
  "$exe" report "$work/sweep" -o "$work/report.html" > "$work/report.out"
  b=$(date +%s.%N)
  write+=("$(echo "$b - $a" | bc)")
  a=$(date +%s.%N)
  timeout 300 chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$work/profile" \
    --virtual-time-budget=30000 --dump-dom "file://$work/report.html" > "$work/dom.html" 2> "$work/chrome.log"
  b=$(date +%s.%N)
  wall+=("$(echo "$b - $a" | bc)")
  load+=("$(grep -o '<body[^>]*data-load-ms="[0-9.]*"' "$work/dom.html" | grep -o '[0-9.]*"$' | tr -d '"')")
  grep -q '<div id="errors"></div>' "$work/dom.html" || { echo "report_500.sh: the page shows errors" >&2; exit 1; }
done
rows=$(grep -o '<tr class="run' "$work/dom.html" | wc -l)
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
size=$(stat -c %s "$work/report.html")
echo "report of $rows runs: $(echo "scale=2; $size / 1000000" | bc) MB ($(gzip -c "$work/report.html" | wc -c | awk '{printf "%.2f", $1 / 1e6}') MB gzipped)"
echo "exprun report: $(median "${write[@]}") s (median of $rounds: ${write[*]})"
echo "Chromium, start to DOM dump: $(median "${wall[@]}") s (${wall[*]}); the page's script: $(median "${load[@]}") ms (${load[*]})"
echo "files kept in $work"
