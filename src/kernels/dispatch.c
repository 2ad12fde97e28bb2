/*
 * dispatch.c — chooses the kernel table once per context (STYLE.md §6, tinyBLAS GemmFuncs).
 * Sets: "ref" (scalar spec, every CPU) and "avx512" (x86-64 with AVX-512 F/BW/VL/DQ and F16C:
 * AMD Zen 4+, Intel Skylake-SP/Ice Lake/Sapphire Rapids+). kern_select(NULL) takes the best the
 * CPU and OS support (__builtin_cpu_supports reads cpuid and checks XCR0 via xgetbv for the
 * AVX-512 state). RRM_KERNELS=ref|avx512 forces one. The tables are static const: there is
 * no mutable global state.
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

#if defined(__x86_64__) && defined(__GNUC__)
const struct rrm_kernels kern_avx512 = {
    .name = "avx512",
    .dot = kern_avx512_dot,
    .matmul = kern_avx512_matmul,
    .rmsnorm = kern_avx512_rmsnorm,
    .rope = kern_avx512_rope,
    .softmax = kern_ref_softmax, /* libm expf: keeps the set bit-identical to ref */
    .silu_mul = kern_ref_silu_mul,
    .add = kern_avx512_add,
    .axpy = kern_avx512_axpy,
};

int kern_cpu_has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
}
#else
int kern_cpu_has_avx512(void)
{
    return 0;
}
#endif

const struct rrm_kernels *kern_select(const char *name)
{
    const char *env = getenv("RRM_KERNELS");
    if (env && env[0]) name = env;
    if (!name || !name[0] || strcmp(name, "auto") == 0) /* best for this CPU */
        return kern_cpu_has_avx512() ? &kern_avx512 : &kern_ref;
    if (strcmp(name, "ref") == 0) return &kern_ref;
    if (strcmp(name, "avx512") == 0) return kern_cpu_has_avx512() ? &kern_avx512 : NULL;
    return NULL;
}
