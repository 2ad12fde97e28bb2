/*
 * results.c — the run's files: DIR/results.jsonl (one JSON object per finished row, appended
 * and fsynced by harness.c) read back with torn-line repair, DIR/run.json (the settings that
 * decide the rows' results) and the model fingerprint stored in it.
 *
 * A kill can only tear the last line (rows are written whole, in order, by one writer that holds
 * an flock), so a last line without its newline, or one that does not parse, is dropped and the
 * row is judged again (results are deterministic); damage anywhere else is an error.
 */
#define _DEFAULT_SOURCE
#include "eval/eval.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

void eval_results_free(struct eval_results *rs)
{
    if (!rs) return;
    for (int64_t i = 0; i < rs->n; i++) {
        rrm_free(rs->r[i].subset);
        rrm_free(rs->r[i].id);
    }
    rrm_free(rs->r);
    memset(rs, 0, sizeof *rs);
}

static int pick_of(json_t *v, int *out)
{
    if (json_is_null(v)) {
        *out = RRM_PICK_NONE;
        return 0;
    }
    const char *s = json_string_value(v);
    if (s && strcmp(s, "A") == 0) *out = RRM_PICK_A;
    else if (s && strcmp(s, "B") == 0) *out = RRM_PICK_B;
    else return -1;
    return 0;
}

int eval_result_from_json(json_t *o, struct eval_result *r, rrm_err *err)
{
    memset(r, 0, sizeof *r);
    json_t *sub = json_object_get(o, "subset"), *id = json_object_get(o, "id");
    json_t *row = json_object_get(o, "row"), *gold = json_object_get(o, "gold");
    json_t *win = json_object_get(o, "winner"), *picks = json_object_get(o, "picks");
    json_t *votes = json_object_get(o, "votes"), *toks = json_object_get(o, "tokens");
    json_t *pt = json_object_get(o, "prompt_tokens"), *sec = json_object_get(o, "seconds");
    json_t *sw = json_object_get(o, "swapped");
    json_t *inv = votes ? json_object_get(votes, "invalid") : NULL;
    const char *g = json_string_value(gold);
    if (!json_is_string(sub) || !json_is_string(id) || !json_is_integer(row) || !g || !win ||
        !json_is_array(picks) || !json_is_integer(inv) || !json_is_array(toks) ||
        !json_is_integer(pt) || !json_is_number(sec) || !json_is_boolean(sw))
        return rrm_errf(err, RRM_E_FORMAT, "a field is missing or has the wrong type");
    if (strcmp(g, "A") == 0) r->gold = EVAL_GOLD_A;
    else if (strcmp(g, "B") == 0) r->gold = EVAL_GOLD_B;
    else if (strcmp(g, "tie") == 0) r->gold = EVAL_GOLD_TIE;
    else return rrm_errf(err, RRM_E_FORMAT, "gold '%.16s' is not A, B or tie", g);
    if (pick_of(win, &r->winner) != 0)
        return rrm_errf(err, RRM_E_FORMAT, "winner is not \"A\", \"B\" or null");
    json_t *ord = json_object_get(o, "orders");
    int orders = ord ? (int)json_integer_value(ord) : 1;
    if (ord && (!json_is_integer(ord) || (orders != 1 && orders != 2)))
        return rrm_errf(err, RRM_E_FORMAT, "orders is not 1 or 2");
    size_t n = json_array_size(picks), k = n / (size_t)orders;
    if (k < 1 || k > 4096 || k * (size_t)orders != n || json_array_size(toks) != n)
        return rrm_errf(err, RRM_E_FORMAT, "picks/tokens arrays of %zu/%zu votes (%d orders)", n,
                        json_array_size(toks), orders);
    r->k = (int)k;
    r->orders = orders;
    for (size_t i = 0; i < n; i++) {
        int p;
        json_t *t = json_array_get(toks, i);
        if (pick_of(json_array_get(picks, i), &p) != 0 || !json_is_integer(t) ||
            json_integer_value(t) < 0)
            return rrm_errf(err, RRM_E_FORMAT, "vote %zu: bad pick or token count", i);
        if (i % k < EVAL_KEEP_PICKS) r->picks[(i / k) * EVAL_KEEP_PICKS + i % k] = p;
        r->gen_tokens += json_integer_value(t);
    }
    r->ordinal = json_integer_value(row);
    r->swapped = json_is_true(sw);
    r->n_invalid = (int)json_integer_value(inv);
    r->prompt_tokens = json_integer_value(pt);
    r->seconds = json_number_value(sec);
    r->error = json_object_get(o, "error") != NULL;
    r->subset = rrm_strdup(json_string_value(sub));
    r->id = rrm_strdup(json_string_value(id));
    if (!r->subset || !r->id) {
        rrm_free(r->subset);
        rrm_free(r->id);
        return rrm_errf(err, RRM_E_NOMEM, "out of memory");
    }
    return RRM_OK;
}

