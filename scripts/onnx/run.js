// run.js — one ONNX model in onnxruntime (the npm package onnxruntime-node), for
// scripts/check_onnx.py: node run.js MODEL.onnx IN.json OUT.json
// IN.json maps each input's name to {"dims": [...], "data": [...], "type": "float32"|"int64"};
// OUT.json gets every output the same way (float32).
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inPath, outPath] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model);
  const given = JSON.parse(fs.readFileSync(inPath, 'utf8'));
  const feeds = {};
  for (const [name, t] of Object.entries(given)) {
    feeds[name] = t.type === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(t.data.map(BigInt)), t.dims)
                                     : new ort.Tensor('float32', Float32Array.from(t.data), t.dims);
  }
  const results = await session.run(feeds);
  const out = {};
  for (const [name, t] of Object.entries(results)) out[name] = {dims: t.dims, data: Array.from(t.data)};
  fs.writeFileSync(outPath, JSON.stringify(out));
}

main().catch((e) => { console.error(`run.js: ${e.message || e}`); process.exit(1); });
