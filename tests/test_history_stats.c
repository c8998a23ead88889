/*
 * Longitudinal statistics (data/history_stats.c) on small histories computed
 * by hand. The main history has four runs and five nodes:
 *
 *        run 1  2  3  4      kind
 *   a        A  A  A  A      0 (static)
 *   b        A  .  A  .      1 (dynamic)   alive in alternate runs
 *   c        -  A  A  -      1             not listed in runs 1 and 4
 *   d        .  .  .  A      0
 *   e        A  -  -  A      1             alive, unlisted twice, alive
 *
 * (A alive, . probed and silent, - not probed.) So A(1) = {a,b,e},
 * A(2) = {a,c}, A(3) = {a,b,c}, A(4) = {a,d,e}. Each expected figure below
 * is worked out in its comment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "data/history_stats.h"

enum { A = SN_HS_ALIVE, S = SN_HS_PROBED, N = SN_HS_NONE };

static const int64_t ids[] = {1, 2, 3, 4};
static const uint8_t grid[] = {
    A, A, A, A, /* a */
    A, S, A, S, /* b */
    N, A, A, N, /* c */
    S, S, S, A, /* d */
    A, N, N, A, /* e */
};
static const uint8_t kinds[] = {0, 1, 1, 0, 1};
static const sn_hs_input_t H = {
    .n_runs = 4, .run_id = ids, .n_targets = 5, .state = grid, .kind = kinds};

static void test_nodes_availability_first_last_streak(void **state)
{
    (void)state;
    static const struct {
        uint32_t probed, alive, streak;
        double avail;
        int64_t first, last;
    } want[] = {
        {4, 4, 4, 1.0, 1, 4},  /* a: always alive */
        {4, 2, 1, 0.5, 1, 3},  /* b: alternate runs: streak 1 */
        {2, 2, 2, 1.0, 2, 3},  /* c: probed twice, alive both: availability 2/2 */
        {4, 1, 1, 0.25, 4, 4}, /* d: alive once in four probes */
        {2, 2, 1, 1.0, 1, 4},  /* e: runs 1 and 4 are not consecutive */
    };
    for (size_t t = 0; t < 5; t++) {
        sn_hs_node_t n;
        sn_hs_node(&H, t, &n);
        assert_int_equal(n.runs_probed, want[t].probed);
        assert_int_equal(n.runs_alive, want[t].alive);
        assert_int_equal(n.longest_streak, want[t].streak);
        assert_float_equal(n.availability, want[t].avail, 1e-12);
        assert_int_equal(n.first_alive, want[t].first);
        assert_int_equal(n.last_alive, want[t].last);
    }
}

static void test_churn_new_returning_gone(void **state)
{
    (void)state;
    static const sn_hs_churn_t want[] = {
        {3, 3, 0, 0}, /* run 1: everything alive is new */
        {2, 1, 0, 2}, /* run 2: c new; b and e gone */
        {3, 0, 1, 0}, /* run 3: b returns (alive in run 1); c was seen in run 2 */
        {3, 1, 1, 2}, /* run 4: d new, e returns, b and c gone */
    };
    for (size_t d = 0; d < 4; d++) {
        sn_hs_churn_t c;
        sn_hs_churn(&H, d, &c);
        assert_int_equal(c.alive, want[d].alive);
        assert_int_equal(c.new_, want[d].new_);
        assert_int_equal(c.returning, want[d].returning);
        assert_int_equal(c.gone, want[d].gone);
    }
}

