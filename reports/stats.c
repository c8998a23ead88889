/*
 * The statistics aggregator (see stats.h): adding results, the counts and
 * the RTT histograms, and finishing them into the view.
 *
 * Streaming: every counter is a sum, every distribution a histogram keyed by
 * what it counts (country code, continent, ASN, port, seen-count value, input
 * label), so the cost of a row is a few array increments and hash probes and
 * memory follows the number of distinct keys. Round-trip times go into
 * log-bucket histograms: exact below 128 us, then 64 buckets per power of two,
 * 1728 buckets for the whole uint32 range. Distinct addresses need a set of
 * the addresses themselves; that is the one structure that grows with the
 * number of targets (20 bytes each), and the target set costs more already.
 * Our address as the nodes saw it is counted per distinct IP:port, so one
 * NAT costs one entry however many nodes report it.
 *
 * The "who" statistics (academic, country, continent, dynamic/static, AS,
 * port) are kept twice, over every target and over the alive ones, because a
 * stream cannot know in advance whether anything will be probed: a scan
 * reports over the alive nodes, an annotate run (nothing probed) over all
 * targets, and the population is named in every denominator.
 *
 * What finish derives (series, the Lorenz curve, the input order, our
 * address as the nodes saw it) is computed here; the metric table that turns
 * it into rows is metrics.c, the summary writer summary.c, and the state they
 * share is in stats_int.h.
 */
#include "reports/stats.h"
#include "lib/fnv.h"
#include "reports/stats_int.h"
#include "lib/hashmap.h"
#include "lib/ifaddr.h"
#include "lib/sha256.h"
#include "lib/text.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/classify.h"

#define NO_LABEL UINT32_MAX
#define MAX_LABEL_INDEX (1u << 20) /* first_input beyond this is not a real input */
#define ORG_KEEP 127               /* bytes of an AS organisation kept */
#define MAX_ORDERED_LABELS 4096    /* beyond this, labels keep their first-appearance order */

/* ---- small helpers ------------------------------------------------------ */

