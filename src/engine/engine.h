/*
 * engine.h — sequences and the continuous-batching scheduler over one rrm_ctx (DESIGN.md §3).
 * A request is a prompt plus k samples. Its prompt is prefilled once in one KV sequence; the k
 * samples are forks of it (they share every cached prompt block), each with its own sampler
 * seeded seed + i. Every step runs ONE rrm_decode holding a decode row for every running sample
 * and as many prefill rows of admitted requests as the batch has room for. A sample finishes at
 * EOS, its token limit or cancel. Thinking budget: after `think_budget` generated tokens without
 * `think_end_id`, the engine feeds `think_close` (the ids of "\n</think>\n\n") and lets the model
 * go on to the verdict.
 *
 * Prefix sharing: at admission a request looks for the admitted, unfinished request whose prompt
 * shares the longest prefix of token ids with its own (its neighbours in a lexicographically
 * sorted list of prompts hold that maximum). When the shared length L (capped at n_prompt - 1:
 * the last prompt row is always computed, it gives the first logits) is at least prefix_min, the
 * request waits until the source has computed L prompt positions, then forks the source's
 * sequence, truncates the fork to L (the kvcache copies a shared partial block on the first
 * write) and prefills only positions L..n_prompt-1. Waits are resolved right after every forward,
 * before any sample of that forward can finish, so a source that computed L positions is always
 * forked before it frees them. Sources are always admitted earlier (lower index) than their
 * dependents, so waits cannot form a cycle; a waiter whose source is cancelled picks another or
 * prefills from scratch. A shared position holds exactly the K/V a fresh prefill would write, so
 * outputs are bit-identical with sharing on or off.
 * With eng_params.retain > 0, the prompt KV of a finished request is kept (one sequence truncated
 * to the prompt) as a source for later requests, also across eng_forget — e.g. the next round of
 * a knockout, or the next batch of an eval sharing the system prompt. Retained prompts hold
 * blocks and sequence slots outside any reservation, so admission counts them as used and evicts
 * them (least recently used first) when a request would not fit otherwise.
 *
 * Admission reserves the worst case (prompt + k * max_new_tokens, in KV blocks, shared blocks
 * counted as if private) and k sequence slots, so a running request never runs out of KV blocks
 * or slots: every block in use is referenced by some unfinished request or retained prompt, and
 * none of them references more distinct blocks than it reserved (or counts, for a retained one). Results depend only on (model, prompt, seed):
 * the forward does not depend on batch composition, and each sample owns its RNG.
 *
 * Not thread-safe: one thread owns an engine and its context. The engine knows nothing of judges.
 */
#ifndef RRM_ENGINE_H
#define RRM_ENGINE_H

#include "core/core.h"

enum eng_finish {
    ENG_RUNNING = 0,
    ENG_EOS = 1,       /* the model produced eos_id (not included in the tokens) */
    ENG_LENGTH = 2,    /* max_new_tokens reached */
    ENG_CANCELLED = 3,
};

struct eng_request {
    const int32_t *prompt;        /* copied at submit */
    int64_t n_prompt;             /* >= 1 */
    int n_samples;                /* k >= 1 */
    rrm_sampler_params sampling;  /* sample i uses seed + i */
    int64_t max_new_tokens;       /* >= 1 */
    int64_t think_budget;         /* 0 = no budget */
    int32_t think_end_id;         /* id of </think> (-1: none) */
    const int32_t *think_close;   /* forced when the budget runs out; copied at submit */
    int n_think_close;
    int32_t eos_id;               /* -1: never stop on a token */
    int64_t n_vocab_sample;       /* sample only ids below this (the tokenizer's size, when the
                                   * model has padding rows); 0 = every row of the model */
};

struct eng_params {
    int n_batch;   /* rows per forward (<= the context's n_batch_max) */
    int kv_block;  /* the context's tokens per KV block (rrm_ctx_params.kv_block) */
    int n_seq_max; /* the context's n_seq_max */
    int prefix_min; /* shortest shared prompt prefix worth forking, in tokens: 0 = one KV block
                     * (default: below that the whole share sits in a block that is copied
                     * anyway), < 0 = never share (every request prefills its whole prompt) */
    int retain;     /* finished prompts kept as prefix sources, at most (0 = none; <= n_seq_max) */
};

struct eng;

/* The engine borrows `ctx` (which must outlive it); n_vocab is the model's. */
int eng_init(struct eng **out, rrm_ctx *ctx, const rrm_model *model, const struct eng_params *p,
             rrm_err *err);
void eng_free(struct eng *e);

/* Queues a request; returns its id (>= 0) or a negative error (RRM_E_INVAL for bad fields,
 * RRM_E_LIMIT when it could never fit the context). */
int eng_submit(struct eng *e, const struct eng_request *r, rrm_err *err);
/* Runs one scheduler step (one forward). Returns 1 if work remains, 0 when idle, or an error. */
int eng_step(struct eng *e, rrm_err *err);
/* Steps until every submitted request is done. `cancel` (may be NULL) is polled between
 * steps; when it becomes non-zero every running sample finishes as ENG_CANCELLED and
 * RRM_E_CANCELLED is returned. */
int eng_run(struct eng *e, const volatile int *cancel, rrm_err *err);

/* Output of sample i of request `req`: borrowed tokens (valid until eng_free or eng_reset). */
int eng_result(const struct eng *e, int req, int sample, const int32_t **tokens, int64_t *n,
               int *finish);

/* Stops request `req` now: its unfinished samples finish as ENG_CANCELLED (their tokens so far
 * are kept) and its KV blocks and sequences are released. Used for early-stopped votes. */
int eng_cancel(struct eng *e, int req);
/* Tokens of sample i's output that the thinking budget forced (0 when it never fired). */
int64_t eng_sample_forced(const struct eng *e, int req, int sample);

struct eng_stats {
    int64_t forwards;        /* rrm_decode calls */
    int64_t prompt_tokens;   /* prompt tokens of submitted requests */
    int64_t prefill_tokens;  /* prompt rows computed */
    int64_t prefix_reused;   /* prompt positions taken from another request's KV (not computed);
                              * once every request is done uncancelled, prompt_tokens ==
                              * prefill_tokens + prefix_reused */
    int64_t prefix_forks;    /* requests that started from a shared prefix */
    int64_t decode_tokens;   /* generated rows computed */
    int64_t max_batch_rows;  /* most rows in one forward */
};
void eng_get_stats(const struct eng *e, struct eng_stats *out);

/* Forgets every request and frees their sequences and every retained prompt: all KV blocks
 * of the context are free afterwards. */
void eng_reset(struct eng *e);
/* Forgets every request (their results too) but keeps the retained prompts for the next ones. */
void eng_forget(struct eng *e);

#endif
