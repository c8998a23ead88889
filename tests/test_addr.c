/*
 * Tests for data/addr.c: the strict IP, port and endpoint parsers (octal,
 * short and hex forms refused, ports decimal 1..65535, IPv6 only in brackets
 * when a port follows), formatting round trips, equality, hashing and the
 * sockaddr conversions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lib/addr.h"

/* --- IP literals -------------------------------------------------------- */

typedef struct ip_case {
    const char *text;
    int family; /* 0: must be rejected */
    uint8_t ip[16];
} ip_case_t;

static const ip_case_t ip_cases[] = {
    {"1.2.3.4", AF_INET, {1, 2, 3, 4}},
    {"0.0.0.0", AF_INET, {0}},
    {"255.255.255.255", AF_INET, {255, 255, 255, 255}},
    {"10.0.0.1", AF_INET, {10, 0, 0, 1}},
    {"::1", AF_INET6, {[15] = 1}},
    {"::", AF_INET6, {0}},
    {"2001:db8::80", AF_INET6, {0x20, 0x01, 0x0d, 0xb8, [14] = 0, [15] = 0x80}},
    {"::ffff:1.2.3.4",
     AF_INET6,
     {[10] = 0xff, [11] = 0xff, [12] = 1, [13] = 2, [14] = 3, [15] = 4}},
    {"FE80::1", AF_INET6, {0xfe, 0x80, [15] = 1}},
    /* rejected: octal, short, hex, blanks, empty, out of range, zone ids */
    {"010.0.0.1", 0, {0}},
    {"1.2.3.04", 0, {0}},
    {"00.0.0.0", 0, {0}},
    {"127.1", 0, {0}},
    {"127.0.1", 0, {0}},
    {"2130706433", 0, {0}},
    {"0x7f.0.0.1", 0, {0}},
    {"0x7f000001", 0, {0}},
    {"1.2.3.4 ", 0, {0}},
    {" 1.2.3.4", 0, {0}},
    {"1.2.3.4\n", 0, {0}},
    {"", 0, {0}},
    {"256.1.1.1", 0, {0}},
    {"1.2.3.4.5", 0, {0}},
    {"1.2.3.", 0, {0}},
    {"1..2.3", 0, {0}},
    {"-1.2.3.4", 0, {0}},
    {"fe80::1%eth0", 0, {0}},
    {"fe80::1%1", 0, {0}},
    {"1::2::3", 0, {0}},
    {"[::1]", 0, {0}},
    {"::1 ", 0, {0}},
    {"::ffff:010.1.1.1", 0, {0}},
    {"12345::", 0, {0}},
    {"1.2.3.4:80", 0, {0}},
};

static void test_addr_parse_ip_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ip_cases / sizeof ip_cases[0]; i++) {
        const ip_case_t *c = &ip_cases[i];
        sn_addr_t a;
        memset(&a, 0xaa, sizeof a);
        sn_status_t st = sn_addr_parse_ip(c->text, strlen(c->text), &a);
        if (c->family == 0) {
            if (st != SN_EPARSE)
                fail_msg("accepted \"%s\"", c->text);
            continue;
        }
        if (st != SN_OK)
            fail_msg("rejected \"%s\"", c->text);
        sn_addr_t want;
        memset(&want, 0, sizeof want);
        want.family = (uint8_t)c->family;
        memcpy(want.ip, c->ip, 16);
        /* Whole struct, padding and unused bytes included, must be canonical. */
        assert_memory_equal(&a, &want, sizeof a);
    }
}

/* Our dotted-quad reader against glibc's inet_pton, whose answers it must give. */
static void check_v4_like_inet_pton(const char *text, size_t len)
{
    char z[64];
    memcpy(z, text, len);
    z[len] = '\0';
    uint8_t want_ip[4];
    bool want = inet_pton(AF_INET, z, want_ip) == 1;
    sn_addr_t a;
    bool got = sn_addr_parse_ip(text, len, &a) == SN_OK;
    if (got != want)
        fail_msg("\"%s\": inet_pton says %d, sn_addr_parse_ip %d", z, want, got);
    if (got) {
        assert_int_equal(a.family, AF_INET);
        assert_memory_equal(a.ip, want_ip, 4);
    }
}

