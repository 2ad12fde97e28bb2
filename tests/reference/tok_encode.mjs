// tok_encode.mjs — @lenml/tokenizers 3.7.2 (a port of HF tokenizers / transformers.js) as the
// independent reference for rrm's tokenizer (DESIGN.md §7).
//   node tok_encode.mjs --corpus REWARDBENCH.jsonl OUT.jsonl
//        writes the test corpus: every RewardBench prompt/chosen/rejected plus seeded edge cases,
//        one JSON string per line (lone-surrogate cases last, marked by a "\ud800" escape)
//   node tok_encode.mjs --encode TOKENIZER.json CONFIG.json|- IN.jsonl OUT.txt [--no-special]
//        [--encode ...]   one line of space-separated ids per input line, as
//        tokenizer.encode(text, {add_special_tokens: false}); --no-special drops every added token
//        first (all text is ordinary text); "error" for a line the reference cannot encode
//   node tok_encode.mjs --llamacpp MODEL.gguf IN.jsonl OUT.txt
//        llama.cpp's ids (node-llama-cpp 3.22.1, model.tokenize(text, true): specials parsed)
import { TokenizerLoader } from "@lenml/tokenizers";
import fs from "node:fs";

const args = process.argv.slice(2);

function lcg(seed) {
    let s = BigInt(seed);
    return () => {
        s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
        return Number(s >> 33n) / 2 ** 31;
    };
}

