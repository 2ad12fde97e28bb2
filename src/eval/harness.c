/*
 * harness.c — a resumable evaluation run: select rows (subsets, limit, shard), check or write
 * DIR/run.json, read back DIR/results.jsonl, judge the remaining rows in batches (each batch is
 * one rrm_judge_run: every row's prompt prefilled once, its k votes forked, all rows x votes of
 * the batch in the same forwards, KV bounded by kv_budget), append each finished batch's rows
 * (one write, then fsync), and write the report. Shard merging lives here too.
 *
 * Row i of the selection (dataset order, after --subset and --limit) belongs to shard
 * (i mod N) + 1. Each row is judged with index = its key (eval_row_key), so its position order
 * and vote seeds are those of any other run with the same settings: resuming, sharding and the
 * batch size never change a row's result.
 */
#define _DEFAULT_SOURCE
#include "eval/eval.h"
#include "judge/judge.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define EVAL_MAX_BATCH 1024

void eval_default_params(struct eval_params *p)
{
    memset(p, 0, sizeof *p);
    p->judge = rrm_judge_default_params();
    p->shard_i = p->shard_n = 1;
    p->batch = 16;
}

static void note(const struct eval_params *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(const struct eval_params *p, const char *fmt, ...)
{
    if (!p->log) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    p->log(buf, p->user);
}

/* 1 when `name` is in the comma list (NULL or "" = every subset). */
static int in_list(const char *list, const char *name)
{
    if (!list || !*list) return 1;
    size_t n = strlen(name);
    for (const char *s = list; *s;) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == n && memcmp(s, name, n) == 0) return 1;
        s += l + (e ? 1 : 0);
    }
    return 0;
}

/* Every name of the list must be a subset of the dataset. */
static int check_list(const struct eval_dataset *d, const char *list, rrm_err *err)
{
    if (!list || !*list) return RRM_OK;
    for (const char *s = list; *s;) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        int found = 0;
        for (int64_t i = 0; i < d->n_rows && !found; i++)
            found = strlen(d->rows[i].subset) == l && memcmp(d->rows[i].subset, s, l) == 0;
        if (!found) {
            struct rrm_str names = {0};
            for (int64_t i = 0; i < d->n_rows; i++)
                if (i == 0 || strcmp(d->rows[i].subset, d->rows[i - 1].subset) != 0)
                    rrm_str_appendf(&names, "%s%s", names.len ? ", " : "", d->rows[i].subset);
            int rc = rrm_errf(err, RRM_E_INVAL, "eval: --subset '%.*s' is not in %s (subsets: "
                                                "%.150s)", (int)(l > 100 ? 100 : l), s, d->name,
                              names.p ? names.p : "none");
            rrm_str_free(&names);
            return rc;
        }
        s += l + (e ? 1 : 0);
    }
    return RRM_OK;
}

/* Selection of this shard: indices into d->rows. */
static int select_rows(const struct eval_dataset *d, const struct eval_params *p, int64_t **out,
                       int64_t *n_out, int64_t *n_selection, rrm_err *err)
{
    int rc = check_list(d, p->subsets, err);
    if (rc != RRM_OK) return rc;
    int64_t *v = rrm_calloc((size_t)d->n_rows, sizeof *v);
    if (!v) return rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    int64_t sel = 0, n = 0;
    for (int64_t i = 0; i < d->n_rows; i++) {
        if (!in_list(p->subsets, d->rows[i].subset)) continue;
        if (p->limit > 0 && sel >= p->limit) break;
        if (sel % p->shard_n == p->shard_i - 1) v[n++] = i;
        sel++;
    }
    *out = v;
    *n_out = n;
    *n_selection = sel;
    return RRM_OK;
}

static int ensure_dir(const char *dir, rrm_err *err)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
        if (rrm_is_dir(dir)) return RRM_OK;
        return rrm_errf(err, RRM_E_IO, "eval: --out %s exists and is not a directory", dir);
    }
    return rrm_errf(err, RRM_E_IO, "eval: cannot create %s: %s", dir, strerror(errno));
}

static int write_json_file(const char *dir, const char *name, json_t *j, rrm_err *err)
{
    char *s = NULL, *path = rrm_path_join(dir, name);
    int rc = path ? rrm_json_dump(j, JSON_INDENT(2) | JSON_SORT_KEYS, &s, err)
                  : rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    if (rc == RRM_OK) {
        size_t n = strlen(s);
        s[n] = '\n'; /* replaces the NUL: the buffer is written with its length */
        rc = rrm_write_file(path, s, n + 1, err);
    }
    rrm_free(s);
    rrm_free(path);
    return rc;
}

