#!/usr/bin/python3
"""shapes.py — any shape: exprun's GFLOP/s beside the machine's fp32 limit and PyTorch's best.

    /usr/bin/python3 bench/shapes.py --build build-bench [--repeats 3] [--threads 2] [--out DIR]
                                     [--shape "lstm_h256 --batch 48"] [--shape "--ae 784,512,784"] ...

Without --shape, the shapes of the speed issue: LSTM of 384 and 768 units, batch 16, 48, 64,
sequence 32 and 128, a GRU and a vanilla RNN, and autoencoders, besides the suite's presets. A
shape is what bench_exprun takes (a preset of bench/workloads.h, shape flags, or both).

For each shape, in one sitting and interleaved over `repeats` rounds:
  limit    bench/sgemm_rate on the step's own products (workloads.h): OpenBLAS with its own kernel
           choice (OPENBLAS_CORETYPE unset), OpenBLAS forced to Haswell, and exprun's packed
           kernels, at `threads` threads; the limit is the best of the three (GFLOP/s over the
           step's products timed one by one), each the median of its runs. It is measured in
           every round beside exprun's run, the rounds taking OpenBLAS's own choice and Haswell in
           turn; exprun's kernels run in every round (they do not depend on OPENBLAS_CORETYPE).
           Taking the larger of two runs of the same kernel would bias the limit upwards by the
           run-to-run noise (5-10 % on a shared VM).
  exprun   bench_exprun at `threads` threads (OPENBLAS_CORETYPE as the environment sets it).
  pytorch  torch_peer.py at 1 and 2 threads, each with OpenBLAS's own kernel and with Haswell;
           the best of the four.
  bf16     bench_exprun --precision bf16 (train.precision: bf16), when the CPU has AVX512-BF16:
           its speed-up over exprun's fp32, and its training loss after the same steps from the
           same seed against fp32's (relative change of bench_exprun's last_loss).
  cores    bench/corelat (a cache line's round trip between the two cores) just before and just
           after each limit and exprun run: a round in which it exceeds FAR_NS ran with the two
           cores far apart (on a VM, where the host had put the vCPUs), which slows a two-thread
           step far more than the products alone (docs/speed.md); below SHARED_NS the two CPUs
           were one core's two hyperthreads. The table marks those rounds († and ‡).
Each figure is the median over the rounds. Before each run the machine must be quiet (quiet.py).
Writes OUT/SHAPES.md (the table, with the command) and OUT/shapes.jsonl (every run), and prints
the table. The target (the speed issue): exprun ≥ 90 % of the limit, or ≥ 2.5× PyTorch's best.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quiet  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY = "/usr/bin/python3"
FAR_NS = 150.0   # corelat's round trip above which the two cores count as far apart: ~55 ns near, ~330 far
SHARED_NS = 40.0  # ... and below which they are two hyperthreads of one core (~27 ns seen), sharing its units
CORELAT = None   # the corelat program, when built

DEFAULT_SHAPES = [
    "lstm_h256", "lstm_h512", "gru_h256", "rnn_h256", "lstm_h128_b1", "ae_deep", "ae_shallow",
    "--cell lstm --units 384x2 --batch 48 --seq 64",
    "--cell lstm --units 384x2 --batch 16 --seq 128",
    "--cell lstm --units 384x2 --batch 64 --seq 32",
    "--cell lstm --units 768x2 --batch 48 --seq 64",
    "--cell lstm --units 768 --batch 16 --seq 32",
    "--cell gru --units 384x2 --batch 48 --seq 64",
    "--cell rnn --units 768x2 --batch 64 --seq 128",
    "--cell lstm --units 512,256 --embed 32 --vocab 256 --batch 64 --seq 32",
    "--ae 784,512,128,512,784 --batch 256",
    "--ae 784,1024,784 --batch 64",
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def env_with(coretype=None):
    env = dict(os.environ)
    if coretype is None:
        env.pop("OPENBLAS_CORETYPE", None)
    else:
        env["OPENBLAS_CORETYPE"] = coretype
    return env


def core_roundtrip():
    """bench/corelat's round trip between the first two cores in ns (None: not built, or one core)."""
    if CORELAT is None:
        return None
    p = subprocess.run([CORELAT], capture_output=True, text=True)
    try:
        return json.loads(p.stdout)["roundtrip_ns"]
    except (ValueError, KeyError):
        return None


