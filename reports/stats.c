/*
 * The statistics aggregator (see stats.h) and the summary writers.
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
 * The metric table below is the one place where each statistic is defined:
 * its name, its unit, its denominator, how its value is computed and what it
 * means. sn_stats_finish walks it once into rows; the summary CSV/NDJSON and
 * the HTML report only print rows. The studies' figures are a second small
 * table keyed by metric name, so a series (country.*.share) can carry a figure
 * for one key (US) only.
 *
 * The digests of the files a scan read come from lib/sha256.
 */
#include "reports/stats.h"
#include "lib/addr.h"
#include "lib/fnv.h"
#include "lib/sha256.h"
#include "lib/text.h"

#include <errno.h>
#include <ifaddrs.h>
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

/* ---- small containers --------------------------------------------------- */

/* The splitmix64 step: the golden-ratio increment, then the one finaliser
 * (lib/addr.h). The same values as before, so every table's order is kept. */
static uint64_t mix64(uint64_t x)
{
    return sn_mix64(x + UINT64_C(0x9e3779b97f4a7c15));
}

/* Open addressing from uint64 to uint64; UINT64_MAX is the empty key. */
typedef struct u64map {
    uint64_t *k, *v;
    size_t cap, n;
} u64map_t;

static void map_free(u64map_t *m)
{
    free(m->k);
    free(m->v);
    memset(m, 0, sizeof *m);
}

static bool map_grow(u64map_t *m)
{
    size_t nc = m->cap ? m->cap * 2 : 64;
    uint64_t *nk = malloc(nc * sizeof *nk), *nv = calloc(nc, sizeof *nv);
    if (nk == NULL || nv == NULL) {
        free(nk);
        free(nv);
        return false;
    }
    memset(nk, 0xff, nc * sizeof *nk);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->k[i] == UINT64_MAX)
            continue;
        size_t j = mix64(m->k[i]) & (nc - 1);
        while (nk[j] != UINT64_MAX)
            j = (j + 1) & (nc - 1);
        nk[j] = m->k[i];
        nv[j] = m->v[i];
    }
    free(m->k);
    free(m->v);
    m->k = nk;
    m->v = nv;
    m->cap = nc;
    return true;
}

