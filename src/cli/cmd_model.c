/*
 * cmd_model.c — `rrm info`, `rrm logits` and `rrm generate`: the engine-core commands.
 *   rrm info -m MODEL [--tensors] [--json]
 *   rrm logits -m MODEL --ids "ID ID ..." --out FILE [-t N] [--kv-type f32|f16]
 *       writes float32 little-endian logits of every position, shape (n_ids, n_vocab)
 *   rrm generate -m MODEL --ids "..." [-n N] [--temp T] [--top-p P] [--top-k K] [--min-p P]
 *       [--seed S] [-t N] [--ignore-eos]     prints the generated ids on one line
 *   rrm generate -m MODEL (-p TEXT | -f FILE) [--chat] ...
 *       text in, streamed text out (the model's tokenizer; --chat wraps the text as one user
 *       message in the model's chat template, with the generation prompt)
 */
#include "cli/cli.h"
#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int progress_cb(uint64_t done, uint64_t total, void *user)
{
    int *last = user;
    int pct = total ? (int)(100 * done / total) : 100;
    if (pct / 10 != *last / 10) {
        fprintf(stderr, "\rrrm: loading %3d%%", pct);
        if (pct == 100) fputc('\n', stderr);
        *last = pct;
    }
    return 0;
}

/* Loads MODEL with a progress line on stderr when `progress` (a terminal) is set. */
int cli_load_model(rrm_model **m, const char *path, int progress, rrm_err *err)
{
    rrm_model_params mp = rrm_model_default_params();
    static int last = -1;
    if (progress) {
        mp.progress = progress_cb;
        mp.progress_user = &last;
    }
    return rrm_model_load(m, path, &mp, err);
}

static void fmt_bytes(char *buf, size_t n, uint64_t b)
{
    if (b >= (1ull << 30)) snprintf(buf, n, "%.2f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20)) snprintf(buf, n, "%.2f MiB", (double)b / (1ull << 20));
    else snprintf(buf, n, "%llu B", (unsigned long long)b);
}

static void print_shape(char *buf, size_t n, int n_dims, const int64_t ne[4])
{
    size_t k = 0;
    buf[0] = 0;
    for (int d = n_dims - 1; d >= 0 && k < n; d--)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", d == n_dims - 1 ? "" : " x ",
                              (long long)ne[d]);
}

static void info_json(const rrm_model *m, const rrm_model_info *in, double secs, int tensors)
{
    printf("{\"arch\": \"%s\", \"source\": \"%s\", \"n_vocab\": %lld, \"n_embd\": %lld, "
           "\"n_head\": %lld, \"n_head_kv\": %lld, \"head_dim\": %lld, \"n_ff\": %lld, "
           "\"n_layer\": %lld, \"n_ctx_train\": %lld, \"rope_theta\": %.17g, "
           "\"rms_norm_eps\": %.17g, \"tied_output\": %s, \"n_params\": %lld, "
           "\"weight_bytes\": %llu, \"n_tensors\": %d, \"bos_id\": %d, \"eos_id\": %d, "
           "\"load_seconds\": %.3f",
           in->arch, in->source, (long long)in->n_vocab, (long long)in->n_embd,
           (long long)in->n_head, (long long)in->n_head_kv, (long long)in->head_dim,
           (long long)in->n_ff, (long long)in->n_layer, (long long)in->n_ctx_train,
           in->rope_theta, in->rms_norm_eps, in->tied_output ? "true" : "false",
           (long long)in->n_params, (unsigned long long)in->weight_bytes, in->n_tensors,
           in->bos_id, in->eos_id, secs);
    if (tensors) {
        printf(", \"tensors\": [");
        for (int i = 0; i < in->n_tensors; i++) {
            const char *name;
            int type, nd;
            int64_t ne[4];
            uint64_t nb;
            if (rrm_model_tensor(m, i, &name, &type, &nd, ne, &nb) != RRM_OK) continue;
            printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"ne\": [", i ? ", " : "", name,
                   rrm_type_name(type));
            for (int d = 0; d < nd; d++) printf("%s%lld", d ? ", " : "", (long long)ne[d]);
            printf("], \"bytes\": %llu}", (unsigned long long)nb);
        }
        printf("]");
    }
    printf("}\n");
}

