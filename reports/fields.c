/*
 * The one table of result columns. The CSV and NDJSON writers, `--list-fields`,
 * the results reader, the history and the README's column table all walk
 * sn_fields[], so a column is declared here once and nowhere else; its
 * position in the table is its position in every output, and the order is kept
 * stable across releases (append only). The common columns are declared here;
 * the fields a probe adds are declared by the probe (probes/probe.h) and
 * follow them, in registry order, so a new probe's field needs no line here.
 *
 * Every formatter writes text and returns its length (the writers need not
 * measure it again), and "" means "not applicable": the CSV cell is empty and
 * NDJSON writes null. Formatters run once per target per column, so they avoid
 * allocation: integers go through a small decimal writer, and the only snprintf
 * is inside sn_addr_format.
 *
 * The sources column joins the distinct source labels with ';'. A label that
 * itself contains ';' has each ';' replaced by ',' so that splitting the cell
 * on ';' always gives back one piece per source (a path with ';' in it is rare
 * and stays recognisable). Should the labels not fit the cell buffer, whole
 * labels are dropped from the end rather than cut in the middle.
 */
#include "reports/output.h"

#include <string.h>

/* Writes s (possibly truncated) into buf; returns the bytes written. */
static size_t put_str(char *buf, size_t cap, const char *s)
{
    if (cap == 0)
        return 0;
    size_t n = s != NULL && s[0] != '\0' ? strlen(s) : 0; /* most cells are "" */
    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(buf, s, n);
    buf[n] = '\0';
    return n;
}

/* Writes v in decimal; writes "" when it does not fit (never a cut number). */
static size_t put_u64(char *buf, size_t cap, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    size_t n = sizeof tmp - i;
    if (cap == 0)
        return 0;
    if (n >= cap) {
        buf[0] = '\0';
        return 0;
    }
    memcpy(buf, tmp + i, n);
    buf[n] = '\0';
    return n;
}

static size_t put_i64(char *buf, size_t cap, int64_t v)
{
    if (v >= 0)
        return put_u64(buf, cap, (uint64_t)v);
    if (cap < 2)
        return put_str(buf, cap, "");
    buf[0] = '-';
    /* -(v + 1) + 1 avoids overflow at INT64_MIN. */
    size_t n = put_u64(buf + 1, cap - 1, (uint64_t)(-(v + 1)) + 1u);
    if (n == 0) {
        buf[0] = '\0';
        return 0;
    }
    return n + 1;
}

static bool probe_ran(const sn_probe_result_t *p)
{
    return p->probe != NULL && p->outcome != SN_OUTCOME_NONE;
}

static size_t f_address(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    if (r->target == NULL)
        return put_str(buf, cap, "");
    return sn_addr_format(&r->target->addr, buf, cap, false);
}

static size_t f_port(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    if (r->target == NULL)
        return put_str(buf, cap, "");
    else
        return put_u64(buf, cap, r->target->addr.port);
}

static size_t f_seen_count(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    if (r->target == NULL)
        return put_str(buf, cap, "");
    else
        return put_u64(buf, cap, r->target->seen_count);
}

struct join {
    char *buf;
    size_t cap;
    size_t len;
    bool full;
};

static void join_label(const char *label, void *ud)
{
    struct join *j = ud;
    if (j->full || label == NULL)
        return;
    size_t n = strlen(label);
    size_t sep = j->len > 0 ? 1 : 0;
    /* Whole labels only, and room for the NUL. */
    if (j->len + sep + n + 1 > j->cap) {
        j->full = true;
        return;
    }
    if (sep)
        j->buf[j->len++] = ';';
    char *d = j->buf + j->len;
    memcpy(d, label, n);
    for (char *c = memchr(d, ';', n); c != NULL; c = memchr(c + 1, ';', n - (size_t)(c + 1 - d)))
        *c = ',';
    j->len += n;
    j->buf[j->len] = '\0';
}

static size_t f_sources(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    size_t n = put_str(buf, cap, "");
    if (cap == 0 || ctx == NULL || ctx->targets == NULL || r->target == NULL)
        return n;
    struct join j = {.buf = buf, .cap = cap, .len = 0, .full = false};
    sn_targets_foreach_source(ctx->targets, r->target, join_label, &j);
    return j.len;
}

static size_t put_time(char *buf, size_t cap, int64_t t)
{
    if (t == 0)
        return put_str(buf, cap, "");
    else
        return put_i64(buf, cap, t);
}

static size_t f_first_seen(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_time(buf, cap, r->target != NULL ? r->target->first_seen : 0);
}