/* The value slot of key, inserted as 0 when absent (insert) or NULL. */
static uint64_t *map_get(u64map_t *m, uint64_t key, bool insert)
{
    if (key == UINT64_MAX)
        return NULL;
    if (insert && (m->n + 1) * 4 > m->cap * 3 && !map_grow(m))
        return NULL;
    if (m->cap == 0)
        return NULL;
    size_t j = mix64(key) & (m->cap - 1);
    while (m->k[j] != UINT64_MAX) {
        if (m->k[j] == key)
            return &m->v[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (!insert)
        return NULL;
    m->k[j] = key;
    m->v[j] = 0;
    m->n++;
    return &m->v[j];
}

/* A set of IP addresses (port ignored); family 0 marks an empty slot. */
typedef struct addrset {
    sn_addr_t *v;
    size_t cap, n;
} addrset_t;

static bool addrset_put(addrset_t *a, const sn_addr_t *in)
{
    sn_addr_t key = *in;
    key.port = 0;
    key.pad_ = 0;
    if (key.family == 0)
        return true;
    if ((a->n + 1) * 4 > a->cap * 3) {
        size_t nc = a->cap ? a->cap * 2 : 256;
        sn_addr_t *nv = calloc(nc, sizeof *nv);
        if (nv == NULL)
            return false;
        for (size_t i = 0; i < a->cap; i++) {
            if (a->v[i].family == 0)
                continue;
            size_t j = sn_addr_hash(&a->v[i], 0) & (nc - 1);
            while (nv[j].family != 0)
                j = (j + 1) & (nc - 1);
            nv[j] = a->v[i];
        }
        free(a->v);
        a->v = nv;
        a->cap = nc;
    }
    size_t j = sn_addr_hash(&key, 0) & (a->cap - 1);
    while (a->v[j].family != 0) {
        if (memcmp(&a->v[j], &key, sizeof key) == 0)
            return true;
        j = (j + 1) & (a->cap - 1);
    }
    a->v[j] = key;
    a->n++;
    return true;
}

/*
 * Counts per endpoint (IP and port; port 0 is "no port said"), open
 * addressing, family 0 marks an empty slot. It holds our address as the
 * nodes saw it: behind one NAT that is one key, behind an address-dependent
 * one a key per node at worst, so it grows with distinct keys only.
 */
typedef struct addrcount {
    sn_addr_t a;
    uint64_t n;
} addrcount_t;

typedef struct addrcounts {
    addrcount_t *v;
    size_t cap, n;
} addrcounts_t;

static bool addrcounts_add(addrcounts_t *m, const sn_addr_t *in)
{
    sn_addr_t key;
    memset(&key, 0, sizeof key);
    key.family = in->family;
    key.port = in->port;
    memcpy(key.ip, in->ip, in->family == AF_INET ? 4 : 16);
    if ((m->n + 1) * 4 > m->cap * 3) {
        size_t nc = m->cap ? m->cap * 2 : 16;
        addrcount_t *nv = calloc(nc, sizeof *nv);
        if (nv == NULL)
            return false;
        for (size_t i = 0; i < m->cap; i++) {
            if (m->v[i].a.family == 0)
                continue;
            size_t j = sn_addr_hash(&m->v[i].a, 0) & (nc - 1);
            while (nv[j].a.family != 0)
                j = (j + 1) & (nc - 1);
            nv[j] = m->v[i];
        }
        free(m->v);
        m->v = nv;
        m->cap = nc;
    }
    size_t j = sn_addr_hash(&key, 0) & (m->cap - 1);
    while (m->v[j].a.family != 0) {
        if (memcmp(&m->v[j].a, &key, sizeof key) == 0) {
            m->v[j].n++;
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->v[j].a = key;
    m->v[j].n = 1;
    m->n++;
    return true;
}

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

/* ---- round-trip time histograms ----------------------------------------- */

#define RTT_EXACT 128u
#define RTT_SUB 64u
#define RTT_NB (RTT_EXACT + (32u - 7u) * RTT_SUB)

typedef struct rtt_hist {
    uint64_t n;
    uint32_t min, max;
    uint64_t *b; /* RTT_NB counts, allocated at the first sample */
} rtt_hist_t;

static unsigned rtt_bucket(uint32_t v)
{
    if (v < RTT_EXACT)
        return v;
    unsigned e = 31u - (unsigned)__builtin_clz(v); /* 7..31 */
    return RTT_EXACT + (e - 7u) * RTT_SUB + ((v >> (e - 6u)) & (RTT_SUB - 1u));
}

static uint32_t bucket_lo(unsigned b)
{
    if (b < RTT_EXACT)
        return b;
    unsigned e = 7u + (b - RTT_EXACT) / RTT_SUB, m = (b - RTT_EXACT) % RTT_SUB;
    return (uint32_t)((1u << e) + (m << (e - 6u)));
}

static uint32_t bucket_hi(unsigned b) /* inclusive */
{
    if (b < RTT_EXACT)
        return b;
    unsigned e = 7u + (b - RTT_EXACT) / RTT_SUB;
    return bucket_lo(b) + ((1u << (e - 6u)) - 1u);
}

static bool rtt_add(rtt_hist_t *h, uint32_t v)
{
    if (h->b == NULL && (h->b = calloc(RTT_NB, sizeof *h->b)) == NULL)
        return false;
    if (h->n == 0 || v < h->min)
        h->min = v;
    if (h->n == 0 || v > h->max)
        h->max = v;
    h->n++;
    h->b[rtt_bucket(v)]++;
    return true;
}

static bool rtt_quantile(const rtt_hist_t *h, unsigned permille, uint32_t *out)
{
    if (h->n == 0 || h->b == NULL || permille == 0 || permille > 1000)
        return false;
    /* Nearest rank: the smallest sample with at least ceil(p * n) samples at or below it. */
    uint64_t rank = (h->n * permille + 999u) / 1000u, cum = 0;
    for (unsigned b = 0; b < RTT_NB; b++) {
        cum += h->b[b];
        if (cum < rank)
            continue;
        uint32_t lo = bucket_lo(b), hi = bucket_hi(b);
        uint32_t v = lo + (hi - lo) / 2u;
        if (v < h->min)
            v = h->min;
        if (v > h->max)
            v = h->max;
        *out = v;
        return true;
    }
    return false;
}

/* ---- the aggregator ----------------------------------------------------- */

typedef struct as_entry {
    uint32_t asn;
    uint64_t count;
    char *org;
} as_entry_t;

/* Who the nodes of one population are. */
typedef struct who {
    uint64_t n;
    uint64_t country[26 * 26];
    uint64_t country_unknown;
    uint64_t continent[SN_STATS_CONTINENTS];
    uint64_t class_known, edu, edu_ptr, edu_org;
    uint64_t dyn[3];   /* sn_dyn_t */
    u64map_t as_index; /* asn -> index into as[] */
    as_entry_t *as;
    size_t n_as, cap_as;
    uint64_t asn_known, asn_unknown;
    uint32_t *ports; /* 65536 counts, allocated at the first node */
    /* academic institutions: registrable domain of the PTR name, else the AS organisation */
    u64map_t inst_index; /* hash of the name -> index into inst[] */
    as_entry_t *inst;    /* .org is the name, .count its academic nodes */
    size_t n_inst, cap_inst;
    uint64_t inst_nodes; /* academic nodes with an institution name */
} who_t;

typedef struct label {
    char *name;
    uint64_t first, first_alive;
    uint64_t listings;
    bool listings_known;
} label_t;

typedef struct reach_count {
    char name[24];
    uint64_t count;
} reach_count_t;

typedef struct rows {
    sn_stats_row_t *v;
    size_t n, cap;
    bool oom;
} rows_t;

struct sn_stats {
    /* target-level facts */
    bool from_targets; /* sn_stats_set_targets was called */
    uint64_t listings, targets, bad;
    bool bad_known;
    addrset_t addrs;
    u64map_t seen; /* seen_count -> targets */
    /* result-level counters */
    uint64_t incomplete; /* cut short by a stop: in no denominator */
    uint64_t rows, blocked, probed, alive, alive_udp, alive_tcp, alive_tcp_own, alive_tcp_443,
        alive_tcp_80, eligible;
    reach_count_t *reach;
    size_t n_reach, cap_reach;
    who_t all, live;
    rtt_hist_t rtt[2][1 + SN_STATS_CONTINENTS];
    bool enriched;
    /* NAT signals: replies from elsewhere, our address as the nodes saw it */
    uint64_t udp_reply_other;
    addrcounts_t obs; /* observed endpoint (port 0: not said) -> alive nodes */
    uint64_t obs_n, obs_with_port;
    bool obs_read_back; /* an observation came from a results file */
    /* ... and what finish derives from them */
    uint64_t obs_distinct_ip, obs_distinct_ip_port, obs_top_n;
    char obs_top[SN_ADDR_STRLEN]; /* the most common observed IP; "" when none */
    int obs_local;                /* 1, 0, -1 unknown */
    const char *obs_mapping;
    /* inputs / labels */
    label_t *labels;
    size_t n_labels, cap_labels;
    bool labels_declared;  /* scan mode: labels are the inputs, in order */
    uint32_t *label_slots; /* interning: index + 1, 0 empty */
    size_t label_slot_cap;
    u64map_t edges; /* (a << 32 | b): label a came before b in some row */
    /* most-listed nodes */
    sn_stats_node_t top[SN_STATS_TOP_NODES];
    size_t n_top;
    /* metadata */
    char *text[SN_STATS_TEXT_COUNT];
    bool vantage_mixed;
    int64_t started, finished;
    bool interrupted;
    char **sources;
    size_t n_sources;
    sn_stats_file_t *files;
    size_t n_files;
    char started_iso[32], finished_iso[32];
    /* the finished view */
    bool finished_once;
    sn_stats_view_t view;
    rows_t out;
    sn_stats_input_t *inputs;
    double *lx, *ly;
    sn_stats_bar_t *bars[6];
    sn_classify_t *cls; /* the suffix list, for institutions' registrable domains */
    bool cls_tried;
};

static const char *const CONTINENTS[SN_STATS_CONTINENTS] = {"AF", "AN", "AS", "EU",
                                                            "NA", "OC", "SA", ""};
static const char *const CONTINENT_NAMES[SN_STATS_CONTINENTS] = {
    "Africa",        "Antarctica", "Asia",          "Europe",
    "North America", "Oceania",    "South America", "unknown"};

/* The classes sn_result_reach_class gives, always reported even when 0. */
static const char *const REACH_CLASSES[] = {"udp+tcp",  "udp+tcp-443",  "udp+tcp-80",  "udp-only",
                                            "tcp-only", "tcp-443-only", "tcp-80-only", "none"};
#define N_REACH_CLASSES (sizeof REACH_CLASSES / sizeof REACH_CLASSES[0])

const char *sn_stats_continent_code(size_t i)
{
    return i < SN_STATS_CONTINENTS ? CONTINENTS[i] : "";
}

const char *sn_stats_continent_name(const char *code)
{
    for (size_t i = 0; i + 1 < SN_STATS_CONTINENTS; i++)
        if (code != NULL && strcmp(code, CONTINENTS[i]) == 0)
            return CONTINENT_NAMES[i];
    return "unknown";
}

static size_t continent_index(const char *code)
{
    for (size_t i = 0; i + 1 < SN_STATS_CONTINENTS; i++)
        if (code != NULL && strcmp(code, CONTINENTS[i]) == 0)
            return i;
    return SN_STATS_CONTINENTS - 1;
}

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
    map_free(&w->as_index);
    for (size_t i = 0; i < w->n_as; i++)
        free(w->as[i].org);
    free(w->as);
    free(w->ports);
    map_free(&w->inst_index);
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
    free(s->addrs.v);
    free(s->obs.v);
    map_free(&s->seen);
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
    map_free(&s->edges);
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

static uint64_t str_hash(const char *s, size_t n)
{
    /* FNV-1a from this file's historical basis (not the standard one): kept so
     * that the label tables hash, and so list, exactly as before. */
    return mix64(sn_fnv1a64(UINT64_C(1469598103934665603), s, n));
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
    uint64_t *c = map_get(&s->seen, seen, true);
    if (c == NULL)
        return SN_ENOMEM;
    (*c)++;
    if (!addrset_put(&s->addrs, addr))
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

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* One more academic node of the institution called name (copied). */
static sn_status_t inst_add(who_t *w, const char *name)
{
    /* Names are told apart by their hash and then by their text: on a hash
     * collision with another name the next hash in the chain is tried. */
    for (uint64_t h = str_hash(name, strlen(name));; h = mix64(h)) {
        uint64_t *idx = map_get(&w->inst_index, h, false);
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
        if (copy == NULL || (idx = map_get(&w->inst_index, h, true)) == NULL) {
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
    if (e != NULL && is_upper(e->geo.country[0]) && is_upper(e->geo.country[1]) &&
        e->geo.country[2] == '\0')
        w->country[(e->geo.country[0] - 'A') * 26 + (e->geo.country[1] - 'A')]++;
    else
        w->country_unknown++;
    w->continent[continent_index(e != NULL ? e->geo.continent : NULL)]++;
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
        uint64_t *idx = map_get(&w->as_index, e->geo.asn, false);
        if (idx == NULL) {
            if (w->n_as == w->cap_as) {
                size_t nc = w->cap_as ? w->cap_as * 2 : 64;
                as_entry_t *na = realloc(w->as, nc * sizeof *na);
                if (na == NULL)
                    return SN_ENOMEM;
                w->as = na;
                w->cap_as = nc;
            }
            if ((idx = map_get(&w->as_index, e->geo.asn, true)) == NULL)
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
        if (!addrcounts_add(&s->obs, obs)) {
            st = SN_ENOMEM;
        } else {
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
    size_t ci = continent_index(r->enrich != NULL ? r->enrich->geo.continent : NULL);
    if (udp && (!rtt_add(&s->rtt[SN_RTT_UDP][0], r->udp.rtt_us) ||
                !rtt_add(&s->rtt[SN_RTT_UDP][1 + ci], r->udp.rtt_us)))
        st = SN_ENOMEM;
    if (tcp && (!rtt_add(&s->rtt[SN_RTT_TCP][0], r->tcp.rtt_us) ||
                !rtt_add(&s->rtt[SN_RTT_TCP][1 + ci], r->tcp.rtt_us)))
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
                map_get(&s->edges, ((uint64_t)prev << 32) | id, true) == NULL)
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

typedef struct seen_bin {
    uint64_t value, count;
} seen_bin_t;

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
    size_t k = 0;
    for (size_t i = 0; i < s->seen.cap; i++)
        if (s->seen.k[i] != UINT64_MAX)
            v[k++] = (seen_bin_t){s->seen.k[i], s->seen.v[i]};
    qsort(v, k, sizeof *v, seen_cmp);
    *n = k;
    return v;
}

/* Listings held by the k most-listed targets. */
static uint64_t top_listings(const seen_bin_t *b, size_t nb, uint64_t k)
{
    uint64_t sum = 0;
    for (size_t i = nb; i-- > 0 && k > 0;) {
        uint64_t take = b[i].count < k ? b[i].count : k;
        sum += take * b[i].value;
        k -= take;
    }
    return sum;
}

/* Share of listings held by the least-listed fraction p of targets (linear within a value). */
static double lorenz_at(const seen_bin_t *b, size_t nb, uint64_t n, uint64_t total, double p)
{
    if (n == 0 || total == 0)
        return 0;
    double want = p * (double)n, nodes = 0, sum = 0;
    for (size_t i = 0; i < nb; i++) {
        double c = (double)b[i].count;
        if (nodes + c >= want) {
            sum += (want - nodes) * (double)b[i].value;
            return sum / (double)total;
        }
        nodes += c;
        sum += c * (double)b[i].value;
    }
    return sum / (double)total;
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
    for (size_t i = 0; i < s->edges.cap; i++) {
        uint64_t k = s->edges.k[i];
        if (k == UINT64_MAX)
            continue;
        start[(k >> 32) + 1]++;
        indeg[k & 0xffffffffu]++;
    }
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    for (size_t i = 0; i < s->edges.cap; i++) {
        uint64_t k = s->edges.k[i];
        if (k == UINT64_MAX)
            continue;
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

/* ---- the metric table --------------------------------------------------- */

typedef struct build {
    sn_stats_t *s;
    const who_t *w;  /* the population */
    const char *pop; /* its name */
    const seen_bin_t *bins;
    size_t n_bins;
} build_t;

struct mdef;
typedef void (*mfn_t)(build_t *b, const struct mdef *d);

typedef struct mdef {
    const char *name; /* '*' stands for the key of a series */
    sn_stats_unit_t unit;
    const char *den; /* denominator; '*' as in name; "@pop" is the population */
    mfn_t fn;
    size_t off, off2; /* fields for the generic value functions */
    bool headline;
    const char *help;
} mdef_t;

/* The studies' figures, by metric name. */
static const struct {
    const char *metric, *figure;
} STUDIES[] = {
    {"edu.share", "35% (.edu)"},
    {"edu.institutions", "102 universities"},
    {"country.US.share", "83.7%"},
    {"continent.AS.share", "8.9%"},
    {"continent.EU.share", "7.1%"},
    {"addr_kind.dynamic.share", "58%"},
    {"port_top.share", "0.86% (a hard-coded node's port; 0.34% otherwise)"},
    {"seen.top20.share", "43.8%"},
    {"seen.top100.share", "70.5%"},
    {"seen.top10pct.share", "about 80%"},
};

static const char *study_of(const char *metric)
{
    for (size_t i = 0; i < sizeof STUDIES / sizeof STUDIES[0]; i++)
        if (strcmp(STUDIES[i].metric, metric) == 0)
            return STUDIES[i].figure;
    return NULL;
}

/* Writes pattern with '*' replaced by key (and "@pop" by pop) into out. */
static void subst(char *out, size_t cap, const char *pattern, const char *key, const char *pop)
{
    size_t o = 0;
    for (const char *p = pattern; *p != '\0' && o + 1 < cap; p++) {
        const char *ins = NULL;
        if (*p == '*')
            ins = key != NULL ? key : "";
        else if (strncmp(p, "@pop", 4) == 0) {
            ins = pop;
            p += 3;
        }
        if (ins == NULL) {
            out[o++] = *p;
            continue;
        }
        size_t n = strlen(ins);
        if (n > cap - 1 - o)
            n = cap - 1 - o;
        memcpy(out + o, ins, n);
        o += n;
    }
    out[o] = '\0';
}

static sn_stats_row_t *put_row(build_t *b, const mdef_t *d, const char *key, const char *den)
{
    rows_t *r = &b->s->out;
    if (r->oom)
        return NULL;
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 256;
        sn_stats_row_t *nv = realloc(r->v, nc * sizeof *nv);
        if (nv == NULL) {
            r->oom = true;
            return NULL;
        }
        r->v = nv;
        r->cap = nc;
    }
    sn_stats_row_t *row = &r->v[r->n++];
    memset(row, 0, sizeof *row);
    subst(row->name, sizeof row->name, d->name, key, b->pop);
    if (den != NULL)
        snprintf(row->denominator, sizeof row->denominator, "%s", den);
    else
        subst(row->denominator, sizeof row->denominator, d->den, key, b->pop);
    row->unit = d->unit;
    row->help = d->help;
    row->study = study_of(row->name);
    row->headline = d->headline || row->study != NULL;
    return row;
}

static void put(build_t *b, const mdef_t *d, const char *key, bool known, double v, const char *den)
{
    sn_stats_row_t *row = put_row(b, d, key, den);
    if (row != NULL) {
        row->known = known;
        row->value = known ? v : 0;
    }
}

static void put_share(build_t *b, const mdef_t *d, const char *key, uint64_t num, uint64_t den)
{
    put(b, d, key, den > 0, den > 0 ? (double)num / (double)den : 0, NULL);
}

/*
 * A share of a fact that may be unknown for every node (no PTR name, no geo
 * database, no AS): then it is n/a with the count of unknown, never 0%.
 */
static void put_share_known(build_t *b, const mdef_t *d, const char *key, uint64_t num,
                            uint64_t den, uint64_t unknown)
{
    if (den > 0 && unknown >= den) {
        sn_stats_row_t *row = put_row(b, d, key, NULL);
        if (row != NULL) {
            row->known = false;
            row->has_unknown = true;
            row->unknown = unknown;
        }
        return;
    }
    put_share(b, d, key, num, den);
}

static void put_text(build_t *b, const mdef_t *d, const char *key, const char *text)
{
    sn_stats_row_t *row = put_row(b, d, key, NULL);
    if (row != NULL) {
        row->known = text != NULL;
        row->text = text != NULL ? text : "";
    }
}

static uint64_t field(const void *base, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)base + off, sizeof v);
    return v;
}

/* Generic: a counter of the aggregator; a ratio of two of them. */
static void f_count(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, true, (double)field(b->s, d->off), NULL);
}

static void f_ratio(build_t *b, const mdef_t *d)
{
    put_share(b, d, NULL, field(b->s, d->off), field(b->s, d->off2));
}

/* Generic: a counter of the population. */
static void f_who_count(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, true, (double)field(b->w, d->off), NULL);
}

static void f_bad(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, b->s->bad_known, (double)b->s->bad, NULL);
}

static void f_addresses(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, true, (double)b->s->addrs.n, NULL);
}

static void f_reach(build_t *b, const mdef_t *d)
{
    bool share = d->unit == SN_UNIT_SHARE;
    for (size_t i = 0; i < b->s->n_reach; i++) {
        if (share)
            put_share(b, d, b->s->reach[i].name, b->s->reach[i].count, b->s->probed);
        else
            put(b, d, b->s->reach[i].name, true, (double)b->s->reach[i].count, NULL);
    }
}

static void f_obs_top(build_t *b, const mdef_t *d)
{
    put_text(b, d, NULL, b->s->obs_top_n > 0 ? b->s->obs_top : NULL);
}

static void f_obs_local(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, b->s->obs_local >= 0, b->s->obs_local > 0 ? 1 : 0, NULL);
}

static void f_obs_mapping(build_t *b, const mdef_t *d)
{
    put_text(b, d, NULL, b->s->obs_mapping);
}

static void f_population(build_t *b, const mdef_t *d)
{
    put_text(b, d, NULL, b->pop);
}

static void f_pop_n(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, true, (double)b->w->n, NULL);
}

/* An academic share: n/a when no node has a PTR name or AS organisation to judge. */
static void f_edu_share(build_t *b, const mdef_t *d)
{
    put_share_known(b, d, NULL, field(b->w, d->off), b->w->n, b->w->n - b->w->class_known);
}

static void f_edu_unknown(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, true, (double)(b->w->n - b->w->class_known), NULL);
}

