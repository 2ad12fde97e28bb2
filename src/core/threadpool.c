/*
 * threadpool.c — a persistent pool of n-1 workers plus the caller (ggml's model). Each
 * rrm_tp_run publishes a job under a generation counter; workers spin briefly, then sleep on a
 * condition variable. rrm_tp_run returns after every thread finished, so consecutive runs are
 * separated by a barrier. Work splits are the caller's (contiguous ranges by ith), which keeps
 * results independent of timing.
 */
#include "core.h"

#include <pthread.h>
#include <stdatomic.h>

struct rrm_threadpool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    rrm_tp_fn fn;
    void *arg;
    uint64_t gen;  /* job generation, guarded by mu */
    int pending;   /* workers still running the current job, guarded by mu */
    int stop;
    struct worker_arg {
        struct rrm_threadpool *tp;
        int ith;
    } *args;
};

static void *worker(void *p)
{
    struct worker_arg *wa = p;
    struct rrm_threadpool *tp = wa->tp;
    uint64_t seen = 0;
    pthread_mutex_lock(&tp->mu);
    for (;;) {
        while (!tp->stop && tp->gen == seen) pthread_cond_wait(&tp->cv_work, &tp->mu);
        if (tp->stop) break;
        seen = tp->gen;
        rrm_tp_fn fn = tp->fn;
        void *arg = tp->arg;
        pthread_mutex_unlock(&tp->mu);
        fn(arg, wa->ith, tp->n);
        pthread_mutex_lock(&tp->mu);
        if (--tp->pending == 0) pthread_cond_signal(&tp->cv_done);
    }
    pthread_mutex_unlock(&tp->mu);
    return NULL;
}

int rrm_tp_init(struct rrm_threadpool **out, int n_threads, rrm_err *err)
{
    if (n_threads < 1 || n_threads > 512)
        return rrm_errf(err, RRM_E_INVAL, "threadpool: n_threads %d not in 1..512", n_threads);
    struct rrm_threadpool *tp = rrm_calloc(1, sizeof *tp);
    if (!tp) return rrm_errf(err, RRM_E_NOMEM, "threadpool: out of memory");
    tp->n = n_threads;
    pthread_mutex_init(&tp->mu, NULL);
    pthread_cond_init(&tp->cv_work, NULL);
    pthread_cond_init(&tp->cv_done, NULL);
    if (n_threads > 1) {
        tp->threads = rrm_calloc((size_t)n_threads, sizeof *tp->threads);
        tp->args = rrm_calloc((size_t)n_threads, sizeof *tp->args);
        if (!tp->threads || !tp->args) goto fail_free;
        for (int i = 1; i < n_threads; i++) {
            tp->args[i].tp = tp;
            tp->args[i].ith = i;
            if (pthread_create(&tp->threads[i], NULL, worker, &tp->args[i]) != 0) {
                tp->n = i; /* join only the ones that started */
                rrm_tp_free(tp);
                return rrm_errf(err, RRM_E_NOMEM, "threadpool: cannot start thread %d of %d", i,
                                n_threads);
            }
        }
    }
    *out = tp;
    return RRM_OK;
fail_free:
    rrm_free(tp->threads);
    rrm_free(tp->args);
    pthread_mutex_destroy(&tp->mu);
    pthread_cond_destroy(&tp->cv_work);
    pthread_cond_destroy(&tp->cv_done);
    rrm_free(tp);
    return rrm_errf(err, RRM_E_NOMEM, "threadpool: out of memory");
}

void rrm_tp_free(struct rrm_threadpool *tp)
{
    if (!tp) return;
    pthread_mutex_lock(&tp->mu);
    tp->stop = 1;
    pthread_cond_broadcast(&tp->cv_work);
    pthread_mutex_unlock(&tp->mu);
    for (int i = 1; i < tp->n; i++) pthread_join(tp->threads[i], NULL);
    rrm_free(tp->threads);
    rrm_free(tp->args);
    pthread_mutex_destroy(&tp->mu);
    pthread_cond_destroy(&tp->cv_work);
    pthread_cond_destroy(&tp->cv_done);
    rrm_free(tp);
}

int rrm_tp_n(const struct rrm_threadpool *tp)
{
    return tp ? tp->n : 1;
}

void rrm_tp_run(struct rrm_threadpool *tp, rrm_tp_fn fn, void *arg)
{
    if (!tp || tp->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    pthread_mutex_lock(&tp->mu);
    tp->fn = fn;
    tp->arg = arg;
    tp->pending = tp->n - 1;
    tp->gen++;
    pthread_cond_broadcast(&tp->cv_work);
    pthread_mutex_unlock(&tp->mu);
    fn(arg, 0, tp->n);
    pthread_mutex_lock(&tp->mu);
    while (tp->pending > 0) pthread_cond_wait(&tp->cv_done, &tp->mu);
    pthread_mutex_unlock(&tp->mu);
}
