/*
 * Tests for lib/decimal.c: the one strict decimal parser that the harvest
 * readers, the results reader and the population file share. What a user
 * would check: "0080" is 80 and not octal, signs, blanks, hex and overflow
 * are refused, the bound is inclusive, and a refused field leaves the output
 * untouched; the 128-bit form (geo range ends) holds 2^128 - 1 and not one
 * more; the digit span stops at the first byte that is not a digit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/decimal.h"

typedef struct dec_case {
    const char *text;
    uint64_t max;
    bool ok;
    uint64_t value;
} dec_case_t;

static const dec_case_t dec_cases[] = {
    {"0", UINT64_MAX, true, 0},
    {"7", UINT64_MAX, true, 7},
    {"010", UINT64_MAX, true, 10}, /* leading zero is decimal, never octal */
    {"0080", 65535, true, 80},
    {"65535", 65535, true, 65535}, /* the bound is inclusive */
    {"65536", 65535, false, 0},
    {"18446744073709551615", UINT64_MAX, true, UINT64_MAX},
    {"18446744073709551616", UINT64_MAX, false, 0}, /* one past 2^64-1 */
    {"99999999999999999999", UINT64_MAX, false, 0},
    {"000000000000000000001", UINT64_MAX, false, 0}, /* 21 bytes */
    {"4294967295", UINT32_MAX, true, UINT32_MAX},
    {"4294967296", UINT32_MAX, false, 0},
    {"9", 5, false, 0}, /* a single digit above a small bound */
    {"5", 5, true, 5},
    {"", UINT64_MAX, false, 0},
    {"-1", UINT64_MAX, false, 0},
    {"+1", UINT64_MAX, false, 0},
    {" 1", UINT64_MAX, false, 0},
    {"1 ", UINT64_MAX, false, 0},
    {"0x10", UINT64_MAX, false, 0},
    {"1e3", UINT64_MAX, false, 0},
    {"1.0", UINT64_MAX, false, 0},
    {"١", UINT64_MAX, false, 0}, /* Arabic-Indic digit one: not ASCII */
};

static void test_decimal_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dec_cases / sizeof dec_cases[0]; i++) {
        const dec_case_t *c = &dec_cases[i];
        uint64_t v = 12345;
        bool ok = sn_decimal_u64(c->text, strlen(c->text), c->max, &v);
        if (ok != c->ok)
            fail_msg("\"%s\" (max %llu): expected %s", c->text, (unsigned long long)c->max,
                     c->ok ? "accepted" : "refused");
        assert_int_equal(v, c->ok ? c->value : 12345); /* refusal leaves *out alone */
    }
}

static void test_decimal_reads_only_len_bytes(void **state)
{
    (void)state;
    uint64_t v = 0;
    /* A cell inside a larger buffer: the parser stops at len, not at the NUL. */
    assert_true(sn_decimal_u64("443,80", 3, UINT64_MAX, &v));
    assert_int_equal(v, 443);
    assert_false(sn_decimal_u64("443,80", 4, UINT64_MAX, &v));
    assert_int_equal(v, 443);
}

typedef struct dec128_case {
    const char *text;
    bool ok;
    uint64_t hi, lo;
} dec128_case_t;

static const dec128_case_t dec128_cases[] = {
    {"0", true, 0, 0},
    {"00042", true, 0, 42},
    {"18446744073709551615", true, 0, UINT64_MAX},
    {"18446744073709551616", true, 1, 0}, /* the carry into the high half */
    /* 2001:db8::1 as one integer */
    {"42540766411282592856903984951653826561", true, UINT64_C(0x20010db800000000), 1},
    {"340282366920938463463374607431768211455", true, UINT64_MAX, UINT64_MAX}, /* 2^128-1 */
    {"340282366920938463463374607431768211456", false, 0, 0},                  /* 2^128 */
    {"999999999999999999999999999999999999999", false, 0, 0},
    {"0000000000000000000000000000000000000001", false, 0, 0}, /* 40 bytes */
    {"", false, 0, 0},
    {"-1", false, 0, 0},
    {"+1", false, 0, 0},
    {"1 ", false, 0, 0},
    {"0x10", false, 0, 0},
    {"1.2.3.4", false, 0, 0},
};

static void test_decimal_u128_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dec128_cases / sizeof dec128_cases[0]; i++) {
        const dec128_case_t *c = &dec128_cases[i];
        uint64_t hi = 7, lo = 9;
        bool ok = sn_decimal_u128(c->text, strlen(c->text), &hi, &lo);
        if (ok != c->ok)
            fail_msg("\"%s\": expected %s", c->text, c->ok ? "accepted" : "refused");
        assert_int_equal(hi, c->ok ? c->hi : 7); /* refusal leaves both halves alone */
        assert_int_equal(lo, c->ok ? c->lo : 9);
    }
}

static void test_decimal_span_stops_at_the_first_non_digit(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t len, span;
    } cases[] = {
        {"", 0, 0},      {"abc", 3, 0}, {"123", 3, 3}, {"12a3", 4, 2},
        {"0.25", 4, 1},  {"-1", 2, 0},  {"123", 2, 2}, /* only len bytes are read */
        {"9\xd9", 2, 1}, {"١", 2, 0},                  /* bytes above ASCII are no digits */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (sn_decimal_span(cases[i].text, cases[i].len) != cases[i].span)
            fail_msg("span of \"%s\" (%zu bytes) is not %zu", cases[i].text, cases[i].len,
                     cases[i].span);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_table),
        cmocka_unit_test(test_decimal_reads_only_len_bytes),
        cmocka_unit_test(test_decimal_u128_table),
        cmocka_unit_test(test_decimal_span_stops_at_the_first_non_digit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
