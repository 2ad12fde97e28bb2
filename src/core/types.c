/*
 * types.c — element types: names and block geometry, as ggml lays them out
 * (ggml/src/ggml-common.h: block_q8_0 = f16 d + 32 int8, QK_K = 256, ...). Shared by formats
 * (size checks) and kernels (row strides).
 */
#include "core.h"

struct type_traits {
    const char *name;
    int block;       /* elements per block */
    int block_bytes; /* bytes per block */
};

static const struct type_traits traits[RRM_TYPE_COUNT] = {
    [RRM_TYPE_F32] = {"f32", 1, 4},
    [RRM_TYPE_F16] = {"f16", 1, 2},
    [RRM_TYPE_Q4_0] = {"q4_0", 32, 18},
    [RRM_TYPE_Q4_1] = {"q4_1", 32, 20},
    [RRM_TYPE_Q5_0] = {"q5_0", 32, 22},
    [RRM_TYPE_Q5_1] = {"q5_1", 32, 24},
    [RRM_TYPE_Q8_0] = {"q8_0", 32, 34},
    [RRM_TYPE_Q8_1] = {"q8_1", 32, 36},
    [RRM_TYPE_Q2_K] = {"q2_K", 256, 84},
    [RRM_TYPE_Q3_K] = {"q3_K", 256, 110},
    [RRM_TYPE_Q4_K] = {"q4_K", 256, 144},
    [RRM_TYPE_Q5_K] = {"q5_K", 256, 176},
    [RRM_TYPE_Q6_K] = {"q6_K", 256, 210},
    [RRM_TYPE_Q8_K] = {"q8_K", 256, 292},
    [RRM_TYPE_BF16] = {"bf16", 1, 2},
};

const char *rrm_type_name(int type)
{
    if (type < 0 || type >= RRM_TYPE_COUNT || !traits[type].name) return "?";
    return traits[type].name;
}

int rrm_type_known(int type)
{
    return type >= 0 && type < RRM_TYPE_COUNT && traits[type].name != NULL;
}

int rrm_type_block(int type)
{
    return rrm_type_known(type) ? traits[type].block : 0;
}

int rrm_type_block_bytes(int type)
{
    return rrm_type_known(type) ? traits[type].block_bytes : 0;
}

int rrm_row_bytes(int type, int64_t n, size_t *out)
{
    if (!rrm_type_known(type) || n < 0) return RRM_E_INVAL;
    int64_t blk = traits[type].block;
    if (n % blk != 0) return RRM_E_FORMAT;
    return rrm_mul_size(out, (size_t)(n / blk), (size_t)traits[type].block_bytes) ? RRM_OK
                                                                                 : RRM_E_LIMIT;
}
