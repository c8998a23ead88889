/*
 * Tests for data/classify.c: the bootstrap nodes' 2004 names get the verdicts
 * a person would give them; each rule of the table decides where it should
 * and says so; keywords match tokens, not substrings; the address is found in
 * every common written form; academic names follow the Public Suffix List and
 * not its look-alikes; AS organisation names are a second signal; hostile
 * bytes are handled; and a labelled corpus of ISP naming schemes
 * (tests/fixtures/classify/names.csv) is classified at 95% or better.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libpsl.h>

#include "data/classify.h"

static sn_addr_t ip(const char *s)
{
    sn_addr_t a;
    if (sn_addr_parse_ip(s, strlen(s), &a) != SN_OK)
        fail_msg("test address \"%s\" rejected", s);
    return a;
}

static int setup(void **state)
{
    *state = sn_classify_new();
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    sn_classify_free(*state);
    return 0;
}

typedef struct dyn_case {
    const char *name;
    const char *addr; /* NULL: not given */
    sn_dyn_t dyn;
    const char *rule;
    bool addr_in_name;
} dyn_case_t;

static void run_dyn_cases(const dyn_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const dyn_case_t *c = &cases[i];
        sn_addr_t a;
        if (c->addr != NULL)
            a = ip(c->addr);
        const char *rule = NULL;
        sn_dyn_t d = sn_classify_dyn(c->name, c->addr ? &a : NULL, &rule);
        bool in = sn_classify_name_has_addr(c->name, c->addr ? &a : NULL);
        if (d != c->dyn || rule == NULL || strcmp(rule, c->rule) != 0 || in != c->addr_in_name)
            fail_msg("%s: got %s/%s/%d, want %s/%s/%d", c->name ? c->name : "(null)", sn_dyn_str(d),
                     rule ? rule : "(null)", in, sn_dyn_str(c->dyn), c->rule, c->addr_in_name);
    }
}

static void test_classify_bootstrap_names_of_2004(void **state)
{
    (void)state;
    static const dyn_case_t cases[] = {
        {"0x50a15b19.boanxx15.adsl-dhcp.tele.dk", "80.161.91.25", SN_DYN_DYNAMIC, "dynamic-keyword",
         true},
        {"rs-64-246-49-60.ev1.net", "64.246.49.60", SN_DYN_STATIC, "hosting-domain", true},
        {"ev1s-64-246-48-23.ev1servers.net", "64.246.48.23", SN_DYN_STATIC, "hosting-domain", true},
        {"sss1.skype.net", NULL, SN_DYN_STATIC, "plain-name", false},
    };
    run_dyn_cases(cases, sizeof cases / sizeof cases[0]);

    /* Without their hosting domains, the ev1 names still are servers or pools by rule. */
    static const dyn_case_t bare[] = {
        {"ev1s-64-246-48-23.example-servers.net", "64.246.48.23", SN_DYN_STATIC, "server-keyword",
         true},
        {"rs-64-246-49-60.example.net", "64.246.49.60", SN_DYN_DYNAMIC, "embedded-address", true},
        {"0x50a15b19.example.dk", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"0x50a15b19.example.dk", NULL, SN_DYN_DYNAMIC, "address-pattern", false},
    };
    run_dyn_cases(bare, sizeof bare / sizeof bare[0]);
}

