#!/usr/bin/python3
"""suite.py — the benchmark suite's measurements and report; bench/run.sh builds and calls it.

    suite.py --build DIR --out DIR [--repeats N] [--only w1,w2] [--no-e2e] [--quick]

1. The machine's matrix-product rates: bench/sgemm_rate at 2 threads and at 1 (OpenBLAS
   cblas_sgemm and exprun's packed kernels, at every workload's shapes and a 2048 square).
2. Every workload, `repeats` rounds; in each round four configurations run one after the other
   in a rotating order, so that drift hits all of them: exprun at its default threads (one per
   core), exprun at 1 thread, PyTorch with torch.set_num_threads(1) and with (2). Each run is
   its own process: a warm-up of `warmup` steps, then `steps` timed steps.
3. End to end: `exprun configs/lstm_text.yaml` as it is (3 epochs, once) and
   `exprun configs/ae_fashion.yaml` as it is (10 epochs, --e2e-repeats times), and the start-up time of
   `exprun validate` on configs/adding_lstm.yaml and configs/ae_fashion.yaml (hyperfine, 20 runs).
Before every run the suite waits until no foreign process has used more than 15 % of a core
for 4 s (quiet.py, at most `--quiet-timeout` s); it watches the machine during the run and
repeats a run that a foreign process disturbed (up to twice). Every run's JSON, the waits and
the disturbances go to OUT/raw.jsonl; the table and the machine description to OUT/RESULTS.md.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quiet  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY = "/usr/bin/python3"

# name, unit, timed steps, warm-up steps (each run lasts a few seconds)
WORKLOADS = [
    ("lstm_h256", "tokens/s", 30, 5),
    ("lstm_h512", "tokens/s", 12, 3),
    ("gru_h256", "tokens/s", 30, 5),
    ("rnn_h256", "tokens/s", 60, 5),
    ("lstm_h128_b1", "tokens/s", 800, 50),
    ("ae_deep", "samples/s", 600, 50),
    ("ae_shallow", "samples/s", 1500, 100),
]
TARGET_RATIO = {"lstm_h128_b1": 3.0}    # others 1.5
GFLOP_TARGET = {"lstm_h512": 0.60, "ae_deep": 0.60}
CONFIGS = ["exprun", "exprun_1t", "torch_1t", "torch_2t"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Runner:
    def __init__(self, args, env, raw):
        self.args, self.env, self.raw = args, env, raw
        self.waited = 0.0   # seconds spent waiting for quiet so far

    def quiet_timeout(self):
        """Wait up to --quiet-timeout per run until --wait-budget is spent, then 10 s: a machine
        that never gets quiet still gets measured (and the report says so)."""
        return self.args.quiet_timeout if self.waited < self.args.wait_budget else 10.0

    def run_child(self, cmd, env, cwd):
        """Run cmd; returns (stdout, stderr, exit status, wall seconds, peak RSS MB of the child)."""
        with tempfile.TemporaryFile() as err:
            t0 = time.monotonic()
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, cwd=cwd)
            out = p.stdout.read()
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.monotonic() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            return out.decode(errors="replace"), err.read().decode(errors="replace"), p.returncode, wall, \
                ru.ru_maxrss / 1024.0

    def measure(self, label, cmd, env=None, cwd=ROOT, extra=None):
        """One clean run of cmd (waiting for quiet, repeating a disturbed run); logs it to raw."""
        env = env or self.env
        record = None
        waited = 0.0
        for attempt in range(1, 4):
            q = quiet.wait_quiet(15.0, 4.0, self.quiet_timeout(), os.getpid())
            self.waited += q["waited_s"]
            waited += q["waited_s"]
            mon = quiet.Monitor(15.0, os.getpid()).start()
            out, err, status, wall, rss = self.run_child(cmd, env, cwd)
            m = mon.stop()
            lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
            record = {"label": label, "cmd": cmd, "attempt": attempt, "quiet": q, "monitor": m, "status": status,
                      "wall_s": round(wall, 4), "child_maxrss_mb": round(rss, 1), "results": lines,
                      "waited_total_s": round(waited, 1)}
            if extra:
                record.update(extra)
            if status != 0:
                record["stderr"] = err[-2000:]
                log(f"  {label}: exit status {status}\n{err[-2000:]}")
                break
            if not m["contaminated"]:
                break
            log(f"  {label}: disturbed by {m['process']} ({m['max_foreign_pct']} %), again")
        self.raw.write(json.dumps(record) + "\n")
        self.raw.flush()
        return record


def machine_description(env):
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    info = {}
    for line in lscpu.splitlines():
        k, _, v = line.partition(":")
        info[k.strip()] = v.strip()
    torch_version = subprocess.run([PY, "-c", "import torch; print(torch.__version__)"], capture_output=True,
                                   text=True).stdout.strip()
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    pkgs = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "libopenblas0-pthread",
                           "python3-torch"], capture_output=True, text=True).stdout.strip().splitlines()
    return {
        "cpu": info.get("Model name", "?"), "cpus": info.get("CPU(s)", "?"),
        "threads_per_core": info.get("Thread(s) per core", "?"), "hypervisor": info.get("Hypervisor vendor", ""),
        "l2": info.get("L2 cache", "?"), "l3": info.get("L3 cache", "?"),
        "avx512": "avx512f" in info.get("Flags", ""), "mem_gib": round(mem_kb / 1048576, 1),
        "kernel": platform.release(), "gcc": gcc, "packages": pkgs, "torch": torch_version,
        "openblas_coretype": env.get("OPENBLAS_CORETYPE", ""),
        "openblas_num_threads": env.get("OPENBLAS_NUM_THREADS", "(unset: one per core)"),
        "commit": commit, "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def workload_cmd(args, config, name, steps, warmup):
    base = ["--steps", str(steps), "--warmup", str(warmup)]
    if config == "exprun":
        return [str(Path(args.build) / "bench_exprun"), name] + base
    if config == "exprun_1t":
        return [str(Path(args.build) / "bench_exprun"), name, "--threads", "1"] + base
    threads = "1" if config == "torch_1t" else "2"
    return [PY, str(ROOT / "bench" / "torch_peer.py"), name, "--threads", threads] + base


def run_all(args, env, raw):
    r = Runner(args, env, raw)
    only = set(args.only.split(",")) if args.only else None
    workloads = [w for w in WORKLOADS if not only or w[0] in only]
    if args.quick:
        workloads = [(n, u, max(3, s // 5), max(1, w // 2)) for n, u, s, w in workloads]

    log("sgemm rates (2 threads, then 1)")
    for t in ("2", "1"):
        r.measure(f"sgemm_{t}t", [str(Path(args.build) / "sgemm_rate"), "--threads", t] +
                  (["--repeats", "3"] if args.quick else []))

    log("warm-up: one short run of each program")
    for config in CONFIGS:
        subprocess.run(workload_cmd(args, config, "ae_shallow", 20, 5), env=env, capture_output=True)

    for rep in range(args.repeats):
        # the large square again every round: the machine's rate drifts (turbo, neighbours on
        # the host), and "% of sgemm" uses the median over the run
        r.measure("sgemm_square_2t", [str(Path(args.build) / "sgemm_rate"), "--threads", "2", "--square-only"],
                  extra={"repeat": rep})
        for name, unit, steps, warmup in workloads:
            order = CONFIGS[rep % len(CONFIGS):] + CONFIGS[:rep % len(CONFIGS)]
            for config in order:
                log(f"round {rep + 1}/{args.repeats} {name} {config}")
                r.measure(f"{name}/{config}", workload_cmd(args, config, name, steps, warmup),
                          extra={"workload": name, "config": config, "repeat": rep})

    if args.no_e2e:
        return
    exprun = str(Path(args.build) / "exprun")
    text = ROOT / "datasets" / "fortunes" / "fortunes.txt"
    if not text.exists():
        subprocess.run(["bash", str(ROOT / "datasets" / "prepare_fortunes.sh")], check=True)
    # lstm_text as shipped (3 epochs of the fortunes text, ~5-10 min) once; ae_fashion (seconds)
    # e2e_repeats times.
    e2e = [("e2e/lstm_text", [exprun, "configs/lstm_text.yaml"], 1),
           ("e2e/ae_fashion", [exprun, "configs/ae_fashion.yaml"], args.e2e_repeats)]
    with tempfile.TemporaryDirectory(prefix="exprun-bench-") as tmp:
        for label, cmd, repeats in e2e:
            for rep in range(repeats):
                log(f"{label} round {rep + 1}/{repeats}")
                out = Path(tmp) / f"{label.split('/')[1]}-{rep}"
                r.measure(label, cmd + ["--out", str(out), "--quiet"], extra={"repeat": rep})
                shutil.rmtree(out, ignore_errors=True)
    # Start-up: `exprun validate` reads the spec, builds the graph and loads the data. With
    # generated data (adding_lstm) that is the program's own start-up; with ae_fashion it
    # includes reading and checking 70,000 Fashion-MNIST images. hyperfine (installed by run.sh)
    # runs each 20 times after 3 warm-ups; its median and range are reported.
    for name in ("adding_lstm", "ae_fashion"):
        validate = [exprun, "validate", f"configs/{name}.yaml"]
        log(f"start-up: exprun validate configs/{name}.yaml")
        with tempfile.NamedTemporaryFile(suffix=".json") as hf:
            rec = r.measure(f"startup/{name}", ["hyperfine", "-N", "--warmup", "3", "--runs", "20", "--export-json",
                                                hf.name, " ".join(validate)], extra={"tool": "hyperfine"})
            if rec["status"] == 0:
                res = json.load(open(hf.name))["results"][0]
                raw.write(json.dumps({"label": f"startup/{name}/hyperfine", "median_s": res["median"],
                                      "min_s": res["min"], "max_s": res["max"], "runs": len(res["times"]),
                                      "cmd": validate}) + "\n")
                raw.flush()


# ---- the report -------------------------------------------------------------------------

def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, digits=0):
    if x != x:  # NaN
        return "–"
    return f"{x:,.{digits}f}"


def report(raw_path, out_dir, machine, args):
    records = [json.loads(l) for l in open(raw_path)]
    runs = [r for r in records if "results" in r]
    sgemm = {}
    for r in runs:
        if r["label"].startswith("sgemm_") and r["results"]:
            sgemm[r["label"]] = r["results"]
    sq2 = dict(next((x for x in sgemm.get("sgemm_2t", []) if x["kind"] == "square"), {}))
    # the 2-thread square rate: median over the first measurement and one per round
    squares = [x["blas_gflops"] for r in runs if r["label"] in ("sgemm_2t", "sgemm_square_2t") and r["status"] == 0
               for x in r["results"] if x.get("kind") == "square"]
    if squares:
        sq2["blas_gflops_all"] = squares
        sq2["blas_gflops"] = med(squares)
    sq1 = next((x for x in sgemm.get("sgemm_1t", []) if x["kind"] == "square"), {})
    wl_rates = {x["workload"]: x for x in sgemm.get("sgemm_2t", []) if x["kind"] == "workload"}
    wl_rates1 = {x["workload"]: x for x in sgemm.get("sgemm_1t", []) if x["kind"] == "workload"}

    by = {}
    for r in runs:
        if "workload" in r and r["status"] == 0 and r["results"]:
            by.setdefault((r["workload"], r["config"]), []).append(r)

    def stat(name, config, key="throughput"):
        rs = by.get((name, config), [])
        xs = [x["results"][-1][key] for x in rs]
        return med(xs), (min(xs) if xs else float("nan")), (max(xs) if xs else float("nan")), len(xs)

    rows, checks = [], []
    for name, unit, _, _ in WORKLOADS:
        if not any(k[0] == name for k in by):
            continue
        e, e_lo, e_hi, n = stat(name, "exprun")
        e1, *_ = stat(name, "exprun_1t")
        t1, t1_lo, t1_hi, _ = stat(name, "torch_1t")
        t2, t2_lo, t2_hi, _ = stat(name, "torch_2t")
        best_cfg, best = ("torch_1t", t1) if t1 >= t2 or t2 != t2 else ("torch_2t", t2)
        ratio = e / best if best else float("nan")
        wr = wl_rates.get(name, {})
        gflops, *_ = stat(name, "exprun", "gflops")   # bench_exprun counts workloads.h's products
        frac = gflops / sq2.get("blas_gflops", float("nan"))
        e_rss = med([x["results"][-1]["peak_rss_mb"] for x in by.get((name, "exprun"), [])])
        t_rss = med([x["results"][-1]["peak_rss_mb"] for x in by.get((name, best_cfg), [])])
        hashes = {x["results"][-1].get("params_hash") for c in ("exprun", "exprun_1t") for x in by.get((name, c), [])}
        target = TARGET_RATIO.get(name, 1.5)
        rows.append({
            "name": name, "unit": unit, "exprun": e, "exprun_range": (e_lo, e_hi), "n": n, "exprun_1t": e1,
            "torch_1t": t1, "torch_2t": t2, "best": best_cfg, "ratio": ratio, "target": target, "gflops": gflops,
            "frac": frac, "blas_bound": wr.get("blas_bound", float("nan")),
            "pack_bound_1t": wl_rates1.get(name, {}).get("pack_bound", float("nan")),
            "e_rss": e_rss, "t_rss": t_rss, "identical": len(hashes) == 1,
        })
        checks.append((name, f"≥ {target}× PyTorch's best", ratio >= target, f"{ratio:.2f}×"))
        if name in GFLOP_TARGET:
            checks.append((name, f"≥ {GFLOP_TARGET[name]:.0%} of sgemm", frac >= GFLOP_TARGET[name], f"{frac:.0%}"))
        checks.append((name, "peak RSS ≤ 1/5 of PyTorch's", e_rss * 5 <= t_rss, f"1/{t_rss / e_rss:.1f}"))

    lines = []
    lines.append("| workload | unit | exprun | exprun 1 thread | PyTorch 1 thread | PyTorch 2 threads | ratio "
                 "(target) | exprun GFLOP/s | % of sgemm | GEMM-only bound (OpenBLAS) | RSS exprun / PyTorch (MB) |")
    lines.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for w in rows:
        lines.append(
            f"| {w['name']} | {w['unit']} | **{fmt(w['exprun'])}** ({fmt(w['exprun_range'][0])}–"
            f"{fmt(w['exprun_range'][1])}) | {fmt(w['exprun_1t'])} | {fmt(w['torch_1t'])} | {fmt(w['torch_2t'])} | "
            f"**{w['ratio']:.2f}×** ({w['target']}×) | {fmt(w['gflops'], 1)} | {w['frac']:.0%} | "
            f"{fmt(w['blas_bound'])} | {fmt(w['e_rss'], 1)} / {fmt(w['t_rss'], 1)} |")
    table = "\n".join(lines)

    e2e_lines = []
    for label, what in [("e2e/lstm_text", "`exprun configs/lstm_text.yaml` (as shipped: 3 epochs of the "
                                          "fortunes text, validation and samples every epoch)"),
                        ("e2e/ae_fashion", "`exprun configs/ae_fashion.yaml` (as shipped: 10 epochs of 54,000 "
                                           "images + validation + test)")]:
        rs = [r for r in runs if r["label"] == label and r["status"] == 0]
        if not rs:
            continue
        walls = [r["wall_s"] for r in rs]
        rss = med([r["child_maxrss_mb"] for r in rs])
        e2e_lines.append(f"| {what} | {fmt(med(walls), 2)} s | {fmt(min(walls), 2)}–{fmt(max(walls), 2)} s | "
                         f"{len(walls)} | {fmt(rss, 1)} MB |")
    for name, what in [("adding_lstm", "generated data: the program's start-up"),
                       ("ae_fashion", "includes loading 70,000 Fashion-MNIST images")]:
        hf = [r for r in records if r.get("label") == f"startup/{name}/hyperfine"]
        if hf:
            h = hf[-1]
            e2e_lines.append(f"| `exprun validate configs/{name}.yaml` ({what}; hyperfine) | "
                             f"{1e3 * h['median_s']:.1f} ms | {1e3 * h['min_s']:.1f}–{1e3 * h['max_s']:.1f} ms | "
                             f"{h['runs']} | – |")

    gemm_lines = ["| workload | product | form | M × N × K | × per step | OpenBLAS 2 thr | OpenBLAS 1 thr | "
                  "packed 2 thr | packed 1 thr |", "|---|---|---|---|--:|--:|--:|--:|--:|"]
    one = {(x["workload"], x["what"], x["M"], x["N"], x["K"]): x for x in sgemm.get("sgemm_1t", []) if
           x["kind"] == "gemm"}
    for x in sgemm.get("sgemm_2t", []):
        if x["kind"] != "gemm":
            continue
        y = one.get((x["workload"], x["what"], x["M"], x["N"], x["K"]), {})
        gemm_lines.append(f"| {x['workload']} | {x['what']} | {x['form']} | {x['M']} × {x['N']} × {x['K']} | "
                          f"{x['count']} | {x['blas_gflops']:.1f} | {y.get('blas_gflops', float('nan')):.1f} | "
                          f"{x['pack_gflops']:.1f} | {y.get('pack_gflops', float('nan')):.1f} |")

    disturbed = [r for r in runs if r["monitor"]["contaminated"]]
    not_quiet = [r for r in runs if not r["quiet"]["quiet"]]
    waited = sum(r.get("waited_total_s", r["quiet"]["waited_s"]) for r in runs)
    loads = [float(r["quiet"]["loadavg"].split()[0]) for r in runs]
    attempts = sum(r["attempt"] for r in runs)
    hygiene = (f"{len(runs)} measurements, {attempts} runs: a run during which a foreign process used more than "
               f"15 % of a core was repeated, at most twice. Waited {waited:.0f} s in total for quiet (4 s with no "
               f"foreign process above 15 %; at most {args.quiet_timeout:.0f} s per run until {args.wait_budget:.0f} s "
               f"were spent, then 10 s). {len(not_quiet)} measurements started without those 4 quiet seconds; "
               f"{len(disturbed)} were still disturbed after their retries. "
               f"1-minute load average at the start of runs: median {med(loads):.2f}, max {max(loads):.2f}.")
    if not_quiet or disturbed:
        hygiene += " **The machine was not quiet throughout: numbers from disturbed runs are marked in raw.jsonl " \
                   "(monitor.contaminated) and widen the ranges.**"

    ident = all(w["identical"] for w in rows)
    m = machine
    md = f"""# Benchmark: exprun beside PyTorch

