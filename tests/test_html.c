/*
 * The HTML report (reports/html.c) without a browser (tests/e2e_html_browser.sh
 * opens it in Chromium): the escaping function on a table of hostile and
 * malformed strings, and a report written from a small scan whose PTR name and
 * AS organisation are hostile: it must be self-contained (a strict CSP, no
 * element that loads anything, no URL at all), show the hostile strings only
 * escaped, draw the charts with the right number of bars, and carry every
 * headline number exactly as the summary has it; and the table of our address
 * as the nodes saw it, with figures computed by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/html.h"

static const sn_probe_t fake_udp = {.name = "skype", .transport = SN_TRANSPORT_UDP};
static const sn_probe_t fake_tcp = {.name = "tcp", .transport = SN_TRANSPORT_TCP};

static const char HOSTILE_PTR[] = "\"><img src=x onerror=alert(1)><script>alert('p')</script>";
static const char HOSTILE_ORG[] = "</td><svg onload=alert(2)> & Co";

static char *escaped(const char *s)
{
    static char buf[4096];
    memset(buf, 0, sizeof buf);
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    sn_html_escape(f, s);
    fclose(f);
    return buf;
}

static void test_escape_table(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain.example.edu", "plain.example.edu"},
        {"<a href='x'>&\"", "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"},
        {"Universit\xc3\xa4t", "Universit\xc3\xa4t"}, /* valid UTF-8 kept */
        {"a\xff"
         "b",
         "a\xef\xbf\xbd"
         "b"}, /* invalid byte: U+FFFD */
        {"a\x01\x1f\x7f"
         "b",
         "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
         "b"}, /* controls */
        {"a\xc2\x85"
         "b",
         "a\xef\xbf\xbd"
         "b"}, /* C1 control NEL */
        {"\xe2\x80\xae"
         "evil",
         "\xe2\x80\xae"
         "evil"},                                                 /* bidi kept; CSS isolates */
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong '/' */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(escaped(cases[i].in), cases[i].out);
    assert_string_equal(escaped(NULL), "");
}

/* Our address as each node saw it (the silent node's does not count), and
 * the node whose UDP reply came from elsewhere. */
static const char *const OBSERVED[6] = {"203.0.113.50:41000",   "203.0.113.50:41000",
                                        "203.0.113.50:41007",   "203.0.113.50",
                                        "[2001:db8::99]:41000", "203.0.113.51:1"};
#define REPLY_OTHER 2

static sn_addr_t endpoint(const char *s)
{
    sn_addr_t a;
    const char *why = NULL;
    if (sn_addr_parse_ip(s, strlen(s), &a) != SN_OK)
        assert_int_equal(sn_addr_parse_endpoint(s, strlen(s), &a, &why), SN_OK);
    return a;
}

/* A small scan: a NAT'd node, an eligible one with hostile strings, a silent one. */
static sn_stats_t *small_scan(void)
{
    static sn_target_t t[6];
    static sn_enrichment_t e[6];
    static const char *const ips[6] = {"198.51.100.1", "198.51.100.2", "198.51.100.3",
                                       "203.0.113.4",  "2001:db8::5",  "198.51.100.6"};
    static const char *const cc[6] = {"US", "US", "DE", "JP", "", "BR"};
    static const char *const co[6] = {"NA", "NA", "EU", "AS", "", "SA"};
    sn_stats_t *st = sn_stats_new();
    assert_non_null(st);
    for (int i = 0; i < 6; i++) {
        memset(&t[i], 0, sizeof t[i]);
        assert_int_equal(sn_addr_parse_ip(ips[i], strlen(ips[i]), &t[i].addr), SN_OK);
        t[i].addr.port = (uint16_t)(i == 0 ? 33033 : 1000 + i);
        t[i].seen_count = (uint32_t)(10 - i);
        t[i].first_input = (uint32_t)(i / 3);
        memset(&e[i], 0, sizeof e[i]);
        e[i].rdns_status = "ok";
        snprintf(e[i].ptr, sizeof e[i].ptr, "%s", i == 0 ? HOSTILE_PTR : "host.example.edu");
        snprintf(e[i].geo.country, 3, "%s", cc[i]);
        snprintf(e[i].geo.continent, 3, "%s", co[i]);
        e[i].geo.asn = i == 0 ? 64500 : 64501 + (uint32_t)(i % 2);
        snprintf(e[i].geo.as_org, sizeof e[i].geo.as_org, "%s", i == 0 ? HOSTILE_ORG : "Net");
        e[i].class_known = true;
        e[i].cls.edu = i != 0;
        e[i].cls.edu_source = i != 0 ? "ptr" : "";
        e[i].cls.dyn = i % 2 ? SN_DYN_DYNAMIC : SN_DYN_STATIC;
        sn_result_t r = {.target = &t[i], .enrich = &e[i]};
        r.udp = (sn_probe_result_t){.probe = &fake_udp,
                                    .port = t[i].addr.port,
                                    .outcome = i == 5 ? SN_OUTCOME_FILTERED : SN_OUTCOME_ALIVE,
                                    .rtt_us = (uint32_t)(20000 + 7000 * i),
                                    .observed = endpoint(OBSERVED[i])};
        if (i == REPLY_OTHER)
            r.udp.reply_from = endpoint("198.51.100.200:9");
        r.tcp = (sn_probe_result_t){.probe = &fake_tcp,
                                    .port = t[i].addr.port,
                                    .outcome = i >= 4 ? SN_OUTCOME_FILTERED : SN_OUTCOME_ALIVE,
                                    .rtt_us = (uint32_t)(15000 + 5000 * i)};
        assert_int_equal(sn_stats_add(st, &r), SN_OK);
    }
    sn_stats_set_text(st, SN_STATS_COMMAND, "snprobe scan \"<b>bold</b>\".xml");
    sn_stats_set_text(st, SN_STATS_VANTAGE, "mapping=none;filtering=none;udp=open;tcp=open");
    sn_stats_add_data_source(st, "dbip-country.mmdb (country, built <2026>)");
    return st;
}