static int results_push(struct eval_results *rs, struct eval_result *r, rrm_err *err)
{
    if (rs->n == rs->cap) {
        int64_t nc = rs->cap ? rs->cap * 2 : 256;
        struct eval_result *nr = rrm_realloc(rs->r, (size_t)nc * sizeof *nr);
        if (!nr) return rrm_errf(err, RRM_E_NOMEM, "eval: out of memory for results");
        rs->r = nr;
        rs->cap = nc;
    }
    rs->r[rs->n++] = *r;
    return RRM_OK;
}

static int cmp_key(const void *a, const void *b)
{
    const struct eval_result *x = *(const struct eval_result *const *)a;
    const struct eval_result *y = *(const struct eval_result *const *)b;
    int c = strcmp(x->subset, y->subset);
    return c ? c : strcmp(x->id, y->id);
}

/* RRM_E_FORMAT naming the first (subset, id) that appears twice. */
static int check_unique(const struct eval_results *rs, const char *path, rrm_err *err)
{
    if (rs->n < 2) return RRM_OK;
    const struct eval_result **v = rrm_calloc((size_t)rs->n, sizeof *v);
    if (!v) return rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    for (int64_t i = 0; i < rs->n; i++) v[i] = &rs->r[i];
    qsort(v, (size_t)rs->n, sizeof *v, cmp_key);
    int rc = RRM_OK;
    for (int64_t i = 1; i < rs->n && rc == RRM_OK; i++)
        if (cmp_key(&v[i - 1], &v[i]) == 0)
            rc = rrm_errf(err, RRM_E_FORMAT, "eval: %s: row (subset '%.100s', id '%.100s') is "
                                             "there twice", path, v[i]->subset, v[i]->id);
    rrm_free(v);
    return rc;
}

