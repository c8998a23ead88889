/*
 * CSV reader tests: header rules (required ip and port, optional columns in
 * any order and case, unknown columns ignored, duplicates and missing
 * columns refused), quoting, every field rule (count, first/last seen in all
 * three time forms, source labels), line numbers that stay right across
 * quoted line breaks and CRLF, and syntax faults reported with libcsv's text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/input.h"
#include "tests/lib/input_run.h"

/* A CSV buffer, named in.csv, read into r (tests/lib/input_run.h). */
static void read_csv(run_t *r, const char *buf, size_t len, bool strict)
{
    run_read(r, SN_INPUT_CSV, "in.csv", buf, len, strict);
}

static void read_str(run_t *r, const char *buf, bool strict)
{
    read_csv(r, buf, strlen(buf), strict);
}

static void test_csvin_reads_ip_and_port(void **state)
{
    (void)state;
    run_t r;
    read_str(&r, "ip,port\n192.0.2.1,80\n2001:db8::1,443\n192.0.2.2,033033\n", true);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 3);
    assert_non_null(find(r.ts, "192.0.2.1:80"));
    assert_non_null(find(r.ts, "[2001:db8::1]:443"));
    assert_non_null(find(r.ts, "192.0.2.2:33033"));
    done(&r);
}

static void test_csvin_header_any_case_any_order_unknown_ignored(void **state)
{
    (void)state;
    run_t r;
    read_str(&r,
             "Country, PORT ,asn,Source,IP,Count,LAST_SEEN,First_Seen\n"
             "NL,80,64500,harvest-a,192.0.2.1,5,2017-05-05T12:00:00Z,2017-05-01\n",
             true);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 1);
    const sn_target_t *t = find(r.ts, "192.0.2.1:80");
    assert_non_null(t);
    assert_int_equal(t->seen_count, 5);
    assert_int_equal(t->first_seen, 1493596800); /* 2017-05-01T00:00:00Z */
    assert_int_equal(t->last_seen, 1493985600);  /* 2017-05-05T12:00:00Z */
    labels_t l = {0};
    sn_targets_foreach_source(r.ts, t, add_label, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.s[0], "harvest-a");
    done(&r);
}

static void test_csvin_quoted_fields(void **state)
{
    (void)state;
    run_t r;
    read_str(&r,
             "\"ip\",\"port\",\"source\",\"note\"\n"
             "\"192.0.2.1\",\"80\",\"lab, \"\"north\"\" wing\"\n"
             "192.0.2.2,81,,\"two\nlines\"\n"
             "192.0.2.3,0,x\n",
             false);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 2);
    labels_t l = {0};
    sn_targets_foreach_source(r.ts, find(r.ts, "192.0.2.1:80"), add_label, &l);
    assert_string_equal(l.s[0], "lab, \"north\" wing");
    /* A quoted line break is data: the bad row after it is still on line 5... */
    assert_int_equal(r.bad.n, 1);
    assert_string_equal(r.bad.where[0], "in.csv:5");
    done(&r);
}

