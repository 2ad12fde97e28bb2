/* test_eval.c — unit tests for src/eval: scoring on synthetic outcomes with hand-computed
 * subset, section and overall scores (math-prm weight 984, the 0.5 rule, PandaLM ties, empty
 * subsets), the readers on malformed rows (file and line, skip or fail, OOM injection), the
 * shipped data's row counts, results.jsonl torn-line repair, run.json round trip and compare. */
#include "eval/eval.h"
#include "../../tests/harness.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static const char *data_dir(void)
{
    return access("../shared/data/rewardbench", R_OK) == 0 ? "../shared/data"
                                                            : "/work/shared/data";
}

static void test_row_score(void)
{
    CHECK(eval_row_score(EVAL_GOLD_A, RRM_PICK_A, 0.5) == 1.0);
    CHECK(eval_row_score(EVAL_GOLD_A, RRM_PICK_B, 0.5) == 0.0);
    CHECK(eval_row_score(EVAL_GOLD_B, RRM_PICK_B, 0.5) == 1.0);
    CHECK(eval_row_score(EVAL_GOLD_B, RRM_PICK_NONE, 0.5) == 0.5);
    CHECK(eval_nd_credit(EVAL_BENCH_REWARDBENCH, 1) == 0.5);
    CHECK(eval_nd_credit(EVAL_BENCH_JUDGEBENCH, 0) == 0.5);
    CHECK(eval_nd_credit(EVAL_BENCH_JUDGEBENCH, 1) == 0.0);
}

/* JudgeBench both orders (utils/metrics.py): per-order majority, +1 / -1, sign decides. */
static void test_decide(void)
{
    enum { A = RRM_PICK_A, B = RRM_PICK_B, N = RRM_PICK_NONE };
    const int right_none[] = {A, N}, right_wrong[] = {A, B}, both_b[] = {B, B};
    CHECK_EQ(eval_decide(EVAL_BENCH_JUDGEBENCH, right_none, 1, 1, 1), A); /* +1 + 0 */
    CHECK_EQ(eval_decide(EVAL_BENCH_JUDGEBENCH, right_wrong, 1, 1, 1), N); /* inconsistent */
    CHECK_EQ(eval_decide(EVAL_BENCH_JUDGEBENCH, both_b, 1, 1, 1), B);
    /* k = 3 per order: order 1 A A B (majority A), order 2 B B N (majority B): JudgeBench's
     * counter is 0 -> no decision; the other benchmarks take all 6 votes: 2 A vs 3 B -> B. */
    const int k3[] = {A, A, B, B, B, N};
    CHECK_EQ(eval_decide(EVAL_BENCH_JUDGEBENCH, k3, 3, 3, 1), N);
    CHECK_EQ(eval_decide(EVAL_BENCH_LLMBAR, k3, 3, 3, 1), B);
    CHECK_EQ(eval_decide(EVAL_BENCH_LLMBAR, k3, 3, 3, 0), A);  /* one order: A A B */
    CHECK_EQ(eval_decide(EVAL_BENCH_LLMBAR, k3, 1, 3, 1), N);  /* first vote of each: A vs B */
    /* Scoring: JudgeBench both orders gives 0 for no decision, single order 0.5. */
    const struct eval_outcome o[] = {{"gpt-4o/math", EVAL_GOLD_A, A},
                                     {"gpt-4o/math", EVAL_GOLD_A, N}};
    struct eval_scores s;
    CHECK_EQ(eval_score(EVAL_BENCH_JUDGEBENCH, 1, o, 2, &s, NULL), RRM_OK);
    CHECK_NEAR(s.overall, 0.5, 1e-12);
    CHECK_EQ(eval_score(EVAL_BENCH_JUDGEBENCH, 0, o, 2, &s, NULL), RRM_OK);
    CHECK_NEAR(s.overall, 0.75, 1e-12);
}

static const struct eval_section_score *section(const struct eval_scores *s, const char *n)
{
    for (int i = 0; i < s->n_sections; i++)
        if (strcmp(s->sections[i].name, n) == 0) return &s->sections[i];
    return NULL;
}

static const struct eval_subset_score *subset(const struct eval_scores *s, const char *n)
{
    for (int i = 0; i < s->n_subsets; i++)
        if (strcmp(s->subsets[i].name, n) == 0) return &s->subsets[i];
    return NULL;
}