static void test_addr_parse_v4_gives_inet_ptons_answers(void **state)
{
    (void)state;
    /* Every join of 3 to 5 of these octet texts, the near misses included. */
    static const char *const oct[] = {"",    "0",   "00",  "01",  "1",   "9",    "10",
                                      "99",  "100", "199", "200", "249", "250",  "255",
                                      "256", "260", "300", "999", "0x1", "1000", "-1"};
    const size_t n = sizeof oct / sizeof oct[0];
    char buf[64];
    size_t tried = 0;
    for (size_t parts = 3; parts <= 5; parts++) {
        size_t combos = 1;
        for (size_t p = 0; p < parts; p++)
            combos *= n;
        /* All of them for 3 and 4 parts; a stride through the 5-part ones. */
        for (size_t c = 0; c < combos; c += parts == 5 ? 7 : 1) {
            size_t len = 0, k = c;
            for (size_t p = 0; p < parts; p++, k /= n)
                len +=
                    (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", p ? "." : "", oct[k % n]);
            check_v4_like_inet_pton(buf, len);
            tried++;
        }
    }
    /* And random strings over digits, dots and a few others. */
    static const char alpha[] = "0123456789....12 a/+";
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t len = 1 + (size_t)(x % 17);
        for (size_t j = 0; j < len; j++)
            buf[j] = alpha[(x >> (j * 3 % 60)) % (sizeof alpha - 1)];
        check_v4_like_inet_pton(buf, len);
        tried++;
    }
    assert_true(tried > 400000);
}

static void test_addr_parse_ip_rejects_embedded_nul_and_overlong(void **state)
{
    (void)state;
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip("1.2.3.4\0", 8, &a), SN_EPARSE);
    assert_int_equal(sn_addr_parse_ip("1.2\0.3.4", 8, &a), SN_EPARSE);
    char longtext[64];
    memset(longtext, '1', sizeof longtext);
    assert_int_equal(sn_addr_parse_ip(longtext, sizeof longtext, &a), SN_EPARSE);
    /* len bounds the read: the bytes after it are not part of the literal. */
    assert_int_equal(sn_addr_parse_ip("1.2.3.4xyz", 7, &a), SN_OK);
    assert_int_equal(sn_addr_v4(&a), 0x01020304u);
    /* The longest legal IPv6 text (45 bytes) is accepted. */
    const char *max6 = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
    assert_int_equal(strlen(max6), 45);
    assert_int_equal(sn_addr_parse_ip(max6, 45, &a), SN_OK);
    assert_int_equal(a.family, AF_INET6);
}

/* --- ports -------------------------------------------------------------- */

typedef struct port_case {
    const char *text;
    int port;        /* -1: must be rejected */
    const char *why; /* expected reason when rejected */
} port_case_t;

static const port_case_t port_cases[] = {
    {"1", 1, NULL},
    {"80", 80, NULL},
    {"33033", 33033, NULL},
    {"033033", 33033, NULL},
    {"00080", 80, NULL},
    {"65535", 65535, NULL},
    {"0", -1, "port out of range 1-65535"},
    {"00000", -1, "port out of range 1-65535"},
    {"65536", -1, "port out of range 1-65535"},
    {"99999", -1, "port out of range 1-65535"},
    {"", -1, "missing port"},
    {"+80", -1, "port is not a decimal number"},
    {"-1", -1, "port is not a decimal number"},
    {" 80", -1, "port is not a decimal number"},
    {"80 ", -1, "port is not a decimal number"},
    {"0x50", -1, "port is not a decimal number"},
    {"8o", -1, "port is not a decimal number"},
    {"1e3", -1, "port is not a decimal number"},
    {"123456789", -1, "port too long"},
    {"99999999", -1, "port out of range 1-65535"},
};

