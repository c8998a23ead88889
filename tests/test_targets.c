/*
 * Tests for data/targets.c: dedupe across inputs, seen counts with the
 * `count` column, source labels in first-seen order without repeats,
 * first/last seen merging, flags, per-input listing counts, and growth of the
 * hash table well past 100k targets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "data/targets.h"

static sn_addr_t ep(const char *s)
{
    sn_addr_t a;
    const char *why = NULL;
    if (sn_addr_parse_endpoint(s, strlen(s), &a, &why) != SN_OK)
        fail_msg("test endpoint \"%s\" rejected: %s", s, why ? why : "?");
    return a;
}

/* Collects source labels joined by ',' for whole-string comparison. */
typedef struct joined {
    char buf[512];
} joined_t;

static void join_label(const char *label, void *ud)
{
    joined_t *j = ud;
    size_t n = strlen(j->buf);
    snprintf(j->buf + n, sizeof j->buf - n, "%s%s", n ? "," : "", label);
}

static const char *sources_of(const sn_targets_t *ts, const sn_target_t *t, joined_t *j)
{
    j->buf[0] = '\0';
    sn_targets_foreach_source(ts, t, join_label, j);
    return j->buf;
}

static void test_targets_struct_is_56_bytes(void **state)
{
    (void)state;
    /* The benchmark holds a million targets; the size is a budget, not an accident. */
    assert_int_equal(sizeof(sn_target_t), 56);
    assert_int_equal(sizeof(sn_addr_t), 20);
}

static void test_targets_add_before_begin_input_is_rejected(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    assert_non_null(ts);
    sn_addr_t a = ep("1.2.3.4:80");
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_EINVAL);
    assert_int_equal(sn_targets_count(ts), 0);
    sn_targets_free(ts);
}

static void test_targets_rejects_address_without_family(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    assert_int_equal(sn_targets_begin_input(ts, "a"), 0);
    sn_addr_t none;
    memset(&none, 0, sizeof none);
    assert_int_equal(sn_targets_add(ts, &none, NULL), SN_EINVAL);
    assert_int_equal(sn_targets_count(ts), 0);
    assert_int_equal(sn_targets_listings(ts), 0);
    sn_targets_free(ts);
}

static void test_targets_dedupes_across_inputs_and_sums_seen_count(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    assert_int_equal(sn_targets_begin_input(ts, "cache1.xml"), 0);
    sn_addr_t a = ep("1.2.3.4:80"), b = ep("5.6.7.8:33033"), c = ep("[2001:db8::1]:80");
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    assert_int_equal(sn_targets_add(ts, &b, NULL), SN_OK);
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK); /* twice in one input */
    assert_int_equal(sn_targets_begin_input(ts, "cache2.xml"), 1);
    sn_listing_t l = {.count = 5};
    assert_int_equal(sn_targets_add(ts, &a, &l), SN_OK);
    assert_int_equal(sn_targets_add(ts, &c, NULL), SN_OK);
    sn_listing_t zero = {.count = 0}; /* 0 is read as 1 */
    assert_int_equal(sn_targets_add(ts, &c, &zero), SN_OK);

    assert_int_equal(sn_targets_count(ts), 3);
    assert_int_equal(sn_targets_input_count(ts), 2);
    assert_string_equal(sn_targets_input_name(ts, 0), "cache1.xml");
    assert_string_equal(sn_targets_input_name(ts, 1), "cache2.xml");
    assert_null(sn_targets_input_name(ts, 2));
    assert_int_equal(sn_targets_input_listings(ts, 0), 3);
    assert_int_equal(sn_targets_input_listings(ts, 1), 3);
    assert_int_equal(sn_targets_listings(ts), 6);

    const sn_target_t *ta = sn_targets_find(ts, &a);
    assert_non_null(ta);
    assert_int_equal(ta->seen_count, 1 + 1 + 5);
    assert_int_equal(ta->first_input, 0);
    const sn_target_t *tb = sn_targets_find(ts, &b);
    assert_int_equal(tb->seen_count, 1);
    const sn_target_t *tc = sn_targets_find(ts, &c);
    assert_int_equal(tc->seen_count, 2);
    assert_int_equal(tc->first_input, 1);

    /* Insertion order is kept. */
    assert_ptr_equal(sn_targets_at(ts, 0), ta);
    assert_ptr_equal(sn_targets_at(ts, 1), tb);
    assert_ptr_equal(sn_targets_at(ts, 2), tc);
    assert_null(sn_targets_at(ts, 3));

    /* Same IP, other port: a different target, not found. */
    sn_addr_t other = ep("1.2.3.4:81");
    assert_null(sn_targets_find(ts, &other));
    sn_targets_free(ts);
}