def run_json(cmd, env, raw, label, probe=False):
    """Runs cmd once the machine is quiet; its JSON lines (the run is repeated if disturbed). With
    probe, the cores' round trip just before and just after the run is in the first line's
    "corelat_ns"."""
    for attempt in range(3):
        q = quiet.wait_quiet(15.0, 1.0, 120.0, os.getpid())
        mon = quiet.Monitor(15.0, os.getpid()).start()
        before = core_roundtrip() if probe else None
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        after = core_roundtrip() if probe else None
        m = mon.stop()
        lines = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        if probe and lines:
            lines[0]["corelat_ns"] = [before, after]
        raw.write(json.dumps({"label": label, "cmd": cmd, "status": p.returncode, "quiet": q, "monitor": m,
                              "results": lines}) + "\n")
        raw.flush()
        if p.returncode != 0:
            raise SystemExit(f"shapes.py: {' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
        if not m["contaminated"]:
            break
        log(f"  {label}: disturbed by {m['process']}, again")
    return lines


def steps_for(flops_per_step, rate=150e9, seconds=2.5):
    """Timed steps for a run of about `seconds` at `rate` FLOP/s."""
    return max(5, min(3000, int(seconds * rate / flops_per_step)))


def measure(shape, args, raw):
    words = shlex.split(shape)
    build = Path(args.build)
    threads = str(args.threads)
    # the limit: the step's products alone, OpenBLAS's own choice or Haswell (exprun's kernels in both)
    rate_cmd = [str(build / "sgemm_rate")] + words + ["--threads", threads, "--repeats", "5", "--square", "256"]
    coretypes = (("own", None), ("haswell", "Haswell"))
    rates = {"blas_own": [], "blas_haswell": [], "pack": []}

    latest_limit = {}   # the latest limit run's best rate and its probes: each round's exprun is set beside it

    def measure_limit(rep):
        label, coretype = coretypes[rep % 2]
        lines = run_json(rate_cmd, env_with(coretype), raw, f"limit/{label}", probe=True)
        wl = next(l for l in lines if l["kind"] == "workload")
        rates[f"blas_{label}"].append(wl["blas_gflops"])
        rates["pack"].append(wl["pack_gflops"])
        latest_limit.update(rate=max(wl["blas_gflops"], wl["pack_gflops"]), probes=lines[0].get("corelat_ns", []))
        return wl

    wl = measure_limit(0)
    flops, name, unit = wl["flops_per_step"], wl["workload"], wl["unit"]
    steps = steps_for(flops)
    warm = str(max(2, steps // 10))
    exp_cmd = [str(build / "bench_exprun")] + words + ["--threads", threads, "--steps", str(steps), "--warmup", warm]
    torch_cfgs = [(t, c) for t in ("1", "2") for c in ("own", "haswell")]
    results = {"exprun": [], "exprun_bf16": []}
    for t, c in torch_cfgs:
        results[f"torch_{t}t_{c}"] = []
    # PyTorch is slower: fewer steps keep its runs about as long
    torch_steps = str(max(3, steps // 2))
    round_shares = []   # each round: exprun's GFLOP/s over the limit run just before it
    round_corelat = []  # each round: the cores' round trips around that limit run and exprun's run
    for rep in range(args.repeats):
        log(f"{name}: round {rep + 1}/{args.repeats}")
        if rep > 0 or args.repeats == 1:
            measure_limit(rep + 1 if args.repeats == 1 else rep)
        out = run_json(exp_cmd, dict(os.environ), raw, f"{name}/exprun", probe=True)
        results["exprun"].append(out[0])
        round_shares.append(out[0]["gflops"] / latest_limit["rate"])
        round_corelat.append(latest_limit["probes"] + out[0].get("corelat_ns", []))
        if args.bf16:
            out = run_json(exp_cmd + ["--precision", "bf16"], dict(os.environ), raw, f"{name}/exprun_bf16")
            results["exprun_bf16"].append(out[0])
        for t, c in torch_cfgs[rep % 4:] + torch_cfgs[:rep % 4]:
            cmd = [PY, str(ROOT / "bench" / "torch_peer.py")] + words + ["--threads", t, "--steps", torch_steps,
                                                                          "--warmup", "2"]
            out = run_json(cmd, env_with(None if c == "own" else "Haswell"), raw, f"{name}/torch_{t}t_{c}")
            results[f"torch_{t}t_{c}"].append(out[0])
    med = {k: statistics.median(r["throughput"] for r in v) for k, v in results.items() if v}
    exprun = med.pop("exprun")
    bf16 = med.pop("exprun_bf16", None)
    best_cfg = max(med, key=med.get)
    gflops = statistics.median(r["gflops"] for r in results["exprun"])
    limit = {k: statistics.median(v) for k, v in rates.items() if v}
    limit_gflops = max(limit.values())
    limit_source = max(limit, key=limit.get)
    row = {"shape": name, "command": shape, "unit": unit, "flops_per_step": flops,
           "units_per_step": results["exprun"][0]["units_per_step"],
           "exprun": exprun, "exprun_gflops": gflops, "limit_gflops": limit_gflops, "limit_source": limit_source,
           "limits": limit, "limit_runs": rates, "share": gflops / limit_gflops, "round_shares": round_shares, "round_corelat_ns": round_corelat, "torch_best": med[best_cfg], "torch_best_cfg": best_cfg,
           "torch": med, "ratio": exprun / med[best_cfg], "threads": args.threads, "repeats": args.repeats,
           "bf16": bf16, "bf16_speedup": bf16 / exprun if bf16 else None,
           "bf16_loss_change": loss_change(results["exprun"], results["exprun_bf16"]),
           "peak_rss_mb": results["exprun"][0]["peak_rss_mb"],
           "torch_peak_rss_mb": results[best_cfg][0]["peak_rss_mb"]}
    row["met"] = row["share"] >= 0.90 or row["ratio"] >= 2.5
    raw.write(json.dumps({"label": "row", **row}) + "\n")
    raw.flush()
    return row


def loss_change(fp32_runs, bf16_runs):
    """bf16's training loss after the same steps from the same seed, relative to fp32's:
    (last_loss_bf16 − last_loss_fp32) / last_loss_fp32. Every round repeats the same bits (same
    seed), so the first round's pair is the answer; None without bf16 runs, and an error if any
    round's loss differs from the first (the runs would not be what they claim)."""
    if not bf16_runs:
        return None
    for runs in (fp32_runs, bf16_runs):
        if any(r["last_loss"] != runs[0]["last_loss"] for r in runs):
            raise SystemExit(f"shapes.py: the same run gave losses {[r['last_loss'] for r in runs]}")
    return (bf16_runs[0]["last_loss"] - fp32_runs[0]["last_loss"]) / fp32_runs[0]["last_loss"]


def placement_marks(probes):
    """† if the two cores were far apart at any of these corelat probes (ns; None: no probe), ‡ if
    they were one core's two hyperthreads at any."""
    seen = [x for x in probes if x is not None]
    return ("†" if any(x > FAR_NS for x in seen) else "") + ("‡" if any(x < SHARED_NS for x in seen) else "")


def round_cells(r):
    """Each round's share, marked with where the cores were around that round's runs."""
    shares, probes = r.get("round_shares", []), r.get("round_corelat_ns", [])
    probes = probes + [[]] * (len(shares) - len(probes))
    return " / ".join(f"{100 * x:.0f}{placement_marks(p)}" for x, p in zip(shares, probes))


def loss_cell(change):
    """The bf16 loss change in per cent, with enough digits to show a small one."""
    return "–" if change is None else f"{100 * change:+.3f} %"


def table(rows):
    head = ("| shape | unit | MFLOP/unit | exprun | GFLOP/s | limit GFLOP/s (source) | share | each round's share "
            "| PyTorch best (config) | exprun/PyTorch | target met | bf16 | bf16/fp32 | bf16 loss change |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        lines.append(f"| `{r['shape']}` | {r['unit']} | {r['flops_per_step'] / r['units_per_step'] / 1e6:.2f} | {r['exprun']:,.0f} "
                     f"| {r['exprun_gflops']:.0f} | {r['limit_gflops']:.0f} ({r['limit_source']}) | {100 * r['share']:.1f} % "
                     f"| {round_cells(r)} % "
                     f"| {r['torch_best']:,.0f} ({r['torch_best_cfg']}) | {r['ratio']:.2f}× | "
                     f"{'yes' if r['met'] else 'no'} | "
                     + (f"{r['bf16']:,.0f} | {r['bf16_speedup']:.2f}× | {loss_cell(r.get('bf16_loss_change'))} |"
                        if r.get("bf16") else "– | – | – |"))
    return head + "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(ROOT / "build-bench"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shape", action="append", default=None)
    ap.add_argument("--no-bf16", dest="bf16", action="store_false", help="skip the bf16 runs")
    args = ap.parse_args()
    global CORELAT
    if (Path(args.build) / "corelat").exists():
        CORELAT = str(Path(args.build) / "corelat")
    if args.bf16 and "avx512_bf16" not in Path("/proc/cpuinfo").read_text():
        args.bf16 = False
    shapes = args.shape or DEFAULT_SHAPES
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    t0 = time.monotonic()
    with open(out / "shapes.jsonl", "w") as raw:
        for shape in shapes:
            rows.append(measure(shape, args, raw))
            log(table(rows[-1:]).splitlines()[-1])
    invocation = "/usr/bin/python3 bench/shapes.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    text = (f"# exprun at any shape: GFLOP/s, the machine's fp32 limit, PyTorch's best\n\n"
            f"`{invocation}` at {commit}, {time.strftime('%Y-%m-%d %H:%M')}, {time.monotonic() - t0:.0f} s; "
            f"exprun and the limit at {args.threads} threads, medians of {args.repeats} rounds. "
            f"OPENBLAS_CORETYPE for exprun: {os.environ.get('OPENBLAS_CORETYPE', '(unset: OpenBLAS chooses)')}.\n\n"
            "MFLOP/unit counts the step's matrix products (bench/workloads.h). *limit*: the best of OpenBLAS "
            "with its own kernel (`blas_own`), OpenBLAS forced to Haswell (`blas_haswell`) and exprun's packed "
            "kernels (`pack`) on the step's own products, timed one by one, each the median of its runs "
            "(measured in every round, beside exprun's). *each round's share*: a round's exprun run against the "
            "best rate of the limit run just before it: how far the VM's speed moved between the rounds; † marks a round "
            f"in which the two cores were far apart (bench/corelat: a cache line's round trip over {FAR_NS:.0f} ns just "
            "before or after the limit's or exprun's run), ‡ one in which they were one core's two hyperthreads "
            f"(a round trip under {SHARED_NS:.0f} ns). "
            "*PyTorch best*: the best of 1 and "
            "2 threads (`torch_Nt`) with OpenBLAS's own kernel and with Haswell. *bf16 loss change*: the "
            "training loss of bf16's last timed step against fp32's at the same step from the same seed "
            "(bench_exprun's `last_loss`; the same in every round). Target: share ≥ 90 % or "
            "exprun/PyTorch ≥ 2.5×.\n\n" + table(rows))
    (out / "SHAPES.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