static void f_institutions(build_t *b, const mdef_t *d)
{
    if (b->w->n > 0 && b->w->class_known == 0) {
        put_share_known(b, d, NULL, 0, b->w->n, b->w->n); /* n/a: nothing to judge */
        return;
    }
    put(b, d, NULL, true, (double)b->w->n_inst, NULL);
}

double sn_stats_chao1(uint64_t s_obs, uint64_t f1, uint64_t f2)
{
    double a = (double)f1;
    return (double)s_obs + a * (a - 1.0) / (2.0 * ((double)f2 + 1.0));
}

/* Targets seen exactly k times (k = d->off2 for f1/f2 rows), from the histogram. */
static uint64_t seen_exactly(const build_t *b, uint64_t k)
{
    for (size_t i = 0; i < b->n_bins; i++)
        if (b->bins[i].value == k)
            return b->bins[i].count;
    return 0;
}

static void f_chao1(build_t *b, const mdef_t *d)
{
    uint64_t n = b->s->targets;
    put(b, d, NULL, n > 0, sn_stats_chao1(n, seen_exactly(b, 1), seen_exactly(b, 2)), NULL);
}

static void f_seen_exactly(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, true, (double)seen_exactly(b, d->off2), NULL);
}

static const char *const DYN_NAMES[3] = {"unknown", "dynamic", "static"};
static const sn_dyn_t DYN_ORDER[3] = {SN_DYN_DYNAMIC, SN_DYN_STATIC, SN_DYN_UNKNOWN};

