/*
 * Input dispatch tests: reading files and stdin, file errors, format sniffing
 * (XML, CSV header, plain list, including a prose header that holds a comma),
 * forced formats, strict mode through sn_input_read, hostile fixtures, and
 * several inputs of different formats aggregated into one target set (seen
 * counts summed, sources and inputs in reading order). Fixtures live in
 * tests/fixtures/input (SN_TEST_DATA); tests that need them skip without it.
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

static char fixture_path[8][4096];

/* Path of fixture name in slot i; skips the test when SN_TEST_DATA is unset. */
static const char *fixture(int i, const char *name)
{
    const char *dir = getenv("SN_TEST_DATA");
    if (dir == NULL)
        skip();
    snprintf(fixture_path[i], sizeof fixture_path[i], "%s/input/%s", dir, name);
    if (access(fixture_path[i], R_OK) != 0)
        fail_msg("fixture %s missing", fixture_path[i]);
    return fixture_path[i];
}

static void test_input_missing_file_names_it_and_begins_nothing(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    sn_error_t err = {{0}};
    sn_read_stats_t st = {0};
    assert_int_equal(sn_input_read(ts, "/nonexistent/list.txt", NULL, &st, &err), SN_ENOTFOUND);
    assert_string_equal(err.msg, "/nonexistent/list.txt: No such file or directory");
    assert_int_equal(sn_targets_input_count(ts), 0);
    assert_int_equal(sn_input_read(ts, "/tmp", NULL, &st, &err), SN_EIO);
    assert_string_equal(err.msg, "/tmp: Is a directory");
    assert_int_equal(sn_targets_input_count(ts), 0);
    sn_targets_free(ts);
}

/* A file whose first block holds a NUL byte or is mostly control bytes is refused by name,
 * and nothing of it is read (a program holds printable addresses among its bytes). */
static void test_input_binary_file_is_not_a_text_file(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
    } bins[] = {
        {"\x7f"
         "ELF\x02\x01\x01\0\0\0 1.2.3.4:80\n8.8.8.8:53\n",
         32},
        {"8.8.8.8:53\n\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11", 23},
    };
    for (size_t i = 0; i < sizeof bins / sizeof bins[0]; i++) {
        char path[] = "/tmp/sn_test_input_bin_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, bins[i].bytes, bins[i].len), (ssize_t)bins[i].len);
        close(fd);
        sn_targets_t *ts = sn_targets_new();
        sn_error_t err = {{0}};
        sn_read_stats_t st = {0};
        assert_int_equal(sn_input_read(ts, path, NULL, &st, &err), SN_EPARSE);
        char want[128];
        snprintf(want, sizeof want, "%s: not a text file", path);
        assert_string_equal(err.msg, want);
        assert_int_equal(sn_targets_count(ts), 0);
        assert_int_equal(sn_targets_input_count(ts), 0);
        sn_targets_free(ts);
        unlink(path);
    }
    /* Text with a tab, CR and UTF-8 is text. */
    char path[] = "/tmp/sn_test_input_txt_XXXXXX";
    int fd = mkstemp(path);
    const char txt[] = "# n\xc5\x93uds\t\r\n8.8.8.8:53\r\n";
    assert_int_equal(write(fd, txt, sizeof txt - 1), (ssize_t)(sizeof txt - 1));
    close(fd);
    sn_targets_t *ts = sn_targets_new();
    sn_error_t err = {{0}};
    sn_read_stats_t st = {0};
    assert_int_equal(sn_input_read(ts, path, NULL, &st, &err), SN_OK);
    assert_int_equal(sn_targets_count(ts), 1);
    sn_targets_free(ts);
    unlink(path);
}