static void test_staleness_coverage_is_mean_over_runs(void **state)
{
    (void)state;
    sn_hs_age_t a;
    /* k=1: 1/2, 2/3, 1/3: mean 1/2 over 3 pairs. */
    sn_hs_staleness(&H, 1, &a);
    assert_int_equal(a.pairs, 3);
    assert_float_equal(a.value, 0.5, 1e-12);
    /* k=2: |{a,b}|/3 and |{a}|/3: mean 1/2. */
    sn_hs_staleness(&H, 2, &a);
    assert_int_equal(a.pairs, 2);
    assert_float_equal(a.value, 0.5, 1e-12);
    /* k=3: |{a,e}|/3. */
    sn_hs_staleness(&H, 3, &a);
    assert_int_equal(a.pairs, 1);
    assert_float_equal(a.value, 2.0 / 3.0, 1e-12);
    /* k=4: no pair. */
    sn_hs_staleness(&H, 4, &a);
    assert_int_equal(a.pairs, 0);
    assert_true(isnan(a.value));
}

static void test_survival_pooled_and_by_kind(void **state)
{
    (void)state;
    sn_hs_age_t a;
    /* k=1: (1 + 2 + 1) survivors of (3 + 2 + 3). */
    sn_hs_survival(&H, 1, -1, &a);
    assert_int_equal(a.pairs, 8);
    assert_int_equal(a.num, 4);
    assert_float_equal(a.value, 0.5, 1e-12);
    /* k=2: (2 + 1) of (3 + 2). */
    sn_hs_survival(&H, 2, -1, &a);
    assert_int_equal(a.num, 3);
    assert_float_equal(a.value, 0.6, 1e-12);
    /* Static (a, d), k=1: a alive in 1,2,3, each followed by alive: 3 of 3. */
    sn_hs_survival(&H, 1, 0, &a);
    assert_int_equal(a.pairs, 3);
    assert_float_equal(a.value, 1.0, 1e-12);
    /* Dynamic (b, c, e), k=1: pairs b@1, b@3, c@2, c@3, e@1; only c@2 survives. */
    sn_hs_survival(&H, 1, 1, &a);
    assert_int_equal(a.pairs, 5);
    assert_int_equal(a.num, 1);
    assert_float_equal(a.value, 0.2, 1e-12);
}

static void test_population_discovery_and_estimates(void **state)
{
    (void)state;
    sn_hs_pop_t p[4];
    assert_int_equal(sn_hs_population(&H, p), 0);
    /* Discovery: 3, then c, nothing new, then d. */
    assert_int_equal(p[0].cumulative, 3);
    assert_int_equal(p[1].cumulative, 4);
    assert_int_equal(p[2].cumulative, 4);
    assert_int_equal(p[3].cumulative, 5);
    /* Chao1: run 1: f1=3, f2=0: 3 + 3*2/2 = 6; run 2: f1=3 (b,c,e), f2=1 (a): 4 + 9/2;
     * run 3: f1=1 (e), f2=2 (b,c): 4 + 1/4; run 4: f1=1 (d), f2=3 (b,c,e): 5 + 1/6. */
    assert_float_equal(p[0].chao1, 6.0, 1e-12);
    assert_float_equal(p[1].chao1, 8.5, 1e-12);
    assert_float_equal(p[2].chao1, 4.25, 1e-12);
    assert_float_equal(p[3].chao1, 5.0 + 1.0 / 6.0, 1e-12);
    assert_int_equal(p[3].f1, 1);
    assert_int_equal(p[3].f2, 3);
    /* Lincoln-Petersen (Chapman): (n1+1)(n2+1)/(m+1) - 1. */
    assert_true(isnan(p[0].lincoln_petersen));
    assert_float_equal(p[1].lincoln_petersen, 4.0 * 3.0 / 2.0 - 1.0, 1e-12); /* 3,2,m=1 */
    assert_float_equal(p[2].lincoln_petersen, 3.0 * 4.0 / 3.0 - 1.0, 1e-12); /* 2,3,m=2 */
    assert_float_equal(p[3].lincoln_petersen, 4.0 * 4.0 / 2.0 - 1.0, 1e-12); /* 3,3,m=1 */
    /* Schnabel: sum C*M / sum R: (2*3)/1; (6 + 3*4)/(1+3); (18 + 3*4)/(4+2). */
    assert_true(isnan(p[0].schnabel));
    assert_float_equal(p[1].schnabel, 6.0, 1e-12);
    assert_float_equal(p[2].schnabel, 4.5, 1e-12);
    assert_float_equal(p[3].schnabel, 5.0, 1e-12);
}