static void test_rewardbench_partial(void)
{
    const struct eval_outcome o[] = {
        {"alpacaeval-easy", EVAL_GOLD_A, RRM_PICK_A},   {"alpacaeval-easy", EVAL_GOLD_A, 0},
        {"mt-bench-easy", EVAL_GOLD_A, RRM_PICK_B},     {"llmbar-natural", EVAL_GOLD_A, 0},
        {"donotanswer", EVAL_GOLD_A, RRM_PICK_A},       {"math-prm", EVAL_GOLD_A, RRM_PICK_A},
        {"math-prm", EVAL_GOLD_A, RRM_PICK_A},          {"hep-cpp", EVAL_GOLD_A, RRM_PICK_B},
    };
    struct eval_scores s;
    rrm_err e = {0};
    CHECK_EQ(eval_score(EVAL_BENCH_REWARDBENCH, 0, o, 8, &s, &e), RRM_OK);
    CHECK_EQ(s.n_subsets, 23);
    CHECK_EQ(s.n_sections, 4);
    CHECK_NEAR(subset(&s, "alpacaeval-easy")->score, 0.75, 1e-12); /* 1 + 0.5 (no decision) */
    CHECK_EQ(subset(&s, "alpacaeval-easy")->no_decision, 1);
    CHECK(isnan(subset(&s, "alpacaeval-hard")->score));          /* empty subset */
    /* Chat = (0.75 * 100 + 0 * 28) / 128; empty subsets are left out of the weights. */
    CHECK_NEAR(section(&s, "Chat")->score, 75.0 / 128.0, 1e-12);
    CHECK_EQ(section(&s, "Chat")->subsets_present, 2);
    CHECK_EQ(section(&s, "Chat")->subsets_total, 5);
    CHECK_NEAR(section(&s, "Chat Hard")->score, 0.5, 1e-12);
    CHECK_NEAR(section(&s, "Safety")->score, 1.0, 1e-12);
    /* Reasoning = (1.0 * 984 + 0 * 164) / 1148, not (1 + 0) / 2 and not 2 of 3 rows. */
    CHECK_NEAR(section(&s, "Reasoning")->score, 984.0 / 1148.0, 1e-12);
    CHECK_NEAR(s.overall, (75.0 / 128.0 + 0.5 + 1.0 + 984.0 / 1148.0) / 4, 1e-12);
    CHECK_EQ(s.overall_partial, 1);
    CHECK_EQ(s.no_decision, 2);
}

static void test_rewardbench_full(void)
{
    /* One row per subset, all right except math-prm: Reasoning = 6 * 164 / 1968 = 0.5. */
    static const char *const names[] = {
        "alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy",
        "mt-bench-med", "mt-bench-hard", "llmbar-natural", "llmbar-adver-neighbor",
        "llmbar-adver-GPTInst", "llmbar-adver-GPTOut", "llmbar-adver-manual",
        "refusals-dangerous", "refusals-offensive", "xstest-should-refuse",
        "xstest-should-respond", "donotanswer", "math-prm", "hep-cpp", "hep-go", "hep-java",
        "hep-js", "hep-python", "hep-rust"};
    struct eval_outcome o[23];
    for (int i = 0; i < 23; i++)
        o[i] = (struct eval_outcome){names[i], EVAL_GOLD_B,
                                     strcmp(names[i], "math-prm") == 0 ? RRM_PICK_A : RRM_PICK_B};
    struct eval_scores s;
    CHECK_EQ(eval_score(EVAL_BENCH_REWARDBENCH, 0, o, 23, &s, NULL), RRM_OK);
    CHECK_NEAR(section(&s, "Reasoning")->score, 0.5, 1e-12);
    CHECK_NEAR(section(&s, "Chat")->score, 1.0, 1e-12);
    CHECK_NEAR(s.overall, 0.875, 1e-12);
    CHECK_EQ(s.overall_partial, 0);
    /* All invalid: every row 0.5, so every section and the overall are 0.5. */
    for (int i = 0; i < 23; i++) o[i].winner = RRM_PICK_NONE;
    CHECK_EQ(eval_score(EVAL_BENCH_REWARDBENCH, 0, o, 23, &s, NULL), RRM_OK);
    CHECK_NEAR(s.overall, 0.5, 1e-12);
    CHECK_EQ(s.no_decision, 23);
}

