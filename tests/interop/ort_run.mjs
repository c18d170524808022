// Runs an ONNX model with onnxruntime (onnxruntime-node, CPU execution provider): the float
// oracle the compiler's op tests compare with.
//
//   node ort_run.mjs MODEL.onnx INPUTS.json OUTPUTS.json
//
// INPUTS.json maps each model input name to {"shape": [..], "data": [flat numbers]} (float32,
// or {"type": "int64", ...}; without "type", the model's own int64 inputs are int64), or is an
// array of such maps (one session runs every sample).
// OUTPUTS.json gets every model output in the same form (an array where the inputs were one),
// with "type" (onnxruntime's element type name); int64 values are written as numbers. Exit
// status 1 with the message on stderr when anything fails.
import { readFileSync, writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

async function main() {
  const [modelPath, inputsPath, outputsPath] = process.argv.slice(2);
  if (!outputsPath) throw new Error('usage: node ort_run.mjs MODEL.onnx INPUTS.json OUTPUTS.json');
  const inputs = JSON.parse(readFileSync(inputsPath, 'utf8'));
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'disabled', // evaluate the graph as written, op by op
    intraOpNumThreads: 1,
  });
  const runOne = async (inputs) => {
    const feeds = {};
    for (const name of session.inputNames) {
      const v = inputs[name];
      if (!v) throw new Error(`inputs JSON has no '${name}' (model inputs: ${session.inputNames.join(', ')})`);
      // The model's own input type where the JSON names none (token ids are int64).
      const meta = (session.inputMetadata ?? []).find((m) => m.name === name);
      const type = v.type ?? (meta?.isTensor && meta.type === 'int64' ? 'int64' : 'float32');
      const data = type === 'int64' ? BigInt64Array.from(v.data.map(BigInt)) : Float32Array.from(v.data);
      feeds[name] = new ort.Tensor(type, data, v.shape);
    }
    const results = await session.run(feeds);
    const out = {};
    for (const name of session.outputNames) {
      const t = results[name];
      out[name] = { type: t.type, shape: t.dims.map(Number), data: Array.from(t.data, Number) };
    }
    return out;
  };
  let out;
  if (Array.isArray(inputs)) {
    out = [];
    for (const sample of inputs) out.push(await runOne(sample));
  } else {
    out = await runOne(inputs);
  }
  writeFileSync(outputsPath, JSON.stringify(out));
}

main().catch((e) => {
  console.error(`ort_run: ${e?.message ?? e}`);
  process.exit(1);
});
