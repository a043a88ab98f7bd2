#!/usr/bin/python3
"""memory.py — train.recompute: the memory a recurrent model's training holds, and what it costs.

    /usr/bin/python3 bench/memory.py --build build-bench [--repeats 3] [--threads 2] [--out DIR]
                                     [--shape "--cell lstm --units 512x2 --batch 64 --seq 256"] ...

Without --shape: the 2 × 512 LSTM character LM (embed 64, vocab 96, batch 64) at sequence lengths
64, 256 and 512, and a 2 × 512 GRU at 256. For each shape, in one sitting and interleaved over
`repeats` rounds (the machine quiet before each run, quiet.py):
  exprun     bench_exprun (every cache kept: the default)
  recompute  bench_exprun --recompute (train.recompute: outputs and segment states kept, backward
             replays each segment's forward)
  pytorch    torch_peer.py at 1 thread (its fastest setting on every shape measured)
Memory is the process's peak resident set size (getrusage) and, apart, what training itself
holds: the peak minus the resident set before the first step (libraries, model, data). Both are
the same in every round (the medians are given); speed is the median throughput. recompute must
train the same bits as the default (params_hash): checked, a mismatch stops the script.
Writes OUT/MEMORY.md (the table, with the command) and OUT/memory.jsonl (every run).
The target (the speed issue): recompute's peak at most 1/5 of PyTorch's on a 2 × 512 LSTM.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quiet  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY = "/usr/bin/python3"

DEFAULT_SHAPES = [
    "--cell lstm --units 512x2 --batch 64 --seq 64",
    "--cell lstm --units 512x2 --batch 64 --seq 256",
    "--cell lstm --units 512x2 --batch 64 --seq 512",
    "--cell gru --units 512x2 --batch 64 --seq 256",
]


def run_json(cmd, raw, label):
    """Runs cmd once the machine is quiet; its one JSON line."""
    quiet.wait_quiet(15.0, 1.0, 120.0, os.getpid())
    p = subprocess.run(cmd, capture_output=True, text=True)
    lines = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    raw.write(json.dumps({"label": label, "cmd": cmd, "status": p.returncode, "results": lines}) + "\n")
    raw.flush()
    if p.returncode != 0 or not lines:
        raise SystemExit(f"memory.py: {' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    return lines[0]


def median(rows, key):
    return statistics.median(r[key] for r in rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--shape", action="append")
    args = ap.parse_args()
    shapes = args.shape or DEFAULT_SHAPES
    bench = str(Path(args.build) / "bench_exprun")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    steps = ["--steps", str(args.steps), "--warmup", "1"]
    rows = []
    with open(out / "memory.jsonl", "w") as raw:
        runs = {s: {"exprun": [], "recompute": [], "pytorch": []} for s in shapes}
        for r in range(args.repeats):
            for s in shapes:
                flags = shlex.split(s)
                print(f"round {r + 1}/{args.repeats}: {s}", file=sys.stderr, flush=True)
                runs[s]["exprun"].append(
                    run_json([bench, *flags, *steps, "--threads", str(args.threads)], raw, "exprun"))
                runs[s]["recompute"].append(
                    run_json([bench, *flags, *steps, "--threads", str(args.threads), "--recompute"], raw, "recompute"))
                runs[s]["pytorch"].append(
                    run_json([PY, str(ROOT / "bench" / "torch_peer.py"), *flags, *steps, "--threads", "1"], raw,
                             "pytorch"))
                a, b = runs[s]["exprun"][-1], runs[s]["recompute"][-1]
                if a["params_hash"] != b["params_hash"]:
                    raise SystemExit(f"memory.py: {s}: recompute trained other bits "
                                     f"({a['params_hash']} vs {b['params_hash']})")
        for s in shapes:
            got = runs[s]
            row = {"shape": s, "unit": got["exprun"][0]["unit"]}
            for k in ("exprun", "recompute", "pytorch"):
                row[k + "_peak"] = median(got[k], "peak_rss_mb")
                row[k + "_held"] = statistics.median(x["peak_rss_mb"] - x["rss_before_mb"] for x in got[k])
                row[k + "_speed"] = median(got[k], "throughput")
            row["params_hash"] = got["exprun"][0]["params_hash"]
            rows.append(row)

    cmd = "/usr/bin/python3 bench/memory.py " + " ".join(sys.argv[1:])
    lines = [
        "# train.recompute: memory and speed",
        "",
        f"`{cmd}` — medians of {args.repeats} interleaved rounds, {args.steps} timed steps each, exprun at "
        f"{args.threads} threads, PyTorch {torch_version(runs)} at 1 thread. *peak*: the process's peak "
        "resident set (MB); *held*: the peak minus the resident set before the first step (what training "
        "itself holds). recompute trains the same bits as the default on every shape (params_hash).",
        "",
        "| shape | peak: exprun | recompute | PyTorch | recompute / PyTorch | held: exprun | recompute | PyTorch "
        "| recompute / PyTorch | speed: exprun | recompute | PyTorch | recompute's cost |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['shape']} | {r['exprun_peak']:.0f} | {r['recompute_peak']:.0f} | {r['pytorch_peak']:.0f} | "
            f"1/{r['pytorch_peak'] / r['recompute_peak']:.1f} | {r['exprun_held']:.0f} | {r['recompute_held']:.0f} | "
            f"{r['pytorch_held']:.0f} | 1/{r['pytorch_held'] / r['recompute_held']:.1f} | "
            f"{r['exprun_speed']:,.0f} | {r['recompute_speed']:,.0f} | {r['pytorch_speed']:,.0f} | "
            f"{100 * (1 - r['recompute_speed'] / r['exprun_speed']):.0f} % slower |")
    lines.append("")
    lines.append(f"Speed in {rows[0]['unit']}.")
    text = "\n".join(lines) + "\n"
    (out / "MEMORY.md").write_text(text)
    print(text)


def torch_version(runs):
    for got in runs.values():
        return got["pytorch"][0].get("torch_version", "?")


if __name__ == "__main__":
    main()