static void test_addr_parse_port_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof port_cases / sizeof port_cases[0]; i++) {
        const port_case_t *c = &port_cases[i];
        uint16_t port = 7;
        const char *why = NULL;
        sn_status_t st = sn_addr_parse_port(c->text, strlen(c->text), &port, &why);
        if (c->port < 0) {
            if (st != SN_EPARSE)
                fail_msg("accepted port \"%s\" as %u", c->text, port);
            assert_non_null(why);
            assert_string_equal(why, c->why);
            assert_int_equal(port, 7); /* untouched on failure */
        } else {
            if (st != SN_OK)
                fail_msg("rejected port \"%s\": %s", c->text, why ? why : "?");
            assert_int_equal(port, c->port);
        }
    }
}

static void test_addr_parse_port_reads_033033_as_decimal(void **state)
{
    (void)state;
    uint16_t port = 0;
    assert_int_equal(sn_addr_parse_port("033033", 6, &port, NULL), SN_OK);
    assert_int_equal(port, 33033);
    assert_int_not_equal(port, 013433); /* what an octal reader would give */
}

/* --- endpoints ---------------------------------------------------------- */

typedef struct ep_case {
    const char *text;
    const char *want; /* formatted with port; NULL: rejected */
    const char *why;  /* expected reason when rejected */
} ep_case_t;

static const ep_case_t ep_cases[] = {
    {"1.2.3.4:80", "1.2.3.4:80", NULL},
    {"212.0.0.1:033033", "212.0.0.1:33033", NULL},
    {"255.255.255.255:65535", "255.255.255.255:65535", NULL},
    {"[::1]:80", "[::1]:80", NULL},
    {"[2001:DB8::1]:443", "[2001:db8::1]:443", NULL},
    {"[::ffff:1.2.3.4]:5", "[::ffff:1.2.3.4]:5", NULL},
    {"1.2.3.4", NULL, "missing port"},
    {"1.2.3.4:", NULL, "missing port"},
    {"[::1]", NULL, "missing port"},
    {"[::1]:", NULL, "missing port"},
    {"::1:80", NULL, "unbracketed IPv6 address"},
    {"2001:db8::1:443", NULL, "unbracketed IPv6 address"},
    {"::1", NULL, "unbracketed IPv6 address"},
    {"1.2.3.4:80:90", NULL, "unbracketed IPv6 address"},
    {"010.0.0.1:80", NULL, "bad IPv4 address"},
    {"127.1:80", NULL, "bad IPv4 address"},
    {"0x7f.0.0.1:80", NULL, "bad IPv4 address"},
    {"1.2.3.4 :80", NULL, "bad IPv4 address"},
    {" 1.2.3.4:80", NULL, "bad IPv4 address"},
    {"host.example:80", NULL, "bad IPv4 address"},
    {":80", NULL, "bad IPv4 address"},
    {"garbage", NULL, "bad IPv4 address"},
    {"1.2.3.4:0", NULL, "port out of range 1-65535"},
    {"1.2.3.4:65536", NULL, "port out of range 1-65535"},
    {"1.2.3.4:99999", NULL, "port out of range 1-65535"},
    {"1.2.3.4:+80", NULL, "port is not a decimal number"},
    {"1.2.3.4:-1", NULL, "port is not a decimal number"},
    {"1.2.3.4: 80", NULL, "port is not a decimal number"},
    {"1.2.3.4:80 ", NULL, "port is not a decimal number"},
    {"1.2.3.4:0x50", NULL, "port is not a decimal number"},
    {"[fe80::1%eth0]:80", NULL, "IPv6 zone id not allowed"},
    {"[::1", NULL, "missing ']' after IPv6 address"},
    {"[::1]80", NULL, "expected ':' after ']'"},
    {"[1.2.3.4]:80", NULL, "brackets around a non-IPv6 address"},
    {"[::g]:80", NULL, "bad IPv6 address"},
    {"[]:80", NULL, "bad IPv6 address"},
    {"", NULL, "empty address"},
};

