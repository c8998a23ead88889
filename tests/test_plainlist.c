/*
 * Plain-list reader tests: every accepted layout (BOM, CRLF, comments, blank
 * lines, blanks around entries, no final newline), every refused address or
 * port form, the exact text of a bad-entry report (file, line, reason, the
 * quoted line cut and escaped), strict mode, and the real openskype list when
 * SN_SHARED is set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/input.h"
#include "tests/lib/input_run.h"

static void read_list(run_t *r, const char *name, const char *buf, size_t len, bool strict)
{
    run_read(r, SN_INPUT_PLAIN, name, buf, len, strict);
}

/* One line each: what it must read as, or the reason it must be refused for. */
static const struct {
    const char *line;
    const char *want;   /* formatted target, or NULL if refused */
    const char *reason; /* expected bad-entry reason when refused */
} lines[] = {
    {"192.0.2.1:80", "192.0.2.1:80", NULL},
    {"  192.0.2.1:80\t ", "192.0.2.1:80", NULL},
    {"192.0.2.1:80 # a comment", "192.0.2.1:80", NULL},
    {"192.0.2.1:80\t#comment", "192.0.2.1:80", NULL},
    {"192.0.2.1:033033", "192.0.2.1:33033", NULL},
    {"192.0.2.1:65535", "192.0.2.1:65535", NULL},
    {"192.0.2.1:1", "192.0.2.1:1", NULL},
    {"[2001:db8::1]:33033", "[2001:db8::1]:33033", NULL},
    {"[::1]:443", "[::1]:443", NULL},
    {"010.0.0.1:80", NULL, "bad IPv4 address (\"010.0.0.1:80\")"},
    {"127.1:80", NULL, "bad IPv4 address (\"127.1:80\")"},
    {"0x7f.0.0.1:80", NULL, "bad IPv4 address (\"0x7f.0.0.1:80\")"},
    {"0x7f000001:80", NULL, "bad IPv4 address (\"0x7f000001:80\")"},
    {"2130706433:80", NULL, "bad IPv4 address (\"2130706433:80\")"},
    {"192.0.2.256:80", NULL, "bad IPv4 address (\"192.0.2.256:80\")"},
    {"192.0.2.1:0", NULL, "port out of range 1-65535 (\"192.0.2.1:0\")"},
    {"192.0.2.1:00000", NULL, "port out of range 1-65535 (\"192.0.2.1:00000\")"},
    {"192.0.2.1:65536", NULL, "port out of range 1-65535 (\"192.0.2.1:65536\")"},
    {"192.0.2.1:99999", NULL, "port out of range 1-65535 (\"192.0.2.1:99999\")"},
    {"192.0.2.1:+80", NULL, "port is not a decimal number (\"192.0.2.1:+80\")"},
    {"192.0.2.1:-80", NULL, "port is not a decimal number (\"192.0.2.1:-80\")"},
    {"192.0.2.1:0x50", NULL, "port is not a decimal number (\"192.0.2.1:0x50\")"},
    {"192.0.2.1:80x", NULL, "port is not a decimal number (\"192.0.2.1:80x\")"},
    {"192.0.2.1:8 0", NULL, "port is not a decimal number (\"192.0.2.1:8 0\")"},
    {"192.0.2.1:", NULL, "missing port (\"192.0.2.1:\")"},
    {"192.0.2.1", NULL, "missing port (\"192.0.2.1\")"},
    {"192.0.2.1:80#x", NULL, "port is not a decimal number (\"192.0.2.1:80#x\")"},
    {"2001:db8::1", NULL, "unbracketed IPv6 address (\"2001:db8::1\")"},
    {"::1:80", NULL, "unbracketed IPv6 address (\"::1:80\")"},
    {"[2001:db8::1]", NULL, "missing port (\"[2001:db8::1]\")"},
    {"[192.0.2.1]:80", NULL, "brackets around a non-IPv6 address (\"[192.0.2.1]:80\")"},
    {"[fe80::1%eth0]:80", NULL, "IPv6 zone id not allowed (\"[fe80::1%eth0]:80\")"},
    {"Skype Login servers, use AES-256:", NULL,
     "bad IPv4 address (\"Skype Login servers, use...\")"},
    {"192.0.2.1:80\x1b[31m", NULL, "port is not a decimal number (\"192.0.2.1:80\\x1b[31m\")"},
};

