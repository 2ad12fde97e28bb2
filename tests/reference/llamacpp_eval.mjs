// llamacpp_eval.mjs — llama.cpp (node-llama-cpp 3.22.1, prebuilt CPU binary) as the independent
// reference for rrm's forward pass (DESIGN.md §7). One process serves several models so the
// backend is initialised once.
//   node llamacpp_eval.mjs --ids "1 2 3" --logits MODEL.gguf OUT.f32 [--logits M2 O2 ...]
//        [--greedy MODEL.gguf N OUT.txt --greedy-ids "..."] [--kv f32|f16] [--threads N]
// --logits writes float32 little-endian logits of every position, shape (n_ids, n_vocab), as
// `rrm logits` does. --greedy continues --greedy-ids for N tokens with llama.cpp's greedy
// sampler (temperature 0) and writes the ids space-separated. The KV cache is F32 by default so
// the comparison sees only the weights' rounding, not the cache's.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import fs from "node:fs";

const args = process.argv.slice(2);
const one = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const parseIds = (s) => s.split(/[ ,]+/).filter((x) => x.length).map(Number);
const ids = parseIds(one("--ids", ""));
const kv = one("--kv", "f32").toUpperCase();
const threads = Number(one("--threads", "2"));
const jobs = [];
for (let i = 0; i < args.length; i++) {
    if (args[i] === "--logits") jobs.push({ kind: "logits", model: args[i + 1], out: args[i + 2] });
    if (args[i] === "--greedy") jobs.push({ kind: "greedy", model: args[i + 1], n: Number(args[i + 2]), out: args[i + 3] });
}
const greedyIds = parseIds(one("--greedy-ids", ""));

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });

async function withContext(modelPath, nTokens, fn) {
    const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
    const context = await model.createContext({
        contextSize: Math.max(64, nTokens + 8), batchSize: Math.max(nTokens, 1), sequences: 1,
        threads, flashAttention: false,
        experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv,
    });
    try { return await fn(model, context.getSequence()); }
    finally { await context.dispose(); await model.dispose(); }
}

async function logitsJob(job) {
    await withContext(job.model, ids.length, async (model, seq) => {
        const res = await seq.controlledEvaluate(ids.map((t) => [t, { generateNext: { logits: true } }]));
        let nv = model.tokens?.nTokens ?? 0;
        for (let i = 0; i < ids.length; i++) {
            const m = res[i]?.next?.logits;
            if (!m) throw new Error(`llama.cpp returned no logits for position ${i}`);
            for (const k of m.keys()) if (k + 1 > nv) nv = k + 1;
        }
        const fd = fs.openSync(job.out, "w");
        const row = new Float32Array(nv);
        for (let i = 0; i < ids.length; i++) {
            row.fill(-Infinity);
            for (const [tok, v] of res[i].next.logits) row[tok] = v;
            fs.writeSync(fd, Buffer.from(row.buffer));
        }
        fs.closeSync(fd);
    });
}

async function greedyJob(job) {
    await withContext(job.model, greedyIds.length + job.n, async (model, seq) => {
        const out = [];
        let input = greedyIds.slice();
        for (let g = 0; g < job.n; g++) {
            const items = input.map((t, i) => (i === input.length - 1
                ? [t, { generateNext: { token: true, options: { temperature: 0 } } }] : t));
            const res = await seq.controlledEvaluate(items);
            const tok = res[input.length - 1]?.next?.token;
            if (tok == null) throw new Error(`llama.cpp produced no token at step ${g}`);
            out.push(tok);
            input = [tok];
        }
        fs.writeFileSync(job.out, out.join(" "));
    });
}

for (const job of jobs) await (job.kind === "logits" ? logitsJob(job) : greedyJob(job));
console.log(JSON.stringify({ reference: "node-llama-cpp", version: "3.22.1", jobs: jobs.length, kv }));
process.exit(0);
