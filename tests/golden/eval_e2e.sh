#!/bin/sh
# eval_e2e.sh — `rrm eval` / `rrm eval-merge` end to end on a random tiny model (tools/mkmodel,
# real DeepSeek-distill tokenizer), k small and few new tokens so the whole script takes seconds:
#   - --limit 8 on each shipped benchmark: report.json/.md/.svg, 8 result rows with subset, id,
#     verdicts, votes, reasoning, token counts and seconds; the overall score recomputed here
#     from results.jsonl (random weights give invalid verdicts: the 0.5 rule decides);
#   - jsonl:FILE with malformed rows: --on-bad-row fail names file:line, skip reports each one;
#   - resume: SIGKILL mid-run + a torn last line, rerun == uninterrupted run, row for row;
#   - a rerun with other settings is refused; sharded (2 shards, other batch size, a small KV
#     cap) + merged == unsharded (report identical but for timing; results but for seconds).
. tests/golden/lib.sh
M=$T/m
"$MKMODEL" --shape tiny --seed 1 --out "$M" --gguf f32 --tokenizer-dir "$SHARED/data/deepseek-r1-distill-qwen-7b" >"$T/mk.log" 2>&1 || { cat "$T/mk.log"; echo "eval_e2e: 0 passed, 1 failed"; exit 1; }
G=$M/model-f32.gguf
# --n-batch 64: a 64-row logits buffer instead of 512 x 152064 floats (results do not change).
E() { "$RRM" eval -m "$G" --max-tokens 4 --n-batch 64 --data "$SHARED/data" "$@"; }
# jcheck FILE JS-EXPRESSION: d = the parsed JSON file, rows = its results.jsonl (same folder).
jcheck() { node -e 'const fs=require("fs"), p=require("path"); const d=JSON.parse(fs.readFileSync(process.argv[1])); const rf=p.join(p.dirname(process.argv[1]),"results.jsonl"); const rows=fs.existsSync(rf)?fs.readFileSync(rf,"utf8").split("\n").filter((l)=>l).map((l)=>JSON.parse(l)):[]; const ok=eval(process.argv[2]); if(!ok){console.log("false:", process.argv[2]); process.exit(1);}' "$1" "$2"; }
# same_rows DIR1 DIR2: results.jsonl equal row for row, ignoring the seconds.
same_rows() { node -e 'const fs=require("fs"); const rd=(d)=>fs.readFileSync(d+"/results.jsonl","utf8").split("\n").filter((l)=>l).map((l)=>{const o=JSON.parse(l); delete o.seconds; return JSON.stringify(o);}); const a=rd(process.argv[1]), b=rd(process.argv[2]); if (a.length===0 || a.join("\n")!==b.join("\n")) {console.log("rows differ:", a.length, b.length); process.exit(1);}' "$1" "$2"; }
# same_report DIR1 DIR2: report.json equal without "timing", report.md without its Time: line,
# report.svg byte for byte.
same_report() { node -e 'const fs=require("fs"); const j=(d)=>{const o=JSON.parse(fs.readFileSync(d+"/report.json")); delete o.timing; return JSON.stringify(o);}; const m=(d)=>fs.readFileSync(d+"/report.md","utf8").split("\n").filter((l)=>!l.startsWith("Time:")).join("\n"); const a=process.argv[1], b=process.argv[2]; if (j(a)!==j(b)) {console.log("report.json differs"); process.exit(1);} if (m(a)!==m(b)) {console.log("report.md differs"); process.exit(1);} if (!fs.readFileSync(a+"/report.svg").equals(fs.readFileSync(b+"/report.svg"))) {console.log("svg differs"); process.exit(1);}' "$1" "$2"; }

# --limit 8 on each benchmark (llmbar with 2 votes at temperature 1, one row per batch: it is
# also the reference run of the resume and shard checks below). Sanitizer runs
# (RRM_TEST_REDUCED) keep llmbar only: the readers of the others run in test_eval.
R="--bench llmbar --limit 8 -k 2 --temp 1.0 --seed 5"
BENCHES="rewardbench pandalm llmbar judgebench"
[ -n "${RRM_TEST_REDUCED:-}" ] && BENCHES=llmbar
for b in $BENCHES; do
    o="--bench $b --limit 8"
    [ $b = llmbar ] && o="$R --batch 1"
    E $o --out "$T/$b" >"$T/$b.out" 2>"$T/$b.err"; rc=$?
    check "$b --limit 8: exit 0" sh -c "[ $rc -eq 0 ] || { cat '$T/$b.err'; exit 1; }"
    check "$b: 8 complete rows with every field" jcheck "$T/$b/report.json" 'const k = d.settings.k; d.rows === 8 && d.complete && rows.length === 8 && rows.every((r) => typeof r.subset === "string" && typeof r.id === "string" && r.verdicts.length === k && r.reasoning.length === k && r.tokens.length === k && r.tokens[0] >= 1 && r.prompt_tokens > 0 && r.seconds > 0 && r.votes.a + r.votes.b + r.votes.invalid === k)'
    check "$b: overall recomputed from results.jsonl" jcheck "$T/$b/report.json" 'const nt = rows.filter((r) => r.gold !== "tie"); const s = nt.reduce((t, r) => t + (r.winner === null ? 0.5 : r.winner === r.gold ? 1 : 0), 0) / nt.length; const votes = rows.reduce((t, r) => t + r.picks.length, 0); Math.abs(d.overall - 100 * s) < 1e-6 && Math.abs(d.invalid_vote_rate - 100 * rows.reduce((t, r) => t + r.picks.filter((p) => p === null).length, 0) / votes) < 1e-6'
    check "$b: report.md and report.svg" sh -c "grep -q '## Subsets' '$T/$b/report.md' && grep -q '^Time:' '$T/$b/report.md' && head -c 4 '$T/$b/report.svg' | grep -q '<svg' && grep -q '<rect' '$T/$b/report.svg' && grep -q '^overall:' '$T/$b.out'"