static void f_dyn(build_t *b, const mdef_t *d)
{
    for (size_t i = 0; i < 3; i++) {
        sn_dyn_t k = DYN_ORDER[i];
        if (d->unit == SN_UNIT_SHARE && k != SN_DYN_UNKNOWN)
            put_share_known(b, d, DYN_NAMES[k], b->w->dyn[k], b->w->n, b->w->dyn[SN_DYN_UNKNOWN]);
        else if (d->unit == SN_UNIT_SHARE)
            put_share(b, d, DYN_NAMES[k], b->w->dyn[k], b->w->n);
        else
            put(b, d, DYN_NAMES[k], true, (double)b->w->dyn[k], NULL);
    }
}

static void f_countries(build_t *b, const mdef_t *d)
{
    uint64_t n = 0;
    for (size_t i = 0; i < 26 * 26; i++)
        n += b->w->country[i] != 0;
    put(b, d, NULL, true, (double)n, NULL);
}

/* Every country with nodes, in the order of the bar chart; US always. */
static void f_country(build_t *b, const mdef_t *d)
{
    const sn_stats_series_t *c = &b->s->view.countries;
    bool us = false;
    for (size_t i = 0; i < c->n; i++) {
        const char *key = c->v[i].key;
        if (strcmp(key, "unknown") == 0)
            continue;
        us = us || strcmp(key, "US") == 0;
        if (d->unit == SN_UNIT_SHARE)
            put_share_known(b, d, key, c->v[i].count, b->w->n, b->w->country_unknown);
        else
            put(b, d, key, true, (double)c->v[i].count, NULL);
    }
    if (!us) {
        if (d->unit == SN_UNIT_SHARE)
            put_share_known(b, d, "US", 0, b->w->n, b->w->country_unknown);
        else
            put(b, d, "US", true, 0, NULL);
    }
    if (d->unit == SN_UNIT_SHARE)
        put_share(b, d, "unknown", b->w->country_unknown, b->w->n);
    else
        put(b, d, "unknown", true, (double)b->w->country_unknown, NULL);
}

static void f_continent(build_t *b, const mdef_t *d)
{
    for (size_t i = 0; i < SN_STATS_CONTINENTS; i++) {
        const char *key = i + 1 < SN_STATS_CONTINENTS ? CONTINENTS[i] : "unknown";
        uint64_t unknown = b->w->continent[SN_STATS_CONTINENTS - 1];
        if (d->unit == SN_UNIT_SHARE && i + 1 < SN_STATS_CONTINENTS)
            put_share_known(b, d, key, b->w->continent[i], b->w->n, unknown);
        else if (d->unit == SN_UNIT_SHARE)
            put_share(b, d, key, b->w->continent[i], b->w->n);
        else
            put(b, d, key, true, (double)b->w->continent[i], NULL);
    }
}

static void f_asns(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, true, (double)b->w->n_as, NULL);
}

static void f_as_top1(build_t *b, const mdef_t *d)
{
    const sn_stats_series_t *a = &b->s->view.asns;
    put_share(b, d, NULL, a->n > 0 ? a->v[0].count : 0, b->w->asn_known);
}

/* Herfindahl-Hirschman index: sum of squared percentage shares, 0..10000. */
static void f_hhi(build_t *b, const mdef_t *d)
{
    const who_t *w = b->w;
    double h = 0;
    for (size_t i = 0; i < w->n_as; i++) {
        double sh = 100.0 * (double)w->as[i].count / (double)w->asn_known;
        h += sh * sh;
    }
    put(b, d, NULL, w->asn_known > 0, h, NULL);
}

static void f_as(build_t *b, const mdef_t *d)
{
    const sn_stats_series_t *a = &b->s->view.asns;
    for (size_t i = 0; i < a->n; i++) {
        if (d->unit == SN_UNIT_SHARE)
            put_share(b, d, a->v[i].key, a->v[i].count, b->w->asn_known);
        else
            put(b, d, a->v[i].key, true, (double)a->v[i].count, NULL);
    }
}

static void f_ports(build_t *b, const mdef_t *d)
{
    uint64_t n = 0;
    if (b->w->ports != NULL)
        for (size_t i = 0; i < 65536; i++)
            n += b->w->ports[i] != 0;
    put(b, d, NULL, true, (double)n, NULL);
}

static void f_port_top(build_t *b, const mdef_t *d)
{
    const sn_stats_series_t *p = &b->s->view.ports;
    put_share(b, d, NULL, p->n > 0 ? p->v[0].count : 0, b->w->n);
}

/* The top ports, then 33033 whether or not it is among them. */
static void f_port(build_t *b, const mdef_t *d)
{
    const sn_stats_series_t *p = &b->s->view.ports;
    bool seen33033 = false;
    for (size_t i = 0; i < p->n; i++) {
        seen33033 = seen33033 || strcmp(p->v[i].key, "33033") == 0;
        if (d->unit == SN_UNIT_SHARE)
            put_share(b, d, p->v[i].key, p->v[i].count, b->w->n);
        else
            put(b, d, p->v[i].key, true, (double)p->v[i].count, NULL);
    }
    if (!seen33033) {
        uint64_t c = b->w->ports != NULL ? b->w->ports[33033] : 0;
        if (d->unit == SN_UNIT_SHARE)
            put_share(b, d, "33033", c, b->w->n);
        else
            put(b, d, "33033", true, (double)c, NULL);
    }
}

static void f_seen_top(build_t *b, const mdef_t *d)
{
    /* off: the number of nodes; 0 means the top tenth, rounded up */
    uint64_t n = b->s->targets, k = d->off != 0 ? d->off : (n + 9) / 10;
    put_share(b, d, NULL, top_listings(b->bins, b->n_bins, k), b->s->listings);
}

/* Gini coefficient of the seen-counts, from the Lorenz curve (exact for grouped data). */
static void f_gini(build_t *b, const mdef_t *d)
{
    uint64_t n = b->s->targets, total = b->s->listings;
    if (n == 0 || total == 0) {
        put(b, d, NULL, false, 0, NULL);
        return;
    }
    double area = 0, px = 0, py = 0;
    for (size_t i = 0; i < b->n_bins; i++) {
        double x = px + (double)b->bins[i].count / (double)n;
        double y = py + (double)b->bins[i].count * (double)b->bins[i].value / (double)total;
        area += (x - px) * (y + py);
        px = x;
        py = y;
    }
    put(b, d, NULL, true, 1.0 - area, NULL);
}

static void f_seen_max(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, b->n_bins > 0, b->n_bins > 0 ? (double)b->bins[b->n_bins - 1].value : 0, NULL);
}

static void f_seen_hist(build_t *b, const mdef_t *d)
{
    for (size_t i = 0; i < b->n_bins; i++) {
        char key[24];
        snprintf(key, sizeof key, "%" PRIu64, b->bins[i].value);
        put(b, d, key, true, (double)b->bins[i].count, NULL);
    }
}

static void f_lorenz(build_t *b, const mdef_t *d)
{
    for (unsigned p = 5; p <= 100; p += 5) {
        char key[8];
        snprintf(key, sizeof key, "p%02u", p);
        uint64_t n = b->s->targets, total = b->s->listings;
        put(b, d, key, n > 0 && total > 0,
            lorenz_at(b->bins, b->n_bins, n, total, (double)p / 100.0), NULL);
    }
}