/* Reads DIR/run.json into *s; *found = 0 when there is none. */
static int read_run_json(const char *dir, struct eval_settings *s, int *found, rrm_err *err)
{
    char *path = rrm_path_join(dir, "run.json");
    if (!path) return rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    *found = 0;
    struct stat st;
    int rc = RRM_OK;
    if (stat(path, &st) == 0) {
        json_t *j = NULL;
        rc = rrm_json_load_file(&j, path, 1 << 20, err);
        if (rc == RRM_OK) rc = eval_settings_from_json(j, s, err);
        if (rc != RRM_OK) rrm_err_prefix(err, "eval: %s", path);
        json_decref(j);
        *found = rc == RRM_OK;
    }
    rrm_free(path);
    return rc;
}

static const char *gold_name(int g)
{
    return g == EVAL_GOLD_A ? "A" : g == EVAL_GOLD_B ? "B" : "tie";
}

static json_t *pick_json(int p)
{
    return p == RRM_PICK_A ? json_string("A") : p == RRM_PICK_B ? json_string("B") : json_null();
}

static const char *finish_name(int f)
{
    static const char *const names[] = {"running", "eos", "length", "cancelled", "not_run"};
    return f >= 0 && f <= 4 ? names[f] : "?";
}

/* The results.jsonl line of one row: its `orders` judge results (res != NULL), or not judgeable
 * (errmsg). Votes, verdicts, tokens and texts list order 1 then order 2. */
static json_t *row_json(int bench, int both, const struct eval_row *r,
                        const rrm_judge_result *res, int k, const char *errmsg, double seconds)
{
    json_t *o = json_object(), *picks = json_array(), *verd = json_array(), *fin = json_array();
    json_t *toks = json_array(), *texts = json_array(), *votes = json_object();
    int orders = both ? 2 : 1, n_a = 0, n_b = 0;
    int64_t n_prompt = 0;
    int *all = rrm_calloc((size_t)(orders * k), sizeof *all);
    if (!all) {
        json_decref(o);
        o = NULL;
    }
    for (int ord = 0; o && ord < orders; ord++) {
        const rrm_judge_result *x = res ? &res[ord] : NULL;
        n_prompt += x ? x->n_prompt : 0;
        for (int v = 0; v < k; v++) {
            const rrm_judge_vote *vt = x ? &x->votes[v] : NULL;
            int p = vt ? vt->pick : RRM_PICK_NONE;
            all[ord * k + v] = p;
            n_a += p == RRM_PICK_A;
            n_b += p == RRM_PICK_B;
            json_array_append_new(picks, pick_json(p));
            json_array_append_new(verd, json_string(rrm_verdict_name(vt ? vt->verdict : 0)));
            json_array_append_new(fin, json_string(vt ? finish_name(vt->finish) : "error"));
            json_array_append_new(toks, json_integer(vt ? vt->n_tokens : 0));
            json_t *t = vt ? json_stringn(vt->text ? vt->text : "", vt->text_len) : json_string("");
            json_array_append_new(texts, t ? t : json_null());
        }
    }
    /* The decision over all k votes of each order. */
    int winner = all ? eval_decide(bench, all, k, k, both) : RRM_PICK_NONE;
    rrm_free(all);
    if (!o) {
        json_decref(picks);
        json_decref(verd);
        json_decref(fin);
        json_decref(toks);
        json_decref(texts);
        json_decref(votes);
        return NULL;
    }
    json_object_set_new(o, "subset", json_string(r->subset));
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "row", json_integer(r->ordinal));
    json_object_set_new(o, "gold", json_string(gold_name(r->gold)));
    json_object_set_new(o, "swapped", json_boolean(res && !both && res->swapped));
    if (both) json_object_set_new(o, "orders", json_integer(2));
    json_object_set_new(o, "winner", pick_json(winner));
    json_object_set_new(o, "score", r->gold == EVAL_GOLD_TIE
                                        ? json_null()
                                        : json_real(eval_row_score(r->gold, winner,
                                                                   eval_nd_credit(bench, both))));
    json_object_set_new(votes, "a", json_integer(n_a));
    json_object_set_new(votes, "b", json_integer(n_b));
    json_object_set_new(votes, "invalid", json_integer(orders * k - n_a - n_b));
    json_object_set_new(o, "votes", votes);
    json_object_set_new(o, "picks", picks);
    json_object_set_new(o, "verdicts", verd);
    json_object_set_new(o, "finish", fin);
    json_object_set_new(o, "tokens", toks);
    json_object_set_new(o, "prompt_tokens", json_integer(n_prompt));
    json_object_set_new(o, "reasoning", texts);
    json_object_set_new(o, "seconds", json_real(seconds));
    if (errmsg) json_object_set_new(o, "error", json_string(errmsg));
    return o;
}

