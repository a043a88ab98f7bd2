#!/usr/bin/python3
"""check_export.py — a run's `exprun export --format safetensors` file, loaded into PyTorch's own
modules, gives exprun's answers: the same greedy text as `exprun sample --temperature 0` for a
character model (the GRU of Cho et al., which torch.nn lacks, through cho_gru below, written with
torch operations), the same codes as `exprun encode` for an autoencoder.

    /usr/bin/python3 scripts/check_export.py RUN_DIR FILE.safetensors EXPECTED [--prime TEXT]

EXPECTED is the output of `exprun sample RUN_DIR --temperature 0 --length N --prime TEXT` (a text
file) or of `exprun encode RUN_DIR DATA --out FILE.h5` (an HDF5 file: its /codes are compared
with the torch encoder's codes of the same examples, DATA's /x given with --data: an HDF5 data
file of a run with data.scale: none, so that the script needs no scaler).

The file is read with this script's own reader (the safetensors format: an 8-byte
little-endian header length, a JSON header, the data), not with exprun's code, and checked
against the format: header padded to 8 bytes, tensors contiguous and in bounds. The modules come
from the file's own metadata (torch_modules): their constructor calls, as the export wrote them. Prints one line
per check; exits 1 if any fails. Needs Debian's python3-torch, python3-numpy, python3-h5py."""
import argparse
import json
import struct
import sys

import numpy as np
import torch


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    assert (8 + n) % 8 == 0, "the data does not start 8-byte aligned"
    data = raw[8 + n:]
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    at = 0
    for begin, end, name in spans:
        assert begin == at, f"{name}: a gap or an overlap at byte {begin} (expected {at})"
        at = end
    assert at == len(data), f"the tensors cover {at} bytes of the {len(data)} after the header"
    tensors = {}
    for name, v in header.items():
        assert v["dtype"] == "F32", f"{name}: dtype {v['dtype']}"
        begin, end = v["data_offsets"]
        count = int(np.prod(v["shape"])) if v["shape"] else 1
        assert end - begin == 4 * count, f"{name}: {end - begin} bytes for shape {v['shape']}"
        tensors[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype="<f4").reshape(v["shape"]).copy())
    return tensors, meta


def load(module, tensors, prefix):
    own = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    module.load_state_dict(own, strict=True)   # every name and shape must match
    return module


def cho_gru(tensors, name):
    """The GRU of Cho et al. (exprun's variant: cho), which torch.nn lacks: r_t multiplies h_{t−1}
    before W_hh, and h_t = (1 − z_t) h_{t−1} + z_t h̃_t. A callable like torch.nn.GRU's."""
    import torch
    layers = sorted({int(k.rsplit("_l", 1)[1]) for k in tensors if k.startswith(name + ".weight_ih_l")})

    def run(x, h0=None):
        finals = []
        for l in layers:
            W_ih, W_hh = tensors[f"{name}.weight_ih_l{l}"], tensors[f"{name}.weight_hh_l{l}"]
            b = tensors[f"{name}.bias_ih_l{l}"]
            H = W_hh.shape[1]
            h = h0[l] if h0 is not None else torch.zeros(x.shape[1], H)
            out = []
            for x_t in x:
                gx = x_t @ W_ih.T + b
                r = torch.sigmoid(gx[:, :H] + h @ W_hh[:H].T)
                z = torch.sigmoid(gx[:, H:2 * H] + h @ W_hh[H:2 * H].T)
                n = torch.tanh(gx[:, 2 * H:] + (r * h) @ W_hh[2 * H:].T)
                h = (1 - z) * h + z * n
                out.append(h)
            x = torch.stack(out)
            finals.append(h)
        return x, torch.stack(finals)
    return run


ACTS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda x: x,
        "softplus": torch.nn.functional.softplus}


