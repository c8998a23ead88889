/*
 * The statistics aggregator (reports/stats.c): every statistic on small cases
 * computed by hand, including ties, empty input and all-unknown fields; the
 * discovery curve in both modes; the RTT histogram's bounded error; the
 * summary files; and SHA-256 against the FIPS 180-4 test vectors.
 *
 * Results are built from a small table of node descriptions (spec_t), so each
 * test states its nodes in one place and the expected figures next to them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/stats.h"

static const sn_probe_t fake_udp = {.name = "skype", .transport = SN_TRANSPORT_UDP};
static const sn_probe_t fake_tcp = {.name = "tcp", .transport = SN_TRANSPORT_TCP};

/* One node of a test: what its result says. */
typedef struct spec {
    const char *ip;
    uint16_t port;
    uint32_t seen;
    const char *udp; /* "alive", "filtered", NULL: not probed */
    const char *tcp;
    uint16_t tcp_port; /* 0: the own port */
    uint32_t urtt, trtt;
    bool blocked, nat;
    bool enrich; /* false: no enrichment at all */
    const char *country, *continent;
    uint32_t asn;
    const char *org;
    int edu; /* -1 not judged, 0, 1 */
    const char *edu_src;
    sn_dyn_t dyn;
    const char *ptr;
    uint32_t input;  /* first_input */
    const char *obs; /* our address as the node saw it: "ip" or "ip:port"; NULL: not said */
    bool obs_tcp;    /* the TCP probe said it (else the UDP probe) */
} spec_t;

#define MAXN 512
static sn_target_t targets[MAXN];
static sn_enrichment_t enrich[MAXN];
static sn_result_t results[MAXN];

static sn_addr_t addr_of(const char *ip, uint16_t port)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    return a;
}

static uint8_t outcome_of(const char *s)
{
    if (s == NULL)
        return SN_OUTCOME_NONE;
    if (strcmp(s, "incomplete") == 0)
        return SN_OUTCOME_INCOMPLETE;
    return strcmp(s, "alive") == 0 ? SN_OUTCOME_ALIVE : SN_OUTCOME_FILTERED;
}

static const sn_result_t *build(size_t i, const spec_t *s)
{
    assert_true(i < MAXN);
    sn_target_t *t = &targets[i];
    memset(t, 0, sizeof *t);
    t->addr = addr_of(s->ip, s->port);
    t->seen_count = s->seen ? s->seen : 1;
    t->first_input = s->input;
    t->sources = t->flags = SN_NO_INDEX;
    sn_result_t *r = &results[i];
    memset(r, 0, sizeof *r);
    r->target = t;
    if (s->blocked) {
        r->blocked = "test-range";
        return r;
    }
    if (s->udp != NULL) {
        r->udp.probe = &fake_udp;
        r->udp.outcome = outcome_of(s->udp);
        r->udp.port = s->port;
        r->udp.rtt_us = s->urtt;
        if (s->nat)
            r->udp.reply_from = addr_of("192.0.2.99", 1);
    }
    if (s->tcp != NULL) {
        r->tcp.probe = &fake_tcp;
        r->tcp.outcome = outcome_of(s->tcp);
        r->tcp.port = s->tcp_port ? s->tcp_port : s->port;
        r->tcp.rtt_us = s->trtt;
    }
    if (s->obs != NULL) {
        sn_addr_t a;
        const char *why = NULL;
        if (sn_addr_parse_ip(s->obs, strlen(s->obs), &a) != SN_OK)
            assert_int_equal(sn_addr_parse_endpoint(s->obs, strlen(s->obs), &a, &why), SN_OK);
        if (s->obs_tcp)
            r->tcp.observed = a;
        else
            r->udp.observed = a;
    }
    if (s->enrich) {
        sn_enrichment_t *e = &enrich[i];
        memset(e, 0, sizeof *e);
        e->rdns_status = s->ptr ? "ok" : "nxdomain";
        snprintf(e->ptr, sizeof e->ptr, "%s", s->ptr ? s->ptr : "");
        snprintf(e->geo.country, sizeof e->geo.country, "%s", s->country ? s->country : "");
        snprintf(e->geo.continent, sizeof e->geo.continent, "%s", s->continent ? s->continent : "");
        e->geo.asn = s->asn;
        snprintf(e->geo.as_org, sizeof e->geo.as_org, "%s", s->org ? s->org : "");
        e->class_known = s->edu >= 0;
        e->cls.edu = s->edu == 1;
        e->cls.edu_source = s->edu_src ? s->edu_src : "";
        e->cls.dyn = s->dyn;
        e->cls.dyn_rule = "test";
        r->enrich = e;
    }
    return r;
}

/* A fresh aggregator fed the nodes with sn_stats_add, finished. */
static sn_stats_t *feed(const spec_t *nodes, size_t n)
{
    sn_stats_t *st = sn_stats_new();
    assert_non_null(st);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sn_stats_add(st, build(i, &nodes[i])), SN_OK);
    sn_error_t err;
    assert_int_equal(sn_stats_finish(st, &err), SN_OK);
    return st;
}

/* The value of a metric, which must exist and be known. */
static double val(const sn_stats_t *st, const char *name)
{
    const sn_stats_row_t *r = sn_stats_find(st, name);
    if (r == NULL)
        fail_msg("no metric %s", name);
    if (!r->known)
        fail_msg("metric %s is unknown", name);
    return r->value;
}

static void assert_val(const sn_stats_t *st, const char *name, double want)
{
    double got = val(st, name);
    if (fabs(got - want) > 1e-9)
        fail_msg("%s = %.9f, want %.9f", name, got, want);
}

static void assert_unknown(const sn_stats_t *st, const char *name)
{
    const sn_stats_row_t *r = sn_stats_find(st, name);
    if (r == NULL)
        fail_msg("no metric %s", name);
    if (r->known)
        fail_msg("metric %s = %f, want unknown", name, r->value);
}

static void assert_na_with_unknown(const sn_stats_t *st, const char *name, uint64_t unknown)
{
    const sn_stats_row_t *r = sn_stats_find(st, name);
    if (r == NULL)
        fail_msg("no metric %s", name);
    if (r->known || !r->has_unknown || r->unknown != unknown)
        fail_msg("%s: known %d has_unknown %d unknown %llu, want n/a with %llu unknown", name,
                 r->known, r->has_unknown, (unsigned long long)r->unknown,
                 (unsigned long long)unknown);
}

static const char *den(const sn_stats_t *st, const char *name)
{
    const sn_stats_row_t *r = sn_stats_find(st, name);
    assert_non_null(r);
    return r->denominator;
}