static size_t f_last_seen(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_time(buf, cap, r->target != NULL ? r->target->last_seen : 0);
}

static size_t f_flags(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    const char *s = NULL;
    if (ctx != NULL && ctx->targets != NULL && r->target != NULL)
        s = sn_targets_flags(ctx->targets, r->target);
    return put_str(buf, cap, s);
}

static size_t f_blocked(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, r->blocked);
}

static size_t f_udp_probe(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, probe_ran(&r->udp) ? r->udp.probe->name : "");
}

static size_t put_outcome(char *buf, size_t cap, const sn_probe_result_t *p)
{
    return put_str(buf, cap, probe_ran(p) ? sn_outcome_name((sn_outcome_t)p->outcome) : "");
}

static size_t put_rtt(char *buf, size_t cap, const sn_probe_result_t *p)
{
    if (probe_ran(p) && p->outcome == SN_OUTCOME_ALIVE)
        return put_u64(buf, cap, p->rtt_us);
    else
        return put_str(buf, cap, "");
}

static size_t put_attempts(char *buf, size_t cap, const sn_probe_result_t *p)
{
    if (probe_ran(p))
        return put_u64(buf, cap, p->attempts);
    else
        return put_str(buf, cap, "");
}

static size_t f_udp_outcome(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_outcome(buf, cap, &r->udp);
}

static size_t f_udp_rtt(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_rtt(buf, cap, &r->udp);
}

static size_t f_udp_attempts(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_attempts(buf, cap, &r->udp);
}

/* The UDP probe is the one that reports addresses; TCP is consulted only for
 * a future TCP probe with a payload that does. */
static const sn_addr_t *pick_addr(const sn_result_t *r, bool observed)
{
    const sn_addr_t *u = observed ? &r->udp.observed : &r->udp.reply_from;
    const sn_addr_t *t = observed ? &r->tcp.observed : &r->tcp.reply_from;
    if (probe_ran(&r->udp) && u->family != 0)
        return u;
    if (probe_ran(&r->tcp) && t->family != 0)
        return t;
    return NULL;
}

static size_t f_observed(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    const sn_addr_t *a = pick_addr(r, true);
    if (a == NULL)
        return put_str(buf, cap, "");
    return sn_addr_format(a, buf, cap, a->port != 0);
}

static size_t f_reply_from(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    const sn_addr_t *a = pick_addr(r, false);
    if (a == NULL)
        return put_str(buf, cap, "");
    return sn_addr_format(a, buf, cap, true);
}

static size_t f_tcp_outcome(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_outcome(buf, cap, &r->tcp);
}

static size_t f_tcp_rtt(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_rtt(buf, cap, &r->tcp);
}

static size_t f_tcp_port(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    if (!probe_ran(&r->tcp)) {
        return put_str(buf, cap, "");
    }
    uint16_t port = r->tcp.port;
    if (port == 0 && r->target != NULL)
        port = r->target->addr.port;
    return put_u64(buf, cap, port);
}

static size_t f_tcp_attempts(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_attempts(buf, cap, &r->tcp);
}

static size_t f_reach_class(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, sn_result_reach_class(r, &(sn_reach_buf_t){0}));
}

static size_t f_sn_eligible(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    if (sn_result_reach_class(r, &(sn_reach_buf_t){0})[0] == '\0')
        return put_str(buf, cap, "");
    else
        return put_str(buf, cap, sn_result_sn_eligible(r) ? "1" : "0");
}

/* ---- enrichment and vantage: empty when that stage did not run ---- */

static const sn_enrichment_t *enr(const sn_result_t *r)
{
    return r->enrich;
}

static size_t f_vantage(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)r;
    return put_str(buf, cap, ctx->vantage);
}

static size_t f_rdns_status(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) ? enr(r)->rdns_status : "");
}

static size_t f_ptr(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) ? enr(r)->ptr : "");
}

static size_t f_ptr_valid(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) && enr(r)->ptr[0] ? (enr(r)->ptr_valid ? "1" : "0") : "");
}

static size_t f_country(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) ? enr(r)->geo.country : "");
}

static size_t f_continent(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) ? enr(r)->geo.continent : "");
}

static size_t f_asn(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    if (enr(r) && enr(r)->geo.asn != 0)
        return put_u64(buf, cap, enr(r)->geo.asn);
    else
        return put_str(buf, cap, "");
}

static size_t f_as_org(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) ? enr(r)->geo.as_org : "");
}

static size_t f_edu(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) && enr(r)->class_known ? (enr(r)->cls.edu ? "1" : "0") : "");
}

