/*
 * fuzz_template.c — libFuzzer target for the chat-template module. The first byte picks a
 * family (or, for values past the family count, treats the rest as a chat_template text to
 * detect); the rest is parsed as a messages JSON document and rendered with and without the
 * generation prompt. Any input must give a result or a clean error: no crash, no sanitizer
 * report, no leak (rrm_alloc_live is checked).
 */
#include "template/template.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const names[] = {"deepseek-r1", "deepseek-r1-think", "chatml-qwen2.5",
                                    "chatml-qwen2", "llama3"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    long live0 = rrm_alloc_live();
    rrm_err e = {0};
    rrm_template *t = NULL;
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    unsigned pick = data[0] % 8;
    if (pick >= 5) { /* detection over arbitrary bytes */
        if (rrm_template_from_text(&t, body, n, NULL, NULL, NULL, &e) == RRM_OK)
            rrm_template_free(t);
        if (rrm_alloc_live() != live0) abort();
        return 0;
    }
    if (rrm_template_from_text(&t, NULL, 0, NULL, NULL, names[pick], &e) != RRM_OK) abort();
    json_t *doc = NULL;
    if (rrm_json_parse(&doc, body, n, (size_t)1 << 20, "fuzz input", &e) == RRM_OK) {
        rrm_message *m = NULL;
        size_t k = 0;
        if (tmpl_messages_from_json(doc, "fuzz input", &m, &k, &e) == RRM_OK) {
            for (int gen = 0; gen < 2; gen++) {
                char *out = NULL;
                size_t len = 0;
                if (rrm_template_render(t, m, k, gen, &out, &len, &e) == RRM_OK) {
                    if (strlen(out) != len) abort();
                    rrm_template_text_free(out);
                }
            }
            rrm_free(m);
        }
        json_decref(doc);
    }
    rrm_template_free(t);
    if (rrm_alloc_live() != live0) abort();
    return 0;
}
