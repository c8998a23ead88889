/*
 * Tests for data/geo.c and data/continent.c: CSV range tables answer what they
 * hold at and around every range boundary; the same data written as MaxMind DB
 * files (by MaxMind's own Perl writer, run here into a temporary directory)
 * gives identical answers in all three schemas; the first database with an
 * answer wins per field; the continent table fills what a database lacks;
 * malformed tables are refused with file and row; unreadable or corrupt MMDB
 * files are an open error naming the file or "no data", never a crash; and
 * discovery picks the well-known names. MaxMind's own test and bad-data
 * databases are used when $SN_SHARED has them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data/geo.h"

/* ---- helpers ------------------------------------------------------------ */

typedef struct fixture {
    char dir[64];   /* temporary directory of generated MMDB files */
    bool have_mmdb; /* the Perl writer ran */
    char country_csv[1024];
    char asn_csv[1024];
    char script[1024];
} fixture_t;

static fixture_t fx;

static sn_addr_t ip(const char *s)
{
    sn_addr_t a;
    if (sn_addr_parse_ip(s, strlen(s), &a) != SN_OK)
        fail_msg("test address \"%s\" rejected", s);
    return a;
}

static const char *test_data(void)
{
    const char *d = getenv("SN_TEST_DATA");
    return d != NULL ? d : SN_DATA_DIR "/../tests/fixtures";
}

static void mmdb_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", fx.dir, name);
}

static void require_mmdb(void)
{
    if (!fx.have_mmdb) {
        print_message("MaxMind::DB::Writer not available: skipping\n");
        skip();
    }
}

static sn_geo_t *geo_with(const char *const *files)
{
    sn_geo_t *g = sn_geo_new();
    assert_non_null(g);
    for (size_t i = 0; files[i] != NULL; i++) {
        sn_error_t err = {""};
        sn_status_t st = sn_geo_add_file(g, files[i], &err);
        if (st != SN_OK)
            fail_msg("%s: %s", files[i], err.msg);
    }
    return g;
}

