/*
 * The TCP transport's adaptive timeout (scanner/rto.c), driven by numbers:
 * no test here sleeps or opens a socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "scanner/rto.h"

#define MS 1000000ull
#define US 1000ull

/* n answers, each elapsed_ns after its attempt. */
static void answer_n(sn_rto_t *r, unsigned n, uint64_t elapsed_ns)
{
    for (unsigned i = 0; i < n; i++)
        sn_rto_answered(r, elapsed_ns);
}

static void test_rto_fixed_is_always_the_configured_timeout(void **state)
{
    (void)state;
    sn_rto_t r;
    sn_rto_init(&r, 1000 * MS, false);
    sn_rto_sent(&r, 0);
    answer_n(&r, 1000, 100 * US);
    assert_int_equal(sn_rto_timeout(&r, 5000 * MS), 1000 * MS);
    assert_int_equal(sn_rto_deadline(&r, 4000 * MS), 5000 * MS);
    assert_false(sn_rto_learned(&r, 5000 * MS));
}

static void test_rto_waits_the_configured_timeout_before_the_first_attempts_had_it(void **state)
{
    (void)state;
    sn_rto_t r;
    sn_rto_init(&r, 1000 * MS, true);
    assert_int_equal(sn_rto_timeout(&r, 0), 1000 * MS); /* nothing sent yet */
    sn_rto_sent(&r, 10 * MS);
    sn_rto_sent(&r, 20 * MS); /* only the first attempt's time counts */
    answer_n(&r, 1000, 100 * US);
    assert_int_equal(sn_rto_timeout(&r, 1009 * MS), 1000 * MS);
    assert_false(sn_rto_learned(&r, 1009 * MS));
    /* From first + configured on, the learned one: the floor here. */
    assert_true(sn_rto_learned(&r, 1010 * MS));
    assert_int_equal(sn_rto_timeout(&r, 1010 * MS), SN_RTO_FLOOR_NS);
}

static void test_rto_waits_the_configured_timeout_until_enough_answers(void **state)
{
    (void)state;
    sn_rto_t r;
    sn_rto_init(&r, 1000 * MS, true);
    sn_rto_sent(&r, 0);
    answer_n(&r, SN_RTO_MIN_SAMPLES - 1, 1 * MS);
    assert_int_equal(sn_rto_timeout(&r, 10000 * MS), 1000 * MS);
    assert_int_equal(sn_rto_deadline(&r, 9000 * MS), 10000 * MS);
    sn_rto_answered(&r, 1 * MS);
    assert_int_equal(sn_rto_timeout(&r, 10000 * MS), SN_RTO_FLOOR_NS);
}

