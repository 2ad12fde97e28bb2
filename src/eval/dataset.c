/*
 * dataset.c — benchmark readers. Each file is JSON Lines or one JSON array; either way every row
 * is parsed on its own (Jansson, duplicate keys rejected, invalid UTF-8 and \u0000 rejected), so
 * one bad row is reported with its file and line and can be skipped without losing the others.
 * A JSON array is split into elements by a bounded scanner that tracks strings and nesting only.
 *
 * Row mapping (a = the side the dataset calls chosen / response1 / output_1 / response_A):
 *  rewardbench  rewardbench/rewardbench_filtered.jsonl: subset, id, prompt, chosen, rejected
 *  pandalm      pandalm/testset-v1.json: idx, instruction (+ "\n\n" + input when non-empty),
 *               response1, response2 (a JSON true/false there is the text "True"/"False"),
 *               gold = majority of annotator1..3 (0 tie, 1, 2)
 *  llmbar       llmbar/{Natural,Adversarial_*}.json: id = position in the file, input,
 *               output_1, output_2, label 1 | 2
 *  judgebench   judgebench/judgebench_{gpt-4o,claude}*.jsonl: pair_id, question, response_A,
 *               response_B, label "A>B" | "B>A"; subset = responder/category (DESIGN.md §6)
 *  jsonl:FILE   {"id", "prompt", "chosen", "rejected"} or {"id", "prompt", "response1",
 *               "response2", "label": 1 | 2 | 0 (tie)}, optional "subset" (default "all")
 */
#include "eval/eval.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

uint64_t eval_fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull; /* FNV-1a 64 prime */
    }
    return h;
}

uint64_t eval_row_key(const char *subset, const char *id)
{
    uint64_t h = eval_fnv(EVAL_FNV_INIT, subset, strlen(subset));
    h = eval_fnv(h, "", 1);
    return eval_fnv(h, id, strlen(id));
}

int eval_bench_parse(const char *name, rrm_err *err)
{
    if (!name) return rrm_errf(err, RRM_E_INVAL, "eval: no benchmark named");
    if (strcmp(name, "rewardbench") == 0) return EVAL_BENCH_REWARDBENCH;
    if (strcmp(name, "pandalm") == 0) return EVAL_BENCH_PANDALM;
    if (strcmp(name, "llmbar") == 0) return EVAL_BENCH_LLMBAR;
    if (strcmp(name, "judgebench") == 0) return EVAL_BENCH_JUDGEBENCH;
    if (strncmp(name, "jsonl:", 6) == 0 && name[6]) return EVAL_BENCH_JSONL;
    return rrm_errf(err, RRM_E_INVAL,
                    "eval: unknown benchmark '%s' (rewardbench, pandalm, llmbar, judgebench or "
                    "jsonl:FILE)",
                    name);
}

void eval_dataset_free(struct eval_dataset *d)
{
    if (!d) return;
    for (int64_t i = 0; i < d->n_rows; i++) {
        struct eval_row *r = &d->rows[i];
        rrm_free(r->subset);
        rrm_free(r->id);
        rrm_free(r->prompt);
        rrm_free(r->a);
        rrm_free(r->b);
    }
    rrm_free(d->rows);
    for (int i = 0; i < d->n_files; i++) rrm_free(d->files[i]);
    rrm_free(d->files);
    rrm_free(d->name);
    memset(d, 0, sizeof *d);
}

/* ---- one row object -> struct eval_row ---- */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* A string field; writes a message into why on failure. */
static int get_text(json_t *o, const char *field, const char **s, size_t *len, char *why,
                    size_t wl)
{
    json_t *v = json_object_get(o, field);
    if (!v) {
        snprintf(why, wl, "field \"%s\" is missing", field);
        return -1;
    }
    if (!json_is_string(v)) {
        snprintf(why, wl, "field \"%s\" is %s, not a string", field, type_name(v));
        return -1;
    }
    *s = json_string_value(v);
    *len = json_string_length(v);
    return 0;
}