static void test_targets_find_ignores_garbage_in_unused_bytes(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    sn_targets_begin_input(ts, "in");
    sn_addr_t a = ep("9.9.9.9:53");
    sn_addr_t dirty = a;
    dirty.pad_ = 0x77;
    memset(dirty.ip + 4, 0xee, 12);
    assert_int_equal(sn_targets_add(ts, &dirty, NULL), SN_OK);
    const sn_target_t *t = sn_targets_find(ts, &a);
    assert_non_null(t);
    assert_memory_equal(&t->addr, &a, sizeof a); /* stored canonical */
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    assert_int_equal(sn_targets_count(ts), 1);
    assert_int_equal(t->seen_count, 2);
    sn_targets_free(ts);
}

static void test_targets_seen_count_saturates(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    sn_targets_begin_input(ts, "in");
    sn_addr_t a = ep("1.1.1.1:1");
    sn_listing_t big = {.count = UINT32_MAX - 1};
    assert_int_equal(sn_targets_add(ts, &a, &big), SN_OK);
    assert_int_equal(sn_targets_add(ts, &a, &big), SN_OK);
    assert_int_equal(sn_targets_find(ts, &a)->seen_count, UINT32_MAX);
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    assert_int_equal(sn_targets_find(ts, &a)->seen_count, UINT32_MAX);
    sn_targets_free(ts);
}

static void test_targets_sources_in_first_seen_order_without_repeats(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    joined_t j;
    sn_addr_t a = ep("1.2.3.4:80"), b = ep("4.3.2.1:80");

    sn_targets_begin_input(ts, "first.xml");
    sn_targets_add(ts, &a, NULL);
    sn_targets_add(ts, &a, NULL);
    sn_targets_begin_input(ts, "second.txt");
    sn_targets_add(ts, &b, NULL);
    sn_targets_add(ts, &a, NULL);
    sn_targets_begin_input(ts, "third.csv");
    /* A CSV whose `source` column alternates: each label once, in first-seen order. */
    const char *col[] = {"harvest-2006", "harvest-2007", "harvest-2006", "harvest-2007",
                         NULL,           "first.xml",    "harvest-2006"};
    for (size_t i = 0; i < sizeof col / sizeof col[0]; i++) {
        sn_listing_t l = {.source = col[i]};
        assert_int_equal(sn_targets_add(ts, &a, &l), SN_OK);
    }
    sn_listing_t empty = {.source = ""}; /* empty label: the input's name */
    assert_int_equal(sn_targets_add(ts, &b, &empty), SN_OK);

    assert_string_equal(sources_of(ts, sn_targets_find(ts, &a), &j),
                        "first.xml,second.txt,harvest-2006,harvest-2007,third.csv");
    assert_string_equal(sources_of(ts, sn_targets_find(ts, &b), &j), "second.txt,third.csv");
    assert_int_equal(sn_targets_find(ts, &a)->seen_count, 3 + 7);
    sn_targets_free(ts);
}

static void test_targets_same_name_twice_is_one_label(void **state)
{
    (void)state;
    /* Reading the same file twice counts twice but lists the file once. */
    sn_targets_t *ts = sn_targets_new();
    joined_t j;
    sn_addr_t a = ep("1.2.3.4:80");
    assert_int_equal(sn_targets_begin_input(ts, "list.txt"), 0);
    sn_targets_add(ts, &a, NULL);
    assert_int_equal(sn_targets_begin_input(ts, "list.txt"), 1);
    sn_targets_add(ts, &a, NULL);
    const sn_target_t *t = sn_targets_find(ts, &a);
    assert_string_equal(sources_of(ts, t, &j), "list.txt");
    assert_int_equal(t->seen_count, 2);
    assert_int_equal(sn_targets_input_count(ts), 2);
    sn_targets_free(ts);
}

static void test_targets_merges_first_and_last_seen(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    sn_targets_begin_input(ts, "in");
    sn_addr_t a = ep("1.2.3.4:80");
    struct {
        int64_t first, last;
        int64_t want_first, want_last;
    } steps[] = {
        {0, 0, 0, 0}, /* unknown times leave zeros */
        {1000, 2000, 1000, 2000},
        {0, 0, 1000, 2000},     /* zero never wins */
        {500, 1500, 500, 2000}, /* earlier first, older last */
        {1200, 3000, 500, 3000},
        {0, 2500, 500, 3000},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        sn_listing_t l = {.first_seen = steps[i].first, .last_seen = steps[i].last};
        assert_int_equal(sn_targets_add(ts, &a, &l), SN_OK);
        const sn_target_t *t = sn_targets_find(ts, &a);
        assert_int_equal(t->first_seen, steps[i].want_first);
        assert_int_equal(t->last_seen, steps[i].want_last);
    }
    sn_targets_free(ts);
}

