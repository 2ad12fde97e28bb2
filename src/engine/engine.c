/*
 * engine.c — the continuous-batching scheduler (see engine.h for the contract).
 * Data: requests (prompt, k samples, limits) and samples (one KV sequence + sampler + output
 * buffer each). Every buffer a sample needs is allocated at submit, so the per-token path
 * allocates nothing. Request life: QUEUED -> (WAIT: for a prefix source) -> PREFILL -> DECODE ->
 * DONE. `by_prompt` lists the admitted, unfinished requests sorted by prompt ids (then index),
 * for the longest-shared-prefix lookup at admission. `ret` holds the retained prompts of finished
 * requests (at most eng_params.retain, least recently used evicted first): one sequence each,
 * truncated to the prompt, owning the prompt ids it took over from its request.
 */
#include "engine/engine.h"

#include <stdlib.h>

enum req_state { REQ_QUEUED, REQ_WAIT, REQ_PREFILL, REQ_DECODE, REQ_DONE };

struct sample {
    int seq;               /* context sequence id, -1 when freed */
    rrm_sampler *smp;
    int32_t *out;          /* (max_new_tokens + n_think_close) */
    int64_t n_out;
    int32_t next;          /* token to feed in the next forward */
    int64_t pos;           /* its position */
    int forced;            /* index into think_close while closing the thought, else -1 */
    int64_t n_forced;      /* tokens of out[] that were forced, not sampled */
    int thought_closed;    /* saw think_end_id (or forced it) */
    int finish;
};

struct request {
    struct eng_request r;  /* prompt and think_close point at our copies */
    int32_t *prompt, *close;
    int state;
    int64_t prefilled;     /* prompt rows already computed (or taken from a shared prefix) */
    int64_t blocks;        /* KV blocks reserved */
    int src;               /* WAIT: request whose prompt KV this one forks */
    int64_t share;         /* WAIT: prompt positions to take from src (src <= -2: retained
                            * prompt -2 - src, forked at once) */
    struct sample *s;      /* (n_samples) */
};

struct eng {
    rrm_ctx *ctx;
    int64_t n_vocab;
    struct eng_params p;
    struct request *req;
    int n_req, cap_req;
    int64_t reserved;      /* blocks reserved by admitted, unfinished requests */
    int seq_reserved;      /* sequence slots reserved by their unfinished samples */
    int64_t prefix_min;    /* resolved eng_params.prefix_min; < 0: no sharing */
    int32_t *by_prompt;    /* (cap_req) admitted unfinished requests, sorted by prompt */
    int n_sorted;
    struct retained {
        int seq;
        int32_t *ids;      /* owned */
        int64_t n, blocks; /* prompt tokens; KV blocks of its table */
        uint64_t used;     /* clock of the last fork from it (or of its retention) */
    } *ret;                /* (p.retain) */
    int n_ret;
    int64_t ret_blocks;    /* blocks held by retained prompts (counted as if private) */
    uint64_t clock;
    rrm_batch_row *rows;   /* (n_batch) */
    struct row_owner {
        int req, sample;   /* sample -1: prefill row of the request */
    } *owner;
    struct eng_stats st;
};

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

int eng_init(struct eng **out, rrm_ctx *ctx, const rrm_model *model, const struct eng_params *p,
             rrm_err *err)
{
    if (!ctx || !model || !p || p->n_batch < 1 || p->kv_block < 1 || p->n_seq_max < 1)
        return rrm_errf(err, RRM_E_INVAL, "engine: bad parameters (n_batch %d, kv_block %d)",
                        p ? p->n_batch : 0, p ? p->kv_block : 0);
    struct eng *e = rrm_calloc(1, sizeof *e);
    if (!e) return rrm_errf(err, RRM_E_NOMEM, "engine: out of memory");
    rrm_model_info in;
    rrm_model_get_info(model, &in);
    e->ctx = ctx;
    e->n_vocab = in.n_vocab;
    e->p = *p;
    e->prefix_min = p->prefix_min == 0 ? p->kv_block : p->prefix_min;
    if (p->retain < 0 || p->retain > p->n_seq_max) {
        rrm_free(e);
        return rrm_errf(err, RRM_E_INVAL, "engine: retain %d not in 0..n_seq_max %d", p->retain,
                        p->n_seq_max);
    }
    e->rows = rrm_calloc((size_t)p->n_batch, sizeof *e->rows);
    e->owner = rrm_calloc((size_t)p->n_batch, sizeof *e->owner);
    e->ret = rrm_calloc((size_t)(p->retain ? p->retain : 1), sizeof *e->ret);
    if (!e->rows || !e->owner || !e->ret) {
        eng_free(e);
        return rrm_errf(err, RRM_E_NOMEM, "engine: out of memory for %d batch rows", p->n_batch);
    }
    *out = e;
    return RRM_OK;
}