static void f_inputs(build_t *b, const mdef_t *d)
{
    const sn_stats_view_t *v = &b->s->view;
    for (size_t i = 0; i < v->n_inputs; i++) {
        char key[24];
        snprintf(key, sizeof key, "%zu", i + 1);
        const sn_stats_input_t *in = &v->inputs[i];
        switch (d->off) {
        case 0: put_text(b, d, key, in->name); break;
        case 1: put(b, d, key, in->listings_known, (double)in->listings, NULL); break;
        case 2: put(b, d, key, true, (double)in->cum_targets, NULL); break;
        default:
            if (b->s->probed > 0)
                put(b, d, key, true, (double)in->cum_alive, NULL);
            break;
        }
    }
}

/* RTT over all nodes of a kind (off), or per continent; off2 is the quantile
 * in permille, 0 for the sample count. */
static void rtt_row(build_t *b, const mdef_t *d, const char *key, const rtt_hist_t *h)
{
    if (d->off2 == 0) {
        put(b, d, key, true, (double)h->n, NULL);
        return;
    }
    uint32_t us = 0;
    bool ok = rtt_quantile(h, (unsigned)d->off2, &us);
    put(b, d, key, ok, (double)us / 1000.0, NULL);
}

static void f_rtt(build_t *b, const mdef_t *d)
{
    rtt_row(b, d, NULL, &b->s->rtt[d->off][0]);
}

static void f_rtt_continent(build_t *b, const mdef_t *d)
{
    for (size_t c = 0; c < SN_STATS_CONTINENTS; c++) {
        const rtt_hist_t *h = &b->s->rtt[d->off][1 + c];
        if (h->n > 0)
            rtt_row(b, d, c + 1 < SN_STATS_CONTINENTS ? CONTINENTS[c] : "unknown", h);
    }
}

static void f_meta_text(build_t *b, const mdef_t *d)
{
    const char *t = b->s->text[d->off];
    put_text(b, d, NULL, t != NULL ? t : NULL);
}

static void f_vantage_mixed(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, true, b->s->vantage_mixed ? 1 : 0, NULL);
}

static void iso_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t == 0 || gmtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        buf[0] = '\0';
}

static void f_time(build_t *b, const mdef_t *d)
{
    const char *t = d->off == 0 ? b->s->started_iso : b->s->finished_iso;
    put_text(b, d, NULL, t[0] != '\0' ? t : NULL);
}

static void f_interrupted(build_t *b, const mdef_t *d)
{
    put(b, d, NULL, true, b->s->interrupted ? 1 : 0, NULL);
}

static void f_files(build_t *b, const mdef_t *d)
{
    for (size_t i = 0; i < b->s->n_files; i++) {
        char key[24];
        snprintf(key, sizeof key, "%zu", i + 1);
        const sn_stats_file_t *f = &b->s->files[i];
        switch (d->off) {
        case 0: put_text(b, d, key, f->role); break;
        case 1: put_text(b, d, key, f->name); break;
        case 2: put_text(b, d, key, f->sha256[0] ? f->sha256 : NULL); break;
        default: put(b, d, key, f->sha256[0] != '\0', (double)f->bytes, NULL); break;
        }
    }
}

static void f_sources(build_t *b, const mdef_t *d)
{
    for (size_t i = 0; i < b->s->n_sources; i++) {
        char key[24];
        snprintf(key, sizeof key, "%zu", i + 1);
        put_text(b, d, key, b->s->sources[i]);
    }
}

#define S(f) offsetof(sn_stats_t, f)
#define W(f) offsetof(who_t, f)

/*
 * Every statistic, once. Denominators: "probed" means targets on which at
 * least one probe ran; "alive" those that answered UDP or TCP on any port;
 * "@pop" is alive when anything was probed, else every listed target.
 */