static void test_csvin_missing_required_column_is_a_file_error(void **state)
{
    (void)state;
    static const struct {
        const char *buf;
        const char *msg;
    } cases[] = {
        {"ip,count\n192.0.2.1,1\n", "in.csv:1: CSV header lacks the required column \"port\""},
        {"\n\naddress,port\n192.0.2.1,1\n",
         "in.csv:3: CSV header lacks the required column \"ip\""},
        {"192.0.2.1,80\n", "in.csv:1: CSV header lacks the required column \"ip\""},
        {"ip,port,IP\n192.0.2.1,1,x\n", "in.csv:1: CSV header names the column \"ip\" twice"},
        {"", "in.csv: CSV file has no header row"},
        {"\n \n", "in.csv: CSV file has no header row"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_t r;
        read_str(&r, cases[i].buf, false);
        assert_int_equal(r.st, SN_EPARSE);
        assert_string_equal(r.err.msg, cases[i].msg);
        assert_int_equal(sn_targets_count(r.ts), 0);
        done(&r);
    }
}

/* A data row under the header `ip,port,count,first_seen,last_seen,source`. */
static const struct {
    const char *row;
    const char *reason; /* NULL: the row is good */
} rows[] = {
    {"192.0.2.1,80,,,,", NULL},
    {"192.0.2.1,80,1,,,", NULL},
    {"192.0.2.1,80,4294967295,,,", NULL},
    {"192.0.2.1,80,007,,,", NULL},
    {"192.0.2.1,80,,1493596800,1493985600,", NULL},
    {"192.0.2.1,80,,2017-05-01,2017-05-01,", NULL},
    {"192.0.2.1,80,,2016-02-29T23:59:59Z,,", NULL},
    {"192.0.2.1,80", NULL},
    {"010.0.0.1,80,,,,", "column 1 (ip): not an IP address (\"010.0.0.1\")"},
    {"127.1,80,,,,", "column 1 (ip): not an IP address (\"127.1\")"},
    {"0x7f000001,80,,,,", "column 1 (ip): not an IP address (\"0x7f000001\")"},
    {"[2001:db8::1],80,,,,", "column 1 (ip): not an IP address (\"[2001:db8::1]\")"},
    {",80,,,,", "column 1 (ip): not an IP address (\"\")"},
    {"192.0.2.1,0,,,,", "column 2 (port): port out of range 1-65535 (\"0\")"},
    {"192.0.2.1,65536,,,,", "column 2 (port): port out of range 1-65535 (\"65536\")"},
    {"192.0.2.1,+80,,,,", "column 2 (port): port is not a decimal number (\"+80\")"},
    {"192.0.2.1,,,,,", "column 2 (port): missing port (\"\")"},
    {"192.0.2.1", "column 2 (port): missing (the row has 1 columns)"},
    {"192.0.2.1,80,0,,,", "column 3 (count): count is not a decimal number 1-4294967295 (\"0\")"},
    {"192.0.2.1,80,-1,,,", "column 3 (count): count is not a decimal number 1-4294967295 (\"-1\")"},
    {"192.0.2.1,80,4294967296,,,",
     "column 3 (count): count is not a decimal number 1-4294967295 (\"4294967296\")"},
    {"192.0.2.1,80,1e3,,,",
     "column 3 (count): count is not a decimal number 1-4294967295 (\"1e3\")"},
    {"192.0.2.1,80,\" 1\",,,",
     "column 3 (count): count is not a decimal number 1-4294967295 (\" 1\")"},
    {"192.0.2.1,80,0x10,,,",
     "column 3 (count): count is not a decimal number 1-4294967295 (\"0x10\")"},
    {"192.0.2.1,80,,2017-02-30,,", "column 4 (first_seen): not a time (Unix seconds, YYYY-MM-DD or "
                                   "YYYY-MM-DDTHH:MM:SSZ) (\"2017-02-30\")"},
    {"192.0.2.1,80,,2017-13-01,,", "column 4 (first_seen): not a time"},
    {"192.0.2.1,80,,2015-02-29,,", "column 4 (first_seen): not a time"},
    {"192.0.2.1,80,,1969-12-31,,", "column 4 (first_seen): not a time"},
    {"192.0.2.1,80,,2017-05-01T24:00:00Z,,", "column 4 (first_seen): not a time"},
    {"192.0.2.1,80,,2017-05-01T12:60:00Z,,", "column 4 (first_seen): not a time"},
    {"192.0.2.1,80,,2017-05-01T12:00:00,,", "column 4 (first_seen): not a time"},
    {"192.0.2.1,80,,2017-05-01T12:00:00+02:00,,", "column 4 (first_seen): not a time"},
    {"192.0.2.1,80,,2017-5-1,,", "column 4 (first_seen): not a time"},
    {"192.0.2.1,80,,-5,,", "column 4 (first_seen): not a time"},
    {"192.0.2.1,80,,99999999999999,,", "column 4 (first_seen): not a time"},
    {"192.0.2.1,80,,,yesterday,", "column 5 (last_seen): not a time"},
    {"192.0.2.1,80,,2017-05-02,2017-05-01,",
     "column 5 (last_seen): last_seen is before first_seen"},
    {"192.0.2.1,80,,,,\"a\tb\"",
     "column 6 (source): control character in source label (\"a\\x09b\")"},
};

static void test_csvin_each_field_rule(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "ip,port,count,first_seen,last_seen,source\n%s\n", rows[i].row);
        run_t r;
        read_str(&r, buf, false);
        assert_int_equal(r.st, SN_OK);
        if (rows[i].reason == NULL) {
            if (r.stats.entries != 1)
                fail_msg("row \"%s\" refused: %s", rows[i].row, r.bad.reason[0]);
        } else {
            assert_int_equal(r.stats.entries, 0);
            assert_int_equal(r.stats.bad, 1);
            assert_string_equal(r.bad.where[0], "in.csv:2");
            if (strncmp(r.bad.reason[0], rows[i].reason, strlen(rows[i].reason)) != 0)
                fail_msg("row \"%s\": reason \"%s\", want \"%s\"", rows[i].row, r.bad.reason[0],
                         rows[i].reason);
            done(&r);
            read_str(&r, buf, true);
            assert_int_equal(r.st, SN_EPARSE);
            assert_true(strncmp(r.err.msg, "in.csv:2: column ", 17) == 0);
        }
        done(&r);
    }
}

