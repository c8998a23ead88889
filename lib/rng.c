/*
 * splitmix64: the state advances by the golden-ratio increment and each output is the
 * state through the splitmix64 finaliser (sn_mix64, lib/addr.h), as in the reference.
 */
#include "lib/rng.h"

#include "lib/addr.h"

uint64_t sn_rng_next(sn_rng_t *r)
{
    r->s += UINT64_C(0x9E3779B97F4A7C15);
    return sn_mix64(r->s);
}

double sn_rng_unit(sn_rng_t *r)
{
    return (double)(sn_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint32_t sn_rng_below(sn_rng_t *r, uint64_t n)
{
    return (uint32_t)(((sn_rng_next(r) >> 32) * n) >> 32);
}