static void test_addr_parse_endpoint_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ep_cases / sizeof ep_cases[0]; i++) {
        const ep_case_t *c = &ep_cases[i];
        sn_addr_t a;
        const char *why = NULL;
        sn_status_t st = sn_addr_parse_endpoint(c->text, strlen(c->text), &a, &why);
        if (c->want == NULL) {
            if (st != SN_EPARSE)
                fail_msg("accepted endpoint \"%s\"", c->text);
            if (why == NULL || strcmp(why, c->why) != 0)
                fail_msg("endpoint \"%s\": reason \"%s\", expected \"%s\"", c->text,
                         why ? why : "(null)", c->why);
            continue;
        }
        if (st != SN_OK)
            fail_msg("rejected endpoint \"%s\": %s", c->text, why ? why : "?");
        char buf[SN_ADDR_STRLEN];
        size_t n = sn_addr_format(&a, buf, sizeof buf, true);
        assert_string_equal(buf, c->want);
        assert_int_equal(n, strlen(c->want));
        assert_int_equal(a.pad_, 0);
    }
}

static void test_addr_parse_endpoint_rejects_nul_inside(void **state)
{
    (void)state;
    sn_addr_t a;
    const char *why = NULL;
    assert_int_equal(sn_addr_parse_endpoint("1.2.3.4:8\0", 10, &a, &why), SN_EPARSE);
    assert_non_null(why);
    assert_int_equal(sn_addr_parse_endpoint("1.2.3.4:80", 10, &a, NULL), SN_OK);
}

/* --- formatting, equality, hashing -------------------------------------- */

static void test_addr_format_with_and_without_port(void **state)
{
    (void)state;
    struct {
        const char *ep;
        const char *ip;
        const char *full;
    } cases[] = {
        {"1.2.3.4:80", "1.2.3.4", "1.2.3.4:80"},
        {"[::1]:80", "::1", "[::1]:80"},
        {"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
         "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_addr_t a;
        char buf[SN_ADDR_STRLEN];
        assert_int_equal(sn_addr_parse_endpoint(cases[i].ep, strlen(cases[i].ep), &a, NULL), SN_OK);
        assert_int_equal(sn_addr_format(&a, buf, sizeof buf, false), strlen(cases[i].ip));
        assert_string_equal(buf, cases[i].ip);
        assert_int_equal(sn_addr_format(&a, buf, sizeof buf, true), strlen(cases[i].full));
        assert_string_equal(buf, cases[i].full);
    }
}

/* The hand-written IPv4 formatter gives inet_ntop's and printf's text for every
 * octet value in every position and for ports at each digit-count boundary. */
static void test_addr_format_v4_matches_inet_ntop(void **state)
{
    (void)state;
    const unsigned ports[] = {0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 33033, 65535};
    for (unsigned v = 0; v < 256; v++) {
        for (unsigned pos = 0; pos < 4; pos++) {
            uint32_t ip = 0x0a141e28u; /* 10.20.30.40, one octet replaced by v */
            ip = (ip & ~(0xffu << (8 * (3 - pos)))) | (v << (8 * (3 - pos)));
            for (size_t k = 0; k < sizeof ports / sizeof ports[0]; k++) {
                sn_addr_t a;
                sn_addr_set_v4(&a, ip, (uint16_t)ports[k]);
                struct in_addr in = {.s_addr = htonl(ip)};
                char want_ip[INET_ADDRSTRLEN], want[32], got[SN_ADDR_STRLEN];
                assert_non_null(inet_ntop(AF_INET, &in, want_ip, sizeof want_ip));
                snprintf(want, sizeof want, "%s:%u", want_ip, ports[k]);
                assert_int_equal(sn_addr_format(&a, got, sizeof got, true), strlen(want));
                assert_string_equal(got, want);
                assert_int_equal(sn_addr_format(&a, got, sizeof got, false), strlen(want_ip));
                assert_string_equal(got, want_ip);
            }
        }
    }
}

static void test_addr_format_truncates_safely(void **state)
{
    (void)state;
    sn_addr_t a;
    char buf[6];
    sn_addr_set_v4(&a, 0x01020304u, 80);
    size_t n = sn_addr_format(&a, buf, sizeof buf, true);
    assert_int_equal(n, 5);
    assert_string_equal(buf, "1.2.3");
    sn_addr_t none;
    memset(&none, 0, sizeof none);
    char b2[8] = "xxxxxxx";
    assert_int_equal(sn_addr_format(&none, b2, sizeof b2, true), 0);
    assert_string_equal(b2, "");
}

static void test_addr_format_round_trips(void **state)
{
    (void)state;
    const char *eps[] = {"1.2.3.4:80",
                         "0.0.0.0:1",
                         "[::]:1",
                         "[2001:db8:0:1::5]:65535",
                         "[::ffff:10.0.0.1]:1234",
                         "[1:2:3:4:5:6:7:8]:9"};
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        sn_addr_t a, b;
        char buf[SN_ADDR_STRLEN];
        assert_int_equal(sn_addr_parse_endpoint(eps[i], strlen(eps[i]), &a, NULL), SN_OK);
        size_t n = sn_addr_format(&a, buf, sizeof buf, true);
        assert_int_equal(sn_addr_parse_endpoint(buf, n, &b, NULL), SN_OK);
        assert_memory_equal(&a, &b, sizeof a);
        /* And the IP alone through parse_ip. */
        n = sn_addr_format(&a, buf, sizeof buf, false);
        assert_int_equal(sn_addr_parse_ip(buf, n, &b), SN_OK);
        assert_true(sn_addr_same_ip(&a, &b));
        assert_int_equal(b.port, 0);
    }
}

