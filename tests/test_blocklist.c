/*
 * Tests for data/blocklist.c: every default special-purpose range blocks with
 * its name, public addresses pass, --allow opens only what it names,
 * exclusions beat allows, CIDR parsing is strict with messages that say what
 * is wrong, and exclude files report the file and line of a bad entry.
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
#include <unistd.h>

#include "data/blocklist.h"

static sn_addr_t ip(const char *s)
{
    sn_addr_t a;
    if (sn_addr_parse_ip(s, strlen(s), &a) != SN_OK)
        fail_msg("test address \"%s\" rejected", s);
    a.port = 33033;
    return a;
}

static int setup(void **state)
{
    *state = sn_blocklist_new();
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    sn_blocklist_free(*state);
    return 0;
}

typedef struct block_case {
    const char *ip;
    const char *why; /* NULL: probed */
} block_case_t;

static const block_case_t default_cases[] = {
    {"0.0.0.0", "this network (RFC 791)"},
    {"0.255.255.255", "this network (RFC 791)"},
    {"10.0.0.1", "private (RFC 1918)"},
    {"10.255.255.255", "private (RFC 1918)"},
    {"100.64.0.1", "shared address space, carrier-grade NAT (RFC 6598)"},
    {"100.127.255.255", "shared address space, carrier-grade NAT (RFC 6598)"},
    {"127.0.0.1", "loopback (RFC 1122)"},
    {"127.255.0.9", "loopback (RFC 1122)"},
    {"169.254.1.1", "link-local (RFC 3927)"},
    {"172.16.0.1", "private (RFC 1918)"},
    {"172.31.255.255", "private (RFC 1918)"},
    {"192.0.0.8", "IETF protocol assignments (RFC 6890)"},
    {"192.0.2.1", "documentation, TEST-NET-1 (RFC 5737)"},
    {"192.88.99.1", "6to4 relay anycast, deprecated (RFC 7526)"},
    {"192.168.1.1", "private (RFC 1918)"},
    {"198.18.0.1", "benchmarking (RFC 2544)"},
    {"198.19.255.255", "benchmarking (RFC 2544)"},
    {"198.51.100.7", "documentation, TEST-NET-2 (RFC 5737)"},
    {"203.0.113.200", "documentation, TEST-NET-3 (RFC 5737)"},
    {"224.0.0.1", "multicast (RFC 5771)"},
    {"239.255.255.250", "multicast (RFC 5771)"},
    {"240.0.0.1", "reserved (RFC 1112)"},
    {"255.255.255.254", "reserved (RFC 1112)"},
    {"255.255.255.255", "limited broadcast (RFC 919)"},
    {"::", "unspecified (RFC 4291)"},
    {"::1", "loopback (RFC 4291)"},
    {"::ffff:10.0.0.1", "IPv4-mapped, carries a blocked IPv4 address (RFC 4291)"},
    {"::ffff:127.0.0.1", "IPv4-mapped, carries a blocked IPv4 address (RFC 4291)"},
    {"::ffff:0:0", "IPv4-mapped, carries a blocked IPv4 address (RFC 4291)"},
    {"::ffff:224.0.0.1", "IPv4-mapped, carries a blocked IPv4 address (RFC 4291)"},
    {"64:ff9b::a00:1", "NAT64 well-known prefix carrying a non-global IPv4 address (RFC 6052 3.1)"},
    {"64:ff9b::c0a8:101",
     "NAT64 well-known prefix carrying a non-global IPv4 address (RFC 6052 3.1)"},
    {"64:ff9b::7f00:1",
     "NAT64 well-known prefix carrying a non-global IPv4 address (RFC 6052 3.1)"},
    {"64:ff9b::ffff:ffff",
     "NAT64 well-known prefix carrying a non-global IPv4 address (RFC 6052 3.1)"},
    {"64:ff9b:1:ffff::1", "local-use IPv4/IPv6 translation (RFC 8215)"},
    {"3fff::1", "documentation (RFC 9637)"},
    {"3fff:fff:ffff::1", "documentation (RFC 9637)"},
    {"5f00::1", "segment routing SIDs (RFC 9602)"},
    {"5f00:ffff::1", "segment routing SIDs (RFC 9602)"},
    {"::1.2.3.4", "IPv4-compatible, deprecated (RFC 4291)"},
    {"::2", "IPv4-compatible, deprecated (RFC 4291)"},
    {"::ffff:ffff", "IPv4-compatible, deprecated (RFC 4291)"},
    {"64:ff9b:1::5", "local-use IPv4/IPv6 translation (RFC 8215)"},
    {"100::1", "discard-only (RFC 6666)"},
    {"2001::1", "IETF protocol assignments (RFC 2928)"},
    {"2001:1ff::1", "IETF protocol assignments (RFC 2928)"},
    {"2001:db8::1", "documentation (RFC 3849)"},
    {"2002:c000:201::1", "6to4 (RFC 3056)"},
    {"fc00::1", "unique local (RFC 4193)"},
    {"fd12:3456::1", "unique local (RFC 4193)"},
    {"fe80::1", "link-local (RFC 4291)"},
    {"febf::1", "link-local (RFC 4291)"},
    {"ff02::1", "multicast (RFC 4291)"},
    /* public: just outside each edge */
    {"1.1.1.1", NULL},
    {"8.8.8.8", NULL},
    {"9.255.255.255", NULL},
    {"11.0.0.0", NULL},
    {"100.63.255.255", NULL},
    {"100.128.0.0", NULL},
    {"126.255.255.255", NULL},
    {"128.0.0.0", NULL},
    {"172.15.255.255", NULL},
    {"172.32.0.0", NULL},
    {"192.0.1.1", NULL},
    {"192.0.3.0", NULL},
    {"192.167.255.255", NULL},
    {"192.169.0.0", NULL},
    {"198.17.255.255", NULL},
    {"198.20.0.0", NULL},
    {"212.187.172.66", NULL},
    {"223.255.255.255", NULL},
    {"2001:200::1", NULL},
    {"2001:db9::1", NULL},
    {"2003::1", NULL},
    {"2a00:1450:4001::1", NULL},
    {"fec0::1", NULL},
    {"::ffff:8.8.8.8", NULL},
    {"64:ff9b::808:808", NULL},
    {"64:ff9b:0:1::808:808", NULL}, /* not the /96 well-known form, and outside RFC 8215 */
    {"3ffe:ffff::1", NULL},
    {"3fff:1000::1", NULL},
    {"5eff:ffff::1", NULL},
    {"5f01::1", NULL},
    {"::1:0:0:0", NULL},
};

