/*
 * llama3.c — the Meta-Llama-3-Instruct chat template (tests/data/templates/llama3-instruct):
 *   bos_token once, before the first message; each message as
 *   `<|start_header_id|>ROLE<|end_header_id|>\n\n` + (content | trim) + `<|eot_id|>`;
 *   the generation prompt `<|start_header_id|>assistant<|end_header_id|>\n\n`.
 * Jinja's `trim` is Python's str.strip(): it removes the code points for which str.isspace() is
 * true (listed in py_space below). Note that @huggingface/jinja uses JavaScript's trim(), which
 * differs on U+001C..U+001F and U+0085 (Python strips them, JS does not) and U+FEFF (JS strips
 * it, Python does not); rrm follows Python, as transformers does.
 */
#include "template/template.h"

/* Python 3 str.isspace(): bidirectional class WS, B or S, or category Zs. */
static int py_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Decodes the (valid) UTF-8 sequence at s; writes its length. */
static uint32_t decode(const unsigned char *s, size_t *n)
{
    if (s[0] < 0x80) {
        *n = 1;
        return s[0];
    }
    if (s[0] < 0xe0) {
        *n = 2;
        return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
    }
    if (s[0] < 0xf0) {
        *n = 3;
        return ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
    }
    *n = 4;
    return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
           ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
}

/* Appends s (valid UTF-8) without leading and trailing Python whitespace. */
static int put_trimmed(struct tmpl_out *o, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t lo = 0, hi = strlen(str), k;
    while (lo < hi && py_space(decode(s + lo, &k))) lo += k;
    while (hi > lo) {
        size_t start = hi - 1;
        while (start > lo && (s[start] & 0xc0) == 0x80) start--;
        if (!py_space(decode(s + start, &k))) break;
        hi = start;
    }
    return tmpl_put_content_n(o, str + lo, hi - lo);
}

static const char *const role_name[] = {"system", "user", "assistant", "tool"};

static int render(const struct rrm_template *t, const rrm_message *m, const unsigned char *role,
                  size_t n, int add_gen, struct tmpl_out *o)
{
    int rc = RRM_OK;
    for (size_t i = 0; i < n && rc == RRM_OK; i++) {
        if (i == 0) rc = tmpl_put(o, t->bos);
        if (rc == RRM_OK) rc = tmpl_put(o, "<|start_header_id|>");
        if (rc == RRM_OK) rc = tmpl_put(o, role_name[role[i]]);
        if (rc == RRM_OK) rc = tmpl_put(o, "<|end_header_id|>\n\n");
        if (rc == RRM_OK) rc = put_trimmed(o, m[i].content);
        if (rc == RRM_OK) rc = tmpl_put(o, "<|eot_id|>");
    }
    if (rc == RRM_OK && add_gen) rc = tmpl_put(o, "<|start_header_id|>assistant<|end_header_id|>\n\n");
    return rc;
}

static const char *const llama3_markers[] = {
    "{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] "
    "+ '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}",
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
    "{% endfor %}",
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}",
    NULL};
static const char *const llama3_forbidden[] = {NULL};

const struct tmpl_family tmpl_llama3 = {
    .name = "llama3",
    .what = "Llama-3-Instruct",
    .default_bos = "<|begin_of_text|>",
    .default_eos = "<|eot_id|>",
    .roles = TMPL_ROLE_BIT(TMPL_SYSTEM) | TMPL_ROLE_BIT(TMPL_USER) | TMPL_ROLE_BIT(TMPL_ASSISTANT),
    .min_msgs = 0,
    .render = render,
    .markers = llama3_markers,
    .forbidden = llama3_forbidden,
    .n_outputs = 2,
};