static size_t f_edu_source(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) && enr(r)->cls.edu ? enr(r)->cls.edu_source : "");
}

static size_t f_addr_kind(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) ? sn_dyn_str(enr(r)->cls.dyn) : "");
}

static size_t f_dyn_rule(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) && enr(r)->cls.dyn_rule ? enr(r)->cls.dyn_rule : "");
}

static size_t f_geo_source(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)
{
    (void)ctx;
    return put_str(buf, cap, enr(r) && enr(r)->geo.source ? enr(r)->geo.source : "");
}

static const sn_field_t core[SN_COL_CORE] = {
    [SN_COL_ADDRESS] = {.plain = true,
                        .name = "address",
                        .type = SN_FIELD_STR,
                        .format = f_address,
                        .help = "target IP address (IPv4 dotted quad or IPv6 text, no port)"},
    [SN_COL_PORT] = {.name = "port",
                     .type = SN_FIELD_INT,
                     .format = f_port,
                     .help = "target port as listed in the input (1-65535)"},
    [SN_COL_SEEN] = {.name = "seen_count",
                     .type = SN_FIELD_INT,
                     .format = f_seen_count,
                     .help = "number of listings of this address and port, summed over all inputs"},
    [SN_COL_SOURCES] = {.name = "sources",
                        .type = SN_FIELD_STR,
                        .format = f_sources,
                        .help = "distinct input names or source labels that listed the target, "
                                "joined with ';' (a ';' inside a label is written as ',')"},
    [SN_COL_FIRST] =
        {.name = "first_seen",
         .type = SN_FIELD_INT,
         .format = f_first_seen,
         .help = "earliest time an input says the target was seen, Unix seconds; empty if unknown"},
    [SN_COL_LAST] =
        {.name = "last_seen",
         .type = SN_FIELD_INT,
         .format = f_last_seen,
         .help = "latest time an input says the target was seen, Unix seconds; empty if unknown"},
    [SN_COL_FLAGS] = {.name = "flags",
                      .type = SN_FIELD_STR,
                      .format = f_flags,
                      .help =
                          "host-cache flags of the entry, copied verbatim (opaque); empty if none"},
    [SN_COL_BLOCKED] =
        {.name = "blocked",
         .type = SN_FIELD_STR,
         .format = f_blocked,
         .help = "why the target was not probed (blocklist range name); empty if it was probed"},
    [SN_COL_UDP_PROBE] = {.plain = true,
                          .name = "udp_probe",
                          .type = SN_FIELD_STR,
                          .format = f_udp_probe,
                          .help =
                              "name of the UDP probe module that ran; empty if UDP was not probed"},
    [SN_COL_UDP_OUTCOME] =
        {.plain = true,
         .name = "udp_outcome",
         .type = SN_FIELD_STR,
         .format = f_udp_outcome,
         .help = "UDP result: alive, closed, unreachable, filtered, error, or incomplete (the "
                 "scan stopped before every attempt was made); empty if not probed"},
    [SN_COL_UDP_RTT] =
        {.name = "udp_rtt_us",
         .type = SN_FIELD_INT,
         .format = f_udp_rtt,
         .help = "UDP round-trip time from the last attempt sent to the reply (the kernel's "
                 "transmit and receive stamps; at full rate the transmit stamp may be that of "
                 "a datagram sent just before), microseconds; empty unless alive; with "
                 "udp_attempts > 1 the reply may answer an earlier attempt (same token)"},
    [SN_COL_UDP_ATTEMPTS] =
        {.name = "udp_attempts",
         .type = SN_FIELD_INT,
         .format = f_udp_attempts,
         .help = "UDP requests sent to the target (first try plus retries); empty if not probed"},
    [SN_COL_OBSERVED] =
        {.plain = true,
         .name = "observed_addr",
         .type = SN_FIELD_STR,
         .format = f_observed,
         .help = "our own address as the node reported seeing it, \"ip\" or \"ip:port\" "
                 "(\"[ip]:port\" for IPv6); empty if the reply did not say"},
    [SN_COL_REPLY_FROM] =
        {.plain = true,
         .name = "reply_from",
         .type = SN_FIELD_STR,
         .format = f_reply_from,
         .help = "\"ip:port\" the reply came from when that differs from the address and "
                 "port probed (a NAT or relay in between); empty otherwise"},
    [SN_COL_TCP_OUTCOME] =
        {.plain = true,
         .name = "tcp_outcome",
         .type = SN_FIELD_STR,
         .format = f_tcp_outcome,
         .help = "TCP connect result: alive, closed, unreachable, filtered, error, or "
                 "incomplete (the scan stopped before every attempt and fallback port was "
                 "made); empty if not probed"},
    [SN_COL_TCP_RTT] =
        {.name = "tcp_rtt_us",
         .type = SN_FIELD_INT,
         .format = f_tcp_rtt,
         .help = "TCP handshake time of the answered attempt, microseconds; empty unless alive"},
    [SN_COL_TCP_PORT] =
        {.name = "tcp_port",
         .type = SN_FIELD_INT,
         .format = f_tcp_port,
         .help = "port on which TCP answered (the target's own, or a fallback such as 443 or "
                 "80), else the target's own port; empty if TCP was not probed"},
    [SN_COL_TCP_ATTEMPTS] =
        {.name = "tcp_attempts",
         .type = SN_FIELD_INT,
         .format = f_tcp_attempts,
         .help = "TCP connection attempts made over all ports tried; empty if not probed"},
    [SN_COL_REACH] =
        {.plain = true,
         .name = "reach_class",
         .type = SN_FIELD_STR,
         .format = f_reach_class,
         .help = "what answered: udp+tcp, udp+tcp-443, udp+tcp-80, udp-only, tcp-only, "
                 "tcp-443-only, tcp-80-only or none; incomplete when the scan stopped before "
                 "every attempt and fallback port of a probe was made (probe it again: "
                 "--resume); empty if not probed"},
    [SN_COL_ELIGIBLE] =
        {.name = "sn_eligible",
         .type = SN_FIELD_BOOL,
         .format = f_sn_eligible,
         .help = "super-node eligible: answered UDP and TCP on its own port, both from the "
                 "probed address itself; empty if not probed"},
    [SN_COL_VANTAGE] = {.name = "vantage",
                        .type = SN_FIELD_STR,
                        .format = f_vantage,
                        .help =
                            "where the scan ran from: mapping=...;filtering=...;udp=...;tcp=... "
                            "(snprobe vantage); empty if not recorded"},
    [SN_COL_RDNS] =
        {.name = "rdns_status",
         .type = SN_FIELD_STR,
         .format = f_rdns_status,
         .help = "reverse lookup: ok, nxdomain, nodata, servfail, refused, timeout, badresp, "
                 "error, cancelled, or skipped (not looked up)"},
    [SN_COL_PTR] =
        {.name = "ptr",
         .type = SN_FIELD_STR,
         .format = f_ptr,
         .help = "PTR names as received (DNS text form), separated by one space; never trusted"},
    [SN_COL_PTR_VALID] =
        {.name = "ptr_valid",
         .type = SN_FIELD_BOOL,
         .format = f_ptr_valid,
         .help = "every PTR name is a valid host name (length and letter-digit-hyphen rules)"},
    [SN_COL_COUNTRY] =
        {.name = "country",
         .type = SN_FIELD_STR,
         .format = f_country,
         .help = "ISO 3166-1 alpha-2 country of the address; empty if no database knows it"},
    [SN_COL_CONTINENT] =
        {.name = "continent",
         .type = SN_FIELD_STR,
         .format = f_continent,
         .help = "continent code AF AN AS EU NA OC SA (from the database or the country)"},
    [SN_COL_ASN] = {.name = "asn",
                    .type = SN_FIELD_INT,
                    .format = f_asn,
                    .help = "autonomous system number announcing the address; empty if unknown"},
    [SN_COL_AS_ORG] = {.name = "as_org",
                       .type = SN_FIELD_STR,
                       .format = f_as_org,
                       .help = "organisation of that AS, as the database spells it"},
    [SN_COL_EDU] =
        {.name = "edu",
         .type = SN_FIELD_BOOL,
         .format = f_edu,
         .help = "academic host (PTR public suffix edu or ac./edu. under a country code, or an "
                 "academic AS organisation); empty when neither name nor AS is known"},
    [SN_COL_EDU_SOURCE] = {.name = "edu_source",
                           .type = SN_FIELD_STR,
                           .format = f_edu_source,
                           .help = "which signal made it academic: ptr or as_org"},
    [SN_COL_ADDR_KIND] = {.plain = true,
                          .name = "addr_kind",
                          .type = SN_FIELD_STR,
                          .format = f_addr_kind,
                          .help = "dynamic, static or unknown, judged from the PTR name"},
    [SN_COL_DYN_RULE] = {.name = "dyn_rule",
                         .type = SN_FIELD_STR,
                         .format = f_dyn_rule,
                         .help = "the classifier rule that decided addr_kind"},
    [SN_COL_GEO_SOURCE] = {.name = "geo_source",
                           .type = SN_FIELD_STR,
                           .format = f_geo_source,
                           .help = "database that gave the country (file, type, build date)"},
};