static void test_add_file_records_digest_and_names_missing_file(void **state)
{
    (void)state;
    char path[] = "/tmp/sn_stats_file_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    sn_stats_t *st = sn_stats_new();
    sn_error_t err;
    assert_int_equal(sn_stats_add_file(st, "input", path, &err), SN_OK);
    assert_int_equal(sn_stats_add_file(st, "input", "-", &err), SN_OK);
    assert_int_equal(sn_stats_add_file(st, "input", "/nonexistent/sn-file", &err), SN_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/sn-file"));
    assert_int_equal(sn_stats_finish(st, &err), SN_OK);
    const sn_stats_view_t *v = sn_stats_view(st);
    assert_int_equal(v->n_files, 2);
    assert_string_equal(v->files[0].sha256,
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(v->files[0].bytes, 3);
    assert_string_equal(v->files[1].sha256, "");
    assert_string_equal(sn_stats_find(st, "file.1.sha256")->text, v->files[0].sha256);
    assert_false(sn_stats_find(st, "file.2.sha256")->known);
    sn_stats_free(st);
    unlink(path);
}

/* ---- counts and reachability ---------------------------------------------- */

static void test_empty_input_gives_zero_counts_and_unknown_shares(void **state)
{
    (void)state;
    sn_stats_t *st = feed(NULL, 0);
    assert_val(st, "targets", 0);
    assert_val(st, "listings", 0);
    assert_val(st, "probed", 0);
    assert_val(st, "alive", 0);
    assert_unknown(st, "alive.share");
    assert_unknown(st, "edu.share");
    assert_unknown(st, "country.US.share");
    assert_unknown(st, "seen.top20.share");
    assert_unknown(st, "seen.gini");
    assert_unknown(st, "as_hhi");
    assert_unknown(st, "rtt.udp.p50_ms");
    assert_unknown(st, "bad_entries");
    assert_val(st, "rtt.udp.n", 0);
    const sn_stats_view_t *v = sn_stats_view(st);
    assert_string_equal(v->population, "targets");
    assert_int_equal(v->n_lorenz, 1);
    assert_int_equal(v->n_inputs, 0);
    assert_int_equal(v->n_top_nodes, 0);
    uint32_t us;
    assert_false(sn_stats_rtt_quantile(st, SN_RTT_UDP, NULL, 500, &us));
    sn_stats_free(st);
}

static const spec_t reach_nodes[] = {
    {.ip = "198.51.100.1", .port = 1000, .udp = "alive", .tcp = "alive"},
    {.ip = "198.51.100.2", .port = 1000, .udp = "alive", .tcp = "alive", .tcp_port = 443},
    {.ip = "198.51.100.3", .port = 1000, .udp = "filtered", .tcp = "alive", .tcp_port = 80},
    {.ip = "198.51.100.4", .port = 1000, .udp = "filtered", .tcp = "filtered"},
    {.ip = "198.51.100.5", .port = 1000, .blocked = true},
    {.ip = "198.51.100.6", .port = 1000, .udp = "alive", .tcp = "alive", .nat = true},
    {.ip = "198.51.100.6", .port = 2000, .udp = "alive", .tcp = "filtered"},
};

static void test_reachability_counts_and_classes_by_hand(void **state)
{
    (void)state;
    sn_stats_t *st = feed(reach_nodes, 7);
    assert_val(st, "targets", 7);
    assert_val(st, "addresses", 6); /* 198.51.100.6 twice, two ports */
    assert_val(st, "blocked", 1);
    assert_val(st, "probed", 6);
    assert_val(st, "alive", 5);
    assert_val(st, "alive.share", 5.0 / 6.0);
    assert_string_equal(den(st, "alive.share"), "probed");
    assert_val(st, "alive_udp", 4);
    assert_val(st, "alive_tcp", 4);
    assert_val(st, "alive_tcp_own", 2);
    assert_val(st, "alive_tcp_443", 1);
    assert_val(st, "alive_tcp_80", 1);
    /* the NAT node answered both but from another address: not eligible */
    assert_val(st, "sn_eligible", 1);
    assert_val(st, "reach_class.udp+tcp", 2);
    assert_val(st, "reach_class.udp+tcp-443", 1);
    assert_val(st, "reach_class.tcp-80-only", 1);
    assert_val(st, "reach_class.udp-only", 1);
    assert_val(st, "reach_class.none", 1);
    assert_val(st, "reach_class.tcp-only", 0);
    assert_val(st, "reach_class.none.share", 1.0 / 6.0);
    const sn_stats_view_t *v = sn_stats_view(st);
    assert_string_equal(v->population, "alive");
    assert_int_equal(v->population_n, 5);
    assert_int_equal(v->reach.n, 8);
    assert_int_equal(v->reach.total, 6);
    sn_stats_free(st);
}

/* Targets a stop cut short are counted on their own and in no share: the
 * same shares as without them, even where one probe had answered. */
static void test_incomplete_targets_are_counted_apart_and_in_no_denominator(void **state)
{
    (void)state;
    spec_t nodes[10];
    memcpy(nodes, reach_nodes, sizeof reach_nodes);
    nodes[7] = (spec_t){.ip = "198.51.100.7", .port = 1000, .udp = "alive", .tcp = "incomplete"};
    nodes[8] = (spec_t){.ip = "198.51.100.8", .port = 1000, .udp = "incomplete", .tcp = "filtered"};
    nodes[9] = (spec_t){
        .ip = "198.51.100.9", .port = 1000, .udp = "incomplete", .tcp = "alive", .tcp_port = 443};
    sn_stats_t *st = feed(nodes, 10);
    assert_val(st, "targets", 10);
    assert_val(st, "incomplete", 3);
    assert_val(st, "probed", 6);
    assert_val(st, "alive", 5);
    assert_val(st, "alive.share", 5.0 / 6.0);
    assert_val(st, "alive_udp", 4);
    assert_val(st, "alive_tcp", 4);
    assert_val(st, "alive_tcp_443", 1);
    assert_val(st, "reach_class.none.share", 1.0 / 6.0);
    assert_val(st, "reach_class.udp-only", 1);
    const sn_stats_view_t *v = sn_stats_view(st);
    assert_int_equal(v->reach.total, 6);
    assert_int_equal(v->population_n, 5);
    sn_stats_free(st);
}

static void test_nothing_probed_counts_who_over_all_targets(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1",
         .port = 1,
         .enrich = true,
         .country = "US",
         .continent = "NA",
         .edu = -1},
        {.ip = "198.51.100.2",
         .port = 1,
         .enrich = true,
         .country = "DE",
         .continent = "EU",
         .edu = -1},
    };
    sn_stats_t *st = feed(nodes, 2);
    assert_string_equal(sn_stats_view(st)->population, "targets");
    assert_val(st, "country.US.share", 0.5);
    assert_string_equal(den(st, "country.US.share"), "targets");
    assert_string_equal(sn_stats_find(st, "population")->text, "targets");
    sn_stats_free(st);
}

/* ---- who: academic, geography, dynamic, AS, ports --------------------------- */

static void test_all_unknown_enrichment_counts_as_unknown(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1", .port = 1, .udp = "alive"},
        {.ip = "198.51.100.2", .port = 2, .udp = "alive", .enrich = true, .edu = -1},
        {.ip = "198.51.100.3",
         .port = 3,
         .udp = "alive",
         .enrich = true,
         .edu = -1,
         .country = "z1",
         .continent = "XX"},
    };
    sn_stats_t *st = feed(nodes, 3);
    assert_val(st, "country.unknown", 3);
    assert_val(st, "country.unknown.share", 1);
    assert_val(st, "country.US", 0); /* always reported: the studies' figure is about it */
    assert_val(st, "countries", 0);
    assert_val(st, "continent.unknown.share", 1);
    assert_val(st, "continent.EU", 0);
    assert_val(st, "addr_kind.unknown", 3);
    assert_val(st, "edu", 0);
    /* Nothing known is not 0%: the shares are n/a and say how many are unknown. */
    assert_na_with_unknown(st, "edu.share", 3);
    assert_na_with_unknown(st, "edu.institutions", 3);
    assert_val(st, "edu.unknown", 3);
    assert_na_with_unknown(st, "country.US.share", 3);
    assert_na_with_unknown(st, "continent.EU.share", 3);
    assert_na_with_unknown(st, "addr_kind.dynamic.share", 3);
    assert_na_with_unknown(st, "addr_kind.static.share", 3);
    assert_val(st, "addr_kind.unknown.share", 1);
    assert_val(st, "class_known", 0);
    assert_val(st, "asn.unknown", 3);
    assert_val(st, "asns", 0);
    assert_unknown(st, "as_hhi");
    assert_unknown(st, "as_top1.share");
    assert_int_equal(sn_stats_view(st)->asns.n, 0);
    sn_stats_free(st);
}

