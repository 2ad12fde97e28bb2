/* test_judge.c — unit tests for src/judge: the embedded protocol strings against the data files,
 * the car-detailing fixture reproduced byte for byte, UTF-8 checks, position order (pinned
 * values, balance, unswap), the verdict table (rules in rrm.h), voting and the early-stopping
 * rule checked exhaustively against brute force for k <= 16, JSON builders, OOM injection. */
#include "judge/judge.h"
#include "../../tests/harness.h"

#include <jansson.h>
#include <unistd.h>

static const char *data_path(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "../shared/data/rrm-protocol/%s", name);
    if (access(buf, R_OK) != 0) snprintf(buf, cap, "/work/shared/data/rrm-protocol/%s", name);
    return buf;
}

static void test_embedded_strings(void)
{
    char path[512];
    char *buf;
    size_t len, n;
    rrm_err e = {0};
    CHECK_EQ(
        rrm_read_file(data_path("system_prompt.txt", path, sizeof path), 1 << 20, &buf, &len, &e),
        RRM_OK);
    const char *sp = rrm_judge_system_prompt(&n);
    CHECK_EQ(n, len);
    CHECK(n == len && memcmp(sp, buf, n) == 0);
    CHECK_EQ(strlen(sp), n);
    CHECK(n >= 2 && sp[n - 1] == '\n' && sp[n - 2] == '\n'); /* DESIGN.md: ends with two newlines */
    rrm_free(buf);
    CHECK_EQ(
        rrm_read_file(data_path("analysis_suffix.txt", path, sizeof path), 1 << 20, &buf, &len, &e),
        RRM_OK);
    const char *suf = rrm_judge_analysis_suffix(&n);
    CHECK_EQ(n, len);
    CHECK(n == len && memcmp(suf, buf, n) == 0);
    rrm_free(buf);
}

/* The fixture holds the rendered prompt; the DeepSeek-R1 template around our two messages is
 * BOS + system + <｜User｜> + user + <｜Assistant｜> (+ "<think>\n" in the newer template). */
static void test_fixture(void)
{
    char path[512];
    rrm_err e = {0};
    json_t *root = NULL;
    CHECK_EQ(rrm_json_load_file(&root, data_path("car_detailing_prompt.json", path, sizeof path),
                                1 << 24, &e),
             RRM_OK);
    json_t *cases = json_object_get(root, "cases");
    CHECK(json_array_size(cases) >= 2);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        const char *q = json_string_value(json_object_get(c, "query"));
        const char *r1 = json_string_value(json_object_get(c, "response1"));
        const char *r2 = json_string_value(json_object_get(c, "response2"));
        const char *rendered = json_string_value(json_object_get(c, "rendered"));
        const char *variant = json_string_value(json_object_get(c, "template_variant"));
        CHECK(q && r1 && r2 && rendered && variant);
        if (!q || !r1 || !r2 || !rendered || !variant) continue;
        rrm_judge_messages m;
        CHECK_EQ(rrm_judge_messages_build(&m, q, strlen(q), r1, strlen(r1), r2, strlen(r2), &e),
                 RRM_OK);
        struct rrm_str s = {0};
        rrm_str_append(&s,
                       "<\xef\xbd\x9c"
                       "begin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                       strlen("<\xef\xbd\x9c"
                              "begin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"));
        rrm_str_append(&s, m.system, m.system_len);
        rrm_str_append(&s, "<\xef\xbd\x9cUser\xef\xbd\x9c>",
                       strlen("<\xef\xbd\x9cUser\xef\xbd\x9c>"));
        rrm_str_append(&s, m.user, m.user_len);
        rrm_str_append(&s,
                       "<\xef\xbd\x9c"
                       "Assistant\xef\xbd\x9c>",
                       strlen("<\xef\xbd\x9c"
                              "Assistant\xef\xbd\x9c>"));
        if (strcmp(variant, "r1-think-prefix") == 0) rrm_str_append(&s, "<think>\n", 8);
        CHECK_MSG(s.p && strcmp(s.p, rendered) == 0, "case %zu (%s) differs from the fixture", i,
                  variant);
        CHECK_EQ(strlen(m.user), m.user_len);
        rrm_str_free(&s);
        rrm_judge_messages_free(&m);
        CHECK(m.user == NULL);
    }
    json_decref(root);
    rrm_judge_messages_free(NULL);
}

