/*
 * Tests for the ASCII character classes of lib/text.h, which the name checks of the
 * history (lock file names, column names), the firewall export's set name, the
 * classifier and the address parser share: every byte value, given as an unsigned char
 * and as a (possibly negative) char, is in exactly the classes the written-out alphabets
 * below say, and no byte above ASCII (nor a negative value) is in any. The same for the
 * hex digit reader of the JSON \u escapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/text.h"

static const char digits[] = "0123456789";
static const char lower[] = "abcdefghijklmnopqrstuvwxyz";
static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

static bool in(const char *alphabet, int c)
{
    return c != 0 && memchr(alphabet, c, strlen(alphabet)) != NULL;
}

static void check_byte(int b, int as_passed)
{
    bool d = in(digits, b), l = in(lower, b), u = in(upper, b);
    if (sn_is_digit(as_passed) != d || sn_is_lower(as_passed) != l || sn_is_upper(as_passed) != u ||
        sn_is_alpha(as_passed) != (l || u) || sn_is_alnum(as_passed) != (d || l || u))
        fail_msg("byte 0x%02x (passed as %d) is in the wrong class", (unsigned)b, as_passed);
}

static void test_text_classes_of_every_byte(void **state)
{
    (void)state;
    for (int b = 0; b < 256; b++) {
        check_byte(b, b);                   /* an unsigned char */
        check_byte(b, (int)(signed char)b); /* a char where char is signed */
    }
}

static void test_text_classes_count(void **state)
{
    (void)state;
    int nd = 0, nl = 0, nu = 0, na = 0, nn = 0;
    for (int b = -128; b < 256; b++) {
        nd += sn_is_digit(b);
        nl += sn_is_lower(b);
        nu += sn_is_upper(b);
        na += sn_is_alpha(b);
        nn += sn_is_alnum(b);
    }
    assert_int_equal(nd, 10);
    assert_int_equal(nl, 26);
    assert_int_equal(nu, 26);
    assert_int_equal(na, 52);
    assert_int_equal(nn, 62);
}

static void test_text_hex_digit_of_every_byte(void **state)
{
    (void)state;
    static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
    for (int b = -128; b < 256; b++) {
        const char *l = b > 0 && b < 128 ? memchr(lo, b, 16) : NULL;
        const char *u = b > 0 && b < 128 ? memchr(up, b, 16) : NULL;
        int want = l != NULL ? (int)(l - lo) : u != NULL ? (int)(u - up) : -1;
        if (sn_hex_digit(b) != want)
            fail_msg("byte %d: hex digit %d, expected %d", b, sn_hex_digit(b), want);
    }
}

static void test_text_name_index(void **state)
{
    (void)state;
    static const char *const names[] = {"zero", NULL, "two", "two"};
    assert_int_equal(sn_name_index("zero", names, 4), 0);
    assert_int_equal(sn_name_index("two", names, 4), 2); /* the first of equal names */
    assert_int_equal(sn_name_index("", names, 4), -1);
    assert_int_equal(sn_name_index("Zero", names, 4), -1); /* exact, case included */
    assert_int_equal(sn_name_index("two", names, 2), -1);  /* only the first n */
    assert_int_equal(sn_name_index(NULL, names, 4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_classes_of_every_byte),
        cmocka_unit_test(test_text_classes_count),
        cmocka_unit_test(test_text_hex_digit_of_every_byte),
        cmocka_unit_test(test_text_name_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