static void test_chao1_by_hand(void **state)
{
    (void)state;
    /* 10 seen, 4 once, 2 twice: 10 + 4*3/(2*3) = 12. */
    assert_true(fabs(sn_stats_chao1(10, 4, 2) - 12.0) < 1e-12);
    /* No doubletons: 5 + 3*2/2 = 8. */
    assert_true(fabs(sn_stats_chao1(5, 3, 0) - 8.0) < 1e-12);
    /* One or no singleton adds nothing. */
    assert_true(fabs(sn_stats_chao1(7, 1, 0) - 7.0) < 1e-12);
    assert_true(fabs(sn_stats_chao1(7, 0, 3) - 7.0) < 1e-12);
    assert_true(fabs(sn_stats_chao1(0, 0, 0)) < 1e-12);
}

static void test_chao1_from_seen_counts_beside_distinct_targets(void **state)
{
    (void)state;
    /* Seen-counts 1,1,1,2,3: S_obs 5, f1 3, f2 1 -> 5 + 3*2/(2*2) = 6.5. */
    spec_t nodes[] = {
        {.ip = "198.51.100.1", .port = 1, .seen = 1, .udp = "alive"},
        {.ip = "198.51.100.2", .port = 1, .seen = 1, .udp = "alive"},
        {.ip = "198.51.100.3", .port = 1, .seen = 1, .udp = "filtered"},
        {.ip = "198.51.100.4", .port = 1, .seen = 2, .udp = "alive"},
        {.ip = "198.51.100.5", .port = 1, .seen = 3, .udp = "alive"},
    };
    sn_stats_t *st = feed(nodes, 5);
    assert_val(st, "targets", 5);
    assert_val(st, "population.f1", 3);
    assert_val(st, "population.f2", 1);
    assert_val(st, "population.chao1", 6.5);
    assert_string_equal(den(st, "population.chao1"), "targets");
    const sn_stats_row_t *r = sn_stats_find(st, "population.chao1");
    assert_true(r->headline);
    assert_non_null(strstr(r->help, "f1(f1-1)/(2(f2+1))"));
    sn_stats_free(st);
    /* Nothing listed: no estimate. */
    st = feed(NULL, 0);
    assert_unknown(st, "population.chao1");
    sn_stats_free(st);
}

static void test_edu_institutions_by_registrable_domain_then_as_org(void **state)
{
    (void)state;
    spec_t nodes[] = {
        /* two hosts of one university: one institution */
        {.ip = "198.51.100.1",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = 1,
         .edu_src = "ptr",
         .ptr = "cs-lab12.cs.ucl.ac.uk"},
        {.ip = "198.51.100.2",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = 1,
         .edu_src = "ptr",
         .ptr = "www.UCL.ac.uk."},
        {.ip = "198.51.100.3",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = 1,
         .edu_src = "ptr",
         .ptr = "dhcp-18-1-2-3.dyn.mit.edu other.example.org"},
        /* no academic name: the AS organisation names it */
        {.ip = "198.51.100.4",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = 1,
         .edu_src = "as_org",
         .asn = 64500,
         .org = "Universitaet Beispielstadt"},
        {.ip = "198.51.100.5",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = 1,
         .edu_src = "as_org",
         .asn = 64500,
         .org = "Universitaet Beispielstadt"},
        /* not academic: not an institution */
        {.ip = "198.51.100.6",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = 0,
         .ptr = "mail.example.com"},
        /* not alive: not in the population */
        {.ip = "198.51.100.7",
         .port = 1,
         .udp = "filtered",
         .enrich = true,
         .edu = 1,
         .edu_src = "ptr",
         .ptr = "x.stanford.edu"},
    };
    sn_stats_t *st = feed(nodes, 7);
    assert_val(st, "edu", 5);
    assert_val(st, "edu.institutions", 3);
    assert_string_equal(den(st, "edu.institutions"), "edu");
    assert_non_null(sn_stats_find(st, "edu.institutions")->study);
    const sn_stats_series_t *in = &sn_stats_view(st)->institutions;
    assert_int_equal(in->n, 3);
    assert_int_equal(in->total, 5);
    /* two nodes each: ties by name, byte order */
    assert_string_equal(in->v[0].label, "Universitaet Beispielstadt");
    assert_int_equal(in->v[0].count, 2);
    assert_string_equal(in->v[1].label, "ucl.ac.uk");
    assert_int_equal(in->v[1].count, 2);
    assert_string_equal(in->v[2].label, "mit.edu");
    assert_int_equal(in->v[2].count, 1);
    assert_val(st, "edu.unknown", 0);
    sn_stats_free(st);
}

static void test_academic_share_split_by_signal(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = 1,
         .edu_src = "ptr"},
        {.ip = "198.51.100.2",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = 1,
         .edu_src = "ptr"},
        {.ip = "198.51.100.3",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = 1,
         .edu_src = "as_org"},
        {.ip = "198.51.100.4", .port = 1, .udp = "alive", .enrich = true, .edu = 0},
        {.ip = "198.51.100.5", .port = 1, .udp = "alive", .enrich = true, .edu = -1},
        /* not alive: not counted */
        {.ip = "198.51.100.6",
         .port = 1,
         .udp = "filtered",
         .enrich = true,
         .edu = 1,
         .edu_src = "ptr"},
    };
    sn_stats_t *st = feed(nodes, 6);
    assert_val(st, "edu", 3);
    assert_val(st, "edu.share", 3.0 / 5.0);
    assert_string_equal(den(st, "edu.share"), "alive");
    assert_val(st, "edu.ptr", 2);
    assert_val(st, "edu.as_org", 1);
    assert_val(st, "edu.as_org.share", 1.0 / 5.0);
    assert_val(st, "class_known", 4);
    const sn_stats_row_t *r = sn_stats_find(st, "edu.share");
    assert_non_null(r->study);
    assert_true(r->headline);
    sn_stats_free(st);
}

static void test_country_continent_and_dynamic_splits(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = -1,
         .country = "US",
         .continent = "NA",
         .dyn = SN_DYN_DYNAMIC},
        {.ip = "198.51.100.2",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = -1,
         .country = "US",
         .continent = "NA",
         .dyn = SN_DYN_DYNAMIC},
        {.ip = "198.51.100.3",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = -1,
         .country = "DE",
         .continent = "EU",
         .dyn = SN_DYN_STATIC},
        {.ip = "198.51.100.4",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = -1,
         .country = "JP",
         .continent = "AS"},
        {.ip = "198.51.100.5", .port = 1, .udp = "alive", .enrich = true, .edu = -1},
    };
    sn_stats_t *st = feed(nodes, 5);
    assert_val(st, "country.US", 2);
    assert_val(st, "country.US.share", 0.4);
    assert_val(st, "country.DE.share", 0.2);
    assert_val(st, "country.unknown", 1);
    assert_val(st, "countries", 3);
    assert_val(st, "continent.NA.share", 0.4);
    assert_val(st, "continent.EU.share", 0.2);
    assert_val(st, "continent.AS.share", 0.2);
    assert_val(st, "continent.unknown.share", 0.2);
    assert_val(st, "addr_kind.dynamic.share", 0.4);
    assert_val(st, "addr_kind.static.share", 0.2);
    assert_val(st, "addr_kind.unknown.share", 0.4);
    assert_non_null(sn_stats_find(st, "country.US.share")->study);
    assert_non_null(sn_stats_find(st, "continent.AS.share")->study);
    assert_null(sn_stats_find(st, "continent.NA.share")->study);
    /* the chart's series: count descending, ties by code, unknown last */
    const sn_stats_series_t *c = &sn_stats_view(st)->countries;
    assert_int_equal(c->n, 4);
    assert_string_equal(c->v[0].key, "US");
    assert_string_equal(c->v[1].key, "DE");
    assert_string_equal(c->v[2].key, "JP");
    assert_string_equal(c->v[3].key, "unknown");
    const sn_stats_series_t *k = &sn_stats_view(st)->continents;
    assert_int_equal(k->n, 8);
    assert_string_equal(k->v[0].key, "NA");
    sn_stats_free(st);
}

