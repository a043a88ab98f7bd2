#!/usr/bin/env bash
# stocks_forecast.sh — the numbers of docs/forecasting.md: configs/stocks_lstm.yaml over several
# seeds (and, with --sweep, the settings it was chosen from), model vs persistence in index
# points on the validation and test months.
#
#   scripts/stocks_forecast.sh [--seeds N] [--sweep] [--out DIR] [--bin EXPRUN]
#
# Each line: a setting (overrides of the config), the mean over seeds of val_skill and
# test_skill (1 − MSE/persistence MSE, > 0 beats persistence) with their range, the mean test
# MSE (and MAE) of the model and the persistence baseline's on the same months, how many seeds
# beat it, a Diebold-Mariano-style t of the difference (negative: the model is better; |t| < 2 is
# not significant), and the wall time per run.
# Settings are meant to be compared on val_skill only; test_skill is what gets reported.
# Needs datasets/stocks/ (datasets/prepare_stocks.sh) and a built exprun.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$here/build/exprun"
out="${TMPDIR:-/tmp}/stocks_forecast"
seeds=10
sweep=0
while [ $# -gt 0 ]; do
    case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --sweep) sweep=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    *) echo "usage: $0 [--seeds N] [--sweep] [--out DIR] [--bin EXPRUN]" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "$0: no exprun at $bin (build first, or --bin)" >&2; exit 1; }
[ -f "$here/datasets/stocks/sp500.csv" ] || { echo "$0: run datasets/prepare_stocks.sh first" >&2; exit 1; }
config="$here/configs/stocks_lstm.yaml"
rm -rf "$out"
mkdir -p "$out"

# run TAG OVERRIDES...: every seed, then one summary line
run() {
    local tag="$1"; shift
    local start end
    start=$(date +%s.%N)
    for seed in $(seq 1 "$seeds"); do
        "$bin" "$config" seed="$seed" "$@" --out "$out/$tag/seed$seed" --quiet >/dev/null 2>"$out/$tag.err" ||
            { echo "$tag seed $seed failed:"; cat "$out/$tag.err"; exit 1; }
    done
    end=$(date +%s.%N)
    /usr/bin/python3 - "$out/$tag" "$tag" "$start" "$end" <<'PY'
import csv, glob, math, statistics as st, sys
import h5py
folder, tag, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
rows = [list(csv.DictReader(open(f)))[-1] for f in sorted(glob.glob(folder + "/seed*/metrics.csv"))]
# Diebold-Mariano-style t of the squared-error difference d_i = e_model² − e_persistence² over the
# test months (plain standard error, no autocorrelation correction: k = 1); |t| < 2: not significant.
dm = []
for f in sorted(glob.glob(folder + "/seed*/results.h5")):
    with h5py.File(f, "r") as h:
        g = h["forecast/test"]
        fc, tr, pe = g["forecast"][:], g["truth"][:], g["persistence"][:]
    d = [(a - b) ** 2 - (c - b) ** 2 for a, b, c in zip(fc.tolist(), tr.tolist(), pe.tolist())]
    dm.append(st.mean(d) / (st.stdev(d) / math.sqrt(len(d))))
col = lambda k: [float(r[k]) for r in rows]
vs, ts = col("val_skill"), col("test_skill")
wins = sum(m < p for m, p in zip(col("test_mse_price"), col("test_persistence_mse_price")))
print(f"{tag:34s} val_skill {st.mean(vs):+.4f} [{min(vs):+.3f}, {max(vs):+.3f}]   "
      f"test_skill {st.mean(ts):+.4f} [{min(ts):+.3f}, {max(ts):+.3f}]   "
      f"test MSE {st.mean(col('test_mse_price')):8.1f} vs persistence {col('test_persistence_mse_price')[0]:8.1f}   "
      f"MAE {st.mean(col('test_mae_price')):6.2f} vs {col('test_persistence_mae_price')[0]:6.2f}   "
      f"beats it {wins}/{len(rows)}   DM t {st.mean(dm):+.2f} [{min(dm):+.2f}, {max(dm):+.2f}]   "
      f"{(end - start) / len(rows):.2f} s/run")
PY
}

echo "config: $config, $seeds seeds, runs in $out"
run chosen
if [ "$sweep" = 1 ]; then
    for w in 6 12; do
        for u in 8 32; do
            for e in 30 100; do
                run "w${w}_u${u}_e${e}" data.window=$w model.units.0=$u train.epochs=$e
            done
        done
    done
    run gru model.type=gru
    run transform_diff data.transform=diff
    run transform_none data.transform=none
    run horizon_3 data.horizon=3
    run five_stocks data.path=../datasets/stocks/stocks.csv data.filter_column=symbol \
        data.filter_value=AAPL,AMZN,GOOG,IBM,MSFT
    for s in AAPL AMZN GOOG IBM MSFT; do
        run "stock_$s" data.path=../datasets/stocks/stocks.csv data.filter_column=symbol data.filter_value=$s
    done
fi
