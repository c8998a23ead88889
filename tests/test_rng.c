/*
 * lib/rng: splitmix64 against the reference sequence, one sequence per seed, and the
 * draws inside their ranges and close to uniform.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/rng.h"

static void test_rng_follows_the_splitmix64_reference(void **state)
{
    (void)state;
    /* splitmix64 from state 0: the first outputs of the reference implementation. */
    sn_rng_t r = sn_rng_seeded(0);
    assert_int_equal(sn_rng_next(&r), UINT64_C(0xe220a8397b1dcdaf));
    assert_int_equal(sn_rng_next(&r), UINT64_C(0x6e789e6aa1b965f4));
    assert_int_equal(sn_rng_next(&r), UINT64_C(0x06c45d188009454f));
}

static void test_rng_same_seed_same_sequence_other_seed_other(void **state)
{
    (void)state;
    sn_rng_t a = sn_rng_seeded(42), b = sn_rng_seeded(42), c = sn_rng_seeded(43);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = sn_rng_next(&a);
        assert_int_equal(x, sn_rng_next(&b));
        differ += x != sn_rng_next(&c);
    }
    assert_int_equal(differ, 100);
}

static void test_rng_draws_stay_in_range_and_near_uniform(void **state)
{
    (void)state;
    enum { N = 200000, K = 10 };
    unsigned bucket[K] = {0}, ubucket[K] = {0};
    sn_rng_t r = sn_rng_seeded(7);
    for (int i = 0; i < N; i++) {
        uint32_t k = sn_rng_below(&r, K);
        assert_true(k < K);
        bucket[k]++;
        double u = sn_rng_unit(&r);
        assert_true(u >= 0.0 && u < 1.0);
        ubucket[(int)(u * K)]++;
    }
    for (int k = 0; k < K; k++) { /* expected 20,000 each; 3% is over 7 standard deviations */
        assert_in_range(bucket[k], N / K * 97 / 100, N / K * 103 / 100);
        assert_in_range(ubucket[k], N / K * 97 / 100, N / K * 103 / 100);
    }
    assert_int_equal(sn_rng_below(&r, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_follows_the_splitmix64_reference),
        cmocka_unit_test(test_rng_same_seed_same_sequence_other_seed_other),
        cmocka_unit_test(test_rng_draws_stay_in_range_and_near_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