/* The batch being judged: rows d->rows[idx[0..n)], `orders` comparisons each, results in res. */
struct batch {
    const struct eval_dataset *d;
    const int64_t *idx;
    int n, orders, base;         /* base: first row of the current rrm_judge_run call */
    rrm_judge_result *res;       /* n * orders */
    int *n_done;                 /* comparisons finished per row */
    char *written;               /* 1 once the row's line is in results.jsonl */
    int fd;
    const char *path;
};

struct run_state {
    const struct eval_params *p;
    struct eval_progress pr;
    int64_t tokens_before;
    double t0, t_last;           /* start; when the last row was written */
    struct batch *cur;
};

static int judge_progress(uint64_t done, uint64_t total, void *user)
{
    (void)total;
    struct run_state *st = user;
    st->pr.tokens = st->tokens_before + (int64_t)done;
    st->pr.seconds = rrm_time_s() - st->t0;
    st->pr.batch_done = 0;
    return st->p->progress ? st->p->progress(&st->pr, st->p->user) : 0;
}

static int write_all(int fd, const char *s, size_t n, const char *path, rrm_err *err)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return rrm_errf(err, RRM_E_IO, "eval: write to %s: %s", path, strerror(errno));
        s += w;
        n -= (size_t)w;
    }
    return RRM_OK;
}

/* Appends row r of the batch (judged, or not judgeable with errmsg) to results.jsonl: one write,
 * then fsync, so a finished row survives a kill. Its "seconds" is the wall time since the
 * previous row was written, so the rows' seconds add up to the time spent judging. */
static int write_row(struct run_state *st, struct batch *b, int r, const char *errmsg,
                     rrm_err *err)
{
    const struct eval_params *p = st->p;
    const struct eval_row *row = &b->d->rows[b->idx[r]];
    double now = rrm_time_s();
    json_t *o = row_json(b->d->bench, p->both_orders, row, errmsg ? NULL : &b->res[r * b->orders],
                         p->judge.k, errmsg, now - st->t_last);
    char *line = NULL;
    int rc = o ? rrm_json_dump(o, JSON_COMPACT, &line, err)
               : rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    json_t *w = o ? json_object_get(o, "winner") : NULL;
    int winner = json_is_string(w) ? (json_string_value(w)[0] == 'A' ? RRM_PICK_A : RRM_PICK_B)
                                   : RRM_PICK_NONE;
    json_decref(o);
    if (rc == RRM_OK) {
        size_t n = strlen(line);
        line[n] = '\n'; /* replaces the NUL: written with its length */
        rc = write_all(b->fd, line, n + 1, b->path, err);
    }
    rrm_free(line);
    if (rc == RRM_OK && fsync(b->fd) != 0)
        rc = rrm_errf(err, RRM_E_IO, "eval: fsync %s: %s", b->path, strerror(errno));
    if (rc != RRM_OK) return rc;
    st->t_last = now;
    b->written[r] = 1;
    st->pr.rows_done++;
    if (row->gold != EVAL_GOLD_TIE) {
        st->pr.score_sum += eval_row_score(row->gold, winner,
                                           eval_nd_credit(b->d->bench, p->both_orders));
        st->pr.scored_rows++;
    }
    if (errmsg) note(p, "row %s/%s not judged: %s", row->subset, row->id, errmsg);
    return RRM_OK;
}

/* rrm_judge_params.on_result: a row is written once all its orders are final. */
static int on_result(int i, const rrm_judge_result *res, void *user, rrm_err *err)
{
    (void)res; /* == &b->res[(base * orders) + i] */
    struct run_state *st = user;
    struct batch *b = st->cur;
    int r = b->base + i / b->orders;
    if (++b->n_done[r] < b->orders) return RRM_OK;
    return write_row(st, b, r, NULL, err);
}