/* An id: a string (non-empty) or an integer, as text. */
static int get_id(json_t *o, const char *field, char *buf, size_t bl, char *why, size_t wl)
{
    json_t *v = json_object_get(o, field);
    if (v && json_is_integer(v)) {
        snprintf(buf, bl, "%lld", (long long)json_integer_value(v));
        return 0;
    }
    if (v && json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < bl &&
        strlen(json_string_value(v)) == json_string_length(v)) {
        memcpy(buf, json_string_value(v), json_string_length(v) + 1);
        return 0;
    }
    if (!v)
        snprintf(why, wl, "field \"%s\" is missing", field);
    else
        snprintf(why, wl, "field \"%s\" must be an integer or a non-empty string of at most %zu "
                          "bytes, got %s", field, bl - 1, type_name(v));
    return -1;
}

/* An integer label within [lo, hi] (also accepted as a decimal string). */
static int get_label(json_t *o, const char *field, int lo, int hi, int *out, char *why, size_t wl)
{
    json_t *v = json_object_get(o, field);
    long long x = -1;
    if (v && json_is_integer(v)) x = json_integer_value(v);
    if (v && json_is_string(v) && json_string_length(v) == 1) x = json_string_value(v)[0] - '0';
    if (x < lo || x > hi) {
        snprintf(why, wl, "field \"%s\" must be an integer %d..%d, got %s", field, lo, hi,
                 v ? type_name(v) : "nothing");
        return -1;
    }
    *out = (int)x;
    return 0;
}

/* RewardBench subsets (PROVENANCE.md, 23 names). */
static const char *const rb_subsets[] = {
    "alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med",
    "mt-bench-hard", "llmbar-natural", "llmbar-adver-neighbor", "llmbar-adver-GPTInst",
    "llmbar-adver-GPTOut", "llmbar-adver-manual", "refusals-dangerous", "refusals-offensive",
    "xstest-should-refuse", "xstest-should-respond", "donotanswer", "math-prm", "hep-cpp",
    "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust",
};

/* Fields of one row, before copying. */
struct fields {
    char subset[256], id[256];
    const char *prompt, *a, *b;
    size_t prompt_len, a_len, b_len;
    char *joined;   /* PandaLM instruction + input, owned */
    int gold;
};

static int row_rewardbench(json_t *o, struct fields *f, char *why, size_t wl)
{
    const char *s;
    size_t sl;
    if (get_text(o, "subset", &s, &sl, why, wl)) return -1;
    int known = 0;
    for (size_t i = 0; i < sizeof rb_subsets / sizeof rb_subsets[0]; i++)
        known |= strcmp(s, rb_subsets[i]) == 0;
    if (!known || sl >= sizeof f->subset) {
        snprintf(why, wl, "subset \"%.64s\" is not a RewardBench subset", s);
        return -1;
    }
    memcpy(f->subset, s, sl + 1);
    if (get_id(o, "id", f->id, sizeof f->id, why, wl) ||
        get_text(o, "prompt", &f->prompt, &f->prompt_len, why, wl) ||
        get_text(o, "chosen", &f->a, &f->a_len, why, wl) ||
        get_text(o, "rejected", &f->b, &f->b_len, why, wl))
        return -1;
    f->gold = EVAL_GOLD_A;
    return 0;
}

/* PandaLM's testset-v1.json has 6 responses stored as JSON true (rows 157-164: the model
 * answered "True"); upstream Python reads them as str(True) = "True", and so do we. */
static int get_text_pandalm(json_t *o, const char *field, const char **s, size_t *len,
                            char *why, size_t wl)
{
    json_t *v = json_object_get(o, field);
    if (v && json_is_boolean(v)) {
        *s = json_is_true(v) ? "True" : "False";
        *len = strlen(*s);
        return 0;
    }
    return get_text(o, field, s, len, why, wl);
}