/* Each fixture read with the format sniffed: entries and bad entries expected. */
static const struct {
    const char *name;
    sn_status_t st;
    unsigned entries, bad;
    const char *first; /* first target, if any */
} sniffed[] = {
    {"legacy.shared.xml", SN_OK, 3, 0, "192.0.2.10:40007"},
    {"blob.shared.xml", SN_OK, 3, 0, "192.0.2.10:40007"},
    {"elsewhere.xml", SN_OK, 1, 0, "192.0.2.51:80"},
    {"nodes.csv", SN_OK, 3, 0, "192.0.2.10:40007"},
    {"list-bom-crlf.txt", SN_OK, 4, 1, "192.0.2.10:40007"},
    {"prose-list.txt", SN_OK, 2, 1, "192.0.2.12:33033"},
    {"billion-laughs.xml", SN_EPARSE, 0, 0, NULL},
    {"xxe.xml", SN_EPARSE, 0, 0, NULL},
    {"deep.xml", SN_ELIMIT, 0, 0, NULL},
};

static void test_input_fixtures_read_with_sniffed_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sniffed / sizeof sniffed[0]; i++) {
        const char *path = fixture(0, sniffed[i].name);
        sn_targets_t *ts = sn_targets_new();
        sn_read_stats_t st = {0};
        sn_error_t err = {{0}};
        bad_log_t *bad = calloc(1, sizeof *bad);
        sn_read_opts_t o = {.on_bad = on_bad, .ud = bad};
        sn_status_t rc = sn_input_read(ts, path, &o, &st, &err);
        if (rc != sniffed[i].st || st.entries != sniffed[i].entries || st.bad != sniffed[i].bad)
            fail_msg("%s: status %d (%s), %u entries, %u bad", sniffed[i].name, rc, err.msg,
                     (unsigned)st.entries, (unsigned)st.bad);
        if (sniffed[i].first != NULL) {
            char buf[SN_ADDR_STRLEN];
            sn_addr_format(&sn_targets_at(ts, 0)->addr, buf, sizeof buf, true);
            assert_string_equal(buf, sniffed[i].first);
        }
        if (rc != SN_OK) {
            assert_int_equal(sn_targets_count(ts), 0);
            assert_true(strncmp(err.msg, path, strlen(path)) == 0);
        }
        free(bad);
        sn_targets_free(ts);
    }
}