static void test_classify_each_rule_decides_in_table_order(void **state)
{
    (void)state;
    static const dyn_case_t cases[] = {
        {NULL, NULL, SN_DYN_UNKNOWN, "no-ptr", false},
        {"", NULL, SN_DYN_UNKNOWN, "no-ptr", false},
        {".", NULL, SN_DYN_UNKNOWN, "no-ptr", false},
        {"unassigned.example.net", NULL, SN_DYN_UNKNOWN, "placeholder", false},
        {"unknown-1-2-3-4.example.net", "1.2.3.4", SN_DYN_UNKNOWN, "placeholder", true},
        /* "static" outranks the access word next to it, "dynamic" outranks "server". */
        {"static-dsl-1-2-3-4.example.net", "1.2.3.4", SN_DYN_STATIC, "static-keyword", true},
        {"dynamic-server-9.example.net", NULL, SN_DYN_DYNAMIC, "dynamic-keyword", false},
        {"ec2-54-1-2-3.compute-1.amazonaws.com", "54.1.2.3", SN_DYN_STATIC, "hosting-domain", true},
        {"colo-12.example.net", NULL, SN_DYN_STATIC, "server-keyword", false},
        {"mx2.example.org", NULL, SN_DYN_STATIC, "service-name", false},
        {"mail-out-1-2-3-4.example.org", "1.2.3.4", SN_DYN_STATIC, "service-name", true},
        {"rrcs-24-123-45-67.nys.biz.rr.com", "24.123.45.67", SN_DYN_STATIC, "business-keyword",
         true},
        {"173-160-12-34-illinois.hfc.comcastbusiness.net", "173.160.12.34", SN_DYN_STATIC,
         "business-domain", true},
        {"cpe-74-66-123-45.nyc.res.rr.com", "74.66.123.45", SN_DYN_DYNAMIC, "access-keyword", true},
        {"mobile-3g.example.net", NULL, SN_DYN_DYNAMIC, "access-keyword", false},
        {"host-74-66-123-45.example.net", "74.66.123.45", SN_DYN_DYNAMIC, "embedded-address", true},
        {"s0106001a2b3c4d5e.vc.shawcable.net", "24.80.12.34", SN_DYN_DYNAMIC, "mac-in-name", false},
        {"1-2-3-4.example.net", NULL, SN_DYN_DYNAMIC, "address-pattern", false},
        /* Another address than the one looked up is still an address (a PTR kept from an
         * older assignment); a first label of numbers only is a generated name. */
        {"10-20-30-40.example.net", "5.6.7.8", SN_DYN_DYNAMIC, "other-address", false},
        {"1-2-3-4.example.net", "5.6.7.8", SN_DYN_DYNAMIC, "numeric-label", false},
        {"tce-e-7-182-54.example.net", NULL, SN_DYN_DYNAMIC, "partial-address", false},
        {"usr-157-050.dr.example.net", "24.226.157.50", SN_DYN_DYNAMIC, "partial-address", false},
        {"a151145.upc-a.example.nl", NULL, SN_DYN_DYNAMIC, "counter-template", false},
        {"mbcdhcp38.example.com", NULL, SN_DYN_DYNAMIC, "access-in-token", false},
        {"rousalka.dyndns.org", NULL, SN_DYN_DYNAMIC, "dynamic-dns-domain", false},
        /* Static markers outrank every dynamic sign, "fix" included. */
        {"fix-80-161-91-25.example.net", "80.161.91.25", SN_DYN_STATIC, "static-keyword", true},
        /* Small numbers are how people number servers; a registrant's own name is no token. */
        {"web12.example.com", NULL, SN_DYN_STATIC, "service-name", false},
        {"firewater.pppppp.co.nz", NULL, SN_DYN_STATIC, "plain-name", false},
        {"xe-0-1-0-0.cr1.example.net", "192.0.2.1", SN_DYN_STATIC, "plain-name", false},
        {"www", NULL, SN_DYN_STATIC, "plain-name", false},
    };
    run_dyn_cases(cases, sizeof cases / sizeof cases[0]);
    assert_string_equal(sn_dyn_str(SN_DYN_UNKNOWN), "unknown");
    assert_string_equal(sn_dyn_str(SN_DYN_DYNAMIC), "dynamic");
    assert_string_equal(sn_dyn_str(SN_DYN_STATIC), "static");
}