static const mdef_t METRICS[] = {
    /* the listing */
    {.name = "listings",
     .unit = SN_UNIT_COUNT,
     .den = "",
     .fn = f_count,
     .off = S(listings),
     .headline = true,
     .help =
         "listings in the inputs: the targets' seen-counts summed (a CSV count column counts as "
         "that many listings)"},
    {.name = "targets",
     .unit = SN_UNIT_COUNT,
     .den = "",
     .fn = f_count,
     .off = S(targets),
     .headline = true,
     .help = "distinct (address, port) pairs listed"},
    {.name = "population.chao1",
     .unit = SN_UNIT_NUMBER,
     .den = "targets",
     .fn = f_chao1,
     .headline = true,
     .help = "estimated number of targets, the never-listed included, from the seen-counts alone "
             "(bias-corrected Chao1: S_obs + f1(f1-1)/(2(f2+1)), S_obs the distinct targets, f1 "
             "and f2 those listed exactly once and twice); a lower bound"},
    {.name = "population.f1",
     .unit = SN_UNIT_COUNT,
     .den = "targets",
     .fn = f_seen_exactly,
     .off2 = 1,
     .help = "targets listed exactly once (Chao1's f1)"},
    {.name = "population.f2",
     .unit = SN_UNIT_COUNT,
     .den = "targets",
     .fn = f_seen_exactly,
     .off2 = 2,
     .help = "targets listed exactly twice (Chao1's f2)"},
    {.name = "addresses",
     .unit = SN_UNIT_COUNT,
     .den = "",
     .fn = f_addresses,
     .help = "distinct IP addresses listed"},
    {.name = "bad_entries",
     .unit = SN_UNIT_COUNT,
     .den = "",
     .fn = f_bad,
     .help = "input entries skipped as malformed (unknown when read back from a results file)"},
    {.name = "blocked",
     .unit = SN_UNIT_COUNT,
     .den = "targets",
     .fn = f_count,
     .off = S(blocked),
     .help = "targets not probed because the blocklist holds their address"},
    {.name = "probed",
     .unit = SN_UNIT_COUNT,
     .den = "targets",
     .fn = f_count,
     .off = S(probed),
     .headline = true,
     .help = "targets on which at least one probe ran (to its end: incomplete ones are "
             "not probed)"},
    {.name = "incomplete",
     .unit = SN_UNIT_COUNT,
     .den = "targets",
     .fn = f_count,
     .off = S(incomplete),
     .headline = true,
     .help = "targets whose probing the scan stopped before every attempt and fallback "
             "port was made; left out of every share and distribution"},
    /* reachability */
    {.name = "alive",
     .unit = SN_UNIT_COUNT,
     .den = "probed",
     .fn = f_count,
     .off = S(alive),
     .help = "probed targets that answered UDP, or TCP on any port"},
    {.name = "alive.share",
     .unit = SN_UNIT_SHARE,
     .den = "probed",
     .fn = f_ratio,
     .off = S(alive),
     .off2 = S(probed),
     .headline = true,
     .help = "share of the probed targets that are alive"},
    {.name = "alive_udp",
     .unit = SN_UNIT_COUNT,
     .den = "probed",
     .fn = f_count,
     .off = S(alive_udp),
     .help = "probed targets that answered the UDP probe"},
    {.name = "alive_udp.share",
     .unit = SN_UNIT_SHARE,
     .den = "probed",
     .fn = f_ratio,
     .off = S(alive_udp),
     .off2 = S(probed),
     .headline = true,
     .help = "share of the probed targets that answered the UDP probe"},
    {.name = "alive_tcp",
     .unit = SN_UNIT_COUNT,
     .den = "probed",
     .fn = f_count,
     .off = S(alive_tcp),
     .help = "probed targets that accepted a TCP connection on their own port or a fallback port"},
    {.name = "alive_tcp.share",
     .unit = SN_UNIT_SHARE,
     .den = "probed",
     .fn = f_ratio,
     .off = S(alive_tcp),
     .off2 = S(probed),
     .help = "share of the probed targets that accepted a TCP connection on any port tried"},
    {.name = "alive_tcp_own",
     .unit = SN_UNIT_COUNT,
     .den = "probed",
     .fn = f_count,
     .off = S(alive_tcp_own),
     .help = "probed targets that accepted TCP on their own (listed) port"},
    {.name = "alive_tcp_own.share",
     .unit = SN_UNIT_SHARE,
     .den = "probed",
     .fn = f_ratio,
     .off = S(alive_tcp_own),
     .off2 = S(probed),
     .headline = true,
     .help = "share of the probed targets that accepted TCP on their own port"},
    {.name = "alive_tcp_443",
     .unit = SN_UNIT_COUNT,
     .den = "probed",
     .fn = f_count,
     .off = S(alive_tcp_443),
     .help = "probed targets that accepted TCP on the fallback port 443, not on their own port"},
    {.name = "alive_tcp_443.share",
     .unit = SN_UNIT_SHARE,
     .den = "probed",
     .fn = f_ratio,
     .off = S(alive_tcp_443),
     .off2 = S(probed),
     .help = "share of the probed targets that accepted TCP on the fallback port 443"},
    {.name = "alive_tcp_80",
     .unit = SN_UNIT_COUNT,
     .den = "probed",
     .fn = f_count,
     .off = S(alive_tcp_80),
     .help =
         "probed targets that accepted TCP on the fallback port 80, not on their own port or 443"},
    {.name = "alive_tcp_80.share",
     .unit = SN_UNIT_SHARE,
     .den = "probed",
     .fn = f_ratio,
     .off = S(alive_tcp_80),
     .off2 = S(probed),
     .help = "share of the probed targets that accepted TCP on the fallback port 80"},
    {.name = "sn_eligible",
     .unit = SN_UNIT_COUNT,
     .den = "probed",
     .fn = f_count,
     .off = S(eligible),
     .help =
         "super-node eligible: answered UDP and TCP on the own port, both from the probed address"},
    {.name = "sn_eligible.share",
     .unit = SN_UNIT_SHARE,
     .den = "probed",
     .fn = f_ratio,
     .off = S(eligible),
     .off2 = S(probed),
     .headline = true,
     .help = "share of the probed targets that are super-node eligible"},
    {.name = "reach_class.*",
     .unit = SN_UNIT_COUNT,
     .den = "probed",
     .fn = f_reach,
     .help = "probed targets in this reachability class (which of UDP, TCP own port, 443, 80 "
             "answered)"},
    {.name = "reach_class.*.share",
     .unit = SN_UNIT_SHARE,
     .den = "probed",
     .fn = f_reach,
     .help = "share of the probed targets in this reachability class"},
    /* NAT signals: where replies came from, our address as the nodes saw it */
    {.name = "udp_reply_other",
     .unit = SN_UNIT_COUNT,
     .den = "alive_udp",
     .fn = f_count,
     .off = S(udp_reply_other),
     .help = "UDP replies that came from another address or port than the one probed: a NAT or "
             "relay in front of the node, which is then not super-node eligible"},
    {.name = "udp_reply_other.share",
     .unit = SN_UNIT_SHARE,
     .den = "alive_udp",
     .fn = f_ratio,
     .off = S(udp_reply_other),
     .off2 = S(alive_udp),
     .help = "share of the UDP replies that came from another address or port than probed"},
    {.name = "observed.known",
     .unit = SN_UNIT_COUNT,
     .den = "alive",
     .fn = f_count,
     .off = S(obs_n),
     .help = "alive nodes that said what our address is (Skype NAT-info: an IP; STUN: IP and "
             "port)"},
    {.name = "observed.with_port",
     .unit = SN_UNIT_COUNT,
     .den = "observed.known",
     .fn = f_count,
     .off = S(obs_with_port),
     .help = "of those, the ones that said our port too (STUN does, the Skype probe does not)"},
    {.name = "observed.distinct_ip",
     .unit = SN_UNIT_COUNT,
     .den = "observed.known",
     .fn = f_count,
     .off = S(obs_distinct_ip),
     .help = "distinct IP addresses the nodes saw us at (more than one: several NATs or "
             "addresses, or a NAT that varies its address)"},
    {.name = "observed.distinct_ip_port",
     .unit = SN_UNIT_COUNT,
     .den = "observed.with_port",
     .fn = f_count,
     .off = S(obs_distinct_ip_port),
     .help = "distinct IP:port pairs the nodes saw us at, over the observations with a port"},
    {.name = "observed.top",
     .unit = SN_UNIT_TEXT,
     .den = "observed.known",
     .fn = f_obs_top,
     .help = "the IP address the most nodes saw us at (ties: the lower address)"},
    {.name = "observed.top.n",
     .unit = SN_UNIT_COUNT,
     .den = "observed.known",
     .fn = f_count,
     .off = S(obs_top_n),
     .help = "nodes that saw us at that address"},
    {.name = "observed.top.share",
     .unit = SN_UNIT_SHARE,
     .den = "observed.known",
     .fn = f_ratio,
     .off = S(obs_top_n),
     .off2 = S(obs_n),
     .help = "share of the observations that name the most common address"},
    {.name = "observed.local",
     .unit = SN_UNIT_COUNT,
     .den = "observed.top",
     .fn = f_obs_local,
     .help = "1 when the most common observed address is one of this machine's own (loopback "
             "included): not NATed; 0: NATed; unknown without observations or when read back "
             "from a results file (the machine may not be the one that scanned)"},
    {.name = "observed.mapping",
     .unit = SN_UNIT_TEXT,
     .den = "observed.with_port",
     .fn = f_obs_mapping,
     .help = "our NAT's mapping as the nodes saw it: endpoint-independent (every node saw the "
             "same IP:port), varies (address- or port-dependent mapping, or several NATs), "
             "unknown (fewer than 2 observations with a port)"},
    /* who they are */
    {.name = "population",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_population,
     .help =
         "the nodes the statistics below count: alive when anything was probed, else every target"},
    {.name = "population_n",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_pop_n,
     .help = "number of those nodes"},
    {.name = "class_known",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_who_count,
     .off = W(class_known),
     .help = "nodes with a PTR name or an AS organisation to judge academic or not"},
    {.name = "edu",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_who_count,
     .off = W(edu),
     .help = "nodes on academic hosts (by PTR name or AS organisation)"},
    {.name = "edu.share",
     .unit = SN_UNIT_SHARE,
     .den = "@pop",
     .fn = f_edu_share,
     .off = W(edu),
     .headline = true,
     .help = "share of the nodes on academic hosts; unknown counts as not academic (n/a when "
             "no node has a PTR name or AS organisation)"},
    {.name = "edu.unknown",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_edu_unknown,
     .help = "nodes with neither a PTR name nor an AS organisation: academic or not is unknown"},
    {.name = "edu.institutions",
     .unit = SN_UNIT_COUNT,
     .den = "edu",
     .fn = f_institutions,
     .headline = true,
     .help = "distinct academic institutions: registrable domains (Public Suffix List) of the "
             "academic PTR names, and AS organisations of academic nodes without such a name"},
    {.name = "edu.ptr",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_who_count,
     .off = W(edu_ptr),
     .help = "academic nodes recognised by their PTR name (public suffix edu, ac.XX, edu.XX)"},
    {.name = "edu.ptr.share",
     .unit = SN_UNIT_SHARE,
     .den = "@pop",
     .fn = f_edu_share,
     .off = W(edu_ptr),
     .help = "share of the nodes that are academic by PTR name"},
    {.name = "edu.as_org",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_who_count,
     .off = W(edu_org),
     .help = "academic nodes recognised by their AS organisation only"},
    {.name = "edu.as_org.share",
     .unit = SN_UNIT_SHARE,
     .den = "@pop",
     .fn = f_edu_share,
     .off = W(edu_org),
     .help = "share of the nodes that are academic by AS organisation"},
    {.name = "addr_kind.*",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_dyn,
     .help = "nodes whose address is dynamic, static or unknown, judged from the PTR name"},
    {.name = "addr_kind.*.share",
     .unit = SN_UNIT_SHARE,
     .den = "@pop",
     .fn = f_dyn,
     .help = "share of the nodes with a dynamic, static or unknown address"},
    {.name = "countries",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_countries,
     .help = "distinct countries among the nodes"},
    {.name = "country.*",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_country,
     .help = "nodes in this country"},
    {.name = "country.*.share",
     .unit = SN_UNIT_SHARE,
     .den = "@pop",
     .fn = f_country,
     .help = "share of the nodes in this country (unknown: no database knew the address)"},
    {.name = "continent.*",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_continent,
     .help = "nodes on this continent"},
    {.name = "continent.*.share",
     .unit = SN_UNIT_SHARE,
     .den = "@pop",
     .fn = f_continent,
     .help = "share of the nodes on this continent"},
    {.name = "asn.known",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_who_count,
     .off = W(asn_known),
     .help = "nodes whose autonomous system is known"},
    {.name = "asn.unknown",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_who_count,
     .off = W(asn_unknown),
     .help = "nodes whose autonomous system is unknown"},
    {.name = "asns",
     .unit = SN_UNIT_COUNT,
     .den = "asn.known",
     .fn = f_asns,
     .headline = true,
     .help = "distinct autonomous systems among the nodes"},
    {.name = "as_top1.share",
     .unit = SN_UNIT_SHARE,
     .den = "asn.known",
     .fn = f_as_top1,
     .headline = true,
     .help = "share of the largest AS among the nodes with a known AS (is there a dominant AS?)"},
    {.name = "as_hhi",
     .unit = SN_UNIT_NUMBER,
     .den = "asn.known",
     .fn = f_hhi,
     .headline = true,
     .help = "Herfindahl-Hirschman index of the AS shares: sum of squared percentages, 0-10000 "
             "(above 2500: concentrated)"},
    {.name = "asn.*",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_as,
     .help = "nodes in this AS (the top 10)"},
    {.name = "asn.*.share",
     .unit = SN_UNIT_SHARE,
     .den = "asn.known",
     .fn = f_as,
     .help = "share of the nodes with a known AS that are in this AS"},
    {.name = "ports",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_ports,
     .help = "distinct ports among the nodes"},
    {.name = "port_top.share",
     .unit = SN_UNIT_SHARE,
     .den = "@pop",
     .fn = f_port_top,
     .headline = true,
     .help = "share of the nodes on the most common port"},
    {.name = "port.*",
     .unit = SN_UNIT_COUNT,
     .den = "@pop",
     .fn = f_port,
     .help = "nodes listening on this port (the top 10, and 33033)"},
    {.name = "port.*.share",
     .unit = SN_UNIT_SHARE,
     .den = "@pop",
     .fn = f_port,
     .help = "share of the nodes on this port"},
    /* how often the harvests listed them */
    {.name = "seen.top20.share",
     .unit = SN_UNIT_SHARE,
     .den = "listings",
     .fn = f_seen_top,
     .off = 20,
     .headline = true,
     .help = "share of all listings held by the 20 most-listed targets"},
    {.name = "seen.top100.share",
     .unit = SN_UNIT_SHARE,
     .den = "listings",
     .fn = f_seen_top,
     .off = 100,
     .headline = true,
     .help = "share of all listings held by the 100 most-listed targets"},
    {.name = "seen.top10pct.share",
     .unit = SN_UNIT_SHARE,
     .den = "listings",
     .fn = f_seen_top,
     .headline = true,
     .help = "share of all listings held by the most-listed tenth of the targets (rounded up)"},
    {.name = "seen.gini",
     .unit = SN_UNIT_NUMBER,
     .den = "targets",
     .fn = f_gini,
     .help = "Gini coefficient of the seen-counts (0: every target listed equally often)"},
    {.name = "seen.max",
     .unit = SN_UNIT_COUNT,
     .den = "targets",
     .fn = f_seen_max,
     .help = "listings of the most-listed target"},
    {.name = "seen_count.*",
     .unit = SN_UNIT_COUNT,
     .den = "targets",
     .fn = f_seen_hist,
     .help = "targets listed exactly this many times (the full Lorenz curve follows from these)"},
    {.name = "lorenz.*",
     .unit = SN_UNIT_SHARE,
     .den = "listings",
     .fn = f_lorenz,
     .help =
         "Lorenz curve: share of the listings held by the least-listed p percent of the targets"},
    /* discovery */
    {.name = "input.*.name",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_inputs,
     .help = "input number N, in the order given (read back: recovered from the order of sources)"},
    {.name = "input.*.listings",
     .unit = SN_UNIT_COUNT,
     .den = "listings",
     .fn = f_inputs,
     .off = 1,
     .help = "listings read from input N"},
    {.name = "discovery.*",
     .unit = SN_UNIT_COUNT,
     .den = "targets",
     .fn = f_inputs,
     .off = 2,
     .help = "discovery curve: distinct targets after inputs 1..N"},
    {.name = "discovery.*.alive",
     .unit = SN_UNIT_COUNT,
     .den = "alive",
     .fn = f_inputs,
     .off = 3,
     .help = "discovery curve: distinct alive targets after inputs 1..N"},
    /* round-trip times */
    {.name = "rtt.udp.n",
     .unit = SN_UNIT_COUNT,
     .den = "alive_udp",
     .fn = f_rtt,
     .off = SN_RTT_UDP,
     .help = "UDP round-trip time samples"},
    {.name = "rtt.udp.p50_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.udp.n",
     .fn = f_rtt,
     .off = SN_RTT_UDP,
     .off2 = 500,
     .headline = true,
     .help = "median UDP round-trip time (nearest rank; exact below 0.128 ms, else within 0.8%)"},
    {.name = "rtt.udp.p90_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.udp.n",
     .fn = f_rtt,
     .off = SN_RTT_UDP,
     .off2 = 900,
     .help = "90th percentile UDP round-trip time"},
    {.name = "rtt.udp.p99_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.udp.n",
     .fn = f_rtt,
     .off = SN_RTT_UDP,
     .off2 = 990,
     .help = "99th percentile UDP round-trip time"},
    {.name = "rtt.tcp.n",
     .unit = SN_UNIT_COUNT,
     .den = "alive_tcp",
     .fn = f_rtt,
     .off = SN_RTT_TCP,
     .help = "TCP handshake time samples (own or fallback port)"},
    {.name = "rtt.tcp.p50_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.tcp.n",
     .fn = f_rtt,
     .off = SN_RTT_TCP,
     .off2 = 500,
     .headline = true,
     .help = "median TCP handshake time (nearest rank; exact below 0.128 ms, else within 0.8%)"},
    {.name = "rtt.tcp.p90_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.tcp.n",
     .fn = f_rtt,
     .off = SN_RTT_TCP,
     .off2 = 900,
     .help = "90th percentile TCP handshake time"},
    {.name = "rtt.tcp.p99_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.tcp.n",
     .fn = f_rtt,
     .off = SN_RTT_TCP,
     .off2 = 990,
     .help = "99th percentile TCP handshake time"},
    {.name = "rtt.udp.*.n",
     .unit = SN_UNIT_COUNT,
     .den = "continent.*",
     .fn = f_rtt_continent,
     .off = SN_RTT_UDP,
     .help = "UDP round-trip time samples on this continent"},
    {.name = "rtt.udp.*.p50_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.udp.*.n",
     .fn = f_rtt_continent,
     .off = SN_RTT_UDP,
     .off2 = 500,
     .help = "median UDP round-trip time on this continent"},
    {.name = "rtt.udp.*.p90_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.udp.*.n",
     .fn = f_rtt_continent,
     .off = SN_RTT_UDP,
     .off2 = 900,
     .help = "90th percentile UDP round-trip time on this continent"},
    {.name = "rtt.udp.*.p99_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.udp.*.n",
     .fn = f_rtt_continent,
     .off = SN_RTT_UDP,
     .off2 = 990,
     .help = "99th percentile UDP round-trip time on this continent"},
    {.name = "rtt.tcp.*.n",
     .unit = SN_UNIT_COUNT,
     .den = "continent.*",
     .fn = f_rtt_continent,
     .off = SN_RTT_TCP,
     .help = "TCP handshake time samples on this continent"},
    {.name = "rtt.tcp.*.p50_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.tcp.*.n",
     .fn = f_rtt_continent,
     .off = SN_RTT_TCP,
     .off2 = 500,
     .help = "median TCP handshake time on this continent"},
    {.name = "rtt.tcp.*.p90_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.tcp.*.n",
     .fn = f_rtt_continent,
     .off = SN_RTT_TCP,
     .off2 = 900,
     .help = "90th percentile TCP handshake time on this continent"},
    {.name = "rtt.tcp.*.p99_ms",
     .unit = SN_UNIT_MS,
     .den = "rtt.tcp.*.n",
     .fn = f_rtt_continent,
     .off = SN_RTT_TCP,
     .off2 = 990,
     .help = "99th percentile TCP handshake time on this continent"},
    /* the scan itself */
    {.name = "meta.version",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_meta_text,
     .off = SN_STATS_VERSION,
     .help = "snprobe version"},
    {.name = "meta.command",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_meta_text,
     .off = SN_STATS_COMMAND,
     .help = "command line and options"},
    {.name = "meta.vantage",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_meta_text,
     .off = SN_STATS_VANTAGE,
     .help = "where the scan ran from, as snprobe vantage judged it (NAT mapping and filtering, "
             "UDP and TCP paths)"},
    {.name = "meta.vantage_mixed",
     .unit = SN_UNIT_COUNT,
     .den = "",
     .fn = f_vantage_mixed,
     .help = "1 when the rows read back carry more than one vantage"},
    {.name = "meta.where",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_meta_text,
     .off = SN_STATS_WHERE,
     .help = "where the scan ran from, as the user described it"},
    {.name = "meta.started",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_time,
     .help = "start time, UTC"},
    {.name = "meta.finished",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_time,
     .off = 1,
     .help = "end time, UTC"},
    {.name = "meta.interrupted",
     .unit = SN_UNIT_COUNT,
     .den = "",
     .fn = f_interrupted,
     .help = "1 when the scan was interrupted (targets not yet started are missing)"},
    {.name = "file.*.role",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_files,
     .help = "what file N was read for"},
    {.name = "file.*.name",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_files,
     .off = 1,
     .help = "file N as named"},
    {.name = "file.*.sha256",
     .unit = SN_UNIT_TEXT,
     .den = "",
     .fn = f_files,
     .off = 2,
     .help = "SHA-256 digest of file N"},
    {.name = "file.*.bytes",
     .unit = SN_UNIT_COUNT,
     .den = "",
     .fn = f_files,
     .off = 3,
     .help = "size of file N in bytes"},
    {"data_source.*", SN_UNIT_TEXT, "", f_sources, 0, 0, false,
     "a data source in use (geo and AS databases with their versions)"},
};

