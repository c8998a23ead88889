/*
 * lib/hashmap.c: the counting maps keep every key through many growths, an
 * absent key stays absent, the reserved empty keys are refused, iteration
 * visits each key once, and an address set keeps one entry per address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hashmap.h"

static void test_u64map_counts_survive_growth(void **state)
{
    (void)state;
    sn_u64map_t m = {0};
    const uint64_t n = 100000;
    for (uint64_t round = 0; round < 3; round++)
        for (uint64_t i = 0; i < n; i++) {
            uint64_t *v = sn_u64map_get(&m, i * 7919u, true);
            assert_non_null(v);
            *v += i + 1;
        }
    assert_int_equal(m.n, n);
    assert_true(m.n * 4 <= m.cap * 3);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t *v = sn_u64map_get(&m, i * 7919u, false);
        assert_non_null(v);
        assert_int_equal(*v, 3 * (i + 1));
    }
    assert_null(sn_u64map_get(&m, 7919u * n, false));
    assert_null(sn_u64map_get(&m, 1, false));
    sn_u64map_free(&m);
    assert_int_equal(m.n, 0);
    sn_u64map_free(&m); /* freeing an empty map again is fine */
}

static void test_u64map_refuses_the_empty_key(void **state)
{
    (void)state;
    sn_u64map_t m = {0};
    assert_null(sn_u64map_get(&m, 5, false)); /* empty map, no table yet */
    assert_null(sn_u64map_get(&m, UINT64_MAX, true));
    assert_int_equal(m.n, 0);
    uint64_t *v = sn_u64map_get(&m, 0, true); /* 0 is an ordinary key */
    assert_non_null(v);
    assert_int_equal(*v, 0);
    assert_int_equal(m.n, 1);
    sn_u64map_free(&m);
}

static void test_u64map_iteration_visits_each_key_once(void **state)
{
    (void)state;
    sn_u64map_t m = {0};
    enum { N = 1000 };
    for (uint64_t i = 0; i < N; i++)
        *sn_u64map_get(&m, i << 32, true) = i;
    bool *seen = calloc(N, sizeof *seen);
    assert_non_null(seen);
    size_t count = 0;
    uint64_t k, v;
    for (size_t pos = 0; sn_u64map_next(&m, &pos, &k, &v);) {
        assert_int_equal(k >> 32, v);
        assert_false(seen[v]);
        seen[v] = true;
        count++;
    }
    assert_int_equal(count, N);
    free(seen);
    sn_u64map_free(&m);
}

static sn_addr_t addr_of(const char *s, uint16_t port)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(s, strlen(s), &a), SN_OK);
    a.port = port;
    return a;
}

static void test_addrmap_set_keeps_one_entry_per_address(void **state)
{
    (void)state;
    sn_addrmap_t set = {0};
    char ip[64];
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 5000; i++) {
            snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
            sn_addr_t a = addr_of(ip, 0);
            assert_true(sn_addrmap_put(&set, &a));
            snprintf(ip, sizeof ip, "2001:db8::%x", i);
            a = addr_of(ip, 0);
            assert_true(sn_addrmap_put(&set, &a));
        }
    assert_int_equal(set.n, 10000);
    assert_null(set.v); /* a set stores no values */
    sn_addr_t none;
    memset(&none, 0, sizeof none);
    assert_true(sn_addrmap_put(&set, &none)); /* family 0: ignored */
    assert_int_equal(set.n, 10000);
    sn_addrmap_free(&set);
}

static void test_addrmap_counts_per_endpoint(void **state)
{
    (void)state;
    sn_addrmap_t m = {0};
    sn_addr_t a = addr_of("192.0.2.1", 4000), b = addr_of("192.0.2.1", 4001);
    sn_addr_t c = addr_of("2001:db8::1", 4000);
    for (int i = 0; i < 3; i++)
        (*sn_addrmap_get(&m, &a, true))++;
    (*sn_addrmap_get(&m, &b, true))++;
    (*sn_addrmap_get(&m, &c, true))++;
    /* garbage past the IPv4 bytes does not make a second key */
    sn_addr_t dirty = a;
    memset(dirty.ip + 4, 0xAB, sizeof dirty.ip - 4);
    (*sn_addrmap_get(&m, &dirty, true))++;
    assert_int_equal(m.n, 3);
    assert_int_equal(*sn_addrmap_get(&m, &a, false), 4);
    assert_int_equal(*sn_addrmap_get(&m, &b, false), 1);
    sn_addr_t absent = addr_of("192.0.2.2", 4000);
    assert_null(sn_addrmap_get(&m, &absent, false));
    uint64_t total = 0, v;
    size_t keys = 0;
    sn_addr_t k;
    for (size_t pos = 0; sn_addrmap_next(&m, &pos, &k, &v);) {
        total += v;
        keys++;
    }
    assert_int_equal(keys, 3);
    assert_int_equal(total, 6);
    sn_addrmap_free(&m);
    sn_addrmap_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64map_counts_survive_growth),
        cmocka_unit_test(test_u64map_refuses_the_empty_key),
        cmocka_unit_test(test_u64map_iteration_visits_each_key_once),
        cmocka_unit_test(test_addrmap_set_keeps_one_entry_per_address),
        cmocka_unit_test(test_addrmap_counts_per_endpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
