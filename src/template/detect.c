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

/* memmem over a text that may hold any byte (GGUF strings are not NUL-terminated). */
static const char *find(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    if (m == 0) return hay;
    for (size_t i = 0; i + m <= n; i++) {
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0) return hay + i;
    }
    return NULL;
}

static int count(const char *hay, size_t n, const char *needle)
{
    int k = 0;
    size_t m = strlen(needle);
    const char *p = hay, *end = hay + n, *hit;
    while ((hit = find(p, (size_t)(end - p), needle)) != NULL) {
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
    const char *looks = "no known family";
    if (find(text, len, "<｜User｜>")) looks = "a DeepSeek-style template of no known variant";
    else if (find(text, len, "<think>") && find(text, len, "<|im_start|>"))
        looks = "a ChatML template with <think> handling (Qwen3/QwQ are not supported)";
    else if (find(text, len, "<|im_start|>")) looks = "a ChatML template of no known variant";
    else if (find(text, len, "<|start_header_id|>"))
        looks = "a Llama-3-style template of no known variant (Llama-3.1+ are not supported)";
    return rrm_errf(err, RRM_E_UNSUPPORTED,
                    "template: unknown chat template (%zu bytes, %s); known families: %s; "
                    "use --template NAME to force one",
                    len, looks, rrm_template_known_families());
}