int eval_results_read(const char *path, int repair, struct eval_results *out, int *torn,
                      rrm_err *err)
{
    memset(out, 0, sizeof *out);
    if (torn) *torn = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return RRM_OK;
        return rrm_errf(err, RRM_E_IO, "eval: cannot open %s: %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t lineno = 0;
    off_t good = 0; /* bytes up to the end of the last complete, valid line */
    int rc = RRM_OK, pending_bad = 0;
    char pending_msg[300] = "";
    while (rc == RRM_OK && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (pending_bad) { /* a damaged line with more after it: not a torn write */
            rc = rrm_errf(err, RRM_E_FORMAT, "eval: %s line %lld is damaged (%s); the file was "
                                             "changed by something other than rrm eval",
                          path, (long long)(lineno - 1), pending_msg);
            break;
        }
        int complete = line[n - 1] == '\n';
        json_t *o = NULL;
        rrm_err je = {0};
        struct eval_result r;
        int ok = complete && rrm_json_parse(&o, line, (size_t)n, (size_t)1 << 40, "line", &je) ==
                                 RRM_OK;
        if (ok && json_is_object(o) && eval_result_from_json(o, &r, &je) == RRM_OK) {
            rc = results_push(out, &r, err);
            good += n;
        } else {
            if (je.code == RRM_E_NOMEM) rc = rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
            pending_bad = 1;
            snprintf(pending_msg, sizeof pending_msg, "%s",
                     !complete ? "no newline at the end" : je.msg[0] ? je.msg : "not an object");
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (rc == RRM_OK && pending_bad) {
        if (torn) *torn = 1;
        if (repair && truncate(path, good) != 0)
            rc = rrm_errf(err, RRM_E_IO, "eval: cannot cut the torn last line of %s: %s", path,
                          strerror(errno));
    }
    if (rc == RRM_OK) rc = check_unique(out, path, err);
    if (rc != RRM_OK) eval_results_free(out);
    return rc;
}

static int cmp_ordinal(const void *a, const void *b)
{
    const struct eval_result *x = a, *y = b;
    return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

void eval_results_sort(struct eval_results *rs)
{
    if (rs->n > 1) qsort(rs->r, (size_t)rs->n, sizeof *rs->r, cmp_ordinal);
}

/* ---- run.json ---- */

json_t *eval_settings_json(const struct eval_settings *s)
{
    json_t *o = json_object(), *sh = json_array();
    if (!o || !sh) {
        json_decref(o);
        json_decref(sh);
        return NULL;
    }
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "bench", json_string(s->bench));
    json_object_set_new(o, "model", json_string(s->model));
    json_object_set_new(o, "model_id", json_string(s->model_id));
    json_object_set_new(o, "data_hash", json_string(s->data_hash));
    json_object_set_new(o, "k", json_integer(s->k));
    json_object_set_new(o, "seed", json_string(seed));
    json_object_set_new(o, "max_tokens", json_integer(s->max_tokens));
    json_object_set_new(o, "think_budget", json_integer(s->think_budget));
    json_object_set_new(o, "temperature", json_real(s->temperature));
    json_object_set_new(o, "top_p", json_real(s->top_p));
    json_object_set_new(o, "top_k", json_integer(s->top_k));
    json_object_set_new(o, "min_p", json_real(s->min_p));
    json_object_set_new(o, "kv", json_string(s->kv_f16 ? "f16" : "f32"));
    json_object_set_new(o, "both_orders", json_boolean(s->both_orders));
    json_object_set_new(o, "template", json_string(s->template_name));
    json_object_set_new(o, "subsets", json_string(s->subsets));
    json_object_set_new(o, "limit", json_integer(s->limit));
    json_array_append_new(sh, json_integer(s->shard_i));
    json_array_append_new(sh, json_integer(s->shard_n));
    json_object_set_new(o, "shard", sh);
    json_object_set_new(o, "selection_rows", json_integer(s->selection_rows));
    return o;
}

static int copy_str(json_t *o, const char *k, char *dst, size_t cap, rrm_err *err)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return rrm_errf(err, RRM_E_FORMAT, "run.json: \"%s\" is missing or not a string", k);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return RRM_OK;
}

static int get_int(json_t *o, const char *k, int64_t *dst, rrm_err *err)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        return rrm_errf(err, RRM_E_FORMAT, "run.json: \"%s\" is missing or not an integer", k);
    *dst = json_integer_value(v);
    return RRM_OK;
}

static int get_num(json_t *o, const char *k, double *dst, rrm_err *err)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_number(v))
        return rrm_errf(err, RRM_E_FORMAT, "run.json: \"%s\" is missing or not a number", k);
    *dst = json_number_value(v);
    return RRM_OK;
}

