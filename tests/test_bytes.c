/*
 * Tests for lib/bytes.h: the bounds-checked cursor every parser of outside
 * input reads through, and the unchecked network-order loads and stores.
 * What a parser relies on: a read that ends exactly at the end of the buffer
 * succeeds, one byte more fails, a failed read moves nothing and writes
 * nothing, a zero-length read is allowed anywhere (also on an empty cursor
 * without a buffer), and multi-byte integers are big-endian.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/bytes.h"

static const uint8_t seq[9] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xFF};

static void test_bytes_starts_at_zero_with_everything_left(void **state)
{
    (void)state;
    sn_bytes_t b = sn_bytes(seq, sizeof seq);
    assert_int_equal(b.pos, 0);
    assert_int_equal(sn_bytes_left(&b), sizeof seq);

    sn_bytes_t e = sn_bytes(NULL, 0);
    assert_int_equal(sn_bytes_left(&e), 0);
    assert_int_equal(sn_bytes_peek(&e), -1);
}

static void test_bytes_peek_does_not_move_and_says_end_as_minus_one(void **state)
{
    (void)state;
    sn_bytes_t b = sn_bytes(seq, sizeof seq);
    assert_int_equal(sn_bytes_peek(&b), 0x01);
    assert_int_equal(sn_bytes_peek(&b), 0x01);
    assert_int_equal(b.pos, 0);
    assert_true(sn_bytes_seek(&b, 8));
    assert_int_equal(sn_bytes_peek(&b), 0xFF); /* a 0xFF byte is 255, not the end */
    assert_true(sn_bytes_seek(&b, 9));
    assert_int_equal(sn_bytes_peek(&b), -1);
    assert_int_equal(b.pos, 9);
}

static void test_bytes_seek_reaches_the_end_but_not_past_it(void **state)
{
    (void)state;
    sn_bytes_t b = sn_bytes(seq, sizeof seq);
    assert_true(sn_bytes_seek(&b, 4));
    assert_int_equal(b.pos, 4);
    assert_int_equal(sn_bytes_left(&b), 5);
    assert_true(sn_bytes_seek(&b, sizeof seq)); /* the exact end */
    assert_int_equal(sn_bytes_left(&b), 0);
    assert_true(sn_bytes_seek(&b, 2)); /* backwards too */
    assert_int_equal(b.pos, 2);
    assert_false(sn_bytes_seek(&b, sizeof seq + 1)); /* one past */
    assert_false(sn_bytes_seek(&b, SIZE_MAX));
    assert_int_equal(b.pos, 2);

    sn_bytes_t e = sn_bytes(NULL, 0);
    assert_true(sn_bytes_seek(&e, 0));
    assert_false(sn_bytes_seek(&e, 1));
}

static void test_bytes_take_to_the_exact_end_and_not_one_past(void **state)
{
    (void)state;
    sn_bytes_t b = sn_bytes(seq, sizeof seq);
    const uint8_t *p = NULL;
    assert_true(sn_bytes_take(&b, 3, &p));
    assert_ptr_equal(p, seq);
    assert_int_equal(b.pos, 3);

    /* One past the end: refused, cursor and *out untouched. */
    const uint8_t *q = seq + 1;
    assert_false(sn_bytes_take(&b, 7, &q));
    assert_ptr_equal(q, seq + 1);
    assert_int_equal(b.pos, 3);
    assert_false(sn_bytes_take(&b, SIZE_MAX, &q)); /* no wrap of pos + n */
    assert_int_equal(b.pos, 3);

    assert_true(sn_bytes_take(&b, 6, &p)); /* exactly what is left */
    assert_ptr_equal(p, seq + 3);
    assert_int_equal(sn_bytes_left(&b), 0);
    assert_false(sn_bytes_take(&b, 1, NULL));
    assert_int_equal(b.pos, sizeof seq);
}

static void test_bytes_take_with_no_out_skips(void **state)
{
    (void)state;
    sn_bytes_t b = sn_bytes(seq, sizeof seq);
    assert_true(sn_bytes_take(&b, 5, NULL));
    assert_int_equal(sn_bytes_peek(&b), 0x06);
    assert_false(sn_bytes_take(&b, 5, NULL));
    assert_int_equal(sn_bytes_peek(&b), 0x06);
}