static void test_classify_keywords_match_tokens_not_substrings(void **state)
{
    (void)state;
    static const dyn_case_t cases[] = {
        {"resolver1.opendns.com", NULL, SN_DYN_STATIC, "plain-name", false},
        {"address.example.net", NULL, SN_DYN_STATIC, "plain-name", false},
        {"dynamo.example.org", NULL, SN_DYN_STATIC, "plain-name", false},
        {"poolside.example.org", NULL, SN_DYN_STATIC, "plain-name", false},
        {"cablevision-hq.example.com", NULL, SN_DYN_STATIC, "plain-name", false},
        {"residence.example.com", NULL, SN_DYN_STATIC, "plain-name", false},
        {"customs.example.gov", NULL, SN_DYN_STATIC, "plain-name", false},
        {"mailbox-dsl.example.net", NULL, SN_DYN_DYNAMIC, "access-keyword", false},
        /* Digit boundaries split tokens: "dsl2" is "dsl", "ppp121" is "ppp". */
        {"dsl2.example.net", NULL, SN_DYN_DYNAMIC, "access-keyword", false},
        {"ppp121-44-12-34.lns20.example.net", NULL, SN_DYN_DYNAMIC, "access-keyword", false},
        {"RES.Example.NET", NULL, SN_DYN_DYNAMIC, "access-keyword", false},
        /* The top-level label is a country, not a keyword: .bb Barbados, .cm Cameroon. */
        {"portal.gov.bb", NULL, SN_DYN_STATIC, "plain-name", false},
        {"portal.example.cm", NULL, SN_DYN_STATIC, "plain-name", false},
        /* "lb" first is a load balancer; inside the name it is as often a region (Limburg). */
        {"lb1.example.net", NULL, SN_DYN_STATIC, "service-name", false},
        {"cp341468-b.venra1.lb.example.nl", NULL, SN_DYN_DYNAMIC, "counter-template", false},
        {"home", NULL, SN_DYN_DYNAMIC, "access-keyword", false},
    };
    run_dyn_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_classify_finds_the_address_in_every_common_form(void **state)
{
    (void)state;
    /* 80.161.91.25 = 0x50a15b19 = 1352751897 */
    static const dyn_case_t cases[] = {
        {"80.161.91.25.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"x-80-161-91-25.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"x_80_161_91_25.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"25.91.161.80.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"h25-91-161-80.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"a080161091025.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"a801619125.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"n1352751897.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"0x50a15b19.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"P50A15B19.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        /* reversed and run together: padded, and in hex (25.91.161.80 = 0x195ba150) */
        {"h025091161080.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        {"x195ba150.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "embedded-address", true},
        /* split across labels: "modemcable090.28-201-24" for 24.201.28.90 */
        {"modemcable090.28-201-24.mc.example.ca", "24.201.28.90", SN_DYN_DYNAMIC, "access-in-token",
         true},
        {"h090.28-201-24.mc.example.ca", "24.201.28.90", SN_DYN_DYNAMIC, "embedded-address", true},
        {"34.red-161-91-25.example.net", "161.91.25.34", SN_DYN_DYNAMIC, "embedded-address", true},
        {"x-80-161-91-25.example.net", "::ffff:80.161.91.25", SN_DYN_DYNAMIC, "embedded-address",
         true},
        {"x-2001-db8-0-1-2-3-4-5.example.net", "2001:db8:0:1:2:3:4:5", SN_DYN_DYNAMIC,
         "embedded-address", true},
        {"x-20010db8000000010002000300040005.example.net", "2001:db8:0:1:2:3:4:5", SN_DYN_DYNAMIC,
         "embedded-address", true},
        /* Near misses are not the address. */
        {"x-80-161-92-25.example.net", "80.161.91.25", SN_DYN_DYNAMIC, "other-address", false},
        {"x-0-0-1.example.net", "10.0.0.1", SN_DYN_STATIC, "plain-name", false},
        {"x-2001-db8-0-2.example.net", "2001:db8:0:1:2:3:4:5", SN_DYN_STATIC, "plain-name", false},
        {"0x50a15b1a.example.net", "80.161.91.25", SN_DYN_STATIC, "plain-name", false},
    };
    run_dyn_cases(cases, sizeof cases / sizeof cases[0]);
    assert_false(sn_classify_name_has_addr("80.161.91.25.example.net", NULL));
}

static void test_classify_hostile_bytes_are_unknown_and_safe(void **state)
{
    sn_classify_t *cls = *state;
    char longname[400];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    for (size_t i = 60; i < sizeof longname - 1; i += 61)
        longname[i] = '.';
    char label64[80];
    memset(label64, 'b', 64);
    strcpy(label64 + 64, ".example.net");
    const char *bad[] = {
        "dsl 1.example.net",
        "dsl\x01.example.net",
        "dsl/1.example.net",
        "dsl\xc3\xa9.example.net",
        "..example.net",
        "dsl..example.net",
        ".dsl.example.net",
        "dsl.example.net..",
        "dsl\".example.net",
        "\xff\xfe\xfd",
        longname,
        label64,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sn_class_info_t o;
        sn_classify(cls, bad[i], NULL, NULL, &o);
        if (o.dyn != SN_DYN_UNKNOWN || strcmp(o.dyn_rule, "invalid-name") != 0 || o.edu)
            fail_msg("case %zu: got %s/%s", i, sn_dyn_str(o.dyn), o.dyn_rule);
    }

    /* Random bytes and random host-name alphabet: always a verdict and a rule. */
    uint64_t x = 0x853C49E6748FEA9BULL;
    static const char alphabet[] = "abcdefxyz0123456789-._";
    for (int round = 0; round < 20000; round++) {
        char buf[300];
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t n = (size_t)(x % (sizeof buf - 1));
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (round & 1) ? (char)(x % 255 + 1) : alphabet[x % (sizeof alphabet - 1)];
        }
        buf[n] = '\0';
        sn_addr_t a;
        sn_addr_set_v4(&a, (uint32_t)x, 0);
        sn_class_info_t o;
        sn_classify(cls, buf, (round & 2) ? &a : NULL, buf, &o);
        assert_true(o.dyn == SN_DYN_UNKNOWN || o.dyn == SN_DYN_DYNAMIC || o.dyn == SN_DYN_STATIC);
        assert_non_null(o.dyn_rule);
        assert_non_null(o.edu_source);
    }
}

typedef struct edu_case {
    const char *name;
    bool edu;
} edu_case_t;

static void test_classify_edu_by_public_suffix(void **state)
{
    sn_classify_t *cls = *state;
    if (!sn_classify_has_psl(cls)) {
        print_message("no Public Suffix List: skipping\n");
        skip();
    }
    static const edu_case_t cases[] = {
        {"www.mit.edu", true},
        {"dhcp-18-111-12-34.dyn.mit.edu.", true},
        {"cs.ucl.ac.uk", true},
        {"mail.tsinghua.edu.cn", true},
        {"ns.kyoto-u.ac.jp", true},
        {"www.unimelb.edu.au", true},
        {"www.kaist.ac.kr", true},
        {"www.ntu.edu.tw", true},
        {"www.huji.ac.il", true},
        {"www.auckland.ac.nz", true},
        {"www.uct.ac.za", true},
        {"WWW.OX.AC.UK", true},
        /* Look-alikes. */
        {"www.foo.ac", false}, /* Ascension Island */
        {"nic.ac", false},
        {"learn.education", false}, /* a generic TLD */
        {"edu.example.com", false},
        {"x.edu.example.org", false},
        {"myedu.com", false},
        {"www.uni-heidelberg.de", false}, /* academic, but the name cannot say so */
        {"foo.academy", false},
        {"edu", false},
        {"ac.uk", false},
        {"edu.cn", false},
        {"www.example.co.uk", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (sn_classify_edu_name(cls, cases[i].name) != cases[i].edu)
            fail_msg("%s: want %s", cases[i].name, cases[i].edu ? "edu" : "not edu");
    }
    assert_false(sn_classify_edu_name(cls, NULL));
}

static void test_classify_edu_shape_rules_without_suffix_list(void **state)
{
    (void)state;
    static const edu_case_t cases[] = {
        {"www.mit.edu", true},
        {"cs.ucl.ac.uk", true},
        {"mail.tsinghua.edu.cn", true},
        {"www.foo.ac", false},
        {"learn.education", false},
        {"edu.example.com", false},
        {"ac.uk", false},
        {"edu", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (sn_classify_edu_name(NULL, cases[i].name) != cases[i].edu)
            fail_msg("%s: want %s", cases[i].name, cases[i].edu ? "edu" : "not edu");
    }
}

static void test_classify_edu_by_as_organisation(void **state)
{
    (void)state;
    static const edu_case_t cases[] = {
        {"Massachusetts Institute of Technology", true},
        {"Universitaet Stuttgart", true},
        {"Universit\xc3\xa4t Wien", true},
        {"Universit\xc3\xa9 de Montr\xc3\xa9"
         "al",
         true},
        {"UNIVERSIDAD NACIONAL AUTONOMA DE MEXICO", true},
        {"Jisc Services Limited", true},
        {"China Education and Research Network Center", true},
        {"Verein zur Foerderung eines Deutschen Forschungsnetzes e.V.", true},
        {"Imperial College London", true},
        {"SURFnet bv", true},
        {"Korea Research Environment Open NETwork (KREONET)", true},
        {"Comcast Cable Communications, LLC", false},
        {"Universal Music Group", false},
        {"Deutsche Telekom AG", false},
        {"Institute of Physics Ltd", false},
        {"Technology Institute Holdings", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (sn_classify_edu_org(cases[i].name) != cases[i].edu)
            fail_msg("\"%s\": want %s", cases[i].name, cases[i].edu ? "edu" : "not edu");
    }
    assert_false(sn_classify_edu_org(NULL));
}

static void test_classify_records_which_signal_made_edu(void **state)
{
    sn_classify_t *cls = *state;
    sn_class_info_t o;
    sn_addr_t a = ip("18.111.12.34");
    sn_classify(cls, "dhcp-18-111-12-34.dyn.mit.edu", &a, "Massachusetts Institute of Technology",
                &o);
    assert_true(o.edu);
    assert_string_equal(o.edu_source, "ptr");
    assert_int_equal(o.dyn, SN_DYN_DYNAMIC);
    assert_string_equal(o.dyn_rule, "dynamic-keyword");
    assert_true(o.addr_in_name);

    sn_classify(cls, NULL, &a, "Massachusetts Institute of Technology", &o);
    assert_true(o.edu);
    assert_string_equal(o.edu_source, "as_org");
    assert_int_equal(o.dyn, SN_DYN_UNKNOWN);
    assert_string_equal(o.dyn_rule, "no-ptr");
    assert_false(o.addr_in_name);

    sn_classify(cls, "c-73-162-45-10.hsd1.ca.comcast.net", NULL, "Comcast Cable", &o);
    assert_false(o.edu);
    assert_string_equal(o.edu_source, "");

    sn_classify(NULL, "www.mit.edu", NULL, NULL, &o);
    assert_true(o.edu);
    sn_classify(cls, "www.mit.edu", NULL, NULL, NULL);
}

static void test_classify_cluster_makes_a_pool_of_one_template_with_varying_counters(void **state)
{
    (void)state;
    sn_cluster_t *cl = sn_cluster_new();
    assert_non_null(cl);
    sn_class_info_t o;
    /* Names the rules alone call plain: the third distinct counter makes a pool. */
    const char *names[] = {"p573.as1.exs.dublin.example.net", "p574.as1.exs.dublin.example.net",
                           "p573.as1.exs.dublin.example.net", "p1012.as1.exs.dublin.example.net",
                           "p208.as1.exs.dublin.example.net"};
    const bool want[] = {false, false, false, true, true};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        sn_classify(NULL, names[i], NULL, NULL, &o);
        assert_string_equal(o.dyn_rule, "plain-name");
        sn_cluster_apply(cl, names[i], &o);
        assert_int_equal(o.dyn, want[i] ? SN_DYN_DYNAMIC : SN_DYN_STATIC);
        assert_string_equal(o.dyn_rule, want[i] ? "template-cluster" : "plain-name");
    }
    /* Servers numbered in ones and tens are never a pool, however many. */
    assert_false(sn_cluster_observe(cl, "sj-core-2.example.com"));
    assert_false(sn_cluster_observe(cl, "sj-core-4.example.com"));
    assert_false(sn_cluster_observe(cl, "sj-core-5.example.com"));
    assert_false(sn_cluster_observe(cl, "sj-core-17.example.com"));
    /* Another domain, or another shape, is another template. */
    assert_false(sn_cluster_observe(cl, "p13.as1.exs.dublin.example.org"));
    assert_false(sn_cluster_observe(cl, "p13-a.as1.exs.dublin.example.net"));
    /* The counter must be in the first label; counters elsewhere do not vary hosts. */
    assert_false(sn_cluster_observe(cl, "web.pop1.example.net"));
    assert_false(sn_cluster_observe(cl, "web.pop2.example.net"));
    assert_false(sn_cluster_observe(cl, "web.pop3.example.net"));
    /* A static marker is never overridden by the cluster. */
    sn_classify(NULL, "mail1.as1.example.net", NULL, NULL, &o);
    for (int i = 102; i < 106; i++) {
        char name[64];
        snprintf(name, sizeof name, "mail%d.as1.example.net", i);
        (void)sn_cluster_observe(cl, name);
    }
    sn_cluster_apply(cl, "mail1.as1.example.net", &o);
    assert_int_equal(o.dyn, SN_DYN_STATIC);
    assert_string_equal(o.dyn_rule, "service-name");
    /* Garbage and NULL are not recorded. */
    assert_false(sn_cluster_observe(cl, NULL));
    assert_false(sn_cluster_observe(cl, "bad name!.example.net"));
    sn_cluster_apply(NULL, "p1.example.net", &o);
    sn_cluster_apply(cl, "p1.example.net", NULL);
    sn_cluster_free(cl);
    sn_cluster_free(NULL);
}

static void test_classify_cluster_table_grows_with_templates(void **state)
{
    (void)state;
    sn_cluster_t *cl = sn_cluster_new();
    assert_non_null(cl);
    /* 500 templates of 3 counters each: every one becomes a pool on its third. */
    for (int t = 0; t < 500; t++) {
        for (int c = 0; c < 3; c++) {
            char name[64];
            snprintf(name, sizeof name, "h%d.t%c%c.example.net", 100 + c, 'a' + t % 26,
                     'a' + t / 26);
            assert_int_equal(sn_cluster_observe(cl, name), c == 2);
        }
    }
    sn_cluster_free(cl);
}

/* ---- the labelled corpus ------------------------------------------------- */

typedef struct corpus {
    const sn_classify_t *cls;
    char field[4][512];
    size_t col;
    unsigned long rows, right;
    bool header_seen;
} corpus_t;

static void corpus_field(void *s, size_t len, void *data)
{
    corpus_t *c = data;
    if (c->col < 4) {
        size_t n = len < sizeof c->field[0] - 1 ? len : sizeof c->field[0] - 1;
        memcpy(c->field[c->col], s, n);
        c->field[c->col][n] = '\0';
    }
    c->col++;
}

static void corpus_row(int ch, void *data)
{
    (void)ch;
    corpus_t *c = data;
    size_t cols = c->col;
    c->col = 0;
    if (!c->header_seen) {
        c->header_seen = true;
        return;
    }
    if (cols != 4)
        fail_msg("names.csv row %lu: %zu columns", c->rows + 2, cols);
    sn_addr_t a;
    bool have = c->field[1][0] != '\0';
    if (have)
        a = ip(c->field[1]);
    sn_class_info_t o;
    sn_classify(c->cls, c->field[0], have ? &a : NULL, NULL, &o);
    c->rows++;
    if (strcmp(sn_dyn_str(o.dyn), c->field[2]) == 0)
        c->right++;
    else
        print_message("  miss: %s is %s (%s), classified %s by %s\n", c->field[0], c->field[2],
                      c->field[3], sn_dyn_str(o.dyn), o.dyn_rule);
}

static void test_classify_corpus_accuracy_at_least_95_percent(void **state)
{
    corpus_t c;
    memset(&c, 0, sizeof c);
    c.cls = *state;
    const char *dir = getenv("SN_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/classify/names.csv",
             dir ? dir : SN_DATA_DIR "/../tests/fixtures");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    struct csv_parser p;
    assert_int_equal(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI), 0);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        assert_int_equal(csv_parse(&p, buf, n, corpus_field, corpus_row, &c), n);
    assert_int_equal(csv_fini(&p, corpus_field, corpus_row, &c), 0);
    csv_free(&p);
    fclose(f);

    double acc = c.rows ? (double)c.right / (double)c.rows : 0.0;
    print_message("corpus: %lu of %lu names right, accuracy %.1f%%\n", c.right, c.rows,
                  100.0 * acc);
    assert_true(c.rows >= 150);
    assert_true(acc >= 0.95);
}

/* ---- the public corpus, split by registered domain ------------------------ */

/*
 * tests/fixtures/classify/public.csv holds names taken from public anti-spam
 * rule sets and test mail (sources in the fixture's README), labelled from the
 * providers' published naming. It is split mechanically, before any rule was
 * written against it: a name belongs to the held-out part when the FNV-1a
 * hash of its registrable domain (libpsl) is 0 modulo 3, so that no provider
 * is in both parts. Only the development part's misses are printed unless
 * SN_CLASSIFY_SHOW_HELDOUT is set.
 */
typedef struct pub_corpus {
    const sn_classify_t *cls;
    const psl_ctx_t *psl;
    char field[4][512];
    size_t col;
    bool header_seen, show_heldout;
    unsigned long rows[2], right[2]; /* [0] development, [1] held out */
    unsigned long statics, static_as_dynamic;
    /* the same names read as one scan, with template clustering */
    sn_cluster_t *cluster;
    unsigned long right_cl[2], static_as_dynamic_cl;
} pub_corpus_t;

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 16777619u;
    }
    return h;
}

