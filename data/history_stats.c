/*
 * Longitudinal statistics (see history_stats.h). The definitions table is
 * the one place each statistic is defined; the functions below follow it
 * word for word, and the tests hold them to hand-computed histories.
 *
 * Population estimates treat each run as one capture occasion of the alive
 * nodes: Lincoln-Petersen in Chapman's bias-corrected form, N = (n1 + 1)(n2
 * + 1) / (m + 1) - 1 (Chapman 1951); Schnabel's multiple-census estimate,
 * N = sum_t C_t M_t / sum_t R_t (Schnabel 1938); Chao1 from the frequency of
 * capture counts, N = S + f1^2 / (2 f2), or S + f1 (f1 - 1) / 2 when f2 = 0
 * (Chao 1984, bias-corrected form for f2 = 0).
 */
#include "data/history_stats.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

const sn_hs_def_t sn_hs_defs[] = {
    {"availability", "runs_alive / runs_probed", "runs in which the node was probed"},
    {"longest_streak", "most consecutive runs in which the node was alive", "(a count of runs)"},
    {"churn.new", "|{n alive in d, alive in no run before d}|", "(a count; compare with alive)"},
    {"churn.returning", "|{n alive in d, not alive in d-1, alive in some run before d-1}|",
     "(a count; compare with alive)"},
    {"churn.gone", "|{n alive in d-1, not alive in d}| (includes nodes not listed in d)",
     "(a count; compare with the previous run's alive)"},
    {"staleness.coverage", "mean over d of |A(d) ∩ A(d+k)| / |A(d+k)|",
     "runs d with d+k a run and |A(d+k)| > 0 (pairs)"},
    {"survival", "sum over d of |A(d) ∩ A(d+k)| / sum over d of |A(d)|",
     "(node, run d) pairs with the node alive in d and d+k a run (pairs); by addr_kind: "
     "nodes of that kind"},
    {"discovery.cumulative", "|A(0) ∪ ... ∪ A(d)|", "(a count)"},
    {"population.chao1", "S + f1^2 / (2 f2); S + f1 (f1 - 1) / 2 when f2 = 0",
     "S = cumulative, f_i = nodes alive in exactly i of runs 0..d"},
    {"population.lincoln_petersen", "(n1 + 1)(n2 + 1) / (m + 1) - 1 (Chapman)",
     "n1 = |A(d-1)|, n2 = |A(d)|, m = |A(d-1) ∩ A(d)|; empty at the first run"},
    {"population.schnabel", "sum over t <= d of C_t M_t / sum over t <= d of R_t",
     "C_t = |A(t)|, M_t = |A(0) ∪ ... ∪ A(t-1)|, R_t = |A(t) ∩ M_t|; empty while sum R_t = 0"},
};
const size_t sn_hs_def_count = sizeof sn_hs_defs / sizeof sn_hs_defs[0];

static uint8_t st(const sn_hs_input_t *in, size_t t, size_t d)
{
    return in->state[t * in->n_runs + d];
}

static bool alive(const sn_hs_input_t *in, size_t t, size_t d)
{
    return st(in, t, d) == SN_HS_ALIVE;
}

void sn_hs_node(const sn_hs_input_t *in, size_t t, sn_hs_node_t *out)
{
    *out = (sn_hs_node_t){.availability = NAN};
    uint32_t streak = 0;
    for (size_t d = 0; d < in->n_runs; d++) {
        uint8_t s = st(in, t, d);
        if (s != SN_HS_NONE)
            out->runs_probed++;
        if (s == SN_HS_ALIVE) {
            out->runs_alive++;
            if (out->first_alive == 0)
                out->first_alive = in->run_id[d];
            out->last_alive = in->run_id[d];
            if (++streak > out->longest_streak)
                out->longest_streak = streak;
        } else {
            streak = 0;
        }
    }
    if (out->runs_probed > 0)
        out->availability = (double)out->runs_alive / (double)out->runs_probed;
}