static void test_blocklist_defaults_block_special_ranges_by_name(void **state)
{
    const sn_blocklist_t *bl = *state;
    for (size_t i = 0; i < sizeof default_cases / sizeof default_cases[0]; i++) {
        const block_case_t *c = &default_cases[i];
        sn_addr_t a = ip(c->ip);
        const char *why = "unset";
        bool blocked = sn_blocklist_blocked(bl, &a, &why);
        if (c->why == NULL) {
            if (blocked)
                fail_msg("%s blocked (%s), expected probed", c->ip, why ? why : "?");
            assert_null(why);
        } else {
            if (!blocked)
                fail_msg("%s probed, expected blocked as %s", c->ip, c->why);
            if (why == NULL || strcmp(why, c->why) != 0)
                fail_msg("%s blocked as \"%s\", expected \"%s\"", c->ip, why ? why : "(null)",
                         c->why);
        }
    }
}

static void test_blocklist_allow_everything_keeps_the_floor(void **state)
{
    sn_blocklist_t *bl = *state;
    sn_error_t err;
    assert_int_equal(sn_blocklist_allow(bl, "0.0.0.0/0", &err), SN_OK);
    assert_int_equal(sn_blocklist_allow(bl, "::/0", &err), SN_OK);
    static const char *const never[] = {
        "224.0.0.1", "239.255.255.250", "255.255.255.255", "0.0.0.0",          "0.1.2.3",
        "::",        "ff02::1",         "ff05::1:3",       "::ffff:224.0.0.1", "64:ff9b::e000:1"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        sn_addr_t a = ip(never[i]);
        if (!sn_blocklist_blocked(bl, &a, NULL))
            fail_msg("--allow 0.0.0.0/0 ::/0 opened %s", never[i]);
    }
    static const char *const opened[] = {"10.0.0.1", "192.168.1.1",     "100.64.0.1",
                                         "fe80::1",  "::ffff:10.0.0.1", "64:ff9b::a00:1"};
    for (size_t i = 0; i < sizeof opened / sizeof opened[0]; i++) {
        sn_addr_t a = ip(opened[i]);
        if (sn_blocklist_blocked(bl, &a, NULL))
            fail_msg("--allow 0.0.0.0/0 ::/0 left %s blocked", opened[i]);
    }
}