def check_text(tensors, meta, run_dir, expected, prime):
    """A character model: Embedding or one-hot → the recurrent module → Linear head, greedy."""
    import h5py
    with h5py.File(f"{run_dir}/results.h5", "r") as f:
        byte_of = [int(b) for b in f["vocab/bytes"][()]]
    id_of = {b: i for i, b in enumerate(byte_of)}
    modules = dict(line.split(": ", 1) for line in meta["torch_modules"].strip().split("\n"))
    # the recurrent modules: one per stack, or one per layer (lstm0, lstm1, …) when widths differ,
    # run one after another
    def is_rnn(v):
        return v.split("(")[0] in ("torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN") or "Cho" in v
    names = sorted((k for k, v in modules.items() if is_rnn(v)),
                   key=lambda k: int(k[len(k.rstrip("0123456789")):] or 0))
    layers = [cho_gru(tensors, k) if "Cho" in modules[k] else load(eval(modules[k]), tensors, k) for k in names]

    def rnn(x, states):
        states = states or [None] * len(layers)
        out = []
        for layer, s in zip(layers, states):
            x, s = layer(x, s) if s is not None else layer(x)
            out.append(s)
        return x, out
    head = load(eval(modules["head"]), tensors, "head")
    embed = load(eval(modules["embed"]), tensors, "embed") if "embed" in modules else None
    V = head.out_features

    def step_input(i):
        if embed is not None:
            return embed(torch.tensor([[i]]))
        return torch.nn.functional.one_hot(torch.tensor([[i]]), V).float()

    out, state = [], None
    tokens = [id_of[b] for b in prime.encode()]
    want = open(expected, "rb").read()
    # exprun sample prints the prime, the generated text and a newline
    assert want.startswith(prime.encode()), f"{expected} does not start with the prime {prime!r}"
    want = want[len(prime.encode()):]
    want = want[:-1] if want.endswith(b"\n") else want
    with torch.no_grad():
        for i in tokens:
            y, state = rnn(step_input(i), state)
        for _ in range(len(want)):
            nxt = int(torch.argmax(head(y[-1, 0])))
            out.append(byte_of[nxt])
            y, state = rnn(step_input(nxt), state)
    got = bytes(out)
    same = got == want
    print(f"{'ok' if same else 'FAIL'} greedy text: {len(want)} characters after {prime!r} "
          f"{'identical to' if same else 'differ from'} exprun sample's")
    if not same:
        print(f"  exprun: {want[:80]!r}\n  torch:  {got[:80]!r}")
    return same


def check_codes(tensors, meta, expected, data):
    """An autoencoder: the encoder's Linear layers and activations, codes against exprun encode's;
    then the decoder's, each example's squared error Σ (x̂ − x)² against encode's."""
    import h5py
    with h5py.File(expected, "r") as f:
        want, want_sq = f["codes"][()], f["squared_error"][()]
    with h5py.File(data, "r") as f:   # the examples exprun encoded: an HDF5 data file's /x, unscaled
        x = torch.from_numpy(f["x"][()].astype(np.float32))
    layers = dict(line.split(": ", 1) for line in meta["torch_modules"].strip().split("\n"))

    def run(side, h):
        names = sorted((n for n in layers if n.startswith(side)), key=lambda n: int(n[len(side):]))
        for name in names:
            ctor, act = layers[name].split(", then ")
            h = ACTS[act.split(" ")[0]](load(eval(ctor), tensors, name)(h))
        return h

    with torch.no_grad():
        h = run("enc", x)
        x_hat = run("dec", h)
    diff = float(np.max(np.abs(h.numpy() - want)))
    sq = ((x_hat.double() - x.double()) ** 2).sum(dim=1).numpy()
    rel = float(np.max(np.abs(sq - want_sq) / np.maximum(want_sq, 1e-12)))
    ok = diff <= 1e-5 and rel <= 1e-5
    print(f"{'ok' if diff <= 1e-5 else 'FAIL'} codes: {want.shape[0]} examples × {want.shape[1]}, "
          f"max |torch − exprun| = {diff:.2e}")
    print(f"{'ok' if rel <= 1e-5 else 'FAIL'} reconstructions: each example's Σ (x̂ − x)², max relative "
          f"difference {rel:.2e}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("file")
    ap.add_argument("expected")
    ap.add_argument("--prime", default="a")
    ap.add_argument("--data", help="autoencoders: the HDF5 data file exprun encoded (its /x; a run with data.scale: none)")
    a = ap.parse_args()
    tensors, meta = read_safetensors(a.file)
    print(f"ok format: {len(tensors)} tensors, header aligned, contiguous; metadata {sorted(meta)}")
    if a.expected.endswith(".h5"):
        ok = check_codes(tensors, meta, a.expected, a.data)
    else:
        ok = check_text(tensors, meta, a.run_dir, a.expected, a.prime)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
