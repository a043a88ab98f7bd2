#!/usr/bin/env bash
# ab.sh — two builds' bench_exprun on the same workloads, interleaved in one sitting: for a change
# that must keep the speed (a refactor), the before/after figures and their ratio.
#
#   usage: bench/ab.sh OLD_BENCH_EXPRUN NEW_BENCH_EXPRUN [ROUNDS=5] [WORKLOAD ...]
#   e.g.   bench/ab.sh /tmp/old/build/bench_exprun build/bench_exprun 5 lstm_h256 gru_h256
#          bench/ab.sh OLD NEW 5 "--ae 784,1024,784 --batch 64"     (a workload: a preset or shape flags)
#
# Each round runs every workload with the old build, then the new one (--steps 30 --warmup 5
# --threads 2); the table gives the median throughput of each over the rounds (tokens/s for the
# recurrent workloads, samples/s for the autoencoders), new/old, the median and range of the
# rounds' own new/old ratios (each pair ran a few seconds apart, so a pair shares the machine's
# mood of the moment), and whether the two builds end with the same parameters (params_hash: the
# same bits); where both builds report it, the same median and range for the runs' fast steps
# (10th-percentile step time: a neighbour on the VM only adds time, so these swing less).
# Default workloads: the recurrent ones. THREADS=1 (or STEPS=60) in the environment
# changes the threads (or timed steps): one thread swings far less than two on a busy VM.
set -euo pipefail
old=$1 new=$2 rounds=${3:-5} threads=${THREADS:-2} steps=${STEPS:-30}
shift $(($# < 3 ? $# : 3))
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(lstm_h256 lstm_h512 gru_h256 rnn_h256 lstm_h128_b1)
out=$(mktemp /tmp/ab.XXXXXX.jsonl)
for r in $(seq 1 "$rounds"); do
  for w in "${workloads[@]}"; do
    for which in old new; do
      bin=$old; [ $which = new ] && bin=$new
      read -r -a shape <<<"$w"
      printf '{"build": "%s", "round": %d, "result": %s}\n' "$which" "$r" \
        "$("$bin" "${shape[@]}" --steps "$steps" --warmup 5 --threads "$threads")" >>"$out"
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = list(dict.fromkeys(r["result"]["workload"] for r in rows))
print(f"{'workload':<14} {'old':>10} {'new':>10} {'new/old':>8} {'pairs: median [min, max]':>26}  {'unit':<10} same bits"
      f"  ({len(rows) // (2 * len(names))} rounds, median)")
for n in names:
    got = {b: [r["result"] for r in rows if r["build"] == b and r["result"]["workload"] == n] for b in ("old", "new")}
    med = {b: statistics.median(x["throughput"] for x in got[b]) for b in got}
    pairs = [b["throughput"] / a["throughput"] for a, b in zip(got["old"], got["new"])]
    same = all(a["params_hash"] == b["params_hash"] for a, b in zip(got["old"], got["new"]))
    spread = f"{statistics.median(pairs):.3f} [{min(pairs):.3f}, {max(pairs):.3f}]"
    fast = ""
    if all("throughput_p10_step" in x for b in got for x in got[b]):
        # the fast steps (each run's 10th-percentile step): the machine's noise only slows
        fast_pairs = [b["throughput_p10_step"] / a["throughput_p10_step"] for a, b in zip(got["old"], got["new"])]
        fast = f"  fast steps {statistics.median(fast_pairs):.3f} [{min(fast_pairs):.3f}, {max(fast_pairs):.3f}]"
    print(f"{n:<14} {med['old']:>10.0f} {med['new']:>10.0f} {med['new'] / med['old']:>8.3f} {spread:>26}  "
          f"{got['old'][0]['unit']:<10} {'yes' if same else 'NO'}{fast}")
print(f"raw: {sys.argv[1]}")
PY
