#!/bin/sh
# model_formats.sh — the same seed written as an HF directory (safetensors) and as GGUF gives
# the same logits (<= 1e-5 abs on F32; identical bits expected), a sharded HF directory equals the
# single-file one, a BF16 HF checkpoint equals its BF16 GGUF export, and `rrm info` agrees on the
# hyper-parameters. Also: a config.json whose shapes disagree with the weights is refused.
. tests/golden/lib.sh
require_node model_formats
NV=152064
TOKD=$SHARED/data/deepseek-r1-distill-qwen-7b
ids=$(random_ids 21 32)
shapes="tiny hd12-gqa7 hd64-mha"
[ -n "${RRM_TEST_REDUCED:-}" ] && shapes="tiny"
for s in $shapes; do
    d=$T/$s
    "$MKMODEL" --shape "$s" --seed 3 --out "$d/one" --gguf f32 --tokenizer-dir "$TOKD" >/dev/null 2>&1 &&
    "$MKMODEL" --shape "$s" --seed 3 --out "$d/sharded" --gguf none --shards 3 --tokenizer-dir "$TOKD" >/dev/null 2>&1 &&
    "$MKMODEL" --shape "$s" --seed 3 --out "$d/bf16" --gguf bf16 --hf-dtype bf16 --tokenizer-dir "$TOKD" >/dev/null 2>&1
    check "$s: mkmodel" test -f "$d/bf16/model-bf16.gguf"
    check "$s: sharded dir has an index" test -f "$d/sharded/model.safetensors.index.json"
    for v in one/model-f32.gguf one sharded bf16 bf16/model-bf16.gguf; do
        tag=$(echo "$v" | tr '/.' '__')
        check "$s: rrm logits $v" "$RRM" logits -m "$d/$v" --ids "$ids" --out "$d/$tag.f32"
    done
    check "$s: HF f32 dir == GGUF f32" node "$NODE_REF/compare_logits.mjs" "$d/one.f32" "$d/one_model-f32_gguf.f32" --n-vocab $NV --max-abs 1e-5 --label "$s hf-vs-gguf f32"
    check "$s: HF f32 dir == GGUF f32 (bitwise)" cmp "$d/one.f32" "$d/one_model-f32_gguf.f32"
    check "$s: HF bf16 dir == GGUF bf16 (bitwise)" cmp "$d/bf16.f32" "$d/bf16_model-bf16_gguf.f32"
    check "$s: sharded == single file (bitwise)" cmp "$d/one.f32" "$d/sharded.f32"
    check "$s: HF bf16 dir == GGUF bf16" node "$NODE_REF/compare_logits.mjs" "$d/bf16.f32" "$d/bf16_model-bf16_gguf.f32" --n-vocab $NV --max-abs 1e-5 --label "$s hf-vs-gguf bf16"
    "$RRM" info -m "$d/one" --json >"$d/i1.json" 2>&1
    "$RRM" info -m "$d/one/model-f32.gguf" --json >"$d/i2.json" 2>&1
    check "$s: rrm info agrees (HF vs GGUF)" node -e '
        const fs = require("fs");
        const a = JSON.parse(fs.readFileSync(process.argv[1])), b = JSON.parse(fs.readFileSync(process.argv[2]));
        const keys = ["arch","n_vocab","n_embd","n_head","n_head_kv","head_dim","n_ff","n_layer","n_ctx_train","rope_theta","tied_output","n_params"];
        const bad = keys.filter((k) => a[k] !== b[k] || a[k] === undefined);
        if (bad.length) { console.log("differ:", bad.map((k) => `${k} ${a[k]} vs ${b[k]}`).join(", ")); process.exit(1); }
        if (Math.abs(a.rms_norm_eps - b.rms_norm_eps) > 1e-12) { console.log("eps differ"); process.exit(1); }' "$d/i1.json" "$d/i2.json"
done
# config.json that disagrees with the weights: refused, naming the tensor.
d=$T/tiny/one
if [ -d "$d" ]; then
    sed 's/"intermediate_size": 160/"intermediate_size": 192/' "$d/config.json" >"$T/cfg" && cp "$T/cfg" "$d/config.json"
    check "config/weights mismatch is refused with a message" sh -c "! '$RRM' info -m '$d' >'$T/o' 2>&1 && grep -q 'ffn\|mlp\|gate\|intermediate\|160\|192' '$T/o'"
fi
summary model_formats