void sn_hs_churn(const sn_hs_input_t *in, size_t d, sn_hs_churn_t *out)
{
    *out = (sn_hs_churn_t){0};
    for (size_t t = 0; t < in->n_targets; t++) {
        bool now = alive(in, t, d), prev = d > 0 && alive(in, t, d - 1);
        if (prev && !now)
            out->gone++;
        if (!now)
            continue;
        out->alive++;
        bool before = false; /* alive in some run before d-1 */
        for (size_t e = 0; d >= 2 && e < d - 1 && !before; e++)
            before = alive(in, t, e);
        if (!prev && !before)
            out->new_++;
        else if (!prev)
            out->returning++;
    }
}

void sn_hs_staleness(const sn_hs_input_t *in, size_t k, sn_hs_age_t *out)
{
    *out = (sn_hs_age_t){.value = NAN};
    double sum = 0;
    for (size_t d = 0; d + k < in->n_runs; d++) {
        uint64_t later = 0, both = 0;
        for (size_t t = 0; t < in->n_targets; t++) {
            if (!alive(in, t, d + k))
                continue;
            later++;
            both += alive(in, t, d);
        }
        if (later == 0)
            continue;
        out->pairs++;
        sum += (double)both / (double)later;
    }
    if (out->pairs > 0)
        out->value = sum / (double)out->pairs;
}

void sn_hs_survival(const sn_hs_input_t *in, size_t k, int kind, sn_hs_age_t *out)
{
    *out = (sn_hs_age_t){.value = NAN};
    for (size_t t = 0; t < in->n_targets; t++) {
        if (kind >= 0 && (in->kind == NULL || in->kind[t] != (uint8_t)kind))
            continue;
        for (size_t d = 0; d + k < in->n_runs; d++) {
            if (!alive(in, t, d))
                continue;
            out->pairs++;
            out->num += alive(in, t, d + k);
        }
    }
    if (out->pairs > 0)
        out->value = (double)out->num / (double)out->pairs;
}

int sn_hs_population(const sn_hs_input_t *in, sn_hs_pop_t *out)
{
    uint32_t *caught = calloc(in->n_targets ? in->n_targets : 1, sizeof *caught);
    if (caught == NULL)
        return -1;
    uint64_t cumulative = 0, f1 = 0, f2 = 0;
    double sum_cm = 0, sum_r = 0;
    for (size_t d = 0; d < in->n_runs; d++) {
        sn_hs_pop_t *p = &out[d];
        *p = (sn_hs_pop_t){.lincoln_petersen = NAN, .schnabel = NAN};
        uint64_t marked = cumulative, recaptured = 0, both = 0, prev = 0;
        for (size_t t = 0; t < in->n_targets; t++) {
            bool was = d > 0 && alive(in, t, d - 1);
            prev += was;
            if (!alive(in, t, d))
                continue;
            p->alive++;
            both += was;
            if (caught[t] > 0)
                recaptured++;
            else
                cumulative++;
            caught[t]++;
            if (caught[t] == 1)
                f1++;
            else if (caught[t] == 2)
                f1--, f2++;
            else if (caught[t] == 3)
                f2--;
        }
        p->cumulative = cumulative;
        p->f1 = f1;
        p->f2 = f2;
        double s = (double)cumulative;
        p->chao1 = f2 > 0 ? s + (double)f1 * (double)f1 / (2.0 * (double)f2)
                          : s + (double)f1 * ((double)f1 - 1.0) / 2.0;
        if (d > 0)
            p->lincoln_petersen =
                ((double)prev + 1.0) * ((double)p->alive + 1.0) / ((double)both + 1.0) - 1.0;
        sum_cm += (double)p->alive * (double)marked;
        sum_r += (double)recaptured;
        if (sum_r > 0)
            p->schnabel = sum_cm / sum_r;
    }
    free(caught);
    return 0;
}