/* ---- the fields probes declare ---- */

/* The table as built (output.h reads it inline), and the sn_probe_count it is for. */
sn_field_t sn_fields_built[SN_FIELDS_MAX];
size_t sn_fields_built_n;
size_t sn_fields_built_for = (size_t)-1; /* no table yet */

/*
 * The value of probe column k: the slot of the probe that ran (UDP first, as
 * for the observed address) and declares the column's name. A formatter has no
 * argument saying which column it writes, so each probe column gets its own
 * small formatter, pf_k, calling this with its k.
 */
static size_t probe_column(size_t k, const sn_result_t *r, char *buf, size_t cap)
{
    const char *name = sn_fields_built[SN_COL_CORE + k].name;
    const sn_probe_result_t *ps[2] = {&r->udp, &r->tcp};
    const sn_field_values_t *vs[2] = {r->udp_values, r->tcp_values};
    for (size_t i = 0; i < 2; i++) {
        if (!probe_ran(ps[i]) || vs[i] == NULL)
            continue;
        int j = sn_probe_field_index(ps[i]->probe, name);
        if (j >= 0 && vs[i]->v[j][0] != '\0') {
            /* A value is NUL-terminated in its slot whatever parse wrote. */
            char v[SN_FIELD_VALUE_CAP];
            memcpy(v, vs[i]->v[j], sizeof v);
            v[sizeof v - 1] = '\0';
            return put_str(buf, cap, v);
        }
    }
    return put_str(buf, cap, "");
}

