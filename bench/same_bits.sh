#!/usr/bin/env bash
# same_bits.sh — do two exprun builds train every shipped config to the same bits?
# For a refactor that must change nothing (issues 21, 24): each config in configs/ (every family;
# SAME_BITS_ONLY narrows it) trains 1 epoch of at most 3 steps with each
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
  /usr/bin/python3 bench/same_run.py "$out/$name-old" "$out/$name-new" "$name" --metrics || fail=1
done
echo "same_bits: $n configs compared, $([ $fail = 0 ] && echo 'all the same bits' || echo 'SOME DIFFER'); runs in $out"
exit $fail
