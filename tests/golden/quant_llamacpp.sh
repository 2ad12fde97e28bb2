#!/bin/sh
# quant_llamacpp.sh — the 4/5/6-bit weight types against ggml / llama.cpp (node-llama-cpp 3.22.1):
#  1. tools/ggml_quant_check: rrm's quantize/dequantize of Q4_0..Q6_K (and Q8_0) bit for bit
#     against the libggml-base.so that node-llama-cpp ships (quantize_row_*_ref,
#     dequantize_row_*);
#  2. `rrm quantize` (of the GGUF file and of the HF directory) of random F32 models (shapes whose dims suit 256-blocks, plus hd64-mha whose
#     128-wide rows exercise llama.cpp's fallbacks) to Q4_0, Q4_K_M, Q5_K_M, Q6_K: the per-tensor
#     type mix, then llama.cpp and rrm logits over the full vocabulary on the same file. Stated
#     tolerance per type (ratio): rrm's logit NMSE against llama.cpp at most R x llama.cpp's own
#     NMSE between that file and the F32 file (rrm dequantizes the weights exactly; llama.cpp also
#     rounds the activations to 8 bits, so rrm is expected to sit well inside that noise).
# Measured (2026-12-06, this machine): rrm-vs-llama.cpp logit NMSE is 0.01-0.40x llama.cpp's own
# quantized-vs-F32 NMSE (q6_K highest: its weight error is smallest), so R = 0.5 for every type.
# The full matrix takes minutes (152,064-token vocabulary); CI=true / RRM_TEST_REDUCED: one
# 256-shape, Q4_K_M only, 16 positions (the bit-exact ggml check covers every type);
# RRM_TEST_REDUCED (sanitizer runs) also skips the llama.cpp logits (the release run has them).
. tests/golden/lib.sh
require_node quant_llamacpp
NV=152064
LIB=$NODE_REF/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so
if [ -f "$LIB" ]; then
    check "ggml quantize/dequantize bit-exact" "$BUILD/bin/ggml_quant_check" "$LIB" 48
else
    echo "quant_llamacpp: $LIB missing: ggml bit-exactness not checked"
fi
shapes="k256-a k256-b hd64-mha"
types="q4_0 q4_k_m q5_k_m q6_k"
ids=$(random_ids 21 48)
llama=1
[ -n "${RRM_TEST_REDUCED:-}" ] && llama=0
if [ "${CI:-}" = true ] || [ -n "${RRM_TEST_REDUCED:-}" ]; then
    shapes="k256-b"
    types="q4_k_m"
    ids=$(random_ids 21 16)