static void test_pandalm_ties(void)
{
    const struct eval_outcome o[] = {
        {"pandalm", EVAL_GOLD_TIE, RRM_PICK_NONE}, /* agreement: predicted tie */
        {"pandalm", EVAL_GOLD_TIE, RRM_PICK_A},    /* a binary answer misses a tie */
        {"pandalm", EVAL_GOLD_A, RRM_PICK_A},
        {"pandalm", EVAL_GOLD_B, RRM_PICK_NONE},   /* 0.5 in accuracy, a miss in agreement */
        {"pandalm", EVAL_GOLD_B, RRM_PICK_A},
    };
    struct eval_scores s;
    CHECK_EQ(eval_score(EVAL_BENCH_PANDALM, 0, o, 5, &s, NULL), RRM_OK);
    CHECK_EQ(s.subsets[0].ties, 2);
    CHECK_EQ(s.subsets[0].rows, 5);
    CHECK_NEAR(s.overall, 1.5 / 3.0, 1e-12); /* non-tie rows: 1 + 0.5 + 0 */
    CHECK_NEAR(s.agreement, 2.0 / 5.0, 1e-12);
    CHECK_EQ(s.n_sections, 0);
    /* Only ties: no non-tie accuracy at all. */
    CHECK_EQ(eval_score(EVAL_BENCH_PANDALM, 0, o, 2, &s, NULL), RRM_OK);
    CHECK(isnan(s.overall));
    CHECK_NEAR(s.agreement, 0.5, 1e-12);
}