function edgeCases() {
    const rnd = lcg(20250101);
    const pick = (a) => a[Math.floor(rnd() * a.length)];
    const out = [];
    const ws = [" ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n", "\n ", "\u00a0", "\u3000",
        "\t\t", " \r\n ", "\r\r\n", "\u2028", "\f", "\v"];
    const words = ["hello", "World", "the", "a", "I", "x", "ünïcödé", "naïve", "café", "Straße",
        "東京", "你好", "世界", "こんにちは", "한국어", "नमस्ते", "दुनिया", "مرحبا", "العالم", "שלום",
        "Привет", "Ελληνικά", "ไทย", "🚀", "🔥", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "❤️", "🧑🏿‍💻",
        "x2", "foo_bar", "camelCase", "SHOUT", "Ω", "µ", "½", "Ⅻ", "①", "٣", "१२३", "'", "\"",
        "...", "—", "–", "«»", "<", ">", "</", "/>", "{", "}", "()", "[]", "#", "$", "%", "&&",
        "||", "=>", "::", ";", "@", "\\", "`", "~", "^", "|"];
    const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];
    const caseMix = (s) => [...s].map((c) => (rnd() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join("");
    // whitespace runs and mixed newlines
    for (let i = 0; i < 400; i++) {
        let s = "";
        const n = 1 + Math.floor(rnd() * 8);
        for (let k = 0; k < n; k++) s += (rnd() < 0.6 ? pick(ws).repeat(1 + Math.floor(rnd() * 4)) : "") + pick(words);
        if (rnd() < 0.5) s += pick(ws).repeat(1 + Math.floor(rnd() * 5));
        out.push(s);
    }
    // digits
    for (let i = 0; i < 300; i++) {
        let d = "";
        const n = 1 + Math.floor(rnd() * 24);
        for (let k = 0; k < n; k++) d += String(Math.floor(rnd() * 10));
        out.push(pick(["", "x", "$", " ", "v", "-", "3.", "pi="]) + d + pick(["", ".5", "%", " apples", "th", ",000", "e10", "\n"]));
    }
    // contractions in any case
    for (let i = 0; i < 300; i++) {
        const w = pick(["I", "you", "they", "it", "we", "he", "don", "can", "Shouldn", "O", "rock 'n' roll", ""]);
        out.push(caseMix(w + pick(contractions)) + pick(["", " go", "!", " ", "'", pick(contractions)]));
    }
    // NFC matters: combining marks, decomposed forms, compatibility and exclusions
    const nfc = ["e\u0301", "E\u0301", "a\u0308", "A\u030a", "\u212b", "o\u0302\u0301", "\u1e9b\u0323",
        "q\u0307\u0323", "\u1100\u1161\u11a8", "\u0958", "\u09cb", "n\u0303o", "ﬁ", "ｶﾞ", "\u0041\u0300\u0316",
        "\u00c5", "\u0345", "\u0301", "\u0301\u0301", "i\u0307", "\u2126", "\u1f71", "\u0387", "\u1e0b\u0323"];
    for (let i = 0; i < 300; i++) {
        let s = "";
        const n = 1 + Math.floor(rnd() * 5);
        for (let k = 0; k < n; k++) s += pick(nfc) + (rnd() < 0.4 ? pick(words) : "") + (rnd() < 0.3 ? " " : "");
        out.push(s);
    }
    // scripts and emoji
    for (let i = 0; i < 300; i++) {
        let s = "";
        const n = 1 + Math.floor(rnd() * 10);
        for (let k = 0; k < n; k++) s += pick(words) + (rnd() < 0.5 ? pick([" ", "", "\n", ", ", "。", "、"]) : "");
        out.push(s);
    }
    // code
    const code = ["def f(x):\n    return x * 2\n", "int main(void) {\n\treturn 0;\n}\n", "for (i = 0; i < n; i++) a[i] += b[i];",
        "const x = {a: 1, 'b': [2, 3]};\n", "SELECT * FROM t WHERE id = 42;", "#include <stdio.h>\n", "    if x:\n        pass\n\n\n",
        "<div class=\"a\">&nbsp;</div>", "$ echo \"$HOME\" | grep -v '^#'", "λx. x + 1", "```python\nprint('hi')\n```",
        "fn main() -> Result<(), Box<dyn Error>> {}", "x = y // 2 ** 3 %% 4", "\\begin{equation} \\frac{a}{b} \\end{equation}"];
    for (let i = 0; i < 200; i++) out.push(pick(code) + (rnd() < 0.5 ? pick(code) : "") + pick(ws).repeat(Math.floor(rnd() * 3)));
    // added tokens inside text (special vs plain), partial tokens
    const toks = ["<think>", "</think>", "<｜User｜>", "<｜Assistant｜>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<tool_call>", "<|EOT|>", "<thin", "</think", "<｜User", "<<think>>"];
    for (let i = 0; i < 250; i++) {
        let s = "";
        const n = 1 + Math.floor(rnd() * 6);
        for (let k = 0; k < n; k++) s += (rnd() < 0.5 ? pick(toks) : "") + (rnd() < 0.5 ? pick(ws) : "") + pick(words);
        out.push(s);
    }
    // random characters (BMP and astral), long runs (heap BPE path)
    for (let i = 0; i < 150; i++) {
        let s = "";
        const n = 1 + Math.floor(rnd() * 30);
        for (let k = 0; k < n; k++) {
            let cp = rnd() < 0.6 ? 32 + Math.floor(rnd() * 95) : rnd() < 0.8 ? 0xa0 + Math.floor(rnd() * 0x3000) : 0x1f300 + Math.floor(rnd() * 0x400);
            s += String.fromCodePoint(cp);
        }
        out.push(s);
    }
    out.push(" ".repeat(3000), "a".repeat(2500), "ab".repeat(1500), "\n".repeat(700) + "x", "🙂".repeat(400),
        "1".repeat(1000), "ab cd ".repeat(700), ("x" + " ".repeat(50)).repeat(40), "", " ", "\n", "\u0000", "a\u0000b");
    return out;
}

if (args[0] === "--corpus") {
    const lines = [];
    for (const line of fs.readFileSync(args[1], "utf8").split("\n")) {
        if (!line.trim()) continue;
        const row = JSON.parse(line);
        for (const k of ["prompt", "chosen", "rejected"]) if (typeof row[k] === "string") lines.push(row[k]);
    }
    const rb = lines.length;
    lines.push(...edgeCases());
    // lone surrogates last: rrm must reject them (they are not Unicode scalar values)
    const sur = ["a\ud800b", "\udc00", "x\ud83d"];
    fs.writeFileSync(args[2], lines.map((s) => JSON.stringify(s)).join("\n") + "\n" + sur.map((s) => JSON.stringify(s)).join("\n") + "\n");
    console.log(JSON.stringify({ rewardbench: rb, edge: lines.length - rb, surrogates: sur.length }));
    process.exit(0);
}

const jobs = [];
for (let i = 0; i < args.length; i++) {
    if (args[i] === "--encode") {
        jobs.push({ tok: args[i + 1], cfg: args[i + 2], input: args[i + 3], out: args[i + 4],
            noSpecial: args[i + 5] === "--no-special" });
    }
}
const readLines = (p) => fs.readFileSync(p, "utf8").split("\n").filter((l) => l.length);
const li = args.indexOf("--llamacpp");
if (li >= 0) {
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: args[li + 1], gpuLayers: 0, vocabOnly: true });
    const res = readLines(args[li + 2]).map((line) => {
        try { return Array.from(model.tokenize(JSON.parse(line), true)).join(" "); }
        catch (e) { return "error"; }
    });
    fs.writeFileSync(args[li + 3], res.join("\n") + "\n");
    await model.dispose();
}
for (const job of jobs) {
    const tokenizerJSON = JSON.parse(fs.readFileSync(job.tok, "utf8"));
    let tokenizerConfig = job.cfg === "-" ? {} : JSON.parse(fs.readFileSync(job.cfg, "utf8"));
    if (job.noSpecial) {
        tokenizerJSON.added_tokens = [];
        tokenizerConfig = {};
    }
    const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
    const res = [];
    for (const line of readLines(job.input)) {
        try {
            res.push(tok.encode(JSON.parse(line), { add_special_tokens: false }).join(" "));
        } catch (e) {
            res.push("error");
        }
    }
    fs.writeFileSync(job.out, res.join("\n") + "\n");
}
console.log(JSON.stringify({ reference: "@lenml/tokenizers", version: "3.7.2", jobs: jobs.length }));
process.exit(0);