static void test_empty_history_has_no_rows_and_no_crash(void **state)
{
    (void)state;
    sn_hs_input_t e = {.n_runs = 0, .n_targets = 0};
    sn_hs_age_t a;
    sn_hs_staleness(&e, 1, &a);
    assert_int_equal(a.pairs, 0);
    sn_hs_survival(&e, 1, -1, &a);
    assert_int_equal(a.pairs, 0);
    assert_true(isnan(a.value));
    sn_hs_pop_t p[1];
    assert_int_equal(sn_hs_population(&e, p), 0);
}

static void test_one_run_everything_new_nothing_to_compare(void **state)
{
    (void)state;
    static const int64_t id1[] = {7};
    static const uint8_t g[] = {A, S, A, N};
    sn_hs_input_t h = {.n_runs = 1, .run_id = id1, .n_targets = 4, .state = g};
    sn_hs_churn_t c;
    sn_hs_churn(&h, 0, &c);
    assert_int_equal(c.alive, 2);
    assert_int_equal(c.new_, 2);
    assert_int_equal(c.gone, 0);
    sn_hs_node_t n;
    sn_hs_node(&h, 3, &n); /* never probed: availability undefined */
    assert_int_equal(n.runs_probed, 0);
    assert_true(isnan(n.availability));
    assert_int_equal(n.first_alive, 0);
    sn_hs_node(&h, 0, &n);
    assert_int_equal(n.first_alive, 7);
    sn_hs_pop_t p[1];
    assert_int_equal(sn_hs_population(&h, p), 0);
    assert_float_equal(p[0].chao1, 2.0 + 1.0, 1e-12); /* f1=2, f2=0: 2 + 2*1/2 */
    assert_true(isnan(p[0].lincoln_petersen));
    assert_true(isnan(p[0].schnabel));
}

static void test_streak_ties_take_the_length(void **state)
{
    (void)state;
    static const int64_t id5[] = {1, 2, 3, 4, 5};
    static const uint8_t g[] = {A, A, S, A, A,  /* two streaks of 2 */
                                A, N, A, A, A}; /* unlisted breaks a streak: 3 */
    sn_hs_input_t h = {.n_runs = 5, .run_id = id5, .n_targets = 2, .state = g};
    sn_hs_node_t n;
    sn_hs_node(&h, 0, &n);
    assert_int_equal(n.longest_streak, 2);
    assert_float_equal(n.availability, 0.8, 1e-12);
    sn_hs_node(&h, 1, &n);
    assert_int_equal(n.longest_streak, 3);
    assert_int_equal(n.runs_probed, 4);
    assert_float_equal(n.availability, 1.0, 1e-12);
}

static void test_every_definition_has_formula_and_denominator(void **state)
{
    (void)state;
    assert_true(sn_hs_def_count >= 10);
    for (size_t i = 0; i < sn_hs_def_count; i++) {
        assert_non_null(sn_hs_defs[i].formula);
        assert_true(sn_hs_defs[i].formula[0] != '\0');
        assert_true(sn_hs_defs[i].denominator[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nodes_availability_first_last_streak),
        cmocka_unit_test(test_churn_new_returning_gone),
        cmocka_unit_test(test_staleness_coverage_is_mean_over_runs),
        cmocka_unit_test(test_survival_pooled_and_by_kind),
        cmocka_unit_test(test_population_discovery_and_estimates),
        cmocka_unit_test(test_empty_history_has_no_rows_and_no_crash),
        cmocka_unit_test(test_one_run_everything_new_nothing_to_compare),
        cmocka_unit_test(test_streak_ties_take_the_length),
        cmocka_unit_test(test_every_definition_has_formula_and_denominator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