static void test_empty_and_errors(void)
{
    struct eval_scores s;
    rrm_err e = {0};
    CHECK_EQ(eval_score(EVAL_BENCH_REWARDBENCH, 0, NULL, 0, &s, &e), RRM_OK);
    CHECK(isnan(s.overall));
    CHECK_EQ(s.overall_partial, 1);
    const struct eval_outcome lb[] = {{"natural", EVAL_GOLD_A, RRM_PICK_A},
                                      {"natural", EVAL_GOLD_B, RRM_PICK_A}};
    CHECK_EQ(eval_score(EVAL_BENCH_LLMBAR, 0, lb, 2, &s, &e), RRM_OK);
    CHECK_NEAR(s.overall, 0.5, 1e-12);
    CHECK(isnan(section(&s, "Adversarial")->score));
    CHECK_EQ(s.overall_partial, 1);
    const struct eval_outcome tie[] = {{"hep-go", EVAL_GOLD_TIE, RRM_PICK_A}};
    CHECK_EQ(eval_score(EVAL_BENCH_REWARDBENCH, 0, tie, 1, &s, &e), RRM_E_FORMAT);
    const struct eval_outcome unk[] = {{"hep-cobol", EVAL_GOLD_A, RRM_PICK_A}};
    CHECK_EQ(eval_score(EVAL_BENCH_REWARDBENCH, 0, unk, 1, &s, &e), RRM_E_FORMAT);
    CHECK(strstr(e.msg, "hep-cobol") != NULL);
    /* jsonl: subsets in order of appearance, micro accuracy over rows. */
    const struct eval_outcome js[] = {{"x", EVAL_GOLD_A, RRM_PICK_A}, {"y", EVAL_GOLD_B, 0},
                                      {"x", EVAL_GOLD_A, RRM_PICK_B}, {"x", EVAL_GOLD_A, 1}};
    CHECK_EQ(eval_score(EVAL_BENCH_JSONL, 0, js, 4, &s, &e), RRM_OK);
    CHECK_EQ(s.n_subsets, 2);
    CHECK_STR(s.subsets[0].name, "x");
    CHECK_NEAR(s.subsets[0].score, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(s.overall, 2.5 / 4.0, 1e-12);
}

/* ---- readers ---- */

struct bad_log {
    int n;
    int64_t lines[16];
    char msgs[16][200];
};

static void log_bad(const char *file, int64_t line, const char *msg, void *user)
{
    struct bad_log *b = user;
    (void)file;
    if (b->n < 16) {
        b->lines[b->n] = line;
        snprintf(b->msgs[b->n], sizeof b->msgs[0], "%s", msg);
    }
    b->n++;
}

static const char bad_jsonl[] =
    "{\"id\": 1, \"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}\n"    /* 1 ok */
    "{\"id\": 2, \"prompt\": \"q\", \"chosen\": \"a\"}\n"                         /* 2 missing */
    "{\"id\": 3, \"prompt\": 7, \"chosen\": \"a\", \"rejected\": \"b\"}\n"        /* 3 not str */
    "{\"id\": 4, \"prompt\": \"\xff\xfe\", \"chosen\": \"a\", \"rejected\": \"b\"}\n" /* 4 UTF-8 */
    "{\"id\": 1, \"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}\n"    /* 5 dup id */
    "not json at all\n"                                                            /* 6 */
    "\n"                                                                           /* 7 blank */
    "{\"id\": \"x\", \"subset\": \"s\", \"prompt\": \"q\", \"response1\": \"a\", "
    "\"response2\": \"b\", \"label\": 2}\n"                                        /* 8 ok */
    "{\"id\": 9, \"prompt\": \"q\\u0000\", \"chosen\": \"a\", \"rejected\": \"b\"}\n" /* 9 NUL */
    "{\"id\": 10, \"prompt\": \"q\", \"response1\": \"a\", \"response2\": \"b\", "
    "\"label\": 3}\n"                                                              /* 10 label */
    "[1, 2]\n";                                                                    /* 11 array */

static void test_reader_jsonl(void)
{
    struct eval_dataset d;
    memset(&d, 0, sizeof d);
    struct bad_log b = {0};
    rrm_err e = {0};
    CHECK_EQ(eval_dataset_parse(&d, EVAL_BENCH_JSONL, "t.jsonl", bad_jsonl, sizeof bad_jsonl - 1,
                                0, log_bad, &b, &e), RRM_OK);
    CHECK_EQ(d.n_rows, 2);
    CHECK_EQ(d.n_bad, 8);
    CHECK_EQ(b.n, 8);
    const int64_t want[] = {2, 3, 4, 5, 6, 9, 10, 11};
    for (int i = 0; i < 8 && i < b.n; i++) CHECK_EQ(b.lines[i], want[i]);
    CHECK(strstr(b.msgs[0], "\"rejected\"") != NULL);
    CHECK(strstr(b.msgs[1], "not a string") != NULL);
    CHECK(strstr(b.msgs[3], "duplicate") != NULL);
    if (d.n_rows == 2) {
        CHECK_STR(d.rows[1].subset, "s");
        CHECK_EQ(d.rows[1].gold, EVAL_GOLD_B);
        CHECK_EQ(d.rows[0].gold, EVAL_GOLD_A);
        CHECK_EQ(d.rows[1].ordinal, 1);
        CHECK(d.rows[1].key == eval_row_key("s", "x"));
    }
    eval_dataset_free(&d);
    /* fail mode: the first bad row is an error naming file and line. */
    memset(&d, 0, sizeof d);
    CHECK_EQ(eval_dataset_parse(&d, EVAL_BENCH_JSONL, "t.jsonl", bad_jsonl, sizeof bad_jsonl - 1,
                                1, NULL, NULL, &e), RRM_E_FORMAT);
    CHECK(strstr(e.msg, "t.jsonl:2:") != NULL);
    eval_dataset_free(&d);
}

static void test_reader_array(void)
{
    const char *arr = "[\n  {\"input\": \"q\", \"output_1\": \"a\", \"output_2\": \"b\", "
                      "\"label\": 2},\n  {\"input\": \"q\\\"]\", \"output_1\": [\"{\"], "
                      "\"output_2\": \"b\", \"label\": 1},\n\n  {\"input\": \"q\", "
                      "\"output_1\": \"a\", \"output_2\": \"b\", \"label\": 1}\n]\n";
    struct eval_dataset d;
    memset(&d, 0, sizeof d);
    struct bad_log b = {0};
    rrm_err e = {0};
    CHECK_EQ(eval_dataset_parse(&d, EVAL_BENCH_LLMBAR, "Natural.json", arr, strlen(arr), 0,
                                log_bad, &b, &e), RRM_OK);
    CHECK_EQ(d.n_rows, 2);
    CHECK_EQ(b.n, 1);
    CHECK_EQ(b.lines[0], 3);
    if (d.n_rows == 2) {
        CHECK_STR(d.rows[1].id, "2"); /* position in the file, the bad row counted */
        CHECK_EQ(d.rows[0].gold, EVAL_GOLD_B);
    }
    eval_dataset_free(&d);
    const char *broken[] = {"[{\"input\": 1}", "[{}] x", "[{} {}]", "[\"unterminated]", "["};
    for (int i = 0; i < 5; i++) {
        memset(&d, 0, sizeof d);
        CHECK_EQ(eval_dataset_parse(&d, EVAL_BENCH_LLMBAR, "x.json", broken[i], strlen(broken[i]),
                                    1, NULL, NULL, &e), RRM_E_FORMAT);
        eval_dataset_free(&d);
    }
    memset(&d, 0, sizeof d);
    CHECK_EQ(eval_dataset_parse(&d, EVAL_BENCH_LLMBAR, "x.json", "[ ]", 3, 0, NULL, NULL, &e),
             RRM_OK);
    CHECK_EQ(d.n_rows, 0);
    eval_dataset_free(&d);
}

static void test_reader_oom(void)
{
    long live = rrm_alloc_live();
    int ok = 0;
    for (long n = 0; n < 400; n++) {
        struct eval_dataset d;
        memset(&d, 0, sizeof d);
        rrm_alloc_fail_at(n);
        int rc = eval_dataset_parse(&d, EVAL_BENCH_JSONL, "t.jsonl", bad_jsonl,
                                    sizeof bad_jsonl - 1, 0, NULL, NULL, NULL);
        rrm_alloc_fail_at(-1);
        CHECK(rc == RRM_OK || rc == RRM_E_NOMEM);
        if (rc == RRM_OK) {
            CHECK_EQ(d.n_rows, 2);
            ok = 1;
        }
        eval_dataset_free(&d);
        CHECK_EQ(rrm_alloc_live(), live);
        if (rc == RRM_OK) break;
    }
    CHECK(ok);
}

static void test_shipped_data(void)
{
    struct eval_dataset d;
    rrm_err e = {0};
    CHECK_EQ(eval_dataset_load(&d, "rewardbench", data_dir(), 1, NULL, NULL, &e), RRM_OK);
    CHECK_EQ(d.n_rows, 2985);
    int64_t mp = 0, dna = 0;
    for (int64_t i = 0; i < d.n_rows; i++) {
        mp += strcmp(d.rows[i].subset, "math-prm") == 0;
        dna += strcmp(d.rows[i].subset, "donotanswer") == 0 && strcmp(d.rows[i].id, "3692") == 0;
    }
    CHECK_EQ(mp, 447);
    CHECK_EQ(dna, 1); /* id 3692 is also in hep-python: rows are keyed by subset + id */
    eval_dataset_free(&d);
    CHECK_EQ(eval_dataset_load(&d, "pandalm", data_dir(), 1, NULL, NULL, &e), RRM_OK);
    if (e.code) fprintf(stderr, "%s\n", e.msg);
    CHECK_EQ(d.n_rows, 999);
    int64_t g[3] = {0, 0, 0};
    for (int64_t i = 0; i < d.n_rows; i++) g[d.rows[i].gold]++;
    CHECK_EQ(g[EVAL_GOLD_TIE], 105);
    CHECK_EQ(g[EVAL_GOLD_A], 422);
    CHECK_EQ(g[EVAL_GOLD_B], 472);
    eval_dataset_free(&d);
    CHECK_EQ(eval_dataset_load(&d, "llmbar", data_dir(), 1, NULL, NULL, &e), RRM_OK);
    CHECK_EQ(d.n_rows, 419);
    eval_dataset_free(&d);
    CHECK_EQ(eval_dataset_load(&d, "judgebench", data_dir(), 1, NULL, NULL, &e), RRM_OK);
    CHECK_EQ(d.n_rows, 620);
    int64_t know = 0;
    for (int64_t i = 0; i < d.n_rows; i++)
        know += strcmp(d.rows[i].subset, "gpt-4o/knowledge") == 0;
    CHECK_EQ(know, 154);
    eval_dataset_free(&d);
    CHECK_EQ(eval_dataset_load(&d, "nosuch", data_dir(), 1, NULL, NULL, &e), RRM_E_INVAL);
    CHECK_EQ(eval_dataset_load(&d, "jsonl:/nonexistent.jsonl", NULL, 1, NULL, NULL, &e), RRM_E_IO);
}

/* ---- results.jsonl and run.json ---- */

static const char *line_ok(int row, const char *id)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"subset\":\"s\",\"id\":\"%s\",\"row\":%d,\"gold\":\"A\",\"swapped\":false,"
             "\"winner\":\"A\",\"votes\":{\"a\":1,\"b\":0,\"invalid\":0},\"picks\":[\"A\"],"
             "\"tokens\":[5],\"prompt_tokens\":9,\"seconds\":0.5}\n", id, row);
    return buf;
}