static char *dup_n(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Cuts s at max bytes without splitting a UTF-8 sequence. */
static void copy_utf8(char *dst, size_t cap, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    if (n > 0)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

/* ---- the aggregator ----------------------------------------------------- */

/* The classes sn_result_reach_class gives, always reported even when 0. */
static const char *const REACH_CLASSES[] = {"udp+tcp",  "udp+tcp-443",  "udp+tcp-80",  "udp-only",
                                            "tcp-only", "tcp-443-only", "tcp-80-only", "none"};
#define N_REACH_CLASSES (sizeof REACH_CLASSES / sizeof REACH_CLASSES[0])

sn_stats_t *sn_stats_new(void)
{
    sn_stats_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < N_REACH_CLASSES; i++) {
        if (s->n_reach == s->cap_reach) {
            size_t nc = 16;
            reach_count_t *nr = realloc(s->reach, nc * sizeof *nr);
            if (nr == NULL) {
                sn_stats_free(s);
                return NULL;
            }
            s->reach = nr;
            s->cap_reach = nc;
        }
        snprintf(s->reach[s->n_reach].name, sizeof s->reach[0].name, "%s", REACH_CLASSES[i]);
        s->reach[s->n_reach++].count = 0;
    }
    return s;
}

static void who_free(who_t *w)
{
    sn_u64map_free(&w->as_index);
    for (size_t i = 0; i < w->n_as; i++)
        free(w->as[i].org);
    free(w->as);
    free(w->ports);
    sn_u64map_free(&w->inst_index);
    for (size_t i = 0; i < w->n_inst; i++)
        free(w->inst[i].org);
    free(w->inst);
}

static void view_free(sn_stats_t *s)
{
    free(s->out.v);
    memset(&s->out, 0, sizeof s->out);
    free(s->inputs);
    free(s->lx);
    free(s->ly);
    s->inputs = NULL;
    s->lx = s->ly = NULL;
    for (size_t i = 0; i < sizeof s->bars / sizeof s->bars[0]; i++) {
        free(s->bars[i]);
        s->bars[i] = NULL;
    }
}

void sn_stats_free(sn_stats_t *s)
{
    if (s == NULL)
        return;
    sn_addrmap_free(&s->addrs);
    sn_addrmap_free(&s->obs);
    sn_u64map_free(&s->seen);
    free(s->reach);
    who_free(&s->all);
    who_free(&s->live);
    sn_classify_free(s->cls);
    for (size_t k = 0; k < 2; k++)
        for (size_t c = 0; c <= SN_STATS_CONTINENTS; c++)
            free(s->rtt[k][c].b);
    for (size_t i = 0; i < s->n_labels; i++)
        free(s->labels[i].name);
    free(s->labels);
    free(s->label_slots);
    sn_u64map_free(&s->edges);
    for (size_t i = 0; i < SN_STATS_TEXT_COUNT; i++)
        free(s->text[i]);
    for (size_t i = 0; i < s->n_sources; i++)
        free(s->sources[i]);
    free(s->sources);
    for (size_t i = 0; i < s->n_files; i++) {
        free(s->files[i].role);
        free(s->files[i].name);
    }
    free(s->files);
    view_free(s);
    free(s);
}

/* ---- labels (inputs) ---------------------------------------------------- */

/*
 * A label's or an institution's name hashed for lookup: FNV-1a, mixed once more since the
 * label table takes the low bits. Only where a name is looked up depends on it: labels
 * keep their first-appearance order and institutions are sorted when the view is made.
 */
static uint64_t str_hash(const char *s, size_t n)
{
    return sn_u64map_hash(sn_fnv1a64(SN_FNV64_OFFSET, s, n));
}

static uint32_t label_append(sn_stats_t *s, const char *name, size_t n)
{
    if (s->n_labels >= UINT32_MAX - 1)
        return NO_LABEL;
    if (s->n_labels == s->cap_labels) {
        size_t nc = s->cap_labels ? s->cap_labels * 2 : 16;
        label_t *nl = realloc(s->labels, nc * sizeof *nl);
        if (nl == NULL)
            return NO_LABEL;
        s->labels = nl;
        s->cap_labels = nc;
    }
    label_t *l = &s->labels[s->n_labels];
    memset(l, 0, sizeof *l);
    l->name = malloc(n + 1);
    if (l->name == NULL)
        return NO_LABEL;
    memcpy(l->name, name, n);
    l->name[n] = '\0';
    return (uint32_t)s->n_labels++;
}

/* The label named name[0..n), interned (read-back mode). */
static uint32_t label_intern(sn_stats_t *s, const char *name, size_t n)
{
    if ((s->n_labels + 1) * 2 > s->label_slot_cap) {
        size_t nc = s->label_slot_cap ? s->label_slot_cap * 2 : 64;
        uint32_t *ns = calloc(nc, sizeof *ns);
        if (ns == NULL)
            return NO_LABEL;
        for (size_t i = 0; i < s->n_labels; i++) {
            const char *ln = s->labels[i].name;
            size_t j = str_hash(ln, strlen(ln)) & (nc - 1);
            while (ns[j] != 0)
                j = (j + 1) & (nc - 1);
            ns[j] = (uint32_t)i + 1;
        }
        free(s->label_slots);
        s->label_slots = ns;
        s->label_slot_cap = nc;
    }
    size_t j = str_hash(name, n) & (s->label_slot_cap - 1);
    while (s->label_slots[j] != 0) {
        const char *ln = s->labels[s->label_slots[j] - 1].name;
        if (strlen(ln) == n && memcmp(ln, name, n) == 0)
            return s->label_slots[j] - 1;
        j = (j + 1) & (s->label_slot_cap - 1);
    }
    uint32_t id = label_append(s, name, n);
    if (id != NO_LABEL)
        s->label_slots[j] = id + 1;
    return id;
}

/* Scan mode without a target set: input index i, named "input N". */
static uint32_t label_by_index(sn_stats_t *s, uint32_t i)
{
    if (i >= MAX_LABEL_INDEX)
        return NO_LABEL;
    while (s->n_labels <= i) {
        char name[32];
        int n = snprintf(name, sizeof name, "input %zu", s->n_labels + 1);
        if (label_append(s, name, (size_t)n) == NO_LABEL)
            return NO_LABEL;
    }
    s->labels_declared = true;
    return i;
}

/* ---- adding ------------------------------------------------------------- */

static sn_status_t add_target_facts(sn_stats_t *s, const sn_addr_t *addr, uint32_t seen,
                                    uint32_t label)
{
    s->targets++;
    s->listings += seen;
    uint64_t *c = sn_u64map_get(&s->seen, seen, true);
    if (c == NULL)
        return SN_ENOMEM;
    (*c)++;
    sn_addr_t ip = *addr;
    ip.port = 0; /* distinct addresses: IPs, whatever the port */
    if (!sn_addrmap_put(&s->addrs, &ip))
        return SN_ENOMEM;
    if (label != NO_LABEL && label < s->n_labels)
        s->labels[label].first++;
    return SN_OK;
}

sn_status_t sn_stats_set_targets(sn_stats_t *s, const sn_targets_t *ts, uint64_t bad,
                                 sn_error_t *err)
{
    if (s == NULL || ts == NULL)
        return sn_error_set(err, SN_EINVAL, "no statistics or no target set");
    s->from_targets = true;
    s->labels_declared = true;
    s->bad = bad;
    s->bad_known = true;
    size_t ni = sn_targets_input_count(ts);
    for (size_t i = 0; i < ni; i++) {
        const char *name = sn_targets_input_name(ts, i);
        if (name == NULL)
            name = "";
        uint32_t id = label_append(s, name, strlen(name));
        if (id == NO_LABEL)
            return sn_error_set(err, SN_ENOMEM, "out of memory for the statistics' inputs");
        s->labels[id].listings = sn_targets_input_listings(ts, i);
        s->labels[id].listings_known = true;
    }
    size_t n = sn_targets_count(ts);
    for (size_t i = 0; i < n; i++) {
        const sn_target_t *t = sn_targets_at(ts, i);
        uint32_t label = t->first_input < ni ? t->first_input : NO_LABEL;
        if (add_target_facts(s, &t->addr, t->seen_count, label) != SN_OK)
            return sn_error_set(err, SN_ENOMEM, "out of memory for the statistics");
    }
    return SN_OK;
}

static bool ran_alive(const sn_probe_result_t *p)
{
    return p->probe != NULL && p->outcome == SN_OUTCOME_ALIVE;
}

/* One more academic node of the institution called name (copied). */
static sn_status_t inst_add(who_t *w, const char *name)
{
    /* Names are told apart by their hash and then by their text: on a hash
     * collision with another name the next hash in the chain is tried. */
    for (uint64_t h = str_hash(name, strlen(name));; h = sn_u64map_hash(h)) {
        uint64_t *idx = sn_u64map_get(&w->inst_index, h, false);
        if (idx != NULL) {
            if (strcmp(w->inst[*idx].org, name) != 0)
                continue;
            w->inst[*idx].count++;
            w->inst_nodes++;
            return SN_OK;
        }
        if (w->n_inst == w->cap_inst) {
            size_t nc = w->cap_inst ? w->cap_inst * 2 : 16;
            as_entry_t *ni = realloc(w->inst, nc * sizeof *ni);
            if (ni == NULL)
                return SN_ENOMEM;
            w->inst = ni;
            w->cap_inst = nc;
        }
        char *copy = dup_n(name, ORG_KEEP);
        if (copy == NULL || (idx = sn_u64map_get(&w->inst_index, h, true)) == NULL) {
            free(copy);
            return SN_ENOMEM;
        }
        *idx = w->n_inst;
        w->inst[w->n_inst++] = (as_entry_t){.org = copy, .count = 1};
        w->inst_nodes++;
        return SN_OK;
    }
}

/*
 * The institution of an academic node: the registrable domain of its first
 * PTR name when the name made it academic ("cs.ucl.ac.uk" is "ucl.ac.uk"),
 * else its AS organisation; "" when neither is known.
 */
static void institution_of(sn_stats_t *s, const sn_enrichment_t *e, char *out, size_t cap)
{
    out[0] = '\0';
    const char *src = e->cls.edu_source != NULL ? e->cls.edu_source : "";
    if (strcmp(src, "ptr") == 0 && e->ptr[0] != '\0') {
        if (!s->cls_tried) {
            s->cls = sn_classify_new();
            s->cls_tried = true;
        }
        char first[256];
        size_t n = strcspn(e->ptr, " ");
        n = n < sizeof first - 1 ? n : sizeof first - 1;
        memcpy(first, e->ptr, n);
        first[n] = '\0';
        if (sn_classify_registrable(s->cls, first, out, cap))
            return;
    }
    size_t n = strnlen(e->geo.as_org, sizeof e->geo.as_org);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(out, e->geo.as_org, n); /* an organisation kept to ORG_KEEP bytes, as for ASes */
    out[n] = '\0';
}

static sn_status_t who_add(sn_stats_t *s, who_t *w, const sn_result_t *r)
{
    const sn_enrichment_t *e = r->enrich;
    w->n++;
    if (e != NULL && sn_is_upper(e->geo.country[0]) && sn_is_upper(e->geo.country[1]) &&
        e->geo.country[2] == '\0')
        w->country[(e->geo.country[0] - 'A') * 26 + (e->geo.country[1] - 'A')]++;
    else
        w->country_unknown++;
    w->continent[sn_stats_continent_index(e != NULL ? e->geo.continent : NULL)]++;
    if (e != NULL && e->class_known) {
        w->class_known++;
        if (e->cls.edu) {
            w->edu++;
            const char *src = e->cls.edu_source != NULL ? e->cls.edu_source : "";
            if (strcmp(src, "ptr") == 0)
                w->edu_ptr++;
            else if (strcmp(src, "as_org") == 0)
                w->edu_org++;
            char inst[ORG_KEEP + 1];
            institution_of(s, e, inst, sizeof inst);
            if (inst[0] != '\0' && inst_add(w, inst) != SN_OK)
                return SN_ENOMEM;
        }
    }
    unsigned dyn = e != NULL && (unsigned)e->cls.dyn < 3 ? (unsigned)e->cls.dyn : SN_DYN_UNKNOWN;
    w->dyn[dyn]++;
    if (e != NULL && e->geo.asn != 0) {
        w->asn_known++;
        uint64_t *idx = sn_u64map_get(&w->as_index, e->geo.asn, false);
        if (idx == NULL) {
            if (w->n_as == w->cap_as) {
                size_t nc = w->cap_as ? w->cap_as * 2 : 64;
                as_entry_t *na = realloc(w->as, nc * sizeof *na);
                if (na == NULL)
                    return SN_ENOMEM;
                w->as = na;
                w->cap_as = nc;
            }
            if ((idx = sn_u64map_get(&w->as_index, e->geo.asn, true)) == NULL)
                return SN_ENOMEM;
            *idx = w->n_as;
            w->as[w->n_as++] = (as_entry_t){.asn = e->geo.asn};
        }
        as_entry_t *a = &w->as[*idx];
        a->count++;
        if (a->org == NULL && e->geo.as_org[0] != '\0')
            a->org = dup_n(e->geo.as_org, ORG_KEEP);
    } else {
        w->asn_unknown++;
    }
    if (r->target != NULL) {
        if (w->ports == NULL && (w->ports = calloc(65536, sizeof *w->ports)) == NULL)
            return SN_ENOMEM;
        w->ports[r->target->addr.port]++;
    }
    return SN_OK;
}

static int addr_cmp(const sn_addr_t *a, const sn_addr_t *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    int c = memcmp(a->ip, b->ip, sizeof a->ip);
    if (c != 0)
        return c;
    return a->port < b->port ? -1 : a->port > b->port ? 1 : 0;
}

/* True when node a ranks before b: more listings, then the lower address. */
static bool node_before(uint32_t seen_a, const sn_addr_t *a, uint32_t seen_b, const sn_addr_t *b)
{
    if (seen_a != seen_b)
        return seen_a > seen_b;
    return addr_cmp(a, b) < 0;
}

static void top_add(sn_stats_t *s, const sn_result_t *r)
{
    const sn_target_t *t = r->target;
    size_t n = s->n_top;
    if (n == SN_STATS_TOP_NODES &&
        !node_before(t->seen_count, &t->addr, s->top[n - 1].seen_count, &s->top[n - 1].addr))
        return;
    size_t pos = n < SN_STATS_TOP_NODES ? n : n - 1;
    while (pos > 0 && node_before(t->seen_count, &t->addr, s->top[pos - 1].seen_count,
                                  &s->top[pos - 1].addr)) {
        s->top[pos] = s->top[pos - 1];
        pos--;
    }
    if (n < SN_STATS_TOP_NODES)
        s->n_top++;
    sn_stats_node_t *nd = &s->top[pos];
    memset(nd, 0, sizeof *nd);
    nd->addr = t->addr;
    nd->seen_count = t->seen_count;
    snprintf(nd->reach, sizeof nd->reach, "%s",
             r->blocked != NULL ? "blocked" : sn_result_reach_class(r, &(sn_reach_buf_t){0}));
    const sn_enrichment_t *e = r->enrich;
    if (e != NULL) {
        copy_utf8(nd->ptr, sizeof nd->ptr, e->ptr);
        memcpy(nd->country, e->geo.country, sizeof nd->country);
        nd->country[2] = '\0';
        nd->asn = e->geo.asn;
        copy_utf8(nd->as_org, sizeof nd->as_org, e->geo.as_org);
    }
}

static sn_status_t reach_add(sn_stats_t *s, const char *cls)
{
    for (size_t i = 0; i < s->n_reach; i++) {
        if (strcmp(s->reach[i].name, cls) == 0) {
            s->reach[i].count++;
            return SN_OK;
        }
    }
    if (s->n_reach == s->cap_reach) {
        size_t nc = s->cap_reach * 2;
        reach_count_t *nr = realloc(s->reach, nc * sizeof *nr);
        if (nr == NULL)
            return SN_ENOMEM;
        s->reach = nr;
        s->cap_reach = nc;
    }
    snprintf(s->reach[s->n_reach].name, sizeof s->reach[0].name, "%s", cls);
    s->reach[s->n_reach++].count = 1;
    return SN_OK;
}

static bool is_ip(const sn_addr_t *a)
{
    return a->family == AF_INET || a->family == AF_INET6;
}

/*
 * Our address as an alive node saw it: the UDP probe's, else TCP's, as the
 * results writer picks it (reports/fields.c), so that a results file read
 * back (which keeps one address per row) counts the same observations.
 */
static const sn_addr_t *observed_of(const sn_result_t *r)
{
    if (r->udp.probe != NULL && r->udp.outcome != SN_OUTCOME_NONE && is_ip(&r->udp.observed))
        return &r->udp.observed;
    if (r->tcp.probe != NULL && r->tcp.outcome != SN_OUTCOME_NONE && is_ip(&r->tcp.observed))
        return &r->tcp.observed;
    return NULL;
}

/* Everything a result says beyond its target's listing facts; from_scan is
 * false for a row read back from a results file. */
static sn_status_t add_result(sn_stats_t *s, const sn_result_t *r, uint32_t label, bool from_scan)
{
    sn_status_t st = SN_OK;
    s->rows++;
    bool blocked = r->blocked != NULL;
    sn_reach_buf_t cls_buf;
    const char *cls = sn_result_reach_class(r, &cls_buf);
    bool udp = !blocked && ran_alive(&r->udp);
    bool tcp = !blocked && ran_alive(&r->tcp);
    bool alive = udp || tcp;
    if (r->enrich != NULL)
        s->enriched = true;
    if (strcmp(cls, "incomplete") == 0) {
        /* Nothing is known of it yet: counted on its own, in no share. */
        s->incomplete++;
        return SN_OK;
    }
    if (blocked)
        s->blocked++;
    if (cls[0] != '\0') {
        s->probed++;
        if (reach_add(s, cls) != SN_OK)
            st = SN_ENOMEM;
    }
    if (alive)
        s->alive++;
    if (udp)
        s->alive_udp++;
    if (tcp) {
        uint16_t own = r->target->addr.port;
        uint16_t port = r->tcp.port != 0 ? r->tcp.port : own;
        s->alive_tcp++;
        if (port == own)
            s->alive_tcp_own++;
        else if (port == 443)
            s->alive_tcp_443++;
        else if (port == 80)
            s->alive_tcp_80++;
    }
    if (sn_result_sn_eligible(r))
        s->eligible++;
    if (udp && r->udp.reply_from.family != 0)
        s->udp_reply_other++;
    const sn_addr_t *obs = alive ? observed_of(r) : NULL;
    if (obs != NULL) {
        uint64_t *c = sn_addrmap_get(&s->obs, obs, true);
        if (c == NULL) {
            st = SN_ENOMEM;
        } else {
            (*c)++;
            s->obs_n++;
            s->obs_with_port += obs->port != 0;
            if (!from_scan)
                s->obs_read_back = true;
        }
    }
    if (who_add(s, &s->all, r) != SN_OK)
        st = SN_ENOMEM;
    if (alive && who_add(s, &s->live, r) != SN_OK)
        st = SN_ENOMEM;
    size_t ci = sn_stats_continent_index(r->enrich != NULL ? r->enrich->geo.continent : NULL);
    if (udp && (!sn_stats_hist_add(&s->rtt[SN_RTT_UDP][0], r->udp.rtt_us) ||
                !sn_stats_hist_add(&s->rtt[SN_RTT_UDP][1 + ci], r->udp.rtt_us)))
        st = SN_ENOMEM;
    if (tcp && (!sn_stats_hist_add(&s->rtt[SN_RTT_TCP][0], r->tcp.rtt_us) ||
                !sn_stats_hist_add(&s->rtt[SN_RTT_TCP][1 + ci], r->tcp.rtt_us)))
        st = SN_ENOMEM;
    if (alive && label != NO_LABEL && label < s->n_labels)
        s->labels[label].first_alive++;
    top_add(s, r);
    return st;
}

sn_status_t sn_stats_add(sn_stats_t *s, const sn_result_t *r)
{
    if (s == NULL || r == NULL || r->target == NULL)
        return SN_EINVAL;
    const sn_target_t *t = r->target;
    uint32_t label;
    sn_status_t st = SN_OK;
    if (s->from_targets) {
        label = t->first_input < s->n_labels ? t->first_input : NO_LABEL;
    } else {
        label = label_by_index(s, t->first_input);
        st = add_target_facts(s, &t->addr, t->seen_count, label);
    }
    sn_status_t st2 = add_result(s, r, label, true);
    return st != SN_OK ? st : st2;
}

static sn_status_t set_vantage(sn_stats_t *s, const char *vantage)
{
    if (vantage == NULL || vantage[0] == '\0')
        return SN_OK;
    if (s->text[SN_STATS_VANTAGE] == NULL)
        return sn_stats_set_text(s, SN_STATS_VANTAGE, vantage);
    if (strcmp(s->text[SN_STATS_VANTAGE], vantage) != 0)
        s->vantage_mixed = true;
    return SN_OK;
}

sn_status_t sn_stats_add_row(sn_stats_t *s, const sn_result_t *r, const char *sources,
                             const char *vantage)
{
    if (s == NULL || r == NULL || r->target == NULL)
        return SN_EINVAL;
    sn_status_t st = SN_OK;
    uint32_t first = NO_LABEL, prev = NO_LABEL;
    const char *p = sources != NULL ? sources : "";
    while (*p != '\0' && !s->labels_declared) {
        const char *end = strchr(p, ';');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n > 0) {
            uint32_t id = label_intern(s, p, n);
            if (id == NO_LABEL) {
                st = SN_ENOMEM;
                break;
            }
            if (first == NO_LABEL)
                first = id;
            if (prev != NO_LABEL && prev != id &&
                sn_u64map_get(&s->edges, ((uint64_t)prev << 32) | id, true) == NULL)
                st = SN_ENOMEM;
            prev = id;
        }
        p += n;
        if (*p == ';')
            p++;
    }
    if (!s->from_targets) {
        sn_status_t st2 = add_target_facts(s, &r->target->addr, r->target->seen_count, first);
        if (st == SN_OK)
            st = st2;
    }
    if (set_vantage(s, vantage) != SN_OK)
        st = SN_ENOMEM;
    sn_status_t st3 = add_result(s, r, first, false);
    return st != SN_OK ? st : st3;
}

