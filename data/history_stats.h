/*
 * Longitudinal statistics over a history: availability and streaks per
 * node, churn per run, list staleness and survival per age, the discovery
 * curve and population estimates. Pure arithmetic on a matrix of states
 * (target x run), so every statistic is tested on hand-computed histories
 * without a store, and every backend's data gives the same numbers.
 *
 * Each statistic is defined once, in sn_hs_defs[] (history_stats.c): its
 * formula and its denominator, which `snprobe history definitions` and the
 * README print.
 *
 * Runs considered: the complete runs, in the order of their ids. A target
 * "alive in run d" answered over UDP or TCP in run d; "probed in run d" it
 * has an observation of run d that is not blocked.
 */
#ifndef SN_HISTORY_STATS_H
#define SN_HISTORY_STATS_H

#include <stddef.h>
#include <stdint.h>

enum { SN_HS_NONE = 0, SN_HS_PROBED = 1, SN_HS_ALIVE = 2 };

typedef struct sn_hs_input {
    size_t n_runs;
    const int64_t *run_id; /* per run, ascending */
    size_t n_targets;
    const uint8_t *state; /* state[t * n_runs + d]: SN_HS_* */
    const uint8_t *kind;  /* per target: a class index (addr_kind), or NULL */
} sn_hs_input_t;

typedef struct sn_hs_def {
    const char *name, *formula, *denominator;
} sn_hs_def_t;

extern const sn_hs_def_t sn_hs_defs[];
extern const size_t sn_hs_def_count;

typedef struct sn_hs_node {
    uint32_t runs_probed, runs_alive, longest_streak;
    double availability;             /* runs_alive / runs_probed; NaN when never probed */
    int64_t first_alive, last_alive; /* run ids; 0: never alive */
} sn_hs_node_t;

void sn_hs_node(const sn_hs_input_t *in, size_t t, sn_hs_node_t *out);

typedef struct sn_hs_churn {
    uint64_t alive, new_, returning, gone;
} sn_hs_churn_t;

void sn_hs_churn(const sn_hs_input_t *in, size_t d, sn_hs_churn_t *out);

/* A per-age statistic: value = num / den (a mean over pairs for staleness). */
typedef struct sn_hs_age {
    uint64_t pairs; /* staleness: runs d with |alive(d+k)| > 0; survival: (node, d) pairs */
    uint64_t num;   /* survival: survivors */
    double value;   /* NaN when pairs is 0 */
} sn_hs_age_t;

/* coverage(k) = mean over d of |A(d) ∩ A(d+k)| / |A(d+k)|, over d with |A(d+k)| > 0. */
void sn_hs_staleness(const sn_hs_input_t *in, size_t k, sn_hs_age_t *out);

/*
 * survival(k) = sum_d |A(d) ∩ A(d+k)| / sum_d |A(d)|, over d with d+k a run;
 * kind < 0: every node, else only nodes of that class.
 */
void sn_hs_survival(const sn_hs_input_t *in, size_t k, int kind, sn_hs_age_t *out);

typedef struct sn_hs_pop {
    uint64_t alive, cumulative; /* |A(d)|, |A(0) ∪ ... ∪ A(d)| */
    uint64_t f1, f2;            /* nodes alive in exactly 1 / 2 of runs 0..d */
    double chao1;               /* over runs 0..d */
    double lincoln_petersen;    /* Chapman form on runs d-1, d; NaN at d = 0 */
    double schnabel;            /* over runs 0..d; NaN while no recapture */
} sn_hs_pop_t;

/* Fills out[0 .. n_runs-1]. Returns 0, or -1 when out of memory. */
int sn_hs_population(const sn_hs_input_t *in, sn_hs_pop_t *out);

#endif
