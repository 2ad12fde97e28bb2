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
if "$BUILD/bin/rrm" judge --help >/dev/null 2>&1; then
    P=${RRM_SHARED:-../shared}/data/rrm-protocol/car_detailing_prompt.json
    "$BUILD/bin/rrm" judge -m "$OUT" --example "$P" --max-tokens 64 --seed 1
else
    echo "demo: rrm judge is not built yet; generating from the BOS token instead"
    "$BUILD/bin/rrm" generate -m "$OUT/model-q8_0.gguf" --ids "151646 151644" -n 24 --temp 0.6 --seed 1
fi
