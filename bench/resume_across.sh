#!/usr/bin/env bash
# resume_across.sh — does a run stopped under one exprun build resume under another, bit for bit?
# For a change that must keep checkpoints readable (issue 21: the recurrent stack). Each shipped
# recurrent config (rnn, lstm, gru, seq2seq, one_to_many) trains 2 epochs of at most STEPS steps:
#   ref     the OLD build, uninterrupted;
#   split   the OLD build stopped after STEPS+1 steps (EXPRUN_STOP_AFTER_STEPS: a SIGTERM, which
#           writes a checkpoint), then `exprun resume` with the NEW build to the end.
# Every dataset of /model and /optimizer of the two final checkpoints must be equal, bit for bit
# (bench/same_run.py).
# Needs the prepared data (datasets/prepare_fortunes.sh, datasets/prepare_stocks.sh) and
# dataset-fashion-mnist.
#
#   usage: bench/resume_across.sh OLD_EXPRUN NEW_EXPRUN [STEPS=3]
#   e.g.   git worktree add /tmp/old 1eaa65b && cmake -S /tmp/old -B /tmp/old/build -DEXPRUN_TESTS=OFF
#          cmake --build /tmp/old/build --target exprun && bench/resume_across.sh /tmp/old/build/exprun build/exprun
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 steps=${3:-3}
out=$(mktemp -d /tmp/resume-across.XXXXXX)
fail=0 n=0
for spec in configs/*.yaml; do
  grep -qE '^\s*type: (rnn|lstm|gru|seq2seq|one_to_many)\b' "$spec" || continue
  name=$(basename "$spec" .yaml)
  args=(train.epochs=2 "train.max_steps_per_epoch=$steps" --quiet)
  grep -q 'source: text' "$spec" && args+=(data.max_bytes=60000)
  export OPENBLAS_NUM_THREADS=1
  if ! "$old" "$spec" "${args[@]}" --out "$out/$name-ref" >"$out/$name-ref.log" 2>&1; then
    echo "$name: the old build failed: $(tail -1 "$out/$name-ref.log")"; fail=1; continue
  fi
  EXPRUN_STOP_AFTER_STEPS=$((steps + 1)) "$old" "$spec" "${args[@]}" --out "$out/$name-split" \
    >"$out/$name-split.log" 2>&1 || true
  stopped=$(head -1 "$out/$name-split/checkpoints/LATEST" 2>/dev/null || echo none)
  if ! "$new" resume "$out/$name-split" --quiet >>"$out/$name-split.log" 2>&1; then
    echo "$name: the new build did not resume: $(tail -1 "$out/$name-split.log")"; fail=1; continue
  fi
  n=$((n + 1))
  /usr/bin/python3 bench/same_run.py "$out/$name-ref" "$out/$name-split" "$name (stopped at $stopped, resumed)" || fail=1
done
echo "resume_across: $n configs stopped under $old and resumed under $new: $([ $fail = 0 ] && echo 'all the same bits as uninterrupted' || echo 'SOME DIFFER'); runs in $out"
exit $fail