static void info_text(const rrm_model *m, const rrm_model_info *in, double secs, int tensors)
{
    char wb[32];
    fmt_bytes(wb, sizeof wb, in->weight_bytes);
    printf("architecture   %s (%s)\n", in->arch, in->source);
    printf("parameters     %lld (%.3f B)\n", (long long)in->n_params, in->n_params / 1e9);
    printf("weights        %s in %d tensors (memory-mapped, read-only)\n", wb, in->n_tensors);
    printf("n_vocab        %lld\nn_embd         %lld\nn_layer        %lld\n",
           (long long)in->n_vocab, (long long)in->n_embd, (long long)in->n_layer);
    printf("n_head         %lld (kv %lld, GQA %lld, head_dim %lld)\n", (long long)in->n_head,
           (long long)in->n_head_kv, in->n_head_kv ? (long long)(in->n_head / in->n_head_kv) : 0,
           (long long)in->head_dim);
    printf("n_ff           %lld\nn_ctx_train    %lld\n", (long long)in->n_ff,
           (long long)in->n_ctx_train);
    printf("rope_theta     %g\nrms_norm_eps   %g\n", in->rope_theta, in->rms_norm_eps);
    printf("output head    %s\n", in->tied_output ? "tied to token_embd" : "separate");
    printf("bos / eos      %d / %d\n", in->bos_id, in->eos_id);
    /* KV memory per token: K and V, all layers, f32 (rrm's default KV type). */
    double kv = 2.0 * (double)in->n_layer * (double)(in->n_head_kv * in->head_dim) * 4.0;
    printf("KV cache       %.1f KiB per token (f32), %.1f MiB per 4096 tokens\n", kv / 1024,
           kv * 4096 / (1 << 20));
    printf("load time      %.3f s\n", secs);
    int counts[RRM_TYPE_COUNT] = {0};
    uint64_t bytes[RRM_TYPE_COUNT] = {0};
    for (int i = 0; i < in->n_tensors; i++) {
        const char *name;
        int type, nd;
        int64_t ne[4];
        uint64_t nb;
        if (rrm_model_tensor(m, i, &name, &type, &nd, ne, &nb) != RRM_OK) continue;
        if (type >= 0 && type < RRM_TYPE_COUNT) {
            counts[type]++;
            bytes[type] += nb;
        }
        if (tensors) {
            char shp[96], b[32];
            print_shape(shp, sizeof shp, nd, ne);
            fmt_bytes(b, sizeof b, nb);
            printf("  %-40s %-5s %-20s %s\n", name, rrm_type_name(type), shp, b);
        }
    }
    printf("tensor types  ");
    for (int t = 0; t < RRM_TYPE_COUNT; t++) {
        if (!counts[t]) continue;
        char b[32];
        fmt_bytes(b, sizeof b, bytes[t]);
        printf(" %s: %d (%s)", rrm_type_name(t), counts[t], b);
    }
    printf("\n");
}

int cli_info(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0, tensors = 0;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--model") == 0) && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--tensors") == 0)
            tensors = 1;
        else {
            fprintf(stderr, "usage: rrm info -m MODEL [--tensors] [--json]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: rrm info -m MODEL [--tensors] [--json]\n");
        return 2;
    }
    cli_log_init(0);
    rrm_err err = {0};
    rrm_model *m = NULL;
    double t0 = now_s();
    if (cli_load_model(&m, path, 0, &err) != RRM_OK) return cli_fail("info", &err);
    double secs = now_s() - t0;
    rrm_model_info in;
    rrm_model_get_info(m, &in);
    if (json) info_json(m, &in, secs, tensors);
    else info_text(m, &in, secs, tensors);
    rrm_model_free(m);
    return 0;
}

/* Options shared by logits and generate. */
struct run_opts {
    const char *model, *ids, *out, *prompt, *prompt_file;
    long long threads, n_predict, top_k, seed, kv_type;
    double temp, top_p, min_p;
    int ignore_eos, chat;
};