#undef S
#undef W

void sn_stats_definitions(void (*fn)(void *ud, const char *name, sn_stats_unit_t unit,
                                     const char *denominator, const char *help),
                          void *ud)
{
    for (size_t i = 0; i < sizeof METRICS / sizeof METRICS[0]; i++)
        fn(ud, METRICS[i].name, METRICS[i].unit, METRICS[i].den, METRICS[i].help);
}

const char *sn_stats_unit_name(sn_stats_unit_t u)
{
    switch (u) {
    case SN_UNIT_COUNT: return "count";
    case SN_UNIT_SHARE: return "share";
    case SN_UNIT_MS: return "ms";
    case SN_UNIT_NUMBER: return "number";
    case SN_UNIT_TEXT: return "text";
    }
    return "?";
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
                 i + 1 < SN_STATS_CONTINENTS ? CONTINENTS[i] : "unknown");
        b->label = CONTINENT_NAMES[i];
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

/*
 * Whether ip is one of this machine's addresses: loopback (all of 127/8 and
 * ::1, where the swarm plays its nodes) or an interface's. 1, 0, or -1 when
 * the interfaces cannot be listed.
 */
static int ip_is_local(const sn_addr_t *ip)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    if (ip->family == AF_INET && ip->ip[0] == 127)
        return 1;
    if (ip->family == AF_INET6 && memcmp(ip->ip, v6_loopback, 16) == 0)
        return 1;
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return -1;
    int found = 0;
    for (const struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next) {
        sn_addr_t a;
        if (i->ifa_addr != NULL &&
            (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6) &&
            sn_addr_from_sockaddr(i->ifa_addr, &a) == SN_OK && sn_addr_same_ip(&a, ip))
            found = 1;
    }
    freeifaddrs(list);
    return found;
}

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
    for (size_t i = 0; i < s->obs.cap; i++)
        if (s->obs.v[i].a.family != 0)
            v[n++] = s->obs.v[i];
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
            s->obs_local = ip_is_local(&top);
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
    iso_time(s->started, s->started_iso, sizeof s->started_iso);
    iso_time(s->finished, s->finished_iso, sizeof s->finished_iso);

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
        for (size_t i = 0; i < sizeof METRICS / sizeof METRICS[0]; i++)
            METRICS[i].fn(&b, &METRICS[i]);
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