static void test_as_top_list_breaks_ties_by_number_and_hhi_by_hand(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = -1,
         .asn = 64500,
         .org = "Big"},
        {.ip = "198.51.100.2", .port = 1, .udp = "alive", .enrich = true, .edu = -1, .asn = 64500},
        {.ip = "198.51.100.3",
         .port = 1,
         .udp = "alive",
         .enrich = true,
         .edu = -1,
         .asn = 7,
         .org = "Seven"},
        {.ip = "198.51.100.4", .port = 1, .udp = "alive", .enrich = true, .edu = -1, .asn = 7},
        {.ip = "198.51.100.5", .port = 1, .udp = "alive", .enrich = true, .edu = -1, .asn = 100},
        {.ip = "198.51.100.6", .port = 1, .udp = "alive", .enrich = true, .edu = -1},
    };
    sn_stats_t *st = feed(nodes, 6);
    assert_val(st, "asns", 3);
    assert_val(st, "asn.known", 5);
    assert_val(st, "asn.unknown", 1);
    /* shares 40%, 40%, 20%: 1600 + 1600 + 400 */
    assert_val(st, "as_hhi", 3600);
    assert_val(st, "as_top1.share", 0.4);
    assert_string_equal(den(st, "as_hhi"), "asn.known");
    const sn_stats_series_t *a = &sn_stats_view(st)->asns;
    assert_int_equal(a->n, 3);
    assert_string_equal(a->v[0].key, "7"); /* a tie: 7 before 64500, as numbers */
    assert_string_equal(a->v[0].label, "Seven");
    assert_string_equal(a->v[1].key, "64500");
    assert_string_equal(a->v[1].label, "Big");
    assert_string_equal(a->v[2].key, "100");
    assert_val(st, "asn.7.share", 0.4);
    assert_val(st, "asn.64500", 2);
    sn_stats_free(st);
}

static void test_ports_distinct_top_share_and_33033(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1", .port = 5000, .udp = "alive"},
        {.ip = "198.51.100.2", .port = 5000, .udp = "alive"},
        {.ip = "198.51.100.3", .port = 33033, .udp = "alive"},
        {.ip = "198.51.100.4", .port = 4000, .udp = "alive"},
        {.ip = "198.51.100.5", .port = 6000, .udp = "filtered"}, /* not alive */
    };
    sn_stats_t *st = feed(nodes, 5);
    assert_val(st, "ports", 3);
    assert_val(st, "port_top.share", 0.5);
    assert_val(st, "port.5000", 2);
    assert_val(st, "port.33033.share", 0.25);
    const sn_stats_series_t *p = &sn_stats_view(st)->ports;
    assert_int_equal(p->n, 3);
    assert_string_equal(p->v[0].key, "5000");
    assert_string_equal(p->v[1].key, "4000"); /* tie with 33033: the lower port first */
    assert_string_equal(p->v[2].key, "33033");
    assert_null(sn_stats_find(st, "port.6000"));
    sn_stats_free(st);
}

static void test_port_33033_reported_when_absent(void **state)
{
    (void)state;
    spec_t nodes[] = {{.ip = "198.51.100.1", .port = 5000, .udp = "alive"}};
    sn_stats_t *st = feed(nodes, 1);
    assert_val(st, "port.33033", 0);
    assert_val(st, "port.33033.share", 0);
    sn_stats_free(st);
}

/* ---- seen-count concentration -------------------------------------------- */

/* 25 targets: one listed 100 times, four 10 times, twenty once: 160 listings. */
static spec_t seen_nodes[25];

static void make_seen_nodes(void)
{
    static char ips[25][20];
    for (int i = 0; i < 25; i++) {
        snprintf(ips[i], sizeof ips[i], "198.51.100.%d", i + 1);
        seen_nodes[i] = (spec_t){.ip = ips[i],
                                 .port = 1,
                                 .udp = "filtered",
                                 .seen = i == 0   ? 100
                                         : i <= 4 ? 10
                                                  : 1};
    }
}

static void test_seen_concentration_top_k_and_gini_by_hand(void **state)
{
    (void)state;
    make_seen_nodes();
    sn_stats_t *st = feed(seen_nodes, 25);
    assert_val(st, "listings", 160);
    /* top 20: 100 + 4 x 10 + 15 x 1 */
    assert_val(st, "seen.top20.share", 155.0 / 160.0);
    assert_val(st, "seen.top100.share", 1.0);
    /* top tenth of 25, rounded up: 3 targets, 100 + 10 + 10 */
    assert_val(st, "seen.top10pct.share", 120.0 / 160.0);
    assert_string_equal(den(st, "seen.top20.share"), "listings");
    /* Lorenz vertices (0.8, 0.125), (0.96, 0.375), (1, 1): area 0.1 + 0.08 + 0.055 */
    assert_val(st, "seen.gini", 1.0 - 0.235);
    assert_val(st, "lorenz.p80", 0.125);
    assert_val(st, "lorenz.p50", 12.5 / 160.0);
    assert_val(st, "lorenz.p100", 1.0);
    assert_val(st, "seen.max", 100);
    assert_val(st, "seen_count.1", 20);
    assert_val(st, "seen_count.10", 4);
    assert_val(st, "seen_count.100", 1);
    const sn_stats_view_t *v = sn_stats_view(st);
    assert_int_equal(v->n_lorenz, 4);
    assert_true(fabs(v->lorenz_x[2] - 0.96) < 1e-12);
    assert_true(fabs(v->lorenz_y[2] - 0.375) < 1e-12);
    /* the most-listed nodes, ties broken by address */
    assert_int_equal(v->n_top_nodes, 20);
    assert_int_equal(v->top_nodes[0].seen_count, 100);
    assert_int_equal(v->top_nodes[1].seen_count, 10);
    char a[SN_ADDR_STRLEN];
    sn_addr_format(&v->top_nodes[5].addr, a, sizeof a, false);
    assert_string_equal(a, "198.51.100.6");
    sn_stats_free(st);
}

static void test_seen_equal_counts_give_gini_zero_and_top_k_by_count(void **state)
{
    (void)state;
    spec_t nodes[4] = {{.ip = "198.51.100.1", .port = 1, .seen = 2},
                       {.ip = "198.51.100.2", .port = 1, .seen = 2},
                       {.ip = "198.51.100.3", .port = 1, .seen = 2},
                       {.ip = "198.51.100.4", .port = 1, .seen = 2}};
    sn_stats_t *st = feed(nodes, 4);
    assert_val(st, "seen.gini", 0);
    assert_val(st, "seen.top10pct.share", 0.25); /* one of four, rounded up */
    assert_val(st, "lorenz.p50", 0.5);
    sn_stats_free(st);
}

