/*
 * The statistics aggregator: what a scan found, summed while the results
 * stream, so that memory grows with the number of distinct keys (countries,
 * ASes, ports, seen-count values, input labels, distinct addresses), never
 * with the number of rows. Round-trip times go into log-bucket histograms
 * (exact below 128 us, within 0.8% above), so a million targets cost the same
 * few hundred kilobytes as a thousand.
 *
 * Two ways to feed it:
 *   scan mode      sn_stats_set_targets once (listings, distinct targets and
 *                  addresses, seen-counts and the discovery curve come from
 *                  the target set, exact even for an interrupted scan), then
 *                  sn_stats_add for every result.
 *   read-back mode sn_stats_add_row for every row of a saved results file;
 *                  the target-level facts come from the rows, and the input a
 *                  target was first listed by is the first label of its
 *                  `sources` cell. Input order is recovered from the order of
 *                  labels within the rows (a topological order, ties by first
 *                  appearance).
 * Then sn_stats_finish computes the derived figures once; the summary
 * (CSV/NDJSON), the HTML report and the tests all read the same rows.
 *
 * Every statistic is defined once, in the metric table in stats.c: its name,
 * its unit, its denominator and, where the studies measured the same thing,
 * their figure. The summary files and the HTML headline derive from it.
 */
#ifndef SN_STATS_H
#define SN_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data/targets.h"
#include "data/result.h"
#include "lib/status.h"
#include "reports/output.h"
#include "lib/outfile.h"
#include "lib/sha256.h" /* sn_sha256_*: its users once found it here */

typedef struct sn_stats sn_stats_t;

/*
 * The bias-corrected Chao1 estimate of a population's size from how often
 * each member was seen: s_obs + f1 (f1 - 1) / (2 (f2 + 1)), with f1 and f2 the
 * members seen exactly once and exactly twice. It is a lower bound on the
 * number of members, those never seen included; with no singletons it is s_obs.
 */
double sn_stats_chao1(uint64_t s_obs, uint64_t f1, uint64_t f2);

/* A fresh aggregator; NULL when out of memory. */
sn_stats_t *sn_stats_new(void);

/* Accepts NULL. */
void sn_stats_free(sn_stats_t *st);

/*
 * Scan mode: takes listings, distinct targets and addresses, seen-counts, the
 * inputs (names, order, listings) and the first-seen counts of the discovery
 * curve from ts; bad is the number of bad entries skipped while reading.
 * Call once, before the first sn_stats_add. ts need not outlive st.
 * Returns SN_ENOMEM.
 */
sn_status_t sn_stats_set_targets(sn_stats_t *st, const sn_targets_t *ts, uint64_t bad,
                                 sn_error_t *err);

/*
 * Adds one result of the scan (each target once; blocked targets too). Without
 * sn_stats_set_targets the target-level facts come from r->target, and its
 * first_input names an input "input N". Returns SN_ENOMEM (the statistics are
 * then incomplete; later calls may still succeed).
 */
sn_status_t sn_stats_add(sn_stats_t *st, const sn_result_t *r);

/*
 * Read-back mode: one row of a saved results file. Whether the address the
 * nodes saw us at is one of this machine's (observed.local) stays unknown for
 * such rows: the machine reading them may not be the one that scanned.
 * sources is the row's
 * `sources` cell (labels joined with ';'; NULL or "" when none), vantage its
 * `vantage` cell (NULL or ""; the first non-empty one is the scan's vantage,
 * and a later different one is recorded as mixed). Returns SN_ENOMEM.
 */
sn_status_t sn_stats_add_row(sn_stats_t *st, const sn_result_t *r, const char *sources,
                             const char *vantage);

/* ---- scan metadata (all strings are copied) ---- */

typedef enum sn_stats_text {
    SN_STATS_VERSION = 0, /* snprobe version */
    SN_STATS_COMMAND,     /* the command line or options, as the user gave them */
    SN_STATS_VANTAGE,     /* compact vantage (sn_vantage_format) */
    SN_STATS_WHERE,       /* free text: where the scan ran from */
    SN_STATS_TEXT_COUNT
} sn_stats_text_t;

sn_status_t sn_stats_set_text(sn_stats_t *st, sn_stats_text_t which, const char *value);