static void test_targets_flags_are_interned_and_newest_wins(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    sn_targets_begin_input(ts, "in");
    sn_addr_t a = ep("1.2.3.4:80"), b = ep("1.2.3.5:80");
    assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    assert_null(sn_targets_flags(ts, sn_targets_find(ts, &a)));
    char flags[8];
    strcpy(flags, "0x5");
    sn_listing_t l = {.flags = flags};
    assert_int_equal(sn_targets_add(ts, &a, &l), SN_OK);
    assert_int_equal(sn_targets_add(ts, &b, &l), SN_OK);
    strcpy(flags, "XXX"); /* the set keeps its own copy */
    assert_string_equal(sn_targets_flags(ts, sn_targets_find(ts, &a)), "0x5");
    assert_ptr_equal(sn_targets_flags(ts, sn_targets_find(ts, &a)),
                     sn_targets_flags(ts, sn_targets_find(ts, &b)));
    sn_listing_t none = {.flags = NULL};
    assert_int_equal(sn_targets_add(ts, &a, &none), SN_OK);
    assert_string_equal(sn_targets_flags(ts, sn_targets_find(ts, &a)), "0x5");
    sn_listing_t newer = {.flags = "0x7"};
    assert_int_equal(sn_targets_add(ts, &a, &newer), SN_OK);
    assert_string_equal(sn_targets_flags(ts, sn_targets_find(ts, &a)), "0x7");
    sn_targets_free(ts);
}

static void test_targets_grows_past_200k_and_finds_all(void **state)
{
    (void)state;
    enum { N = 200000 };
    sn_targets_t *ts = sn_targets_new();
    assert_int_equal(sn_targets_begin_input(ts, "big"), 0);
    for (uint32_t i = 0; i < N; i++) {
        sn_addr_t a;
        /* Half IPv4 spread over ports, half IPv6, to mix both key shapes. */
        if (i % 2 == 0) {
            sn_addr_set_v4(&a, 0x50000000u + i / 4, (uint16_t)(1000 + i % 4));
        } else {
            memset(&a, 0, sizeof a);
            a.family = AF_INET6;
            a.port = 33033;
            a.ip[0] = 0x20;
            a.ip[1] = 0x01;
            a.ip[12] = (uint8_t)(i >> 24);
            a.ip[13] = (uint8_t)(i >> 16);
            a.ip[14] = (uint8_t)(i >> 8);
            a.ip[15] = (uint8_t)i;
        }
        assert_int_equal(sn_targets_add(ts, &a, NULL), SN_OK);
    }
    assert_int_equal(sn_targets_count(ts), N);
    for (uint32_t i = 0; i < N; i++) {
        const sn_target_t *t = sn_targets_at(ts, i);
        const sn_target_t *f = sn_targets_find(ts, &t->addr);
        if (f != t)
            fail_msg("target %u not found after growth", i);
        assert_int_equal(f->seen_count, 1);
    }
    /* Adding them all again only raises counts. */
    for (uint32_t i = 0; i < N; i += 7)
        assert_int_equal(sn_targets_add(ts, &sn_targets_at(ts, i)->addr, NULL), SN_OK);
    assert_int_equal(sn_targets_count(ts), N);
    assert_int_equal(sn_targets_at(ts, 7)->seen_count, 2);
    assert_int_equal(sn_targets_at(ts, 8)->seen_count, 1);
    sn_addr_t absent = ep("9.9.9.9:9");
    assert_null(sn_targets_find(ts, &absent));
    sn_targets_free(ts);
}

static void test_targets_null_safety(void **state)
{
    (void)state;
    sn_targets_free(NULL);
    assert_int_equal(sn_targets_count(NULL), 0);
    assert_null(sn_targets_at(NULL, 0));
    assert_null(sn_targets_find(NULL, NULL));
    assert_int_equal(sn_targets_input_count(NULL), 0);
    assert_int_equal(sn_targets_listings(NULL), 0);
    sn_targets_t *ts = sn_targets_new();
    sn_addr_t a = ep("1.2.3.4:80");
    assert_null(sn_targets_find(ts, &a)); /* empty set */
    assert_int_equal(sn_targets_begin_input(ts, NULL), 0);
    assert_string_equal(sn_targets_input_name(ts, 0), "-");
    sn_targets_free(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targets_struct_is_56_bytes),
        cmocka_unit_test(test_targets_add_before_begin_input_is_rejected),
        cmocka_unit_test(test_targets_rejects_address_without_family),
        cmocka_unit_test(test_targets_dedupes_across_inputs_and_sums_seen_count),
        cmocka_unit_test(test_targets_find_ignores_garbage_in_unused_bytes),
        cmocka_unit_test(test_targets_seen_count_saturates),
        cmocka_unit_test(test_targets_sources_in_first_seen_order_without_repeats),
        cmocka_unit_test(test_targets_same_name_twice_is_one_label),
        cmocka_unit_test(test_targets_merges_first_and_last_seen),
        cmocka_unit_test(test_targets_flags_are_interned_and_newest_wins),
        cmocka_unit_test(test_targets_grows_past_200k_and_finds_all),
        cmocka_unit_test(test_targets_null_safety),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