static void test_plainlist_each_line_form_reads_or_is_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "# header\n\n%s\n", lines[i].line);
        run_t r;
        read_list(&r, "list.txt", buf, strlen(buf), false);
        assert_int_equal(r.st, SN_OK);
        if (lines[i].want != NULL) {
            if (r.stats.entries != 1 || r.stats.bad != 0)
                fail_msg("\"%s\": %u entries, %u bad (%s)", lines[i].line,
                         (unsigned)r.stats.entries, (unsigned)r.stats.bad, r.bad.reason[0]);
            assert_addr(&sn_targets_at(r.ts, 0)->addr, lines[i].want);
        } else {
            assert_int_equal(r.stats.entries, 0);
            assert_int_equal(r.stats.bad, 1);
            assert_string_equal(r.bad.where[0], "list.txt:3");
            if (strcmp(r.bad.reason[0], lines[i].reason) != 0)
                fail_msg("\"%s\": reason \"%s\", want \"%s\"", lines[i].line, r.bad.reason[0],
                         lines[i].reason);
        }
        done(&r);
    }
}

static void test_plainlist_strict_stops_at_first_bad_line_with_message(void **state)
{
    (void)state;
    const char *buf = "192.0.2.1:80\n192.0.2.2:80\n1.2.3.4:0\n192.0.2.3:80\n";
    run_t r;
    read_list(&r, "list.txt", buf, strlen(buf), true);
    assert_int_equal(r.st, SN_EPARSE);
    assert_string_equal(r.err.msg, "list.txt:3: port out of range 1-65535 (\"1.2.3.4:0\")");
    assert_int_equal(r.stats.entries, 2);
    assert_int_equal(r.bad.n, 0); /* strict reports through err, not on_bad */
    assert_int_equal(sn_targets_count(r.ts), 2);
    done(&r);
}

static void test_plainlist_layout_bom_crlf_comments_no_final_newline(void **state)
{
    (void)state;
    const char buf[] = "\xef\xbb\xbf"
                       "192.0.2.1:80\r\n"
                       "\r\n"
                       "   \t \r\n"
                       "# full-line comment\r\n"
                       "   # indented comment\r\n"
                       "192.0.2.2:80   # trailing comment\r\n"
                       "[2001:db8::2]:443\r\n"
                       "192.0.2.3:80";
    run_t r;
    read_list(&r, "l.txt", buf, sizeof buf - 1, true);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 4);
    assert_int_equal(r.stats.bad, 0);
    assert_addr(&sn_targets_at(r.ts, 0)->addr, "192.0.2.1:80");
    assert_addr(&sn_targets_at(r.ts, 2)->addr, "[2001:db8::2]:443");
    assert_addr(&sn_targets_at(r.ts, 3)->addr, "192.0.2.3:80");
    done(&r);
}

static void test_plainlist_bom_only_at_start(void **state)
{
    (void)state;
    const char buf[] = "192.0.2.1:80\n\xef\xbb\xbf"
                       "192.0.2.2:80\n";
    run_t r;
    read_list(&r, "l.txt", buf, sizeof buf - 1, false);
    assert_int_equal(r.stats.entries, 1);
    assert_int_equal(r.stats.bad, 1);
    assert_string_equal(r.bad.where[0], "l.txt:2");
    assert_string_equal(r.bad.reason[0], "bad IPv4 address (\"\\xef\\xbb\\xbf192.0.2.2:80\")");
    done(&r);
}

static void test_plainlist_quote_is_cut_at_24_bytes_and_escaped(void **state)
{
    (void)state;
    char buf[512];
    memset(buf, 'x', 100);
    memcpy(buf, "a\"b\\c\td\x01", 8);
    buf[100] = '\n';
    run_t r;
    read_list(&r, "l.txt", buf, 101, false);
    assert_int_equal(r.stats.bad, 1);
    assert_string_equal(r.bad.reason[0], "bad IPv4 address (\"a\\\"b\\\\c\\x09d\\x01"
                                         "xxxxxxxxxxxxxxxx...\")");
    done(&r);
}