static void write_str(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(s, f);
        fclose(f);
    }
}

static void test_results_file(void)
{
    char path[] = "/tmp/rrm-test-eval-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
    char text[2048];
    snprintf(text, sizeof text, "%s", line_ok(0, "a"));
    strcat(text, line_ok(1, "b"));
    size_t good = strlen(text);
    strcat(text, "{\"subset\":\"s\",\"id\":\"c\",\"ro"); /* torn by a kill */
    write_str(path, text);
    struct eval_results rs;
    int torn = 0;
    rrm_err e = {0};
    CHECK_EQ(eval_results_read(path, 0, &rs, &torn, &e), RRM_OK);
    CHECK_EQ(rs.n, 2);
    CHECK_EQ(torn, 1);
    eval_results_free(&rs);
    CHECK_EQ(eval_results_read(path, 1, &rs, &torn, &e), RRM_OK); /* repair */
    eval_results_free(&rs);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    CHECK_EQ(ftell(f), (long)good);
    fclose(f);
    CHECK_EQ(eval_results_read(path, 1, &rs, &torn, &e), RRM_OK);
    CHECK_EQ(torn, 0);
    if (rs.n == 2) {
        CHECK_STR(rs.r[1].id, "b");
        CHECK_EQ(rs.r[1].winner, RRM_PICK_A);
        CHECK_EQ(rs.r[1].gen_tokens, 5);
    }
    eval_results_free(&rs);
    /* Damage before the last line is not a torn write: refuse. */
    snprintf(text, sizeof text, "%s", line_ok(0, "a"));
    strcat(text, "{garbage}\n");
    strcat(text, line_ok(1, "b"));
    write_str(path, text);
    CHECK_EQ(eval_results_read(path, 1, &rs, &torn, &e), RRM_E_FORMAT);
    CHECK(strstr(e.msg, "line 2") != NULL);
    /* The same row twice: refuse. */
    snprintf(text, sizeof text, "%s", line_ok(0, "a"));
    strcat(text, line_ok(0, "a"));
    write_str(path, text);
    CHECK_EQ(eval_results_read(path, 1, &rs, &torn, &e), RRM_E_FORMAT);
    CHECK(strstr(e.msg, "twice") != NULL);
    unlink(path);
    CHECK_EQ(eval_results_read(path, 1, &rs, &torn, &e), RRM_OK); /* missing = empty */
    CHECK_EQ(rs.n, 0);
}

