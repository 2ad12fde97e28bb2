/*
 * sampler.h — token sampling (public API in rrm.h: rrm_sampler_*). Pipeline, in this order:
 * logits / temperature -> top-k -> softmax -> top-p (smallest prefix, by descending probability,
 * whose cumulative probability >= p) -> min-p (keep p_i >= min_p * p_max) -> draw with the
 * sampler's own xoshiro256** stream. Ties in the ordering go to the lower id. NaN logits are
 * never drawn; -inf logits have probability 0; +inf logits, if any, share all the mass.
 * Buffers are sized from n_vocab at init; sampling does not allocate.
 */
#ifndef RRM_SAMPLER_H
#define RRM_SAMPLER_H

#include "core/core.h"

#endif