static void test_csvin_count_is_summed_into_seen_count(void **state)
{
    (void)state;
    run_t r;
    read_str(&r, "ip,port,count\n192.0.2.1,80,3\n192.0.2.1,80,4\n192.0.2.1,80,\n192.0.2.2,80,10\n",
             true);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 4);
    assert_int_equal(find(r.ts, "192.0.2.1:80")->seen_count, 8);
    assert_int_equal(find(r.ts, "192.0.2.2:80")->seen_count, 10);
    done(&r);
}

static void test_csvin_source_label_overrides_input_name(void **state)
{
    (void)state;
    run_t r;
    read_str(&r, "ip,port,source\n192.0.2.1,80,harvest-1\n192.0.2.1,80,\n192.0.2.1,80,harvest-2\n",
             true);
    assert_int_equal(r.st, SN_OK);
    labels_t l = {0};
    sn_targets_foreach_source(r.ts, find(r.ts, "192.0.2.1:80"), add_label, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.s[0], "harvest-1");
    assert_string_equal(l.s[1], "in.csv"); /* an empty source is the input's name */
    assert_string_equal(l.s[2], "harvest-2");
    done(&r);
}

static void test_csvin_times_in_all_three_forms(void **state)
{
    (void)state;
    run_t r;
    read_str(&r,
             "ip,port,first_seen,last_seen\n"
             "192.0.2.1,80,0000000001,2038-01-19T03:14:08Z\n"
             "192.0.2.2,80,2000-02-29,2000-03-01T00:00:00Z\n",
             true);
    assert_int_equal(r.st, SN_OK);
    const sn_target_t *t = find(r.ts, "192.0.2.1:80");
    assert_int_equal(t->first_seen, 1);
    assert_int_equal(t->last_seen, INT64_C(2147483648));
    t = find(r.ts, "192.0.2.2:80");
    assert_int_equal(t->first_seen, 951782400);
    assert_int_equal(t->last_seen, 951868800);
    done(&r);
}

static void test_csvin_bom_crlf_blank_lines_and_no_final_newline(void **state)
{
    (void)state;
    const char buf[] = "\xef\xbb\xbfip,port\r\n192.0.2.1,80\r\n\r\n  \r\n192.0.2.2,80\r\n"
                       "192.0.2.3,0\r\n192.0.2.4,80";
    run_t r;
    read_csv(&r, buf, sizeof buf - 1, false);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 3);
    assert_int_equal(r.stats.bad, 1);
    assert_string_equal(r.bad.where[0], "in.csv:6");
    assert_non_null(find(r.ts, "192.0.2.4:80"));
    done(&r);
}