static void test_rto_is_twice_the_slowest_answer_within_floor_and_configured(void **state)
{
    (void)state;
    static const struct {
        uint64_t configured, slowest, want;
    } cases[] = {
        {1000 * MS, 100 * US, SN_RTO_FLOOR_NS}, /* fast: the floor */
        {1000 * MS, 49 * MS, SN_RTO_FLOOR_NS},
        {1000 * MS, 200 * MS, 400 * MS}, /* a 200 ms share: twice that */
        {1000 * MS, 499 * MS, 998 * MS},
        {1000 * MS, 600 * MS, 1000 * MS}, /* never over the configured one */
        {1000 * MS, 1500 * MS, 1000 * MS},
        {50 * MS, 100 * US, 50 * MS}, /* a configured one under the floor stays */
        {3000 * MS, 800 * MS, 1600 * MS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_rto_t r;
        sn_rto_init(&r, cases[i].configured, true);
        sn_rto_sent(&r, 0);
        answer_n(&r, SN_RTO_MIN_SAMPLES, 10 * US);
        sn_rto_answered(&r, cases[i].slowest);
        assert_int_equal(sn_rto_timeout(&r, 100000 * MS), cases[i].want);
    }
}

static void test_rto_slower_answer_lengthens_it_at_once(void **state)
{
    (void)state;
    sn_rto_t r;
    sn_rto_init(&r, 1000 * MS, true);
    sn_rto_sent(&r, 0);
    answer_n(&r, 100, 100 * US);
    assert_int_equal(sn_rto_timeout(&r, 2000 * MS), SN_RTO_FLOOR_NS);
    sn_rto_answered(&r, 300 * MS);
    assert_int_equal(sn_rto_timeout(&r, 2000 * MS), 600 * MS);
    answer_n(&r, 100, 100 * US); /* faster answers never shorten it again */
    assert_int_equal(sn_rto_timeout(&r, 2000 * MS), 600 * MS);
}

static void test_rto_deadline_never_before_the_learning_ends_nor_after_the_configured(void **state)
{
    (void)state;
    sn_rto_t r;
    sn_rto_init(&r, 1000 * MS, true);
    sn_rto_sent(&r, 0);
    answer_n(&r, 100, 100 * US);
    /* Made at 500 ms: the learned 100 ms would end it at 600 ms, but nothing is
     * cut before 1000 ms (first + configured). */
    assert_int_equal(sn_rto_deadline(&r, 500 * MS), 1000 * MS);
    /* Made at 950 ms: 1050 ms. */
    assert_int_equal(sn_rto_deadline(&r, 950 * MS), 1050 * MS);
    sn_rto_answered(&r, 900 * MS);
    /* Twice 900 ms is over the configured timeout: start + configured. */
    assert_int_equal(sn_rto_deadline(&r, 950 * MS), 1950 * MS);
    /* The deadline agrees with the timeout at that moment. */
    assert_int_equal(sn_rto_deadline(&r, 5000 * MS), 5000 * MS + sn_rto_timeout(&r, 6000 * MS));
}

/*
 * A whole scan, simulated: 40,000 attempts at one every 25 us; 10% of the
 * targets answer 200 ms late, 25% never, the rest in 100 us. Every millisecond
 * the answers due by then are fed in, then no attempt still waiting for its
 * answer may be due. The dead ones made after the learning are cut well before
 * the configured timeout (what the timeout is for).
 */
static void test_rto_never_cuts_a_200ms_share_of_a_scan(void **state)
{
    (void)state;
    enum { N = 40000 };
    const uint64_t step = 25 * US, configured = 1000 * MS;
    uint64_t *answer_at = calloc(N, sizeof *answer_at); /* 0: never answers */
    unsigned *pending = calloc(N, sizeof *pending);     /* attempts neither answered nor cut */
    assert_non_null(answer_at);
    assert_non_null(pending);
    sn_rto_t r;
    sn_rto_init(&r, configured, true);
    for (unsigned i = 0; i < N; i++) {
        unsigned kind = (i * 7919u) % 20u; /* the kinds spread over the scan */
        uint64_t start = i * step;
        answer_at[i] = kind < 2 ? start + 200 * MS : kind < 7 ? 0 : start + 100 * US;
    }
    unsigned sent = 0, n_pending = 0, slow_answered = 0, dead_cut = 0, dead_cut_late = 0;
    for (uint64_t now = 0; now <= N * step + 2 * configured; now += MS) {
        while (sent < N && sent * step <= now) {
            sn_rto_sent(&r, sent * step);
            pending[n_pending++] = sent++;
        }
        unsigned kept = 0;
        for (unsigned k = 0; k < n_pending; k++) {
            unsigned i = pending[k];
            if (answer_at[i] != 0 && answer_at[i] <= now) {
                sn_rto_answered(&r, answer_at[i] - i * step);
                slow_answered += answer_at[i] - i * step > 100 * MS;
                continue;
            }
            pending[kept++] = i;
        }
        n_pending = kept;
        kept = 0;
        for (unsigned k = 0; k < n_pending; k++) {
            unsigned i = pending[k];
            if (sn_rto_deadline(&r, i * step) > now) {
                pending[kept++] = i;
                continue;
            }
            assert_int_equal(answer_at[i], 0); /* only a dead one is ever due */
            dead_cut++;
            /* Made after the learning: cut at twice 200 ms, give or take the tick. */
            if (i * step > configured && now - i * step > 402 * MS)
                dead_cut_late++;
        }
        n_pending = kept;
    }
    assert_int_equal(n_pending, 0);
    assert_int_equal(slow_answered, N / 10);
    assert_int_equal(dead_cut, N / 4);
    assert_int_equal(dead_cut_late, 0);
    free(answer_at);
    free(pending);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rto_fixed_is_always_the_configured_timeout),
        cmocka_unit_test(test_rto_waits_the_configured_timeout_before_the_first_attempts_had_it),
        cmocka_unit_test(test_rto_waits_the_configured_timeout_until_enough_answers),
        cmocka_unit_test(test_rto_is_twice_the_slowest_answer_within_floor_and_configured),
        cmocka_unit_test(test_rto_slower_answer_lengthens_it_at_once),
        cmocka_unit_test(test_rto_deadline_never_before_the_learning_ends_nor_after_the_configured),
        cmocka_unit_test(test_rto_never_cuts_a_200ms_share_of_a_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