static int parse_run(int argc, char **argv, struct run_opts *o, int gen)
{
    memset(o, 0, sizeof *o);
    o->threads = 1;
    o->n_predict = 64;
    o->top_p = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 0;
        if (gen && strcmp(a, "--ignore-eos") == 0) {
            o->ignore_eos = 1;
            continue;
        }
        if (gen && strcmp(a, "--chat") == 0) {
            o->chat = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "rrm: option '%s' needs a value\n", a);
            return -1;
        }
        if (strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) o->model = v, ok = 1;
        else if (strcmp(a, "--ids") == 0) o->ids = v, ok = 1;
        else if (gen && (strcmp(a, "-p") == 0 || strcmp(a, "--prompt") == 0)) o->prompt = v, ok = 1;
        else if (gen && strcmp(a, "-f") == 0) o->prompt_file = v, ok = 1;
        else if (!gen && strcmp(a, "--out") == 0) o->out = v, ok = 1;
        else if (strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0)
            ok = cli_int(a, v, 1, 256, &o->threads) == 0 ? 1 : -1;
        else if (strcmp(a, "--kv-type") == 0) {
            ok = strcmp(v, "f32") == 0 ? (o->kv_type = RRM_KV_F32, 1)
                 : strcmp(v, "f16") == 0 ? (o->kv_type = RRM_KV_F16, 1)
                                         : -1;
            if (ok < 0) fprintf(stderr, "rrm: --kv-type must be f32 or f16\n");
        } else if (gen && strcmp(a, "-n") == 0)
            ok = cli_int(a, v, 0, 1 << 20, &o->n_predict) == 0 ? 1 : -1;
        else if (gen && strcmp(a, "--temp") == 0)
            ok = cli_float(a, v, 0, 100, &o->temp) == 0 ? 1 : -1;
        else if (gen && strcmp(a, "--top-p") == 0)
            ok = cli_float(a, v, 0, 1, &o->top_p) == 0 ? 1 : -1;
        else if (gen && strcmp(a, "--min-p") == 0)
            ok = cli_float(a, v, 0, 1, &o->min_p) == 0 ? 1 : -1;
        else if (gen && strcmp(a, "--top-k") == 0)
            ok = cli_int(a, v, 0, 1 << 30, &o->top_k) == 0 ? 1 : -1;
        else if (gen && strcmp(a, "--seed") == 0)
            ok = cli_int(a, v, 0, INT64_MAX, &o->seed) == 0 ? 1 : -1;
        if (ok < 0) return -1;
        if (ok) {
            i++;
            continue;
        }
        fprintf(stderr, "rrm: unknown option '%s'\n", a);
        return -1;
    }
    return 0;
}

/* Makes a context big enough for n tokens in one sequence. */
static int make_ctx(rrm_ctx **c, const rrm_model *m, const struct run_opts *o, int64_t n,
                    int n_batch, rrm_err *err)
{
    rrm_ctx_params cp = rrm_ctx_default_params();
    cp.n_ctx = n + 16;
    cp.n_seq_max = 1;
    cp.n_batch_max = n_batch;
    cp.n_threads = (int)o->threads;
    cp.kv_type = (int)o->kv_type;
    return rrm_ctx_init(c, m, &cp, err);
}

int cli_logits(int argc, char **argv)
{
    struct run_opts o;
    const char *usage = "usage: rrm logits -m MODEL --ids \"ID ...\" --out FILE [-t N] "
                        "[--kv-type f32|f16]\n";
    if (parse_run(argc, argv, &o, 0) != 0 || !o.model || !o.ids || !o.out) {
        fputs(usage, stderr);
        return 2;
    }
    cli_log_init(0);
    int32_t *ids = NULL;
    int64_t n = 0;
    if (cli_parse_ids(o.ids, &ids, &n) != 0) return 2;
    if (n == 0) {
        fprintf(stderr, "rrm logits: --ids is empty\n");
        free(ids);
        return 2;
    }
    rrm_err err = {0};
    rrm_model *m = NULL;
    rrm_ctx *c = NULL;
    FILE *f = NULL;
    rrm_batch_row *rows = NULL;
    int rc = 1, chunk = n < 64 ? (int)n : 64;
    if (cli_load_model(&m, o.model, 0, &err) != RRM_OK) {
        cli_fail("logits", &err);
        goto done;
    }
    rrm_model_info in;
    rrm_model_get_info(m, &in);
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] >= in.n_vocab) {
            fprintf(stderr, "rrm logits: id %d at position %lld is >= n_vocab %lld\n", ids[i],
                    (long long)i, (long long)in.n_vocab);
            goto done;
        }
    }
    if (make_ctx(&c, m, &o, n, chunk, &err) != RRM_OK) {
        cli_fail("logits", &err);
        goto done;
    }
    int seq = rrm_seq_new(c, &err);
    rows = calloc((size_t)chunk, sizeof *rows);
    f = fopen(o.out, "wb");
    if (seq < 0 || !rows || !f) {
        if (!f) fprintf(stderr, "rrm logits: cannot create '%s': %s\n", o.out, strerror(errno));
        else cli_fail("logits", &err);
        goto done;
    }
    for (int64_t p = 0; p < n; p += chunk) {
        int k = (int)(n - p < chunk ? n - p : chunk);
        for (int j = 0; j < k; j++)
            rows[j] = (rrm_batch_row){seq, (int32_t)(p + j), ids[p + j], 1};
        if (rrm_decode(c, rows, k, &err) != RRM_OK) {
            cli_fail("logits", &err);
            goto done;
        }
        for (int j = 0; j < k; j++) {
            const float *lg = rrm_ctx_logits(c, j);
            if (!lg || fwrite(lg, sizeof(float), (size_t)in.n_vocab, f) != (size_t)in.n_vocab) {
                fprintf(stderr, "rrm logits: write '%s' failed at position %lld\n", o.out,
                        (long long)(p + j));
                goto done;
            }
        }
    }
    if (fclose(f) != 0) {
        f = NULL;
        fprintf(stderr, "rrm logits: closing '%s': %s\n", o.out, strerror(errno));
        goto done;
    }
    f = NULL;
    rc = 0;
