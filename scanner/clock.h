/*
 * The engine's clock, injected: the engine and its transports read time only
 * through this struct, so that a test can run a scan on a clock it moves
 * itself (timeouts, retries and pacing without waiting) and production reads
 * the kernel's.
 */
#ifndef SN_CLOCK_H
#define SN_CLOCK_H

#include <stdint.h>

typedef struct sn_clock {
    /* Monotonic nanoseconds: deadlines and pacing. */
    uint64_t (*mono_ns)(void *ud);
    /* CLOCK_REALTIME nanoseconds: comparable with the kernel's receive stamps. */
    uint64_t (*real_ns)(void *ud);
    void *ud;
} sn_clock_t;

/* The kernel's clocks (uv_hrtime and CLOCK_REALTIME). */
extern const sn_clock_t sn_clock_system;

static inline uint64_t sn_clock_mono(const sn_clock_t *c)
{
    return c->mono_ns(c->ud);
}

static inline uint64_t sn_clock_real(const sn_clock_t *c)
{
    return c->real_ns(c->ud);
}

#endif
