/*
 * util/cpu.h - what the CPU accord runs on can do, asked once.
 */
#ifndef ACCORD_UTIL_CPU_H
#define ACCORD_UTIL_CPU_H

/* 1 when the CPU has AVX2 (x86-64 built with GCC or Clang), 0 otherwise. */
int cpu_has_avx2(void);
/* 1 when the CPU has SSSE3 (x86-64 built with GCC or Clang), 0 otherwise. */
int cpu_has_ssse3(void);

#endif