static void test_addr_equal_and_hash_agree(void **state)
{
    (void)state;
    sn_addr_t a, b, c, d;
    assert_int_equal(sn_addr_parse_endpoint("1.2.3.4:80", 10, &a, NULL), SN_OK);
    sn_addr_set_v4(&b, 0x01020304u, 80);
    assert_true(sn_addr_equal(&a, &b));
    assert_int_equal(sn_addr_hash(&a, 0), sn_addr_hash(&b, 0));
    assert_int_equal(sn_addr_hash(&a, 99), sn_addr_hash(&b, 99));

    /* Garbage in the unused ip bytes must not change equality or hash. */
    c = a;
    memset(c.ip + 4, 0x5a, 12);
    assert_true(sn_addr_equal(&a, &c));
    assert_int_equal(sn_addr_hash(&a, 7), sn_addr_hash(&c, 7));

    /* A different port: same IP, different endpoint, different hash. */
    d = a;
    d.port = 81;
    assert_false(sn_addr_equal(&a, &d));
    assert_true(sn_addr_same_ip(&a, &d));
    assert_int_not_equal(sn_addr_hash(&a, 0), sn_addr_hash(&d, 0));

    /* The seed changes the hash. */
    assert_int_not_equal(sn_addr_hash(&a, 0), sn_addr_hash(&a, 1));

    /* 1.2.3.4 and ::102:304 are different addresses. */
    sn_addr_t v6;
    assert_int_equal(sn_addr_parse_endpoint("[::102:304]:80", 14, &v6, NULL), SN_OK);
    assert_false(sn_addr_equal(&a, &v6));
    assert_false(sn_addr_same_ip(&a, &v6));
    assert_int_not_equal(sn_addr_hash(&a, 0), sn_addr_hash(&v6, 0));
}