int eval_settings_from_json(json_t *j, struct eval_settings *s, rrm_err *err)
{
    memset(s, 0, sizeof *s);
    char seed[32], kv[8];
    int64_t ver = 0;
    int rc = get_int(j, "version", &ver, err);
    if (rc == RRM_OK && ver != 1)
        rc = rrm_errf(err, RRM_E_UNSUPPORTED, "run.json: version %lld (this rrm writes 1)",
                      (long long)ver);
    if (rc == RRM_OK) rc = copy_str(j, "bench", s->bench, sizeof s->bench, err);
    if (rc == RRM_OK) rc = copy_str(j, "model", s->model, sizeof s->model, err);
    if (rc == RRM_OK) rc = copy_str(j, "model_id", s->model_id, sizeof s->model_id, err);
    if (rc == RRM_OK) rc = copy_str(j, "data_hash", s->data_hash, sizeof s->data_hash, err);
    if (rc == RRM_OK) rc = copy_str(j, "seed", seed, sizeof seed, err);
    if (rc == RRM_OK) rc = copy_str(j, "kv", kv, sizeof kv, err);
    if (rc == RRM_OK) rc = copy_str(j, "template", s->template_name, sizeof s->template_name, err);
    if (rc == RRM_OK) rc = copy_str(j, "subsets", s->subsets, sizeof s->subsets, err);
    if (rc == RRM_OK) rc = get_int(j, "k", &s->k, err);
    if (rc == RRM_OK) rc = get_int(j, "max_tokens", &s->max_tokens, err);
    if (rc == RRM_OK) rc = get_int(j, "think_budget", &s->think_budget, err);
    if (rc == RRM_OK) rc = get_int(j, "top_k", &s->top_k, err);
    if (rc == RRM_OK) rc = get_int(j, "limit", &s->limit, err);
    if (rc == RRM_OK) rc = get_int(j, "selection_rows", &s->selection_rows, err);
    if (rc == RRM_OK) rc = get_num(j, "temperature", &s->temperature, err);
    if (rc == RRM_OK) rc = get_num(j, "top_p", &s->top_p, err);
    if (rc == RRM_OK) rc = get_num(j, "min_p", &s->min_p, err);
    json_t *sh = json_object_get(j, "shard");
    if (rc == RRM_OK && (!json_is_array(sh) || json_array_size(sh) != 2 ||
                         !json_is_integer(json_array_get(sh, 0)) ||
                         !json_is_integer(json_array_get(sh, 1))))
        rc = rrm_errf(err, RRM_E_FORMAT, "run.json: \"shard\" is not [i, n]");
    if (rc != RRM_OK) return rc;
    s->shard_i = (int)json_integer_value(json_array_get(sh, 0));
    s->shard_n = (int)json_integer_value(json_array_get(sh, 1));
    char *end;
    s->seed = strtoull(seed, &end, 10);
    s->kv_f16 = strcmp(kv, "f16") == 0;
    s->both_orders = json_is_true(json_object_get(j, "both_orders"));
    if (*end || !seed[0] || s->shard_n < 1 || s->shard_i < 1 || s->shard_i > s->shard_n)
        return rrm_errf(err, RRM_E_FORMAT, "run.json: bad seed or shard");
    return RRM_OK;
}

int eval_settings_differ(const struct eval_settings *a, const struct eval_settings *b,
                         int ignore_shard, char *why, size_t wl)
{
#define STR_FIELD(f, label)                                                                   \
    if (strcmp(a->f, b->f) != 0) {                                                            \
        snprintf(why, wl, "%s: '%.200s' vs '%.200s'", label, a->f, b->f);                     \
        return 1;                                                                             \
    }
#define NUM_FIELD(f, label)                                                                   \
    if (a->f != b->f) {                                                                       \
        snprintf(why, wl, "%s: %.17g vs %.17g", label, (double)a->f, (double)b->f);           \
        return 1;                                                                             \
    }
    STR_FIELD(bench, "benchmark")
    STR_FIELD(data_hash, "data (hash of the dataset files)")
    STR_FIELD(model_id, "model (fingerprint of the weight files)")
    NUM_FIELD(k, "k (votes)")
    NUM_FIELD(seed, "seed")
    NUM_FIELD(max_tokens, "max tokens")
    NUM_FIELD(think_budget, "think budget")
    NUM_FIELD(temperature, "temperature")
    NUM_FIELD(top_p, "top-p")
    NUM_FIELD(top_k, "top-k")
    NUM_FIELD(min_p, "min-p")
    NUM_FIELD(kv_f16, "KV type f16")
    NUM_FIELD(both_orders, "both orders")
    STR_FIELD(template_name, "template")
    STR_FIELD(subsets, "subsets")
    if (!ignore_shard) {
        NUM_FIELD(shard_i, "shard index")
        NUM_FIELD(shard_n, "shard count")
    }
#undef STR_FIELD
#undef NUM_FIELD
    return 0;
}

