#!/usr/bin/python3
"""torch_peer.py — the benchmark suite's workloads in PyTorch, for the side-by-side table.

    /usr/bin/python3 bench/torch_peer.py WORKLOAD [--threads N] [--steps N] [--warmup N]

Run with Debian's python3-torch (plain `python3` on PATH may not see it). The models are the
ones bench/bench_exprun.c trains (see bench/workloads.h):
  lstm_h256 lstm_h512 gru_h256 rnn_h256   nn.Embedding(96, 64) → nn.LSTM | nn.GRU | nn.RNN(tanh),
                                           2 layers → nn.Linear(H, 96); sequence 64, batch 32
  lstm_h128_b1                             the same, hidden 128, batch 1, sequence 32
  ae_deep                                  Linear 784-256-64-256-784 with sigmoids, batch 128
  ae_shallow                               Linear 784-64-784 with sigmoids, batch 128
Loss: nn.CrossEntropyLoss (mean over tokens) for the LMs; for the AEs binary cross-entropy on
the logits (binary_cross_entropy_with_logits, PyTorch's fused and fastest form), summed over
the 784 pixels and averaged over the batch — exprun's loss. Adam(lr 2e-3); the LMs clip with
clip_grad_norm_(5), the AEs do not clip. Inputs are time-major (T, B), PyTorch's native RNN
layout, so no transposes are timed.

A training step: zero_grad, forward, loss, backward, (clip), optimizer step — every one.
torch.set_num_threads(N) sets PyTorch's intra-op threads; OpenBLAS (which PyTorch's Debian
build calls for its matrix products) keeps its own OPENBLAS_NUM_THREADS / OPENBLAS_CORETYPE
from the environment. Prints one JSON line: throughput over the timed steps, the median step,
and the process's peak resident set size (getrusage, which includes the loaded libraries)."""
import argparse
import json
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, EMBED, PIXELS = 96, 64, 784

WORKLOADS = {
    "lstm_h256": ("lm", nn.LSTM, 256, 32, 64),
    "lstm_h512": ("lm", nn.LSTM, 512, 32, 64),
    "gru_h256": ("lm", nn.GRU, 256, 32, 64),
    "rnn_h256": ("lm", nn.RNN, 256, 32, 64),
    "lstm_h128_b1": ("lm", nn.LSTM, 128, 1, 32),
    "ae_deep": ("ae", [784, 256, 64, 256, 784], 128),
    "ae_shallow": ("ae", [784, 64, 784], 128),
}


class CharLM(nn.Module):
    def __init__(self, cell, hidden):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBED)
        kwargs = {"nonlinearity": "tanh"} if cell is nn.RNN else {}
        self.rnn = cell(EMBED, hidden, num_layers=2, **kwargs)
        self.head = nn.Linear(hidden, VOCAB)

    def forward(self, x, y):  # x, y (T, B) token ids
        out, _ = self.rnn(self.embed(x))
        logits = self.head(out)
        return F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))


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
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=sorted(WORKLOADS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    spec = WORKLOADS[args.workload]
    n_batches = 16
    if spec[0] == "lm":
        _, cell, hidden, B, T = spec
        model = CharLM(cell, hidden)
        streams = torch.randint(0, VOCAB, (n_batches, T + 1, B))
        batches = [(s[:-1].contiguous(), s[1:].contiguous()) for s in streams]
        units, unit, clip = B * T, "tokens/s", 5.0
    else:
        _, sizes, B = spec
        model = Autoencoder(sizes)
        batches = [(torch.rand(B, PIXELS),) for _ in range(n_batches)]
        units, unit, clip = B, "samples/s", 0.0
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    params = list(model.parameters())

    times, losses = [], []
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
        "impl": "pytorch", "workload": args.workload, "unit": unit,
        "throughput": round(units * len(times) / total, 1),
        "throughput_median_step": round(units / statistics.median(times), 1),
        "step_ms_median": round(1e3 * statistics.median(times), 4),
        "steps": args.steps, "warmup": args.warmup,
        "first_loss": round(losses[0], 6), "last_loss": round(losses[-1], 6),
        "peak_rss_mb": round(rss_mb, 1), "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "params": sum(p.numel() for p in params),
    }))


if __name__ == "__main__":
    main()
