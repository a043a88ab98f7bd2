#!/usr/bin/python3
"""torch_peer.py — the benchmark's workloads in PyTorch, for the side-by-side table.

    /usr/bin/python3 bench/torch_peer.py [PRESET] [SHAPE FLAGS] [--threads N] [--steps N] [--warmup N]

Run with Debian's python3-torch (plain `python3` on PATH may not see it). The workload is given
as bench_exprun takes it (bench/workloads.h, whose preset table this script reads): a preset
(lstm_h256 lstm_h512 gru_h256 rnn_h256 lstm_h128_b1 ae_deep ae_shallow), shape flags, or both:
  --cell lstm|gru|rnn --units 384x2 --embed 64 --vocab 96 --batch 48 --seq 64
        nn.Embedding(vocab, embed) → nn.LSTM | nn.GRU | nn.RNN(tanh) (one module of num_layers
        when every layer has the same width, else one module per layer) → nn.Linear(H, vocab)
  --ae 784,256,64,256,784 --batch 128
        Linear layers along the widths with sigmoids
Loss: nn.CrossEntropyLoss (mean over tokens) for the LMs; for the AEs binary cross-entropy on
the logits (binary_cross_entropy_with_logits, PyTorch's fused and fastest form), summed over
the pixels and averaged over the batch — exprun's loss. Adam(lr 2e-3); the LMs clip with
clip_grad_norm_(5), the AEs do not clip. Inputs are time-major (T, B), PyTorch's native RNN
layout, so no transposes are timed.

A training step: zero_grad, forward, loss, backward, (clip), optimizer step — every one.
torch.set_num_threads(N) sets PyTorch's intra-op threads; OpenBLAS (which PyTorch's Debian
build calls for its matrix products) keeps its own OPENBLAS_NUM_THREADS / OPENBLAS_CORETYPE
from the environment. Prints one JSON line: throughput over the timed steps, the median step,
the resident set size before the first step (/proc/self/statm: the libraries, the model and
the data) and the process's peak (getrusage): their difference is what training itself holds."""
import argparse
import json
import os
import re
import resource
import statistics
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def resident_mb():
    """The resident set size now, in MB (/proc/self/statm), as bench_exprun reads it."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576.0


def presets():
    """The preset table of bench/workloads.h: {name: "flags"}."""
    text = (Path(__file__).resolve().parent / "workloads.h").read_text()
    return dict(re.findall(r'\{"(\w+)", "(--[^"]*)"\}', text))


def units_list(text):
    if "x" in text:
        width, times = text.split("x")
        return [int(width)] * int(times)
    return [int(v) for v in text.split(",")]


def parse_workload(argv):
    """(shape dict, the arguments left): the same rules as workload_from_args in workloads.h."""
    shape = {"cell": "lstm", "units": None, "ae": None, "embed": 64, "vocab": 96, "batch": 32, "seq": 64}
    table = presets()
    args, name, preset_words = list(argv), None, 0
    if args and not args[0].startswith("-"):
        name = args.pop(0)
        if name not in table:
            raise SystemExit(f"torch_peer.py: unknown workload '{name}' (presets: {' '.join(table)})")
        preset_words = len(table[name].split())
        args = table[name].split() + args
    rest, changed, k = [], False, 0
    while k < len(args):
        flag = args[k]
        if flag in ("--cell", "--units", "--ae", "--embed", "--vocab", "--batch", "--seq"):
            value = args[k + 1]
            if flag == "--cell":
                shape["cell"] = value
            elif flag == "--units":
                shape["units"], shape["ae"] = units_list(value), None
            elif flag == "--ae":
                shape["ae"], shape["units"] = units_list(value), None
            else:
                shape[flag[2:]] = int(value)
            changed |= k >= preset_words   # a flag of the command line, not of the preset
            k += 2
        else:
            rest.append(flag)
            k += 1
    if shape["units"] is None and shape["ae"] is None:
        raise SystemExit("torch_peer.py: no workload: give a preset name or a shape")
    if name and not changed:
        shape["name"] = name
    elif shape["ae"]:
        shape["name"] = f"ae_{'-'.join(map(str, shape['ae']))}_b{shape['batch']}"
    else:
        shape["name"] = (f"{shape['cell']}_{'x'.join(map(str, shape['units']))}_e{shape['embed']}"
                         f"_v{shape['vocab']}_b{shape['batch']}_t{shape['seq']}")
    return shape, rest


class CharLM(nn.Module):
    def __init__(self, cell, units, embed, vocab):
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Embedding(vocab, embed)
        kwargs = {"nonlinearity": "tanh"} if cell is nn.RNN else {}
        if len(set(units)) == 1:
            self.rnns = nn.ModuleList([cell(embed, units[0], num_layers=len(units), **kwargs)])
        else:
            widths = [embed] + units
            self.rnns = nn.ModuleList([cell(a, b, **kwargs) for a, b in zip(widths[:-1], widths[1:])])
        self.head = nn.Linear(units[-1], vocab)

    def forward(self, x, y):  # x, y (T, B) token ids
        out = self.embed(x)
        for rnn in self.rnns:
            out, _ = rnn(out)
        logits = self.head(out)
        return F.cross_entropy(logits.reshape(-1, self.vocab), y.reshape(-1))


class Autoencoder(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.Sigmoid()]
        self.net = nn.Sequential(*layers[:-1])  # the last sigmoid is inside the loss

    def forward(self, x):
        logits = self.net(x)
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def main():
    import sys
    shape, rest = parse_workload(sys.argv[1:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args(rest)
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    n_batches, B, T = 16, shape["batch"], shape["seq"]
    if shape["units"]:
        model = CharLM(CELLS[shape["cell"]], shape["units"], shape["embed"], shape["vocab"])
        streams = torch.randint(0, shape["vocab"], (n_batches, T + 1, B))
        batches = [(s[:-1].contiguous(), s[1:].contiguous()) for s in streams]
        units, unit, clip = B * T, "tokens/s", 5.0
    else:
        model = Autoencoder(shape["ae"])
        batches = [(torch.rand(B, shape["ae"][0]),) for _ in range(n_batches)]
        units, unit, clip = B, "samples/s", 0.0
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    params = list(model.parameters())

    times, losses = [], []
    rss_before_mb = resident_mb()
    for s in range(args.warmup + args.steps):
        batch = batches[s % n_batches]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(*batch)
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        dt = time.perf_counter() - t0
        losses.append(loss.item())
        if s >= args.warmup:
            times.append(dt)
    total = sum(times)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({
        "impl": "pytorch", "workload": shape["name"], "unit": unit,
        "throughput": round(units * len(times) / total, 1),
        "throughput_median_step": round(units / statistics.median(times), 1),
        "step_ms_median": round(1e3 * statistics.median(times), 4),
        "steps": args.steps, "warmup": args.warmup,
        "first_loss": round(losses[0], 6), "last_loss": round(losses[-1], 6),
        "rss_before_mb": round(rss_before_mb, 1), "peak_rss_mb": round(rss_mb, 1), "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "params": sum(p.numel() for p in params),
    }))


if __name__ == "__main__":
    main()
