/*
 * Vantage discovery, the verdict: what the STUN client's observations
 * (vantage_client.c) say about this vantage's NAT mapping and filtering and its
 * UDP and TCP paths (RFC 5780 sections 4.3 and 4.4; the rules are at the top of
 * vantage.h). Pure, no I/O: every verdict is tested from injected observations.
 */
#include "scanner/vantage.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/text.h"

static const char *const nat_names[] = {
    [SN_NAT_UNKNOWN] = "unknown",
    [SN_NAT_NONE] = "none",
    [SN_NAT_ENDPOINT_INDEPENDENT] = "endpoint-independent",
    [SN_NAT_ADDRESS_DEPENDENT] = "address-dependent",
    [SN_NAT_ADDRESS_PORT_DEPENDENT] = "address-and-port-dependent",
};

static const char *const path_names[] = {
    [SN_PATH_UNKNOWN] = "unknown",
    [SN_PATH_OPEN] = "open",
    [SN_PATH_443_80_ONLY] = "443-80-only",
    [SN_PATH_BLOCKED] = "blocked",
};

const char *sn_nat_behaviour_name(sn_nat_behaviour_t b)
{
    if ((unsigned)b >= sizeof nat_names / sizeof nat_names[0])
        return "unknown";
    return nat_names[b];
}

const char *sn_path_name(sn_path_t p)
{
    if ((unsigned)p >= sizeof path_names / sizeof path_names[0])
        return "unknown";
    return path_names[p];
}

bool sn_vantage_test_mapped(const sn_vantage_test_t *t)
{
    return t->result == SN_VTEST_ANSWERED && t->mapped.family != 0;
}

/* ---- judging ------------------------------------------------------------------------------ */

static void evidence_add(sn_vantage_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void evidence_add(sn_vantage_t *v, const char *fmt, ...)
{
    if (v->n_evidence >= SN_VANTAGE_EVIDENCE)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->evidence[v->n_evidence++], SN_VANTAGE_EVIDENCE_LEN, fmt, ap);
    va_end(ap);
}

/*
 * One evidence line: "name: to[ note] -> what came back". OTHER-ADDRESS is
 * shown for map-test1 only (with_other), where it decides the later tests.
 */
static void describe(sn_vantage_t *v, const char *name, const char *note,
                     const sn_vantage_test_t *t, bool tcp, bool with_other)
{
    char to[SN_ADDR_STRLEN], a[SN_ADDR_STRLEN], b[SN_ADDR_STRLEN], what[128];

    if (t->result == SN_VTEST_NOT_RUN || t->to.family == 0)
        return;
    sn_addr_format(&t->to, to, sizeof to, true);
    switch (t->result) {
    case SN_VTEST_ANSWERED:
        if (tcp) {
            if (t->mapped.family != 0) {
                sn_addr_format(&t->mapped, a, sizeof a, true);
                snprintf(what, sizeof what, "connected, mapped %s", a);
            } else {
                snprintf(what, sizeof what, "connected, no STUN answer");
            }
            break;
        }
        if (t->mapped.family == 0) {
            snprintf(what, sizeof what, "answer without a mapped address");
            break;
        }
        sn_addr_format(&t->mapped, a, sizeof a, true);
        sn_addr_format(&t->from, b, sizeof b, true);
        if (sn_addr_equal(&t->from, &t->to))
            snprintf(what, sizeof what, "mapped %s", a);
        else
            snprintf(what, sizeof what, "mapped %s from %s", a, b);
        break;
    case SN_VTEST_SILENT: snprintf(what, sizeof what, "no answer"); break;
    case SN_VTEST_REFUSED:
        if (tcp || t->from.family == 0) {
            snprintf(what, sizeof what, tcp ? "refused (RST)" : "refused");
        } else {
            sn_addr_format(&t->from, b, sizeof b, false);
            snprintf(what, sizeof what, "refused by %s (ICMP port unreachable)", b);
        }
        break;
    case SN_VTEST_UNREACHABLE:
        if (tcp || t->from.family == 0) {
            snprintf(what, sizeof what, "unreachable");
        } else {
            sn_addr_format(&t->from, b, sizeof b, false);
            snprintf(what, sizeof what, "unreachable (ICMP from %s)", b);
        }
        break;
    case SN_VTEST_REJECTED:
        if (t->error_code != 0)
            snprintf(what, sizeof what, "error %u", t->error_code);
        else
            snprintf(what, sizeof what, "unusable answer");
        break;
    default: snprintf(what, sizeof what, "?"); break;
    }
    if (with_other && t->other.family != 0) {
        sn_addr_format(&t->other, b, sizeof b, true);
        size_t l = strlen(what);
        snprintf(what + l, sizeof what - l, ", other %s", b);
    }
    evidence_add(v, "%s: %s%s%s -> %s", name, to, note[0] ? " " : "", note, what);
}