/* ---- metadata ----------------------------------------------------------- */

sn_status_t sn_stats_set_text(sn_stats_t *s, sn_stats_text_t which, const char *value)
{
    if (s == NULL || (unsigned)which >= SN_STATS_TEXT_COUNT)
        return SN_EINVAL;
    char *d = dup_n(value != NULL ? value : "", 65536);
    if (d == NULL)
        return SN_ENOMEM;
    free(s->text[which]);
    s->text[which] = d;
    return SN_OK;
}

void sn_stats_set_time(sn_stats_t *s, int64_t started, int64_t finished)
{
    if (s == NULL)
        return;
    s->started = started;
    s->finished = finished;
}

void sn_stats_set_interrupted(sn_stats_t *s, bool interrupted)
{
    if (s != NULL)
        s->interrupted = interrupted;
}

sn_status_t sn_stats_add_data_source(sn_stats_t *s, const char *credit)
{
    if (s == NULL || credit == NULL)
        return SN_EINVAL;
    char **nv = realloc(s->sources, (s->n_sources + 1) * sizeof *nv);
    if (nv == NULL)
        return SN_ENOMEM;
    s->sources = nv;
    if ((nv[s->n_sources] = dup_n(credit, 4096)) == NULL)
        return SN_ENOMEM;
    s->n_sources++;
    return SN_OK;
}