/* ---- NAT signals: our address as the nodes saw it, replies from elsewhere ---- */

static const char *text(const sn_stats_t *st, const char *name)
{
    const sn_stats_row_t *r = sn_stats_find(st, name);
    if (r == NULL)
        fail_msg("no metric %s", name);
    if (!r->known)
        fail_msg("metric %s is unknown", name);
    assert_int_equal(r->unit, SN_UNIT_TEXT);
    return r->text;
}

static void test_no_observations_give_zero_counts_and_unknown_top_local_mapping(void **state)
{
    (void)state;
    sn_stats_t *st = feed(reach_nodes, 7);
    assert_val(st, "observed.known", 0);
    assert_val(st, "observed.with_port", 0);
    assert_val(st, "observed.distinct_ip", 0);
    assert_val(st, "observed.distinct_ip_port", 0);
    assert_val(st, "observed.top.n", 0);
    assert_unknown(st, "observed.top");
    assert_unknown(st, "observed.top.share");
    assert_unknown(st, "observed.local");
    assert_string_equal(text(st, "observed.mapping"), "unknown");
    /* reach_nodes: one NAT node among the four that answered UDP */
    assert_val(st, "udp_reply_other", 1);
    assert_val(st, "udp_reply_other.share", 0.25);
    assert_string_equal(den(st, "udp_reply_other.share"), "alive_udp");
    assert_string_equal(den(st, "observed.known"), "alive");
    assert_string_equal(den(st, "observed.distinct_ip"), "observed.known");
    assert_string_equal(den(st, "observed.distinct_ip_port"), "observed.with_port");
    assert_string_equal(den(st, "observed.top.share"), "observed.known");
    assert_string_equal(den(st, "observed.mapping"), "observed.with_port");
    sn_stats_free(st);
}

static void test_one_skype_observation_has_no_port_so_mapping_unknown(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1", .port = 1, .udp = "alive", .obs = "192.0.2.7"},
        /* silent nodes say nothing that counts, whatever the result holds */
        {.ip = "198.51.100.2", .port = 1, .udp = "filtered", .obs = "192.0.2.8"},
        {.ip = "198.51.100.3", .port = 1, .blocked = true},
    };
    sn_stats_t *st = feed(nodes, 3);
    assert_val(st, "observed.known", 1);
    assert_val(st, "observed.with_port", 0);
    assert_val(st, "observed.distinct_ip", 1);
    assert_val(st, "observed.distinct_ip_port", 0);
    assert_string_equal(text(st, "observed.top"), "192.0.2.7");
    assert_val(st, "observed.top.n", 1);
    assert_val(st, "observed.top.share", 1);
    /* a documentation address is no interface's: NATed */
    assert_val(st, "observed.local", 0);
    assert_string_equal(text(st, "observed.mapping"), "unknown");
    sn_stats_free(st);
}

static void test_same_ip_and_port_from_every_node_is_endpoint_independent(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1", .port = 1, .udp = "alive", .obs = "192.0.2.7:40000"},
        {.ip = "198.51.100.2", .port = 2, .udp = "alive", .obs = "192.0.2.7:40000"},
        {.ip = "198.51.100.3", .port = 3, .udp = "alive", .obs = "192.0.2.7:40000"},
        {.ip = "198.51.100.4", .port = 4, .udp = "alive"},
    };
    sn_stats_t *st = feed(nodes, 4);
    assert_val(st, "observed.known", 3);
    assert_val(st, "observed.with_port", 3);
    assert_val(st, "observed.distinct_ip", 1);
    assert_val(st, "observed.distinct_ip_port", 1);
    assert_string_equal(text(st, "observed.top"), "192.0.2.7");
    assert_val(st, "observed.top.share", 1);
    assert_string_equal(text(st, "observed.mapping"), "endpoint-independent");
    sn_stats_free(st);
}

static void test_different_ports_make_the_mapping_vary(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1", .port = 1, .udp = "alive", .obs = "192.0.2.7:40000"},
        {.ip = "198.51.100.2", .port = 1, .udp = "alive", .obs = "192.0.2.7:40001"},
        {.ip = "198.51.100.3", .port = 1, .udp = "alive", .obs = "192.0.2.7:40000"},
        {.ip = "198.51.100.4", .port = 1, .udp = "alive", .obs = "192.0.2.7"}, /* Skype */
        /* TCP's observation counts when UDP said nothing */
        {.ip = "198.51.100.5",
         .port = 1,
         .udp = "filtered",
         .tcp = "alive",
         .obs = "192.0.2.7:40002",
         .obs_tcp = true},
    };
    sn_stats_t *st = feed(nodes, 5);
    assert_val(st, "observed.known", 5);
    assert_val(st, "observed.with_port", 4);
    assert_val(st, "observed.distinct_ip", 1);
    assert_val(st, "observed.distinct_ip_port", 3);
    assert_val(st, "observed.top.n", 5);
    assert_string_equal(text(st, "observed.mapping"), "varies");
    sn_stats_free(st);
}

static void test_skype_only_observations_tie_goes_to_the_lower_address(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1", .port = 1, .udp = "alive", .obs = "192.0.2.9"},
        {.ip = "198.51.100.2", .port = 1, .udp = "alive", .obs = "2001:db8::7"},
        {.ip = "198.51.100.3", .port = 1, .udp = "alive", .obs = "192.0.2.9"},
        {.ip = "198.51.100.4", .port = 1, .udp = "alive", .obs = "192.0.2.8"},
        {.ip = "198.51.100.5", .port = 1, .udp = "alive", .obs = "192.0.2.8"},
    };
    sn_stats_t *st = feed(nodes, 5);
    assert_val(st, "observed.known", 5);
    assert_val(st, "observed.distinct_ip", 3);
    assert_val(st, "observed.distinct_ip_port", 0);
    assert_string_equal(text(st, "observed.top"), "192.0.2.8");
    assert_val(st, "observed.top.n", 2);
    assert_val(st, "observed.top.share", 0.4);
    /* many nodes, but none said a port: nothing to judge the mapping by */
    assert_string_equal(text(st, "observed.mapping"), "unknown");
    sn_stats_free(st);
}

static void test_many_distinct_ports_are_counted_exactly(void **state)
{
    (void)state;
    enum { N = 300 };
    static spec_t nodes[N];
    static char ips[N][24], obs[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(ips[i], sizeof ips[i], "10.1.%d.%d", i / 250, i % 250 + 1);
        /* every port twice, and every tenth node behind a second NAT address */
        snprintf(obs[i], sizeof obs[i], "192.0.2.%d:%d", i % 10 == 0 ? 2 : 1, 20000 + i / 2);
        nodes[i] = (spec_t){.ip = ips[i], .port = 1, .udp = "alive", .obs = obs[i]};
    }
    sn_stats_t *st = feed(nodes, N);
    assert_val(st, "observed.known", N);
    assert_val(st, "observed.distinct_ip", 2);
    /* all 150 ports at .1 (a port's odd node is always there); 30 at .2 */
    assert_val(st, "observed.distinct_ip_port", 150 + 30);
    assert_string_equal(text(st, "observed.top"), "192.0.2.1");
    assert_val(st, "observed.top.n", N - 30);
    assert_string_equal(text(st, "observed.mapping"), "varies");
    sn_stats_free(st);
}

