#!/usr/bin/python3
"""check_onnx.py — a run's `exprun export --format onnx` file is valid ONNX and gives exprun's
answers in another runtime.

    /usr/bin/python3 scripts/check_onnx.py MODEL.onnx CODES.h5 --data DATA.h5

1. ONNX's own checker (Debian's python3-onnx), full_check: the graph, every operator against
   its schema, and shape inference through the whole graph.
2. onnxruntime (the npm package onnxruntime-node, scripts/onnx/, run by Node.js) runs the model
   on DATA's /x — the examples an autoencoder run with data.scale: none encoded with
   `exprun encode RUN DATA --out CODES.h5` — and its outputs are compared with exprun's: h with
   /codes, and each example's Σ (x̂ − x)² with /squared_error, within 1e-5.
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
            json.dump({k: {"dims": list(v.shape), "data": v.ravel().tolist()} for k, v in feeds.items()}, f)
        subprocess.run(["node", os.path.join(HERE, "onnx", "run.js"), model, inp, out], check=True)
        with open(out) as f:
            got = json.load(f)
    return {k: np.array(v["data"], dtype=np.float32).reshape(v["dims"]) for k, v in got.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("codes")
    ap.add_argument("--data", required=True)
    a = ap.parse_args()
    m = onnx.load(a.model)
    onnx.checker.check_model(m, full_check=True)
    print(f"ok checker: opset {m.opset_import[0].version}, IR {m.ir_version}, "
          f"{len(m.graph.node)} nodes ({', '.join(sorted(set(n.op_type for n in m.graph.node)))}), full_check")
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