sn_status_t sn_stats_add_file(sn_stats_t *s, const char *role, const char *path, sn_error_t *err)
{
    if (s == NULL || role == NULL || path == NULL)
        return sn_error_set(err, SN_EINVAL, "no statistics, role or path");
    sn_stats_file_t f = {0};
    if (strcmp(path, "-") != 0) {
        FILE *in = fopen(path, "rb");
        if (in == NULL)
            return sn_error_set(err, SN_EIO, "cannot read %s for its digest: %s", path,
                                strerror(errno));
        sn_sha256_t c;
        sn_sha256_init(&c);
        unsigned char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
            sn_sha256_update(&c, buf, n);
            f.bytes += n;
        }
        bool bad = ferror(in) != 0;
        fclose(in);
        if (bad)
            return sn_error_set(err, SN_EIO, "cannot read %s for its digest", path);
        uint8_t d[32];
        sn_sha256_final(&c, d);
        for (size_t i = 0; i < 32; i++)
            snprintf(f.sha256 + 2 * i, 3, "%02x", d[i]);
    }
    f.role = dup_n(role, 256);
    f.name = dup_n(path, 4096);
    sn_stats_file_t *nv = realloc(s->files, (s->n_files + 1) * sizeof *nv);
    if (f.role == NULL || f.name == NULL || nv == NULL) {
        free(f.role);
        free(f.name);
        if (nv != NULL)
            s->files = nv;
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    s->files = nv;
    s->files[s->n_files++] = f;
    return SN_OK;
}

