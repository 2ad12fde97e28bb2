#!/bin/sh
# model_llamacpp.sh — rrm's Qwen2 forward against llama.cpp (node-llama-cpp 3.22.1, CPU, KV cache
# in F32) on random models of several shapes, each exported as F32, F16, BF16 and Q8_0 GGUF.
# Per (shape, type): logits of every position of a 64-token sequence over the full 152,064-token
# vocabulary, within the stated tolerances, plus a ratio bound: rrm's probability NMSE against
# llama.cpp may be at most 2x llama.cpp's own NMSE between that type and F32 (both differ from
# the f32 math only by rounding). On F32: greedy 64-token continuations must be identical.
# A negative control (positions shifted by one) must fail the F32 tolerance.
. tests/golden/lib.sh
require_node model_llamacpp
NV=152064
shapes="tiny hd12-gqa7 hd64-mha hd128-gqa2"
types="f32 f16 bf16 q8_0"
if [ -n "${RRM_TEST_REDUCED:-}" ]; then shapes="tiny hd12-gqa7"; fi
shapes=${RRM_GOLDEN_SHAPES:-$shapes}
ids=$(random_ids 11 64)
ids16=$(random_ids 12 16)
# Stated tolerances: max |dlogit|, probability NMSE, mean KL, share of top-1 agreement.
tol() {
    case $1 in
    f32) echo "--max-abs 1e-3 --nmse 1e-9 --kl 1e-8 --top1 1" ;;
    f16) echo "--max-abs 0.1 --nmse 1e-5 --kl 2e-5 --top1 0.95 --ratio 2" ;;
    bf16) echo "--max-abs 0.6 --nmse 5e-4 --kl 5e-4 --top1 0.9 --ratio 2" ;;
    q8_0) echo "--max-abs 2 --nmse 5e-3 --kl 5e-3 --top1 0.85 --ratio 2" ;;
    esac
}
for s in $shapes; do
    d=$T/$s
    if ! "$MKMODEL" --shape "$s" --seed 7 --out "$d" --gguf f32,f16,bf16,q8_0 --tokenizer-dir "$SHARED/data/deepseek-r1-distill-qwen-7b" >"$T/mk.log" 2>&1; then
        cat "$T/mk.log"
        g_fail=$((g_fail + 1))
        continue
    fi
    # One node process per shape: llama.cpp's logits for every type, and its greedy continuation.
    jobs=""
    for ty in $types; do jobs="$jobs --logits $d/model-$ty.gguf $d/ref-$ty.f32"; done
    # shellcheck disable=SC2086
    check "$s: llama.cpp logits + greedy" node "$NODE_REF/llamacpp_eval.mjs" --ids "$ids" $jobs \
        --greedy "$d/model-f32.gguf" 64 "$d/g-ref.txt" --greedy-ids "$ids16"
    for ty in $types; do
        m=$d/model-$ty.gguf
        check "$s $ty: rrm logits" "$RRM" logits -m "$m" --ids "$ids" --out "$d/rrm-$ty.f32" -t 2
        base=""
        [ "$ty" = f32 ] || base="--base $d/ref-f32.f32"
        # shellcheck disable=SC2046
        check "$s $ty: rrm vs llama.cpp" node "$NODE_REF/compare_logits.mjs" "$d/rrm-$ty.f32" "$d/ref-$ty.f32" --n-vocab $NV --label "$s $ty" $(tol "$ty") $base
    done
    # Greedy continuation, F32: identical ids.
    "$RRM" generate -m "$d/model-f32.gguf" --ids "$ids16" -n 64 --temp 0 --ignore-eos >"$d/g-rrm.txt" 2>"$d/g.err"
    check "$s f32: greedy 64 tokens identical" sh -c "[ \"\$(tr -d '\n' < '$d/g-rrm.txt')\" = \"\$(cat '$d/g-ref.txt')\" ] && [ -s '$d/g-ref.txt' ]"
    echo "$s greedy: $(tr ' ' '\n' < "$d/g-ref.txt" | sort -u | wc -l) distinct of 64 ids"
    # Negative control: llama.cpp's logits shifted by one position must not pass as F32.
    if [ "$s" = tiny ]; then
        dd if="$d/ref-f32.f32" of="$d/shift.f32" bs=$((NV * 4)) skip=1 2>/dev/null
        dd if="$d/rrm-f32.f32" of="$d/cut.f32" bs=$((NV * 4)) count=63 2>/dev/null
        expect_fail "$s: shifted positions must fail" node "$NODE_REF/compare_logits.mjs" "$d/cut.f32" "$d/shift.f32" --n-vocab $NV $(tol f32)
    fi
    rm -f "$d"/*.gguf "$d"/*.safetensors
done
summary model_llamacpp