/* 1 when the name's registrable domain falls in the held-out third. */
static int corpus_part(const psl_ctx_t *psl, const char *name)
{
    char low[256];
    size_t n = strnlen(name, sizeof low - 1);
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    low[n] = '\0';
    const char *reg = psl ? psl_registrable_domain(psl, low) : NULL;
    return fnv1a(reg ? reg : low) % 3 == 0;
}

static void pub_field(void *s, size_t len, void *data)
{
    pub_corpus_t *c = data;
    if (c->col < 4) {
        size_t n = len < sizeof c->field[0] - 1 ? len : sizeof c->field[0] - 1;
        memcpy(c->field[c->col], s, n);
        c->field[c->col][n] = '\0';
    }
    c->col++;
}

static void pub_row(int ch, void *data)
{
    (void)ch;
    pub_corpus_t *c = data;
    size_t cols = c->col;
    c->col = 0;
    if (!c->header_seen) {
        c->header_seen = true;
        return;
    }
    if (cols != 4)
        fail_msg("public.csv row %lu: %zu columns", c->rows[0] + c->rows[1] + 2, cols);
    sn_addr_t a;
    bool have = c->field[1][0] != '\0';
    if (have)
        a = ip(c->field[1]);
    sn_class_info_t o;
    sn_classify(c->cls, c->field[0], have ? &a : NULL, NULL, &o);
    int part = corpus_part(c->psl, c->field[0]);
    c->rows[part]++;
    bool ok = strcmp(sn_dyn_str(o.dyn), c->field[2]) == 0;
    if (ok)
        c->right[part]++;
    else if (part == 0 || c->show_heldout)
        print_message("  miss (%s): %s is %s, classified %s by %s\n", part ? "held-out" : "dev",
                      c->field[0], c->field[2], sn_dyn_str(o.dyn), o.dyn_rule);
    bool is_static = strcmp(c->field[2], "static") == 0;
    if (is_static) {
        c->statics++;
        if (o.dyn == SN_DYN_DYNAMIC)
            c->static_as_dynamic++;
    }
    sn_cluster_apply(c->cluster, c->field[0], &o);
    c->right_cl[part] += strcmp(sn_dyn_str(o.dyn), c->field[2]) == 0;
    c->static_as_dynamic_cl += is_static && o.dyn == SN_DYN_DYNAMIC;
}