static void test_messages_input(void)
{
    rrm_err e = {0};
    rrm_judge_messages m;
    /* the exact layout with tiny fields, including empty ones */
    CHECK_EQ(rrm_judge_messages_build(&m, "Q", 1, "", 0, "b", 1, &e), RRM_OK);
    size_t sl;
    const char *suf = rrm_judge_analysis_suffix(&sl);
    const char *want = "## Query\n\nQ\n\n## Assistant responses\n\n### Assistant 1\n\n\n\n\n"
                       "### Assistant 2\n\nb\n\n";
    CHECK_EQ(m.user_len, strlen(want) + sl);
    CHECK(memcmp(m.user, want, strlen(want)) == 0 && strcmp(m.user + strlen(want), suf) == 0);
    rrm_judge_messages_free(&m);
    /* special-token text in a response stays plain text here (the tokenizer keeps it plain) */
    CHECK_EQ(rrm_judge_messages_build(&m, "q", 1, "<think>x</think>", 16, "\\boxed{Assistant 1}",
                                      19, &e),
             RRM_OK);
    CHECK(strstr(m.user, "### Assistant 1\n\n<think>x</think>\n\n\n### Assistant 2\n\n\\boxed{") !=
          NULL);
    rrm_judge_messages_free(&m);
    CHECK_EQ(rrm_judge_messages_build(&m, NULL, 0, NULL, 0, NULL, 0, &e), RRM_OK);
    rrm_judge_messages_free(&m);
    /* bad input: a clear error naming the field and offset */
    CHECK_EQ(rrm_judge_messages_build(&m, "q", 1, "ok\xff", 3, "b", 1, &e), RRM_E_FORMAT);
    CHECK(strstr(e.msg, "Assistant 1") && strstr(e.msg, "byte 2"));
    CHECK_EQ(rrm_judge_messages_build(&m, "q", 1, "a", 1, "b\0c", 3, &e), RRM_E_FORMAT);
    CHECK(strstr(e.msg, "Assistant 2") && strstr(e.msg, "NUL"));
    CHECK_EQ(rrm_judge_messages_build(&m, "\xc0\xaf", 2, "a", 1, "b", 1, &e),
             RRM_E_FORMAT); /* overlong */
    CHECK(strstr(e.msg, "query") != NULL);
    CHECK_EQ(rrm_judge_messages_build(&m, "\xed\xa0\x80", 3, "a", 1, "b", 1, &e),
             RRM_E_FORMAT); /* surrogate */
    CHECK_EQ(rrm_judge_messages_build(&m, "\xf4\x90\x80\x80", 4, "a", 1, "b", 1, &e), RRM_E_FORMAT);
    CHECK_EQ(rrm_judge_messages_build(&m, "\xe2\x96", 2, "a", 1, "b", 1, &e),
             RRM_E_FORMAT); /* cut */
    CHECK_EQ(rrm_judge_messages_build(&m, "\xf0\x9f\x98\x80 \xe4\xb8\xad", 8, "a", 1, "b", 1, &e),
             RRM_OK);
    rrm_judge_messages_free(&m);
    CHECK_EQ(rrm_judge_messages_build(&m, "q", 1, "a", RRM_JUDGE_MAX_TEXT + 1, "b", 1, &e),
             RRM_E_LIMIT);
    CHECK_EQ(rrm_judge_messages_build(&m, NULL, 3, "a", 1, "b", 1, &e), RRM_E_INVAL);
    CHECK_EQ(rrm_judge_messages_build(NULL, "q", 1, "a", 1, "b", 1, &e), RRM_E_INVAL);
    /* OOM: a clean RRM_E_NOMEM and no leak at every allocation */
    long live = rrm_alloc_live();
    int ok = 0, nomem = 0;
    for (long n = 0; n < 64 && !ok; n++) {
        rrm_alloc_fail_at(n);
        int rc = rrm_judge_messages_build(&m, "query", 5, "a", 1, "b", 1, &e);
        rrm_alloc_fail_at(-1);
        if (rc == RRM_OK) {
            ok = 1;
            rrm_judge_messages_free(&m);
        } else {
            nomem += rc == RRM_E_NOMEM;
        }
        CHECK_EQ(rrm_alloc_live(), live);
    }
    CHECK(ok && nomem >= 1);
}