Generated by `bench/run.sh` on {m['date']} (commit {m['commit']}). One run of the suite; every
number below comes from it. Raw data: `raw.jsonl` (every run's JSON, waits and disturbances).

## Results

{table}

Throughput: median over {args.repeats} rounds (range in parentheses); each round runs the four
configurations of a workload one after the other in a rotating order. exprun runs at its default
thread count (one per core, here {m['cpus']}); "exprun 1 thread" is `--threads 1`. PyTorch runs with
`torch.set_num_threads(1)` and `(2)`, OpenBLAS (which Debian's PyTorch calls for its products)
at its own default threads; the ratio is exprun against the better of the two. exprun's parameters
after training are bit-identical at 1 and {m['cpus']} threads in every workload: **{'yes' if ident else 'NO'}**
(FNV hash of the parameter arena, `params_hash` in raw.jsonl).

GFLOP/s counts only the matrix products of a training step (forward, and backward's weight and input
gradients), 2·M·N·K each — the same work for both programs (formula in `bench/workloads.h`:
per token 6·[Σ_l G·H_l·(n_in_l + H_l) + V·H_top], G = 4 LSTM, 3 GRU, 1 RNN; per AE sample 2·n_in·n_out per
layer forward, again for ∂W, and again for ∂input except the first layer). "% of sgemm": that rate over
OpenBLAS `cblas_sgemm` on a {sq2.get('N', 2048)}² product at {sq2.get('blas_threads', '?')} threads,
**{fmt(sq2.get('blas_gflops', float('nan')), 1)} GFLOP/s**, the median of {len(sq2.get('blas_gflops_all', []))} measurements
spread over the run ({', '.join(f"{x:.1f}" for x in sq2.get('blas_gflops_all', []))}) (1 thread: {fmt(sq1.get('blas_gflops', float('nan')), 1)};
exprun's packed AVX-512 kernel on the same square: {fmt(sq2.get('pack_gflops', float('nan')), 1)} at
{sq2.get('pack_threads', '?')} threads, {fmt(sq1.get('pack_gflops', float('nan')), 1)} at 1).
"GEMM-only bound": the throughput if a step did nothing but its products, each at OpenBLAS's measured
2-thread rate for that shape (the issue's "counting only the GEMMs at their measured rates").
Peak RSS: getrusage's ru_maxrss of each process (PyTorch's includes the loaded libraries, which is what a
user pays).

### Targets

| workload | target | met | measured |
|---|---|---|---|
""" + "\n".join(f"| {n} | {t} | {'yes' if ok else '**no**'} | {v} |" for n, t, ok, v in checks) + f"""

### End to end (exprun alone, data loading and results writing included)

| command | median wall | range | runs | peak RSS |
|---|--:|--:|--:|--:|
""" + "\n".join(e2e_lines) + f"""

## Machine and environment

- CPU: {m['cpu']}, {m['cpus']} CPUs ({m['threads_per_core']} thread per core){', ' + m['hypervisor'] + ' guest' if m['hypervisor'] else ''}; L2 {m['l2']}, L3 {m['l3']}; AVX-512: {'yes' if m['avx512'] else 'no'}; {m['mem_gib']} GiB
- Linux {m['kernel']}; {m['gcc']}; exprun built Release (`-O2 -fvect-cost-model=cheap -march=x86-64-v2`, its kernels chosen at run time: {sq2.get('pack_kernel', '?')})
- Packages: {'; '.join(m['packages'])}; PyTorch reports {m['torch']}
- {sq2.get('openblas_config', 'OpenBLAS ?')}
- OPENBLAS_CORETYPE={m['openblas_coretype']} for both programs (Debian's OpenBLAS 0.3.21 does not recognise this
  CPU and would otherwise fall back to its Prescott kernels); OPENBLAS_NUM_THREADS {m['openblas_num_threads']}

## Measurement hygiene

{hygiene}

## Matrix-product rates at the workloads' shapes (GFLOP/s, median of repeats)

{chr(10).join(gemm_lines)}

## Exact commands

```
{' '.join(args.invocation)}
```
runs, per workload (steps/warm-up in `bench/suite.py`), e.g.:
```
OPENBLAS_CORETYPE={m['openblas_coretype']} {Path(args.build).name}/bench_exprun lstm_h256 --steps 30 --warmup 5
OPENBLAS_CORETYPE={m['openblas_coretype']} {Path(args.build).name}/bench_exprun lstm_h256 --threads 1 --steps 30 --warmup 5
OPENBLAS_CORETYPE={m['openblas_coretype']} /usr/bin/python3 bench/torch_peer.py lstm_h256 --threads 1 --steps 30 --warmup 5
OPENBLAS_CORETYPE={m['openblas_coretype']} /usr/bin/python3 bench/torch_peer.py lstm_h256 --threads 2 --steps 30 --warmup 5
OPENBLAS_CORETYPE={m['openblas_coretype']} {Path(args.build).name}/sgemm_rate --threads 2
{Path(args.build).name}/exprun configs/lstm_text.yaml --out DIR --quiet
{Path(args.build).name}/exprun configs/ae_fashion.yaml --out DIR --quiet
hyperfine -N --warmup 3 --runs 20 "{Path(args.build).name}/exprun validate configs/adding_lstm.yaml"
hyperfine -N --warmup 3 --runs 20 "{Path(args.build).name}/exprun validate configs/ae_fashion.yaml"
```
"""
    (Path(out_dir) / "RESULTS.md").write_text(md)
    print(table)
    print()
    for n, t, ok, v in checks:
        print(f"{n:14s} {t:32s} {'met' if ok else 'NOT met'}  ({v})")
    print()
    print("\n".join(e2e_lines))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--e2e-repeats", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--no-e2e", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer steps (a smoke test, not a measurement)")
    ap.add_argument("--quiet-timeout", type=float, default=300.0, help="longest wait for quiet before a run")
    ap.add_argument("--wait-budget", type=float, default=5400.0, help="total waiting, then 10 s per run")
    ap.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from OUT/raw.jsonl")
    ap.add_argument("--invocation", nargs="*", default=None)
    args = ap.parse_args()
    args.invocation = args.invocation or sys.argv
    env = dict(os.environ)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    raw_path = out / "raw.jsonl"
    machine_path = out / "machine.json"
    if not args.report_only:
        machine = machine_description(env)
        machine_path.write_text(json.dumps(machine, indent=1) + "\n")
        with open(raw_path, "w") as raw:
            run_all(args, env, raw)
    machine = json.loads(machine_path.read_text())
    report(raw_path, out, machine, args)


if __name__ == "__main__":
    main()