/* Unix seconds when the scan (or the report) started and finished; 0: unknown. */
void sn_stats_set_time(sn_stats_t *st, int64_t started, int64_t finished);

/* The scan was interrupted: targets not yet started are not in the results. */
void sn_stats_set_interrupted(sn_stats_t *st, bool interrupted);

/* A data source in use (a geo database's credit line, the suffix list, ...). */
sn_status_t sn_stats_add_data_source(sn_stats_t *st, const char *credit);

/*
 * A file the scan or the report read (role: "input", "results", ...), with its
 * SHA-256 digest computed here. "-" (standard input) is recorded without a
 * digest. Returns SN_EIO naming the file when it cannot be read.
 */
sn_status_t sn_stats_add_file(sn_stats_t *st, const char *role, const char *path, sn_error_t *err);

/* ---- results ---- */

typedef enum sn_stats_unit {
    SN_UNIT_COUNT = 0, /* an integer number of nodes, listings, ... */
    SN_UNIT_SHARE,     /* a fraction 0..1 of its denominator */
    SN_UNIT_MS,        /* milliseconds */
    SN_UNIT_NUMBER,    /* a dimensionless figure (an index) */
    SN_UNIT_TEXT       /* a text value (metadata) */
} sn_stats_unit_t;

/* One line of the summary: metric, value, denominator. */
typedef struct sn_stats_row {
    char name[80];
    sn_stats_unit_t unit;
    bool known;           /* false: no value (an empty denominator, unknown) */
    double value;         /* counts are exact up to 2^53 */
    const char *text;     /* SN_UNIT_TEXT: the value (owned by the stats) */
    char denominator[64]; /* the metric it divides by, or the set it is taken over; "" */
    const char *study;    /* the studies' figure as text ("35%"), or NULL */
    const char *help;     /* what it means (static) */
    bool headline;        /* shown first in the HTML report */
    bool has_unknown;     /* a share that is n/a because nothing is known: ... */
    uint64_t unknown;     /* ... this many nodes have the fact unknown */
} sn_stats_row_t;

/* A bar of a chart: a key (country code, ASN, port, class), a label, a count. */
typedef struct sn_stats_bar {
    char key[32];
    const char *label; /* longer text (AS organisation) or NULL; owned by the stats */
    uint64_t count;
} sn_stats_bar_t;

typedef struct sn_stats_series {
    sn_stats_bar_t *v; /* sorted: count descending, then key */
    size_t n;
    uint64_t total;          /* the denominator of the shares */
    const char *denominator; /* its metric name */
} sn_stats_series_t;

/* One input of the discovery curve, in input order. */
typedef struct sn_stats_input {
    const char *name;
    uint64_t listings; /* listings read from it; 0 when unknown (read-back) */
    bool listings_known;
    uint64_t new_targets; /* targets it listed first */
    uint64_t new_alive;   /* of those, alive */
    uint64_t cum_targets; /* distinct targets after it */
    uint64_t cum_alive;
} sn_stats_input_t;

/* A most-listed node, with who it is. */
typedef struct sn_stats_node {
    sn_addr_t addr;
    uint32_t seen_count;
    char reach[24];
    char ptr[256];
    char country[3];
    uint32_t asn;
    char as_org[128];
} sn_stats_node_t;

typedef struct sn_stats_file {
    char *role, *name;
    char sha256[65]; /* "" for standard input */
    uint64_t bytes;
} sn_stats_file_t;

enum { SN_RTT_UDP = 0, SN_RTT_TCP = 1 };
#define SN_STATS_CONTINENTS 8 /* AF AN AS EU NA OC SA, then unknown */
#define SN_STATS_TOP_NODES 20