static void test_csvin_syntax_errors_stop_the_file_with_libcsv_text(void **state)
{
    (void)state;
    static const struct {
        const char *buf;
        const char *msg;
    } cases[] = {
        {"ip,port\n192.0.2.1,80\n192.0.2.2,\"80\"x\n",
         "in.csv:3: CSV error: error parsing data while strict checking enabled"},
        {"ip,port\n192.0.2.1,8\"0\n",
         "in.csv:2: CSV error: error parsing data while strict checking enabled"},
        {"ip,port\n192.0.2.1,80\n192.0.2.2,\"80\n\n",
         "in.csv:3: CSV error: error parsing data while strict checking enabled (a quoted field "
         "is not closed)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_t r;
        read_str(&r, cases[i].buf, false);
        assert_int_equal(r.st, SN_EPARSE);
        assert_string_equal(r.err.msg, cases[i].msg);
        done(&r);
    }
}

static void test_csvin_overlong_field_is_a_bad_entry(void **state)
{
    (void)state;
    char buf[1024] = "ip,port,source\n192.0.2.1,80,";
    memset(buf + strlen(buf), 's', 300);
    run_t r;
    read_str(&r, buf, false);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.bad, 1);
    assert_string_equal(r.bad.reason[0], "column 3 (source): longer than 255 bytes");
    done(&r);
}

/*
 * A 50 MB quoted field (with doubled quotes and newlines inside) in an ignored column, read
 * from a file: libcsv's buffer must grow geometrically (data/csvgrow.h), or this is
 * quadratic (over 300 s under ASan). The assertion is on the content; the time is printed.
 */
static void test_csvin_50mb_quoted_field_reads(void **state)
{
    (void)state;
    char dir[] = "/tmp/snprobe-csvin-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[sizeof dir + 16];
    snprintf(path, sizeof path, "%s/big.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("ip,port,note\n192.0.2.1,80,\"", f);
    static char chunk[1 << 16];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)('a' + i % 26);
    memcpy(chunk + 100, "\"\"", 2); /* an escaped quote */
    chunk[5000] = '\n';             /* a newline inside the field */
    const size_t total = (size_t)50 << 20;
    for (size_t n = 0; n < total; n += sizeof chunk)
        assert_int_equal(fwrite(chunk, 1, sizeof chunk, f), sizeof chunk);
    fputs("\",1\n192.0.2.2,443,x\n", f);
    assert_int_equal(fclose(f), 0);

    sn_targets_t *ts = sn_targets_new();
    assert_non_null(ts);
    sn_read_opts_t o = {.format = SN_INPUT_CSV, .strict = true};
    sn_read_stats_t stats = {0};
    sn_error_t err;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sn_status_t st = sn_input_read(ts, path, &o, &stats, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_message("50 MB quoted field read in %.2f s\n",
                  (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (st != SN_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(stats.entries, 2);
    assert_int_equal(stats.bad, 0);
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_endpoint("192.0.2.1:80", 12, &a, NULL), SN_OK);
    assert_non_null(sn_targets_find(ts, &a));
    assert_int_equal(sn_addr_parse_endpoint("192.0.2.2:443", 13, &a, NULL), SN_OK);
    assert_non_null(sn_targets_find(ts, &a));
    sn_targets_free(ts);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csvin_reads_ip_and_port),
        cmocka_unit_test(test_csvin_50mb_quoted_field_reads),
        cmocka_unit_test(test_csvin_header_any_case_any_order_unknown_ignored),
        cmocka_unit_test(test_csvin_quoted_fields),
        cmocka_unit_test(test_csvin_missing_required_column_is_a_file_error),
        cmocka_unit_test(test_csvin_each_field_rule),
        cmocka_unit_test(test_csvin_count_is_summed_into_seen_count),
        cmocka_unit_test(test_csvin_source_label_overrides_input_name),
        cmocka_unit_test(test_csvin_times_in_all_three_forms),
        cmocka_unit_test(test_csvin_bom_crlf_blank_lines_and_no_final_newline),
        cmocka_unit_test(test_csvin_syntax_errors_stop_the_file_with_libcsv_text),
        cmocka_unit_test(test_csvin_overlong_field_is_a_bad_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