static void test_loopback_observation_is_local_in_scan_mode(void **state)
{
    (void)state;
    static const char *const seen[] = {"127.0.0.1:5000", "127.0.0.9", "[::1]:5000"};
    for (size_t i = 0; i < sizeof seen / sizeof seen[0]; i++) {
        spec_t nodes[] = {
            {.ip = "127.0.0.2", .port = 1, .udp = "alive", .obs = seen[i]},
        };
        sn_stats_t *st = feed(nodes, 1);
        if (val(st, "observed.local") != 1)
            fail_msg("%s: observed.local is not 1", seen[i]);
        sn_stats_free(st);
    }
}

static void test_read_back_leaves_observed_local_unknown(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "127.0.0.2", .port = 1, .udp = "alive", .obs = "127.0.0.1:5000"},
        {.ip = "127.0.0.3", .port = 1, .udp = "alive", .obs = "127.0.0.1:5000", .nat = true},
    };
    sn_stats_t *scan = feed(nodes, 2);
    assert_val(scan, "observed.local", 1);
    sn_stats_t *st = sn_stats_new();
    assert_non_null(st);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(sn_stats_add_row(st, build(i, &nodes[i]), "a", NULL), SN_OK);
    sn_error_t err;
    assert_int_equal(sn_stats_finish(st, &err), SN_OK);
    assert_unknown(st, "observed.local");
    /* everything else is the same as in scan mode */
    static const char *const same[] = {"observed.known",       "observed.with_port",
                                       "observed.distinct_ip", "observed.distinct_ip_port",
                                       "observed.top.n",       "udp_reply_other"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        assert_val(st, same[i], val(scan, same[i]));
    assert_val(st, "udp_reply_other", 1);
    assert_string_equal(text(st, "observed.top"), "127.0.0.1");
    assert_string_equal(text(st, "observed.mapping"), "endpoint-independent");
    sn_stats_free(st);
    sn_stats_free(scan);
}

static void test_reply_from_counts_only_nodes_that_answered_udp(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1", .port = 1, .udp = "alive", .tcp = "alive", .nat = true},
        {.ip = "198.51.100.2", .port = 1, .udp = "alive", .tcp = "filtered", .nat = true},
        {.ip = "198.51.100.3", .port = 1, .udp = "filtered", .tcp = "alive", .nat = true},
        {.ip = "198.51.100.4", .port = 1, .udp = "alive", .tcp = "alive"},
    };
    sn_stats_t *st = feed(nodes, 4);
    assert_val(st, "alive_udp", 3);
    assert_val(st, "udp_reply_other", 2);
    assert_val(st, "udp_reply_other.share", 2.0 / 3.0);
    /* the first node answered both, but from elsewhere: only the last is eligible */
    assert_val(st, "sn_eligible", 1);
    sn_stats_free(st);
}

/* ---- discovery -------------------------------------------------------------- */

static void test_discovery_from_target_set_in_input_order(void **state)
{
    (void)state;
    sn_targets_t *ts = sn_targets_new();
    sn_addr_t x = addr_of("198.51.100.1", 1), y = addr_of("198.51.100.2", 1),
              z = addr_of("198.51.100.3", 1);
    assert_int_equal(sn_targets_begin_input(ts, "a.xml"), 0);
    assert_int_equal(sn_targets_add(ts, &x, NULL), SN_OK);
    assert_int_equal(sn_targets_add(ts, &y, NULL), SN_OK);
    assert_int_equal(sn_targets_begin_input(ts, "b.txt"), 1);
    assert_int_equal(sn_targets_add(ts, &y, NULL), SN_OK);
    assert_int_equal(sn_targets_add(ts, &z, NULL), SN_OK);
    assert_int_equal(sn_targets_begin_input(ts, "c.csv"), 2);
    assert_int_equal(sn_targets_add(ts, &x, NULL), SN_OK);

    sn_stats_t *st = sn_stats_new();
    sn_error_t err;
    assert_int_equal(sn_stats_set_targets(st, ts, 7, &err), SN_OK);
    /* x alive, z alive; y silent */
    const sn_target_t *tx = sn_targets_find(ts, &x), *tz = sn_targets_find(ts, &z);
    sn_result_t rx = {.target = tx, .udp = {.probe = &fake_udp, .outcome = SN_OUTCOME_ALIVE}};
    sn_result_t rz = {.target = tz, .udp = {.probe = &fake_udp, .outcome = SN_OUTCOME_ALIVE}};
    assert_int_equal(sn_stats_add(st, &rx), SN_OK);
    assert_int_equal(sn_stats_add(st, &rz), SN_OK);
    assert_int_equal(sn_stats_finish(st, &err), SN_OK);

    assert_val(st, "targets", 3);
    assert_val(st, "listings", 5);
    assert_val(st, "bad_entries", 7);
    const sn_stats_view_t *v = sn_stats_view(st);
    assert_int_equal(v->n_inputs, 3);
    assert_string_equal(v->inputs[0].name, "a.xml");
    assert_string_equal(v->inputs[2].name, "c.csv");
    assert_int_equal(v->inputs[0].cum_targets, 2);
    assert_int_equal(v->inputs[1].cum_targets, 3);
    assert_int_equal(v->inputs[2].cum_targets, 3);
    assert_int_equal(v->inputs[0].cum_alive, 1);
    assert_int_equal(v->inputs[1].cum_alive, 2);
    assert_true(v->inputs[1].listings_known);
    assert_int_equal(v->inputs[1].listings, 2);
    assert_val(st, "discovery.2", 3);
    assert_val(st, "discovery.1.alive", 1);
    assert_val(st, "input.3.listings", 1);
    assert_string_equal(sn_stats_find(st, "input.2.name")->text, "b.txt");
    sn_stats_free(st);
    sn_targets_free(ts);
}

static sn_stats_t *feed_rows(const char *const *sources, size_t n, const char *const *vantages)
{
    sn_stats_t *st = sn_stats_new();
    assert_non_null(st);
    for (size_t i = 0; i < n; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "198.51.100.%zu", i + 1);
        spec_t s = {.ip = ip, .port = 1, .udp = i % 2 == 0 ? "alive" : "filtered"};
        assert_int_equal(
            sn_stats_add_row(st, build(i, &s), sources[i], vantages != NULL ? vantages[i] : NULL),
            SN_OK);
    }
    sn_error_t err;
    assert_int_equal(sn_stats_finish(st, &err), SN_OK);
    return st;
}

static void test_discovery_read_back_orders_labels_by_sources(void **state)
{
    (void)state;
    /* first appearance is b, but a row says a came before b, another b before c */
    const char *const sources[] = {"b;c", "a;b", "c", "a", ""};
    sn_stats_t *st = feed_rows(sources, 5, NULL);
    const sn_stats_view_t *v = sn_stats_view(st);
    assert_int_equal(v->n_inputs, 3);
    assert_string_equal(v->inputs[0].name, "a");
    assert_string_equal(v->inputs[1].name, "b");
    assert_string_equal(v->inputs[2].name, "c");
    assert_int_equal(v->inputs[0].new_targets, 2);
    assert_int_equal(v->inputs[1].new_targets, 1);
    assert_int_equal(v->inputs[2].cum_targets, 4); /* the row without sources has no input */
    assert_false(v->inputs[0].listings_known);
    /* rows 0, 2, 4 alive: b (row 0) and c (row 2) */
    assert_int_equal(v->inputs[0].new_alive, 0);
    assert_int_equal(v->inputs[2].cum_alive, 2);
    assert_unknown(st, "input.1.listings");
    sn_stats_free(st);
}

