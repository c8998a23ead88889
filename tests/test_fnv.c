/*
 * Tests for lib/fnv.c: FNV-1a 64 against the reference vectors of the FNV
 * test suite (draft-eastlake-fnv, the values for "", "a" and "foobar"), and
 * the property the classifier relies on: hashing in pieces equals hashing
 * the whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/fnv.h"

static void test_fnv1a64_reference_vectors(void **state)
{
    (void)state;
    assert_int_equal(sn_fnv1a64(SN_FNV64_OFFSET, NULL, 0), UINT64_C(0xcbf29ce484222325));
    assert_int_equal(sn_fnv1a64(SN_FNV64_OFFSET, "a", 1), UINT64_C(0xaf63dc4c8601ec8c));
    assert_int_equal(sn_fnv1a64(SN_FNV64_OFFSET, "foobar", 6), UINT64_C(0x85944171f73967e8));
}

static void test_fnv1a64_pieces_equal_whole(void **state)
{
    (void)state;
    uint64_t h = sn_fnv1a64(SN_FNV64_OFFSET, "foo", 3);
    h = sn_fnv1a64(h, "bar", 3);
    assert_int_equal(h, sn_fnv1a64(SN_FNV64_OFFSET, "foobar", 6));
}

static void test_fnv1a64_reads_high_bytes_unsigned(void **state)
{
    (void)state;
    /* A byte >= 0x80 is XORed in as 0..255, never sign-extended. */
    const char hi[] = "\xff";
    uint64_t want = (SN_FNV64_OFFSET ^ UINT64_C(0xff)) * UINT64_C(0x100000001b3);
    assert_int_equal(sn_fnv1a64(SN_FNV64_OFFSET, hi, 1), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a64_reference_vectors),
        cmocka_unit_test(test_fnv1a64_pieces_equal_whole),
        cmocka_unit_test(test_fnv1a64_reads_high_bytes_unsigned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