static void test_addr_hash_spreads_sequential_addresses(void **state)
{
    (void)state;
    /* 4096 consecutive IPv4 addresses over 256 buckets (low bits): none empty, none crowded. */
    unsigned buckets[256] = {0};
    for (uint32_t i = 0; i < 4096; i++) {
        sn_addr_t a;
        sn_addr_set_v4(&a, 0x0a000000u + i, 33033);
        buckets[sn_addr_hash(&a, 0) & 255]++;
    }
    for (unsigned i = 0; i < 256; i++) {
        assert_true(buckets[i] > 0);
        assert_true(buckets[i] < 48);
    }
}

/* --- conversions -------------------------------------------------------- */

static void test_addr_sockaddr_round_trip(void **state)
{
    (void)state;
    const char *eps[] = {"1.2.3.4:80", "[2001:db8::1]:443"};
    for (size_t i = 0; i < 2; i++) {
        sn_addr_t a, b;
        struct sockaddr_storage ss;
        assert_int_equal(sn_addr_parse_endpoint(eps[i], strlen(eps[i]), &a, NULL), SN_OK);
        socklen_t len = sn_addr_to_sockaddr(&a, &ss);
        assert_int_equal(len, a.family == AF_INET ? sizeof(struct sockaddr_in)
                                                  : sizeof(struct sockaddr_in6));
        assert_int_equal(ss.ss_family, a.family);
        assert_int_equal(sn_addr_from_sockaddr((struct sockaddr *)&ss, &b), SN_OK);
        assert_memory_equal(&a, &b, sizeof a);
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(33033);
    sin.sin_addr.s_addr = htonl(0x7f000001u);
    sn_addr_t c;
    assert_int_equal(sn_addr_from_sockaddr((struct sockaddr *)&sin, &c), SN_OK);
    assert_int_equal(sn_addr_v4(&c), 0x7f000001u);
    assert_int_equal(c.port, 33033);
}

static void test_addr_from_sockaddr_unmaps_v4_mapped_peer(void **state)
{
    (void)state;
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(53);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr), 1);
    sn_addr_t a, want;
    assert_int_equal(sn_addr_from_sockaddr((struct sockaddr *)&sin6, &a), SN_OK);
    sn_addr_set_v4(&want, 0x7f000001u, 53);
    assert_memory_equal(&a, &want, sizeof a);

    struct sockaddr sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_family = AF_UNIX;
    assert_int_equal(sn_addr_from_sockaddr(&sa, &a), SN_EINVAL);
}

static void test_addr_set_v4_zeroes_the_rest(void **state)
{
    (void)state;
    sn_addr_t a;
    memset(&a, 0xff, sizeof a);
    sn_addr_set_v4(&a, 0xc0a80101u, 8080);
    const uint8_t want[20] = {AF_INET, 0, 0, 0, 192, 168, 1, 1};
    sn_addr_t w;
    memcpy(&w, want, sizeof w);
    w.port = 8080;
    assert_memory_equal(&a, &w, sizeof a);
    assert_int_equal(sn_addr_v4(&a), 0xc0a80101u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse_ip_table),
        cmocka_unit_test(test_addr_parse_ip_rejects_embedded_nul_and_overlong),
        cmocka_unit_test(test_addr_parse_v4_gives_inet_ptons_answers),
        cmocka_unit_test(test_addr_parse_port_table),
        cmocka_unit_test(test_addr_parse_port_reads_033033_as_decimal),
        cmocka_unit_test(test_addr_parse_endpoint_table),
        cmocka_unit_test(test_addr_parse_endpoint_rejects_nul_inside),
        cmocka_unit_test(test_addr_format_with_and_without_port),
        cmocka_unit_test(test_addr_format_v4_matches_inet_ntop),
        cmocka_unit_test(test_addr_format_truncates_safely),
        cmocka_unit_test(test_addr_format_round_trips),
        cmocka_unit_test(test_addr_equal_and_hash_agree),
        cmocka_unit_test(test_addr_hash_spreads_sequential_addresses),
        cmocka_unit_test(test_addr_sockaddr_round_trip),
        cmocka_unit_test(test_addr_from_sockaddr_unmaps_v4_mapped_peer),
        cmocka_unit_test(test_addr_set_v4_zeroes_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