static void test_classify_public_corpus_meets_its_floors(void **state)
{
    pub_corpus_t c;
    memset(&c, 0, sizeof c);
    c.cls = *state;
    c.psl = psl_builtin();
    c.show_heldout = getenv("SN_CLASSIFY_SHOW_HELDOUT") != NULL;
    c.cluster = sn_cluster_new();
    assert_non_null(c.cluster);
    const char *dir = getenv("SN_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/classify/public.csv",
             dir ? dir : SN_DATA_DIR "/../tests/fixtures");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    struct csv_parser p;
    assert_int_equal(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI), 0);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        assert_int_equal(csv_parse(&p, buf, n, pub_field, pub_row, &c), n);
    assert_int_equal(csv_fini(&p, pub_field, pub_row, &c), 0);
    csv_free(&p);
    fclose(f);

    double dev = c.rows[0] ? (double)c.right[0] / (double)c.rows[0] : 0.0;
    double held = c.rows[1] ? (double)c.right[1] / (double)c.rows[1] : 0.0;
    double sd = c.statics ? (double)c.static_as_dynamic / (double)c.statics : 1.0;
    print_message("public corpus: development %lu/%lu (%.1f%%), held out %lu/%lu (%.1f%%), "
                  "static called dynamic %lu/%lu (%.1f%%)\n",
                  c.right[0], c.rows[0], 100.0 * dev, c.right[1], c.rows[1], 100.0 * held,
                  c.static_as_dynamic, c.statics, 100.0 * sd);
    print_message("public corpus as one scan, with template clustering: development %.1f%%, "
                  "held out %.1f%%, static called dynamic %lu\n",
                  100.0 * (double)c.right_cl[0] / (double)(c.rows[0] ? c.rows[0] : 1),
                  100.0 * (double)c.right_cl[1] / (double)(c.rows[1] ? c.rows[1] : 1),
                  c.static_as_dynamic_cl);
    sn_cluster_free(c.cluster);
    assert_true(c.rows[0] >= 100 && c.rows[1] >= 50);
    /* Clustering may only add pools: it must not make static names dynamic beyond the bound. */
    assert_true((double)c.static_as_dynamic_cl <= 0.05 * (double)c.statics);
    /* Floors a little under the figures measured when the held-out part was first
     * read (development 96.4%, held out 89.7%, static called dynamic 1.1%): the
     * held-out part was not tuned on afterwards, so its floor is not raised to 90%. */
    assert_true(dev >= 0.95);
    assert_true(held >= 0.85);
    assert_true(sd <= 0.05);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_bootstrap_names_of_2004),
        cmocka_unit_test(test_classify_each_rule_decides_in_table_order),
        cmocka_unit_test(test_classify_keywords_match_tokens_not_substrings),
        cmocka_unit_test(test_classify_finds_the_address_in_every_common_form),
        cmocka_unit_test(test_classify_hostile_bytes_are_unknown_and_safe),
        cmocka_unit_test(test_classify_edu_by_public_suffix),
        cmocka_unit_test(test_classify_edu_shape_rules_without_suffix_list),
        cmocka_unit_test(test_classify_edu_by_as_organisation),
        cmocka_unit_test(test_classify_records_which_signal_made_edu),
        cmocka_unit_test(test_classify_cluster_makes_a_pool_of_one_template_with_varying_counters),
        cmocka_unit_test(test_classify_cluster_table_grows_with_templates),
        cmocka_unit_test(test_classify_corpus_accuracy_at_least_95_percent),
        cmocka_unit_test(test_classify_public_corpus_meets_its_floors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