static void req_release(struct eng *e, struct request *q)
{
    for (int i = 0; q->s && i < q->r.n_samples; i++) {
        if (q->s[i].seq >= 0) rrm_seq_free(e->ctx, q->s[i].seq, NULL);
        q->s[i].seq = -1;
        rrm_sampler_free(q->s[i].smp);
        q->s[i].smp = NULL;
    }
}

static void req_free(struct eng *e, struct request *q)
{
    req_release(e, q);
    for (int i = 0; q->s && i < q->r.n_samples; i++) rrm_free(q->s[i].out);
    rrm_free(q->s);
    rrm_free(q->prompt);
    rrm_free(q->close);
}

/* Drops retained prompt r (its sequence and ids). */
static void ret_drop(struct eng *e, int r)
{
    struct retained *t = &e->ret[r];
    rrm_seq_free(e->ctx, t->seq, NULL);
    rrm_free(t->ids);
    e->ret_blocks -= t->blocks;
    e->ret[r] = e->ret[--e->n_ret];
}

/* Evicts the least recently used retained prompt; 0 when there is none. */
static int ret_evict(struct eng *e)
{
    if (e->n_ret == 0) return 0;
    int lru = 0;
    for (int r = 1; r < e->n_ret; r++) {
        if (e->ret[r].used < e->ret[lru].used) lru = r;
    }
    ret_drop(e, lru);
    return 1;
}

void eng_forget(struct eng *e)
{
    if (!e) return;
    for (int i = 0; i < e->n_req; i++) req_free(e, &e->req[i]);
    e->n_req = 0;
    e->reserved = 0;
    e->seq_reserved = 0;
    e->n_sorted = 0;
    memset(&e->st, 0, sizeof e->st);
}

void eng_reset(struct eng *e)
{
    if (!e) return;
    eng_forget(e);
    while (ret_evict(e)) {}
}

void eng_free(struct eng *e)
{
    if (!e) return;
    eng_reset(e);
    rrm_free(e->req);
    rrm_free(e->by_prompt);
    rrm_free(e->ret);
    rrm_free(e->rows);
    rrm_free(e->owner);
    rrm_free(e);
}

/* KV blocks a request may use at most: its prompt, plus per sample a copied partial block and
 * room for every token it may add (generated + forced). */
static int64_t req_blocks(const struct eng *e, const struct eng_request *r)
{
    int64_t b = e->p.kv_block;
    int64_t per = ceil_div(r->max_new_tokens + r->n_think_close + 1, b) + 1;
    return ceil_div(r->n_prompt, b) + (int64_t)r->n_samples * per;
}

static int check_request(const struct eng *e, const struct eng_request *r, rrm_err *err)
{
    if (!r->prompt || r->n_prompt < 1)
        return rrm_errf(err, RRM_E_INVAL, "engine: empty prompt");
    if (r->n_samples < 1 || r->n_samples > 4096)
        return rrm_errf(err, RRM_E_INVAL, "engine: n_samples %d not in 1..4096", r->n_samples);
    if (r->max_new_tokens < 1)
        return rrm_errf(err, RRM_E_INVAL, "engine: max_new_tokens %lld < 1",
                        (long long)r->max_new_tokens);
    if (r->think_budget < 0 || r->n_think_close < 0 || (r->n_think_close && !r->think_close))
        return rrm_errf(err, RRM_E_INVAL, "engine: bad thinking budget settings");
    if (r->n_vocab_sample < 0 || r->n_vocab_sample > e->n_vocab)
        return rrm_errf(err, RRM_E_INVAL, "engine: n_vocab_sample %lld not in 0..%lld",
                        (long long)r->n_vocab_sample, (long long)e->n_vocab);
    for (int64_t i = 0; i < r->n_prompt; i++) {
        if (r->prompt[i] < 0 || r->prompt[i] >= e->n_vocab)
            return rrm_errf(err, RRM_E_INVAL, "engine: prompt token %d at %lld outside vocab %lld",
                            r->prompt[i], (long long)i, (long long)e->n_vocab);
    }
    int64_t need = req_blocks(e, r), total = rrm_ctx_total_blocks(e->ctx);
    if (need > total)
        return rrm_errf(err, RRM_E_LIMIT,
                        "engine: request needs up to %lld KV blocks (prompt %lld tokens, %d "
                        "samples x %lld new tokens) but the context has %lld",
                        (long long)need, (long long)r->n_prompt, r->n_samples,
                        (long long)r->max_new_tokens, (long long)total);
    if (r->n_samples > e->p.n_seq_max)
        return rrm_errf(err, RRM_E_LIMIT, "engine: %d samples exceed the context's %d sequences",
                        r->n_samples, e->p.n_seq_max);
    return RRM_OK;
}

