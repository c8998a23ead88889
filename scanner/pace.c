/*
 * Token bucket. Doubles are precise enough here: a token is one probe, and
 * the bucket never holds more than `burst` of them.
 */
#include "scanner/pace.h"

void sn_pace_init(sn_pace_t *p, double rate, double burst, uint64_t now_ns)
{
    p->rate = rate > 0 ? rate : 0;
    if (burst <= 0)
        burst = p->rate / 100.0;
    p->burst = burst < 1 ? 1 : burst;
    p->tokens = p->burst < 1 ? p->burst : 1; /* start with one token, not a burst */
    p->last_ns = now_ns;
}

static void refill(sn_pace_t *p, uint64_t now_ns)
{
    if (now_ns <= p->last_ns)
        return;
    p->tokens += (double)(now_ns - p->last_ns) * p->rate / 1e9;
    if (p->tokens > p->burst)
        p->tokens = p->burst;
    p->last_ns = now_ns;
}

uint64_t sn_pace_available(sn_pace_t *p, uint64_t now_ns, uint64_t want)
{
    if (p->rate == 0)
        return want;
    refill(p, now_ns);
    uint64_t have = p->tokens >= 1 ? (uint64_t)p->tokens : 0;
    return have < want ? have : want;
}

void sn_pace_consume(sn_pace_t *p, uint64_t n)
{
    if (p->rate == 0)
        return;
    p->tokens -= (double)n;
    if (p->tokens < 0)
        p->tokens = 0;
}

uint64_t sn_pace_wait_ns(const sn_pace_t *p, uint64_t now_ns)
{
    if (p->rate == 0)
        return 0;
    double tokens = p->tokens;
    if (now_ns > p->last_ns)
        tokens += (double)(now_ns - p->last_ns) * p->rate / 1e9;
    if (tokens >= 1)
        return 0;
    return (uint64_t)((1.0 - tokens) * 1e9 / p->rate) + 1;
}