static void test_swap(void)
{
    /* pinned: the documented derivation must never change (seeds of published runs) */
    int pinned[2][16];
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 16; i++)
            pinned[s][i] = rrm_judge_swap((uint64_t)s * 42, (uint64_t)i);
    struct rrm_rng r;
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 16; i++) {
            rrm_rng_seed(&r, (uint64_t)s * 42);
            uint64_t salt = rrm_rng_u64(&r);
            rrm_rng_seed(&r, salt ^ (uint64_t)i);
            CHECK_EQ(pinned[s][i], (int)(rrm_rng_u64(&r) >> 63));
        }
    }
    char bits[17];
    for (int i = 0; i < 16; i++)
        bits[i] = (char)('0' + pinned[0][i]);
    bits[16] = 0;
    CHECK_STR(bits, "0101000000001110");
    /* balanced and seed-dependent */
    int n1 = 0, diff = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        n1 += rrm_judge_swap(7, i);
        diff += rrm_judge_swap(7, i) != rrm_judge_swap(8, i);
    }
    CHECK_MSG(n1 > 9700 && n1 < 10300, "swaps %d of 20000", n1);
    CHECK_MSG(diff > 9700 && diff < 10300, "seed 7 vs 8 differ in %d of 20000", diff);
    CHECK_EQ(rrm_judge_unswap(RRM_VERDICT_ASSISTANT_1, 0), RRM_PICK_A);
    CHECK_EQ(rrm_judge_unswap(RRM_VERDICT_ASSISTANT_2, 0), RRM_PICK_B);
    CHECK_EQ(rrm_judge_unswap(RRM_VERDICT_ASSISTANT_1, 1), RRM_PICK_B);
    CHECK_EQ(rrm_judge_unswap(RRM_VERDICT_ASSISTANT_2, 1), RRM_PICK_A);
    CHECK_EQ(rrm_judge_unswap(RRM_VERDICT_INVALID, 1), RRM_PICK_NONE);
    CHECK_EQ(rrm_judge_unswap(77, 0), RRM_PICK_NONE);
}

#define V1 RRM_VERDICT_ASSISTANT_1
#define V2 RRM_VERDICT_ASSISTANT_2
#define VX RRM_VERDICT_INVALID

struct vcase {
    const char *text;
    int verdict, reason;
    int box_begin; /* expected offset of the deciding box, -1 when there is none */
};

