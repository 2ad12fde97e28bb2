/*
 * dispatch.c — chooses the kernel table once per context (STYLE.md §6, tinyBLAS GemmFuncs).
 * Only the reference set exists today; per-ISA sets (AVX2 for Haswell+/Zen1+, AVX-512 for
 * Zen4/Sapphire Rapids, NEON) slot in here with a cpuid check each. RRM_KERNELS=ref forces ref.
 * The tables are static const: there is no mutable global state.
 */
#include "kernels/kernels.h"

#include <stdlib.h>

const struct rrm_kernels kern_ref = {
    .name = "ref",
    .dot = kern_ref_dot,
    .matmul = kern_ref_matmul,
    .rmsnorm = kern_ref_rmsnorm,
    .rope = kern_ref_rope,
    .softmax = kern_ref_softmax,
    .silu_mul = kern_ref_silu_mul,
    .add = kern_ref_add,
    .axpy = kern_ref_axpy,
};

const struct rrm_kernels *kern_select(const char *name)
{
    const char *env = getenv("RRM_KERNELS");
    if (env && env[0]) name = env;
    if (!name || !name[0] || strcmp(name, "auto") == 0) return &kern_ref; /* best for this CPU */
    if (strcmp(name, "ref") == 0) return &kern_ref;
    return NULL;
}