static void test_input_hostile_xml_messages(void **state)
{
    (void)state;
    static const struct {
        const char *name, *msg;
    } cases[] = {
        {"billion-laughs.xml",
         ":3: XML entity declarations are not accepted (billion laughs / external entity "
         "protection)"},
        {"xxe.xml",
         ":3: XML entity declarations are not accepted (billion laughs / external entity "
         "protection)"},
        {"deep.xml", ":1: XML nested deeper than 64 elements"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = fixture(0, cases[i].name);
        sn_targets_t *ts = sn_targets_new();
        sn_error_t err = {{0}};
        sn_input_read(ts, path, NULL, NULL, &err);
        char want[4400];
        snprintf(want, sizeof want, "%s%s", path, cases[i].msg);
        assert_string_equal(err.msg, want);
        assert_int_equal(sn_targets_count(ts), 0);
        sn_targets_free(ts);
    }
}

static void test_input_bad_entry_where_names_the_path_and_line(void **state)
{
    (void)state;
    const char *path = fixture(0, "list-bom-crlf.txt");
    sn_targets_t *ts = sn_targets_new();
    bad_log_t *bad = calloc(1, sizeof *bad);
    sn_read_opts_t o = {.on_bad = on_bad, .ud = bad};
    sn_error_t err = {{0}};
    assert_int_equal(sn_input_read(ts, path, &o, NULL, &err), SN_OK);
    assert_int_equal(bad->n, 1);
    char want[4200];
    snprintf(want, sizeof want, "%s:6", path);
    assert_string_equal(bad->where[0], want);
    assert_string_equal(bad->reason[0], "port out of range 1-65535 (\"192.0.2.11:0\")");

    /* Strict: the same text, as the error, and the read stops there. */
    sn_targets_free(ts);
    ts = sn_targets_new();
    o.strict = true;
    sn_read_stats_t st = {0};
    assert_int_equal(sn_input_read(ts, path, &o, &st, &err), SN_EPARSE);
    snprintf(want, sizeof want, "%s:6: port out of range 1-65535 (\"192.0.2.11:0\")", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(st.entries, 3);
    assert_int_equal(bad->n, 1);
    free(bad);
    sn_targets_free(ts);
}

static void test_input_several_inputs_aggregate(void **state)
{
    (void)state;
    const char *paths[4] = {fixture(0, "list-bom-crlf.txt"), fixture(1, "nodes.csv"),
                            fixture(2, "legacy.shared.xml"), fixture(3, "blob.shared.xml")};
    sn_targets_t *ts = sn_targets_new();
    sn_read_stats_t st = {0};
    sn_error_t err = {{0}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(sn_input_read(ts, paths[i], NULL, &st, &err), SN_OK);

    assert_int_equal(st.entries, 4 + 3 + 3 + 3); /* stats accumulate over reads */
    assert_int_equal(st.bad, 1);
    assert_int_equal(sn_targets_input_count(ts), 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(sn_targets_input_name(ts, (size_t)i), paths[i]);
    assert_int_equal(sn_targets_input_listings(ts, 1), 3);

    /* 192.0.2.10:40007 is in all four; the CSV row stands for 3 listings. */
    const sn_target_t *t = find(ts, "192.0.2.10:40007");
    assert_non_null(t);
    assert_int_equal(t->seen_count, 1 + 3 + 1 + 1);
    assert_int_equal(t->first_input, 0);
    assert_int_equal(t->first_seen, 1493596800); /* 2017-05-01 from the CSV */
    assert_int_equal(t->last_seen, 1494028800);  /* 2017-05-06 from the CSV beats the blob */
    assert_non_null(sn_targets_flags(ts, t));    /* which listing's flags win is the set's rule */
    labels_t *l = calloc(1, sizeof *l);
    sn_targets_foreach_source(ts, t, add_label, l);
    assert_int_equal(l->n, 4);
    assert_string_equal(l->s[0], paths[0]);
    assert_string_equal(l->s[1], "harvest-b");
    assert_string_equal(l->s[2], paths[2]);
    assert_string_equal(l->s[3], paths[3]);
    free(l);

    /* 198.51.100.21:22112 is in the list and the legacy cache. */
    t = find(ts, "198.51.100.21:22112");
    assert_non_null(t);
    assert_int_equal(t->seen_count, 2);
    t = find(ts, "203.0.113.33:443");
    assert_non_null(t);
    assert_int_equal(t->seen_count, 2);
    assert_int_equal(t->first_input, 1);
    sn_targets_free(ts);
}

static void test_input_reads_stdin_as_dash(void **state)
{
    (void)state;
    char path[] = "/tmp/sn_stdin_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "ip,port\n192.0.2.1,80\n192.0.2.2,0\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    int saved = dup(0);
    assert_int_equal(dup2(fd, 0), 0);
    close(fd);
    clearerr(stdin);

    sn_targets_t *ts = sn_targets_new();
    bad_log_t *bad = calloc(1, sizeof *bad);
    sn_read_opts_t o = {.on_bad = on_bad, .ud = bad};
    sn_read_stats_t st = {0};
    sn_error_t err = {{0}};
    sn_status_t rc = sn_input_read(ts, "-", &o, &st, &err);

    dup2(saved, 0);
    close(saved);
    clearerr(stdin);
    unlink(path);

    assert_int_equal(rc, SN_OK);
    assert_int_equal(st.entries, 1);
    assert_int_equal(bad->n, 1);
    assert_string_equal(bad->where[0], "stdin:3");
    assert_string_equal(sn_targets_input_name(ts, 0), "-");
    free(bad);
    sn_targets_free(ts);
}

/* Content, the format the sniff must pick (seen by which reader accepts it). */
static const struct {
    const char *text;
    unsigned entries, bad;
    sn_status_t st;
} sniff_cases[] = {
    {"\xef\xbb\xbf \r\n\t<config><Lib><Connection><HostCache><_1>192.0.2.1:80</_1></HostCache>"
     "</Connection></Lib></config>",
     1, 0, SN_OK},
    {"<not-a-host-cache/>", 0, 0, SN_EPARSE},
    {"\n\nIP , Port\n192.0.2.1,80\n", 1, 0, SN_OK},
    {"\"ip\",\"port\"\n192.0.2.1,80\n", 1, 0, SN_OK},
    {"port,ip\n80,192.0.2.1\n", 1, 0, SN_OK},
    {"address,port\n192.0.2.1,80\n", 0, 0, SN_EPARSE}, /* a CSV header without ip: told so */
    {"Servers, use AES-256:\n192.0.2.1:80\n", 1, 1, SN_OK},
    {"ip\n192.0.2.1:80\n", 1, 1, SN_OK}, /* no comma: a plain list with a stray word */
    {"192.0.2.1:80\n", 1, 0, SN_OK},
    {"", 0, 0, SN_OK},
};

static void test_input_sniffs_the_format_from_content(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sniff_cases / sizeof sniff_cases[0]; i++) {
        sn_targets_t *ts = sn_targets_new();
        sn_read_stats_t st = {0};
        sn_error_t err = {{0}};
        sn_status_t rc = sn_input_read_buf(ts, "buf", sniff_cases[i].text,
                                           strlen(sniff_cases[i].text), NULL, &st, &err);
        if (rc != sniff_cases[i].st || st.entries != sniff_cases[i].entries ||
            st.bad != sniff_cases[i].bad)
            fail_msg("case %zu: status %d (%s), %u entries, %u bad", i, rc, err.msg,
                     (unsigned)st.entries, (unsigned)st.bad);
        assert_int_equal(sn_targets_input_count(ts), 1);
        sn_targets_free(ts);
    }
}

static void test_input_forced_format_overrides_the_sniff(void **state)
{
    (void)state;
    const char *csv = "ip,port\n192.0.2.1,80\n";
    sn_targets_t *ts = sn_targets_new();
    sn_read_stats_t st = {0};
    sn_error_t err = {{0}};
    sn_read_opts_t o = {.format = SN_INPUT_PLAIN};
    assert_int_equal(sn_input_read_buf(ts, "b", csv, strlen(csv), &o, &st, &err), SN_OK);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.bad, 2);

    o.format = SN_INPUT_XML;
    assert_int_equal(sn_input_read_buf(ts, "b", csv, strlen(csv), &o, &st, &err), SN_EPARSE);
    assert_string_equal(err.msg, "b:1: XML error: syntax error");

    o.format = SN_INPUT_CSV;
    assert_int_equal(sn_input_read_buf(ts, "b", "192.0.2.1:80\n", 13, &o, &st, &err), SN_EPARSE);
    assert_string_equal(err.msg, "b:1: CSV header lacks the required column \"ip\"");

    o.format = (sn_input_format_t)42;
    assert_int_equal(sn_input_read_buf(ts, "b", csv, strlen(csv), &o, &st, &err), SN_EINVAL);
    assert_int_equal(sn_targets_input_count(ts), 4);
    sn_targets_free(ts);
}

static void test_input_null_arguments_are_refused_not_crashed(void **state)
{
    (void)state;
    sn_error_t err = {{0}};
    assert_int_equal(sn_input_read(NULL, "x", NULL, NULL, &err), SN_EINVAL);
    assert_int_equal(sn_input_read_buf(NULL, "x", "", 0, NULL, NULL, &err), SN_EINVAL);
    sn_targets_t *ts = sn_targets_new();
    assert_int_equal(sn_input_read(ts, NULL, NULL, NULL, &err), SN_EINVAL);
    assert_int_equal(sn_input_read_buf(ts, "x", NULL, 5, NULL, NULL, &err), SN_EINVAL);
    assert_int_equal(sn_input_read_buf(ts, NULL, NULL, 0, NULL, NULL, NULL), SN_OK);
    sn_targets_free(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_missing_file_names_it_and_begins_nothing),
        cmocka_unit_test(test_input_binary_file_is_not_a_text_file),
        cmocka_unit_test(test_input_fixtures_read_with_sniffed_format),
        cmocka_unit_test(test_input_hostile_xml_messages),
        cmocka_unit_test(test_input_bad_entry_where_names_the_path_and_line),
        cmocka_unit_test(test_input_several_inputs_aggregate),
        cmocka_unit_test(test_input_reads_stdin_as_dash),
        cmocka_unit_test(test_input_sniffs_the_format_from_content),
        cmocka_unit_test(test_input_forced_format_overrides_the_sniff),
        cmocka_unit_test(test_input_null_arguments_are_refused_not_crashed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
