#!/usr/bin/env python3
"""same_run.py — do two run directories end with the same bits? (bench/same_bits.sh, resume_across.sh)

  /usr/bin/python3 bench/same_run.py DIR_A DIR_B LABEL [--metrics]

Compares every dataset of /model and /optimizer in the checkpoints their LATEST files name, byte
for byte, and with --metrics every metrics.csv value but the clocks (*_time, *_per_sec). Prints
"LABEL: N datasets[, M metrics], the same bits" or what differs; exit status 1 if anything does."""
import csv
import sys

import h5py


def checkpoint(run_dir):
    return f"{run_dir}/checkpoints/" + open(f"{run_dir}/checkpoints/LATEST").readline().strip()


def datasets(f):
    out = {}
    for group in ("model", "optimizer"):
        if group in f:
            f[group].visititems(lambda k, v: out.__setitem__(f"{group}/{k}", v[()].tobytes())
                                if isinstance(v, h5py.Dataset) else None)
    return out


def metrics(run_dir):
    rows = list(csv.DictReader(open(f"{run_dir}/metrics.csv")))
    return [{k: v for k, v in r.items() if not (k.endswith("_time") or k.endswith("_per_sec"))} for r in rows]


def main():
    a_dir, b_dir, label = sys.argv[1:4]
    with h5py.File(checkpoint(a_dir), "r") as a, h5py.File(checkpoint(b_dir), "r") as b:
        da, db = datasets(a), datasets(b)
    bad = sorted(set(da) ^ set(db)) + [k for k in sorted(set(da) & set(db)) if da[k] != db[k]]
    said = f"{label}: {len(da)} datasets"
    if "--metrics" in sys.argv[4:]:
        ma, mb = metrics(a_dir), metrics(b_dir)
        if ma != mb:
            bad.append("metrics.csv")
        said += f", {len(ma[0]) if ma else 0} metrics"
    print(f"{said}, {'the same bits' if not bad else 'DIFFER: ' + ', '.join(bad[:6])}")
    sys.exit(1 if bad else 0)


main()