static int row_pandalm(json_t *o, struct fields *f, char *why, size_t wl)
{
    const char *ins, *inp;
    size_t il, nl;
    int l[3];
    strcpy(f->subset, "pandalm");
    if (get_id(o, "idx", f->id, sizeof f->id, why, wl) ||
        get_text(o, "instruction", &ins, &il, why, wl) ||
        get_text(o, "input", &inp, &nl, why, wl) ||
        get_text_pandalm(o, "response1", &f->a, &f->a_len, why, wl) ||
        get_text_pandalm(o, "response2", &f->b, &f->b_len, why, wl) ||
        get_label(o, "annotator1", 0, 2, &l[0], why, wl) ||
        get_label(o, "annotator2", 0, 2, &l[1], why, wl) ||
        get_label(o, "annotator3", 0, 2, &l[2], why, wl))
        return -1;
    int c[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) c[l[i]]++;
    /* Majority of three; a 1/1/1 split (absent from the shipped file) counts as a tie. */
    f->gold = c[1] >= 2 ? EVAL_GOLD_A : c[2] >= 2 ? EVAL_GOLD_B : EVAL_GOLD_TIE;
    if (nl == 0) {
        f->prompt = ins;
        f->prompt_len = il;
        return 0;
    }
    f->joined = rrm_malloc(il + nl + 3);
    if (!f->joined) {
        snprintf(why, wl, "out of memory");
        return -1;
    }
    memcpy(f->joined, ins, il);
    memcpy(f->joined + il, "\n\n", 2);
    memcpy(f->joined + il + 2, inp, nl + 1);
    f->prompt = f->joined;
    f->prompt_len = il + 2 + nl;
    return 0;
}

static int row_llmbar(json_t *o, struct fields *f, char *why, size_t wl)
{
    int lab;
    if (get_text(o, "input", &f->prompt, &f->prompt_len, why, wl) ||
        get_text(o, "output_1", &f->a, &f->a_len, why, wl) ||
        get_text(o, "output_2", &f->b, &f->b_len, why, wl) ||
        get_label(o, "label", 1, 2, &lab, why, wl))
        return -1;
    f->gold = lab;
    return 0;
}

/* JudgeBench categories (the paper's Knowledge / Reasoning / Math / Coding) by source. */
static const char *jb_category(const char *source)
{
    if (strncmp(source, "mmlu-pro", 8) == 0) return "knowledge";
    if (strcmp(source, "livebench-reasoning") == 0) return "reasoning";
    if (strcmp(source, "livebench-math") == 0) return "math";
    if (strcmp(source, "livecodebench") == 0) return "coding";
    return NULL;
}

static int row_judgebench(json_t *o, struct fields *f, const char *responder, char *why,
                          size_t wl)
{
    const char *src, *lab;
    size_t sl, ll;
    if (get_text(o, "source", &src, &sl, why, wl)) return -1;
    const char *cat = jb_category(src);
    if (!cat) {
        snprintf(why, wl, "source \"%.64s\" is not a JudgeBench category", src);
        return -1;
    }
    snprintf(f->subset, sizeof f->subset, "%s/%s", responder, cat);
    if (get_id(o, "pair_id", f->id, sizeof f->id, why, wl) ||
        get_text(o, "question", &f->prompt, &f->prompt_len, why, wl) ||
        get_text(o, "response_A", &f->a, &f->a_len, why, wl) ||
        get_text(o, "response_B", &f->b, &f->b_len, why, wl) ||
        get_text(o, "label", &lab, &ll, why, wl))
        return -1;
    if (strcmp(lab, "A>B") == 0) {
        f->gold = EVAL_GOLD_A;
    } else if (strcmp(lab, "B>A") == 0) {
        f->gold = EVAL_GOLD_B;
    } else {
        snprintf(why, wl, "label \"%.32s\" is neither \"A>B\" nor \"B>A\"", lab);
        return -1;
    }
    return 0;
}

static int row_jsonl(json_t *o, struct fields *f, char *why, size_t wl)
{
    const char *s;
    size_t sl;
    strcpy(f->subset, "all");
    if (json_object_get(o, "subset")) {
        if (get_text(o, "subset", &s, &sl, why, wl)) return -1;
        if (sl == 0 || sl >= sizeof f->subset || strlen(s) != sl) {
            snprintf(why, wl, "field \"subset\" must be a non-empty string of at most %zu bytes",
                     sizeof f->subset - 1);
            return -1;
        }
        memcpy(f->subset, s, sl + 1);
    }
    if (get_id(o, "id", f->id, sizeof f->id, why, wl) ||
        get_text(o, "prompt", &f->prompt, &f->prompt_len, why, wl))
        return -1;
    if (json_object_get(o, "chosen") || json_object_get(o, "rejected")) {
        if (get_text(o, "chosen", &f->a, &f->a_len, why, wl) ||
            get_text(o, "rejected", &f->b, &f->b_len, why, wl))
            return -1;
        f->gold = EVAL_GOLD_A;
        return 0;
    }
    if (get_text(o, "response1", &f->a, &f->a_len, why, wl) ||
        get_text(o, "response2", &f->b, &f->b_len, why, wl) ||
        get_label(o, "label", 0, 2, &f->gold, why, wl)) {
        if (!json_object_get(o, "response1"))
            snprintf(why, wl, "needs \"chosen\" + \"rejected\" or \"response1\" + \"response2\" + "
                              "\"label\"");
        return -1;
    }
    return 0;
}