done:
    if (f) fclose(f);
    free(rows);
    free(ids);
    rrm_ctx_free(c);
    rrm_model_free(m);
    return rc;
}

/* Text prompt -> ids (malloc'd) with the model's tokenizer; --chat renders one user message
 * through the chat template (message text stays plain: it cannot forge special tokens). A
 * BOS is added when the tokenizer asks for one and the text does not start with it. */
static int text_prompt(const struct run_opts *o, rrm_tokenizer **tok, int32_t **ids, int64_t *n,
                       rrm_err *err)
{
    char *file = NULL, *text = NULL;
    size_t len = 0, tl = 0, n_spans = 0;
    rrm_span *spans = NULL;
    rrm_template *tpl = NULL;
    int32_t *t = NULL;
    int64_t nt = 0;
    int rc = rrm_tokenizer_load(tok, o->model, err);
    if (rc == RRM_OK && o->prompt_file) rc = rrm_read_file(o->prompt_file, (size_t)1 << 28, &file, &len, err);
    const char *p = o->prompt_file ? file : o->prompt;
    if (rc == RRM_OK && !o->prompt_file) len = strlen(p);
    if (rc == RRM_OK && o->chat) {
        rc = rrm_template_load(&tpl, o->model, NULL, err);
        rrm_message msg = {"user", p};
        if (rc == RRM_OK && memchr(p, 0, len))
            rc = rrm_errf(err, RRM_E_FORMAT, "prompt: NUL byte at offset %zu",
                          (size_t)((const char *)memchr(p, 0, len) - p));
        if (rc == RRM_OK) rc = rrm_template_render_spans(tpl, &msg, 1, 1, &text, &tl, &spans, &n_spans, err);
        if (rc == RRM_OK) rc = rrm_tokenize_spans_alloc(*tok, text, tl, spans, n_spans, 0, &t, &nt, err);
    } else if (rc == RRM_OK) {
        rc = rrm_tokenize_alloc(*tok, p, len, 0, &t, &nt, err);
    }
    int32_t bos = *tok ? rrm_tokenizer_bos(*tok) : -1;
    int add = rc == RRM_OK && !o->chat && rrm_tokenizer_add_bos(*tok) && bos >= 0 &&
              (nt == 0 || t[0] != bos);
    if (rc == RRM_OK) {
        *ids = malloc((size_t)(nt + add + 1) * sizeof **ids);
        if (!*ids) rc = rrm_errf(err, RRM_E_NOMEM, "out of memory");
    }
    if (rc == RRM_OK) {
        if (add) (*ids)[0] = bos;
        memcpy(*ids + add, t, (size_t)nt * sizeof *t);
        *n = nt + add;
    }
    rrm_tokens_free(t);
    rrm_template_text_free(text);
    rrm_template_text_free((char *)spans);
    rrm_template_free(tpl);
    rrm_free(file);
    return rc;
}

