// ONNX Runtime side of the peer benchmark (bench/run_ort.sh): runs the
// exported reference graph (bench/ort_export.py) on the same 8 inputs as
// bench_precision, ms per image at batch 1 and 8, min and median over RUNS
// timed runs after a warm-up, 2 intra-op threads; writes the batch-8 maps.
//
//   node bench/ort_bench.mjs DIR RUNS THREADS    (DIR: model.onnx, inputs.f32; writes maps_ort.f32)
// onnxruntime-node is resolved from $ORT_DIR/node_modules (bench-only; never a dependency of the library).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const [dir, runsArg, threadsArg] = process.argv.slice(2);
const runs = Number(runsArg || 20), threads = Number(threadsArg || 2);
const require = createRequire(path.join(process.env.ORT_DIR || "/tmp/fastflow-ort", "node_modules", "x.js"));
const ort = require("onnxruntime-node");

const raw = fs.readFileSync(path.join(dir, "inputs.f32"));
const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const per = all.length / 8, side = Math.round(Math.sqrt(per / 3));
const session = await ort.InferenceSession.create(path.join(dir, "model.onnx"), {
  intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all", executionMode: "sequential",
});

async function timeBatch(n) {
  const x = new ort.Tensor("float32", all.slice(0, n * per), [n, 3, side, side]);
  let out;
  for (let w = 0; w < 3; w++) out = await session.run({ x });
  const t = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    out = await session.run({ x });
    t.push(Number(process.hrtime.bigint() - t0) / 1e6 / n);
  }
  t.sort((a, b) => a - b);
  console.log(`scoring batch ${n} onnxruntime: min ${t[0].toFixed(2)} ms/image, median ${t[runs >> 1].toFixed(2)} ms/image (${runs} runs)`);
  return out.map.data;
}

await timeBatch(1);
const maps = await timeBatch(8);
fs.writeFileSync(path.join(dir, "maps_ort.f32"), Buffer.from(maps.buffer, maps.byteOffset, maps.byteLength));
