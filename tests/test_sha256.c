/*
 * SHA-256 (lib/sha256.c) against the published test vectors: FIPS 180-2
 * appendix B (also RFC 6234 section 8.5, TEST1..TEST3) and the empty message.
 * The million-'a' vector is fed in uneven pieces, so that the buffering across
 * block boundaries is what is tested, not one call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/sha256.h"

static void hex_of(const uint8_t d[32], char hex[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static void test_sha256_abc_is_fips_vector(void **state)
{
    (void)state;
    char hex[65];
    sn_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_448_bit_message_needs_two_blocks(void **state)
{
    (void)state;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(strlen(m), 56); /* 448 bits: the padding spills into a second block */
    char hex[65];
    sn_sha256_hex(m, strlen(m), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_empty_message(void **state)
{
    (void)state;
    char hex[65];
    sn_sha256_hex(NULL, 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_million_a_streamed_in_uneven_pieces(void **state)
{
    (void)state;
    static const size_t pieces[] = {1, 63, 64, 65, 127, 1000, 7};
    uint8_t buf[1000];
    memset(buf, 'a', sizeof buf);
    sn_sha256_t c;
    sn_sha256_init(&c);
    size_t left = 1000000, i = 0;
    while (left > 0) {
        size_t n = pieces[i++ % (sizeof pieces / sizeof pieces[0])];
        if (n > left)
            n = left;
        sn_sha256_update(&c, buf, n);
        left -= n;
    }
    uint8_t d[32];
    char hex[65];
    sn_sha256_final(&c, d);
    hex_of(d, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_split_equals_whole(void **state)
{
    (void)state;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    size_t n = strlen(m);
    char whole[65];
    sn_sha256_hex(m, n, whole);
    for (size_t cut = 0; cut <= n; cut++) {
        sn_sha256_t c;
        uint8_t d[32];
        char hex[65];
        sn_sha256_init(&c);
        sn_sha256_update(&c, m, cut);
        sn_sha256_update(&c, m + cut, n - cut);
        sn_sha256_final(&c, d);
        hex_of(d, hex);
        assert_string_equal(hex, whole);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_abc_is_fips_vector),
        cmocka_unit_test(test_sha256_448_bit_message_needs_two_blocks),
        cmocka_unit_test(test_sha256_empty_message),
        cmocka_unit_test(test_sha256_million_a_streamed_in_uneven_pieces),
        cmocka_unit_test(test_sha256_split_equals_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
