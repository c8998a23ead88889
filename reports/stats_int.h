/*
 * What the statistics' files share and nobody else sees: the aggregator's
 * state (struct sn_stats, filled by stats.c), the RTT histogram and the
 * seen-count shares (stats_hist.c, below both), and the few helpers that the
 * metric table (metrics.c) reads the state through.
 * The summary writer (summary.c) needs none of it: it prints the rows
 * through the public stats.h.
 */
#ifndef SN_STATS_INT_H
#define SN_STATS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "data/classify.h"
#include "lib/hashmap.h"
#include "reports/stats.h"

/* ---- round-trip time histograms (stats_hist.c) ---- */

#define RTT_EXACT 128u
#define RTT_SUB 64u
#define RTT_NB (RTT_EXACT + (32u - 7u) * RTT_SUB)

typedef struct rtt_hist {
    uint64_t n;
    uint32_t min, max;
    uint64_t *b; /* RTT_NB counts, allocated at the first sample */
} rtt_hist_t;

/*
 * Nearest-rank quantile of h (permille 1..1000) in microseconds: the middle of
 * the bucket the rank falls in, clamped to the observed minimum and maximum.
 * False when h has no sample.
 */
bool sn_stats_hist_quantile(const rtt_hist_t *h, unsigned permille, uint32_t *out);

/* Adds one sample of v microseconds; false when out of memory (the first sample allocates). */
bool sn_stats_hist_add(rtt_hist_t *h, uint32_t v);

/* The CDF as (upper bucket edge, share at or below) points, at most cap of them
 * stored; returns how many there are. */
size_t sn_stats_hist_cdf(const rtt_hist_t *h, double *x_us, double *y, size_t cap);

/* The continent bucket of a code ("EU"; anything else is the last, unknown, bucket). */
size_t sn_stats_continent_index(const char *code);

/* ---- the aggregator's state (stats.c) ---- */

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
    uint64_t dyn[3];      /* sn_dyn_t */
    sn_u64map_t as_index; /* asn -> index into as[] */
    as_entry_t *as;
    size_t n_as, cap_as;
    uint64_t asn_known, asn_unknown;
    uint32_t *ports; /* 65536 counts, allocated at the first node */
    /* academic institutions: registrable domain of the PTR name, else the AS organisation */
    sn_u64map_t inst_index; /* hash of the name -> index into inst[] */
    as_entry_t *inst;       /* .org is the name, .count its academic nodes */
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
    sn_addrmap_t addrs; /* distinct IPs (port 0), a set */
    sn_u64map_t seen;   /* seen_count -> targets */
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
    sn_addrmap_t obs; /* observed endpoint (port 0: not said) -> alive nodes */
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
    sn_u64map_t edges; /* (a << 32 | b): label a came before b in some row */
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

/* ---- what finish hands the metric table ---- */

typedef struct seen_bin {
    uint64_t value, count;
} seen_bin_t;

typedef struct build {
    sn_stats_t *s;
    const who_t *w;  /* the population */
    const char *pop; /* its name */
    const seen_bin_t *bins;
    size_t n_bins;
} build_t;

/* Listings held by the k most-listed targets, from the seen-count histogram b. */
uint64_t sn_stats_top_listings(const seen_bin_t *b, size_t nb, uint64_t k);

/* Share of listings held by the least-listed fraction p of n targets (total
 * listings), linear within a seen-count value. */
double sn_stats_lorenz_at(const seen_bin_t *b, size_t nb, uint64_t n, uint64_t total, double p);

/*
 * Walks the metric table (metrics.c) once over b's population, appending a
 * row per metric to b->s->out (out.oom set when a row could not be added),
 * and formats the scan's start and finish times for the text rows.
 */
void sn_stats_metrics_run(build_t *b);

#endif
