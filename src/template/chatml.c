/*
 * chatml.c — ChatML templates of the Qwen2 family (`<|im_start|>role\n...<|im_end|>\n`):
 *   chatml-qwen2.5  Qwen2.5-*-Instruct: messages[0] as system if it is one, else the default
 *                   "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
 *                   later system messages render like user ones; consecutive tool messages are
 *                   merged into one user turn of <tool_response> blocks. (The `tools` branch is
 *                   never taken: rrm passes no tools.) Needs at least one message.
 *   chatml-qwen2    Qwen2-*-Instruct / Qwen1.5-Chat: "You are a helpful assistant." when
 *                   messages[0] is not a system message; every message is rendered alike.
 * Template texts and their sources: tests/data/templates/PROVENANCE.md.
 */
#include "template/template.h"

static const char *const role_name[] = {"system", "user", "assistant", "tool"};

static int turn(struct tmpl_out *o, const char *role, const char *content)
{
    int rc = tmpl_put(o, "<|im_start|>");
    if (rc == RRM_OK) rc = tmpl_put(o, role);
    if (rc == RRM_OK) rc = tmpl_put(o, "\n");
    if (rc == RRM_OK) rc = tmpl_put_content(o, content);
    if (rc == RRM_OK) rc = tmpl_put(o, "<|im_end|>\n");
    return rc;
}

static int render_qwen25(const struct rrm_template *t, const rrm_message *m,
                         const unsigned char *role, size_t n, int add_gen, struct tmpl_out *o)
{
    (void)t;
    int rc = role[0] == TMPL_SYSTEM
                 ? turn(o, "system", m[0].content)
                 : turn(o, "system",
                        "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
    for (size_t i = 0; i < n && rc == RRM_OK; i++) {
        if (role[i] == TMPL_TOOL) {
            if (i == 0 || role[i - 1] != TMPL_TOOL) rc = tmpl_put(o, "<|im_start|>user");
            if (rc == RRM_OK) rc = tmpl_put(o, "\n<tool_response>\n");
            if (rc == RRM_OK) rc = tmpl_put_content(o, m[i].content);
            if (rc == RRM_OK) rc = tmpl_put(o, "\n</tool_response>");
            if (rc == RRM_OK && (i + 1 == n || role[i + 1] != TMPL_TOOL))
                rc = tmpl_put(o, "<|im_end|>\n");
        } else if (!(role[i] == TMPL_SYSTEM && i == 0)) {
            rc = turn(o, role_name[role[i]], m[i].content);
        }
    }
    if (rc == RRM_OK && add_gen) rc = tmpl_put(o, "<|im_start|>assistant\n");
    return rc;
}

static int render_qwen2(const struct rrm_template *t, const rrm_message *m,
                        const unsigned char *role, size_t n, int add_gen, struct tmpl_out *o)
{
    (void)t;
    int rc = RRM_OK;
    for (size_t i = 0; i < n && rc == RRM_OK; i++) {
        if (i == 0 && role[0] != TMPL_SYSTEM)
            rc = turn(o, "system", "You are a helpful assistant.");
        if (rc == RRM_OK) rc = turn(o, role_name[role[i]], m[i].content);
    }
    if (rc == RRM_OK && add_gen) rc = tmpl_put(o, "<|im_start|>assistant\n");
    return rc;
}

static const char *const qwen25_markers[] = {
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}",
    "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
    "assistant.<|im_end|>\\n' }}",
    "{%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or "
    "(message.role == \"assistant\" and not message.tool_calls) %}",
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}",
    "{%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}",
    "{{- '\\n<tool_response>\\n' }}",
    "{{- '\\n</tool_response>' }}",
    "{%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}",
    "{%- if add_generation_prompt %}",
    "{{- '<|im_start|>assistant\\n' }}",
    NULL};
/* Qwen3 / QwQ templates strip or insert <think> blocks: a different family. */
static const char *const qwen_forbidden[] = {"<think>", "reasoning_content", NULL};

static const char *const qwen2_markers[] = {
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}",
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    NULL};

const struct tmpl_family tmpl_chatml_qwen25 = {
    .name = "chatml-qwen2.5",
    .what = "ChatML, Qwen2.5-Instruct",
    .default_bos = "",
    .default_eos = "<|im_end|>",
    .roles = TMPL_ROLE_BIT(TMPL_SYSTEM) | TMPL_ROLE_BIT(TMPL_USER) |
             TMPL_ROLE_BIT(TMPL_ASSISTANT) | TMPL_ROLE_BIT(TMPL_TOOL),
    .min_msgs = 1,
    .render = render_qwen25,
    .markers = qwen25_markers,
    .forbidden = qwen_forbidden,
    .n_outputs = 24,
};

const struct tmpl_family tmpl_chatml_qwen2 = {
    .name = "chatml-qwen2",
    .what = "ChatML, Qwen2-Instruct / Qwen1.5-Chat",
    .default_bos = "",
    .default_eos = "<|im_end|>",
    .roles = TMPL_ROLE_BIT(TMPL_SYSTEM) | TMPL_ROLE_BIT(TMPL_USER) | TMPL_ROLE_BIT(TMPL_ASSISTANT),
    .min_msgs = 0,
    .render = render_qwen2,
    .markers = qwen2_markers,
    .forbidden = qwen_forbidden,
    .n_outputs = 3,
};
