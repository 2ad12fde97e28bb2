/*
 * bpe.c — byte-pair merges of one pre-tokenized piece (tokenizers `Word::merge_all`): the pair
 * with the lowest merge rank is merged first, the leftmost one on ties, until no adjacent pair
 * has a merge. Short pieces use an array scan (cache-friendly, O(n^2) in the worst case); long
 * pieces use a binary heap over a linked list (O(n log n)). Both give the same ids.
 * No allocation: the caller passes scratch of tok_bpe_scratch(len) bytes. Thread-safe.
 */
#include "tokenizer/tokenizer.h"

#define ARRAY_MAX 96 /* pieces up to this many bytes use the array scan */

struct heap_ent {
    int32_t rank;
    int32_t pos;
};

size_t tok_bpe_scratch(size_t len)
{
    return len * (3 * sizeof(int32_t) + 3 * sizeof(struct heap_ent)) + 64;
}

static int32_t pair_rank(const struct rrm_tokenizer *t, int32_t a, int32_t b, int32_t *id)
{
    const struct tok_pair_slot *p = tok_pair_find(t, a, b);
    if (!p) return INT32_MAX;
    if (id) *id = p->id;
    return p->rank;
}

void tok_bpe_array(const struct rrm_tokenizer *t, int32_t *sym, int32_t *rank, size_t *np)
{
    size_t n = *np;
    if (n < 2) return;
    for (size_t i = 0; i + 1 < n; i++) rank[i] = pair_rank(t, sym[i], sym[i + 1], NULL);
    rank[n - 1] = INT32_MAX;
    for (;;) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (rank[i] < rank[best]) best = i;
        if (rank[best] == INT32_MAX) break;
        int32_t id = -1;
        pair_rank(t, sym[best], sym[best + 1], &id);
        sym[best] = id;
        memmove(sym + best + 1, sym + best + 2, (n - best - 2) * sizeof *sym);
        memmove(rank + best + 1, rank + best + 2, (n - best - 2) * sizeof *rank);
        n--;
        rank[n - 1] = INT32_MAX;
        if (best + 1 < n) rank[best] = pair_rank(t, sym[best], sym[best + 1], NULL);
        else rank[best] = INT32_MAX;
        if (best > 0) rank[best - 1] = pair_rank(t, sym[best - 1], sym[best], NULL);
        if (n < 2) break;
    }
    *np = n;
}

static int ent_less(struct heap_ent a, struct heap_ent b)
{
    return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos);
}

static void heap_push(struct heap_ent *h, size_t *n, struct heap_ent e)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ent_less(e, h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static struct heap_ent heap_pop(struct heap_ent *h, size_t *n)
{
    struct heap_ent top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && ent_less(h[c + 1], h[c])) c++;
        if (!ent_less(h[c], last)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

void tok_bpe_heap(const struct rrm_tokenizer *t, int32_t *sym, size_t *np, void *scratch)
{
    size_t n = *np;
    if (n < 2) return;
    int32_t *next = (int32_t *)scratch, *prev = next + n;
    struct heap_ent *heap = (struct heap_ent *)(prev + n + (n & 1)); /* 8-byte aligned */
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        next[i] = i + 1 < n ? (int32_t)(i + 1) : -1;
        prev[i] = (int32_t)i - 1;
        if (i + 1 < n) {
            int32_t r = pair_rank(t, sym[i], sym[i + 1], NULL);
            if (r != INT32_MAX) heap_push(heap, &nh, (struct heap_ent){r, (int32_t)i});
        }
    }
    while (nh) {
        struct heap_ent e = heap_pop(heap, &nh);
        int32_t p = e.pos, q = next[p];
        if (sym[p] < 0 || q < 0) continue; /* merged away, or now the last symbol */
        int32_t id = -1;
        if (pair_rank(t, sym[p], sym[q], &id) != e.rank) continue; /* the pair changed */
        sym[p] = id;
        sym[q] = -1;
        next[p] = next[q];
        if (next[q] >= 0) prev[next[q]] = p;
        if (prev[p] >= 0) {
            int32_t r = pair_rank(t, sym[prev[p]], sym[p], NULL);
            if (r != INT32_MAX) heap_push(heap, &nh, (struct heap_ent){r, prev[p]});
        }
        if (next[p] >= 0) {
            int32_t r = pair_rank(t, sym[p], sym[next[p]], NULL);
            if (r != INT32_MAX) heap_push(heap, &nh, (struct heap_ent){r, p});
        }
    }
    size_t k = 0;
    for (int32_t i = 0; i >= 0; i = next[i]) sym[k++] = sym[i];
    *np = k;
}

int tok_bpe(const struct rrm_tokenizer *t, const uint8_t *s, size_t len, int32_t *ids,
            int64_t *n, void *scratch)
{
    if (len == 0) return RRM_OK;
    if (t->ignore_merges) {
        int32_t id = tok_vocab_find(t, (const char *)s, len);
        if (id >= 0) {
            ids[(*n)++] = id;
            return RRM_OK;
        }
    }
    int32_t *sym = ids + *n; /* merge in place in the output: it has room for len ids */
    for (size_t i = 0; i < len; i++) sym[i] = t->byte_id[s[i]];
    size_t k = len;
    if (len <= ARRAY_MAX) tok_bpe_array(t, sym, (int32_t *)scratch, &k);
    else tok_bpe_heap(t, sym, &k, scratch);
    *n += (int64_t)k;
    return RRM_OK;
}
