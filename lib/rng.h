/*
 * The one seeded generator of the tree: splitmix64 (Steele, Lea, Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014). One 64-bit state, the same sequence on
 * every platform, cheap enough for per-packet draws (the swarm's loss), and not
 * cryptographic: nothing that uses it needs more than repeatability from a seed.
 */
#ifndef SN_LIB_RNG_H
#define SN_LIB_RNG_H

#include <stdint.h>

/* A generator; any seed (0 included) is fine. */
typedef struct sn_rng {
    uint64_t s;
} sn_rng_t;

/* A generator whose sequence depends only on seed. */
static inline sn_rng_t sn_rng_seeded(uint64_t seed)
{
    sn_rng_t r = {seed};
    return r;
}

/* The next 64 random bits. */
uint64_t sn_rng_next(sn_rng_t *r);

/* Uniform in [0, 1), 53 bits. */
double sn_rng_unit(sn_rng_t *r);

/* Uniform in 0..n-1 for 1 <= n <= 2^32 (multiply-shift on the high 32 bits). */
uint32_t sn_rng_below(sn_rng_t *r, uint64_t n);

#endif