/* ---- model fingerprint ---- */

#define ID_CHUNK 65536

static int hash_file(const char *path, const char *name, uint64_t *h, rrm_err *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return rrm_errf(err, RRM_E_IO, "eval: cannot open %s: %s", path, strerror(errno));
    struct stat st;
    int rc = RRM_OK;
    unsigned char *buf = rrm_malloc(ID_CHUNK);
    if (!buf) rc = rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    if (rc == RRM_OK && fstat(fd, &st) != 0)
        rc = rrm_errf(err, RRM_E_IO, "eval: cannot stat %s", path);
    if (rc == RRM_OK) {
        uint64_t size = (uint64_t)st.st_size;
        *h = eval_fnv(*h, name, strlen(name) + 1);
        *h = eval_fnv(*h, &size, sizeof size);
        off_t offs[2] = {0, st.st_size > ID_CHUNK ? st.st_size - ID_CHUNK : 0};
        for (int i = 0; i < 2 && rc == RRM_OK; i++) {
            ssize_t n = pread(fd, buf, ID_CHUNK, offs[i]);
            if (n < 0) rc = rrm_errf(err, RRM_E_IO, "eval: cannot read %s", path);
            else *h = eval_fnv(*h, buf, (size_t)n);
        }
    }
    rrm_free(buf);
    close(fd);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int wanted(const char *n)
{
    size_t l = strlen(n);
    return (l > 5 && strcmp(n + l - 5, ".json") == 0) ||
           (l > 12 && strcmp(n + l - 12, ".safetensors") == 0) ||
           (l > 5 && strcmp(n + l - 5, ".gguf") == 0);
}

int eval_model_id(const char *path, char out[17], rrm_err *err)
{
    uint64_t h = EVAL_FNV_INIT;
    int rc = RRM_OK;
    if (!rrm_is_dir(path)) {
        rc = hash_file(path, "", &h, err);
    } else {
        DIR *d = opendir(path);
        if (!d) return rrm_errf(err, RRM_E_IO, "eval: cannot list %s: %s", path, strerror(errno));
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        while (rc == RRM_OK && (e = readdir(d))) {
            if (!wanted(e->d_name)) continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                char **nn = rrm_realloc(names, cap * sizeof *nn);
                if (!nn) {
                    rc = rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
                    break;
                }
                names = nn;
            }
            names[n] = rrm_strdup(e->d_name);
            if (!names[n]) rc = rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
            else n++;
        }
        closedir(d);
        if (n) qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; rc == RRM_OK && i < n; i++) {
            char *p = rrm_path_join(path, names[i]);
            rc = p ? hash_file(p, names[i], &h, err) : rrm_errf(err, RRM_E_NOMEM, "eval: OOM");
            rrm_free(p);
        }
        for (size_t i = 0; i < n; i++) rrm_free(names[i]);
        rrm_free(names);
        if (rc == RRM_OK && n == 0)
            rc = rrm_errf(err, RRM_E_IO, "eval: %s has no .json/.safetensors/.gguf files", path);
    }
    if (rc == RRM_OK) snprintf(out, 17, "%016llx", (unsigned long long)h);
    return rc;
}