static void test_plainlist_nul_byte_is_a_bad_entry(void **state)
{
    (void)state;
    const char buf[] = "192.0.2.1:80\n192.0.2.2\0:80\n192.0.2.3:80\n";
    run_t r;
    read_list(&r, "l.txt", buf, sizeof buf - 1, false);
    assert_int_equal(r.stats.entries, 2);
    assert_int_equal(r.stats.bad, 1);
    assert_string_equal(r.bad.where[0], "l.txt:2");
    assert_non_null(strstr(r.bad.reason[0], "(\"192.0.2.2\\x00:80\")"));
    done(&r);
}

static void test_plainlist_duplicates_count_as_listings(void **state)
{
    (void)state;
    const char *buf = "192.0.2.1:80\n192.0.2.1:80\n192.0.2.1:0080\n192.0.2.1:81\n";
    run_t r;
    read_list(&r, "l.txt", buf, strlen(buf), true);
    assert_int_equal(r.stats.entries, 4);
    assert_int_equal(sn_targets_count(r.ts), 2);
    assert_int_equal(sn_targets_at(r.ts, 0)->seen_count, 3);
    done(&r);
}

static void test_plainlist_empty_and_comment_only_inputs_read_nothing(void **state)
{
    (void)state;
    static const char *const bufs[] = {"", "\n\n", "\xef\xbb\xbf", "# only\n# comments", "   "};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        run_t r;
        read_list(&r, "l.txt", bufs[i], strlen(bufs[i]), true);
        assert_int_equal(r.st, SN_OK);
        assert_int_equal(r.stats.entries, 0);
        assert_int_equal(r.stats.bad, 0);
        done(&r);
    }
}

static void test_plainlist_real_openskype_list(void **state)
{
    (void)state;
    const char *dir = getenv("SN_SHARED");
    char path[4096];
    if (dir == NULL)
        skip();
    snprintf(path, sizeof path, "%s/testdata/hostcache/openskype-skype_servers.txt", dir);
    if (access(path, R_OK) != 0)
        skip();
    sn_targets_t *ts = sn_targets_new();
    bad_log_t *bad = calloc(1, sizeof *bad);
    sn_read_opts_t o = {.on_bad = on_bad, .ud = bad};
    sn_read_stats_t st = {0};
    sn_error_t err = {{0}};
    assert_int_equal(sn_input_read(ts, path, &o, &st, &err), SN_OK);
    /* The four prose section headers are bad entries; the 207 addresses read. */
    assert_int_equal(st.entries, 207);
    assert_int_equal(st.bad, 4);
    assert_int_equal(bad->n, 4);
    static const unsigned prose_lines[4] = {1, 8, 13, 17};
    for (unsigned i = 0; i < 4; i++) {
        char want[4200];
        snprintf(want, sizeof want, "%s:%u", path, prose_lines[i]);
        assert_string_equal(bad->where[i], want);
    }
    assert_string_equal(bad->reason[0], "bad IPv4 address (\"Skype Login servers, use...\")");
    assert_string_equal(bad->reason[3], "bad IPv4 address (\"Fixed skype supernodes (...\")");
    assert_int_equal(sn_targets_count(ts), 207);
    assert_addr(&sn_targets_at(ts, 0)->addr, "194.165.188.79:33033");
    sn_targets_free(ts);
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plainlist_each_line_form_reads_or_is_refused),
        cmocka_unit_test(test_plainlist_strict_stops_at_first_bad_line_with_message),
        cmocka_unit_test(test_plainlist_layout_bom_crlf_comments_no_final_newline),
        cmocka_unit_test(test_plainlist_bom_only_at_start),
        cmocka_unit_test(test_plainlist_quote_is_cut_at_24_bytes_and_escaped),
        cmocka_unit_test(test_plainlist_nul_byte_is_a_bad_entry),
        cmocka_unit_test(test_plainlist_duplicates_count_as_listings),
        cmocka_unit_test(test_plainlist_empty_and_comment_only_inputs_read_nothing),
        cmocka_unit_test(test_plainlist_real_openskype_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
