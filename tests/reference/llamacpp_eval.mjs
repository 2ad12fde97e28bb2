// llamacpp_eval.mjs — llama.cpp (node-llama-cpp, prebuilt CPU binary) as the independent
// reference for rrm's forward pass (DESIGN.md §7).
//   node llamacpp_eval.mjs MODEL.gguf --ids "1,2,3" --logits OUT.f32 [--greedy N --greedy-out F]
//        [--kv f32|f16] [--threads N]
// --logits writes float32 little-endian logits of every position, shape (n_ids, n_vocab),
// exactly like `rrm logits`. --greedy N continues the ids greedily for N tokens (argmax) and
// writes them space-separated to --greedy-out. Prints one JSON line with the versions used.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import fs from "node:fs";

const args = process.argv.slice(2);
const modelPath = args[0];
const opt = (name, def) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : def;
};
const ids = opt("--ids", "").split(/[ ,]+/).filter((s) => s.length).map(Number);
const logitsOut = opt("--logits", null);
const greedyN = Number(opt("--greedy", "0"));
const greedyOut = opt("--greedy-out", null);
const kv = opt("--kv", "f32").toUpperCase();
const threads = Number(opt("--threads", "2"));

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const context = await model.createContext({
    contextSize: Math.max(64, ids.length + greedyN + 8),
    batchSize: Math.max(ids.length, 1),
    sequences: 1,
    threads,
    flashAttention: false,
    experimentalKvCacheKeyType: kv,
    experimentalKvCacheValueType: kv,
});
const seq = context.getSequence();

function denseLogits(map, n) {
    const out = new Float32Array(n).fill(-Infinity);
    for (const [tok, v] of map) out[tok] = v;
    return out;
}

let nv = 0;
if (logitsOut) {
    const input = ids.map((t) => [t, { generateNext: { logits: true } }]);
    const res = await seq.controlledEvaluate(input);
    const rows = [];
    for (let i = 0; i < ids.length; i++) {
        const m = res[i]?.next?.logits;
        if (!m) throw new Error(`llama.cpp returned no logits for position ${i}`);
        if (nv === 0) nv = Math.max(...m.keys()) + 1;
        rows.push(m);
    }
    nv = Math.max(nv, ...rows.map((m) => Math.max(...m.keys()) + 1));
    const fd = fs.openSync(logitsOut, "w");
    for (const m of rows) fs.writeSync(fd, Buffer.from(denseLogits(m, nv).buffer));
    fs.closeSync(fd);
    await seq.clearHistory();
}
if (greedyN > 0) {
    const out = [];
    let input = ids.slice();
    // Greedy by hand: take the argmax of the raw logits each step.
    for (let g = 0; g < greedyN; g++) {
        const item = input.map((t, i) => (i === input.length - 1 ? [t, { generateNext: { logits: true } }] : t));
        const res = await seq.controlledEvaluate(item);
        const m = res[input.length - 1].next.logits;
        let best = -1, bestv = -Infinity;
        for (const [tok, v] of m) if (v > bestv || (v === bestv && tok < best)) { best = tok; bestv = v; }
        out.push(best);
        input = [best];
    }
    fs.writeFileSync(greedyOut, out.join(" "));
}
console.log(JSON.stringify({ reference: "node-llama-cpp", version: "3.22.1", n_ids: ids.length, n_vocab: nv, kv }));
await context.dispose();
await model.dispose();
process.exit(0);