/* ---- finishing: derived figures ----------------------------------------- */

static int seen_cmp(const void *a, const void *b)
{
    const seen_bin_t *x = a, *y = b;
    return x->value < y->value ? -1 : x->value > y->value ? 1 : 0;
}

/* The seen-count histogram, increasing values. */
static seen_bin_t *seen_bins(const sn_stats_t *s, size_t *n)
{
    seen_bin_t *v = malloc((s->seen.n ? s->seen.n : 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    size_t k = 0, pos = 0;
    while (sn_u64map_next(&s->seen, &pos, &v[k].value, &v[k].count))
        k++;
    qsort(v, k, sizeof *v, seen_cmp);
    *n = k;
    return v;
}

static int bar_cmp(const void *a, const void *b)
{
    const sn_stats_bar_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    /* numeric keys (ASN, port) compare as numbers */
    size_t lx = strlen(x->key), ly = strlen(y->key);
    bool nx = lx > 0 && strspn(x->key, "0123456789") == lx;
    bool ny = ly > 0 && strspn(y->key, "0123456789") == ly;
    if (nx && ny && lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* Kahn's algorithm over the label edges; ties (and cycles) go by first appearance. */
static uint32_t *label_order(const sn_stats_t *s)
{
    size_t n = s->n_labels;
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    if (order == NULL)
        return NULL;
    if (s->labels_declared || s->edges.n == 0 || n > MAX_ORDERED_LABELS) {
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        return order;
    }
    size_t ne = s->edges.n;
    uint32_t *indeg = calloc(n, sizeof *indeg), *start = calloc(n + 1, sizeof *start);
    uint32_t *adj = malloc(ne * sizeof *adj), *fill = calloc(n, sizeof *fill);
    bool *done = calloc(n, sizeof *done);
    if (indeg == NULL || start == NULL || adj == NULL || fill == NULL || done == NULL) {
        free(order);
        order = NULL;
        goto out;
    }
    uint64_t k;
    for (size_t pos = 0; sn_u64map_next(&s->edges, &pos, &k, NULL);) {
        start[(k >> 32) + 1]++;
        indeg[k & 0xffffffffu]++;
    }
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    for (size_t pos = 0; sn_u64map_next(&s->edges, &pos, &k, NULL);) {
        uint32_t a = (uint32_t)(k >> 32);
        adj[start[a] + fill[a]++] = (uint32_t)(k & 0xffffffffu);
    }
    /* O(n^2) selection of the lowest ready label: inputs number in the hundreds. */
    for (size_t out = 0; out < n; out++) {
        size_t pick = n;
        for (size_t i = 0; i < n; i++) {
            if (!done[i] && indeg[i] == 0) {
                pick = i;
                break;
            }
        }
        if (pick == n) { /* a cycle: take the earliest label left */
            for (size_t i = 0; i < n && pick == n; i++)
                if (!done[i])
                    pick = i;
        }
        done[pick] = true;
        order[out] = (uint32_t)pick;
        for (uint32_t e = start[pick]; e < start[pick + 1]; e++)
            if (indeg[adj[e]] > 0)
                indeg[adj[e]]--;
    }
out:
    free(indeg);
    free(start);
    free(adj);
    free(fill);
    free(done);
    return order;
}

/* ---- finishing ---------------------------------------------------------- */

static sn_status_t make_series(sn_stats_t *s, size_t slot, sn_stats_series_t *out, size_t n_max,
                               const char *den, uint64_t total)
{
    free(s->bars[slot]);
    s->bars[slot] = calloc(n_max ? n_max : 1, sizeof(sn_stats_bar_t));
    out->v = s->bars[slot];
    out->n = 0;
    out->total = total;
    out->denominator = den;
    return out->v != NULL ? SN_OK : SN_ENOMEM;
}

static void series_sort(sn_stats_series_t *se, size_t keep)
{
    qsort(se->v, se->n, sizeof *se->v, bar_cmp);
    if (se->n > keep)
        se->n = keep;
}

static sn_status_t build_series(sn_stats_t *s, const who_t *w, const char *pop)
{
    sn_stats_view_t *v = &s->view;
    size_t n_ports = 0;
    if (w->ports != NULL)
        for (size_t p = 0; p < 65536; p++)
            n_ports += w->ports[p] != 0;
    if (make_series(s, 0, &v->reach, s->n_reach, "probed", s->probed) != SN_OK ||
        make_series(s, 1, &v->continents, SN_STATS_CONTINENTS, pop, w->n) != SN_OK ||
        make_series(s, 2, &v->countries, 26 * 26 + 1, pop, w->n) != SN_OK ||
        make_series(s, 3, &v->asns, w->n_as, "asn.known", w->asn_known) != SN_OK ||
        make_series(s, 4, &v->ports, n_ports, pop, w->n) != SN_OK ||
        make_series(s, 5, &v->institutions, w->n_inst, "edu", w->inst_nodes) != SN_OK)
        return SN_ENOMEM;
    for (size_t i = 0; i < s->n_reach; i++) {
        sn_stats_bar_t *b = &v->reach.v[v->reach.n++];
        snprintf(b->key, sizeof b->key, "%s", s->reach[i].name);
        b->count = s->reach[i].count;
    }
    /* keep the fixed class order; the chart reads it as a legend */
    for (size_t i = 0; i < SN_STATS_CONTINENTS; i++) {
        sn_stats_bar_t *b = &v->continents.v[v->continents.n++];
        snprintf(b->key, sizeof b->key, "%s",
                 i + 1 < SN_STATS_CONTINENTS ? sn_stats_continent_code(i) : "unknown");
        b->label = sn_stats_continent_name(sn_stats_continent_code(i));
        b->count = w->continent[i];
    }
    series_sort(&v->continents, SN_STATS_CONTINENTS);
    for (size_t i = 0; i < 26 * 26; i++) {
        if (w->country[i] == 0)
            continue;
        sn_stats_bar_t *b = &v->countries.v[v->countries.n++];
        b->key[0] = (char)('A' + i / 26);
        b->key[1] = (char)('A' + i % 26);
        b->key[2] = '\0';
        b->count = w->country[i];
    }
    series_sort(&v->countries, 26 * 26);
    if (w->country_unknown > 0) {
        sn_stats_bar_t *b = &v->countries.v[v->countries.n++];
        snprintf(b->key, sizeof b->key, "unknown");
        b->count = w->country_unknown;
    }
    for (size_t i = 0; i < w->n_as; i++) {
        sn_stats_bar_t *b = &v->asns.v[v->asns.n++];
        snprintf(b->key, sizeof b->key, "%" PRIu32, w->as[i].asn);
        b->label = w->as[i].org;
        b->count = w->as[i].count;
    }
    series_sort(&v->asns, 10);
    if (w->ports != NULL) {
        for (size_t p = 0; p < 65536; p++) {
            if (w->ports[p] == 0)
                continue;
            sn_stats_bar_t *b = &v->ports.v[v->ports.n++];
            snprintf(b->key, sizeof b->key, "%zu", p);
            b->count = w->ports[p];
        }
    }
    series_sort(&v->ports, 10);
    /* Institutions: the key is a rank (names can be long); the label is the name. */
    for (size_t i = 0; i < w->n_inst; i++) {
        sn_stats_bar_t *b = &v->institutions.v[v->institutions.n++];
        snprintf(b->key, sizeof b->key, "%s", w->inst[i].org);
        b->label = w->inst[i].org;
        b->count = w->inst[i].count;
    }
    series_sort(&v->institutions, 10);
    return SN_OK;
}

static sn_status_t build_lorenz(sn_stats_t *s, const seen_bin_t *bins, size_t nb)
{
    s->lx = malloc((nb + 1) * sizeof *s->lx);
    s->ly = malloc((nb + 1) * sizeof *s->ly);
    if (s->lx == NULL || s->ly == NULL)
        return SN_ENOMEM;
    size_t k = 0;
    s->lx[k] = s->ly[k] = 0;
    k++;
    uint64_t nodes = 0, sum = 0;
    for (size_t i = 0; i < nb && s->targets > 0 && s->listings > 0; i++) {
        nodes += bins[i].count;
        sum += bins[i].count * bins[i].value;
        s->lx[k] = (double)nodes / (double)s->targets;
        s->ly[k] = (double)sum / (double)s->listings;
        k++;
    }
    s->view.lorenz_x = s->lx;
    s->view.lorenz_y = s->ly;
    s->view.n_lorenz = k;
    return SN_OK;
}

static sn_status_t build_inputs(sn_stats_t *s)
{
    uint32_t *order = label_order(s);
    s->inputs = calloc(s->n_labels ? s->n_labels : 1, sizeof *s->inputs);
    if (order == NULL || s->inputs == NULL) {
        free(order);
        return SN_ENOMEM;
    }
    uint64_t cum = 0, cum_alive = 0;
    for (size_t i = 0; i < s->n_labels; i++) {
        const label_t *l = &s->labels[order[i]];
        sn_stats_input_t *in = &s->inputs[i];
        cum += l->first;
        cum_alive += l->first_alive;
        *in = (sn_stats_input_t){.name = l->name,
                                 .listings = l->listings,
                                 .listings_known = l->listings_known,
                                 .new_targets = l->first,
                                 .new_alive = l->first_alive,
                                 .cum_targets = cum,
                                 .cum_alive = cum_alive};
    }
    free(order);
    s->view.inputs = s->inputs;
    s->view.n_inputs = s->n_labels;
    return SN_OK;
}

/* An observed endpoint and the alive nodes that saw us there. */
typedef struct addrcount {
    sn_addr_t a;
    uint64_t n;
} addrcount_t;

static int addrcount_cmp(const void *a, const void *b)
{
    return addr_cmp(&((const addrcount_t *)a)->a, &((const addrcount_t *)b)->a);
}

/*
 * Our address as the nodes saw it: distinct IPs and IP:port pairs, the most
 * common IP (ties: the lower address), whether it is ours, and the NAT's
 * mapping. Sorting the distinct endpoints puts each IP's ports together.
 */
static sn_status_t build_observed(sn_stats_t *s)
{
    s->obs_distinct_ip = s->obs_distinct_ip_port = s->obs_top_n = 0;
    s->obs_top[0] = '\0';
    s->obs_local = -1;
    s->obs_mapping = "unknown";
    addrcount_t *v = malloc((s->obs.n ? s->obs.n : 1) * sizeof *v);
    if (v == NULL)
        return SN_ENOMEM;
    size_t n = 0;
    for (size_t pos = 0; sn_addrmap_next(&s->obs, &pos, &v[n].a, &v[n].n);)
        n++;
    qsort(v, n, sizeof *v, addrcount_cmp);
    sn_addr_t top;
    memset(&top, 0, sizeof top);
    for (size_t i = 0; i < n;) {
        uint64_t sum = 0;
        size_t j = i;
        for (; j < n && sn_addr_same_ip(&v[j].a, &v[i].a); j++) {
            sum += v[j].n;
            s->obs_distinct_ip_port += v[j].a.port != 0;
        }
        s->obs_distinct_ip++;
        if (sum > s->obs_top_n) {
            s->obs_top_n = sum;
            top = v[i].a;
        }
        i = j;
    }
    free(v);
    if (s->obs_top_n > 0) {
        sn_addr_format(&top, s->obs_top, sizeof s->obs_top, false);
        /* read back, the machine reading may not be the one that scanned */
        if (!s->obs_read_back)
            s->obs_local = sn_ifaddr_is_local(&top);
    }
    if (s->obs_with_port >= 2)
        s->obs_mapping = s->obs_distinct_ip_port == 1 ? "endpoint-independent" : "varies";
    return SN_OK;
}

sn_status_t sn_stats_finish(sn_stats_t *s, sn_error_t *err)
{
    if (s == NULL)
        return sn_error_set(err, SN_EINVAL, "no statistics");
    view_free(s);
    memset(&s->view, 0, sizeof s->view);
    s->finished_once = true;
    build_t b = {.s = s};
    b.w = s->probed > 0 ? &s->live : &s->all;
    b.pop = s->probed > 0 ? "alive" : "targets";

    seen_bin_t *bins = seen_bins(s, &b.n_bins);
    b.bins = bins;
    sn_status_t st = bins == NULL ? SN_ENOMEM : SN_OK;
    if (st == SN_OK)
        st = build_series(s, b.w, b.pop);
    if (st == SN_OK)
        st = build_lorenz(s, bins, b.n_bins);
    if (st == SN_OK)
        st = build_inputs(s);
    if (st == SN_OK)
        st = build_observed(s);
    if (st == SN_OK) {
        sn_stats_metrics_run(&b);
        if (s->out.oom)
            st = SN_ENOMEM;
    }
    free(bins);
    sn_stats_view_t *v = &s->view;
    v->rows = s->out.v;
    v->n_rows = s->out.n;
    v->population = b.pop;
    v->population_n = b.w->n;
    v->top_nodes = s->top;
    v->n_top_nodes = s->n_top;
    v->files = s->files;
    v->n_files = s->n_files;
    v->data_sources = (const char *const *)s->sources;
    v->n_data_sources = s->n_sources;
    for (size_t i = 0; i < SN_STATS_TEXT_COUNT; i++)
        v->text[i] = s->text[i] != NULL ? s->text[i] : "";
    v->vantage_mixed = s->vantage_mixed;
    v->started = s->started;
    v->finished = s->finished;
    v->interrupted = s->interrupted;
    v->enriched = s->enriched;
    if (st != SN_OK)
        return sn_error_set(err, st, "out of memory computing the statistics");
    return SN_OK;
}

const sn_stats_view_t *sn_stats_view(const sn_stats_t *s)
{
    return s != NULL && s->finished_once ? &s->view : NULL;
}

const sn_stats_row_t *sn_stats_find(const sn_stats_t *s, const char *name)
{
    if (s == NULL || name == NULL || !s->finished_once)
        return NULL;
    for (size_t i = 0; i < s->out.n; i++)
        if (strcmp(s->out.v[i].name, name) == 0)
            return &s->out.v[i];
    return NULL;
}

/* ---- RTT accessors ------------------------------------------------------ */

static const rtt_hist_t *hist_of(const sn_stats_t *s, int kind, const char *continent)
{
    if (s == NULL || (kind != SN_RTT_UDP && kind != SN_RTT_TCP))
        return NULL;
    if (continent == NULL)
        return &s->rtt[kind][0];
    return &s->rtt[kind][1 + sn_stats_continent_index(continent)];
}

bool sn_stats_rtt_quantile(const sn_stats_t *s, int kind, const char *continent, unsigned permille,
                           uint32_t *out_us)
{
    const rtt_hist_t *h = hist_of(s, kind, continent);
    return h != NULL && out_us != NULL && sn_stats_hist_quantile(h, permille, out_us);
}

uint64_t sn_stats_rtt_count(const sn_stats_t *s, int kind, const char *continent)
{
    const rtt_hist_t *h = hist_of(s, kind, continent);
    return h != NULL ? h->n : 0;
}

size_t sn_stats_rtt_cdf(const sn_stats_t *s, int kind, const char *continent, double *x_us,
                        double *y, size_t cap)
{
    const rtt_hist_t *h = hist_of(s, kind, continent);
    return h != NULL ? sn_stats_hist_cdf(h, x_us, y, cap) : 0;
}
