/*
 * The metric table: the one place where each statistic is defined, with its
 * name, its unit, its denominator, how its value is computed from the
 * aggregator's state and what it means. sn_stats_finish (stats.c) hands it
 * the finished counters once (sn_stats_metrics_run) and it appends the rows
 * that the summary writer (summary.c) and the HTML report print, so adding a
 * statistic is one line here plus, at most, one value function. The studies'
 * figures are a second small table keyed by metric name, so a series
 * (country.*.share) can carry a figure for one key (US) only.
 */
#include "reports/stats_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        const char *key = i + 1 < SN_STATS_CONTINENTS ? sn_stats_continent_code(i) : "unknown";
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
    put_share(b, d, NULL, sn_stats_top_listings(b->bins, b->n_bins, k), b->s->listings);
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
            sn_stats_lorenz_at(b->bins, b->n_bins, n, total, (double)p / 100.0), NULL);
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
    bool ok = sn_stats_hist_quantile(h, (unsigned)d->off2, &us);
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
            rtt_row(b, d, c + 1 < SN_STATS_CONTINENTS ? sn_stats_continent_code(c) : "unknown", h);
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

void sn_stats_metrics_run(build_t *b)
{
    sn_stats_t *s = b->s;
    iso_time(s->started, s->started_iso, sizeof s->started_iso);
    iso_time(s->finished, s->finished_iso, sizeof s->finished_iso);
    for (size_t i = 0; i < sizeof METRICS / sizeof METRICS[0]; i++)
        METRICS[i].fn(b, &METRICS[i]);
}
