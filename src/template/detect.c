/*
 * detect.c — maps a `chat_template` text to a known family. Not a hash of the whole text: a
 * family matches when every statement its renderer reproduces occurs in the text (markers),
 * none of the statements of look-alike templates occurs (forbidden), and the text has the same
 * number of output expressions (`{{`), so a template that adds output of its own is refused
 * rather than rendered wrong. A text that matches nothing is RRM_E_UNSUPPORTED, naming the
 * known families and, when it can tell, the family it resembles.
 */
#include "template/template.h"

#include <stdio.h>

const struct tmpl_family *const tmpl_families[] = {
    &tmpl_deepseek_r1, &tmpl_deepseek_r1_think, &tmpl_chatml_qwen25, &tmpl_chatml_qwen2,
    &tmpl_llama3,      NULL,
};

const struct tmpl_family *tmpl_family_by_name(const char *name)
{
    for (int i = 0; name && tmpl_families[i]; i++) {
        if (strcmp(tmpl_families[i]->name, name) == 0) return tmpl_families[i];
    }
    return NULL;
}

const char *rrm_template_known_families(void)
{
    return "deepseek-r1, deepseek-r1-think, chatml-qwen2.5, chatml-qwen2, llama3";
}

/* Length of the match of `needle` at hay[0..n), or 0. A newline inside a Jinja string literal
 * may be written as a real newline or as the escape "\\n" (Qwen2 and Llama-3 ship the first,
 * Qwen2.5 and DeepSeek the second; both render the same), so either spelling in the needle
 * matches either spelling in the text. */
static size_t match_at(const char *hay, size_t n, const char *needle)
{
    size_t i = 0;
    for (const char *q = needle; *q;) {
        size_t qk = (*q == '\\' && q[1] == 'n') ? 2 : (*q == '\n' ? 1 : 0);
        if (qk) {
            if (i < n && hay[i] == '\n') i += 1;
            else if (i + 1 < n && hay[i] == '\\' && hay[i + 1] == 'n') i += 2;
            else return 0;
            q += qk;
        } else {
            if (i >= n || hay[i] != *q) return 0;
            i++;
            q++;
        }
    }
    return i;
}

/* First match of needle in hay[0..n) (any bytes: GGUF strings are not NUL-terminated); *m gets
 * its length. */
static const char *find_len(const char *hay, size_t n, const char *needle, size_t *m)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = match_at(hay + i, n - i, needle);
        if (k) {
            *m = k;
            return hay + i;
        }
    }
    return NULL;
}

static const char *find(const char *hay, size_t n, const char *needle)
{
    size_t m;
    return find_len(hay, n, needle, &m);
}

static int count(const char *hay, size_t n, const char *needle)
{
    int k = 0;
    size_t m;
    const char *p = hay, *end = hay + n, *hit;
    while ((hit = find_len(p, (size_t)(end - p), needle, &m)) != NULL) {
        k++;
        p = hit + m;
    }
    return k;
}

static int matches(const struct tmpl_family *f, const char *text, size_t len)
{
    for (int i = 0; f->markers[i]; i++) {
        if (!find(text, len, f->markers[i])) return 0;
    }
    for (int i = 0; f->forbidden[i]; i++) {
        if (find(text, len, f->forbidden[i])) return 0;
    }
    return count(text, len, "{{") == f->n_outputs;
}

int tmpl_detect(const char *text, size_t len, const struct tmpl_family **out, rrm_err *err)
{
    for (int i = 0; tmpl_families[i]; i++) {
        if (matches(tmpl_families[i], text, len)) {
            *out = tmpl_families[i];
            return RRM_OK;
        }
    }
    const char *looks = "no known markers";
    if (find(text, len, "<｜User｜>")) looks = "DeepSeek-style, no known variant";
    else if (find(text, len, "<think>") && find(text, len, "<|im_start|>"))
        looks = "ChatML with <think> (Qwen3/QwQ: unsupported)";
    else if (find(text, len, "<|im_start|>")) looks = "ChatML, no known variant";
    else if (find(text, len, "<|start_header_id|>"))
        looks = "Llama-3-style, no known variant (3.1+: unsupported)";
    return rrm_errf(err, RRM_E_UNSUPPORTED,
                    "unknown chat template (known: %s; force one with --template NAME): %s, "
                    "%zu bytes",
                    rrm_template_known_families(), looks, len);
}
