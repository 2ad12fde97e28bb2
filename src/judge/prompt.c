/*
 * prompt.c — the RRM pairwise prompt (DESIGN.md §5): the model card's system prompt and the user
 * message "## Query ... ### Assistant 2 ..." + analysis suffix, built byte for byte as the
 * car_detailing_prompt.json fixture; and the seeded position order of the RewardBench protocol
 * (each comparison swaps A/B with probability 1/2) with the map back to the caller's A/B.
 * The chat template and tokenizer are applied by the caller (src/template, src/tokenizer).
 */
#include "judge/judge.h"

#include <utf8proc.h>

const char *rrm_judge_system_prompt(size_t *len)
{
    if (len) *len = judge_system_prompt_len;
    return judge_system_prompt;
}

const char *rrm_judge_analysis_suffix(size_t *len)
{
    if (len) *len = judge_analysis_suffix_len;
    return judge_analysis_suffix;
}

/* Strict UTF-8 (utf8proc_iterate rejects overlong forms, surrogates and code points past
 * U+10FFFF) and no NUL, which would cut the text short in every C consumer downstream. */
int judge_check_text(const char *what, const char *text, size_t len, rrm_err *err)
{
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t left = (utf8proc_ssize_t)(len - i > 4 ? 4 : len - i);
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)text + i, left, &cp);
        if (n < 1)
            return rrm_errf(err, RRM_E_FORMAT, "judge: %s: invalid UTF-8 at byte %zu of %zu", what,
                            i, len);
        if (cp == 0)
            return rrm_errf(err, RRM_E_FORMAT, "judge: %s: NUL byte at offset %zu of %zu", what, i,
                            len);
        i += (size_t)n;
    }
    return RRM_OK;
}

static const char user_head[] = "## Query\n\n";
static const char user_mid[] = "\n\n## Assistant responses\n\n### Assistant 1\n\n";
static const char user_mid2[] = "\n\n\n### Assistant 2\n\n";
static const char user_tail[] = "\n\n";

static int check_field(const char *what, const char *text, size_t len, rrm_err *err)
{
    if (!text && len)
        return rrm_errf(err, RRM_E_INVAL, "judge: %s is NULL with length %zu", what, len);
    if (len > RRM_JUDGE_MAX_TEXT)
        return rrm_errf(err, RRM_E_LIMIT, "judge: %s is %zu bytes, over the limit of %zu", what,
                        len, RRM_JUDGE_MAX_TEXT);
    return judge_check_text(what, text, len, err);
}

/* Builds the system and user messages for one presented order; see rrm.h. */
int rrm_judge_messages_build(rrm_judge_messages *out, const char *query, size_t query_len,
                             const char *resp1, size_t resp1_len, const char *resp2,
                             size_t resp2_len, rrm_err *err)
{
    if (!out) return rrm_errf(err, RRM_E_INVAL, "judge: messages: NULL output");
    int rc = check_field("query", query, query_len, err);
    if (rc == RRM_OK) rc = check_field("response of Assistant 1", resp1, resp1_len, err);
    if (rc == RRM_OK) rc = check_field("response of Assistant 2", resp2, resp2_len, err);
    if (rc != RRM_OK) return rc;

    struct rrm_str s = {0};
    const struct {
        const char *p;
        size_t n;
    } parts[] = {
        {user_head, sizeof(user_head) - 1}, {query, query_len},
        {user_mid, sizeof(user_mid) - 1},   {resp1, resp1_len},
        {user_mid2, sizeof(user_mid2) - 1}, {resp2, resp2_len},
        {user_tail, sizeof(user_tail) - 1}, {judge_analysis_suffix, judge_analysis_suffix_len},
    };
    size_t total = 0; /* each part is at most 64 MiB: no overflow */
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        total += parts[i].n;
        if (rrm_str_append(&s, parts[i].p, parts[i].n) != RRM_OK) goto fail_nomem;
    }
    out->system = judge_system_prompt;
    out->system_len = judge_system_prompt_len;
    out->user = s.p;
    out->user_len = s.len;
    return RRM_OK;

fail_nomem:
    rrm_str_free(&s);
    return rrm_errf(err, RRM_E_NOMEM, "judge: messages: out of memory for a %zu-byte user message",
                    total);
}

void rrm_judge_messages_free(rrm_judge_messages *m)
{
    if (!m) return;
    rrm_free(m->user);
    m->user = NULL;
    m->user_len = 0;
}

/* Position order: see rrm.h. The salt keeps (seed, index) pairs from colliding the way
 * seed + index would; the top bit of xoshiro256** output is its best bit. */
int rrm_judge_swap(uint64_t seed, uint64_t index)
{
    struct rrm_rng r;
    rrm_rng_seed(&r, seed);
    uint64_t salt = rrm_rng_u64(&r);
    rrm_rng_seed(&r, salt ^ index);
    return (int)(rrm_rng_u64(&r) >> 63);
}

int rrm_judge_unswap(int verdict, int swapped)
{
    if (verdict == RRM_VERDICT_ASSISTANT_1) return swapped ? RRM_PICK_B : RRM_PICK_A;
    if (verdict == RRM_VERDICT_ASSISTANT_2) return swapped ? RRM_PICK_A : RRM_PICK_B;
    return RRM_PICK_NONE;
}
