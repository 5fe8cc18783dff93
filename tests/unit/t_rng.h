/*
 * t_rng.h - the pseudo-random numbers unit tests draw their generated cases from: Marsaglia's
 * xorshift64 (13, 7, 17).  Not random at all, on purpose: a file's cases are the same on every
 * run, so a failure reproduces.  A file may choose its own seed by defining T_RNG_SEED (nonzero)
 * before it includes this header; each file that includes it has its own state.
 */
#ifndef ACCORD_TEST_T_RNG_H
#define ACCORD_TEST_T_RNG_H

#include <stdint.h>

#ifndef T_RNG_SEED
#define T_RNG_SEED 0x9E3779B97F4A7C15ull
#endif

static uint64_t t_rng_state = T_RNG_SEED;

/* The next number of the file's sequence. */
static inline uint64_t t_rnd(void)
{
    uint64_t x = t_rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return t_rng_state = x;
}

/* The next number below n (0 when n is 0). */
static inline uint64_t t_rnd_below(uint64_t n)
{
    return n ? t_rnd() % n : 0;
}

#endif