static void test_bytes_take_of_zero_bytes_succeeds_anywhere(void **state)
{
    (void)state;
    static const size_t at[] = {0, 4, sizeof seq}; /* the start, the middle, the end */
    const uint8_t *p = NULL;
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        sn_bytes_t b = sn_bytes(seq, sizeof seq);
        assert_true(sn_bytes_seek(&b, at[i]) && sn_bytes_take(&b, 0, &p));
        assert_ptr_equal(p, seq + at[i]);
        assert_int_equal(b.pos, at[i]);
    }

    /* An empty cursor without a buffer: no pointer arithmetic on NULL. */
    sn_bytes_t e = sn_bytes(NULL, 0);
    p = seq;
    assert_true(sn_bytes_take(&e, 0, &p));
    assert_null(p);
    assert_false(sn_bytes_take(&e, 1, &p));
    assert_null(p);
}

static void test_bytes_take_until_stops_after_the_stop_byte(void **state)
{
    (void)state;
    static const uint8_t s[] = {'h', 'i', 0, 'x', 0};
    sn_bytes_t b = sn_bytes(s, sizeof s);
    const uint8_t *p = NULL;
    size_t n = 99;
    assert_true(sn_bytes_take_until(&b, 0, &p, &n));
    assert_ptr_equal(p, s);
    assert_int_equal(n, 2); /* without the stop byte */
    assert_int_equal(b.pos, 3);
    /* The stop byte is the last one: the cursor ends exactly at the end. */
    assert_true(sn_bytes_take_until(&b, 0, &p, &n));
    assert_ptr_equal(p, s + 3);
    assert_int_equal(n, 1);
    assert_int_equal(sn_bytes_left(&b), 0);
    assert_false(sn_bytes_take_until(&b, 0, &p, &n));
    assert_int_equal(b.pos, sizeof s);

    /* The stop byte first: an empty string. NULL out and n are allowed. */
    sn_bytes_t c = sn_bytes(s + 2, 3);
    assert_true(sn_bytes_take_until(&c, 0, NULL, NULL));
    assert_int_equal(c.pos, 1);
}

static void test_bytes_take_until_without_the_stop_byte_moves_nothing(void **state)
{
    (void)state;
    static const uint8_t s[] = {'a', 'b', 'c', 0};
    sn_bytes_t b = sn_bytes(s, 3); /* the NUL lies just past the cursor's end */
    const uint8_t *p = s + 1;
    size_t n = 7;
    assert_false(sn_bytes_take_until(&b, 0, &p, &n));
    assert_int_equal(b.pos, 0);
    assert_ptr_equal(p, s + 1);
    assert_int_equal(n, 7);
    assert_true(sn_bytes_take_until(&b, 'c', &p, &n)); /* any stop byte, not only NUL */
    assert_int_equal(n, 2);
    assert_int_equal(sn_bytes_left(&b), 0);

    sn_bytes_t e = sn_bytes(NULL, 0);
    assert_false(sn_bytes_take_until(&e, 0, &p, &n));
    assert_int_equal(e.pos, 0);
}

static void test_bytes_copy_to_the_exact_end_and_not_one_past(void **state)
{
    (void)state;
    sn_bytes_t b = sn_bytes(seq, sizeof seq);
    uint8_t dst[9];
    memset(dst, 0xAA, sizeof dst);
    assert_true(sn_bytes_copy(&b, dst, 4));
    assert_memory_equal(dst, seq, 4);
    assert_int_equal(b.pos, 4);

    uint8_t untouched[9];
    memset(untouched, 0xAA, sizeof untouched);
    assert_false(sn_bytes_copy(&b, untouched, 6)); /* one past */
    assert_int_equal(b.pos, 4);
    for (size_t i = 0; i < sizeof untouched; i++)
        assert_int_equal(untouched[i], 0xAA);

    assert_true(sn_bytes_copy(&b, dst + 4, 5)); /* the exact end */
    assert_memory_equal(dst, seq, sizeof seq);
    assert_true(sn_bytes_copy(&b, NULL, 0)); /* zero bytes need no destination */
    assert_false(sn_bytes_copy(&b, dst, 1));
    assert_int_equal(b.pos, sizeof seq);
}