static void test_settings(void)
{
    rrm_json_init();
    struct eval_settings a, b;
    memset(&a, 0, sizeof a);
    snprintf(a.bench, sizeof a.bench, "rewardbench");
    snprintf(a.model, sizeof a.model, "/m");
    snprintf(a.model_id, sizeof a.model_id, "0123456789abcdef");
    snprintf(a.data_hash, sizeof a.data_hash, "fedcba9876543210");
    a.k = 16;
    a.seed = 18446744073709551615ull;
    a.max_tokens = 8192;
    a.temperature = 0.6f;
    a.top_p = 1;
    a.shard_i = 2;
    a.shard_n = 3;
    a.limit = 10;
    a.selection_rows = 10;
    json_t *j = eval_settings_json(&a);
    rrm_err e = {0};
    CHECK_EQ(eval_settings_from_json(j, &b, &e), RRM_OK);
    json_decref(j);
    char why[300];
    CHECK_EQ(eval_settings_differ(&a, &b, 0, why, sizeof why), 0);
    CHECK(b.seed == a.seed);
    b.limit = 20; /* a longer --limit continues the same run */
    CHECK_EQ(eval_settings_differ(&a, &b, 0, why, sizeof why), 0);
    b.k = 1;
    CHECK_EQ(eval_settings_differ(&a, &b, 0, why, sizeof why), 1);
    CHECK(strstr(why, "k (votes)") != NULL);
    b.k = 16;
    b.shard_i = 1;
    CHECK_EQ(eval_settings_differ(&a, &b, 0, why, sizeof why), 1);
    CHECK_EQ(eval_settings_differ(&a, &b, 1, why, sizeof why), 0);
}

int main(void)
{
    test_row_score();
    test_decide();
    test_rewardbench_partial();
    test_rewardbench_full();
    test_pandalm_ties();
    test_empty_and_errors();
    test_reader_jsonl();
    test_reader_array();
    test_reader_oom();
    test_shipped_data();
    test_results_file();
    test_settings();
    return TEST_DONE("test_eval");
}