void sn_stats_format_value(const sn_stats_row_t *row, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    buf[0] = '\0';
    if (row == NULL || !row->known)
        return;
    switch (row->unit) {
    case SN_UNIT_COUNT: snprintf(buf, cap, "%.0f", row->value); break;
    case SN_UNIT_SHARE: snprintf(buf, cap, "%.6f", row->value); break;
    case SN_UNIT_MS: snprintf(buf, cap, "%.3f", row->value); break;
    case SN_UNIT_NUMBER: snprintf(buf, cap, "%.4f", row->value); break;
    case SN_UNIT_TEXT: snprintf(buf, cap, "%s", row->text != NULL ? row->text : ""); break;
    }
}

/* ---- RTT accessors ------------------------------------------------------ */

static const rtt_hist_t *hist_of(const sn_stats_t *s, int kind, const char *continent)
{
    if (s == NULL || (kind != SN_RTT_UDP && kind != SN_RTT_TCP))
        return NULL;
    if (continent == NULL)
        return &s->rtt[kind][0];
    return &s->rtt[kind][1 + continent_index(continent)];
}

bool sn_stats_rtt_quantile(const sn_stats_t *s, int kind, const char *continent, unsigned permille,
                           uint32_t *out_us)
{
    const rtt_hist_t *h = hist_of(s, kind, continent);
    return h != NULL && out_us != NULL && rtt_quantile(h, permille, out_us);
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
    if (h == NULL || h->n == 0 || h->b == NULL)
        return 0;
    size_t k = 0;
    uint64_t cum = 0;
    for (unsigned b = 0; b < RTT_NB; b++) {
        if (h->b[b] == 0)
            continue;
        cum += h->b[b];
        if (k < cap) {
            uint32_t hi = bucket_hi(b);
            x_us[k] = (double)(hi < h->max ? hi : h->max);
            y[k] = (double)cum / (double)h->n;
        }
        k++;
    }
    return k;
}

/* ---- summary ------------------------------------------------------------ */

/* A CSV cell, quoted when it must be (RFC 4180), or when a spreadsheet would
 * read it as a formula. */
static void csv_cell(FILE *f, const char *v, bool text)
{
    /* A text value from outside (an AS organisation, a source label) that a spreadsheet
     * would evaluate gets OWASP's leading apostrophe, reversibly (scanner/text.h). */
    bool neutral = text && sn_csv_formula_like(v, strlen(v));
    bool quote = strpbrk(v, ",\"\r\n") != NULL || (v[0] == ' ' || v[0] == '\t') || neutral;
    if (!quote) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    if (neutral)
        fputc('\'', f);
    for (const char *p = v; *p != '\0'; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

sn_status_t sn_stats_write_summary(sn_stats_t *s, const char *path, sn_output_format_t fmt,
                                   sn_error_t *err)
{
    if (s == NULL)
        return sn_error_set(err, SN_EINVAL, "no statistics");
    if (fmt != SN_OUTPUT_CSV && fmt != SN_OUTPUT_NDJSON)
        return sn_error_set(err, SN_EINVAL, "unknown summary format %d", (int)fmt);
    sn_status_t st = sn_stats_finish(s, err);
    if (st != SN_OK)
        return st;
    sn_outfile_t *of = NULL;
    if ((st = sn_outfile_open(path, &of, err)) != SN_OK)
        return st;
    FILE *f = sn_outfile_stream(of);
    if (f == NULL) {
        sn_outfile_abort(of, false);
        return sn_error_set(err, SN_ENOMEM, "out of memory writing %s", path);
    }
    if (fmt == SN_OUTPUT_CSV)
        fputs("metric,value,denominator\n", f);
    char val[4096];
    for (size_t i = 0; i < s->out.n; i++) {
        const sn_stats_row_t *r = &s->out.v[i];
        sn_stats_format_value(r, val, sizeof val);
        const char *v = r->unit == SN_UNIT_TEXT && r->known ? r->text : val;
        if (fmt == SN_OUTPUT_CSV) {
            csv_cell(f, r->name, true);
            fputc(',', f);
            /* nothing known for the population: "n/a", never an empty 0% look-alike */
            csv_cell(f, r->has_unknown ? "n/a" : v, r->unit == SN_UNIT_TEXT || r->has_unknown);
            fputc(',', f);
            csv_cell(f, r->denominator, true);
            fputc('\n', f);
        } else {
            fputs("{\"metric\":", f);
            sn_json_write_string(f, r->name);
            fputs(",\"value\":", f);
            if (!r->known)
                fputs("null", f);
            else if (r->unit == SN_UNIT_TEXT)
                sn_json_write_string(f, v);
            else
                fputs(v, f);
            fputs(",\"denominator\":", f);
            sn_json_write_string(f, r->denominator[0] ? r->denominator : NULL);
            if (r->has_unknown)
                fprintf(f, ",\"unknown\":%" PRIu64, r->unknown);
            fputs("}\n", f);
        }
    }
    return sn_outfile_commit(of, err);
}