/* Judges rows[idx[0..n)] in one rrm_judge_run (each row once, or twice with both orders: a as
 * Assistant 1, then b; rows x orders x k votes decoded together), each row written the moment
 * it is final. When the call fails on one row's input (prompt over the context, bad text), the
 * unwritten rows are judged one by one and a row that still fails is written as not judgeable. */
static int run_batch(rrm_judge *j, struct run_state *st, const struct eval_dataset *d,
                     const int64_t *idx, int n, int fd, const char *path, rrm_err *err)
{
    const struct eval_params *p = st->p;
    int orders = p->both_orders ? 2 : 1, np = n * orders;
    rrm_judge_pair *pairs = rrm_calloc((size_t)np, sizeof *pairs);
    struct batch b = {d, idx, n, orders, 0, rrm_calloc((size_t)np, sizeof *b.res),
                      rrm_calloc((size_t)n, sizeof *b.n_done), rrm_calloc((size_t)n, 1), fd, path};
    int rc = pairs && b.res && b.n_done && b.written
                 ? RRM_OK
                 : rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    for (int i = 0; rc == RRM_OK && i < n; i++) {
        const struct eval_row *r = &d->rows[idx[i]];
        for (int o = 0; o < orders; o++)
            pairs[i * orders + o] = (rrm_judge_pair){r->prompt, r->a, r->b, r->prompt_len,
                                                     r->a_len, r->b_len, r->key,
                                                     p->both_orders ? o : -1};
    }
    st->cur = &b;
    rrm_judge_stats js = {0};
    if (rc == RRM_OK) {
        rc = rrm_judge_run(j, pairs, np, b.res, &js, err);
        st->tokens_before += js.decode_tokens;
        for (int i = 0; rc == RRM_OK && i < np; i++) rrm_judge_result_free(&b.res[i]);
    }
    if (rc == RRM_E_LIMIT || rc == RRM_E_FORMAT) {
        rc = RRM_OK;
        for (int i = 0; rc == RRM_OK && i < n; i++) {
            if (b.written[i]) continue;
            rrm_err e1 = {0};
            b.base = i;
            b.n_done[i] = 0;
            int r1 = rrm_judge_run(j, &pairs[i * orders], orders, &b.res[i * orders], &js, &e1);
            st->tokens_before += r1 == RRM_OK ? js.decode_tokens : 0;
            for (int o = 0; r1 == RRM_OK && o < orders; o++)
                rrm_judge_result_free(&b.res[i * orders + o]);
            if (r1 == RRM_E_LIMIT || r1 == RRM_E_FORMAT) {
                rc = write_row(st, &b, i, e1.msg[0] ? e1.msg : "not judgeable", err);
            } else if (r1 != RRM_OK) {
                *err = e1;
                rc = r1;
            }
        }
    }
    st->cur = NULL;
    rrm_free(pairs);
    rrm_free(b.res);
    rrm_free(b.n_done);
    rrm_free(b.written);
    return rc;
}

struct keyidx {
    uint64_t key;
    int64_t i;
};

