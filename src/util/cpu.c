/*
 * util/cpu.c - CPU feature checks, for code with an AVX2 path and a portable one.
 */
#include "util/cpu.h"

int cpu_has_avx2(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    static int v = -1;
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return v;
#else
    return 0;
#endif
}