#define PF(k)                                                                                      \
    static size_t pf_##k(const sn_field_ctx_t *ctx, const sn_result_t *r, char *buf, size_t cap)   \
    {                                                                                              \
        (void)ctx;                                                                                 \
        return probe_column(k, r, buf, cap);                                                       \
    }
/* clang-format off */
PF(0) PF(1) PF(2) PF(3) PF(4) PF(5) PF(6) PF(7)
PF(8) PF(9) PF(10) PF(11) PF(12) PF(13) PF(14) PF(15)
#undef PF

static size_t (*const pf[SN_PROBE_COLUMNS_MAX])(const sn_field_ctx_t *, const sn_result_t *, char *,
                                              size_t) = {
    pf_0, pf_1, pf_2,  pf_3,  pf_4,  pf_5,  pf_6,  pf_7,
    pf_8, pf_9, pf_10, pf_11, pf_12, pf_13, pf_14, pf_15,
};
/* clang-format on */

static bool table_has(const char *name)
{
    for (size_t i = 0; i < sn_fields_built_n; i++)
        if (strcmp(sn_fields_built[i].name, name) == 0)
            return true;
    return false;
}

/* The common columns, then each registered probe's declared fields, once per name. */
void sn_fields_build(void)
{
    memcpy(sn_fields_built, core, sizeof core);
    sn_fields_built_n = SN_COL_CORE;
    for (size_t i = 0; i < sn_probe_count; i++) {
        const sn_probe_t *p = sn_probes[i];
        for (size_t j = 0; j < p->n_fields && j < SN_FIELD_VALUES_MAX; j++) {
            const sn_field_decl_t *d = &p->fields[j];
            if (sn_fields_built_n == SN_FIELDS_MAX || table_has(d->name))
                continue;
            sn_fields_built[sn_fields_built_n] =
                (sn_field_t){.name = d->name,
                             .type = d->type,
                             .help = d->help,
                             .format = pf[sn_fields_built_n - SN_COL_CORE],
                             .decl = d};
            sn_fields_built_n++;
        }
    }
    sn_fields_built_for = sn_probe_count;
}

int sn_field_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sn_field_count; i++)
        if (strcmp(sn_fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

const char *sn_field_type_name(sn_field_type_t t)
{
    switch (t) {
    case SN_FIELD_STR: return "str";
    case SN_FIELD_INT: return "int";
    case SN_FIELD_BOOL: return "bool";
    }
    return "?";
}

void sn_fields_print(FILE *f)
{
    int width = 0;
    for (size_t i = 0; i < sn_field_count; i++) {
        int n = (int)strlen(sn_fields[i].name);
        if (n > width)
            width = n;
    }
    for (size_t i = 0; i < sn_field_count; i++)
        fprintf(f, "%-*s  %-4s  %s\n", width, sn_fields[i].name,
                sn_field_type_name(sn_fields[i].type), sn_fields[i].help);
}