static const struct vcase vcases[] = {
    /* plain answers */
    {"\\boxed{Assistant 1}", V1, RRM_VREASON_OK, 0},
    {"\\boxed{Assistant 2}", V2, RRM_VREASON_OK, 0},
    {"I think \\boxed{Assistant 2}.", V2, RRM_VREASON_OK, 8},
    {"<think>hmm</think>\n\n\\boxed{Assistant 1}", V1, RRM_VREASON_OK, 20},
    {"<think>\\boxed{Assistant 2}</think>\\boxed{Assistant 1}", V1, RRM_VREASON_OK, 34},
    /* missing box */
    {"", VX, RRM_VREASON_NO_BOX, -1},
    {"Assistant 1 is better.", VX, RRM_VREASON_NO_BOX, -1},
    {"<think>long thought</think>Assistant 1", VX, RRM_VREASON_NO_BOX, -1},
    {"\\box{Assistant 1}", VX, RRM_VREASON_NO_BOX, -1},
    {"boxed{Assistant 1}", VX, RRM_VREASON_NO_BOX, -1},
    {"\\boxedAssistant 1", VX, RRM_VREASON_NO_BOX, -1},
    {"\\Boxed{Assistant 1}", VX, RRM_VREASON_NO_BOX, -1},
    /* box only in the thought */
    {"<think>\\boxed{Assistant 1}</think>", VX, RRM_VREASON_ONLY_IN_THOUGHT, -1},
    {"<think>\\boxed{Assistant 1}</think> so the answer is Assistant 1", VX,
     RRM_VREASON_ONLY_IN_THOUGHT, -1},
    {"\\boxed{Assistant 2}</think>", VX, RRM_VREASON_ONLY_IN_THOUGHT, -1},
    /* several </think>: the final one counts */
    {"</think>\\boxed{Assistant 1}</think>", VX, RRM_VREASON_ONLY_IN_THOUGHT, -1},
    {"</think>\\boxed{Assistant 1}</think>\\boxed{Assistant 2}", V2, RRM_VREASON_OK, 35},
    /* no </think>: anywhere, even after an unclosed <think> */
    {"<think>\\boxed{Assistant 2}", V2, RRM_VREASON_OK, 7},
    /* several boxes: the last one decides, whatever it holds */
    {"\\boxed{Assistant 1} \\boxed{Assistant 2}", V2, RRM_VREASON_OK, 20},
    {"\\boxed{Assistant 2} or \\boxed{Assistant 1}", V1, RRM_VREASON_OK, 23},
    {"\\boxed{Assistant 1} \\boxed{Assistant 3}", VX, RRM_VREASON_BAD_LABEL, 20},
    {"\\boxed{Assistant 3} \\boxed{Assistant 1}", V1, RRM_VREASON_OK, 20},
    /* whitespace */
    {"\\boxed{ Assistant 2 }", V2, RRM_VREASON_OK, 0},
    {"\\boxed{\n\tAssistant 1\r\n}", V1, RRM_VREASON_OK, 0},
    {"\\boxed{Assistant  1}", V1, RRM_VREASON_OK, 0},
    {"\\boxed{Assistant\t2}", V2, RRM_VREASON_OK, 0},
    {"\\boxed {Assistant 1}", V1, RRM_VREASON_OK, 0},
    {"\\boxed{Assistant1}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{Assistant\n1}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{Assistant\xc2\xa0"
     "1}",
     VX, RRM_VREASON_BAD_LABEL, 0}, /* no-break space */
    /* other labels */
    {"\\boxed{Assistant 3}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{Assistant 0}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{Assistant 12}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{assistant 1}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{ASSISTANT 1}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{Assistant 1.}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{1}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{Assistant 1 or Assistant 2}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{Response A}", VX, RRM_VREASON_BAD_LABEL, 0},
    /* \text wrapper */
    {"\\boxed{\\text{Assistant 1}}", V1, RRM_VREASON_OK, 0},
    {"\\boxed{ \\text{ Assistant 2 } }", V2, RRM_VREASON_OK, 0},
    {"\\boxed{\\textbf{Assistant 1}}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{\\text{\\text{Assistant 1}}}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{\\mathrm{Assistant 1}}", VX, RRM_VREASON_BAD_LABEL, 0},
    /* unicode look-alikes */
    {"\\boxed{Assistant \xef\xbc\x91}", VX, RRM_VREASON_BAD_LABEL, 0}, /* fullwidth 1 */
    {"\\boxed{\xef\xbc\xa1ssistant 1}", VX, RRM_VREASON_BAD_LABEL, 0}, /* fullwidth A */
    {"\\boxed{\xd0\x90ssistant 1}", VX, RRM_VREASON_BAD_LABEL, 0},     /* Cyrillic A */
    {"\\boxed{Assist\xd0\xb0nt 2}", VX, RRM_VREASON_BAD_LABEL, 0},     /* Cyrillic a */
    {"\\boxed\xef\xbd\x9b"
     "Assistant 1\xef\xbd\x9d",
     VX, RRM_VREASON_NO_BOX, -1}, /* fullwidth {} */
    {"\xef\xbc\xbc"
     "boxed{Assistant 1}",
     VX, RRM_VREASON_NO_BOX, -1},                                       /* fullwidth \ */
    {"\\boxed{Assistant\xe2\x80\x8b 1}", VX, RRM_VREASON_BAD_LABEL, 0}, /* zero-width sp */
    /* nested and escaped braces */
    {"\\boxed{\\boxed{Assistant 1}}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{{Assistant 1}}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{Assistant 1\\}} x", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{\\{Assistant 1\\}}", VX, RRM_VREASON_BAD_LABEL, 0},
    {"\\boxed{Assistant 1\\}", VX, RRM_VREASON_UNCLOSED, 0},
    {"\\boxed{a{b}c} \\boxed{Assistant 2}", V2, RRM_VREASON_OK, 14},
    {"\\boxed{Assistant 2}}}}", V2, RRM_VREASON_OK, 0},
    {"\\boxed{Assistant 2\\\\}", VX, RRM_VREASON_BAD_LABEL, 0},
    /* truncated output */
    {"\\boxed{Assistant 1", VX, RRM_VREASON_UNCLOSED, 0},
    {"\\boxed{Assistant 1} then \\boxed{Assis", VX, RRM_VREASON_UNCLOSED, 25},
    {"answer: \\boxed", VX, RRM_VREASON_UNCLOSED, 8},
    {"answer: \\boxed  ", VX, RRM_VREASON_UNCLOSED, 8},
    {"answer: \\box", VX, RRM_VREASON_NO_BOX, -1},
    {"<think>\\boxed{Assistant 1}</think>\\boxed{", VX, RRM_VREASON_UNCLOSED, 34},
    {"<think>\\boxed{Assistant 1}</thi", V1, RRM_VREASON_OK, 7}, /* no </think>: anywhere */
    {"\\boxed{Assistant 1}</think", V1, RRM_VREASON_OK, 0},
};

static void test_verdict_table(void)
{
    rrm_err e = {0};
    int n = (int)(sizeof(vcases) / sizeof(vcases[0]));
    CHECK(n >= 40);
    for (int i = 0; i < n; i++) {
        const struct vcase *c = &vcases[i];
        rrm_verdict_info v;
        size_t len = strlen(c->text);
        CHECK_EQ(rrm_verdict_parse(c->text, len, &v, &e), RRM_OK);
        CHECK_MSG(v.verdict == c->verdict && v.reason == c->reason,
                  "case %d \"%s\": got %s/%s, want %s/%s", i, c->text, rrm_verdict_name(v.verdict),
                  rrm_verdict_reason_name(v.reason), rrm_verdict_name(c->verdict),
                  rrm_verdict_reason_name(c->reason));
        if (c->box_begin < 0) {
            CHECK_MSG(v.box_begin == 0 && v.box_end == 0, "case %d: span %zu..%zu", i, v.box_begin,
                      v.box_end);
        } else {
            CHECK_MSG((int)v.box_begin == c->box_begin && v.box_end > v.box_begin &&
                          v.box_end <= len && memcmp(c->text + v.box_begin, "\\boxed", 6) == 0,
                      "case %d: span %zu..%zu, want begin %d", i, v.box_begin, v.box_end,
                      c->box_begin);
            if (c->reason == RRM_VREASON_UNCLOSED)
                CHECK_EQ(v.box_end, len);
            else
                CHECK_EQ(c->text[v.box_end - 1], '}');
        }
        const char *te = NULL;
        for (const char *p = c->text; (p = strstr(p, "</think>")) != NULL; p++)
            te = p;
        CHECK_EQ(v.has_think_end, te != NULL);
        CHECK_EQ(v.answer_begin, te ? (size_t)(te - c->text) + 8 : 0);
    }
}

static void test_verdict_edges(void)
{
    rrm_err e = {0};
    rrm_verdict_info v;
    /* NUL bytes are ordinary bytes; len, not strlen, bounds the text */
    const char nul[] = "x\0\\boxed{Assistant 2}";
    CHECK_EQ(rrm_verdict_parse(nul, sizeof(nul) - 1, &v, &e), RRM_OK);
    CHECK_EQ(v.verdict, V2);
    CHECK_EQ(rrm_verdict_parse("\\boxed{Assistant 1}", 18, &v, &e), RRM_OK); /* cut before } */
    CHECK_EQ(v.reason, RRM_VREASON_UNCLOSED);
    CHECK_EQ(rrm_verdict_parse("\\boxed{Assistant 1}\\boxed{Assistant 2}", 19, &v, &e), RRM_OK);
    CHECK_EQ(v.verdict, V1);
    CHECK_EQ(rrm_verdict_parse(NULL, 0, &v, &e), RRM_OK);
    CHECK_EQ(v.reason, RRM_VREASON_NO_BOX);
    CHECK_EQ(rrm_verdict_parse(NULL, 5, &v, &e), RRM_E_INVAL);
    CHECK_EQ(rrm_verdict_parse("x", 1, NULL, &e), RRM_E_INVAL);
    /* big inputs stay linear: 200k unclosed boxes, 1 MB of braces */
    struct rrm_str s = {0};
    for (int i = 0; i < 200000; i++)
        rrm_str_append(&s, "\\boxed{", 7);
    double t0 = rrm_time_s();
    CHECK_EQ(rrm_verdict_parse(s.p, s.len, &v, &e), RRM_OK);
    CHECK_EQ(v.reason, RRM_VREASON_UNCLOSED);
    CHECK_EQ(v.box_begin, 0);
    s.len = 0;
    for (int i = 0; i < 200000; i++)
        rrm_str_append(&s, "\\boxed x</think>", 16);
    rrm_str_append(&s, "\\boxed{Assistant 1}", 19);
    CHECK_EQ(rrm_verdict_parse(s.p, s.len, &v, &e), RRM_OK);
    CHECK_EQ(v.verdict, V1);
    CHECK_MSG(rrm_time_s() - t0 < 2.0, "parse took %.2f s", rrm_time_s() - t0);
    rrm_str_free(&s);
    CHECK_STR(rrm_verdict_name(V1), "assistant_1");
    CHECK_STR(rrm_verdict_name(V2), "assistant_2");
    CHECK_STR(rrm_verdict_name(-3), "invalid");
    CHECK_STR(rrm_verdict_reason_name(RRM_VREASON_ONLY_IN_THOUGHT), "only_in_thought");
    CHECK_STR(rrm_verdict_reason_name(99), "?");
}

static void test_vote(void)
{
    rrm_err e = {0};
    rrm_vote_result r;
    int v1[] = {RRM_PICK_A, RRM_PICK_B, RRM_PICK_A, RRM_PICK_NONE};
    CHECK_EQ(rrm_vote_tally(v1, 4, &r, &e), RRM_OK);
    CHECK_EQ(r.winner, RRM_PICK_A);
    CHECK_EQ(r.n_a, 2);
    CHECK_EQ(r.n_b, 1);
    CHECK_EQ(r.n_invalid, 1);
    CHECK_EQ(r.n_votes, 4);
    CHECK_NEAR(r.confidence, 2.0 / 3.0, 1e-15);
    int v2[] = {RRM_PICK_A, RRM_PICK_B};
    CHECK_EQ(rrm_vote_tally(v2, 2, &r, &e), RRM_OK);
    CHECK_EQ(r.winner, RRM_PICK_NONE);
    CHECK_NEAR(r.confidence, 0.5, 0);
    int v3[] = {RRM_PICK_NONE, RRM_PICK_NONE, RRM_PICK_NONE};
    CHECK_EQ(rrm_vote_tally(v3, 3, &r, &e), RRM_OK);
    CHECK_EQ(r.winner, RRM_PICK_NONE);
    CHECK_EQ(r.n_invalid, 3);
    CHECK_NEAR(r.confidence, 0, 0);
    int v4[] = {RRM_PICK_B};
    CHECK_EQ(rrm_vote_tally(v4, 1, &r, &e), RRM_OK);
    CHECK_EQ(r.winner, RRM_PICK_B);
    CHECK_NEAR(r.confidence, 1, 0);
    CHECK_EQ(rrm_vote_tally(v4, 0, &r, &e), RRM_E_INVAL);
    CHECK(strstr(e.msg, "k = 0") != NULL);
    CHECK_EQ(rrm_vote_tally(NULL, 2, &r, &e), RRM_E_INVAL);
    int bad[] = {RRM_PICK_A, 7};
    CHECK_EQ(rrm_vote_tally(bad, 2, &r, &e), RRM_E_INVAL);
    CHECK(strstr(e.msg, "vote 1") != NULL);
}

/* Outcome of final counts: A, B or no decision. */
static int outcome(int a, int b)
{
    return a > b ? RRM_PICK_A : b > a ? RRM_PICK_B : RRM_PICK_NONE;
}

/* Exhaustive: for every k <= 16 and every state (a, b, invalid, remaining) with
 * a + b + invalid + remaining = k, rrm_vote_decided agrees with brute force over every way of
 * casting the remaining votes (x for A, y for B, the rest invalid). */
static void test_vote_decided(void)
{
    long states = 0, mismatches = 0, decided_early = 0;
    for (int k = 1; k <= 16; k++) {
        for (int rem = 0; rem <= k; rem++) {
            for (int a = 0; a + rem <= k; a++) {
                for (int b = 0; a + b + rem <= k; b++) {
                    int first = -1, fixed = 1;
                    for (int x = 0; x <= rem && fixed; x++) {
                        for (int y = 0; x + y <= rem; y++) {
                            int o = outcome(a + x, b + y);
                            if (first < 0) first = o;
                            if (o != first) {
                                fixed = 0;
                                break;
                            }
                        }
                    }
                    states++;
                    if (rrm_vote_decided(a, b, rem) != fixed) mismatches++;
                    if (fixed && rem > 0) decided_early++;
                }
            }
        }
    }
    CHECK_EQ(mismatches, 0);
    CHECK(states > 3000 && decided_early > 100);
    CHECK_EQ(rrm_vote_decided(5, 0, 4), 1);
    CHECK_EQ(rrm_vote_decided(5, 1, 4), 0);
    CHECK_EQ(rrm_vote_decided(3, 3, 0), 1);
    CHECK_EQ(rrm_vote_decided(-1, 0, 0), 0);
    CHECK_EQ(rrm_vote_decided(0, 0, -1), 0);
}

static void test_json(void)
{
    rrm_err e = {0};
    const char *t = "<think>x</think> \\boxed{Assistant 2}";
    rrm_verdict_info v;
    CHECK_EQ(rrm_verdict_parse(t, strlen(t), &v, &e), RRM_OK);
    json_t *j = judge_verdict_json(&v, t, strlen(t));
    char *s = NULL;
    CHECK_EQ(rrm_json_dump(j, JSON_COMPACT | JSON_SORT_KEYS, &s, &e), RRM_OK);
    CHECK_STR(s, "{\"answer_begin\":16,\"box\":[17,36],\"box_text\":\"\\\\boxed{Assistant 2}\","
                 "\"has_think_end\":true,\"reason\":\"ok\",\"verdict\":\"assistant_2\"}");
    rrm_free(s);
    json_decref(j);
    CHECK_EQ(rrm_verdict_parse("\\boxed{\xff}", 9, &v, &e), RRM_OK);
    j = judge_verdict_json(&v, "\\boxed{\xff}", 9);
    CHECK(json_is_null(json_object_get(j, "box_text")));
    CHECK_STR(json_string_value(json_object_get(j, "reason")), "bad_label");
    json_decref(j);
    CHECK_EQ(rrm_verdict_parse("none", 4, &v, &e), RRM_OK);
    j = judge_verdict_json(&v, "none", 4);
    CHECK(json_is_null(json_object_get(j, "box")));
    json_decref(j);
    rrm_vote_result r = {RRM_PICK_NONE, 1, 1, 2, 4, 0.5};
    j = judge_vote_json(&r);
    CHECK_EQ(rrm_json_dump(j, JSON_COMPACT | JSON_SORT_KEYS, &s, &e), RRM_OK);
    CHECK_STR(s, "{\"a\":1,\"b\":1,\"confidence\":0.5,\"invalid\":2,\"votes\":4,\"winner\":null}");
    rrm_free(s);
    json_decref(j);
    CHECK_STR(judge_pick_name(RRM_PICK_B), "B");
    CHECK(judge_pick_name(RRM_PICK_NONE) == NULL);
    CHECK(judge_verdict_json(NULL, NULL, 0) == NULL);
    CHECK_EQ(rrm_json_dump(NULL, 0, &s, &e), RRM_E_INVAL);
    /* OOM in the builders: NULL and no leak */
    long live = rrm_alloc_live();
    int built = 0;
    for (long n = 0; n < 40 && !built; n++) {
        rrm_alloc_fail_at(n);
        json_t *a = judge_verdict_json(&v, "none", 4);
        json_t *b = judge_vote_json(&r);
        rrm_alloc_fail_at(-1);
        built = a && b;
        json_decref(a);
        json_decref(b);
        CHECK_EQ(rrm_alloc_live(), live);
    }
    CHECK(built);
}

int main(void)
{
    long live = rrm_alloc_live();
    test_embedded_strings();
    test_fixture();
    test_messages_input();
    test_swap();
    test_verdict_table();
    test_verdict_edges();
    test_vote();
    test_vote_decided();
    test_json();
    CHECK_EQ(rrm_alloc_live(), live);
    return TEST_DONE("test_judge");
}