/* Everything sn_stats_finish computed; read-only, valid until sn_stats_free. */
typedef struct sn_stats_view {
    const sn_stats_row_t *rows;
    size_t n_rows;
    const char *population; /* "alive" or "targets": what the who-statistics count */
    uint64_t population_n;
    sn_stats_series_t reach, continents, countries, asns, ports;
    /* Academic institutions (registrable domain of the PTR name, else the AS
     * organisation), top 10; total is the academic nodes counted in it. */
    sn_stats_series_t institutions;
    /* Lorenz curve of seen-counts: n_lorenz points (x: share of nodes, y: share of
     * listings), from (0,0) to (1,1), nodes in increasing seen-count. */
    const double *lorenz_x, *lorenz_y;
    size_t n_lorenz;
    const sn_stats_input_t *inputs;
    size_t n_inputs;
    const sn_stats_node_t *top_nodes; /* seen_count descending, then address */
    size_t n_top_nodes;
    const sn_stats_file_t *files;
    size_t n_files;
    const char *const *data_sources;
    size_t n_data_sources;
    const char *text[SN_STATS_TEXT_COUNT]; /* "" when not set */
    bool vantage_mixed;
    int64_t started, finished;
    bool interrupted;
    bool enriched; /* any row carried enrichment */
} sn_stats_view_t;

/*
 * Computes the derived figures and the summary rows; for results added with
 * sn_stats_add it lists this machine's interface addresses (getifaddrs) to
 * tell whether the nodes saw us at one of them. Adding after finish is
 * allowed; finish again to refresh. Returns SN_ENOMEM.
 */
sn_status_t sn_stats_finish(sn_stats_t *st, sn_error_t *err);

/* The view computed by the last sn_stats_finish (NULL before the first). */
const sn_stats_view_t *sn_stats_view(const sn_stats_t *st);

/*
 * The value of a row as the summary writes it: counts as integers, shares as
 * fractions with 6 decimals, milliseconds with 3, indices with 4, text as is;
 * "" when unknown.
 */
void sn_stats_format_value(const sn_stats_row_t *row, char *buf, size_t cap);

/*
 * Walks the metric table: every statistic's name ('*' stands for a key of a
 * series: a country, an AS, a port, an input number), unit, denominator
 * ("@pop" is the population: alive, or every target when nothing was
 * probed), the studies' figure where there is one for the whole series, and
 * its meaning. The HTML report prints it as its definitions.
 */
void sn_stats_definitions(void (*fn)(void *ud, const char *name, sn_stats_unit_t unit,
                                     const char *denominator, const char *help),
                          void *ud);

/* "count", "share", "ms", "number", "text". */
const char *sn_stats_unit_name(sn_stats_unit_t u);

/* The row named name, or NULL. */
const sn_stats_row_t *sn_stats_find(const sn_stats_t *st, const char *name);

/*
 * Round-trip time quantile (permille: 500, 900, 990; nearest rank) in
 * microseconds of kind SN_RTT_UDP/SN_RTT_TCP, over all nodes (continent
 * NULL) or one continent ("EU", ..., "" for unknown). False when there is no
 * sample. Exact below 128 us; above, the middle of a bucket 1/64 of its
 * power of two wide (within 0.8%), clamped to the observed minimum and maximum.
 */
bool sn_stats_rtt_quantile(const sn_stats_t *st, int kind, const char *continent, unsigned permille,
                           uint32_t *out_us);

/* Number of RTT samples of kind (and continent, as above). */
uint64_t sn_stats_rtt_count(const sn_stats_t *st, int kind, const char *continent);

/*
 * Points of the empirical CDF of kind (and continent): for each non-empty
 * bucket, its upper bound in microseconds and the share of samples at or
 * below it. Writes at most cap points; returns the number of points there are.
 */
size_t sn_stats_rtt_cdf(const sn_stats_t *st, int kind, const char *continent, double *x_us,
                        double *y, size_t cap);

/* Continent code of index i (0..6), "" for 7 (unknown); and its English name. */
const char *sn_stats_continent_code(size_t i);
const char *sn_stats_continent_name(const char *code);

/*
 * Writes the summary, one row per metric: CSV `metric,value,denominator`
 * (header first) or NDJSON {"metric":...,"value":...,"denominator":...}
 * (value a number, a string for text, null when unknown). Finishes st first.
 * path "-" is standard output; otherwise an sn_outfile (lib/outfile.h).
 * Returns SN_EIO naming the file, SN_ENOMEM.
 */
sn_status_t sn_stats_write_summary(sn_stats_t *st, const char *path, sn_output_format_t fmt,
                                   sn_error_t *err);

#endif