done
mv "$T/llmbar" "$T/ref"
check "k = 2: accuracy vs k in the report and the chart" sh -c "grep -q 'Accuracy vs k' '$T/ref/report.md' && grep -q 'k=2' '$T/ref/report.svg'"
check "plain log lines when stdout is not a terminal" grep -q '^eval: 8/8 rows' "$T/llmbar.out"
if [ -z "${RRM_TEST_REDUCED:-}" ]; then
check "rewardbench: the paper's numbers beside ours" sh -c "grep -q '82.2' '$T/rewardbench/report.md' && grep -q '84.8' '$T/rewardbench/report.md'"
check "pandalm: agreement and the non-tie accuracy" jcheck "$T/pandalm/report.json" 'typeof d.agreement === "number" && d.reference.some((r) => r.value === 72.9)'

# Generic JSONL with malformed rows.
J=$T/mine.jsonl
{
    printf '%s\n' '{"id": "a", "prompt": "2+2?", "chosen": "4", "rejected": "5"}'
    printf '%s\n' '{"id": "b", "subset": "t", "prompt": "q", "response1": "x", "response2": "y", "label": 2}'
    printf '%s\n' '{"id": "c", "subset": "t", "prompt": "q", "response1": "x", "response2": "y", "label": 0}'
    printf '%s\n' '{"id": "a", "prompt": "dup", "chosen": "1", "rejected": "2"}'
    printf '%s\n' '{"id": "d", "prompt": ["x"], "chosen": "1", "rejected": "2"}'
    printf '{"id": "e", "prompt": "\377bad", "chosen": "1", "rejected": "2"}\n'
    printf '%s\n' '{"id": "f", "prompt": "q"}'
} >"$J"
E --bench "jsonl:$J" --out "$T/j1" >"$T/j1.out" 2>"$T/j1.err"; rc=$?
check "jsonl bad rows, fail (default): exit 1 naming file:line" sh -c "[ $rc -eq 1 ] && grep -q 'mine.jsonl:4:' '$T/j1.err' && grep -q duplicate '$T/j1.err'"
E --bench "jsonl:$J" --out "$T/j2" --on-bad-row skip >"$T/j2.out" 2>"$T/j2.err"; rc=$?
check "jsonl bad rows, skip: each reported, 3 rows judged" sh -c "[ $rc -eq 0 ] && [ \$(grep -c 'skipped' '$T/j2.err') -eq 4 ] && grep -q 'mine.jsonl:5:.*not a string' '$T/j2.err' && grep -q 'mine.jsonl:6:' '$T/j2.err' && grep -q 'mine.jsonl:7:.*needs' '$T/j2.err'"
# A prompt longer than the model's context (4096): that row is recorded as not judged (no
# decision), the rest of its batch is judged.
node -e 'const w=[]; for (let i = 0; i < 5000; i++) w.push("word" + i); const rows=[{id: "long", prompt: w.join(" "), chosen: "a", rejected: "b"}, {id: "short", prompt: "q", chosen: "a", rejected: "b"}]; require("fs").writeFileSync(process.argv[1], rows.map((r) => JSON.stringify(r)).join("\n") + "\n")' "$T/long.jsonl"
E --bench "jsonl:$T/long.jsonl" --out "$T/long" >/dev/null 2>"$T/long.err"; rc=$?
check "a prompt over the context: row not judged, the other judged" sh -c "[ $rc -eq 0 ] && grep -q 'not judged' '$T/long.err'"
check "not-judged row: error recorded, counted, scored as no decision" jcheck "$T/long/report.json" 'd.rows === 2 && d.rows_not_judged === 1 && rows[0].id === "long" && /context/.test(rows[0].error) && rows[0].winner === null && rows[0].score === 0.5 && !rows[1].error && rows[1].tokens[0] > 0'
E --bench judgebench --limit 2 --both-orders --out "$T/jb2" >/dev/null 2>"$T/jb2.err"
check "judgebench --both-orders: 2 orders per row, official rule (no decision scores 0)" jcheck "$T/jb2/report.json" 'd.settings.both_orders && rows.length === 2 && rows.every((r) => r.orders === 2 && r.picks.length === 2 && r.reasoning.length === 2 && (r.winner !== null || r.score === 0))'
check "judgebench --both-orders: the rule is stated in report.md" grep -q 'JudgeBench official' "$T/jb2/report.md"
check "jsonl: subsets, a tie row, agreement" jcheck "$T/j2/report.json" 'd.rows === 3 && d.subsets.length === 2 && d.subsets[1].ties === 1 && typeof d.agreement === "number"'
fi