static char *write_report(sn_stats_t *st, char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/sn_html_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sn_error_t err;
    assert_int_equal(sn_report_write_html(st, path, &err), SN_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The text of the <svg ... data-chart="name" ...> element up to its </svg>. */
static size_t count_in_chart(const char *html, const char *name, const char *needle)
{
    char key[64];
    snprintf(key, sizeof key, "data-chart=\"%s\"", name);
    const char *s = strstr(html, key);
    if (s == NULL)
        fail_msg("no chart %s", name);
    const char *end = strstr(s, "</svg>");
    assert_non_null(end);
    size_t n = 0;
    for (const char *p = strstr(s, needle); p != NULL && p < end; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_report_is_self_contained(void **state)
{
    (void)state;
    sn_stats_t *st = small_scan();
    char path[64];
    const char *h = write_report(st, path, sizeof path);
    assert_memory_equal(h, "<!DOCTYPE html>", 15);
    assert_non_null(strstr(h, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                              "'none'; style-src 'unsafe-inline'\">"));
    assert_non_null(strstr(h, "name=\"viewport\""));
    static const char *const banned[] = {"http://", "https://", "<script",   "<img", "<link",
                                         "<iframe", "<object",  "<embed",    "url(", "@import",
                                         "src=\"",  "src='",    "xlink:href"};
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
        if (strstr(h, banned[i]) != NULL)
            fail_msg("the report contains %s", banned[i]);
    /* every href is a fragment link inside the page */
    for (const char *p = strstr(h, "href=\""); p != NULL; p = strstr(p + 1, "href=\""))
        assert_int_equal(p[6], '#');
    assert_non_null(strstr(h, "</html>\n"));
    unlink(path);
    sn_stats_free(st);
}

static void test_hostile_strings_render_as_text(void **state)
{
    (void)state;
    sn_stats_t *st = small_scan();
    char path[64];
    const char *h = write_report(st, path, sizeof path);
    assert_null(strstr(h, HOSTILE_PTR));
    assert_null(strstr(h, HOSTILE_ORG));
    assert_null(strstr(h, "<svg onload"));
    assert_null(strstr(h, "<b>bold</b>"));
    /* the escaped forms are there, in the most-listed nodes and the AS table */
    static char want[8192];
    snprintf(want, sizeof want, "<td class=\"x ptr\">%s</td>", escaped(HOSTILE_PTR));
    assert_non_null(strstr(h, want));
    assert_non_null(strstr(h, escaped(HOSTILE_ORG)));
    assert_non_null(strstr(h, "&lt;b&gt;bold&lt;/b&gt;"));
    assert_non_null(strstr(h, "built &lt;2026&gt;"));
    unlink(path);
    sn_stats_free(st);
}

static void test_charts_have_one_bar_per_row(void **state)
{
    (void)state;
    sn_stats_t *st = small_scan();
    char path[64];
    const char *h = write_report(st, path, sizeof path);
    assert_int_equal(count_in_chart(h, "reach", "class=\"bar\""), 8);
    assert_int_equal(count_in_chart(h, "continents", "class=\"bar\""), 8);
    /* alive: US, US, DE, JP, unknown: three countries and unknown */
    assert_int_equal(count_in_chart(h, "countries", "class=\"bar\""), 4);
    assert_non_null(strstr(h, "data-chart=\"countries\" data-bars=\"4\""));
    assert_int_equal(count_in_chart(h, "asns", "class=\"bar\""), 3);
    assert_int_equal(count_in_chart(h, "ports", "class=\"bar\""), 5);
    assert_int_equal(count_in_chart(h, "addr-kind", "class=\"bar\""), 3);
    assert_int_equal(count_in_chart(h, "lorenz", "<polyline"), 1);
    assert_int_equal(count_in_chart(h, "discovery", "<polyline"), 2);
    assert_int_equal(count_in_chart(h, "rtt", "<polyline"), 2);
    assert_int_equal(count_in_chart(h, "rtt-continents", "<polyline"), 4);
    unlink(path);
    sn_stats_free(st);
}

static void test_headline_values_equal_the_summary(void **state)
{
    (void)state;
    sn_stats_t *st = small_scan();
    char path[64];
    const char *h = write_report(st, path, sizeof path);
    const sn_stats_view_t *v = sn_stats_view(st);
    size_t cards = 0;
    for (size_t i = 0; i < v->n_rows; i++) {
        const sn_stats_row_t *r = &v->rows[i];
        if (!r->headline)
            continue;
        char val[64], want[256];
        sn_stats_format_value(r, val, sizeof val);
        snprintf(want, sizeof want, "data-metric=\"%s\" data-value=\"%s\"", r->name, val);
        if (strstr(h, want) == NULL)
            fail_msg("headline %s: no %s", r->name, want);
        if (r->study != NULL && strstr(h, escaped(r->study)) == NULL)
            fail_msg("headline %s: the studies' figure %s is missing", r->name, r->study);
        cards++;
    }
    assert_true(cards >= 15);
    /* a value checked by hand: 5 of 6 probed alive */
    assert_non_null(strstr(h, "data-metric=\"alive.share\" data-value=\"0.833333\""));
    assert_non_null(strstr(h, ">83.3%<"));
    unlink(path);
    sn_stats_free(st);
}

/* The value cell of metric in the NAT table: data-value and the text shown. */
static void assert_observed_cell(const char *html, const sn_stats_t *st, const char *metric,
                                 const char *shown)
{
    char val[64], want[256];
    sn_stats_format_value(sn_stats_find(st, metric), val, sizeof val);
    snprintf(want, sizeof want, "data-metric=\"%s\" data-value=\"%s\">%s</td>", metric, val, shown);
    const char *table = strstr(html, "<table class=\"observed\">");
    assert_non_null(table);
    const char *at = strstr(table, want);
    if (at == NULL || at > strstr(table, "</table>"))
        fail_msg("the NAT table has no %s", want);
}

static void test_observed_table_shows_the_nat_signals_by_hand(void **state)
{
    (void)state;
    sn_stats_t *st = small_scan();
    char path[64];
    const char *h = write_report(st, path, sizeof path);
    const char *reach = strstr(h, "<section id=\"reach\">");
    const char *sect = strstr(h, "<h3 id=\"observed\">Our address as the nodes saw it</h3>");
    assert_non_null(reach);
    assert_non_null(sect);
    assert_true(sect > reach && sect < strstr(reach, "</section>"));
    /* five alive nodes said it: four at 203.0.113.50 (three with a port), one IPv6 */
    assert_observed_cell(h, st, "observed.known", "5");
    assert_observed_cell(h, st, "observed.with_port", "4");
    assert_observed_cell(h, st, "observed.distinct_ip", "2");
    assert_observed_cell(h, st, "observed.distinct_ip_port", "3");
    assert_observed_cell(h, st, "observed.top", "203.0.113.50");
    assert_observed_cell(h, st, "observed.top.n", "4");
    assert_observed_cell(h, st, "observed.local", "no: NATed");
    assert_observed_cell(h, st, "observed.mapping", "varies");
    assert_observed_cell(h, st, "udp_reply_other", "1");
    assert_non_null(strstr(sect, "of 5 observations (80.0%)"));
    assert_non_null(strstr(sect, "of 5 that answered UDP (20.0%)"));
    unlink(path);
    sn_stats_free(st);
}

static void test_empty_scan_still_writes_a_page(void **state)
{
    (void)state;
    sn_stats_t *st = sn_stats_new();
    char path[64];
    const char *h = write_report(st, path, sizeof path);
    assert_non_null(strstr(h, "no data"));
    assert_non_null(strstr(h, "Nothing was probed"));
    assert_non_null(strstr(h, "data-metric=\"alive.share\" data-value=\"\""));
    assert_int_equal(count_in_chart(h, "asns", "class=\"bar\""), 0);
    assert_non_null(strstr(h, "data-metric=\"observed.top\" data-value=\"\">none</td>"));
    assert_non_null(strstr(h, "data-metric=\"observed.local\" data-value=\"\">unknown</td>"));
    assert_non_null(
        strstr(h, "data-metric=\"observed.mapping\" data-value=\"unknown\">unknown</td>"));
    unlink(path);
    sn_stats_free(st);
}

static void test_unwritable_path_leaves_nothing_behind(void **state)
{
    (void)state;
    sn_stats_t *st = sn_stats_new();
    sn_error_t err;
    assert_int_equal(sn_report_write_html(st, "/nonexistent/dir/r.html", &err), SN_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/r.html"));
    sn_stats_free(st);
}

static void test_unknown_facts_read_na_with_the_count_and_institutions_are_listed(void **state)
{
    (void)state;
    /* Three alive nodes with no enrichment at all: no PTR, no geo, no AS. */
    sn_stats_t *st = sn_stats_new();
    assert_non_null(st);
    static sn_target_t t[3];
    for (int i = 0; i < 3; i++) {
        memset(&t[i], 0, sizeof t[i]);
        char ip[32];
        snprintf(ip, sizeof ip, "198.51.100.%d", i + 1);
        assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &t[i].addr), SN_OK);
        t[i].seen_count = 1;
        sn_result_t r = {.target = &t[i]};
        r.udp = (sn_probe_result_t){.probe = &fake_udp, .outcome = SN_OUTCOME_ALIVE};
        assert_int_equal(sn_stats_add(st, &r), SN_OK);
    }
    char path[64];
    const char *h = write_report(st, path, sizeof path);
    unlink(path);
    const char *card = strstr(h, "data-metric=\"edu.share\"");
    assert_non_null(card);
    const char *end = strstr(card, "</div>\n");
    const char *na = strstr(card, "n/a (3 unknown)");
    assert_true(na != NULL && na < end);
    card = strstr(h, "data-metric=\"country.US.share\"");
    assert_non_null(card);
    assert_true(strstr(card, "n/a (3 unknown)") < strstr(card, "</div>\n"));
    card = strstr(h, "data-metric=\"addr_kind.dynamic.share\"");
    assert_non_null(card);
    assert_true(strstr(card, "n/a (3 unknown)") < strstr(card, "</div>\n"));
    /* Chao1 beside the distinct count, with its definition: 3 + 3*2/2 = 6. */
    card = strstr(h, "data-metric=\"population.chao1\" data-value=\"6.0000\"");
    assert_non_null(card);
    assert_non_null(strstr(card, "f1(f1&minus;1)/(2(f2+1))"));
    sn_stats_free(st);

    /* The small scan's five academic nodes all share one registrable domain. */
    st = small_scan();
    sn_error_t err;
    assert_int_equal(sn_stats_finish(st, &err), SN_OK);
    h = write_report(st, path, sizeof path);
    unlink(path);
    assert_non_null(strstr(h, "<h3 id=\"institutions\">Academic institutions: 1</h3>"));
    const char *tbl = strstr(h, "<table class=\"institutions\">");
    assert_non_null(tbl);
    assert_non_null(strstr(tbl, "<tr><td>example.edu</td><td class=\"n\">4</td>"));
    sn_stats_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_table),
        cmocka_unit_test(test_report_is_self_contained),
        cmocka_unit_test(test_hostile_strings_render_as_text),
        cmocka_unit_test(test_charts_have_one_bar_per_row),
        cmocka_unit_test(test_headline_values_equal_the_summary),
        cmocka_unit_test(test_observed_table_shows_the_nat_signals_by_hand),
        cmocka_unit_test(test_empty_scan_still_writes_a_page),
        cmocka_unit_test(test_unknown_facts_read_na_with_the_count_and_institutions_are_listed),
        cmocka_unit_test(test_unwritable_path_leaves_nothing_behind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