static void test_discovery_read_back_cycle_falls_back_to_first_appearance(void **state)
{
    (void)state;
    const char *const sources[] = {"y;x", "x;y"};
    sn_stats_t *st = feed_rows(sources, 2, NULL);
    const sn_stats_view_t *v = sn_stats_view(st);
    assert_int_equal(v->n_inputs, 2);
    assert_string_equal(v->inputs[0].name, "y");
    assert_string_equal(v->inputs[1].name, "x");
    sn_stats_free(st);
}

static void test_read_back_vantage_first_one_wins_and_mixed_is_flagged(void **state)
{
    (void)state;
    const char *const sources[] = {"a", "a", "a"};
    const char *const one[] = {"", "mapping=none", "mapping=none"};
    sn_stats_t *st = feed_rows(sources, 3, one);
    assert_string_equal(sn_stats_view(st)->text[SN_STATS_VANTAGE], "mapping=none");
    assert_false(sn_stats_view(st)->vantage_mixed);
    sn_stats_free(st);
    const char *const two[] = {"mapping=none", "mapping=endpoint-independent", ""};
    st = feed_rows(sources, 3, two);
    assert_true(sn_stats_view(st)->vantage_mixed);
    assert_val(st, "meta.vantage_mixed", 1);
    sn_stats_free(st);
}

/* ---- RTT ------------------------------------------------------------------------ */

static void test_rtt_quantiles_exact_for_small_values(void **state)
{
    (void)state;
    spec_t nodes[] = {
        {.ip = "198.51.100.1", .port = 1, .udp = "alive", .urtt = 40, .tcp = "alive", .trtt = 7},
        {.ip = "198.51.100.2", .port = 1, .udp = "alive", .urtt = 10},
        {.ip = "198.51.100.3",
         .port = 1,
         .udp = "alive",
         .urtt = 30,
         .enrich = true,
         .edu = -1,
         .continent = "EU"},
        {.ip = "198.51.100.4",
         .port = 1,
         .udp = "alive",
         .urtt = 20,
         .enrich = true,
         .edu = -1,
         .continent = "EU"},
    };
    sn_stats_t *st = feed(nodes, 4);
    /* nearest rank over 10, 20, 30, 40: the median is the 2nd, p90 and p99 the 4th */
    assert_val(st, "rtt.udp.p50_ms", 0.020);
    assert_val(st, "rtt.udp.p90_ms", 0.040);
    assert_val(st, "rtt.udp.p99_ms", 0.040);
    assert_val(st, "rtt.udp.n", 4);
    assert_val(st, "rtt.tcp.p50_ms", 0.007);
    assert_val(st, "rtt.udp.EU.n", 2);
    assert_val(st, "rtt.udp.EU.p50_ms", 0.020);
    assert_val(st, "rtt.udp.unknown.n", 2);
    assert_string_equal(den(st, "rtt.udp.EU.p50_ms"), "rtt.udp.EU.n");
    assert_null(sn_stats_find(st, "rtt.udp.AS.n"));
    assert_int_equal(sn_stats_rtt_count(st, SN_RTT_UDP, "EU"), 2);
    double x[8], y[8];
    assert_int_equal(sn_stats_rtt_cdf(st, SN_RTT_UDP, NULL, x, y, 8), 4);
    assert_true(x[0] == 10 && y[0] == 0.25 && x[3] == 40 && y[3] == 1.0);
    sn_stats_free(st);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void test_rtt_quantiles_within_bounded_error_for_large_values(void **state)
{
    (void)state;
    enum { N = 400 };
    static spec_t nodes[N];
    static char ips[N][24];
    uint32_t v[N];
    for (int i = 0; i < N; i++) {
        v[i] = (uint32_t)((i * 7919u) % 4000000u) + 129u;
        snprintf(ips[i], sizeof ips[i], "10.0.%d.%d", i / 250, i % 250 + 1);
        nodes[i] = (spec_t){.ip = ips[i], .port = 1, .udp = "alive", .urtt = v[i]};
    }
    sn_stats_t *st = feed(nodes, N);
    qsort(v, N, sizeof v[0], cmp_u32);
    static const unsigned q[] = {10, 500, 900, 990, 1000};
    for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
        uint32_t got;
        assert_true(sn_stats_rtt_quantile(st, SN_RTT_UDP, NULL, q[k], &got));
        size_t rank = (N * q[k] + 999) / 1000;
        double exact = v[rank - 1];
        if (fabs(got - exact) / exact > 0.008)
            fail_msg("p%u: %u, exact %.0f", q[k], got, exact);
    }
    sn_stats_free(st);
}

/* ---- the metric table and the summary --------------------------------------------- */

