// compare_logits.mjs — compares two float32 logit files of shape (n_pos, n_vocab) and checks
// stated tolerances. Metrics per file pair: max |Δlogit|, NMSE of the softmax probabilities
// (Σ(p−q)² / Σq²), mean KL(q‖p) with q the reference, and top-1 agreement.
//   node compare_logits.mjs TEST.f32 REF.f32 --label L [--max-abs X] [--nmse Y] [--kl Z]
//        [--top1 F]   (F = minimum share of positions whose argmax agrees, default 0)
//        [--base BASE.f32 --ratio R]  also require LNMSE(TEST, REF) <= R * LNMSE(REF, BASE): with
//        BASE = the reference on the F32 export, rrm's distance from llama.cpp must stay within R
//        times llama.cpp's own distance between the quantized type and F32. LNMSE is the NMSE of
//        the logits after centring each row (logits are shift-invariant); it stays informative
//        when the softmax is nearly one-hot, where probability errors vanish below rounding.
// Prints one line "PASS label: ..." or "FAIL label: ..." and exits 0 / 1.
import fs from "node:fs";

const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const label = opt("--label", "logits");
const lim = {
    maxAbs: Number(opt("--max-abs", "Infinity")),
    nmse: Number(opt("--nmse", "Infinity")),
    kl: Number(opt("--kl", "Infinity")),
    top1: Number(opt("--top1", "0")),
};
const nVocab = Number(opt("--n-vocab", "0"));
const read = (p) => { const b = fs.readFileSync(p); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
const a = read(args[0]), b = read(args[1]);
if (a.length !== b.length || a.length === 0 || (nVocab && a.length % nVocab)) {
    console.log(`FAIL ${label}: sizes differ or empty (${a.length} vs ${b.length} floats)`);
    process.exit(1);
}
const nv = nVocab || a.length; // without --n-vocab the whole file is one row
const nPos = a.length / nv;
let maxAbs = 0, num = 0, den = 0, kl = 0, agree = 0, bad = 0;
function softmax(x, off) {
    let m = -Infinity;
    for (let i = 0; i < nv; i++) m = Math.max(m, x[off + i]);
    const p = new Float64Array(nv);
    let s = 0;
    for (let i = 0; i < nv; i++) { p[i] = Math.exp(x[off + i] - m); s += p[i]; }
    for (let i = 0; i < nv; i++) p[i] /= s;
    return p;
}
for (let r = 0; r < nPos; r++) {
    const off = r * nv;
    let am = 0, bm = 0;
    for (let i = 0; i < nv; i++) {
        const x = a[off + i], y = b[off + i];
        if (!Number.isFinite(x) || !Number.isFinite(y)) { bad++; continue; }
        maxAbs = Math.max(maxAbs, Math.abs(x - y));
        if (x > a[off + am]) am = i;
        if (y > b[off + bm]) bm = i;
    }
    if (am === bm) agree++;
    const p = softmax(a, off), q = softmax(b, off);
    for (let i = 0; i < nv; i++) {
        num += (p[i] - q[i]) ** 2;
        den += q[i] ** 2;
        if (q[i] > 0) kl += q[i] * (Math.log(q[i]) - Math.log(Math.max(p[i], 1e-300)));
    }
}
const nmse = num / den, klm = kl / nPos, top1 = agree / nPos;
let ratioOk = true, ratioTxt = "";
const basePath = opt("--base", null);
if (basePath) {
    const c = read(basePath);
    if (c.length !== b.length) { console.log(`FAIL ${label}: base size differs`); process.exit(1); }
    const lnmse = (x, y) => { // centred-logit NMSE of x against y
        let n2 = 0, d2 = 0;
        for (let r = 0; r < nPos; r++) {
            const off = r * nv;
            let mx = 0, my = 0;
            for (let i = 0; i < nv; i++) { mx += x[off + i]; my += y[off + i]; }
            mx /= nv; my /= nv;
            for (let i = 0; i < nv; i++) {
                const dx = x[off + i] - mx, dy = y[off + i] - my;
                n2 += (dx - dy) ** 2; d2 += dy ** 2;
            }
        }
        return n2 / d2;
    };
    const testErr = lnmse(a, b), refErr = lnmse(b, c), truthErr = lnmse(a, c);
    const R = Number(opt("--ratio", "2"));
    ratioOk = testErr <= R * refErr;
    ratioTxt = ` logit-NMSE vs ref ${testErr.toExponential(2)} = ${(testErr / refErr).toFixed(2)}x ` +
        `(<= ${R}x) ref-vs-f32 ${refErr.toExponential(2)}; rrm-vs-f32 ${truthErr.toExponential(2)}`;
}
const ok = bad === 0 && maxAbs <= lim.maxAbs && nmse <= lim.nmse && klm <= lim.kl && top1 >= lim.top1 && ratioOk;
console.log(`${ok ? "PASS" : "FAIL"} ${label}: positions ${nPos} max|dlogit| ${maxAbs.toExponential(2)} ` +
    `(<= ${lim.maxAbs}) prob-NMSE ${nmse.toExponential(2)} (<= ${lim.nmse}) KL ${klm.toExponential(2)} ` +
    `(<= ${lim.kl}) top1 ${(100 * top1).toFixed(1)}% (>= ${100 * lim.top1}%)${ratioTxt}${bad ? ` non-finite ${bad}` : ""}`);
process.exit(ok ? 0 : 1);
