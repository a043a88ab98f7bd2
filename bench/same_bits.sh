#!/usr/bin/env bash
# same_bits.sh — do two exprun builds train every shipped recurrent config to the same bits?
# For a refactor that must change nothing (issue 21): each config in configs/ whose model is
# recurrent (rnn, lstm, gru, seq2seq, one_to_many) trains 1 epoch of at most 3 steps with each
# build; every dataset of /model and /optimizer of the two final checkpoints must be equal, bit
# for bit (h5py, numpy array_equal on the raw bytes), and so must every metrics.csv value but the
# clocks (losses, evaluation metrics such as greedy and beam accuracy). Needs the prepared data
# (datasets/prepare_fortunes.sh, datasets/prepare_stocks.sh) and dataset-fashion-mnist.
#
#   usage: bench/same_bits.sh OLD_EXPRUN NEW_EXPRUN [STEPS=3] [OVERRIDE ...]
#   OVERRIDEs (e.g. model.dropout=0.3) go to every run; SAME_BITS_ONLY=REGEX keeps the configs
#   whose names match (e.g. SAME_BITS_ONLY='_text|adding' for the sequence family's keys).
#   e.g.   git worktree add /tmp/old HEAD~1 && cmake -S /tmp/old -B /tmp/old/build -DEXPRUN_TESTS=OFF
#          cmake --build /tmp/old/build --target exprun && bench/same_bits.sh /tmp/old/build/exprun build/exprun
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 steps=${3:-3}
shift $(($# < 3 ? $# : 3))
extra=("$@")
out=$(mktemp -d /tmp/same-bits.XXXXXX)
fail=0 n=0
for spec in configs/*.yaml; do
  grep -qE '^\s*type: (rnn|lstm|gru|seq2seq|one_to_many)\b' "$spec" || continue
  name=$(basename "$spec" .yaml)
  [[ -z ${SAME_BITS_ONLY:-} || $name =~ $SAME_BITS_ONLY ]] || continue
  args=(train.epochs=1 "train.max_steps_per_epoch=$steps" --quiet ${extra[@]+"${extra[@]}"})
  grep -q 'source: text' "$spec" && args+=(data.max_bytes=60000)
  for which in old new; do
    bin=$old; [ $which = new ] && bin=$new
    if ! OPENBLAS_NUM_THREADS=1 "$bin" "$spec" "${args[@]}" --out "$out/$name-$which" >"$out/$name-$which.log" 2>&1; then
      echo "$name: the $which build failed: $(tail -1 "$out/$name-$which.log")"; fail=1; continue 2
    fi
  done
  n=$((n + 1))
  /usr/bin/python3 - "$out/$name-old" "$out/$name-new" "$name" <<'PY' || fail=1
import sys, h5py, numpy as np
a_dir, b_dir, name = sys.argv[1:]
def ckpt(d):
    return f"{d}/checkpoints/" + open(f"{d}/checkpoints/LATEST").readline().strip()
a, b = h5py.File(ckpt(a_dir), "r"), h5py.File(ckpt(b_dir), "r")
def datasets(f):
    out = {}
    for g in ("model", "optimizer"):
        if g in f: f[g].visititems(lambda k, v: out.__setitem__(f"{g}/{k}", v) if isinstance(v, h5py.Dataset) else None)
    return out
da, db = datasets(a), datasets(b)
bad = sorted(set(da) ^ set(db)) + [k for k in sorted(set(da) & set(db)) if da[k][()].tobytes() != db[k][()].tobytes()]
# metrics.csv: every column but the clocks (evaluation metrics such as greedy/beam accuracy too)
import csv
def metrics(d):
    rows = list(csv.DictReader(open(f"{d}/metrics.csv")))
    return [{k: v for k, v in r.items() if not (k.endswith("_time") or k.endswith("_per_sec"))} for r in rows]
ma, mb = metrics(a_dir), metrics(b_dir)
if ma != mb: bad.append("metrics.csv")
print(f"{name}: {len(da)} datasets, {len(ma[0]) if ma else 0} metrics, "
      f"{'the same bits' if not bad else 'DIFFER: ' + ', '.join(bad[:6])}")
sys.exit(1 if bad else 0)
PY
done
echo "same_bits: $n configs compared, $([ $fail = 0 ] && echo 'all the same bits' || echo 'SOME DIFFER'); runs in $out"
exit $fail
