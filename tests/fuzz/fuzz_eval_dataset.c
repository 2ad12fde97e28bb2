/* fuzz_eval_dataset.c — libFuzzer target for the benchmark readers (src/eval/dataset.c): any
 * bytes, read as JSONL or a JSON array for every benchmark kind, in skip and fail mode, must give
 * RRM_OK or a clean error without a crash, a read outside the input or a leak; every kept row
 * has its texts, a known gold label and a unique (subset, id). */
#include "eval/eval.h"

#include <stdlib.h>

static void require(int ok)
{
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int bench = data[0] % 5, fail = (data[0] >> 3) & 1;
    char *t = malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees any over-read */
    if (!t) return 0;
    memcpy(t, data + 1, size - 1);
    long live = rrm_alloc_live();
    struct eval_dataset d;
    memset(&d, 0, sizeof d);
    rrm_err e = {0};
    int rc = eval_dataset_parse(&d, bench, "fuzz", t, size - 1, fail, NULL, NULL, &e);
    require(rc == RRM_OK || rc == RRM_E_FORMAT || rc == RRM_E_NOMEM || rc == RRM_E_LIMIT);
    if (rc == RRM_OK) {
        for (int64_t i = 0; i < d.n_rows; i++) {
            const struct eval_row *r = &d.rows[i];
            require(r->subset && r->id && r->prompt && r->a && r->b);
            require(r->gold >= EVAL_GOLD_TIE && r->gold <= EVAL_GOLD_B);
            require(r->key == eval_row_key(r->subset, r->id));
            for (int64_t j = 0; j < i; j++)
                require(strcmp(d.rows[j].subset, r->subset) || strcmp(d.rows[j].id, r->id));
        }
    }
    eval_dataset_free(&d);
    require(rrm_alloc_live() == live);
    free(t);
    return 0;
}