/* ---- reading a file ---- */

struct reader {
    struct eval_dataset *d;
    const char *file;          /* for messages */
    const char *subset;        /* llmbar: from the file name; judgebench: the responder */
    int64_t index;             /* rows seen in this file (llmbar ids) */
    int fail_bad;
    eval_bad_row_fn bad_row;
    void *user;
    int64_t cap;
    rrm_err *err;
};

static int bad(struct reader *rd, int64_t line, const char *why)
{
    if (rd->fail_bad)
        return rrm_errf(rd->err, RRM_E_FORMAT, "eval: %s:%lld: %s (use --on-bad-row skip to skip "
                                               "it)", rd->file, (long long)line, why);
    if (rd->bad_row) rd->bad_row(rd->file, line, why, rd->user);
    rd->d->n_bad++;
    return RRM_OK;
}

static char *dup_text(const char *s, size_t n)
{
    char *p = rrm_malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* Appends a row (copies the fields); duplicates of (subset, id) are bad rows. */
static int add_row(struct reader *rd, const struct fields *f, int64_t line)
{
    struct eval_dataset *d = rd->d;
    uint64_t key = eval_row_key(f->subset, f->id);
    for (int64_t i = d->n_rows - 1; i >= 0; i--) { /* ids are few thousand: linear is fine */
        if (d->rows[i].key == key && strcmp(d->rows[i].subset, f->subset) == 0 &&
            strcmp(d->rows[i].id, f->id) == 0) {
            char why[400];
            snprintf(why, sizeof why, "duplicate id \"%.128s\" in subset \"%.128s\"", f->id,
                     f->subset);
            return bad(rd, line, why);
        }
    }
    if (d->n_rows == rd->cap) {
        int64_t nc = rd->cap ? rd->cap * 2 : 256;
        struct eval_row *nr = rrm_realloc(d->rows, (size_t)nc * sizeof *nr);
        if (!nr) return rrm_errf(rd->err, RRM_E_NOMEM, "eval: out of memory for rows");
        d->rows = nr;
        rd->cap = nc;
    }
    struct eval_row *r = &d->rows[d->n_rows];
    memset(r, 0, sizeof *r);
    r->subset = rrm_strdup(f->subset);
    r->id = rrm_strdup(f->id);
    r->prompt = dup_text(f->prompt, f->prompt_len);
    r->a = dup_text(f->a, f->a_len);
    r->b = dup_text(f->b, f->b_len);
    d->n_rows++; /* counted now so eval_dataset_free frees partial copies */
    if (!r->subset || !r->id || !r->prompt || !r->a || !r->b)
        return rrm_errf(rd->err, RRM_E_NOMEM, "eval: out of memory for a row");
    r->prompt_len = f->prompt_len;
    r->a_len = f->a_len;
    r->b_len = f->b_len;
    r->gold = f->gold;
    r->ordinal = d->n_rows - 1;
    r->key = key;
    return RRM_OK;
}

/* One row's JSON text [s, s+n) starting on `line`. */
static int one_row(struct reader *rd, const char *s, size_t n, int64_t line)
{
    char why[512], what[64];
    int64_t index = rd->index++;
    if (n > EVAL_MAX_ROW) {
        snprintf(why, sizeof why, "row of %zu bytes is over the limit of %zu", n, EVAL_MAX_ROW);
        return bad(rd, line, why);
    }
    json_t *o = NULL;
    rrm_err je = {0};
    snprintf(what, sizeof what, "row");
    int rc = rrm_json_parse(&o, s, n, EVAL_MAX_ROW, what, &je);
    if (rc == RRM_E_NOMEM) return rrm_errf(rd->err, rc, "eval: %s:%lld: %s", rd->file,
                                           (long long)line, je.msg);
    if (rc != RRM_OK) return bad(rd, line, je.msg);
    if (!json_is_object(o)) {
        snprintf(why, sizeof why, "row is %s, not an object", type_name(o));
        json_decref(o);
        return bad(rd, line, why);
    }
    struct fields f;
    memset(&f, 0, sizeof f);
    why[0] = 0;
    int r;
    switch (rd->d->bench) {
    case EVAL_BENCH_REWARDBENCH: r = row_rewardbench(o, &f, why, sizeof why); break;
    case EVAL_BENCH_PANDALM: r = row_pandalm(o, &f, why, sizeof why); break;
    case EVAL_BENCH_LLMBAR:
        snprintf(f.subset, sizeof f.subset, "%s", rd->subset);
        snprintf(f.id, sizeof f.id, "%lld", (long long)index);
        r = row_llmbar(o, &f, why, sizeof why);
        break;
    case EVAL_BENCH_JUDGEBENCH: r = row_judgebench(o, &f, rd->subset, why, sizeof why); break;
    default: r = row_jsonl(o, &f, why, sizeof why); break;
    }
    rc = r == 0 ? add_row(rd, &f, line) : bad(rd, line, why);
    rrm_free(f.joined);
    json_decref(o);
    return rc;
}

static int64_t count_lines(const char *s, size_t from, size_t to, int64_t line)
{
    for (size_t i = from; i < to; i++) line += s[i] == '\n';
    return line;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A JSON array: splits the top level into elements (strings and nesting tracked, nothing else
 * interpreted) and parses each on its own. */
static int read_array(struct reader *rd, const char *s, size_t n)
{
    size_t i = 0;
    int64_t line = 1;
    while (i < n && is_ws(s[i])) i++;
    i++; /* the '[' checked by the caller */
    for (;;) {
        size_t ws = i;
        while (i < n && is_ws(s[i])) i++;
        line = count_lines(s, ws, i, line);
        if (i < n && s[i] == ']' && rd->index == 0) {
            i++;
            break;
        }
        size_t start = i;
        int64_t start_line = line;
        int64_t depth = 0, in_str = 0;
        for (; i < n; i++) {
            char c = s[i];
            if (c == '\n') line++;
            if (in_str) {
                if (c == '\\' && i + 1 < n) {
                    i++;
                    if (s[i] == '\n') line++;
                } else if (c == '"') {
                    in_str = 0;
                }
            } else if (c == '"') {
                in_str = 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (depth == 0) break;
                depth--;
            } else if (c == ',' && depth == 0) {
                break;
            }
        }
        if (i >= n)
            return rrm_errf(rd->err, RRM_E_FORMAT, "eval: %s:%lld: the JSON array is not closed",
                            rd->file, (long long)start_line);
        int rc = one_row(rd, s + start, i - start, start_line);
        if (rc != RRM_OK) return rc;
        if (s[i] == ']') {
            i++;
            break;
        }
        if (s[i] != ',')
            return rrm_errf(rd->err, RRM_E_FORMAT, "eval: %s:%lld: unexpected '%c' in the JSON "
                                                   "array", rd->file, (long long)line, s[i]);
        i++;
    }
    size_t ws = i;
    while (i < n && is_ws(s[i])) i++;
    if (i < n)
        return rrm_errf(rd->err, RRM_E_FORMAT, "eval: %s:%lld: text after the end of the JSON "
                                               "array", rd->file,
                        (long long)count_lines(s, ws, i, line));
    return RRM_OK;
}

/* JSON Lines: one row per line; blank lines are skipped. */
static int read_lines(struct reader *rd, const char *s, size_t n)
{
    int64_t line = 1;
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && s[e] != '\n') e++;
        size_t b = i;
        while (b < e && is_ws(s[b])) b++;
        if (b < e) {
            int rc = one_row(rd, s + i, e - i, line);
            if (rc != RRM_OK) return rc;
        }
        line++;
        i = e + 1;
    }
    return RRM_OK;
}

