/*
 * cmd_tok.c — `rrm tokenize` and `rrm detokenize` (MODEL = HF dir, tokenizer.json or .gguf).
 *   rrm tokenize -m MODEL (-f FILE | -p TEXT) [--no-special]   ids on one line, space-separated
 *   rrm tokenize -m MODEL --jsonl FILE [--no-special]          batch: each line of FILE ("-" =
 *       stdin) is one JSON string; one line of ids per line ("error: ..." for a bad line)
 *   --stats: a JSON line on stderr with load and encode seconds, bytes, ids (for bench/)
 *   rrm detokenize -m MODEL --ids "..." [--skip-special]       the text exactly, no newline
 */
#include "cli/cli.h"
#include "core/core.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_ids(const int32_t *ids, int64_t n)
{
    for (int64_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
    putchar('\n');
}

struct tok_stats {
    double encode_s;
    uint64_t bytes, ids, strings;
};

static int tok_line(const rrm_tokenizer *t, const char *line, size_t len, int flags,
                    struct tok_stats *st)
{
    json_error_t je;
    json_t *v = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!v || !json_is_string(v)) {
        printf("error: line is not a JSON string: %s\n", v ? "other JSON value" : je.text);
        json_decref(v);
        return 1;
    }
    int32_t *ids;
    int64_t n;
    rrm_err err = {0};
    double t0 = rrm_time_s();
    int rc = rrm_tokenize_alloc(t, json_string_value(v), json_string_length(v), flags, &ids, &n,
                                &err);
    st->encode_s += rrm_time_s() - t0;
    st->bytes += json_string_length(v);
    st->strings++;
    json_decref(v);
    if (rc != RRM_OK) {
        printf("error: %s (%s)\n", err.msg, rrm_status_name(rc));
        return 1;
    }
    st->ids += (uint64_t)n;
    print_ids(ids, n);
    rrm_tokens_free(ids);
    return 0;
}

static int tok_jsonl(const rrm_tokenizer *t, const char *path, int flags, struct tok_stats *st)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "rrm tokenize: cannot open '%s'\n", path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long bad = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        bad += tok_line(t, line, (size_t)len, flags, st);
    }
    free(line);
    if (f != stdin) fclose(f);
    if (bad) fprintf(stderr, "rrm tokenize: %ld line(s) failed\n", bad);
    return bad ? 1 : 0;
}

static int usage_tok(void)
{
    fprintf(stderr, "usage: rrm tokenize -m MODEL (-f FILE | -p TEXT | --jsonl FILE) "
                    "[--no-special] [--stats]\n  MODEL: HF directory, tokenizer.json or .gguf\n");
    return 2;
}

int cli_tokenize(int argc, char **argv)
{
    const char *model = NULL, *file = NULL, *text = NULL, *jsonl = NULL;
    int flags = 0, stats = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-special") == 0) flags |= RRM_TOK_NO_SPECIAL;
        else if (strcmp(a, "--stats") == 0) stats = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return usage_tok();
        else if (!v) return usage_tok();
        else if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) model = argv[++i];
        else if (strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0) file = argv[++i];
        else if (strcmp(a, "-p") == 0 || strcmp(a, "--prompt") == 0) text = argv[++i];
        else if (strcmp(a, "--jsonl") == 0) jsonl = argv[++i];
        else return usage_tok();
    }
    if (!model || (!!file + !!text + !!jsonl) != 1) return usage_tok();
    rrm_err err = {0};
    rrm_tokenizer *t;
    double t0 = rrm_time_s();
    if (rrm_tokenizer_load(&t, model, &err) != RRM_OK) return cli_fail("tokenize", &err);
    double load_s = rrm_time_s() - t0;
    struct tok_stats st = {0};
    int rc = 0;
    if (jsonl) {
        rc = tok_jsonl(t, jsonl, flags, &st);
    } else {
        char *buf = NULL;
        size_t len = text ? strlen(text) : 0;
        int32_t *ids = NULL;
        int64_t n = 0;
        if (file && rrm_read_file(file, (size_t)1 << 30, &buf, &len, &err) != RRM_OK)
            rc = cli_fail("tokenize", &err);
        else if ((t0 = rrm_time_s()),
                 rrm_tokenize_alloc(t, file ? buf : text, len, flags, &ids, &n, &err) != RRM_OK)
            rc = cli_fail("tokenize", &err);
        else {
            st = (struct tok_stats){rrm_time_s() - t0, len, (uint64_t)n, 1};
            print_ids(ids, n);
        }
        rrm_tokens_free(ids);
        rrm_free(buf);
    }
    if (stats)
        fprintf(stderr, "{\"load_s\": %.4f, \"encode_s\": %.4f, \"strings\": %llu, "
                        "\"bytes\": %llu, \"ids\": %llu}\n", load_s, st.encode_s,
                (unsigned long long)st.strings, (unsigned long long)st.bytes,
                (unsigned long long)st.ids);
    rrm_tokenizer_free(t);
    return rc;
}

int cli_detokenize(int argc, char **argv)
{
    const char *model = NULL, *ids_s = NULL;
    int flags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--skip-special") == 0) flags |= RRM_DETOK_SKIP_SPECIAL;
        else if (v && (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0)) model = argv[++i];
        else if (v && strcmp(a, "--ids") == 0) ids_s = argv[++i];
        else model = NULL, i = argc;
    }
    if (!model || !ids_s) {
        fprintf(stderr, "usage: rrm detokenize -m MODEL --ids \"ID ID ...\" [--skip-special]\n");
        return 2;
    }
    int32_t *ids;
    int64_t n;
    if (cli_parse_ids(ids_s, &ids, &n) != 0) return 2;
    rrm_err err = {0};
    rrm_tokenizer *t;
    int rc = 0;
    char *s = NULL;
    size_t len;
    if (rrm_tokenizer_load(&t, model, &err) != RRM_OK) {
        free(ids);
        return cli_fail("detokenize", &err);
    }
    if (rrm_detokenize_alloc(t, ids, n, flags, &s, &len, &err) != RRM_OK)
        rc = cli_fail("detokenize", &err);
    else if (fwrite(s, 1, len, stdout) != len)
        rc = 1;
    rrm_text_free(s);
    rrm_tokenizer_free(t);
    free(ids);
    return rc;
}
