#!/usr/bin/python3
"""make_golden.py — golden values for the recurrent layers, from PyTorch.

Writes tests/golden/recurrent_golden.h5 (read by tests/test_golden.c). Run with the system
Python, which has torch and h5py:

    /usr/bin/python3 tests/golden/make_golden.py

For each of nn.LSTM, nn.GRU and nn.RNN(nonlinearity='tanh') — 2 layers, small sizes, fixed
seed — it stores two checks, computed in float64 from float32-representable numbers (so the C
code, which works in float32, sees exactly the same inputs and weights):

  /<cell>/          the stacked layers alone, with given initial states h0 (and c0) and the probe
                    loss  L = Σ out ⊙ probe_out + Σ h_n ⊙ probe_h (+ Σ c_n ⊙ probe_c)
                    inputs: x (T,B,I), h0 (L,B,H), c0, probe_*; weights: weight_ih_l{k},
                    weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} exactly as PyTorch names them;
                    outputs: out (T,B,H), h_n, c_n, loss; grad/<every weight>, grad/x, grad/h0,
                    grad/c0.
  /<cell>/seq/      the same layers inside the sequence model: features (B,T,I) batch-first,
                    zero initial state, a per-step nn.Linear head (head_W (O,H), head_b (O)) and the
                    squared error  L = Σ (ŷ − y)² / (B·T)  (seqmodel's "mean per (sample, step)").
                    x, y, head_W, head_b, loss, grad/<every weight>, grad/head_W, grad/head_b.

Mapping into exprun's layout (see lib/nn/lstm.h, gru.h, rnn.h): W = [weight_hh | weight_ih]
(columns h first), b = bias_ih + bias_hh, except the GRU's n gate whose b_hn = bias_hh[2H:3H]
stays separate (b[2H:3H] = bias_ih[2H:3H]).
"""
import os

import h5py
import numpy as np
import torch

T, B, N_IN, H, LAYERS, N_OUT = 5, 2, 3, 4, 2, 2
HERE = os.path.dirname(os.path.abspath(__file__))


def f32(t):
    """Round to float32 and back, so C sees exactly these numbers."""
    return t.float().double()


def rand(*shape, scale=1.0):
    return f32((torch.rand(*shape, dtype=torch.float64) * 2 - 1) * scale)


def store(group, name, tensor):
    group.create_dataset(name, data=tensor.detach().cpu().numpy().astype(np.float64))


def make(cell_name, module, f):
    torch.manual_seed({"lstm": 1, "gru": 2, "rnn": 3}[cell_name])
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(rand(*p.shape, scale=0.7))
    g = f.create_group(cell_name)
    names = [n for n, _ in module.named_parameters()]
    for n, p in module.named_parameters():
        store(g, n, p)

    # --- the layers alone, with initial states and a probe loss ---------------------------
    is_lstm = cell_name == "lstm"
    x = rand(T, B, N_IN).requires_grad_()
    h0 = rand(LAYERS, B, H, scale=0.5).requires_grad_()
    c0 = rand(LAYERS, B, H, scale=0.5).requires_grad_()
    probe_out, probe_h, probe_c = rand(T, B, H), rand(LAYERS, B, H), rand(LAYERS, B, H)
    module.zero_grad()
    if is_lstm:
        out, (h_n, c_n) = module(x, (h0, c0))
        loss = (out * probe_out).sum() + (h_n * probe_h).sum() + (c_n * probe_c).sum()
    else:
        out, h_n = module(x, h0)
        loss = (out * probe_out).sum() + (h_n * probe_h).sum()
    loss.backward()
    for name, t in [("x", x), ("h0", h0), ("probe_out", probe_out), ("probe_h", probe_h), ("out", out),
                    ("h_n", h_n)]:
        store(g, name, t)
    store(g, "loss", loss.reshape(1))
    store(g, "grad/x", x.grad)
    store(g, "grad/h0", h0.grad)
    if is_lstm:
        for name, t in [("c0", c0), ("probe_c", probe_c), ("c_n", c_n)]:
            store(g, name, t)
        store(g, "grad/c0", c0.grad)
    for n, p in module.named_parameters():
        store(g, "grad/" + n, p.grad)

    # --- inside the sequence model: features → 2 layers → per-step linear head → squared error
    head = torch.nn.Linear(H, N_OUT).double()
    with torch.no_grad():
        head.weight.copy_(rand(N_OUT, H, scale=0.5))
        head.bias.copy_(rand(N_OUT, scale=0.5))
    xs = rand(B, T, N_IN)                       # batch-first, as a Batch holds it
    ys = rand(B, T, N_OUT)
    module.zero_grad()
    out, _ = module(xs.transpose(0, 1))          # zero initial state
    pred = head(out).transpose(0, 1)             # (B, T, O)
    loss = ((pred - ys) ** 2).sum() / (B * T)
    loss.backward()
    s = g.create_group("seq")
    store(s, "x", xs)
    store(s, "y", ys)
    store(s, "head_W", head.weight)
    store(s, "head_b", head.bias)
    store(s, "loss", loss.reshape(1))
    store(s, "grad/head_W", head.weight.grad)
    store(s, "grad/head_b", head.bias.grad)
    for n, p in module.named_parameters():
        store(s, "grad/" + n, p.grad)
    return names


def main():
    path = os.path.join(HERE, "recurrent_golden.h5")
    with h5py.File(path, "w") as f:
        f.attrs["generator"] = "tests/golden/make_golden.py"
        f.attrs["torch_version"] = str(torch.__version__)
        f.attrs["sizes"] = np.array([T, B, N_IN, H, LAYERS, N_OUT], dtype=np.int32)
        f.attrs["sizes_legend"] = "T, B, n_in, H, layers, n_out"
        make("lstm", torch.nn.LSTM(N_IN, H, num_layers=LAYERS), f)
        make("gru", torch.nn.GRU(N_IN, H, num_layers=LAYERS), f)
        make("rnn", torch.nn.RNN(N_IN, H, num_layers=LAYERS, nonlinearity="tanh"), f)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