static int read_text(struct reader *rd, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_ws(s[i])) i++;
    return i < n && s[i] == '[' ? read_array(rd, s, n) : read_lines(rd, s, n);
}

int eval_dataset_parse(struct eval_dataset *d, int bench, const char *file, const char *text,
                       size_t len, int fail_bad, eval_bad_row_fn bad_row, void *user,
                       rrm_err *err)
{
    struct reader rd = {d, file, file, 0, fail_bad, bad_row, user, d->n_rows, err};
    d->bench = bench;
    /* rows already present came from earlier files; capacity is exactly n_rows then */
    return read_text(&rd, text, len);
}

/* Files of a named benchmark (relative to data_dir) and the subset each one supplies. */
struct bench_file {
    const char *path, *subset;
};
static const struct bench_file rb_files[] = {{"rewardbench/rewardbench_filtered.jsonl", NULL}};
static const struct bench_file pl_files[] = {{"pandalm/testset-v1.json", NULL}};
static const struct bench_file lb_files[] = {
    {"llmbar/Natural.json", "natural"},
    {"llmbar/Adversarial_Neighbor.json", "adversarial-neighbor"},
    {"llmbar/Adversarial_GPTInst.json", "adversarial-gptinst"},
    {"llmbar/Adversarial_GPTOut.json", "adversarial-gptout"},
    {"llmbar/Adversarial_Manual.json", "adversarial-manual"},
};
static const struct bench_file jb_files[] = {
    {"judgebench/judgebench_gpt-4o-2024-05-13.jsonl", "gpt-4o"},
    {"judgebench/judgebench_claude-3-5-sonnet-20240620.jsonl", "claude-3.5"},
};