int eng_submit(struct eng *e, const struct eng_request *r, rrm_err *err)
{
    int rc = check_request(e, r, err);
    if (rc != RRM_OK) return rc;
    if (e->n_req == e->cap_req) {
        int cap = e->cap_req ? e->cap_req * 2 : 16;
        struct request *nr = rrm_realloc(e->req, (size_t)cap * sizeof *nr);
        if (!nr) return rrm_errf(err, RRM_E_NOMEM, "engine: out of memory for requests");
        e->req = nr;
        int32_t *ns = rrm_realloc(e->by_prompt, (size_t)cap * sizeof *ns);
        if (!ns) return rrm_errf(err, RRM_E_NOMEM, "engine: out of memory for requests");
        e->by_prompt = ns;
        e->cap_req = cap;
    }
    struct request *q = &e->req[e->n_req];
    memset(q, 0, sizeof *q);
    q->r = *r;
    q->prompt = rrm_malloc((size_t)r->n_prompt * sizeof(int32_t));
    q->close = rrm_malloc((size_t)(r->n_think_close + 1) * sizeof(int32_t));
    q->s = rrm_calloc((size_t)r->n_samples, sizeof *q->s);
    int64_t out_cap = r->max_new_tokens + r->n_think_close;
    for (int i = 0; q->s && i < r->n_samples; i++) {
        q->s[i].seq = -1;
        q->s[i].out = rrm_malloc((size_t)out_cap * sizeof(int32_t));
        if (!q->s[i].out) break;
    }
    int ok = q->prompt && q->close && q->s && q->s[r->n_samples - 1].out;
    if (!ok) {
        req_free(e, q);
        return rrm_errf(err, RRM_E_NOMEM, "engine: out of memory for a request");
    }
    memcpy(q->prompt, r->prompt, (size_t)r->n_prompt * sizeof(int32_t));
    if (r->n_think_close)
        memcpy(q->close, r->think_close, (size_t)r->n_think_close * sizeof(int32_t));
    q->r.prompt = q->prompt;
    q->r.think_close = q->close;
    q->blocks = req_blocks(e, r);
    q->state = REQ_QUEUED;
    q->src = -1;
    e->st.prompt_tokens += r->n_prompt;
    return e->n_req++;
}

/* ---- prefix sharing ---- */

