#!/usr/bin/python3
"""check_onnx.py — a run's `exprun export --format onnx` file is valid ONNX and gives exprun's
answers in another runtime.

    /usr/bin/python3 scripts/check_onnx.py MODEL.onnx CODES.h5 --data DATA.h5      (autoencoders)
    /usr/bin/python3 scripts/check_onnx.py MODEL.onnx --predict RUN_DIR [--torch MODEL.safetensors]
                                                                             (sequence models)

1. ONNX's own checker (Debian's python3-onnx), full_check: the graph, every operator against
   its schema, and shape inference through the whole graph.
2. onnxruntime (the npm package onnxruntime-node, scripts/onnx/, run by Node.js) runs the model
   on DATA's /x — the examples an autoencoder run with data.scale: none encoded with
   `exprun encode RUN DATA --out CODES.h5` — and its outputs are compared with exprun's: h with
   /codes, and each example's Σ (x̂ − x)² with /squared_error, within 1e-5.
A sequence model (tokens or features (T, batch, ·) → y) is compared with `exprun predict RUN_DIR`
(--exprun names the program, default build/exprun) on 6 random sequences of 10 steps, within 1e-5
of the largest value; and with --torch, with the same run's safetensors export loaded into
torch.nn (scripts/check_export.py's modules) on 4 random sequences of 17 steps, within 1e-5.
Prints one line per check; exits 1 if any fails."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))


def run_onnxruntime(model, feeds):
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        with open(inp, "w") as f:
            json.dump({k: {"dims": list(v.shape), "data": v.ravel().tolist(),
                           "type": "int64" if v.dtype == np.int64 else "float32"} for k, v in feeds.items()}, f)
        subprocess.run(["node", os.path.join(HERE, "onnx", "run.js"), model, inp, out], check=True)
        with open(out) as f:
            got = json.load(f)
    return {k: np.array(v["data"], dtype=np.float32).reshape(v["dims"]) for k, v in got.items()}


def check_sequence(model, m, st_path):
    """onnxruntime's y against torch.nn's, the modules from the safetensors export."""
    import torch
    sys.path.insert(0, HERE)
    from check_export import cho_gru, load, read_safetensors
    tensors, meta = read_safetensors(st_path)
    modules = dict(line.split(": ", 1) for line in meta["torch_modules"].strip().split("\n"))
    rnns = [k for k, v in modules.items() if v.split("(")[0] in ("torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN")
            or "Cho" in v]
    if len(rnns) != 1:   # one module per layer (widths differ): --predict compares with exprun itself
        print(f"-- torch.nn comparison left to --predict: {len(rnns)} recurrent modules ({', '.join(rnns)})")
        return True
    rnn_name = rnns[0]
    cho = "Cho" in modules[rnn_name]
    # learned initial states: MODULE.initial_h_l<l> (H), stacked to (L, B, H) below
    states = sorted(k for k in tensors if k.startswith(rnn_name + ".initial_"))
    rnn = cho_gru(tensors, rnn_name) if cho else load(
        eval(modules[rnn_name]), {k: v for k, v in tensors.items() if k not in states}, rnn_name)
    head = load(eval(modules["head"]), tensors, "head")
    embed = load(eval(modules["embed"]), tensors, "embed") if "embed" in modules else None
    first = m.graph.input[0]
    rng = np.random.default_rng(5)
    T, B = 17, 4
    with torch.no_grad():
        if first.name == "tokens":
            V = head.out_features if embed is None else embed.num_embeddings
            tokens = rng.integers(0, V, size=(T, B)).astype(np.int64)
            feeds = {"tokens": tokens}
            t = torch.from_numpy(tokens)
            x = embed(t) if embed is not None else torch.nn.functional.one_hot(t, V).float()
        else:
            d = first.type.tensor_type.shape.dim[2].dim_value
            x_np = rng.standard_normal((T, B, d)).astype(np.float32)
            feeds, x = {"x": x_np}, torch.from_numpy(x_np)
        if states:
            h0 = torch.stack([tensors[k] for k in states if ".initial_h_" in k]).unsqueeze(1).expand(-1, B, -1)
            c0 = [tensors[k] for k in states if ".initial_c_" in k]
            s0 = (h0, torch.stack(c0).unsqueeze(1).expand(-1, B, -1)) if c0 else h0
            y_seq, _ = rnn(x, s0)
        else:
            y_seq, _ = rnn(x)
        per_step = len(m.graph.output[0].type.tensor_type.shape.dim) == 3
        want = head(y_seq if per_step else y_seq[-1]).numpy()
    got = run_onnxruntime(model, feeds)["y"]
    diff = float(np.max(np.abs(got - want)))
    ok = got.shape == want.shape and diff <= 1e-5
    print(f"{'ok' if ok else 'FAIL'} onnxruntime y {tuple(got.shape)}: max |onnxruntime − torch.nn| = {diff:.2e} "
          f"({modules[rnn_name]})")
    return ok


def check_predict(model, m, run_dir, exprun):
    """onnxruntime's y against `exprun predict`'s on the same random sequences (batch-major
    there, time-major in the graph)."""
    first = m.graph.input[0]
    rng = np.random.default_rng(7)
    N, T = 6, 10   # T within every test run's sequence length (the adding task: 12)
    with tempfile.TemporaryDirectory() as tmp:
        inp, pred = os.path.join(tmp, "in.h5"), os.path.join(tmp, "pred.h5")
        with h5py.File(inp, "w") as f:
            if first.name == "tokens":
                table = next(i for i in m.graph.initializer if i.name in ("embed.weight", "onehot.identity"))
                seqs = rng.integers(0, table.dims[0], size=(N, T)).astype(np.int32)
                f["tokens"] = seqs
                feeds = {"tokens": np.ascontiguousarray(seqs.T).astype(np.int64)}
            else:
                d = first.type.tensor_type.shape.dim[2].dim_value
                seqs = rng.standard_normal((N, T, d)).astype(np.float32)
                f["x"] = seqs
                feeds = {"x": np.ascontiguousarray(seqs.transpose(1, 0, 2))}
        subprocess.run([exprun, "predict", run_dir, inp, "-o", pred], check=True, stdout=subprocess.DEVNULL)
        with h5py.File(pred, "r") as f:
            want = f["y"][()]
    got = run_onnxruntime(model, feeds)["y"]
    if got.ndim == 3:
        got = got.transpose(1, 0, 2)   # (T, N, V) → (N, T, V)
    diff = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("inf")
    scale = float(np.max(np.abs(want)))
    ok = diff <= 1e-5 * max(1.0, scale)
    print(f"{'ok' if ok else 'FAIL'} onnxruntime y {tuple(want.shape)} against exprun predict: max difference "
          f"{diff:.2e} (values up to {scale:.3g}; tolerance 1e-5 relative)")
    return ok


def check_generating(model, m, run_dir, exprun):
    """seq2seq and one_to_many: their graphs are teacher-forced, so exprun predict's own outputs,
    shifted behind GO (or the blank first input), are fed back in, and onnxruntime must give the
    logits (seq2seq) or outputs (one_to_many) exprun chose them from."""
    names = [i.name for i in m.graph.input]
    rng = np.random.default_rng(11)
    inits = {i.name: i for i in m.graph.initializer}
    with tempfile.TemporaryDirectory() as tmp:
        inp, pred = os.path.join(tmp, "in.h5"), os.path.join(tmp, "pred.h5")
        with h5py.File(inp, "w") as f:
            if "decoder_tokens" in names:
                # rows of 1..5 characters (tokens 3..V−1), then PAD (0); the last row has a character
                # after its first PAD, which the encoder must not read
                N, Tx, V = 6, 5, inits["embed_in.weight"].dims[0]
                x = np.zeros((N, Tx), dtype=np.int32)
                for r in range(N):
                    x[r, :1 + r % Tx] = rng.integers(3, V, size=1 + r % Tx)
                x[N - 1, :] = [3, 4, 0, 5, 0][:Tx]
                f["tokens"] = x
            else:
                K = inits["state.h_l0"].dims[0]
                f["classes"] = rng.integers(0, K, size=5).astype(np.int32)
        subprocess.run([exprun, "predict", run_dir, inp, "-o", pred], check=True, stdout=subprocess.DEVNULL)
        with h5py.File(pred, "r") as f:
            got_pred = {k: f[k][()] for k in f.keys() if k != "text"}
    if "decoder_tokens" in names:
        y, want = got_pred["y"], got_pred["logits"]               # (N, Ty), (N, Ty, V)
        dec = np.concatenate([np.ones((y.shape[0], 1), dtype=np.int64), y[:, :-1].astype(np.int64)], axis=1)
        feeds = {"tokens": np.ascontiguousarray(x.T).astype(np.int64), "decoder_tokens": np.ascontiguousarray(dec.T)}
        got = run_onnxruntime(model, feeds)["logits"].transpose(1, 0, 2)
        what = "logits"
        agree = int((got.argmax(axis=2) == want.argmax(axis=2)).sum())
        extra = f"; greedy tokens agree at {agree} of {want.shape[0] * want.shape[1]} steps"
    else:
        want = got_pred["y"]                                      # (N, T, d)
        shifted = np.concatenate([np.zeros_like(want[:, :1]), want[:, :-1]], axis=1)
        feeds = {"classes": got_pred["classes"].astype(np.int64),
                 "x": np.ascontiguousarray(shifted.transpose(1, 0, 2)).astype(np.float32)}
        got = run_onnxruntime(model, feeds)["y"].transpose(1, 0, 2)
        what, extra = "y", ""
    diff = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("inf")
    scale = float(np.max(np.abs(want)))
    ok = diff <= 1e-5 * max(1.0, scale) and (not extra or agree == want.shape[0] * want.shape[1])
    print(f"{'ok' if ok else 'FAIL'} onnxruntime {what} {tuple(want.shape)} against exprun predict, its own outputs "
          f"fed back: max difference {diff:.2e} (values up to {scale:.3g}; tolerance 1e-5 relative){extra}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("codes", nargs="?")
    ap.add_argument("--data")
    ap.add_argument("--torch", help="sequence models: the run's safetensors export")
    ap.add_argument("--predict", metavar="RUN_DIR", help="sequence models: compare with exprun predict on this run")
    ap.add_argument("--exprun", default=os.path.join(HERE, "..", "build", "exprun"))
    a = ap.parse_args()
    m = onnx.load(a.model)
    onnx.checker.check_model(m, full_check=True)
    print(f"ok checker: opset {m.opset_import[0].version}, IR {m.ir_version}, "
          f"{len(m.graph.node)} nodes ({', '.join(sorted(set(n.op_type for n in m.graph.node)))}), full_check")
    if a.torch or a.predict:
        ok = True
        generating = any(i.name in ("decoder_tokens", "classes") for i in m.graph.input)
        if a.predict:
            ok &= (check_generating if generating else check_predict)(a.model, m, a.predict, a.exprun)
        if a.torch:
            ok &= check_sequence(a.model, m, a.torch)
        sys.exit(0 if ok else 1)
    with h5py.File(a.data, "r") as f:
        x = f["x"][()].astype(np.float32)
    with h5py.File(a.codes, "r") as f:
        want_h, want_sq = f["codes"][()], f["squared_error"][()]
    got = run_onnxruntime(a.model, {"x": x})
    diff = float(np.max(np.abs(got["h"] - want_h)))
    sq = ((got["x_hat"].astype(np.float64) - x.astype(np.float64)) ** 2).sum(axis=1)
    rel = float(np.max(np.abs(sq - want_sq) / np.maximum(want_sq, 1e-12)))
    print(f"{'ok' if diff <= 1e-5 else 'FAIL'} onnxruntime h: {x.shape[0]} examples, "
          f"max |onnxruntime − exprun| = {diff:.2e}")
    print(f"{'ok' if rel <= 1e-5 else 'FAIL'} onnxruntime x_hat: each example's Σ (x̂ − x)², max relative "
          f"difference {rel:.2e}")
    sys.exit(0 if diff <= 1e-5 and rel <= 1e-5 else 1)


if __name__ == "__main__":
    main()
