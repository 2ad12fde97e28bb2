#!/bin/sh
# tools/demo.sh — the README's main job: make a random tiny Qwen2 judge (seeded, HF directory +
# GGUF with the DeepSeek-distill tokenizer) and run a judgment on it. Random weights give
# random reasoning, so the point is the pipeline, not the verdict. Needs `make` first.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${RRM_DEMO_DIR:-out/demo}
TOKD=${RRM_SHARED:-../shared}/data/deepseek-r1-distill-qwen-7b
if [ ! -f "$OUT/model-q8_0.gguf" ]; then
    echo "demo: making a random tiny model in $OUT"
    "$BUILD/bin/mkmodel" --shape hd64-mha --seed 1 --out "$OUT" --gguf f32,q8_0 --tokenizer-dir "$TOKD"
fi
"$BUILD/bin/rrm" info -m "$OUT/model-q8_0.gguf"
# The model card's example (tests/data/car_detailing, from ../shared/data/rrm-protocol), 4 votes
# that share one prefill. Random weights rarely write a \boxed{} verdict: expect "invalid".
C=tests/data/car_detailing
"$BUILD/bin/rrm" judge -m "$OUT" --query-file $C/query.txt --response-a $C/response_a.txt \
    --response-b $C/response_b.txt -k 4 --max-tokens 96 --think-budget 64 --seed 1 -t 2 --text