static void test_blocklist_allow_loopback_opens_loopback_only(void **state)
{
    sn_blocklist_t *bl = *state;
    sn_error_t err;
    assert_int_equal(sn_blocklist_allow(bl, "127.0.0.0/8", &err), SN_OK);
    assert_int_equal(sn_blocklist_allow(bl, "::1/128", &err), SN_OK);
    sn_addr_t lo = ip("127.0.0.1"), lo2 = ip("127.1.2.3"), lo6 = ip("::1");
    sn_addr_t ten = ip("10.0.0.1"), unspec6 = ip("::");
    const char *why = "unset";
    assert_false(sn_blocklist_blocked(bl, &lo, &why));
    assert_null(why);
    assert_false(sn_blocklist_blocked(bl, &lo2, NULL));
    assert_false(sn_blocklist_blocked(bl, &lo6, NULL));
    assert_true(sn_blocklist_blocked(bl, &ten, &why));
    assert_string_equal(why, "private (RFC 1918)");
    assert_true(sn_blocklist_blocked(bl, &unspec6, &why));
    assert_string_equal(why, "unspecified (RFC 4291)");
}

static void test_blocklist_allow_narrow_range_inside_default(void **state)
{
    sn_blocklist_t *bl = *state;
    assert_int_equal(sn_blocklist_allow(bl, "10.1.2.0/24", NULL), SN_OK);
    sn_addr_t in = ip("10.1.2.77"), out = ip("10.1.3.1");
    assert_false(sn_blocklist_blocked(bl, &in, NULL));
    assert_true(sn_blocklist_blocked(bl, &out, NULL));
}

static void test_blocklist_exclude_beats_allow(void **state)
{
    sn_blocklist_t *bl = *state;
    const char *why = NULL;
    assert_int_equal(sn_blocklist_allow(bl, "127.0.0.0/8", NULL), SN_OK);
    assert_int_equal(sn_blocklist_exclude(bl, "127.0.0.2", NULL), SN_OK);
    assert_int_equal(sn_blocklist_exclude(bl, "8.8.8.0/24", NULL), SN_OK);
    assert_int_equal(sn_blocklist_exclude(bl, "2a00::/16", NULL), SN_OK);
    sn_addr_t a = ip("127.0.0.2"), b = ip("127.0.0.3"), c = ip("8.8.8.8"), d = ip("8.8.9.8");
    sn_addr_t e = ip("2a00:1450::1");
    assert_true(sn_blocklist_blocked(bl, &a, &why));
    assert_string_equal(why, "excluded by user");
    assert_false(sn_blocklist_blocked(bl, &b, NULL));
    assert_true(sn_blocklist_blocked(bl, &c, &why)); /* public but excluded */
    assert_string_equal(why, "excluded by user");
    assert_false(sn_blocklist_blocked(bl, &d, NULL));
    assert_true(sn_blocklist_blocked(bl, &e, &why));
    assert_string_equal(why, "excluded by user");
    /* An allow added after the exclusion changes nothing. */
    assert_int_equal(sn_blocklist_allow(bl, "8.8.8.8/32", NULL), SN_OK);
    assert_true(sn_blocklist_blocked(bl, &c, NULL));
}

static void test_blocklist_allow_all_v4_leaves_v6_blocked(void **state)
{
    sn_blocklist_t *bl = *state;
    assert_int_equal(sn_blocklist_allow(bl, "0.0.0.0/0", NULL), SN_OK);
    sn_addr_t a = ip("10.0.0.1"), b = ip("fe80::1");
    assert_false(sn_blocklist_blocked(bl, &a, NULL));
    assert_true(sn_blocklist_blocked(bl, &b, NULL));
}

static void test_blocklist_no_address_is_blocked(void **state)
{
    const sn_blocklist_t *bl = *state;
    sn_addr_t none;
    memset(&none, 0, sizeof none);
    const char *why = NULL;
    assert_true(sn_blocklist_blocked(bl, &none, &why));
    assert_non_null(why);
    sn_blocklist_free(NULL);
}

/* --- CIDR parsing ------------------------------------------------------- */

