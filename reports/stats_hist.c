/*
 * The distributions the statistics keep, shared by the aggregator (stats.c),
 * the metric table (metrics.c) and the HTML report: the round-trip time
 * histogram (exact microseconds below 128, then 64 sub-buckets per power of
 * two), its quantiles and CDF; the seen-count bins' top-k listings and Lorenz
 * share; the continent buckets. Pure functions, and below both of their users,
 * so that the aggregator and the metric table do not call each other in a
 * circle.
 */
#include "reports/stats_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- round-trip time histograms ----------------------------------------- */

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

bool sn_stats_hist_add(rtt_hist_t *h, uint32_t v)
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

bool sn_stats_hist_quantile(const rtt_hist_t *h, unsigned permille, uint32_t *out)
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

size_t sn_stats_hist_cdf(const rtt_hist_t *h, double *x_us, double *y, size_t cap)
{
    if (h->n == 0 || h->b == NULL)
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

/* ---- continents ---- */

static const char *const CONTINENTS[SN_STATS_CONTINENTS] = {"AF", "AN", "AS", "EU",
                                                            "NA", "OC", "SA", ""};
static const char *const CONTINENT_NAMES[SN_STATS_CONTINENTS] = {
    "Africa",        "Antarctica", "Asia",          "Europe",
    "North America", "Oceania",    "South America", "unknown"};

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

size_t sn_stats_continent_index(const char *code)
{
    for (size_t i = 0; i + 1 < SN_STATS_CONTINENTS; i++)
        if (code != NULL && strcmp(code, CONTINENTS[i]) == 0)
            return i;
    return SN_STATS_CONTINENTS - 1;
}

/* ---- the seen-count bins ---- */

/* Listings held by the k most-listed targets. */
uint64_t sn_stats_top_listings(const seen_bin_t *b, size_t nb, uint64_t k)
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
double sn_stats_lorenz_at(const seen_bin_t *b, size_t nb, uint64_t n, uint64_t total, double p)
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