/* Answers are valid or empty, whatever the database held. */
static void assert_well_formed(const sn_geo_info_t *o)
{
    size_t n = strlen(o->country);
    assert_true(n == 0 || (n == 2 && o->country[0] >= 'A' && o->country[0] <= 'Z' &&
                           o->country[1] >= 'A' && o->country[1] <= 'Z'));
    n = strlen(o->continent);
    assert_true(n == 0 || n == 2);
    assert_true(strlen(o->as_org) < SN_GEO_ORG_MAX);
    assert_non_null(o->source);
    assert_non_null(o->as_source);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(fx.country_csv, sizeof fx.country_csv, "%s/geo/ranges-country.csv", test_data());
    snprintf(fx.asn_csv, sizeof fx.asn_csv, "%s/geo/ranges-asn.csv", test_data());
    snprintf(fx.script, sizeof fx.script, "%s/geo/write-mmdb.pl", test_data());
    strcpy(fx.dir, "/tmp/sn_test_geo_XXXXXX");
    if (mkdtemp(fx.dir) == NULL)
        return -1;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "perl '%s' '%s' '%s' '%s' 2>/dev/null", fx.script, fx.country_csv,
             fx.asn_csv, fx.dir);
    int rc = system(cmd);
    fx.have_mmdb = rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    nftw(fx.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- 128-bit address arithmetic for walking range boundaries ------------ */

typedef struct u128 {
    uint64_t hi, lo;
} u128_t;

static u128_t to_u128(const sn_addr_t *a)
{
    u128_t v = {0, 0};
    if (a->family == AF_INET) {
        v.lo = sn_addr_v4(a);
        return v;
    }
    for (int i = 0; i < 8; i++) {
        v.hi = v.hi << 8 | a->ip[i];
        v.lo = v.lo << 8 | a->ip[8 + i];
    }
    return v;
}

static sn_addr_t from_u128(int family, u128_t v)
{
    sn_addr_t a;
    memset(&a, 0, sizeof a);
    if (family == AF_INET) {
        sn_addr_set_v4(&a, (uint32_t)v.lo, 0);
        return a;
    }
    a.family = AF_INET6;
    for (int i = 7; i >= 0; i--) {
        a.ip[i] = (uint8_t)v.hi;
        a.ip[8 + i] = (uint8_t)v.lo;
        v.hi >>= 8;
        v.lo >>= 8;
    }
    return a;
}

/* v + d for d in -2..2, or false when that leaves the family's space. */
static bool offset(int family, u128_t v, int d, u128_t *out)
{
    if (family == AF_INET) {
        int64_t x = (int64_t)v.lo + d;
        if (x < 0 || x > (int64_t)UINT32_MAX)
            return false;
        out->hi = 0;
        out->lo = (uint64_t)x;
        return true;
    }
    *out = v;
    for (; d > 0; d--) {
        if (out->hi == UINT64_MAX && out->lo == UINT64_MAX)
            return false;
        if (++out->lo == 0)
            out->hi++;
    }
    for (; d < 0; d++) {
        if (out->hi == 0 && out->lo == 0)
            return false;
        if (out->lo-- == 0)
            out->hi--;
    }
    return true;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/*
 * Addresses to compare: -2..+2 around every start and end in the CSV
 * fixtures, random addresses inside and near every range, and random IPv4.
 */
static size_t probe_addresses(sn_addr_t *out, size_t cap)
{
    size_t n = 0;
    const char *files[] = {fx.country_csv, fx.asn_csv};
    for (int f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "r");
        assert_non_null(fp);
        char line[1024];
        while (fgets(line, sizeof line, fp) != NULL) {
            char *c1 = strchr(line, ',');
            char *c2 = c1 != NULL ? strchr(c1 + 1, ',') : NULL;
            assert_non_null(c2);
            sn_addr_t lo, hi;
            assert_int_equal(sn_addr_parse_ip(line, (size_t)(c1 - line), &lo), SN_OK);
            assert_int_equal(sn_addr_parse_ip(c1 + 1, (size_t)(c2 - c1 - 1), &hi), SN_OK);
            u128_t bounds[2] = {to_u128(&lo), to_u128(&hi)};
            for (int b = 0; b < 2; b++) {
                for (int d = -2; d <= 2; d++) {
                    u128_t v;
                    if (offset(lo.family, bounds[b], d, &v) && n < cap)
                        out[n++] = from_u128(lo.family, v);
                }
            }
            for (int k = 0; k < 16 && n < cap; k++) {
                /* Random low bits under the range's start: inside, or just past it. */
                u128_t v = bounds[0];
                if (lo.family == AF_INET)
                    v.lo = (v.lo & 0xFFFF0000u) | (rnd() & 0x1FFFF);
                else
                    v.lo = rnd();
                out[n++] = from_u128(lo.family, v);
            }
        }
        fclose(fp);
    }
    for (int k = 0; k < 20000 && n < cap; k++)
        out[n++] = from_u128(AF_INET, (u128_t){0, rnd() & 0xFFFFFFFFu});
    return n;
}

/* ---- continent table ----------------------------------------------------- */

static void test_continent_table_covers_iso_3166(void **state)
{
    (void)state;
    size_t found = 0;
    for (char a = 'A'; a <= 'Z'; a++) {
        for (char b = 'A'; b <= 'Z'; b++) {
            char cc[3] = {a, b, '\0'};
            if (sn_continent_of(cc) != NULL)
                found++;
        }
    }
    /* 249 ISO 3166-1 codes, Kosovo, and the legacy GeoIP EU and AP. */
    assert_int_equal(found, 252);

    static const char *const cases[][2] = {
        {"US", "NA"}, {"DK", "EU"}, {"RU", "EU"}, {"TR", "AS"}, {"CY", "EU"}, {"GE", "AS"},
        {"EG", "AF"}, {"PA", "NA"}, {"AQ", "AN"}, {"BV", "AN"}, {"BR", "SA"}, {"AU", "OC"},
        {"NZ", "OC"}, {"JP", "AS"}, {"ZA", "AF"}, {"GL", "NA"}, {"XK", "EU"}, {"de", "EU"},
        {"aQ", "AN"}, {"AP", "AS"}, {"EU", "EU"}, {"CW", "NA"}, {"SS", "AF"}, {"TL", "OC"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *c = sn_continent_of(cases[i][0]);
        if (c == NULL || strcmp(c, cases[i][1]) != 0)
            fail_msg("%s: got %s, want %s", cases[i][0], c ? c : "NULL", cases[i][1]);
    }
    static const char *const bad[] = {"", "U", "USA", "1A", "ZZ", "U ", "\xc3\x9c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(sn_continent_of(bad[i]));
    assert_null(sn_continent_of(NULL));
}

/* ---- CSV tables ---------------------------------------------------------- */

typedef struct lookup_case {
    const char *ip;
    const char *country;
    const char *continent;
    uint32_t asn;
    const char *org;
} lookup_case_t;

static const lookup_case_t csv_cases[] = {
    {"80.161.91.25", "DK", "EU", 3292, "TDC Holding A/S"},
    {"1.0.0.0", "AU", "OC", 13335, "Cloudflare, Inc."},
    {"1.0.3.255", "CN", "AS", 0, ""},
    {"1.0.4.0", "JP", "AS", 38803, "Gtelecom Pty Ltd"},
    {"1.0.4.100", "KR", "AS", 38803, "Gtelecom Pty Ltd"},
    {"1.0.4.101", "TW", "AS", 38803, "Gtelecom Pty Ltd"},
    {"1.0.8.0", "", "", 0, ""},
    {"0.0.0.0", "", "", 0, ""},
    {"64.246.49.60", "US", "NA", 21844, "Everyones Internet"},
    {"100.0.0.1", "", "", 65000,
     "R\xc3\xa9seau \"Test\" \xc3\x9c"
     "n\xc3\xaf"
     "code"},
    {"100.0.0.2", "", "", 0, ""},
    {"150.0.0.1", "", "", 64512, ""},
    {"192.0.2.1", "", "", 0, ""}, /* AS 0 is "no AS" */
    {"200.1.2.2", "", "", 0, ""},
    {"200.1.2.3", "BR", "SA", 0, ""},
    {"200.1.9.77", "BR", "SA", 0, ""},
    {"200.1.9.78", "", "", 0, ""},
    {"223.255.255.7", "NZ", "OC", 0, ""},
    {"255.255.255.255", "ZA", "AF", 4200000000u, "Top of IPv4"},
    {"::ffff:80.161.91.25", "DK", "EU", 3292, "TDC Holding A/S"},
    {"2001:200::1", "JP", "AS", 2500, "WIDE Project"},
    {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "", "", 0, ""},
    {"2a02:ff0::", "", "", 0, ""},
    {"2a02:ff0::1", "CH", "EU", 65001, "Unaligned GmbH"},
    {"2a02:ff0::ffff", "CH", "EU", 65001, "Unaligned GmbH"},
    {"2a02:ff0::1:0", "", "", 0, ""},
    {"2c10::", "NZ", "OC", 0, ""},
    {"2c10::1", "", "", 0, ""},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "AQ", "AN", 65002, "Top of IPv6"},
};

static void check_case(const sn_geo_t *g, const lookup_case_t *c)
{
    sn_addr_t a = ip(c->ip);
    a.port = 33033; /* ignored */
    sn_geo_info_t o;
    sn_geo_lookup(g, &a, &o);
    assert_well_formed(&o);
    if (strcmp(o.country, c->country) != 0 || strcmp(o.continent, c->continent) != 0 ||
        o.asn != c->asn || strcmp(o.as_org, c->org) != 0)
        fail_msg("%s: got %s/%s/%u/\"%s\", want %s/%s/%u/\"%s\"", c->ip, o.country, o.continent,
                 o.asn, o.as_org, c->country, c->continent, c->asn, c->org);
}

static void test_geo_csv_tables_answer_at_range_boundaries(void **state)
{
    (void)state;
    const char *files[] = {fx.country_csv, fx.asn_csv, NULL};
    sn_geo_t *g = geo_with(files);
    assert_int_equal(sn_geo_count(g), 2);
    assert_string_equal(sn_geo_source(g, 0),
                        "ranges-country.csv (ip-location-db country CSV, 20 ranges)");
    assert_string_equal(sn_geo_source(g, 1), "ranges-asn.csv (ip-location-db asn CSV, 13 ranges)");
    assert_null(sn_geo_source(g, 2));
    for (size_t i = 0; i < sizeof csv_cases / sizeof csv_cases[0]; i++)
        check_case(g, &csv_cases[i]);

    sn_geo_info_t o;
    sn_addr_t a = ip("80.161.91.25");
    sn_geo_lookup(g, &a, &o);
    assert_true(o.continent_from_table);
    assert_string_equal(o.source, sn_geo_source(g, 0));
    assert_string_equal(o.as_source, sn_geo_source(g, 1));
    sn_geo_free(g);
}

static void test_geo_long_org_is_cut_at_a_character_boundary(void **state)
{
    (void)state;
    const char *files[] = {fx.asn_csv, NULL};
    sn_geo_t *g = geo_with(files);
    sn_addr_t a = ip("160.0.0.1");
    sn_geo_info_t o;
    sn_geo_lookup(g, &a, &o);
    assert_int_equal(o.asn, 64513);
    /* "Long Name " then two-byte characters: 255 bytes would split one. */
    assert_int_equal(strlen(o.as_org), 254);
    assert_memory_equal(o.as_org, "Long Name \xc3\x9c", 12);
    assert_memory_equal(o.as_org + 252, "\xc3\x9c", 2);
    sn_geo_free(g);
}

typedef struct table_case {
    const char *name;
    const char *text;
    sn_status_t st;
    const char *msg_has; /* for failures: a part of the message */
    const char *ip;      /* for successes: an address and its answer */
    const char *country;
    uint32_t asn;
} table_case_t;

static const table_case_t table_cases[] = {
    {"two.csv", "1.0.0.0,1.0.0.255\n", SN_EPARSE, "two.csv:1: expected 3", NULL, NULL, 0},
    {"mixed.csv", "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.1.255,13335,X\n", SN_EPARSE,
     "mixed.csv:2: 4 columns where the first row has 3", NULL, NULL, 0},
    {"rev.csv", "1.0.0.5,1.0.0.1,AU\n", SN_EPARSE, "start is above its end", NULL, NULL, 0},
    {"fam.csv", "1.0.0.0,::1,AU\n", SN_EPARSE, "different kinds", NULL, NULL, 0},
    {"octal.csv", "010.0.0.1,10.0.0.2,AU\n", SN_EPARSE, "octal.csv:1: range start", NULL, NULL, 0},
    {"cc.csv", "1.0.0.0,1.0.0.255,AUS\n", SN_EPARSE, "country_code", NULL, NULL, 0},
    {"cc2.csv", "1.0.0.0,1.0.0.255,A1\n", SN_EPARSE, "country_code", NULL, NULL, 0},
    {"asn.csv", "1.0.0.0,1.0.0.255,13335x,Foo\n", SN_EPARSE, "autonomous_system_number", NULL, NULL,
     0},
    {"big.csv", "1.0.0.0,1.0.0.255,4294967296,Foo\n", SN_EPARSE, "autonomous_system_number", NULL,
     NULL, 0},
    {"neg.csv", "1.0.0.0,1.0.0.255,-1,Foo\n", SN_EPARSE, "autonomous_system_number", NULL, NULL, 0},
    {"quote.csv", "1.0.0.0,1.0.0.255,AU\n\"1.0.1.0,1.0.1.255,AU\n", SN_EPARSE, "quote.csv:2:", NULL,
     NULL, 0},
    {"empty.csv", "", SN_EPARSE, "no ranges", NULL, NULL, 0},
    {"blank.csv", "\n\n\r\n", SN_EPARSE, "no ranges", NULL, NULL, 0},
    {"x-ipv4-num.csv", "4294967296,4294967297,AU\n", SN_EPARSE, "too large", NULL, NULL, 0},
    {"huge.csv", "340282366920938463463374607431768211456,1,AU\n", SN_EPARSE, "range start", NULL,
     NULL, 0},
    {"garbage.csv", "\x01\x02\xff\xfe,\x80\n", SN_EPARSE, "expected 3", NULL, NULL, 0},
    {"header.csv", "ip_range_start,ip_range_end,country_code\n1.0.0.0,1.0.0.255,au\n", SN_OK, NULL,
     "1.0.0.7", "AU", 0},
    {"num.csv", "16777216,16777471,AU\n", SN_OK, NULL, "1.0.0.5", "AU", 0},
    {"dbip-country-ipv6-num.csv",
     "42540528726795050063891204319802818560,42540528806023212578155541913346768895,JP\n", SN_OK,
     NULL, "2001:200::1", "JP", 0},
    {"plain-num.csv",
     "0,0,US\n42540528726795050063891204319802818560,"
     "42540528806023212578155541913346768895,JP\n",
     SN_OK, NULL, "2001:200:ffff::", "JP", 0},
    {"crlf.csv", "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\r\n1.0.1.0,1.0.1.1,1,x\r\n", SN_OK,
     NULL, "1.0.1.1", "", 1},
    {"city.csv", "1.0.0.0,1.0.0.255,AU,Queensland,,Brisbane,4000,-27.47,153.02,\n", SN_OK, NULL,
     "1.0.0.1", "AU", 0},
    {"skip.csv", "1.0.0.0,1.0.0.255,\n1.0.1.0,1.0.1.255,CN\n", SN_OK, NULL, "1.0.0.1", "", 0},
    {"spaces.csv", " 1.0.0.0 , 1.0.0.255 , AU \n", SN_OK, NULL, "1.0.0.1", "AU", 0},
};

static void test_geo_csv_loader_refuses_malformed_tables(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof table_cases / sizeof table_cases[0]; i++) {
        const table_case_t *c = &table_cases[i];
        sn_geo_t *g = sn_geo_new();
        assert_non_null(g);
        sn_error_t err = {""};
        sn_status_t st = sn_geo_add_csv_mem(g, c->name, c->text, strlen(c->text), &err);
        if (st != c->st)
            fail_msg("%s: status %d (%s), want %d", c->name, st, err.msg, c->st);
        if (st != SN_OK) {
            if (strstr(err.msg, c->msg_has) == NULL)
                fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, err.msg, c->msg_has);
            assert_int_equal(sn_geo_count(g), 0);
        } else {
            sn_addr_t a = ip(c->ip);
            sn_geo_info_t o;
            sn_geo_lookup(g, &a, &o);
            if (strcmp(o.country, c->country) != 0 || o.asn != c->asn)
                fail_msg("%s: %s gave %s/%u", c->name, c->ip, o.country, o.asn);
        }
        sn_geo_free(g);
    }
}

