/*
 * dispatch.c — chooses the kernel table once per context (STYLE.md §6, tinyBLAS GemmFuncs).
 * Sets: "ref" (scalar spec, every CPU) and "avx512" (x86-64 with AVX-512 F/BW/VL/DQ and F16C:
 * AMD Zen 4+, Intel Skylake-SP/Ice Lake/Sapphire Rapids+). kern_select(NULL) takes the best the
 * CPU and OS support (cpuid for the features, xgetbv for the
 * OS-enabled AVX-512 state). RRM_KERNELS=ref|avx512 forces one. The tables are static const: there is
 * no mutable global state.
 */
#include "kernels/kernels.h"

#include <stdlib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

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

/* cpuid + xgetbv by hand rather than __builtin_cpu_supports: clang 14 (the fuzz build) does
 * not know the "f16c" feature string, and the OS check (XCR0 opmask/ZMM state) must be explicit. */
int kern_cpu_has_avx512(void)
{
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid(1, a, b, c, d);
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, f16c = (c >> 29) & 1;
    if (!fma || !osxsave || !f16c) return 0;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    if ((xlo & 0xE6u) != 0xE6u) return 0; /* SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM enabled */
    __cpuid_count(7, 0, a, b, c, d);
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    return f && dq && bw && vl;
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
