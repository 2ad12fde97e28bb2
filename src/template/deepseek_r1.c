/*
 * deepseek_r1.c — the DeepSeek-R1 / R1-distill chat template, both variants: January 2025
 * (deepseek-ai/DeepSeek-R1-Distill-Qwen-* tokenizer_config.json, DeepSeek commit ca24ee48, see
 * ../shared/data/deepseek-r1-distill-qwen-7b/PROVENANCE.md) and the later one whose generation
 * prompt ends with `<think>\n` (../shared/data/rrm-protocol/newer_template.jinja). What the Jinja
 * does, statement by statement:
 *   - ns.system_prompt = content of the LAST system message (earlier ones are dropped);
 *   - output bos_token, then that system prompt, with no marker;
 *   - user: `<｜User｜>` + content (and clears is_tool);
 *   - assistant: content after the last `</think>` (all of it when there is none), as
 *     `<｜Assistant｜>` + content + `<｜end▁of▁sentence｜>` (a literal, not eos_token); right after
 *     tool output, `<｜tool▁outputs▁end｜>` + content + `<｜end▁of▁sentence｜>` with no split;
 *   - tool: the first tool message of the whole conversation opens `<｜tool▁outputs▁begin｜>`,
 *     later ones start with "\n" (is_output_first is never reset); each is wrapped in
 *     `<｜tool▁output▁begin｜>` ... `<｜tool▁output▁end｜>`;
 *   - after the loop: `<｜tool▁outputs▁end｜>` if the last turn was tool output, else the
 *     generation prompt when add_generation_prompt.
 * Assistant tool calls (content none + tool_calls) are not representable in rrm_message.
 */
#include "template/template.h"

#define DS_USER "<｜User｜>"
#define DS_ASSISTANT "<｜Assistant｜>"
#define DS_EOS "<｜end▁of▁sentence｜>"
#define DS_THINK_END "</think>"

/* The part of s after the last occurrence of "</think>" (Python's s.split('</think>')[-1]). */
static const char *after_last_think(const char *s)
{
    const char *p = s, *hit;
    while ((hit = strstr(p, DS_THINK_END)) != NULL) p = hit + strlen(DS_THINK_END);
    return p;
}

static int render(const struct rrm_template *t, const rrm_message *m, const unsigned char *role,
                  size_t n, int add_gen, const char *gen_prompt, struct tmpl_out *o)
{
    const char *sys = "";
    for (size_t i = 0; i < n; i++) {
        if (role[i] == TMPL_SYSTEM) sys = m[i].content;
    }
    int rc = tmpl_put(o, t->bos);
    if (rc == RRM_OK) rc = tmpl_put_content(o, sys);
    int is_tool = 0, is_output_first = 1;
    for (size_t i = 0; i < n && rc == RRM_OK; i++) {
        const char *c = m[i].content;
        switch (role[i]) {
        case TMPL_USER:
            is_tool = 0;
            if ((rc = tmpl_put(o, DS_USER)) == RRM_OK) rc = tmpl_put_content(o, c);
            break;
        case TMPL_ASSISTANT:
            if (is_tool) {
                rc = tmpl_put(o, "<｜tool▁outputs▁end｜>");
                is_tool = 0;
            } else {
                rc = tmpl_put(o, DS_ASSISTANT);
                c = after_last_think(c);
            }
            if (rc == RRM_OK) rc = tmpl_put_content(o, c);
            if (rc == RRM_OK) rc = tmpl_put(o, DS_EOS);
            break;
        case TMPL_TOOL:
            is_tool = 1;
            rc = tmpl_put(o, is_output_first ? "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>"
                                             : "\n<｜tool▁output▁begin｜>");
            is_output_first = 0;
            if (rc == RRM_OK) rc = tmpl_put_content(o, c);
            if (rc == RRM_OK) rc = tmpl_put(o, "<｜tool▁output▁end｜>");
            break;
        default: /* system: already emitted */
            break;
        }
    }
    if (rc == RRM_OK && is_tool) rc = tmpl_put(o, "<｜tool▁outputs▁end｜>");
    if (rc == RRM_OK && add_gen && !is_tool) rc = tmpl_put(o, gen_prompt);
    return rc;
}

static int render_jan(const struct rrm_template *t, const rrm_message *m,
                      const unsigned char *role, size_t n, int add_gen, struct tmpl_out *o)
{
    return render(t, m, role, n, add_gen, DS_ASSISTANT, o);
}

static int render_think(const struct rrm_template *t, const rrm_message *m,
                        const unsigned char *role, size_t n, int add_gen, struct tmpl_out *o)
{
    return render(t, m, role, n, add_gen, DS_ASSISTANT "<think>\n", o);
}

/* Statements of the Jinja source that the renderer above reproduces. */
#define DS_COMMON_MARKERS                                                                   \
    "{% set ns.system_prompt = message['content'] %}", "{{bos_token}}{{ns.system_prompt}}",  \
        "{{'<｜User｜>' + message['content']}}",                                            \
        "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}",  \
        "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}",                        \
        "{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}",      \
        "{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + "       \
        "'<｜tool▁output▁end｜>'}}",                                                        \
        "{{'\\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}",  \
        "{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}"

static const char *const jan_markers[] = {
    DS_COMMON_MARKERS,
    "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %}", NULL};
static const char *const think_markers[] = {
    DS_COMMON_MARKERS,
    "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}",
    NULL};
/* DeepSeek-R1 (671B) joins several system prompts with "\n\n" (is_first_sp): not this family. */
static const char *const ds_forbidden[] = {"is_first_sp", NULL};

#define DS_ROLES                                                                             \
    (TMPL_ROLE_BIT(TMPL_SYSTEM) | TMPL_ROLE_BIT(TMPL_USER) | TMPL_ROLE_BIT(TMPL_ASSISTANT) | \
     TMPL_ROLE_BIT(TMPL_TOOL))

const struct tmpl_family tmpl_deepseek_r1 = {
    .name = "deepseek-r1",
    .what = "DeepSeek-R1 (January 2025, generation prompt <｜Assistant｜>)",
    .default_bos = "<｜begin▁of▁sentence｜>",
    .default_eos = DS_EOS,
    .roles = DS_ROLES,
    .min_msgs = 0,
    .render = render_jan,
    .markers = jan_markers,
    .forbidden = ds_forbidden,
    .n_outputs = 12,
};

const struct tmpl_family tmpl_deepseek_r1_think = {
    .name = "deepseek-r1-think",
    .what = "DeepSeek-R1 (generation prompt <｜Assistant｜><think>\\n)",
    .default_bos = "<｜begin▁of▁sentence｜>",
    .default_eos = DS_EOS,
    .roles = DS_ROLES,
    .min_msgs = 0,
    .render = render_think,
    .markers = think_markers,
    .forbidden = ds_forbidden,
    .n_outputs = 12,
};
