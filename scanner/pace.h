/*
 * Pacing: a token bucket in probes per second.
 *
 * The engine asks how many probes it may send now and sends that many in one
 * batch, rather than sleeping per probe (the masscan lesson). Time is passed
 * in, never read here, so that tests drive the bucket with an injected clock.
 */
#ifndef SN_PACE_H
#define SN_PACE_H

#include <stdint.h>

typedef struct sn_pace {
    double rate;  /* tokens per second; 0 = unlimited */
    double burst; /* most tokens the bucket holds */
    double tokens;
    uint64_t last_ns; /* time of the last refill */
} sn_pace_t;

/*
 * rate 0 means no limit. burst is the largest batch allowed after an idle
 * spell; 0 picks rate/100 (10 ms worth), at least 1.
 */
void sn_pace_init(sn_pace_t *p, double rate, double burst, uint64_t now_ns);

/* Tokens available at now_ns (refills first), capped at want. Does not consume. */
uint64_t sn_pace_available(sn_pace_t *p, uint64_t now_ns, uint64_t want);

/* Consumes n tokens (n must not exceed what sn_pace_available returned). */
void sn_pace_consume(sn_pace_t *p, uint64_t n);

/* Nanoseconds from now_ns until one token is available (0 if one is). */
uint64_t sn_pace_wait_ns(const sn_pace_t *p, uint64_t now_ns);

#endif
