#!/bin/sh
# kernels_parity.sh — every kernel set gives the same bits as ref at the model level: logits of
# 24 positions (rrm logits) for F32, F16, BF16 and Q8_0 GGUF exports of small random models,
# with 1 and 3 threads, and a greedy continuation (rrm generate) identical to ref's.
# Sets this CPU cannot run (RRM_KERNELS=<set> refused) are reported and skipped.
. tests/golden/lib.sh
TOKD=$SHARED/data/deepseek-r1-distill-qwen-7b
ids=$(random_ids 7 24)
sets=""
for k in avx512; do
    mkdir -p "$T/probe"
    "$MKMODEL" --shape tiny --seed 1 --out "$T/probe" --gguf f32 --tokenizer-dir "$TOKD" >/dev/null 2>&1
    if RRM_KERNELS=$k "$RRM" logits -m "$T/probe/model-f32.gguf" --ids "1 2" --out "$T/probe/l" >/dev/null 2>&1; then
        sets="$sets $k"
    else
        echo "kernels_parity: set $k not supported on this CPU, skipped"
    fi
done
shapes="tiny hd12-gqa7 hd64-mha hd128-gqa2"
[ -n "${RRM_TEST_REDUCED:-}" ] && shapes="tiny hd128-gqa2"
for s in $shapes; do
    d=$T/$s
    mkdir -p "$d"
    check "$s: mkmodel" "$MKMODEL" --shape "$s" --seed 5 --out "$d" --gguf f32,f16,bf16,q8_0 --tokenizer-dir "$TOKD"
    for ty in f32 f16 bf16 q8_0; do
        m=$d/model-$ty.gguf
        [ -f "$m" ] || continue
        RRM_KERNELS=ref "$RRM" logits -m "$m" --ids "$ids" --out "$d/ref-$ty.f32" -t 2 >/dev/null 2>&1
        RRM_KERNELS=ref "$RRM" generate -m "$m" --ids "$ids" -n 24 --temp 0 --ignore-eos >"$d/gen-ref-$ty.txt" 2>/dev/null
        check "$s $ty: ref logits and tokens" test -s "$d/ref-$ty.f32" -a -s "$d/gen-ref-$ty.txt"
        for k in $sets; do
            for nt in 1 3; do
                RRM_KERNELS=$k "$RRM" logits -m "$m" --ids "$ids" --out "$d/$k-$ty-$nt.f32" -t $nt >/dev/null 2>&1
                check "$s $ty: $k logits -t $nt == ref (bitwise)" cmp "$d/ref-$ty.f32" "$d/$k-$ty-$nt.f32"
            done
            RRM_KERNELS=$k "$RRM" generate -m "$m" --ids "$ids" -n 24 --temp 0 --ignore-eos -t 2 >"$d/gen-$k-$ty.txt" 2>/dev/null
            check "$s $ty: $k greedy tokens == ref" cmp "$d/gen-ref-$ty.txt" "$d/gen-$k-$ty.txt"
        done
    done
done
summary kernels_parity