typedef struct cidr_case {
    const char *text;
    const char *net; /* formatted network; NULL: rejected */
    unsigned prefix;
    const char *msg; /* expected error message when rejected */
} cidr_case_t;

static const cidr_case_t cidr_cases[] = {
    {"10.0.0.0/8", "10.0.0.0", 8, NULL},
    {"0.0.0.0/0", "0.0.0.0", 0, NULL},
    {"1.2.3.4", "1.2.3.4", 32, NULL},
    {"1.2.3.4/32", "1.2.3.4", 32, NULL},
    {"100.64.0.0/10", "100.64.0.0", 10, NULL},
    {"::1", "::1", 128, NULL},
    {"::/0", "::", 0, NULL},
    {"fe80::/10", "fe80::", 10, NULL},
    {"2001:db8::/32", "2001:db8::", 32, NULL},
    {"10.0.0.1/8", NULL, 0, "CIDR \"10.0.0.1/8\": host bits are set (the network is 10.0.0.0/8)"},
    {"192.168.1.130/25", NULL, 0,
     "CIDR \"192.168.1.130/25\": host bits are set (the network is 192.168.1.128/25)"},
    {"fe80::1/10", NULL, 0, "CIDR \"fe80::1/10\": host bits are set (the network is fe80::/10)"},
    {"10.0.0.0/33", NULL, 0, "CIDR \"10.0.0.0/33\": prefix length out of range 0-32"},
    {"::/129", NULL, 0, "CIDR \"::/129\": prefix length out of range 0-128"},
    {"10.0.0.0/1000", NULL, 0, "CIDR \"10.0.0.0/1000\": prefix length out of range 0-32"},
    {"10.0.0.0/", NULL, 0, "CIDR \"10.0.0.0/\": missing prefix length after '/'"},
    {"10.0.0.0/+8", NULL, 0, "CIDR \"10.0.0.0/+8\": prefix length is not a decimal number"},
    {"10.0.0.0/8 ", NULL, 0, "CIDR \"10.0.0.0/8 \": prefix length is not a decimal number"},
    {"10.0.0.0/0x8", NULL, 0, "CIDR \"10.0.0.0/0x8\": prefix length is not a decimal number"},
    {"10.0.0.0/08", NULL, 0, "CIDR \"10.0.0.0/08\": prefix length has a leading zero"},
    {"010.0.0.0/8", NULL, 0, "CIDR \"010.0.0.0/8\": \"010.0.0.0\" is not an IP address"},
    {"10/8", NULL, 0, "CIDR \"10/8\": \"10\" is not an IP address"},
    {"fe80::%eth0/10", NULL, 0, "CIDR \"fe80::%eth0/10\": \"fe80::%eth0\" is not an IP address"},
    {"/8", NULL, 0, "CIDR \"/8\": \"\" is not an IP address"},
    {"", NULL, 0, "empty CIDR"},
};

static void test_blocklist_cidr_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cidr_cases / sizeof cidr_cases[0]; i++) {
        const cidr_case_t *c = &cidr_cases[i];
        sn_addr_t net;
        unsigned prefix = 999;
        sn_error_t err;
        strcpy(err.msg, "unset");
        sn_status_t st = sn_cidr_parse(c->text, &net, &prefix, &err);
        if (c->net == NULL) {
            if (st != SN_EPARSE)
                fail_msg("accepted CIDR \"%s\"", c->text);
            assert_string_equal(err.msg, c->msg);
            continue;
        }
        if (st != SN_OK)
            fail_msg("rejected CIDR \"%s\": %s", c->text, err.msg);
        char buf[SN_ADDR_STRLEN];
        sn_addr_format(&net, buf, sizeof buf, false);
        assert_string_equal(buf, c->net);
        assert_int_equal(prefix, c->prefix);
        assert_int_equal(net.port, 0);
    }
}