static void test_geo_csv_overlaps_keep_the_lower_start(void **state)
{
    (void)state;
    /* Unsorted, overlapping, nested, and a duplicate start where the wider range wins. */
    const char *text = "1.0.0.128,1.0.1.255,CN\n"
                       "1.0.0.0,1.0.0.255,AU\n"
                       "1.0.0.10,1.0.0.20,JP\n"
                       "2.0.0.0,2.0.0.9,KR\n"
                       "2.0.0.0,2.0.0.99,TW\n"
                       "2001:db8::,2001:db8::ff,DE\n"
                       "2001:db8::80,2001:db8::1ff,FR\n";
    sn_geo_t *g = sn_geo_new();
    sn_error_t err;
    assert_int_equal(sn_geo_add_csv_mem(g, "overlap.csv", text, strlen(text), &err), SN_OK);
    static const char *const cases[][2] = {
        {"1.0.0.15", "AU"},     {"1.0.0.200", "AU"},     {"1.0.1.0", "CN"},
        {"1.0.1.255", "CN"},    {"2.0.0.5", "TW"},       {"2.0.0.50", "TW"},
        {"2001:db8::90", "DE"}, {"2001:db8::100", "FR"}, {"2001:db8::200", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_addr_t a = ip(cases[i][0]);
        sn_geo_info_t o;
        sn_geo_lookup(g, &a, &o);
        if (strcmp(o.country, cases[i][1]) != 0)
            fail_msg("%s: got %s, want %s", cases[i][0], o.country, cases[i][1]);
    }
    sn_geo_free(g);
}

static void test_geo_empty_set_and_bad_arguments_give_no_data(void **state)
{
    (void)state;
    sn_geo_info_t o;
    sn_addr_t a = ip("80.161.91.25");
    memset(&o, 0x55, sizeof o);
    sn_geo_lookup(NULL, &a, &o);
    assert_string_equal(o.country, "");
    assert_string_equal(o.continent, "");
    assert_int_equal(o.asn, 0);
    assert_string_equal(o.as_org, "");
    assert_string_equal(o.source, "");
    assert_string_equal(o.as_source, "");

    sn_geo_t *g = sn_geo_new();
    sn_geo_lookup(g, &a, &o);
    assert_string_equal(o.country, "");
    sn_geo_lookup(g, NULL, &o);
    assert_string_equal(o.country, "");
    sn_addr_t none;
    memset(&none, 0, sizeof none);
    sn_geo_lookup(g, &none, &o);
    assert_string_equal(o.country, "");
    sn_geo_lookup(g, &a, NULL);
    assert_int_equal(sn_geo_count(g), 0);
    assert_int_equal(sn_geo_count(NULL), 0);
    sn_error_t err;
    assert_int_equal(sn_geo_add_csv(g, "/nonexistent/asn-ipv4.csv", &err), SN_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/asn-ipv4.csv"));
    assert_int_equal(sn_geo_add_mmdb(NULL, "x.mmdb", &err), SN_EINVAL);
    sn_geo_free(g);
    sn_geo_free(NULL);
}

static void test_geo_first_database_wins_per_field(void **state)
{
    (void)state;
    const char *over = "80.161.0.0,80.161.255.255,SE\n";
    sn_geo_t *g = sn_geo_new();
    sn_error_t err;
    assert_int_equal(sn_geo_add_csv_mem(g, "override.csv", over, strlen(over), &err), SN_OK);
    assert_int_equal(sn_geo_add_csv(g, fx.country_csv, &err), SN_OK);
    assert_int_equal(sn_geo_add_csv(g, fx.asn_csv, &err), SN_OK);

    sn_geo_info_t o;
    sn_addr_t a = ip("80.161.91.25");
    sn_geo_lookup(g, &a, &o);
    /* Country from the first table, AS from the third: a country table never blocks AS. */
    assert_string_equal(o.country, "SE");
    assert_string_equal(o.continent, "EU");
    assert_string_equal(o.source, sn_geo_source(g, 0));
    assert_int_equal(o.asn, 3292);
    assert_string_equal(o.as_source, sn_geo_source(g, 2));

    /* Where the first has nothing, the next one answers; where none has, nothing does. */
    a = ip("80.162.0.1");
    sn_geo_lookup(g, &a, &o);
    assert_string_equal(o.country, "");
    assert_string_equal(o.source, "");
    assert_int_equal(o.asn, 3292);
    a = ip("1.0.0.1");
    sn_geo_lookup(g, &a, &o);
    assert_string_equal(o.country, "AU");
    assert_string_equal(o.source, sn_geo_source(g, 1));
    sn_geo_free(g);
}

/* ---- MaxMind DB files ---------------------------------------------------- */

static void compare_paths(const char *country_mmdb, bool v4_only)
{
    char m1[256], m2[256];
    mmdb_path(m1, sizeof m1, country_mmdb);
    mmdb_path(m2, sizeof m2, "asn.mmdb");
    const char *mm[] = {m1, m2, NULL};
    const char *cs[] = {fx.country_csv, fx.asn_csv, NULL};
    sn_geo_t *gm = geo_with(mm);
    sn_geo_t *gc = geo_with(cs);

    static sn_addr_t addrs[40000];
    size_t n = probe_addresses(addrs, sizeof addrs / sizeof addrs[0]);
    size_t with_country = 0, with_asn = 0, with_org = 0;
    for (size_t i = 0; i < n; i++) {
        sn_geo_info_t om, oc;
        sn_geo_lookup(gm, &addrs[i], &om);
        sn_geo_lookup(gc, &addrs[i], &oc);
        assert_well_formed(&om);
        if (v4_only && addrs[i].family == AF_INET6) {
            /* An IPv6 lookup in an IPv4 tree is a libmaxminddb error: no data. */
            assert_string_equal(om.country, "");
            memcpy(oc.country, "", 1);
            memcpy(oc.continent, "", 1);
        }
        char text[SN_ADDR_STRLEN];
        sn_addr_format(&addrs[i], text, sizeof text, false);
        if (strcmp(om.country, oc.country) != 0 || strcmp(om.continent, oc.continent) != 0 ||
            om.asn != oc.asn || strcmp(om.as_org, oc.as_org) != 0)
            fail_msg("%s with %s: mmdb %s/%s/%u/\"%s\", csv %s/%s/%u/\"%s\"", text, country_mmdb,
                     om.country, om.continent, om.asn, om.as_org, oc.country, oc.continent, oc.asn,
                     oc.as_org);
        with_country += oc.country[0] != '\0';
        with_asn += oc.asn != 0;
        with_org += oc.as_org[0] != '\0';
    }
    print_message("%s: %zu addresses, %zu with a country, %zu with an AS, %zu with an org\n",
                  country_mmdb, n, with_country, with_asn, with_org);
    /* The comparison must not be vacuous. */
    assert_true(with_country > (v4_only ? 150u : 300u));
    assert_true(with_asn > 150);
    assert_true(with_org > 100);
    sn_geo_free(gm);
    sn_geo_free(gc);
}

static void test_geo_csv_and_mmdb_agree_geoip2_schema(void **state)
{
    (void)state;
    require_mmdb();
    compare_paths("geoip2-country.mmdb", false);
}

static void test_geo_csv_and_mmdb_agree_ip_location_db_schema(void **state)
{
    (void)state;
    require_mmdb();
    compare_paths("iplocdb-country.mmdb", false);
}

static void test_geo_csv_and_mmdb_agree_ipv4_only_tree(void **state)
{
    (void)state;
    require_mmdb();
    compare_paths("iplocdb-country-ipv4.mmdb", true);
}

static void test_geo_mmdb_continent_from_database_else_table(void **state)
{
    (void)state;
    require_mmdb();
    char p[256];
    mmdb_path(p, sizeof p, "geoip2-country.mmdb");
    const char *files[] = {p, NULL};
    sn_geo_t *g = geo_with(files);
    assert_non_null(strstr(sn_geo_source(g, 0), "geoip2-country.mmdb (GeoIP2-Country, built "));

    sn_geo_info_t o;
    sn_addr_t a = ip("80.161.91.25");
    sn_geo_lookup(g, &a, &o);
    assert_string_equal(o.country, "DK");
    assert_string_equal(o.continent, "EU");
    assert_false(o.continent_from_table);
    assert_string_equal(o.source, sn_geo_source(g, 0));
    assert_string_equal(o.as_source, "");

    /* The fixture leaves NZ without a continent. */
    a = ip("223.255.255.1");
    sn_geo_lookup(g, &a, &o);
    assert_string_equal(o.country, "NZ");
    assert_string_equal(o.continent, "OC");
    assert_true(o.continent_from_table);

    /* 128.0.0.0 carries only registered_country. */
    a = ip("128.0.0.0");
    sn_geo_lookup(g, &a, &o);
    assert_string_equal(o.country, "DE");
    sn_geo_free(g);
}

/* Copies a file, cut to keep bytes (-1: whole); garble > 0 scrambles one byte in garble. */
static void copy_file(const char *from, const char *to, long keep, unsigned garble)
{
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    if (keep >= 0 && (size_t)keep < n)
        n = (size_t)keep;
    if (garble > 0) {
        /* Scribble over the search tree and data section; leave the metadata at the end. */
        size_t meta = n > 200 ? n - 200 : 0;
        for (size_t i = 0; i < meta; i++)
            if (rnd() % garble == 0)
                buf[i] = (unsigned char)rnd();
    }
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(out);
}

static void lookups_never_crash(const sn_geo_t *g)
{
    static sn_addr_t addrs[40000];
    size_t n = probe_addresses(addrs, sizeof addrs / sizeof addrs[0]);
    for (size_t i = 0; i < n; i++) {
        sn_geo_info_t o;
        sn_geo_lookup(g, &addrs[i], &o);
        assert_well_formed(&o);
    }
}

static void test_geo_mmdb_open_errors_name_the_file(void **state)
{
    (void)state;
    sn_geo_t *g = sn_geo_new();
    sn_error_t err = {""};
    assert_int_equal(sn_geo_add_mmdb(g, "/nonexistent/GeoLite2-ASN.mmdb", &err), SN_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/GeoLite2-ASN.mmdb"));
    assert_non_null(strstr(err.msg, "Error opening the specified MaxMind DB file"));

    /* A CSV is no MaxMind DB: libmaxminddb finds no metadata. */
    assert_int_equal(sn_geo_add_mmdb(g, fx.country_csv, &err), SN_EIO);
    assert_non_null(strstr(err.msg, "ranges-country.csv"));
    assert_non_null(strstr(err.msg, "metadata"));
    assert_int_equal(sn_geo_count(g), 0);
    sn_geo_free(g);
}

static void test_geo_corrupt_mmdb_is_open_error_or_no_data(void **state)
{
    (void)state;
    require_mmdb();
    const char *names[] = {"geoip2-country.mmdb", "asn.mmdb", "iplocdb-country-ipv4.mmdb"};
    for (size_t k = 0; k < 3; k++) {
        char src[256], bad[256];
        mmdb_path(src, sizeof src, names[k]);

        /* Cut in half: the metadata is gone, so opening fails and says which file. */
        mmdb_path(bad, sizeof bad, "truncated.mmdb");
        struct stat st;
        assert_int_equal(stat(src, &st), 0);
        copy_file(src, bad, st.st_size / 2, 0);
        sn_geo_t *g = sn_geo_new();
        sn_error_t err = {""};
        assert_int_equal(sn_geo_add_mmdb(g, bad, &err), SN_EIO);
        assert_non_null(strstr(err.msg, "truncated.mmdb"));
        sn_geo_free(g);

        /* Garbled body, from heavy to light damage: any answer is well-formed or empty. */
        static const unsigned density[] = {2, 3, 10, 30, 100, 300, 1000, 3000};
        for (size_t round = 0; round < sizeof density / sizeof density[0]; round++) {
            mmdb_path(bad, sizeof bad, "garbled.mmdb");
            copy_file(src, bad, -1, density[round]);
            g = sn_geo_new();
            if (sn_geo_add_mmdb(g, bad, &err) != SN_OK)
                assert_non_null(strstr(err.msg, "garbled.mmdb"));
            lookups_never_crash(g);
            sn_geo_free(g);
        }
    }
}

/* ---- discovery ----------------------------------------------------------- */

static void make_dir(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", fx.dir, name);
    assert_int_equal(mkdir(out, 0700), 0);
}

static void test_geo_add_defaults_picks_well_known_names(void **state)
{
    (void)state;
    require_mmdb();
    char d1[256], d2[256], d3[256], empty[256], p[512], src[256];
    make_dir(d1, sizeof d1, "d1");
    make_dir(d2, sizeof d2, "d2");
    make_dir(d3, sizeof d3, "d3");
    make_dir(empty, sizeof empty, "empty");

    /* d1: GeoLite2-Country only. d2: DB-IP country (not used: d1 filled the role) and
     * the ip-location-db ASN pair. d3: two dated DB-IP files, the newer wins. */
    mmdb_path(src, sizeof src, "geoip2-country.mmdb");
    snprintf(p, sizeof p, "%s/GeoLite2-Country.mmdb", d1);
    copy_file(src, p, -1, 0);
    mmdb_path(src, sizeof src, "iplocdb-country.mmdb");
    snprintf(p, sizeof p, "%s/dbip-country.mmdb", d2);
    copy_file(src, p, -1, 0);
    snprintf(p, sizeof p, "%s/asn-ipv4.csv", d2);
    copy_file(fx.asn_csv, p, -1, 0);
    snprintf(p, sizeof p, "%s/asn-ipv6.csv", d2);
    copy_file(fx.asn_csv, p, -1, 0);
    snprintf(p, sizeof p, "%s/unrelated.mmdb", d2);
    copy_file(fx.country_csv, p, -1, 0); /* not a well-known name: never opened */
    snprintf(p, sizeof p, "%s/dbip-country-lite-2024-01.mmdb", d3);
    copy_file(src, p, -1, 0);
    snprintf(p, sizeof p, "%s/dbip-country-lite-2024-05.mmdb", d3);
    copy_file(src, p, -1, 0);

    const char *dirs[] = {empty, d1, d2, NULL};
    sn_geo_t *g = sn_geo_new();
    sn_error_t err = {""};
    size_t added = 99;
    assert_int_equal(sn_geo_add_defaults(g, dirs, &added, &err), SN_OK);
    assert_int_equal(added, 3);
    assert_int_equal(sn_geo_count(g), 3);
    assert_non_null(strstr(sn_geo_source(g, 0), "GeoLite2-Country.mmdb ("));
    assert_non_null(strstr(sn_geo_source(g, 1), "asn-ipv4.csv ("));
    assert_non_null(strstr(sn_geo_source(g, 2), "asn-ipv6.csv ("));
    sn_geo_info_t o;
    sn_addr_t a = ip("80.161.91.25");
    sn_geo_lookup(g, &a, &o);
    assert_string_equal(o.country, "DK");
    assert_int_equal(o.asn, 3292);
    sn_geo_free(g);

    const char *dirs3[] = {d3, NULL};
    g = sn_geo_new();
    assert_int_equal(sn_geo_add_defaults(g, dirs3, &added, &err), SN_OK);
    assert_int_equal(added, 1);
    assert_non_null(strstr(sn_geo_source(g, 0), "dbip-country-lite-2024-05.mmdb ("));
    sn_geo_free(g);

    const char *none[] = {empty, "/nonexistent", NULL};
    g = sn_geo_new();
    assert_int_equal(sn_geo_add_defaults(g, none, &added, &err), SN_OK);
    assert_int_equal(added, 0);
    sn_geo_free(g);

    /* A well-known name that is not a database is an error naming it. */
    snprintf(p, sizeof p, "%s/GeoLite2-ASN.mmdb", empty);
    copy_file(fx.country_csv, p, -1, 0);
    const char *broken[] = {empty, NULL};
    g = sn_geo_new();
    assert_int_equal(sn_geo_add_defaults(g, broken, &added, &err), SN_EIO);
    assert_non_null(strstr(err.msg, "GeoLite2-ASN.mmdb"));
    sn_geo_free(g);

    const char *const *def = sn_geo_default_dirs();
    assert_string_equal(def[0], "/usr/share/GeoIP");
    assert_string_equal(def[1], "/var/lib/GeoIP");
    assert_non_null(strstr(def[2], "/geo"));
    assert_null(def[3]);
}

/* ---- MaxMind's own databases (optional) ---------------------------------- */

static bool shared_path(char *out, size_t cap, const char *rel)
{
    const char *s = getenv("SN_SHARED");
    if (s == NULL)
        return false;
    snprintf(out, cap, "%s/testdata/maxmind/%s", s, rel);
    struct stat st;
    return stat(out, &st) == 0;
}

static void test_geo_maxmind_test_databases(void **state)
{
    (void)state;
    char country[1024], asn[1024];
    if (!shared_path(country, sizeof country, "test-data/GeoIP2-Country-Test.mmdb") ||
        !shared_path(asn, sizeof asn, "test-data/GeoLite2-ASN-Test.mmdb")) {
        print_message("MaxMind test data not present: skipping\n");
        skip();
    }
    const char *files[] = {country, asn, NULL};
    sn_geo_t *g = geo_with(files);
    assert_non_null(strstr(sn_geo_source(g, 0), "GeoIP2-Country-Test.mmdb (GeoIP2-Country, "));
    static const lookup_case_t cases[] = {
        {"214.78.120.1", "US", "NA", 721, "DoD Network Information Center"},
        {"2001:218::1", "JP", "AS", 0, ""},
        {"2001:220::1", "KR", "AS", 0, ""},
        {"1.0.0.1", "", "", 15169, "Google Inc."},
        {"1.128.0.1", "", "", 1221, "Telstra Pty Ltd"},
        {"12.81.96.1", "", "", 7018, ""}, /* an AS without an organisation */
        {"127.0.0.1", "", "", 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(g, &cases[i]);
    sn_geo_free(g);
}

static size_t try_bad_dir(const char *dir)
{
    size_t tried = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            tried += try_bad_dir(p);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".mmdb") != 0)
            continue;
        sn_geo_t *g = sn_geo_new();
        sn_error_t err = {""};
        if (sn_geo_add_mmdb(g, p, &err) != SN_OK)
            assert_non_null(strstr(err.msg, e->d_name));
        lookups_never_crash(g);
        sn_geo_free(g);
        tried++;
    }
    closedir(d);
    return tried;
}

static void test_geo_maxmind_bad_data_never_crashes(void **state)
{
    (void)state;
    char bad[1024], test[1024];
    if (!shared_path(bad, sizeof bad, "bad-data") || !shared_path(test, sizeof test, "test-data")) {
        print_message("MaxMind bad-data not present: skipping\n");
        skip();
    }
    size_t tried = try_bad_dir(bad) + try_bad_dir(test);
    print_message("%zu MaxMind databases opened and queried\n", tried);
    assert_true(tried >= 20);
}

/* ---- speed (printed, not asserted) --------------------------------------- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void time_lookups(const char *what, const sn_geo_t *g)
{
    const size_t n = 1000000;
    size_t hits = 0;
    uint64_t x = 0x2545F4914F6CDD1DULL;
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sn_addr_t a;
        sn_addr_set_v4(&a, (uint32_t)x, 0);
        sn_geo_info_t o;
        sn_geo_lookup(g, &a, &o);
        hits += o.asn != 0 || o.country[0] != '\0';
    }
    double dt = now() - t0;
    print_message("%s: %.0f lookups/s over random IPv4 (%zu with data)\n", what, (double)n / dt,
                  hits);
    assert_true(hits > 0);
}

static void test_geo_lookup_speed_is_reported(void **state)
{
    (void)state;
    /* 200,000 ranges of 16,384 addresses each with 200 organisation names. */
    size_t cap = 200000 * 64;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = 0;
    for (uint32_t i = 0; i < 200000; i++) {
        uint32_t lo = 0x10000000u + i * 16384u, hi = lo + 16383u - (i % 7);
        len += (size_t)snprintf(text + len, cap - len, "%u.%u.%u.%u,%u.%u.%u.%u,%u,Org %u\n",
                                lo >> 24, lo >> 16 & 255, lo >> 8 & 255, lo & 255, hi >> 24,
                                hi >> 16 & 255, hi >> 8 & 255, hi & 255, 64512 + i % 1000, i % 200);
    }
    sn_geo_t *g = sn_geo_new();
    sn_error_t err;
    double t0 = now();
    assert_int_equal(sn_geo_add_csv_mem(g, "synthetic-asn.csv", text, len, &err), SN_OK);
    print_message("synthetic ASN table: 200000 ranges loaded in %.2f s\n", now() - t0);
    free(text);
    time_lookups("CSV ASN table, 200000 ranges", g);
    sn_geo_free(g);

    if (fx.have_mmdb) {
        char m1[256], m2[256];
        mmdb_path(m1, sizeof m1, "geoip2-country.mmdb");
        mmdb_path(m2, sizeof m2, "asn.mmdb");
        const char *files[] = {m1, m2, NULL};
        g = geo_with(files);
        time_lookups("fixture MMDB country + ASN", g);
        sn_geo_free(g);
    }
    /* The fetched real data, when scripts/fetch-geo-data.sh has been run. */
    const char *dirs[] = {SN_DATA_DIR "/geo", NULL};
    g = sn_geo_new();
    size_t added = 0;
    if (sn_geo_add_defaults(g, dirs, &added, &err) == SN_OK && added > 0) {
        for (size_t i = 0; i < sn_geo_count(g); i++)
            print_message("  %s\n", sn_geo_source(g, i));
        time_lookups("data/geo (real data)", g);
    }
    sn_geo_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_continent_table_covers_iso_3166),
        cmocka_unit_test(test_geo_csv_tables_answer_at_range_boundaries),
        cmocka_unit_test(test_geo_long_org_is_cut_at_a_character_boundary),
        cmocka_unit_test(test_geo_csv_loader_refuses_malformed_tables),
        cmocka_unit_test(test_geo_csv_overlaps_keep_the_lower_start),
        cmocka_unit_test(test_geo_empty_set_and_bad_arguments_give_no_data),
        cmocka_unit_test(test_geo_first_database_wins_per_field),
        cmocka_unit_test(test_geo_csv_and_mmdb_agree_geoip2_schema),
        cmocka_unit_test(test_geo_csv_and_mmdb_agree_ip_location_db_schema),
        cmocka_unit_test(test_geo_csv_and_mmdb_agree_ipv4_only_tree),
        cmocka_unit_test(test_geo_mmdb_continent_from_database_else_table),
        cmocka_unit_test(test_geo_mmdb_open_errors_name_the_file),
        cmocka_unit_test(test_geo_corrupt_mmdb_is_open_error_or_no_data),
        cmocka_unit_test(test_geo_add_defaults_picks_well_known_names),
        cmocka_unit_test(test_geo_maxmind_test_databases),
        cmocka_unit_test(test_geo_maxmind_bad_data_never_crashes),
        cmocka_unit_test(test_geo_lookup_speed_is_reported),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