static void test_bytes_u8_reads_the_last_byte_then_fails(void **state)
{
    (void)state;
    sn_bytes_t b = sn_bytes(seq, sizeof seq);
    uint8_t v = 0;
    assert_true(sn_bytes_seek(&b, 8));
    assert_true(sn_bytes_u8(&b, &v));
    assert_int_equal(v, 0xFF);
    assert_int_equal(sn_bytes_left(&b), 0);
    v = 0x42;
    assert_false(sn_bytes_u8(&b, &v));
    assert_int_equal(v, 0x42);
    assert_int_equal(b.pos, sizeof seq);

    sn_bytes_t e = sn_bytes(NULL, 0);
    assert_false(sn_bytes_u8(&e, &v));
}

/* One checked big-endian read, the same shape for every width. */
typedef bool (*read_fn)(sn_bytes_t *b, uint64_t *v);

static bool read16(sn_bytes_t *b, uint64_t *v)
{
    uint16_t x;
    if (!sn_bytes_be16(b, &x))
        return false;
    *v = x;
    return true;
}

static bool read32(sn_bytes_t *b, uint64_t *v)
{
    uint32_t x;
    if (!sn_bytes_be32(b, &x))
        return false;
    *v = x;
    return true;
}

static bool read64(sn_bytes_t *b, uint64_t *v)
{
    return sn_bytes_be64(b, v);
}

typedef struct int_case {
    const char *name;
    read_fn read;
    size_t width;
    uint64_t at_one; /* the value read from seq + 1 */
} int_case_t;

static const int_case_t int_cases[] = {
    {"be16", read16, 2, 0x0203},
    {"be32", read32, 4, 0x02030405},
    {"be64", read64, 8, UINT64_C(0x02030405060708FF)},
};

static void test_bytes_be_reads_are_big_endian_and_end_exactly(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof int_cases / sizeof int_cases[0]; i++) {
        const int_case_t *c = &int_cases[i];
        uint64_t v = 0;
        /* From offset 1 the read ends exactly at the end of seq. */
        sn_bytes_t b = sn_bytes(seq, 1 + c->width);
        assert_true(sn_bytes_seek(&b, 1));
        assert_true(c->read(&b, &v));
        if (v != c->at_one)
            fail_msg("%s: read 0x%llx, want 0x%llx", c->name, (unsigned long long)v,
                     (unsigned long long)c->at_one);
        assert_int_equal(sn_bytes_left(&b), 0);
    }
}

static void test_bytes_be_reads_one_short_move_nothing(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof int_cases / sizeof int_cases[0]; i++) {
        const int_case_t *c = &int_cases[i];
        uint64_t v = 0x5A5A;
        /* width - 1 bytes left: one byte short. */
        sn_bytes_t b = sn_bytes(seq, c->width);
        assert_true(sn_bytes_seek(&b, 1));
        if (c->read(&b, &v))
            fail_msg("%s: read with %zu bytes left", c->name, c->width - 1);
        assert_int_equal(b.pos, 1);
        assert_int_equal(v, 0x5A5A);
        sn_bytes_t e = sn_bytes(NULL, 0);
        assert_false(c->read(&e, &v));
        assert_int_equal(e.pos, 0);
    }
    /* The typed reads leave their own output untouched as well. */
    sn_bytes_t b = sn_bytes(seq, 1);
    uint16_t v16 = 7;
    uint32_t v32 = 7;
    uint64_t v64 = 7;
    assert_false(sn_bytes_be16(&b, &v16));
    assert_false(sn_bytes_be32(&b, &v32));
    assert_false(sn_bytes_be64(&b, &v64));
    assert_int_equal(v16, 7);
    assert_int_equal(v32, 7);
    assert_int_equal(v64, 7);
}