static void test_every_denominator_names_a_row(void **state)
{
    (void)state;
    sn_stats_t *st = feed(reach_nodes, 7);
    const sn_stats_view_t *v = sn_stats_view(st);
    size_t studies = 0;
    for (size_t i = 0; i < v->n_rows; i++) {
        const sn_stats_row_t *r = &v->rows[i];
        if (r->denominator[0] != '\0' && sn_stats_find(st, r->denominator) == NULL)
            fail_msg("%s: denominator %s is not a metric", r->name, r->denominator);
        if (r->unit == SN_UNIT_SHARE && r->denominator[0] == '\0')
            fail_msg("%s: a share without a denominator", r->name);
        assert_non_null(r->help);
        studies += r->study != NULL;
        for (size_t k = 0; k < i; k++)
            if (strcmp(v->rows[k].name, r->name) == 0)
                fail_msg("%s appears twice", r->name);
    }
    assert_int_equal(studies, 10);
    sn_stats_free(st);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_summary_csv_and_ndjson_rows(void **state)
{
    (void)state;
    sn_stats_t *st = feed(reach_nodes, 7);
    sn_stats_set_text(st, SN_STATS_COMMAND, "snprobe scan -o \"x,y\".csv");
    sn_stats_set_time(st, 1700000000, 0);
    char dir[] = "/tmp/sn_stats_sum_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char csvp[64], jsp[64];
    snprintf(csvp, sizeof csvp, "%s/s.csv", dir);
    snprintf(jsp, sizeof jsp, "%s/s.ndjson", dir);
    sn_error_t err;
    assert_int_equal(sn_stats_write_summary(st, csvp, SN_OUTPUT_CSV, &err), SN_OK);
    assert_int_equal(sn_stats_write_summary(st, jsp, SN_OUTPUT_NDJSON, &err), SN_OK);
    const char *c = slurp(csvp);
    assert_memory_equal(c, "metric,value,denominator\nlisting", 31);
    assert_non_null(strstr(c, "\ntargets,7,\n"));
    assert_non_null(strstr(c, "\nalive,5,probed\n"));
    assert_non_null(strstr(c, "\nalive.share,0.833333,probed\n"));
    assert_non_null(strstr(c, "\nbad_entries,,\n"));
    assert_non_null(strstr(c, "\nmeta.command,\"snprobe scan -o \"\"x,y\"\".csv\",\n"));
    assert_non_null(strstr(c, "\nmeta.started,2023-11-14T22:13:20Z,\n"));
    assert_non_null(strstr(c, "\nmeta.finished,,\n"));
    /* no node enriched: the academic share is n/a, with the count of unknown beside it */
    assert_non_null(strstr(c, "\nedu.share,n/a,alive\n"));
    assert_non_null(strstr(c, "\nedu.unknown,5,alive\n"));
    const char *j = slurp(jsp);
    assert_non_null(strstr(j, "{\"metric\":\"targets\",\"value\":7,\"denominator\":null}\n"));
    assert_non_null(
        strstr(j, "{\"metric\":\"alive.share\",\"value\":0.833333,\"denominator\":\"probed\"}\n"));
    assert_non_null(
        strstr(j, "{\"metric\":\"bad_entries\",\"value\":null,\"denominator\":null}\n"));
    assert_non_null(
        strstr(j, "{\"metric\":\"population\",\"value\":\"alive\",\"denominator\":null}"));
    assert_non_null(strstr(j, "{\"metric\":\"edu.share\",\"value\":null,"
                              "\"denominator\":\"alive\",\"unknown\":5}\n"));
    /* one row per line, same count in both */
    size_t lc = 0, lj = 0;
    for (const char *p = slurp(csvp); *p; p++)
        lc += *p == '\n';
    for (const char *p = slurp(jsp); *p; p++)
        lj += *p == '\n';
    assert_int_equal(lc, lj + 1);
    unlink(csvp);
    unlink(jsp);
    rmdir(dir);
    sn_stats_free(st);
}

/* The summary's CSV cells (summary.c, through libcsv): a text cell a spreadsheet
 * would evaluate gets the apostrophe inside its quotes, a leading blank is quoted
 * so that no reader trims it, and a plain cell stays bare. */
static void test_summary_csv_neutralises_and_quotes_text_cells(void **state)
{
    (void)state;
    sn_stats_t *st = feed(reach_nodes, 7);
    sn_stats_set_text(st, SN_STATS_WHERE, "=HYPERLINK(\"x\"),1");
    sn_stats_set_text(st, SN_STATS_COMMAND, " snprobe scan");
    sn_stats_set_text(st, SN_STATS_VERSION, "@SUM(1)");
    char dir[] = "/tmp/sn_stats_q_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char csvp[64];
    snprintf(csvp, sizeof csvp, "%s/s.csv", dir);
    sn_error_t err;
    assert_int_equal(sn_stats_write_summary(st, csvp, SN_OUTPUT_CSV, &err), SN_OK);
    const char *c = slurp(csvp);
    assert_non_null(strstr(c, "\nmeta.where,\"'=HYPERLINK(\"\"x\"\"),1\",\n"));
    assert_non_null(strstr(c, "\nmeta.command,\" snprobe scan\",\n"));
    assert_non_null(strstr(c, "\nmeta.version,\"'@SUM(1)\",\n"));
    assert_non_null(strstr(c, "\ntargets,7,\n"));
    unlink(csvp);
    rmdir(dir);
    sn_stats_free(st);
}

static void test_summary_to_unwritable_path_names_it(void **state)
{
    (void)state;
    sn_stats_t *st = feed(NULL, 0);
    sn_error_t err;
    assert_int_equal(sn_stats_write_summary(st, "/nonexistent/dir/s.csv", SN_OUTPUT_CSV, &err),
                     SN_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/s.csv"));
    sn_stats_free(st);
}

struct defs {
    char names[256][64];
    size_t n;
    bool ok;
};

static void collect_def(void *ud, const char *name, sn_stats_unit_t unit, const char *den,
                        const char *help)
{
    struct defs *d = ud;
    if (d->n == 256 || den == NULL || help == NULL || help[0] == '\0' ||
        (unit == SN_UNIT_SHARE && den[0] == '\0'))
        d->ok = false;
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->names[i], name) == 0)
            d->ok = false;
    if (d->n < 256)
        snprintf(d->names[d->n++], sizeof d->names[0], "%s", name);
}

static bool has_def(const struct defs *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->names[i], name) == 0)
            return true;
    return false;
}

static void test_definitions_list_every_metric_once(void **state)
{
    (void)state;
    static struct defs d;
    d.n = 0;
    d.ok = true;
    sn_stats_definitions(collect_def, &d);
    assert_true(d.ok);
    assert_true(d.n > 50);
    assert_true(has_def(&d, "edu.share"));
    assert_true(has_def(&d, "country.*.share"));
    assert_true(has_def(&d, "rtt.udp.*.p90_ms"));
    assert_true(has_def(&d, "seen.top10pct.share"));
    assert_true(has_def(&d, "udp_reply_other.share"));
    assert_true(has_def(&d, "observed.mapping"));
    assert_true(has_def(&d, "observed.local"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_file_records_digest_and_names_missing_file),
        cmocka_unit_test(test_empty_input_gives_zero_counts_and_unknown_shares),
        cmocka_unit_test(test_reachability_counts_and_classes_by_hand),
        cmocka_unit_test(test_incomplete_targets_are_counted_apart_and_in_no_denominator),
        cmocka_unit_test(test_nothing_probed_counts_who_over_all_targets),
        cmocka_unit_test(test_all_unknown_enrichment_counts_as_unknown),
        cmocka_unit_test(test_academic_share_split_by_signal),
        cmocka_unit_test(test_country_continent_and_dynamic_splits),
        cmocka_unit_test(test_as_top_list_breaks_ties_by_number_and_hhi_by_hand),
        cmocka_unit_test(test_ports_distinct_top_share_and_33033),
        cmocka_unit_test(test_port_33033_reported_when_absent),
        cmocka_unit_test(test_seen_concentration_top_k_and_gini_by_hand),
        cmocka_unit_test(test_seen_equal_counts_give_gini_zero_and_top_k_by_count),
        cmocka_unit_test(test_no_observations_give_zero_counts_and_unknown_top_local_mapping),
        cmocka_unit_test(test_one_skype_observation_has_no_port_so_mapping_unknown),
        cmocka_unit_test(test_same_ip_and_port_from_every_node_is_endpoint_independent),
        cmocka_unit_test(test_different_ports_make_the_mapping_vary),
        cmocka_unit_test(test_skype_only_observations_tie_goes_to_the_lower_address),
        cmocka_unit_test(test_many_distinct_ports_are_counted_exactly),
        cmocka_unit_test(test_loopback_observation_is_local_in_scan_mode),
        cmocka_unit_test(test_read_back_leaves_observed_local_unknown),
        cmocka_unit_test(test_reply_from_counts_only_nodes_that_answered_udp),
        cmocka_unit_test(test_discovery_from_target_set_in_input_order),
        cmocka_unit_test(test_discovery_read_back_orders_labels_by_sources),
        cmocka_unit_test(test_discovery_read_back_cycle_falls_back_to_first_appearance),
        cmocka_unit_test(test_read_back_vantage_first_one_wins_and_mixed_is_flagged),
        cmocka_unit_test(test_rtt_quantiles_exact_for_small_values),
        cmocka_unit_test(test_rtt_quantiles_within_bounded_error_for_large_values),
        cmocka_unit_test(test_every_denominator_names_a_row),
        cmocka_unit_test(test_chao1_by_hand),
        cmocka_unit_test(test_chao1_from_seen_counts_beside_distinct_targets),
        cmocka_unit_test(test_edu_institutions_by_registrable_domain_then_as_org),
        cmocka_unit_test(test_summary_csv_and_ndjson_rows),
        cmocka_unit_test(test_summary_csv_neutralises_and_quotes_text_cells),
        cmocka_unit_test(test_summary_to_unwritable_path_names_it),
        cmocka_unit_test(test_definitions_list_every_metric_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
