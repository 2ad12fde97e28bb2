// render_jinja.mjs — golden check of rrm's chat templates against @huggingface/jinja (pinned in
// package.json) rendering the model's own chat_template text. One node process for everything:
// it generates N conversations per template from a seed, renders each with Jinja, runs
// `rrm template --batch` once per template (plus a few `--messages` runs for the plain CLI path),
// and compares the bytes. Prints "jinja: P passed, F failed" last; exit 1 on any failure.
//
//   node render_jinja.mjs --rrm BIN --tmp DIR [--n 60] [--seed 1]
//        --model FAMILY RRM_PATH REF_PATH [--model ...]
// RRM_PATH is what rrm loads (-m: HF dir, tokenizer_config.json, .jinja or .gguf); REF_PATH is
// the file node reads the template from independently (a tokenizer_config.json or a .jinja).
// FAMILY is the family rrm must detect (`rrm template --family`).
import { Template } from "@huggingface/jinja";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
const opt = { n: 60, seed: 1, models: [] };
for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--rrm") opt.rrm = args[++i];
    else if (a === "--tmp") opt.tmp = args[++i];
    else if (a === "--n") opt.n = Number(args[++i]);
    else if (a === "--seed") opt.seed = Number(args[++i]);
    else if (a === "--model") {
        opt.models.push({ family: args[i + 1], rrmPath: args[i + 2], refPath: args[i + 3] });
        i += 3;
    } else throw new Error(`render_jinja: unknown argument ${a}`);
}
if (!opt.rrm || !opt.tmp || !opt.models.length) throw new Error("render_jinja: need --rrm, --tmp, --model");

// BOS/EOS of each family when the reference file names none (a bare .jinja file).
const familyTokens = {
    "deepseek-r1": ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"],
    "deepseek-r1-think": ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"],
    "chatml-qwen2.5": ["", "<|im_end|>"],
    "chatml-qwen2": ["", "<|im_end|>"],
    llama3: ["<|begin_of_text|>", "<|eot_id|>"],
};
const withTool = new Set(["deepseek-r1", "deepseek-r1-think", "chatml-qwen2.5"]);

function tokenOf(v) {
    if (v === undefined || v === null) return null;
    return typeof v === "string" ? v : v.content;
}

function loadRef(family, ref) {
    const [dbos, deos] = familyTokens[family];
    if (ref.endsWith(".jinja")) return { text: fs.readFileSync(ref, "utf8"), bos: dbos, eos: deos };
    const cfg = JSON.parse(fs.readFileSync(ref, "utf8"));
    let text = cfg.chat_template;
    if (Array.isArray(text)) text = text.find((e) => e.name === "default").template;
    return { text, bos: tokenOf(cfg.bos_token) ?? dbos, eos: tokenOf(cfg.eos_token) ?? deos };
}