static void test_bytes_puts_are_network_order_and_gets_read_them_back(void **state)
{
    (void)state;
    static const uint8_t want[14] = {0xBE, 0xEF, 0xDE, 0xAD, 0xBE, 0xEF, 0x01,
                                     0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF};
    uint8_t buf[14];
    memset(buf, 0, sizeof buf);
    sn_put16(buf, 0xBEEF);
    sn_put32(buf + 2, 0xDEADBEEFu);
    sn_put64(buf + 6, UINT64_C(0x0123456789ABCDEF));
    assert_memory_equal(buf, want, sizeof want);
    assert_int_equal(sn_get16(buf), 0xBEEF);
    assert_int_equal(sn_get32(buf + 2), 0xDEADBEEFu);
    assert_true(sn_get64(buf + 6) == UINT64_C(0x0123456789ABCDEF));
    /* The top bit survives: no sign extension on the way. */
    sn_put64(buf, UINT64_MAX);
    assert_true(sn_get64(buf) == UINT64_MAX);
    assert_int_equal(sn_get32(buf), UINT32_MAX);
    assert_int_equal(sn_get16(buf), UINT16_MAX);
}

static void test_bytes_reads_in_a_row_walk_a_record(void **state)
{
    (void)state;
    /* A record as a parser walks it: type, length, value, then the next. */
    static const uint8_t rec[] = {0x00, 0x01, 0x00, 0x03, 'a', 'b', 'c', 0x00, 0x02, 0x00, 0x04};
    sn_bytes_t b = sn_bytes(rec, sizeof rec);
    uint16_t type, len;
    const uint8_t *val;
    assert_true(sn_bytes_be16(&b, &type) && sn_bytes_be16(&b, &len));
    assert_int_equal(type, 1);
    assert_true(sn_bytes_take(&b, len, &val));
    assert_memory_equal(val, "abc", 3);
    assert_true(sn_bytes_be16(&b, &type) && sn_bytes_be16(&b, &len));
    assert_int_equal(len, 4);
    assert_false(sn_bytes_take(&b, len, &val)); /* declared past the end */
    assert_int_equal(b.pos, sizeof rec);
}

/* LEB128 as written reads back, at each length's edge; 10 bytes hold 64 bits and no more. */
static void test_bytes_leb128_round_trips_and_refuses_past_64_bits(void **state)
{
    (void)state;
    static const uint64_t v[] = {0, 127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX};
    static const size_t want_len[] = {1, 1, 2, 2, 3, 5, 10};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t buf[SN_LEB128_MAX];
        size_t n = sn_put_leb128(buf, v[i]);
        assert_int_equal(n, want_len[i]);
        sn_bytes_t b = sn_bytes(buf, n);
        uint64_t got = 1;
        assert_null(sn_bytes_leb128(&b, &got));
        assert_true(got == v[i]);
        assert_int_equal(b.pos, n);
        b = sn_bytes(buf, n - 1); /* cut by one byte */
        assert_non_null(strstr(sn_bytes_leb128(&b, &got), "truncated"));
    }
    static const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    sn_bytes_t b = sn_bytes(over, sizeof over);
    uint64_t got;
    assert_non_null(strstr(sn_bytes_leb128(&b, &got), "overflows"));
    static const uint8_t longer[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0};
    b = sn_bytes(longer, sizeof longer);
    assert_non_null(strstr(sn_bytes_leb128(&b, &got), "longer than 10"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_starts_at_zero_with_everything_left),
        cmocka_unit_test(test_bytes_peek_does_not_move_and_says_end_as_minus_one),
        cmocka_unit_test(test_bytes_seek_reaches_the_end_but_not_past_it),
        cmocka_unit_test(test_bytes_take_to_the_exact_end_and_not_one_past),
        cmocka_unit_test(test_bytes_take_with_no_out_skips),
        cmocka_unit_test(test_bytes_take_of_zero_bytes_succeeds_anywhere),
        cmocka_unit_test(test_bytes_take_until_stops_after_the_stop_byte),
        cmocka_unit_test(test_bytes_take_until_without_the_stop_byte_moves_nothing),
        cmocka_unit_test(test_bytes_copy_to_the_exact_end_and_not_one_past),
        cmocka_unit_test(test_bytes_u8_reads_the_last_byte_then_fails),
        cmocka_unit_test(test_bytes_be_reads_are_big_endian_and_end_exactly),
        cmocka_unit_test(test_bytes_be_reads_one_short_move_nothing),
        cmocka_unit_test(test_bytes_puts_are_network_order_and_gets_read_them_back),
        cmocka_unit_test(test_bytes_reads_in_a_row_walk_a_record),
        cmocka_unit_test(test_bytes_leb128_round_trips_and_refuses_past_64_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
