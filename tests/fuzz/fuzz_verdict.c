/* fuzz_verdict.c — libFuzzer target for the verdict parser (and, on the same bytes, the prompt
 * builder's UTF-8 checks and the verdict JSON): any bytes must parse without a crash, a read
 * outside the input or a leak, and the result must satisfy the documented invariants. */
#include "judge/judge.h"

#include <jansson.h>
#include <stdlib.h>

static void require(int ok)
{
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so ASan sees any read past the end */
    char *t = malloc(size ? size : 1);
    if (!t) return 0;
    if (size) memcpy(t, data, size);
    long live = rrm_alloc_live();
    rrm_verdict_info v;
    rrm_err e = {0};
    require(rrm_verdict_parse(t, size, &v, &e) == RRM_OK);
    require(v.verdict >= RRM_VERDICT_INVALID && v.verdict <= RRM_VERDICT_ASSISTANT_2);
    require(v.reason >= RRM_VREASON_OK && v.reason <= RRM_VREASON_BAD_LABEL);
    require((v.verdict != RRM_VERDICT_INVALID) == (v.reason == RRM_VREASON_OK));
    require(v.answer_begin <= size);
    require(v.has_think_end ==
            (v.answer_begin >= 8 && memcmp(t + v.answer_begin - 8, "</think>", 8) == 0));
    for (size_t i = v.answer_begin ? v.answer_begin - 7 : 0; i + 8 <= size; i++)
        require(memcmp(t + i, "</think>", 8) != 0); /* the final one was taken */
    int has_box = v.reason == RRM_VREASON_OK || v.reason == RRM_VREASON_UNCLOSED ||
                  v.reason == RRM_VREASON_BAD_LABEL;
    if (has_box) {
        require(v.box_begin >= v.answer_begin && v.box_end <= size && v.box_begin + 6 <= v.box_end);
        require(memcmp(t + v.box_begin, "\\boxed", 6) == 0);
        require(v.reason == RRM_VREASON_UNCLOSED ? v.box_end == size : t[v.box_end - 1] == '}');
    } else {
        require(v.box_begin == 0 && v.box_end == 0);
    }
    json_t *j = judge_verdict_json(&v, t, size);
    json_decref(j);
    /* the same bytes as a query/response triple */
    size_t a = size / 3, b = 2 * size / 3;
    rrm_judge_messages m;
    int rc = rrm_judge_messages_build(&m, t, a, t + a, b - a, t + b, size - b, &e);
    require(rc == RRM_OK || rc == RRM_E_FORMAT);
    if (rc == RRM_OK) {
        require(m.user_len > size && strlen(m.user) == m.user_len);
        rrm_judge_messages_free(&m);
    }
    require(rrm_alloc_live() == live);
    free(t);
    return 0;
}