fi
shapes=${RRM_GOLDEN_SHAPES:-$shapes}
# max |dlogit|, probability NMSE, mean KL, top-1 share, and the ratio R above
tol() {
    case $1 in
    q6_k) echo "--max-abs 2 --nmse 2e-3 --kl 2e-3 --top1 0.9 --ratio 0.5" ;;
    *) echo "--max-abs 2 --nmse 1e-2 --kl 1e-2 --top1 0.8 --ratio 0.5" ;;
    esac
}
# expected tensor-type census of `rrm info` for the mixes (llama.cpp's llama_tensor_get_type)
census() {
    case "$1 $2" in
    "k256-b q4_k_m") echo "f32: 16 (13312 B) q4_K: 19" ;;
    "k256-b q5_k_m") echo "q5_K: 19" ;;
    "k256-b q4_0") echo "q4_0: 21" ;;
    # 128-wide rows: Q4_K -> Q5_0, attn_v of the last layer Q6_K -> Q8_0, output -> Q8_0
    "hd64-mha q4_k_m") echo "q5_0: 12 (12.92 MiB) q8_0: 2 (19.74 MiB) q4_K: 1 (18432 B) q6_K: 1" ;;
    *) echo "" ;;
    esac
}
for s in $shapes; do
    d=$T/$s
    if ! "$MKMODEL" --shape "$s" --seed 9 --out "$d" --gguf f32 --tokenizer-dir "$SHARED/data/deepseek-r1-distill-qwen-7b" >"$T/mk.log" 2>&1; then
        cat "$T/mk.log"
        g_fail=$((g_fail + 1))
        continue
    fi
    jobs="--logits $d/model-f32.gguf $d/ref-f32.f32"
    for ty in $types; do
        check "$s: rrm quantize $ty" "$RRM" quantize "$d/model-f32.gguf" "$d/q-$ty.gguf" --type "$ty"
        jobs="$jobs --logits $d/q-$ty.gguf $d/ref-$ty.f32"
        want=$(census "$s" "$ty")
        if [ -n "$want" ]; then
            check "$s $ty: tensor types ($want)" sh -c "'$RRM' info -m '$d/q-$ty.gguf' | grep -q '$want'"
        fi
    done
    # shellcheck disable=SC2086
    [ $llama = 1 ] && check "$s: llama.cpp logits" node "$NODE_REF/llamacpp_eval.mjs" --ids "$ids" $jobs
    for ty in $types; do
        check "$s $ty: rrm logits" "$RRM" logits -m "$d/q-$ty.gguf" --ids "$ids" --out "$d/rrm-$ty.f32" -t 2
        [ $llama = 1 ] || continue
        # shellcheck disable=SC2046
        check "$s $ty: rrm vs llama.cpp" node "$NODE_REF/compare_logits.mjs" "$d/rrm-$ty.f32" "$d/ref-$ty.f32" --n-vocab $NV --label "$s $ty" $(tol "$ty") --base "$d/ref-f32.f32"
    done
    # mkmodel --gguf shares the mix rules: same tensor types as rrm quantize
    if [ "$s" = k256-b ] && [ "$types" != q4_k_m ]; then
        "$MKMODEL" --shape "$s" --seed 9 --out "$d" --gguf q4_k_m --tokenizer-dir "$SHARED/data/deepseek-r1-distill-qwen-7b" >"$T/mk.log" 2>&1
        check "$s: mkmodel q4_k_m types == rrm quantize" sh -c "[ \"\$('$RRM' info -m '$d/model-q4_k_m.gguf' | grep 'tensor types')\" = \"\$('$RRM' info -m '$d/q-q4_k_m.gguf' | grep 'tensor types')\" ]"
    fi
    # from the Hugging Face directory (same weights, converted metadata): the same logits bits
    if [ "$s" = "${shapes%% *}" ]; then
        ty1=${types%% *}
        check "$s: rrm quantize HF dir $ty1" "$RRM" quantize "$d" "$d/hf-$ty1.gguf" --type "$ty1"
        check "$s $ty1: rrm logits from the HF-dir file" "$RRM" logits -m "$d/hf-$ty1.gguf" --ids "$ids" --out "$d/rrm-hf.f32" -t 2
        check "$s $ty1: HF-dir and GGUF quantize give identical logits" cmp "$d/rrm-hf.f32" "$d/rrm-$ty1.f32"
        # the model on the ref kernels: the same bits as the default (AVX-512 where available)
        check "$s $ty1: ref kernels" env RRM_KERNELS=ref "$RRM" logits -m "$d/q-$ty1.gguf" --ids "$ids" --out "$d/rrm-ref.f32" -t 2
        check "$s $ty1: ref and default kernels give identical logits" cmp "$d/rrm-ref.f32" "$d/rrm-$ty1.f32"
    fi
    # corrupt input: a quantized file cut inside its tensor data fails to load and to
    # requantize, and a failed quantize leaves nothing behind
    if [ "$s" = "${shapes%% *}" ]; then
        ty1=${types%% *}
        sz=$(wc -c <"$d/q-$ty1.gguf")
        head -c $((sz - 4096)) "$d/q-$ty1.gguf" >"$d/trunc.gguf"
        expect_fail "$s $ty1: truncated tensor data fails to load" "$RRM" info -m "$d/trunc.gguf"
        expect_fail "$s $ty1: truncated input fails to quantize" "$RRM" quantize "$d/trunc.gguf" "$d/out.gguf" --type q6_k
        check "$s: no output after a failure" sh -c "! ls '$d' | grep -q '^out.gguf'"
    fi
    rm -f "$d"/*.gguf "$d"/*.safetensors
done
summary quant_llamacpp