void sn_vantage_decide(const sn_vantage_obs_t *obs, sn_vantage_t *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    out->known = true;
    if (obs == NULL)
        return;
    const sn_vantage_test_t *t = obs->t;
    out->local = obs->local_map;

    /* UDP: an ICMP error from the server itself means the datagram got there. */
    const sn_vantage_test_t *m1 = &t[SN_VT_MAP1];
    switch (m1->result) {
    case SN_VTEST_ANSWERED:
    case SN_VTEST_REJECTED: out->udp = SN_PATH_OPEN; break;
    case SN_VTEST_SILENT: out->udp = SN_PATH_BLOCKED; break;
    case SN_VTEST_REFUSED:
    case SN_VTEST_UNREACHABLE:
        out->udp = m1->from.family != 0 && sn_addr_same_ip(&m1->from, &obs->server)
                       ? SN_PATH_OPEN
                       : SN_PATH_BLOCKED;
        break;
    default: break;
    }

    /* Mapping (RFC 5780 section 4.3). */
    const sn_vantage_test_t *m2 = &t[SN_VT_MAP2], *m3 = &t[SN_VT_MAP3];
    if (sn_vantage_test_mapped(m1)) {
        if (sn_addr_equal(&m1->mapped, &obs->local_map))
            out->mapping = SN_NAT_NONE;
        else if (sn_vantage_test_mapped(m2) && sn_addr_equal(&m2->mapped, &m1->mapped))
            out->mapping = SN_NAT_ENDPOINT_INDEPENDENT;
        else if (sn_vantage_test_mapped(m2) && sn_vantage_test_mapped(m3))
            out->mapping = sn_addr_equal(&m3->mapped, &m2->mapped) ? SN_NAT_ADDRESS_DEPENDENT
                                                                   : SN_NAT_ADDRESS_PORT_DEPENDENT;
    }

    /*
     * Filtering (RFC 5780 section 4.4). An answer counts only when it left
     * from where the CHANGE-REQUEST asked: one from the primary address means
     * the server ignored the request, which proves nothing about our path.
     */
    const sn_vantage_test_t *f1 = &t[SN_VT_FILTER1], *f2 = &t[SN_VT_FILTER2],
                            *f3 = &t[SN_VT_FILTER3];
    if (sn_vantage_test_mapped(f1)) {
        bool nat = !sn_addr_equal(&f1->mapped, &obs->local_filter);
        if (f2->result == SN_VTEST_ANSWERED) {
            if (!sn_addr_same_ip(&f2->from, &obs->server) && f2->from.port != obs->server.port)
                out->filtering = nat ? SN_NAT_ENDPOINT_INDEPENDENT : SN_NAT_NONE;
        } else if (f2->result == SN_VTEST_SILENT) {
            if (f3->result == SN_VTEST_ANSWERED) {
                if (f3->from.port != obs->server.port)
                    out->filtering = SN_NAT_ADDRESS_DEPENDENT;
            } else if (f3->result == SN_VTEST_SILENT) {
                out->filtering = SN_NAT_ADDRESS_PORT_DEPENDENT;
            }
        }
    }

    /* TCP: only a completed handshake shows that the path passes. */
    const sn_vantage_test_t *hi = &t[SN_VT_TCP_STUN], *p443 = &t[SN_VT_TCP_443],
                            *p80 = &t[SN_VT_TCP_80];
    bool low = p443->result == SN_VTEST_ANSWERED || p80->result == SN_VTEST_ANSWERED;
    if (hi->result == SN_VTEST_ANSWERED)
        out->tcp = SN_PATH_OPEN;
    else if (hi->result != SN_VTEST_NOT_RUN && low)
        out->tcp = SN_PATH_443_80_ONLY;
    else if (hi->result != SN_VTEST_NOT_RUN && p443->result != SN_VTEST_NOT_RUN &&
             p80->result != SN_VTEST_NOT_RUN && !low)
        out->tcp = SN_PATH_BLOCKED;

    describe(out, "map-test1", "", m1, false, true);
    describe(out, "map-test2", "", m2, false, false);
    describe(out, "map-test3", "", m3, false, false);
    describe(out, "filter-test1", "", f1, false, false);
    describe(out, "filter-test2", "change ip+port", f2, false, false);
    describe(out, "filter-test3", "change port", f3, false, false);
    describe(out, "tcp-stun", "", hi, true, false);
    describe(out, "tcp-443", "", p443, true, false);
    describe(out, "tcp-80", "", p80, true, false);
}

#define N_OF(a) (sizeof(a) / sizeof(a)[0])

bool sn_nat_behaviour_from_name(const char *s, sn_nat_behaviour_t *out)
{
    int x = sn_name_index(s, nat_names, N_OF(nat_names));
    if (x < 0)
        return false;
    *out = (sn_nat_behaviour_t)x;
    return true;
}

bool sn_path_from_name(const char *s, sn_path_t *out)
{
    int x = sn_name_index(s, path_names, N_OF(path_names));
    if (x < 0)
        return false;
    *out = (sn_path_t)x;
    return true;
}
