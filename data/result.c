/*
 * Derived facts of a result: the reachability class and super-node
 * eligibility. Both are pure functions of the result so that every sink (CSV,
 * NDJSON, statistics, history) agrees on them without storing them twice.
 *
 * A probe "ran" when its transport was in the plan (probe != NULL) and it has
 * an outcome other than NONE; a result whose target was blocked, or on which
 * nothing ran, has no class at all (""), which sinks write as empty/null.
 * A target with a probe `incomplete` (the scan stopped before its every
 * attempt and fallback port was made) has the class "incomplete".
 */
#include "data/result.h"

#include <stdio.h>

static bool ran(const sn_probe_result_t *p)
{
    return p->probe != NULL && p->outcome != SN_OUTCOME_NONE;
}

static bool alive(const sn_probe_result_t *p)
{
    return ran(p) && p->outcome == SN_OUTCOME_ALIVE;
}

/* The port TCP answered on; the engine writes the target's own port when no
 * fallback answered, and 0 is read the same way. */
static uint16_t tcp_port_of(const sn_result_t *r)
{
    uint16_t own = r->target != NULL ? r->target->addr.port : 0;
    return r->tcp.port != 0 ? r->tcp.port : own;
}

const char *sn_result_reach_class(const sn_result_t *r, sn_reach_buf_t *buf)
{
    /* Ports other than the own one, 443 and 80 are not planned today; should
     * one appear, its class is spelt out in the caller's buffer. */

    if (r == NULL || r->blocked != NULL || (!ran(&r->udp) && !ran(&r->tcp)))
        return "";
    /* A probe cut short by a stop leaves the class unknown: another run
     * (--resume) finds it; the class must not pretend. */
    if ((ran(&r->udp) && r->udp.outcome == SN_OUTCOME_INCOMPLETE) ||
        (ran(&r->tcp) && r->tcp.outcome == SN_OUTCOME_INCOMPLETE))
        return "incomplete";
    bool udp = alive(&r->udp);
    if (!alive(&r->tcp))
        return udp ? "udp-only" : "none";

    uint16_t own = r->target != NULL ? r->target->addr.port : 0;
    uint16_t port = tcp_port_of(r);
    if (port == own)
        return udp ? "udp+tcp" : "tcp-only";
    if (port == 443)
        return udp ? "udp+tcp-443" : "tcp-443-only";
    if (port == 80)
        return udp ? "udp+tcp-80" : "tcp-80-only";
    snprintf(buf->s, sizeof buf->s, udp ? "udp+tcp-%u" : "tcp-%u-only", (unsigned)port);
    return buf->s;
}

bool sn_result_sn_eligible(const sn_result_t *r)
{
    if (r == NULL || r->blocked != NULL || r->target == NULL)
        return false;
    if (!alive(&r->udp) || r->udp.reply_from.family != 0)
        return false;
    if (!alive(&r->tcp) || r->tcp.reply_from.family != 0)
        return false;
    return tcp_port_of(r) == r->target->addr.port;
}