# Resume after SIGKILL (and a torn last line) == the uninterrupted reference run.
"$RRM" eval -m "$G" --max-tokens 4 --n-batch 64 --data "$SHARED/data" $R --batch 1 --out "$T/res" >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 1000 ]; do
    n=$(cat "$T/res/results.jsonl" 2>/dev/null | wc -l)
    [ "$n" -ge 1 ] && break # the earliest moment: 7 rows still to go
    sleep 0.02
    i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
n_killed=$(wc -l <"$T/res/results.jsonl")
check "killed mid-run ($n_killed of 8 rows written)" test "$n_killed" -lt 8
printf '{"subset":"natural","id":"9' >>"$T/res/results.jsonl" # a write torn by the kill
E $R --batch 1 --out "$T/res" >/dev/null 2>"$T/res.err"; rc=$?
check "rerun after the kill: exit 0, torn line dropped" sh -c "[ $rc -eq 0 ] && grep -q torn '$T/res.err' && grep -q resuming '$T/res.err'"
check "resumed == uninterrupted, row for row" same_rows "$T/ref" "$T/res"
check "resumed report == uninterrupted report" same_report "$T/ref" "$T/res"
E $R --batch 1 --out "$T/res" >/dev/null 2>&1
check "a third run adds nothing" jcheck "$T/res/report.json" 'rows.length === 8'

# Other settings into the same folder: refused.
E --bench llmbar --limit 8 -k 1 --temp 1.0 --seed 5 --out "$T/ref" >/dev/null 2>"$T/mm.err"; rc=$?
check "other k: refused with the difference named" sh -c "[ $rc -eq 1 ] && grep -q 'other settings' '$T/mm.err' && grep -q 'k (votes): 2 vs 1' '$T/mm.err'"
E --bench llmbar --limit 8 -k 2 --temp 1.0 --seed 6 --out "$T/ref" >/dev/null 2>"$T/mm.err"; rc=$?
check "other seed: refused" sh -c "[ $rc -eq 1 ] && grep -q seed '$T/mm.err'"

# Sharded + merged == unsharded. The shards use the default batch of 16 rows (the reference used
# 1), and shard 1 a KV cap of 1000 tokens, less than its 4 rows x 2 votes need at once, so rows
# wait for each other's blocks: neither changes a row's result.
E $R --shard 1/2 --kv-tokens 1000 --out "$T/s1" >/dev/null 2>&1
E $R --shard 2/2 --out "$T/s2" >/dev/null 2>&1
check "shards hold 4 + 4 rows" sh -c "[ \$(cat '$T/s1/results.jsonl' | wc -l) -eq 4 ] && [ \$(cat '$T/s2/results.jsonl' | wc -l) -eq 4 ]"
"$RRM" eval-merge --out "$T/merged" "$T/s2" "$T/s1" >"$T/merge.out" 2>&1; rc=$?
check "eval-merge: exit 0" sh -c "[ $rc -eq 0 ] || { cat '$T/merge.out'; exit 1; }"
check "merged rows == unsharded rows" same_rows "$T/ref" "$T/merged"
check "merged report == unsharded report" same_report "$T/ref" "$T/merged"
"$RRM" eval-merge --out "$T/m2" "$T/s1" "$T/s1" >/dev/null 2>"$T/e"; rc=$?
check "eval-merge: a shard twice is refused" sh -c "[ $rc -eq 1 ] && grep -q twice '$T/e'"
"$RRM" eval-merge --out "$T/m3" "$T/s1" >/dev/null 2>"$T/e"; rc=$?
check "eval-merge: a missing shard gives a partial report" sh -c "[ $rc -eq 0 ] && grep -q missing '$T/e'"
check "partial merge is marked incomplete" jcheck "$T/m3/report.json" 'd.rows === 4 && d.rows_expected === 8 && !d.complete'
E $R --shard 3/2 --out "$T/x" >/dev/null 2>&1; rc=$?
check "--shard 3/2: usage error" test $rc -eq 2
E --bench nosuch --out "$T/x" >/dev/null 2>"$T/e"; rc=$?
check "unknown benchmark: clear error" sh -c "[ $rc -eq 1 ] && grep -q 'unknown benchmark' '$T/e'"
summary eval_e2e