// mulberry32: a small seeded PRNG so every run generates the same conversations.
function rng(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

// Content pieces. Whitespace at the edges is limited to code points on which Python's
// str.strip() and JavaScript's trim() agree (Llama-3 trims content): no U+001C..U+001F, U+0085
// or U+FEFF (see src/template/llama3.c; unit tests cover those).
const pieces = [
    "Hello", "How do I detail a car?", "word ".repeat(7), "", " ", "  leading", "trailing  ",
    "\n\nnewlines\n", "\t tab \t", "\r\nCRLF\r\n", "\u00a0nbsp\u00a0", "\u3000ideographic\u3000",
    "\u2028line sep\u2029", "\u2003em\u2009thin\u200a", "héllo wörld", "日本語のテキスト",
    "中文，标点。", "नमस्ते दुनिया", "مرحبا بالعالم", "emoji 😀👨‍👩‍👧‍👦🏳️‍🌈", "e\u0301 combining",
    "{{ bos_token }}", "{% if true %}x{% endif %}", "{# comment #}", "<|im_start|>user\nfake<|im_end|>\n",
    "<｜User｜>forged<｜Assistant｜>", "<|eot_id|><|start_header_id|>system<|end_header_id|>\n\n",
    "<think>", "</think>", "<｜end▁of▁sentence｜>", "<tool_response>", "back\\slash \\n 'quote' \"dq\"",
    "```python\nprint('hi')\n```", "1. one\n2. two\n", "\\boxed{Assistant 1}", "tab\tinside",
];
const thinks = [
    "<think>\nLet me think.\n</think>\n\nThe answer is 4.", "<think>a</think>b</think>c",
    "</think>", "reasoning only </think>", "no think at all", "<think>unclosed reasoning",
    "</think>\n\n", "x</think></think>y", "<think>\n\n</think>",
];

function makeContent(r) {
    const k = Math.floor(r() * 4);
    let s = "";
    for (let i = 0; i < k; i++) s += pieces[Math.floor(r() * pieces.length)];
    if (r() < 0.03) s += "long ".repeat(800 + Math.floor(r() * 400));
    return s;
}

function makeConversation(r, family) {
    const msgs = [];
    if (r() < 0.5) msgs.push({ role: "system", content: makeContent(r) });
    const turns = Math.floor(r() * 7);
    let role = r() < 0.85 ? "user" : "assistant";
    for (let t = 0; t < turns; t++) {
        if (role === "assistant" && r() < 0.6) {
            const th = thinks[Math.floor(r() * thinks.length)];
            msgs.push({ role, content: r() < 0.5 ? th : makeContent(r) + th });
        } else {
            msgs.push({ role, content: makeContent(r) });
        }
        if (role === "assistant" && withTool.has(family) && r() < 0.25) {
            const k = 1 + Math.floor(r() * 3);
            for (let j = 0; j < k; j++) msgs.push({ role: "tool", content: makeContent(r) });
        }
        if (r() < 0.08) msgs.push({ role: "system", content: makeContent(r) });
        role = role === "user" ? "assistant" : "user";
    }
    if (family === "chatml-qwen2.5" && msgs.length === 0) msgs.push({ role: "user", content: "hi" });
    return msgs;
}

let pass = 0, fail = 0;
function report(ok, what) {
    if (ok) pass++;
    else {
        fail++;
        console.log(`FAIL ${what}`);
    }
}
function firstDiff(a, b) {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return i;
}
function show(buf, at) {
    return JSON.stringify(buf.subarray(Math.max(0, at - 40), at + 40).toString("utf8"));
}

fs.mkdirSync(opt.tmp, { recursive: true });
for (const m of opt.models) {
    const ref = loadRef(m.family, m.refPath);
    const tpl = new Template(ref.text);
    const r = rng(opt.seed * 7919 + m.family.length);
    const cases = [];
    for (let i = 0; i < opt.n; i++) {
        const messages = makeConversation(r, m.family);
        const gen = r() < 0.6;
        const expected = tpl.render({
            messages, bos_token: ref.bos, eos_token: ref.eos, add_generation_prompt: gen,
        });
        cases.push({ messages, add_generation_prompt: gen, expected });
    }
    const tag = `${m.family} (${path.basename(m.rrmPath)})`;
    // Detection: rrm must name the expected family.
    const fam = spawnSync(opt.rrm, ["template", "-m", m.rrmPath, "--family"], { encoding: "utf8" });
    report(fam.status === 0 && fam.stdout.split("\n")[0] === m.family,
        `${tag}: rrm template --family gave '${(fam.stdout || "").split("\n")[0]}' ${fam.stderr || ""}`);
    // Batch: one rrm process for all cases of this template.
    const file = path.join(opt.tmp, `${m.family}.cases.json`);
    fs.writeFileSync(file, JSON.stringify(cases.map(({ messages, add_generation_prompt }) => ({ messages, add_generation_prompt }))));
    const out = spawnSync(opt.rrm, ["template", "-m", m.rrmPath, "--batch", file], { maxBuffer: 1 << 28 });
    if (out.status !== 0) {
        report(false, `${tag}: rrm --batch exit ${out.status}: ${out.stderr}`);
        fail += cases.length - 1;
        continue;
    }
    const parts = [];
    let at = 0;
    for (let i = 0; i < out.stdout.length; i++) {
        if (out.stdout[i] === 0) {
            parts.push(out.stdout.subarray(at, i));
            at = i + 1;
        }
    }
    report(parts.length === cases.length && at === out.stdout.length,
        `${tag}: rrm printed ${parts.length} renderings for ${cases.length} cases`);
    let shown = 0;
    cases.forEach((c, i) => {
        const want = Buffer.from(c.expected, "utf8");
        const got = parts[i] ?? Buffer.alloc(0);
        const ok = want.equals(got);
        report(ok, `${tag} case ${i}`);
        if (!ok && shown++ < 3) {
            const d = firstDiff(want, got);
            console.log(`  messages: ${JSON.stringify(c.messages).slice(0, 400)}`);
            console.log(`  first difference at byte ${d}: jinja ${show(want, d)} vs rrm ${show(got, d)}`);
        }
    });
    // The plain CLI path (--messages FILE [--add-generation-prompt]) for the first 3 cases.
    for (let i = 0; i < Math.min(3, cases.length); i++) {
        const f = path.join(opt.tmp, `${m.family}.${i}.json`);
        fs.writeFileSync(f, JSON.stringify(cases[i].messages));
        const a = ["template", "-m", m.rrmPath, "--messages", f];
        if (cases[i].add_generation_prompt) a.push("--add-generation-prompt");
        const o = spawnSync(opt.rrm, a);
        report(o.status === 0 && Buffer.from(cases[i].expected, "utf8").equals(o.stdout),
            `${tag}: rrm template --messages case ${i} (exit ${o.status}) ${o.stderr}`);
    }
}
console.log(`jinja: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
