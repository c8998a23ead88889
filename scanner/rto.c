/*
 * The TCP transport's adaptive timeout (scanner/rto.h says why it is built
 * the way it is): a few counters and one rule, no clock of its own.
 */
#include "scanner/rto.h"

void sn_rto_init(sn_rto_t *r, uint64_t configured_ns, bool adaptive)
{
    *r = (sn_rto_t){.configured_ns = configured_ns, .adaptive = adaptive};
}

void sn_rto_sent(sn_rto_t *r, uint64_t now_ns)
{
    if (!r->started) {
        r->started = true;
        r->first_ns = now_ns;
    }
}

void sn_rto_answered(sn_rto_t *r, uint64_t elapsed_ns)
{
    if (elapsed_ns > r->slowest_ns)
        r->slowest_ns = elapsed_ns;
    if (r->samples < UINT32_MAX)
        r->samples++;
}

bool sn_rto_learned(const sn_rto_t *r, uint64_t now_ns)
{
    /* The first attempt must have had the whole configured wait: until then a
     * slow share of the population may not have answered yet. */
    return r->adaptive && r->started && r->samples >= SN_RTO_MIN_SAMPLES && now_ns >= r->first_ns &&
           now_ns - r->first_ns >= r->configured_ns;
}

/* The learned timeout, whether or not it applies yet. */
static uint64_t learned_ns(const sn_rto_t *r)
{
    /* slowest_ns is below the configured timeout (a slower answer would have
     * been cut), so the product cannot overflow. */
    uint64_t t =
        r->slowest_ns < r->configured_ns ? SN_RTO_MARGIN * r->slowest_ns : r->configured_ns;
    if (t < SN_RTO_FLOOR_NS)
        t = SN_RTO_FLOOR_NS;
    return t < r->configured_ns ? t : r->configured_ns;
}

uint64_t sn_rto_timeout(const sn_rto_t *r, uint64_t now_ns)
{
    return sn_rto_learned(r, now_ns) ? learned_ns(r) : r->configured_ns;
}

uint64_t sn_rto_deadline(const sn_rto_t *r, uint64_t start_ns)
{
    uint64_t fixed = start_ns + r->configured_ns;
    if (!r->adaptive || !r->started || r->samples < SN_RTO_MIN_SAMPLES)
        return fixed;
    /* The learned timeout applies from first + configured on, never before. */
    uint64_t from = r->first_ns + r->configured_ns;
    uint64_t d = start_ns + learned_ns(r);
    if (d < from)
        d = from;
    return d < fixed ? d : fixed;
}