int cli_generate(int argc, char **argv)
{
    struct run_opts o;
    const char *usage = "usage: rrm generate -m MODEL (--ids \"ID ...\" | -p TEXT | -f FILE) [--chat]\n"
                        "       [-n N] [--temp T] [--top-p P] [--top-k K] [--min-p P] [--seed S]\n"
                        "       [-t N] [--ignore-eos]\n";
    if (parse_run(argc, argv, &o, 1) != 0 || !o.model ||
        (!!o.ids + !!o.prompt + !!o.prompt_file) != 1 || (o.chat && o.ids)) {
        fputs(usage, stderr);
        return 2;
    }
    cli_log_init(0);
    int32_t *ids = NULL;
    int64_t n = 0;
    rrm_err err = {0};
    rrm_tokenizer *tz = NULL;
    rrm_detok_stream *ds = NULL;
    if (o.ids && cli_parse_ids(o.ids, &ids, &n) != 0) return 2;
    if (!o.ids && (text_prompt(&o, &tz, &ids, &n, &err) != RRM_OK ||
                   rrm_detok_stream_init(&ds, tz, 0, &err) != RRM_OK)) {
        cli_fail("generate", &err);
        free(ids);
        rrm_tokenizer_free(tz);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "rrm generate: the prompt is empty\n");
        free(ids);
        rrm_detok_stream_free(ds);
        rrm_tokenizer_free(tz);
        return 2;
    }
    rrm_model *m = NULL;
    rrm_ctx *c = NULL;
    rrm_sampler *s = NULL;
    rrm_batch_row *rows = NULL;
    int rc = 1, chunk = n < 256 ? (int)n : 256;
    if (cli_load_model(&m, o.model, 0, &err) != RRM_OK) {
        cli_fail("generate", &err);
        goto done;
    }
    rrm_model_info in;
    rrm_model_get_info(m, &in);
    int64_t n_sample = tz && rrm_tokenizer_n_vocab(tz) < in.n_vocab ? rrm_tokenizer_n_vocab(tz)
                                                                      : in.n_vocab;
    int32_t eos = tz && rrm_tokenizer_eos(tz) >= 0 ? rrm_tokenizer_eos(tz) : in.eos_id;
    rrm_sampler_params sp = rrm_sampler_default_params();
    sp.temperature = (float)o.temp;
    sp.top_p = (float)o.top_p;
    sp.top_k = (int)o.top_k;
    sp.min_p = (float)o.min_p;
    sp.seed = (uint64_t)o.seed;
    rows = calloc((size_t)chunk, sizeof *rows);
    if (!rows || make_ctx(&c, m, &o, n + o.n_predict, chunk, &err) != RRM_OK ||
        rrm_sampler_init(&s, &sp, n_sample, &err) != RRM_OK) {
        cli_fail("generate", &err);
        goto done;
    }
    int seq = rrm_seq_new(c, &err);
    if (seq < 0) {
        cli_fail("generate", &err);
        goto done;
    }
    for (int64_t p = 0; p < n; p += chunk) { /* prefill, logits only for the last row */
        int k = (int)(n - p < chunk ? n - p : chunk);
        for (int j = 0; j < k; j++)
            rows[j] = (rrm_batch_row){seq, (int32_t)(p + j), ids[p + j], p + j == n - 1};
        if (rrm_decode(c, rows, k, &err) != RRM_OK) {
            cli_fail("generate", &err);
            goto done;
        }
    }
    for (int64_t g = 0; g < o.n_predict; g++) {
        int tok = rrm_sampler_sample(s, rrm_ctx_logits(c, 0), &err);
        if (tok < 0) {
            cli_fail("generate", &err);
            goto done;
        }
        if (tok == eos && !o.ignore_eos) break;
        if (ds) {
            const char *piece;
            size_t pl;
            if (rrm_detok_stream_push(ds, tok, &piece, &pl, &err) != RRM_OK) {
                cli_fail("generate", &err);
                goto done;
            }
            fwrite(piece, 1, pl, stdout);
        } else {
            printf("%s%d", g ? " " : "", tok);
        }
        fflush(stdout);
        if (g + 1 == o.n_predict) break;
        rows[0] = (rrm_batch_row){seq, (int32_t)(n + g), tok, 1};
        if (rrm_decode(c, rows, 1, &err) != RRM_OK) {
            printf("\n");
            cli_fail("generate", &err);
            goto done;
        }
    }
    if (ds) {
        const char *piece;
        size_t pl;
        if (rrm_detok_stream_flush(ds, &piece, &pl, &err) == RRM_OK) fwrite(piece, 1, pl, stdout);
    }
    printf("\n");
    rc = 0;
done:
    free(rows);
    free(ids);
    rrm_detok_stream_free(ds);
    rrm_tokenizer_free(tz);
    rrm_sampler_free(s);
    rrm_ctx_free(c);
    rrm_model_free(m);
    return rc;
}
