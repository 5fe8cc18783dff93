/*
 * util/cpu.c - CPU feature checks, for code with an AVX2 or SSSE3 path and a portable one.
 */
#include "util/cpu.h"

#define CPU_AVX2 1
#define CPU_SSSE3 2

/* The features of the CPU, asked once (every thread that asks first stores the same value). */
static int features(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    static int v = -1;
    if (v < 0) {
        __builtin_cpu_init();
        v = (__builtin_cpu_supports("avx2") ? CPU_AVX2 : 0) |
            (__builtin_cpu_supports("ssse3") ? CPU_SSSE3 : 0);
    }
    return v;
#else
    return 0;
#endif
}

int cpu_has_avx2(void)
{
    return (features() & CPU_AVX2) != 0;
}

int cpu_has_ssse3(void)
{
    return (features() & CPU_SSSE3) != 0;
}