static int cmp_keyidx(const void *a, const void *b)
{
    const struct keyidx *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Index of row (subset, id) among sel (sorted keys), or -1. */
static int64_t find_row(const struct keyidx *keys, int64_t n, const struct eval_dataset *d,
                        const char *subset, const char *id)
{
    struct keyidx want = {eval_row_key(subset, id), 0};
    const struct keyidx *k = bsearch(&want, keys, (size_t)n, sizeof *keys, cmp_keyidx);
    if (!k) return -1;
    while (k > keys && k[-1].key == want.key) k--;
    for (; k < keys + n && k->key == want.key; k++) {
        const struct eval_row *r = &d->rows[k->i];
        if (strcmp(r->subset, subset) == 0 && strcmp(r->id, id) == 0) return k - keys;
    }
    return -1;
}

static void fill_settings(struct eval_settings *s, const struct eval_params *p,
                          const struct eval_dataset *d)
{
    memset(s, 0, sizeof *s);
    snprintf(s->bench, sizeof s->bench, "%s", p->bench);
    snprintf(s->model, sizeof s->model, "%s", p->model);
    snprintf(s->data_hash, sizeof s->data_hash, "%016llx", (unsigned long long)d->data_hash);
    s->k = p->judge.k;
    s->seed = p->judge.seed;
    s->max_tokens = p->judge.max_new_tokens;
    s->think_budget = p->judge.think_budget;
    s->temperature = p->judge.sampling.temperature;
    s->top_p = p->judge.sampling.top_p;
    s->top_k = p->judge.sampling.top_k;
    s->min_p = p->judge.sampling.min_p;
    s->kv_f16 = p->judge.kv_type == RRM_KV_F16;
    s->both_orders = p->both_orders;
    snprintf(s->template_name, sizeof s->template_name, "%s",
             p->judge.template_name ? p->judge.template_name : "");
    snprintf(s->subsets, sizeof s->subsets, "%s", p->subsets ? p->subsets : "");
    s->limit = p->limit;
    s->shard_i = p->shard_i;
    s->shard_n = p->shard_n;
}

/* Results of this selection only (rows judged under a larger --limit are kept in the file but
 * left out), checked against the dataset (same gold label). */
static int keep_selected(struct eval_results *rs, const struct keyidx *keys, int64_t n_sel,
                         const struct eval_dataset *d, int k, int orders, char *done,
                         int64_t *n_other,
                         rrm_err *err)
{
    int64_t w = 0;
    *n_other = 0;
    for (int64_t i = 0; i < rs->n; i++) {
        struct eval_result *r = &rs->r[i];
        int64_t at = find_row(keys, n_sel, d, r->subset, r->id);
        if (at >= 0 && (d->rows[keys[at].i].gold != r->gold ||
                        d->rows[keys[at].i].ordinal != r->ordinal))
            return rrm_errf(err, RRM_E_FORMAT, "eval: results row (subset '%.100s', id '%.100s') "
                                               "does not match the dataset row", r->subset, r->id);
        if (r->k != k || r->orders != orders)
            return rrm_errf(err, RRM_E_FORMAT, "eval: results row (subset '%.100s', id '%.100s') "
                                               "has %d x %d votes, the run %d x %d", r->subset,
                            r->id, r->orders, r->k, orders, k);
        if (at < 0) {
            (*n_other)++;
            rrm_free(r->subset);
            rrm_free(r->id);
            continue;
        }
        if (done) done[at] = 1;
        rs->r[w++] = *r;
    }
    rs->n = w;
    return RRM_OK;
}

/* Progress of the rows already in results.jsonl (resumed). */
static void resumed_progress(struct eval_progress *pr, const struct eval_results *rs,
                             double nd_credit)
{
    pr->rows_resumed = pr->rows_done = rs->n;
    for (int64_t i = 0; i < rs->n; i++) {
        if (rs->r[i].gold == EVAL_GOLD_TIE) continue;
        pr->score_sum += eval_row_score(rs->r[i].gold, rs->r[i].winner, nd_credit);
        pr->scored_rows++;
    }
}

/* Opens DIR/results.jsonl for appending under an exclusive lock (*fd), refuses a run whose
 * DIR/run.json holds other settings (or results without a run.json), and writes run.json. */
static int open_run_dir(const struct eval_params *p, const struct eval_settings *s,
                        const char *rpath, int *fd, rrm_err *err)
{
    *fd = open(rpath, O_RDWR | O_CREAT | O_APPEND, 0666);
    if (*fd < 0) return rrm_errf(err, RRM_E_IO, "eval: cannot open %s: %s", rpath, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
        return rrm_errf(err, RRM_E_IO, "eval: %s is in use by another rrm eval", rpath);
    struct eval_settings old;
    int found = 0, rc = read_run_json(p->out_dir, &old, &found, err);
    if (rc != RRM_OK) return rc;
    struct stat st;
    if (!found && fstat(*fd, &st) == 0 && st.st_size > 0)
        return rrm_errf(err, RRM_E_INVAL, "eval: %s has results but no run.json: refusing to mix "
                                          "unknown results; use a new --out", p->out_dir);
    char why[600];
    if (found && eval_settings_differ(&old, s, 0, why, sizeof why))
        return rrm_errf(err, RRM_E_INVAL, "eval: %s holds a run with other settings (%s); rerun "
                                          "with the same settings or use a new --out",
                        p->out_dir, why);
    json_t *sj = eval_settings_json(s);
    rc = sj ? write_json_file(p->out_dir, "run.json", sj, err)
            : rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    json_decref(sj);
    return rc;
}

int eval_run(const struct eval_params *p, struct eval_scores *scores, rrm_err *err)
{
    if (!p || !p->bench || !p->out_dir || !p->model)
        return rrm_errf(err, RRM_E_INVAL, "eval_run: NULL argument");
    if (p->shard_n < 1 || p->shard_i < 1 || p->shard_i > p->shard_n)
        return rrm_errf(err, RRM_E_INVAL, "eval: shard %d/%d: want I/N with 1 <= I <= N",
                        p->shard_i, p->shard_n);
    if (p->batch < 1 || p->batch > EVAL_MAX_BATCH)
        return rrm_errf(err, RRM_E_INVAL, "eval: batch of %d rows (1..%d)", p->batch,
                        EVAL_MAX_BATCH);
    rrm_json_init();
    struct eval_dataset d;
    int rc = eval_dataset_load(&d, p->bench, p->data_dir, p->fail_bad, p->bad_row, p->user, err);
    if (rc != RRM_OK) return rc;
    int64_t *sel = NULL, n_sel = 0, n_selection = 0;
    struct keyidx *keys = NULL;
    char *done = NULL, *rpath = NULL;
    int fd = -1;
    rrm_judge *j = NULL;
    struct eval_results rs = {0};
    struct eval_settings s;
    rc = select_rows(&d, p, &sel, &n_sel, &n_selection, err);
    if (rc == RRM_OK && n_sel == 0)
        rc = rrm_errf(err, RRM_E_INVAL, "eval: no rows selected (%lld in the selection, shard "
                                        "%d/%d)", (long long)n_selection, p->shard_i, p->shard_n);
    if (rc != RRM_OK) goto done;
    fill_settings(&s, p, &d);
    s.selection_rows = n_selection;
    rc = eval_model_id(p->model, s.model_id, err);
    if (rc == RRM_OK) rc = ensure_dir(p->out_dir, err);
    rpath = rc == RRM_OK ? rrm_path_join(p->out_dir, "results.jsonl") : NULL;
    if (rc == RRM_OK && !rpath) rc = rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    if (rc != RRM_OK) goto done;
    rc = open_run_dir(p, &s, rpath, &fd, err);
    int torn = 0;
    if (rc == RRM_OK) rc = eval_results_read(rpath, 1, &rs, &torn, err);
    if (rc != RRM_OK) goto done;
    if (torn) note(p, "%s: dropped a torn last line (an interrupted write); that row runs again",
                   rpath);
    keys = rrm_calloc((size_t)n_sel, sizeof *keys);
    done = rrm_calloc((size_t)n_sel, 1);
    if (!keys || !done) {
        rc = rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
        goto done;
    }
    for (int64_t i = 0; i < n_sel; i++) keys[i] = (struct keyidx){d.rows[sel[i]].key, sel[i]};
    qsort(keys, (size_t)n_sel, sizeof *keys, cmp_keyidx);
    int64_t n_other = 0;
    rc = keep_selected(&rs, keys, n_sel, &d, (int)s.k, s.both_orders ? 2 : 1, done, &n_other,
                       err);
    if (rc != RRM_OK) goto done;
    struct run_state rst = {p, {0}, 0, rrm_time_s(), 0, NULL};
    rst.pr.rows_total = n_sel;
    resumed_progress(&rst.pr, &rs, eval_nd_credit(d.bench, p->both_orders));
    if (rs.n) note(p, "resuming: %lld of %lld rows already in %s", (long long)rs.n,
                   (long long)n_sel, rpath);
    eval_results_free(&rs);
    /* Remaining rows in selection order. */
    int64_t *todo = rrm_calloc((size_t)n_sel, sizeof *todo), n_todo = 0;
    if (!todo) {
        rc = rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
        goto done;
    }
    for (int64_t i = 0; i < n_sel; i++)
        if (!done[find_row(keys, n_sel, &d, d.rows[sel[i]].subset, d.rows[sel[i]].id)])
            todo[n_todo++] = sel[i];
    if (n_todo) {
        rrm_judge_params jp = p->judge;
        jp.progress = judge_progress;
        jp.progress_user = &rst;
        jp.kv_max = p->kv_budget;
        jp.on_result = on_result;
        jp.on_result_user = &rst;
        rc = rrm_judge_open(&j, p->model, &jp, err);
        rst.t_last = rrm_time_s(); /* row seconds count judging, not loading */
    }
    for (int64_t b = 0; rc == RRM_OK && b < n_todo; b += p->batch) {
        int n = (int)(n_todo - b < p->batch ? n_todo - b : p->batch);
        rc = run_batch(j, &rst, &d, todo + b, n, fd, rpath, err);
        if (rc == RRM_OK && p->progress) {
            rst.pr.tokens = rst.tokens_before;
            rst.pr.seconds = rrm_time_s() - rst.t0;
            rst.pr.batch_done = 1;
            if (p->progress(&rst.pr, p->user))
                rc = rrm_errf(err, RRM_E_CANCELLED, "eval: cancelled after %lld of %lld rows "
                                                    "(rerun to continue)",
                              (long long)rst.pr.rows_done, (long long)n_sel);
        }
    }
    rrm_free(todo);
    if (rc != RRM_OK) goto done;
    /* The report reads the file back: it is what a later resume or merge will see. */
    rc = eval_results_read(rpath, 0, &rs, NULL, err);
    if (rc == RRM_OK)
        rc = keep_selected(&rs, keys, n_sel, &d, (int)s.k, s.both_orders ? 2 : 1, NULL, &n_other,
                           err);
    if (rc == RRM_OK) {
        eval_results_sort(&rs);
        struct eval_scores sc;
        rc = eval_report_write(p->out_dir, &s, &rs, &sc, err);
        if (rc == RRM_OK && scores) *scores = sc;
    }
done:
    eval_results_free(&rs);
    rrm_judge_close(j);
    if (fd >= 0) close(fd);
    rrm_free(rpath);
    rrm_free(keys);
    rrm_free(done);
    rrm_free(sel);
    eval_dataset_free(&d);
    return rc;
}

/* One results line of a merge: its ordinal and its bytes in the concatenated shard files. */
struct line {
    int64_t ord;
    size_t at, len;
};

static int cmp_line(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

int eval_merge(const char *const *dirs, int n_dirs, const char *out_dir, int *missing,
               struct eval_scores *scores, rrm_err *err)
{
    if (!dirs || n_dirs < 1 || !out_dir)
        return rrm_errf(err, RRM_E_INVAL, "eval-merge: give shard directories and --out");
    rrm_json_init();
    struct eval_settings first, s;
    struct eval_results all = {0};
    char *seen = NULL;
    int rc = RRM_OK;
    for (int i = 0; rc == RRM_OK && i < n_dirs; i++) {
        int found = 0;
        rc = read_run_json(dirs[i], i ? &s : &first, &found, err);
        if (rc == RRM_OK && !found)
            rc = rrm_errf(err, RRM_E_INVAL, "eval-merge: %s has no run.json", dirs[i]);
        if (rc != RRM_OK) break;
        if (i == 0) {
            seen = rrm_calloc((size_t)first.shard_n, 1);
            if (!seen) rc = rrm_errf(err, RRM_E_NOMEM, "eval-merge: out of memory");
            s = first;
        }
        char why[600];
        if (rc == RRM_OK && i && eval_settings_differ(&first, &s, 1, why, sizeof why))
            rc = rrm_errf(err, RRM_E_INVAL, "eval-merge: %s and %s were run with different "
                                            "settings (%s)", dirs[0], dirs[i], why);
        if (rc == RRM_OK && (s.shard_n != first.shard_n || s.limit != first.limit))
            rc = rrm_errf(err, RRM_E_INVAL, "eval-merge: %s is shard %d/%d with limit %lld, %s "
                                            "is shard %d/%d with limit %lld", dirs[0],
                          first.shard_i, first.shard_n, (long long)first.limit, dirs[i],
                          s.shard_i, s.shard_n, (long long)s.limit);
        if (rc == RRM_OK && seen[s.shard_i - 1])
            rc = rrm_errf(err, RRM_E_INVAL, "eval-merge: shard %d/%d is given twice (%s)",
                          s.shard_i, s.shard_n, dirs[i]);
        if (rc != RRM_OK) break;
        seen[s.shard_i - 1] = 1;
        char *rp = rrm_path_join(dirs[i], "results.jsonl");
        struct eval_results rs = {0};
        int torn = 0;
        rc = rp ? eval_results_read(rp, 0, &rs, &torn, err)
                : rrm_errf(err, RRM_E_NOMEM, "eval-merge: out of memory");
        if (rc == RRM_OK && torn)
            rc = rrm_errf(err, RRM_E_FORMAT, "eval-merge: %s ends in a torn line: rerun that "
                                             "shard to finish it", rp);
        for (int64_t k = 0; rc == RRM_OK && k < rs.n; k++) {
            if (all.n == all.cap) {
                int64_t nc = all.cap ? all.cap * 2 : 1024;
                struct eval_result *nr = rrm_realloc(all.r, (size_t)nc * sizeof *nr);
                if (!nr) {
                    rc = rrm_errf(err, RRM_E_NOMEM, "eval-merge: out of memory");
                    break;
                }
                all.r = nr;
                all.cap = nc;
            }
            all.r[all.n++] = rs.r[k];
            rs.r[k].subset = rs.r[k].id = NULL;
        }
        eval_results_free(&rs);
        rrm_free(rp);
    }
    int n_missing = 0;
    for (int i = 0; rc == RRM_OK && i < first.shard_n; i++) n_missing += !seen[i];
    if (rc == RRM_OK) {
        eval_results_sort(&all);
        for (int64_t i = 1; rc == RRM_OK && i < all.n; i++)
            if (all.r[i].ordinal == all.r[i - 1].ordinal &&
                strcmp(all.r[i].subset, all.r[i - 1].subset) == 0)
                rc = rrm_errf(err, RRM_E_INVAL, "eval-merge: row (subset '%.100s', id '%.100s') "
                                                "is in two shards", all.r[i].subset,
                              all.r[i].id);
    }
    if (rc == RRM_OK) rc = ensure_dir(out_dir, err);
    for (int i = 0; rc == RRM_OK && i < n_dirs; i++) {
        /* Writing the merge into a shard would replace that shard's own files. */
        struct stat a, b;
        if (stat(out_dir, &a) == 0 && stat(dirs[i], &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino)
            rc = rrm_errf(err, RRM_E_INVAL, "eval-merge: --out %s is one of the shards", out_dir);
    }
    if (rc == RRM_OK) {
        /* The merged run: the unsharded settings, results in dataset order. */
        s = first;
        s.shard_i = s.shard_n = 1;
        json_t *sj = eval_settings_json(&s);
        rc = sj ? write_json_file(out_dir, "run.json", sj, err)
                : rrm_errf(err, RRM_E_NOMEM, "eval-merge: out of memory");
        json_decref(sj);
    }
    if (rc == RRM_OK) {
        char *rp = rrm_path_join(out_dir, "results.jsonl");
        struct rrm_str buf = {0};
        rc = rp ? RRM_OK : rrm_errf(err, RRM_E_NOMEM, "eval-merge: out of memory");
        /* Copy the original lines (with reasoning) in dataset order. */
        for (int i = 0; rc == RRM_OK && i < n_dirs; i++) {
            char *src = rrm_path_join(dirs[i], "results.jsonl"), *text = NULL;
            size_t len = 0;
            rc = src ? rrm_read_file(src, (size_t)1 << 40, &text, &len, err)
                     : rrm_errf(err, RRM_E_NOMEM, "eval-merge: out of memory");
            if (rc == RRM_OK) rc = rrm_str_append(&buf, text, len);
            rrm_free(text);
            rrm_free(src);
        }
        /* Sort the lines by "row": parse each, pair with its ordinal. */
        if (rc == RRM_OK) {
            struct line *ls = rrm_calloc((size_t)(all.n ? all.n : 1), sizeof *ls);
            int64_t nl = 0;
            rc = ls ? RRM_OK : rrm_errf(err, RRM_E_NOMEM, "eval-merge: out of memory");
            for (size_t at = 0; rc == RRM_OK && at < buf.len && nl < all.n;) {
                char *e = memchr(buf.p + at, '\n', buf.len - at);
                size_t l = e ? (size_t)(e - (buf.p + at)) + 1 : buf.len - at;
                json_t *o = NULL;
                rc = rrm_json_parse(&o, buf.p + at, l, (size_t)1 << 40, "results line", err);
                if (rc == RRM_OK) {
                    ls[nl++] = (struct line){json_integer_value(json_object_get(o, "row")), at, l};
                    json_decref(o);
                }
                at += l;
            }
            if (nl > 1) qsort(ls, (size_t)nl, sizeof *ls, cmp_line);
            struct rrm_str outb = {0};
            for (int64_t a = 0; rc == RRM_OK && a < nl; a++)
                rc = rrm_str_append(&outb, buf.p + ls[a].at, ls[a].len);
            if (rc == RRM_OK) rc = rrm_write_file(rp, outb.p ? outb.p : "", outb.len, err);
            rrm_str_free(&outb);
            rrm_free(ls);
        }
        rrm_str_free(&buf);
        rrm_free(rp);
    }
    if (rc == RRM_OK) {
        struct eval_scores sc;
        rc = eval_report_write(out_dir, &s, &all, &sc, err);
        if (rc == RRM_OK && scores) *scores = sc;
        if (rc == RRM_OK && missing) *missing = n_missing;
    }
    eval_results_free(&all);
    rrm_free(seen);
    return rc;
}
