/*
 * Token bucket, driven by an injected clock: no test here sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scanner/pace.h"

#define MS 1000000ull

static void test_pace_grants_rate_times_elapsed(void **state)
{
    (void)state;
    sn_pace_t p;
    sn_pace_init(&p, 1000, 100, 0); /* 1000/s, burst 100 */
    assert_int_equal(sn_pace_available(&p, 0, 1000), 1);
    sn_pace_consume(&p, 1);
    assert_int_equal(sn_pace_available(&p, 0, 1000), 0);
    /* 10 ms later: 10 tokens. */
    assert_int_equal(sn_pace_available(&p, 10 * MS, 1000), 10);
    sn_pace_consume(&p, 10);
    assert_int_equal(sn_pace_available(&p, 10 * MS, 1000), 0);
}

static void test_pace_caps_burst_after_idle(void **state)
{
    (void)state;
    sn_pace_t p;
    sn_pace_init(&p, 1000, 100, 0);
    /* A whole idle second would be 1000 tokens; the bucket holds 100. */
    assert_int_equal(sn_pace_available(&p, 1000 * MS, 100000), 100);
}

static void test_pace_available_is_capped_by_want(void **state)
{
    (void)state;
    sn_pace_t p;
    sn_pace_init(&p, 1000, 100, 0);
    assert_int_equal(sn_pace_available(&p, 50 * MS, 7), 7);
}

static void test_pace_long_run_matches_rate(void **state)
{
    (void)state;
    /* Ask every 0.3 ms for one simulated second: total sent must be the rate. */
    sn_pace_t p;
    sn_pace_init(&p, 25000, 0, 0);
    uint64_t sent = 0;
    for (uint64_t t = 0; t <= 1000 * MS; t += 300000) {
        uint64_t n = sn_pace_available(&p, t, UINT64_MAX);
        sn_pace_consume(&p, n);
        sent += n;
    }
    assert_in_range(sent, 24990, 25010);
}

static void test_pace_unlimited_grants_everything(void **state)
{
    (void)state;
    sn_pace_t p;
    sn_pace_init(&p, 0, 0, 0);
    assert_int_equal(sn_pace_available(&p, 0, 123456), 123456);
    assert_int_equal(sn_pace_wait_ns(&p, 0), 0);
}

static void test_pace_wait_says_when_next_token_comes(void **state)
{
    (void)state;
    sn_pace_t p;
    sn_pace_init(&p, 1000, 10, 0);
    sn_pace_consume(&p, sn_pace_available(&p, 0, 10));
    uint64_t w = sn_pace_wait_ns(&p, 0);
    assert_in_range(w, MS - 1000, MS + 1000);
    assert_int_equal(sn_pace_available(&p, w / 2, 10), 0);
    assert_int_equal(sn_pace_available(&p, w, 10), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pace_grants_rate_times_elapsed),
        cmocka_unit_test(test_pace_caps_burst_after_idle),
        cmocka_unit_test(test_pace_available_is_capped_by_want),
        cmocka_unit_test(test_pace_long_run_matches_rate),
        cmocka_unit_test(test_pace_unlimited_grants_everything),
        cmocka_unit_test(test_pace_wait_says_when_next_token_comes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
