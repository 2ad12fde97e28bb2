/*
 * json_scan.h — the strict in-place JSON scanner used for tokenizer.json's vocab and merges
 * (json_scan.c). Functions return RRM_OK or RRM_E_FORMAT with the byte offset in the message;
 * the iterators return 1 (another item, positioned at its value), 0 (end) or a negative error.
 */
#ifndef RRM_TOK_JSON_SCAN_H
#define RRM_TOK_JSON_SCAN_H

#include "core/core.h"

#include <stdio.h>

struct js {
    const char *start, *p, *end;
    const char *what; /* file name for messages */
};

void js_ws(struct js *s);
int js_expect(struct js *s, char c, rrm_err *err);
/* Decodes a string into out (cap bytes; out NULL = validate and skip); *len its byte length. */
int js_string(struct js *s, char *out, size_t cap, size_t *len, rrm_err *err);
/* A non-negative integer without fraction or exponent. */
int js_int(struct js *s, int64_t *out, rrm_err *err);
/* Skips (and validates) any value. */
int js_skip(struct js *s, rrm_err *err);
/* Object members after '{' was consumed: *first starts at 1; the key goes to key (cap bytes). */
int js_next_member(struct js *s, int *first, char *key, size_t cap, size_t *klen, rrm_err *err);
/* Array elements after '[' was consumed: *first starts at 1. */
int js_next_elem(struct js *s, int *first, rrm_err *err);

#endif