static void test_blocklist_cidr_parse_rejects_overlong(void **state)
{
    (void)state;
    char text[200];
    memset(text, '1', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    sn_error_t err;
    assert_int_equal(sn_cidr_parse(text, NULL, NULL, &err), SN_EPARSE);
    assert_non_null(strstr(err.msg, "too long"));
    assert_int_equal(sn_cidr_parse(NULL, NULL, NULL, &err), SN_EINVAL);
}

static void test_blocklist_allow_bad_cidr_fails_with_message(void **state)
{
    sn_blocklist_t *bl = *state;
    sn_error_t err;
    assert_int_equal(sn_blocklist_allow(bl, "127.0.0.1/8", &err), SN_EPARSE);
    assert_string_equal(err.msg,
                        "CIDR \"127.0.0.1/8\": host bits are set (the network is 127.0.0.0/8)");
    sn_addr_t lo = ip("127.0.0.1");
    assert_true(sn_blocklist_blocked(bl, &lo, NULL)); /* nothing was opened */
}

/* --- exclude files ------------------------------------------------------ */

static char *write_temp(const char *content)
{
    char *path = strdup("/tmp/sn_test_blocklist_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(content);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_blocklist_load_reads_ranges_and_comments(void **state)
{
    sn_blocklist_t *bl = *state;
    char *path = write_temp("# lab ranges\n"
                            "\n"
                            "   8.8.4.0/24   # resolver\n"
                            "\t1.1.1.1\r\n"
                            "2606:4700::/32\n"
                            "   # indented comment\n"
                            "9.9.9.9"); /* no final newline */
    sn_error_t err;
    assert_int_equal(sn_blocklist_load(bl, path, &err), SN_OK);
    const char *blocked[] = {"8.8.4.4", "1.1.1.1", "2606:4700::1111", "9.9.9.9"};
    const char *open[] = {"8.8.8.8", "1.1.1.2", "2606:4701::1", "9.9.9.10"};
    for (size_t i = 0; i < 4; i++) {
        sn_addr_t a = ip(blocked[i]), b = ip(open[i]);
        const char *why = NULL;
        assert_true(sn_blocklist_blocked(bl, &a, &why));
        assert_string_equal(why, "excluded by user");
        assert_false(sn_blocklist_blocked(bl, &b, NULL));
    }
    unlink(path);
    free(path);
}

static void test_blocklist_load_reports_file_and_line(void **state)
{
    sn_blocklist_t *bl = *state;
    struct {
        const char *content;
        unsigned long line;
        const char *reason;
    } cases[] = {
        {"8.8.8.0/24\n# ok\n8.8.8.1/24\n", 3,
         "CIDR \"8.8.8.1/24\": host bits are set (the network is 8.8.8.0/24)"},
        {"10.0.0.0/8\n\n\n\n010.1.1.1\n", 5,
         "CIDR \"010.1.1.1\": \"010.1.1.1\" is not an IP address"},
        {"host.example.com\n", 1, "not a CIDR: \"host.example.com\""},
        {"root:$6$saltsaltsaltsalt$hashhashhashhashhash:19000:0:99999:7:::\n", 1,
         "not a CIDR: \"root:$6$saltsaltsaltsalt...\""},
        {"1.2.3.0/24 1.2.4.0/24\n", 1,
         "CIDR \"1.2.3.0/24 1.2.4.0/24\": prefix length is not a decimal number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = write_temp(cases[i].content);
        sn_error_t err;
        char want[600];
        snprintf(want, sizeof want, "%s:%lu: %s", path, cases[i].line, cases[i].reason);
        assert_int_equal(sn_blocklist_load(bl, path, &err), SN_EPARSE);
        assert_string_equal(err.msg, want);
        unlink(path);
        free(path);
    }
}

static void test_blocklist_load_missing_file_names_it(void **state)
{
    sn_blocklist_t *bl = *state;
    sn_error_t err;
    const char *path = "/tmp/sn_test_blocklist_does_not_exist/x.txt";
    assert_int_equal(sn_blocklist_load(bl, path, &err), SN_ENOTFOUND);
    assert_string_equal(err.msg,
                        "/tmp/sn_test_blocklist_does_not_exist/x.txt: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blocklist_defaults_block_special_ranges_by_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_allow_everything_keeps_the_floor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_allow_loopback_opens_loopback_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_allow_narrow_range_inside_default, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_exclude_beats_allow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_allow_all_v4_leaves_v6_blocked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_no_address_is_blocked, setup, teardown),
        cmocka_unit_test(test_blocklist_cidr_parse_table),
        cmocka_unit_test(test_blocklist_cidr_parse_rejects_overlong),
        cmocka_unit_test_setup_teardown(test_blocklist_allow_bad_cidr_fails_with_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_load_reads_ranges_and_comments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_load_reports_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocklist_load_missing_file_names_it, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
