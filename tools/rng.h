/*
 * The host tools' seeded generator: splitmix64 (Steele, Lea and Flood 2014), the same
 * stream on every machine. Header-only: each tool that draws numbers includes it.
 */
#ifndef TOOLS_RNG_H
#define TOOLS_RNG_H

#include <stdint.h>

static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1), 24 bits. */
static inline float rng_uniform(uint64_t *s)
{
    return (float)(rng_next(s) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform in 0 .. n-1 (n >= 1). */
static inline uint32_t rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)((rng_next(s) >> 32) % n);
}

#endif /* TOOLS_RNG_H */
