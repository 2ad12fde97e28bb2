/*
 * alloc.c — the counting allocator. Every heap block of the library comes from here so tests can
 * check for leaks (rrm_alloc_live) and inject failures at the n-th allocation
 * (rrm_alloc_fail_at, the SQLite faultsim idea). Counters are atomics: safe from any thread.
 */
#include "core.h"

#include <stdatomic.h>
#include <stdlib.h>

static atomic_long live_blocks;
static atomic_long fail_countdown = -1; /* <0: never fail */

void rrm_alloc_fail_at(long n)
{
    atomic_store(&fail_countdown, n);
}

long rrm_alloc_live(void)
{
    return atomic_load(&live_blocks);
}

/* True when this allocation must fail (fault injection). Once the countdown reaches 0 it stays
 * there, so every later allocation fails too, until reset with rrm_alloc_fail_at(-1). */
static bool inject_failure(void)
{
    long c = atomic_load(&fail_countdown);
    while (c > 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &c, c - 1)) return false;
    }
    return c == 0;
}

void *rrm_malloc(size_t n)
{
    if (inject_failure()) return NULL;
    void *p = malloc(n ? n : 1);
    if (p) atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *rrm_calloc(size_t count, size_t size)
{
    size_t n;
    if (!rrm_mul_size(&n, count, size)) return NULL;
    if (inject_failure()) return NULL;
    void *p = calloc(n ? n : 1, 1);
    if (p) atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *rrm_realloc(void *p, size_t n)
{
    if (!p) return rrm_malloc(n);
    if (inject_failure()) return NULL;
    return realloc(p, n ? n : 1);
}

void rrm_free(void *p)
{
    if (!p) return;
    atomic_fetch_sub(&live_blocks, 1);
    free(p);
}

char *rrm_strndup(const char *s, size_t n)
{
    char *d = rrm_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *rrm_strdup(const char *s)
{
    return rrm_strndup(s, strlen(s));
}

void *rrm_alloc_aligned(size_t n)
{
    size_t padded;
    if (!rrm_add_size(&padded, n, 63)) return NULL;
    padded &= ~(size_t)63;
    if (inject_failure()) return NULL;
    void *p = aligned_alloc(64, padded ? padded : 64);
    if (!p) return NULL;
    memset(p, 0, padded ? padded : 64);
    atomic_fetch_add(&live_blocks, 1);
    return p;
}

void rrm_free_aligned(void *p)
{
    rrm_free(p);
}