/* Length of the common prefix of two id arrays. */
static int64_t common_prefix(const int32_t *a, int64_t na, const int32_t *b, int64_t nb)
{
    int64_t n = na < nb ? na : nb, i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

/* Order of by_prompt: prompts compared id by id (a prefix sorts first), then request index. */
static int prompt_cmp(const struct eng *e, int x, int y)
{
    const struct request *a = &e->req[x], *b = &e->req[y];
    int64_t l = common_prefix(a->prompt, a->r.n_prompt, b->prompt, b->r.n_prompt);
    if (l < a->r.n_prompt && l < b->r.n_prompt) return a->prompt[l] < b->prompt[l] ? -1 : 1;
    if (a->r.n_prompt != b->r.n_prompt) return a->r.n_prompt < b->r.n_prompt ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* First position in by_prompt whose entry sorts at or after request i. */
static int sorted_lower(const struct eng *e, int i)
{
    int lo = 0, hi = e->n_sorted;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (prompt_cmp(e, e->by_prompt[mid], i) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void sorted_insert(struct eng *e, int i)
{
    int at = sorted_lower(e, i);
    memmove(e->by_prompt + at + 1, e->by_prompt + at, (size_t)(e->n_sorted - at) * sizeof(int32_t));
    e->by_prompt[at] = i;
    e->n_sorted++;
}

static void sorted_remove(struct eng *e, int i)
{
    int at = sorted_lower(e, i);
    if (NEVER(at >= e->n_sorted || e->by_prompt[at] != i)) return;
    memmove(e->by_prompt + at, e->by_prompt + at + 1, (size_t)(e->n_sorted - at - 1) * sizeof(int32_t));
    e->n_sorted--;
}

/* Prompt positions of q whose K/V sit in a live sequence now (*seq gets it), else 0. */
static int64_t computed(const struct eng *e, const struct request *q, int *seq)
{
    *seq = -1;
    if (q->state == REQ_PREFILL) {
        *seq = q->s[0].seq;
        return rrm_seq_len(e->ctx, *seq);
    }
    if (q->state == REQ_DECODE) {
        for (int k = 0; k < q->r.n_samples; k++) {
            if (q->s[k].seq >= 0) {
                *seq = q->s[k].seq;
                return q->r.n_prompt;
            }
        }
    }
    return 0;
}

/* Positions request i may take from request j: their common prefix, never the last prompt
 * row of i (its logits start the samples). */
static int64_t share_len(const struct eng *e, int i, int j)
{
    const struct request *a = &e->req[i], *b = &e->req[j];
    int64_t l = common_prefix(a->prompt, a->r.n_prompt, b->prompt, b->r.n_prompt);
    return l < a->r.n_prompt - 1 ? l : a->r.n_prompt - 1;
}

/* Better of two candidate sources for one request: longer share, then more already computed,
 * then the earlier request. */
static int better_source(const struct eng *e, int64_t l, int j, int64_t best_l, int best)
{
    if (best < 0 || l != best_l) return best < 0 || l > best_l;
    int sj, sb;
    int64_t cj = computed(e, &e->req[j], &sj), cb = computed(e, &e->req[best], &sb);
    cj = cj < l ? cj : l;
    cb = cb < l ? cb : l;
    return cj != cb ? cj > cb : j < best;
}

/* Chooses the source for request i among admitted unfinished requests with a lower index (so
 * waits never form a cycle). At admission (`sorted`), the longest shared prefix over a set of
 * prompts is met by i's neighbours in sorted order, so only those two are compared; a waiter
 * whose source was cancelled scans every earlier request instead. Sets q->src / q->share, or
 * q->src = -1 when no prefix of prefix_min tokens is shared. */
static void pick_source(struct eng *e, int i, int sorted)
{
    struct request *q = &e->req[i];
    int best = -1;
    int64_t best_l = 0;
    if (e->prefix_min >= 0) {
        if (sorted) {
            int at = sorted_lower(e, i);
            for (int d = -1; d <= 0; d++) {
                int pos = at + d;
                if (pos < 0 || pos >= e->n_sorted) continue;
                int j = e->by_prompt[pos];
                int64_t l = share_len(e, i, j);
                if (j < i && better_source(e, l, j, best_l, best)) best = j, best_l = l;
            }
        } else {
            for (int j = 0; j < i; j++) {
                int st = e->req[j].state;
                if (st != REQ_WAIT && st != REQ_PREFILL && st != REQ_DECODE) continue;
                int64_t l = share_len(e, i, j);
                if (better_source(e, l, j, best_l, best)) best = j, best_l = l;
            }
        }
    }
    /* A retained prompt is fully computed: it wins a tie with a live request. */
    for (int r = 0; e->prefix_min >= 0 && r < e->n_ret; r++) {
        const struct retained *t = &e->ret[r];
        int64_t l = common_prefix(q->prompt, q->r.n_prompt, t->ids, t->n);
        if (l > q->r.n_prompt - 1) l = q->r.n_prompt - 1;
        if (l >= best_l && l > 0) best = -2 - r, best_l = l;
    }
    if (best == -1 || best_l < e->prefix_min || best_l < 1) best = -1;
    q->src = best;
    q->share = best != -1 ? best_l : 0;
}

/* Starts the prefill of a waiting request: from a fork of its source truncated to the shared
 * length when the source has computed it (returns 1), from an empty sequence when it has no
 * source (returns 1), or leaves it waiting (returns 0). */
static int start_prefill(struct eng *e, struct request *q, rrm_err *err)
{
    int seq;
    if (q->src != -1) {
        int64_t have;
        if (q->src <= -2) {
            struct retained *t = &e->ret[-2 - q->src];
            seq = t->seq;
            have = t->n;
            t->used = ++e->clock;
        } else {
            have = computed(e, &e->req[q->src], &seq);
        }
        if (have < q->share) return 0;
        seq = rrm_seq_fork(e->ctx, seq, err);
        if (seq < 0) return seq;
        int rc = rrm_seq_truncate(e->ctx, seq, q->share, err);
        if (rc != RRM_OK) {
            rrm_seq_free(e->ctx, seq, NULL);
            return rc;
        }
        q->prefilled = q->share;
        e->st.prefix_reused += q->share;
        e->st.prefix_forks++;
    } else {
        seq = rrm_seq_new(e->ctx, err);
        if (seq < 0) return seq;
        q->prefilled = 0;
    }
    q->s[0].seq = seq;
    q->state = REQ_PREFILL;
    return 1;
}

/* Moves every waiting request whose source has computed the shared positions to PREFILL; a
 * waiter whose source finished (cancelled) picks another source or none. Requests are visited
 * in index order, so a chain of waiters resolves in one pass when the positions exist. */
static int resolve_waits(struct eng *e, rrm_err *err)
{
    for (int i = 0; i < e->n_req; i++) {
        struct request *q = &e->req[i];
        if (q->state != REQ_WAIT) continue;
        int st = q->src >= 0 ? e->req[q->src].state : REQ_WAIT;
        if (st != REQ_WAIT && st != REQ_PREFILL && st != REQ_DECODE) pick_source(e, i, 0);
        int rc = start_prefill(e, q, err);
        if (rc < 0) return rc;
    }
    return RRM_OK;
}

/* Admits queued requests in order while their worst-case blocks and sequence slots fit. */
static int admit(struct eng *e, rrm_err *err)
{
    int64_t total = rrm_ctx_total_blocks(e->ctx);
    for (int i = 0; i < e->n_req; i++) {
        struct request *q = &e->req[i];
        if (q->state != REQ_QUEUED) continue;
        /* Retained prompts give way to a request that needs their blocks or slots. */
        while (e->reserved + e->ret_blocks + q->blocks > total ||
               e->seq_reserved + e->n_ret + q->r.n_samples > e->p.n_seq_max) {
            if (!ret_evict(e)) break;
        }
        if (e->reserved + e->ret_blocks + q->blocks > total ||
            e->seq_reserved + e->n_ret + q->r.n_samples > e->p.n_seq_max)
            break; /* keep submission order: later requests wait too */
        for (int k = 0; k < q->r.n_samples; k++) {
            rrm_sampler_params sp = q->r.sampling;
            sp.seed += (uint64_t)k;
            int64_t nv = q->r.n_vocab_sample ? q->r.n_vocab_sample : e->n_vocab;
            int rc = rrm_sampler_init(&q->s[k].smp, &sp, nv, err);
            if (rc != RRM_OK) return rc;
            q->s[k].forced = -1;
        }
        pick_source(e, i, 1);
        q->state = REQ_WAIT;
        e->reserved += q->blocks;
        e->seq_reserved += q->r.n_samples;
        sorted_insert(e, i);
        if (q->src <= -2) { /* fork a retained prompt now, before an eviction can drop it */
            int rc = start_prefill(e, q, err);
            if (rc < 0) return rc;
        }
    }
    return resolve_waits(e, err);
}

/* q has no unfinished sample left: release its reservation. */
static void req_done(struct eng *e, struct request *q)
{
    if (q->state != REQ_QUEUED) {
        e->reserved -= q->blocks;
        sorted_remove(e, (int)(q - e->req));
    }
    q->state = REQ_DONE;
}

/* Keeps seq (the last live sequence of finished request q, prompt computed) as a retained
 * prompt, truncated to the prompt; takes over q's prompt ids. Returns 0 when not kept (the caller
 * frees seq): retention off, or a retained prompt already starts with this one. A retained
 * prompt that is a prefix of this one is replaced; a full list drops its least recently used. */
static int retain(struct eng *e, struct request *q, int seq)
{
    if (e->p.retain == 0 || e->prefix_min < 0) return 0;
    for (int r = 0; r < e->n_ret; r++) {
        const struct retained *t = &e->ret[r];
        int64_t l = common_prefix(q->prompt, q->r.n_prompt, t->ids, t->n);
        if (l == q->r.n_prompt) return 0;
        if (l == t->n) {
            ret_drop(e, r);
            r--;
        }
    }
    if (e->n_ret == e->p.retain) ret_evict(e);
    if (rrm_seq_truncate(e->ctx, seq, q->r.n_prompt, NULL) != RRM_OK) return 0;
    struct retained *t = &e->ret[e->n_ret++];
    *t = (struct retained){seq, q->prompt, q->r.n_prompt,
                           ceil_div(q->r.n_prompt, e->p.kv_block), ++e->clock};
    e->ret_blocks += t->blocks;
    q->prompt = NULL; /* owned by the retained entry now; a done request never reads it */
    q->r.prompt = NULL;
    return 1;
}

static void finish_sample(struct eng *e, struct request *q, struct sample *s, int why)
{
    s->finish = why;
    e->seq_reserved--;
    int last = 1;
    for (int i = 0; i < q->r.n_samples; i++) last &= q->s[i].finish != ENG_RUNNING;
    int seq = s->seq;
    s->seq = -1;
    if (last) req_done(e, q); /* first: it looks q up in by_prompt by its prompt ids */
    if (seq >= 0 && (!last || !retain(e, q, seq))) rrm_seq_free(e->ctx, seq, NULL);
}

/* Takes the next token of a sample from the logits (or the forced close sequence), records it
 * and decides whether the sample goes on. */
static int advance(struct eng *e, struct request *q, struct sample *s, const float *logits,
                   rrm_err *err)
{
    int32_t tok;
    if (s->forced >= 0) {
        s->n_forced++;
        tok = q->close[s->forced++];
        if (s->forced == q->r.n_think_close) s->forced = -1;
    } else {
        int t = rrm_sampler_sample(s->smp, logits, err);
        if (t < 0) return t;
        tok = t;
        if (tok == q->r.eos_id) {
            finish_sample(e, q, s, ENG_EOS);
            return RRM_OK;
        }
    }
    s->out[s->n_out++] = tok;
    if (tok == q->r.think_end_id) s->thought_closed = 1;
    int64_t sampled = s->n_out - s->n_forced;
    if (q->r.think_budget > 0 && !s->thought_closed && s->forced < 0 &&
        sampled >= q->r.think_budget && q->r.n_think_close > 0) {
        s->forced = 0; /* the budget is spent: close the thought next */
        s->thought_closed = 1;
    }
    /* Forced tokens do not count against max_new_tokens; a forced run is never cut. */
    if (sampled >= q->r.max_new_tokens && s->forced < 0) {
        finish_sample(e, q, s, ENG_LENGTH);
        return RRM_OK;
    }
    s->next = tok;
    return RRM_OK;
}

/* After the last prompt row: fork the prompt sequence into k samples and draw each one's first
 * token from the shared logits. */
static int start_samples(struct eng *e, struct request *q, const float *logits, rrm_err *err)
{
    for (int k = 1; k < q->r.n_samples; k++) {
        int seq = rrm_seq_fork(e->ctx, q->s[0].seq, err);
        if (seq < 0) return seq;
        q->s[k].seq = seq;
    }
    q->state = REQ_DECODE;
    for (int k = 0; k < q->r.n_samples; k++) {
        q->s[k].pos = q->r.n_prompt;
        int rc = advance(e, q, &q->s[k], logits, err);
        if (rc != RRM_OK) return rc;
    }
    return RRM_OK;
}

/* Fills the batch: one decode row per running sample, then prefill rows. */
static int build_batch(struct eng *e)
{
    int n = 0;
    for (int i = 0; i < e->n_req && n < e->p.n_batch; i++) {
        struct request *q = &e->req[i];
        if (q->state != REQ_DECODE) continue;
        for (int k = 0; k < q->r.n_samples && n < e->p.n_batch; k++) {
            struct sample *s = &q->s[k];
            if (s->finish != ENG_RUNNING) continue;
            e->rows[n] = (rrm_batch_row){s->seq, (int32_t)s->pos, s->next, 1};
            e->owner[n++] = (struct row_owner){i, k};
        }
    }
    for (int i = 0; i < e->n_req && n < e->p.n_batch; i++) {
        struct request *q = &e->req[i];
        if (q->state != REQ_PREFILL) continue;
        while (q->prefilled < q->r.n_prompt && n < e->p.n_batch) {
            int64_t p = q->prefilled++;
            int last = p == q->r.n_prompt - 1;
            e->rows[n] = (rrm_batch_row){q->s[0].seq, (int32_t)p, q->prompt[p], last};
            e->owner[n++] = (struct row_owner){i, -1};
        }
    }
    return n;
}

int eng_step(struct eng *e, rrm_err *err)
{
    int rc = admit(e, err);
    if (rc != RRM_OK) return rc;
    int n = build_batch(e);
    if (n == 0) {
        for (int i = 0; i < e->n_req; i++) {
            if (e->req[i].state != REQ_DONE)
                return rrm_errf(err, RRM_E_INTERNAL, "engine: request %d cannot be scheduled", i);
        }
        return 0;
    }
    rc = rrm_decode(e->ctx, e->rows, n, err);
    if (rc != RRM_OK) return rc;
    /* Before any sample below can finish and free its sequence: fork what waiters need. */
    rc = resolve_waits(e, err);
    if (rc != RRM_OK) return rc;
    e->st.forwards++;
    if (n > e->st.max_batch_rows) e->st.max_batch_rows = n;
    int li = 0; /* index among rows that asked for logits */
    for (int j = 0; j < n; j++) {
        struct row_owner o = e->owner[j];
        struct request *q = &e->req[o.req];
        if (o.sample < 0) e->st.prefill_tokens++;
        else e->st.decode_tokens++;
        if (!e->rows[j].want_logits) continue;
        const float *lg = rrm_ctx_logits(e->ctx, li++);
        if (!lg) return rrm_errf(err, RRM_E_INTERNAL, "engine: no logits for row %d", j);
        if (o.sample < 0) {
            rc = start_samples(e, q, lg, err);
        } else {
            q->s[o.sample].pos++;
            rc = advance(e, q, &q->s[o.sample], lg, err);
        }
        if (rc != RRM_OK) return rc;
    }
    return 1;
}

/* Finishes every unfinished sample of q as ENG_CANCELLED and releases what it holds. */
static void cancel_request(struct eng *e, struct request *q)
{
    if (q->state == REQ_DONE) return;
    if (q->state != REQ_DECODE) { /* queued, waiting or prefilling: no sample has started */
        req_release(e, q);
        if (q->state != REQ_QUEUED) e->seq_reserved -= q->r.n_samples;
        for (int k = 0; k < q->r.n_samples; k++) q->s[k].finish = ENG_CANCELLED;
        req_done(e, q);
        return;
    }
    for (int k = 0; k < q->r.n_samples; k++) {
        if (q->s[k].finish == ENG_RUNNING) finish_sample(e, q, &q->s[k], ENG_CANCELLED);
    }
}

int eng_cancel(struct eng *e, int req)
{
    if (req < 0 || req >= e->n_req) return RRM_E_INVAL;
    cancel_request(e, &e->req[req]);
    return RRM_OK;
}

int64_t eng_sample_forced(const struct eng *e, int req, int sample)
{
    if (req < 0 || req >= e->n_req || sample < 0 || sample >= e->req[req].r.n_samples)
        return RRM_E_INVAL;
    return e->req[req].s[sample].n_forced;
}

int eng_run(struct eng *e, const volatile int *cancel, rrm_err *err)
{
    for (;;) {
        if (cancel && *cancel) {
            for (int i = 0; i < e->n_req; i++) cancel_request(e, &e->req[i]);
            return rrm_errf(err, RRM_E_CANCELLED, "engine: cancelled");
        }
        int rc = eng_step(e, err);
        if (rc < 0) return rc;
        if (rc == 0) return RRM_OK;
    }
}

int eng_result(const struct eng *e, int req, int sample, const int32_t **tokens, int64_t *n,
               int *finish)
{
    if (req < 0 || req >= e->n_req || sample < 0 || sample >= e->req[req].r.n_samples)
        return RRM_E_INVAL;
    const struct sample *s = &e->req[req].s[sample];
    *tokens = s->out;
    *n = s->n_out;
    *finish = s->finish;
    return RRM_OK;
}

void eng_get_stats(const struct eng *e, struct eng_stats *out)
{
    *out = e->st;
}