int eval_dataset_load(struct eval_dataset *out, const char *bench, const char *data_dir,
                      int fail_bad, eval_bad_row_fn bad_row, void *user, rrm_err *err)
{
    if (!out || !bench) return rrm_errf(err, RRM_E_INVAL, "eval_dataset_load: NULL argument");
    int b = eval_bench_parse(bench, err);
    if (b < 0) return b;
    const struct bench_file *files = NULL;
    struct bench_file one = {bench + 6, "all"};
    int nf = 1;
    switch (b) {
    case EVAL_BENCH_REWARDBENCH: files = rb_files; break;
    case EVAL_BENCH_PANDALM: files = pl_files; break;
    case EVAL_BENCH_LLMBAR: files = lb_files; nf = 5; break;
    case EVAL_BENCH_JUDGEBENCH: files = jb_files; nf = 2; break;
    default: files = &one; break;
    }
    if (b != EVAL_BENCH_JSONL && !data_dir)
        return rrm_errf(err, RRM_E_INVAL, "eval: no data folder for %s", bench);
    struct eval_dataset d;
    memset(&d, 0, sizeof d);
    d.bench = b;
    d.data_hash = EVAL_FNV_INIT;
    d.name = rrm_strdup(bench);
    d.files = rrm_calloc((size_t)nf, sizeof *d.files);
    int rc = d.name && d.files ? RRM_OK : rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    int64_t cap = 0;
    for (int i = 0; rc == RRM_OK && i < nf; i++) {
        char *path = b == EVAL_BENCH_JSONL ? rrm_strdup(files[i].path)
                                           : rrm_path_join(data_dir, files[i].path);
        if (!path) {
            rc = rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
            break;
        }
        d.files[d.n_files++] = path;
        char *text = NULL;
        size_t len = 0;
        rc = rrm_read_file(path, EVAL_MAX_FILE, &text, &len, err);
        if (rc != RRM_OK) {
            rrm_err_prefix(err, "eval: %s", bench);
            break;
        }
        d.data_hash = eval_fnv(d.data_hash, text, len);
        struct reader rd = {&d, path, files[i].subset, 0, fail_bad, bad_row, user, cap, err};
        rc = read_text(&rd, text, len);
        cap = rd.cap;
        rrm_free(text);
    }
    if (rc == RRM_OK && d.n_rows == 0)
        rc = rrm_errf(err, RRM_E_FORMAT, "eval: %s has no usable rows (%lld malformed)", bench,
                      (long long)d.n_bad);
    if (rc != RRM_OK) {
        eval_dataset_free(&d);
        return rc;
    }
    *out = d;
    return RRM_OK;
}
