/*
 * Host-cache reader tests: both shapes of config/Lib/Connection/HostCache
 * (the `<_N>ip:port[,flags]</_N>` children of Skype 1.x/2.x and the hex blob
 * of 3.x and later), the blob decoder on its own (blobs are built here by a
 * small encoder, then cut, stretched and corrupted), and hostile XML: entity
 * bombs, external entities, deep nesting, a HostCache at the wrong path.
 * With SN_SHARED set, the real caches under testdata/hostcache are read too.
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

/* --- a blob encoder ------------------------------------------------------ */

typedef struct blob {
    uint8_t b[8192];
    size_t n;
} blob_t;

static void put(blob_t *o, uint8_t v)
{
    assert_true(o->n < sizeof o->b);
    o->b[o->n++] = v;
}

static void put_leb(blob_t *o, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        put(o, byte | (v != 0 ? 0x80 : 0));
    } while (v != 0);
}

static void put_obj(blob_t *o, uint64_t count)
{
    put(o, 0x41);
    put_leb(o, count);
}

static void put_int(blob_t *o, uint64_t id, uint64_t v)
{
    put(o, 0);
    put_leb(o, id);
    put_leb(o, v);
}

static void put_ip(blob_t *o, uint64_t id, uint32_t ip, uint16_t port)
{
    put(o, 2);
    put_leb(o, id);
    put(o, ip >> 24);
    put(o, ip >> 16);
    put(o, ip >> 8);
    put(o, ip);
    put(o, port >> 8);
    put(o, port);
}

/* One entry as Skype 7 writes it: address, small integer, two times, zero. */
static void put_entry(blob_t *o, uint32_t ip, uint16_t port, uint64_t small, uint64_t t1,
                      uint64_t t2)
{
    put(o, 5);
    put_leb(o, 0);
    put_obj(o, 5);
    put_ip(o, 0, ip, port);
    put_int(o, 1, small);
    put_int(o, 2, t1);
    put_int(o, 3, t2);
    put_int(o, 4, 0);
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* The 3-entry blob most tests start from. */
static void three_entries(blob_t *o)
{
    memset(o, 0, sizeof *o);
    put_obj(o, 3);
    put_entry(o, IP(192, 0, 2, 1), 40007, 2, 1493987178, 1493988979);
    put_entry(o, IP(198, 51, 100, 7), 33033, 4, 1493983579, 1493983579);
    put_entry(o, IP(203, 0, 113, 9), 443, 4, 1493988000, 1493974000); /* times swapped */
}

/* Hex text of a blob, upper case as Skype writes it. Caller frees. */
static char *hex(const blob_t *o)
{
    char *s = malloc(o->n * 2 + 1);
    assert_non_null(s);
    for (size_t i = 0; i < o->n; i++)
        sprintf(s + 2 * i, "%02X", o->b[i]);
    s[o->n * 2] = '\0';
    return s;
}

/* --- decoder callback ---------------------------------------------------- */

typedef struct got {
    unsigned n;
    unsigned index[300];
    sn_addr_t addr[300];
    sn_listing_t l[300];
    char flags[300][24];
    unsigned stop_at; /* return SN_EINVAL at this entry if nonzero */
} got_t;

static sn_status_t collect(void *ud, unsigned index, const sn_addr_t *addr,
                           const sn_listing_t *listing)
{
    got_t *g = ud;
    if (g->stop_at != 0 && g->n + 1 == g->stop_at)
        return SN_EINVAL;
    assert_true(g->n < 300);
    g->index[g->n] = index;
    g->addr[g->n] = *addr;
    g->l[g->n] = *listing;
    snprintf(g->flags[g->n], sizeof g->flags[0], "%s",
             listing->flags != NULL ? listing->flags : "");
    g->l[g->n].flags = NULL;
    g->n++;
    return SN_OK;
}

/* --- XML helpers --------------------------------------------------------- */

static void read_xml(run_t *r, const char *name, const char *xml, bool strict)
{
    run_read(r, SN_INPUT_XML, name, xml, strlen(xml), strict);
}

/* Wraps body in the host-cache path. Caller frees. */
static char *shared_xml(const char *body)
{
    const char *head = "<?xml version=\"1.0\"?>\n<config version=\"1.0\">\n<Lib>\n<Connection>\n"
                       "<HostCache>";
    const char *tail = "</HostCache>\n</Connection>\n</Lib>\n</config>\n";
    size_t n = strlen(head) + strlen(body) + strlen(tail) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s%s", head, body, tail);
    return s;
}

/* --- the legacy shape ---------------------------------------------------- */

static void test_hostcache_legacy_entries_with_flags_and_blanks(void **state)
{
    (void)state;
    char *xml = shared_xml("\n  <_1>  80.160.91.12:33033,1 </_1>\n"
                           "  <_2>\n66.235.180.9:22112\n</_2>\n"
                           "  <_3>[2001:db8::7]:443,abc</_3>\n");
    run_t r;
    read_xml(&r, "shared.xml", xml, false);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 3);
    assert_int_equal(r.stats.bad, 0);
    const sn_target_t *t = find(r.ts, "80.160.91.12:33033");
    assert_non_null(t);
    assert_string_equal(sn_targets_flags(r.ts, t), "1");
    t = find(r.ts, "66.235.180.9:22112");
    assert_non_null(t);
    assert_null(sn_targets_flags(r.ts, t));
    t = find(r.ts, "[2001:db8::7]:443");
    assert_non_null(t);
    assert_string_equal(sn_targets_flags(r.ts, t), "abc");
    done(&r);
    free(xml);
}

/* Each bad child: its text and the reason the reader must give. */
static const struct {
    const char *child;
    const char *reason;
} legacy_bad[] = {
    {"<_1>010.0.0.1:80</_1>", "(\"010.0.0.1:80\")"},
    {"<_1>127.1:80</_1>", "(\"127.1:80\")"},
    {"<_1>1.2.3.4:0</_1>", "port out of range 1-65535 (\"1.2.3.4:0\")"},
    {"<_1>1.2.3.4:65536</_1>", "port out of range 1-65535 (\"1.2.3.4:65536\")"},
    {"<_1>1.2.3.4:80,</_1>", "empty flags after ','"},
    {"<_1>1.2.3.4:80,a b</_1>", "flags hold a blank"},
    {"<_1></_1>", "empty entry <_1>"},
    {"<_1><x/>1.2.3.4:80</_1>", "element inside <_1>"},
    {"<foo>1.2.3.4:80</foo>", "unexpected element <foo> in HostCache"},
};

static void test_hostcache_legacy_bad_entries_are_reported_with_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof legacy_bad / sizeof legacy_bad[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, "\n<_9>192.0.2.1:1</_9>\n%s\n", legacy_bad[i].child);
        char *xml = shared_xml(body);
        run_t r;
        read_xml(&r, "s.xml", xml, false);
        assert_int_equal(r.st, SN_OK);
        assert_int_equal(r.stats.entries, 1);
        assert_int_equal(r.stats.bad, 1);
        assert_int_equal(r.bad.n, 1);
        assert_string_equal(r.bad.where[0], "s.xml:7"); /* the child's line */
        if (strstr(r.bad.reason[0], legacy_bad[i].reason) == NULL)
            fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, r.bad.reason[0],
                     legacy_bad[i].reason);
        done(&r);

        read_xml(&r, "s.xml", xml, true);
        assert_int_equal(r.st, SN_EPARSE);
        assert_true(strncmp(r.err.msg, "s.xml:7: ", 9) == 0);
        assert_non_null(strstr(r.err.msg, legacy_bad[i].reason));
        done(&r);
        free(xml);
    }
}

/* A truncated host cache is one error for the file and gives no target, not the entries
 * that happened to come before the cut. */
static void test_hostcache_truncated_file_gives_no_target(void **state)
{
    (void)state;
    char *xml = shared_xml("<_1>80.160.91.12:33033</_1><_2>66.235.180.9:22112</_2>");
    char *cut = strstr(xml, "</HostCache>");
    assert_non_null(cut);
    *cut = '\0';
    for (int strict = 0; strict <= 1; strict++) {
        run_t r;
        read_xml(&r, "cut.xml", xml, strict != 0);
        assert_int_equal(r.st, SN_EPARSE);
        assert_non_null(strstr(r.err.msg, "cut.xml:"));
        assert_non_null(strstr(r.err.msg, "XML error"));
        assert_int_equal(sn_targets_count(r.ts), 0);
        assert_int_equal(r.stats.entries, 0);
        done(&r);
    }
    free(xml);
}

static void test_hostcache_overlong_entry_is_bad_not_truncated(void **state)
{
    (void)state;
    char body[1200] = "<_1>1.2.3.4:80,";
    memset(body + strlen(body), 'f', 600);
    strcat(body, "</_1>");
    char *xml = shared_xml(body);
    run_t r;
    read_xml(&r, "s.xml", xml, false);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 0);
    assert_int_equal(r.stats.bad, 1);
    assert_non_null(strstr(r.bad.reason[0], "longer than 256 bytes"));
    /* The quotation is cut to 24 bytes and marked. */
    assert_non_null(strstr(r.bad.reason[0], "(\"1.2.3.4:80,fffffffffffff...\")"));
    done(&r);
    free(xml);
}

/* --- the path rule ------------------------------------------------------- */

static void test_hostcache_elsewhere_is_ignored(void **state)
{
    (void)state;
    const char *xml = "<config><Lib><Other><HostCache><_1>192.0.2.1:80</_1></HostCache></Other>"
                      "<Connection><HostCache><_1>192.0.2.2:80</_1></HostCache></Connection>"
                      "<Connection><Deeper><HostCache><_1>192.0.2.3:80</_1></HostCache></Deeper>"
                      "</Connection></Lib><HostCache><_1>192.0.2.4:80</_1></HostCache></config>";
    run_t r;
    read_xml(&r, "s.xml", xml, true);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(sn_targets_count(r.ts), 1);
    assert_non_null(find(r.ts, "192.0.2.2:80"));
    done(&r);
}

static void test_hostcache_without_the_path_is_an_error(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "<config><Lib><Other><HostCache><_1>192.0.2.1:80</_1></HostCache></Other></Lib></config>",
        "<Config><Lib><Connection><HostCache><_1>192.0.2.1:80</_1></HostCache></Connection></Lib>"
        "</Config>",
        "<root><config><Lib><Connection><HostCache><_1>192.0.2.1:80</_1></HostCache>"
        "</Connection></Lib></config></root>",
        "<config><lib><connection><hostcache><_1>192.0.2.1:80</_1></hostcache></connection>"
        "</lib></config>",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        run_t r;
        read_xml(&r, "s.xml", docs[i], false);
        assert_int_equal(r.st, SN_EPARSE);
        assert_string_equal(r.err.msg, "s.xml: no host cache found (expected the element "
                                       "config/Lib/Connection/HostCache)");
        assert_int_equal(sn_targets_count(r.ts), 0);
        done(&r);
    }
}

static void test_hostcache_empty_cache_reads_zero_entries(void **state)
{
    (void)state;
    run_t r;
    read_xml(&r, "s.xml", "<config><Lib><Connection><HostCache/></Connection></Lib></config>",
             true);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 0);
    done(&r);
}

/* --- hostile XML --------------------------------------------------------- */

static void test_hostcache_rejects_billion_laughs(void **state)
{
    (void)state;
    const char *xml =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE config [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        "]>\n"
        "<config><Lib><Connection><HostCache><_1>&lol3;</_1></HostCache></Connection></Lib>"
        "</config>\n";
    run_t r;
    read_xml(&r, "lol.xml", xml, false);
    assert_int_equal(r.st, SN_EPARSE);
    assert_string_equal(r.err.msg, "lol.xml:3: XML entity declarations are not accepted (billion "
                                   "laughs / external entity protection)");
    assert_int_equal(sn_targets_count(r.ts), 0);
    assert_int_equal(r.stats.bad, 0);
    done(&r);
}

/*
 * The external entity points at a file that holds a valid entry: if the
 * reader ever fetched it, a target would appear.
 */
static void test_hostcache_rejects_external_entities_and_reads_nothing(void **state)
{
    (void)state;
    char path[] = "/tmp/sn_xxe_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "192.0.2.77:80", 13), 13);
    close(fd);

    const char *fmts[] = {
        "<?xml version=\"1.0\"?>\n<!DOCTYPE config [\n<!ENTITY xxe SYSTEM \"file://%s\">\n]>\n"
        "<config><Lib><Connection><HostCache><_1>&xxe;</_1></HostCache></Connection></Lib>"
        "</config>\n",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE config [\n<!ENTITY %% p SYSTEM \"file://%s\">\n%%p;\n"
        "]>\n<config><Lib><Connection><HostCache/></Connection></Lib></config>\n",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE config [\n<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n"
        "]>\n<config><Lib><Connection><HostCache><_1>&xxe;</_1></HostCache></Connection></Lib>"
        "</config>%s\n",
    };
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        char xml[1024];
        snprintf(xml, sizeof xml, fmts[i], i == 2 ? "" : path);
        run_t r;
        read_xml(&r, "xxe.xml", xml, false);
        assert_int_equal(r.st, SN_EPARSE);
        assert_string_equal(r.err.msg, "xxe.xml:3: XML entity declarations are not accepted "
                                       "(billion laughs / external entity protection)");
        assert_int_equal(sn_targets_count(r.ts), 0);
        assert_int_equal(r.stats.entries, 0);
        done(&r);
    }
    unlink(path);
}

static void test_hostcache_rejects_external_dtd(void **state)
{
    (void)state;
    const char *xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE config SYSTEM \"file:///etc/passwd\">\n"
                      "<config><Lib><Connection><HostCache/></Connection></Lib></config>\n";
    run_t r;
    read_xml(&r, "dtd.xml", xml, false);
    assert_int_equal(r.st, SN_EPARSE);
    assert_string_equal(
        r.err.msg, "dtd.xml:2: XML external DTDs are not accepted (external entity protection)");
    done(&r);
}

static void test_hostcache_undeclared_entity_is_an_xml_error(void **state)
{
    (void)state;
    const char *xml = "<config><Lib><Connection><HostCache>\n<_1>&foo;</_1></HostCache>"
                      "</Connection></Lib></config>\n";
    run_t r;
    read_xml(&r, "u.xml", xml, false);
    assert_int_equal(r.st, SN_EPARSE);
    assert_string_equal(r.err.msg, "u.xml:2: XML error: undefined entity");
    done(&r);
}

static void test_hostcache_rejects_deep_nesting(void **state)
{
    (void)state;
    size_t depth = 10000;
    char *xml = malloc(depth * 7 + 16);
    assert_non_null(xml);
    char *p = xml;
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<a>");
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "</a>");
    run_t r;
    read_xml(&r, "deep.xml", xml, false);
    assert_int_equal(r.st, SN_ELIMIT);
    assert_string_equal(r.err.msg, "deep.xml:1: XML nested deeper than 64 elements");
    done(&r);

    /* 64 levels are fine (and, lacking a host cache, an ordinary error). */
    p = xml;
    for (size_t i = 0; i < 64; i++)
        p += sprintf(p, "<a>");
    for (size_t i = 0; i < 64; i++)
        p += sprintf(p, "</a>");
    read_xml(&r, "deep.xml", xml, false);
    assert_int_equal(r.st, SN_EPARSE);
    assert_non_null(strstr(r.err.msg, "no host cache found"));
    done(&r);
    free(xml);
}

static void test_hostcache_syntax_error_names_file_and_line(void **state)
{
    (void)state;
    run_t r;
    read_xml(&r, "bad.xml", "<config>\n<Lib>\n</Connection>\n</config>\n", false);
    assert_int_equal(r.st, SN_EPARSE);
    assert_string_equal(r.err.msg, "bad.xml:3: XML error: mismatched tag");
    done(&r);
    read_xml(&r, "cut.xml", "<config><Lib><Connection><HostCache><_1>1.2.3.4:5</_1>", false);
    assert_int_equal(r.st, SN_EPARSE);
    assert_non_null(strstr(r.err.msg, "cut.xml:1: XML error: "));
    done(&r);
}

/* --- the blob shape, through the XML reader ------------------------------ */

static void test_hostcache_blob_entries_keep_times_and_small_integer(void **state)
{
    (void)state;
    blob_t b;
    three_entries(&b);
    char *h = hex(&b);
    char body[16384];
    snprintf(body, sizeof body, "\n   %s   \n", h);
    char *xml = shared_xml(body);
    run_t r;
    read_xml(&r, "s7.xml", xml, true);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 3);
    const sn_target_t *t = find(r.ts, "192.0.2.1:40007");
    assert_non_null(t);
    assert_int_equal(t->first_seen, 1493987178);
    assert_int_equal(t->last_seen, 1493988979);
    assert_string_equal(sn_targets_flags(r.ts, t), "2");
    t = find(r.ts, "198.51.100.7:33033");
    assert_non_null(t);
    assert_int_equal(t->first_seen, 1493983579);
    assert_int_equal(t->last_seen, 1493983579);
    assert_string_equal(sn_targets_flags(r.ts, t), "4");
    t = find(r.ts, "203.0.113.9:443");
    assert_non_null(t);
    assert_int_equal(t->first_seen, 1493974000); /* the smaller one first */
    assert_int_equal(t->last_seen, 1493988000);
    done(&r);
    free(xml);
    free(h);
}

static void test_hostcache_blob_lower_case_hex_is_accepted(void **state)
{
    (void)state;
    blob_t b;
    three_entries(&b);
    char *h = hex(&b);
    for (char *p = h; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    char *xml = shared_xml(h);
    run_t r;
    read_xml(&r, "s7.xml", xml, true);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 3);
    done(&r);
    free(xml);
    free(h);
}

static void test_hostcache_blob_bad_hex_is_a_bad_entry(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *reason;
    } cases[] = {
        {"41C", "host-cache blob has an odd number of hex digits (3)"},
        {"41G0", "host-cache blob has a non-hex character \"G\" at offset 2"},
        {"41 000", "host-cache blob has a non-hex character \" \" at offset 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[64];
        snprintf(body, sizeof body, "\n%s", cases[i].text);
        char *xml = shared_xml(body);
        run_t r;
        read_xml(&r, "h.xml", xml, false);
        assert_int_equal(r.st, SN_OK);
        assert_int_equal(r.stats.bad, 1);
        assert_string_equal(r.bad.where[0], "h.xml:5");
        assert_string_equal(r.bad.reason[0], cases[i].reason);
        done(&r);
        read_xml(&r, "h.xml", xml, true);
        assert_int_equal(r.st, SN_EPARSE);
        char want[200];
        snprintf(want, sizeof want, "h.xml:5: %s", cases[i].reason);
        assert_string_equal(r.err.msg, want);
        done(&r);
        free(xml);
    }
}

static void test_hostcache_truncated_blob_keeps_entries_before_the_fault(void **state)
{
    (void)state;
    blob_t b;
    three_entries(&b);
    b.n -= 20; /* into the third entry: its element count no longer fits */
    char *h = hex(&b);
    char *xml = shared_xml(h);
    run_t r;
    read_xml(&r, "t.xml", xml, false);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 2);
    assert_int_equal(r.stats.bad, 1);
    assert_string_equal(r.bad.where[0], "t.xml:entry 3");
    assert_string_equal(r.bad.reason[0], "element count larger than the remaining bytes can hold "
                                         "at byte 68 of the host-cache blob");
    done(&r);
    read_xml(&r, "t.xml", xml, true);
    assert_int_equal(r.st, SN_EPARSE);
    assert_string_equal(r.err.msg,
                        "t.xml:entry 3: element count larger than the remaining bytes can hold "
                        "at byte 68 of the host-cache blob");
    done(&r);
    free(xml);
    free(h);
}

static void test_hostcache_blob_port_zero_is_a_bad_entry(void **state)
{
    (void)state;
    blob_t b = {0};
    put_obj(&b, 2);
    put_entry(&b, IP(192, 0, 2, 1), 0, 2, 1493987178, 1493988979);
    put_entry(&b, IP(192, 0, 2, 2), 80, 2, 1493987178, 1493988979);
    char *h = hex(&b);
    char *xml = shared_xml(h);
    run_t r;
    read_xml(&r, "z.xml", xml, false);
    assert_int_equal(r.st, SN_OK);
    assert_int_equal(r.stats.entries, 1);
    assert_int_equal(r.stats.bad, 1);
    assert_string_equal(r.bad.where[0], "z.xml:entry 1");
    assert_string_equal(r.bad.reason[0], "port out of range 1-65535 (\"192.0.2.1:0\")");
    done(&r);
    read_xml(&r, "z.xml", xml, true);
    assert_int_equal(r.st, SN_EPARSE);
    assert_string_equal(r.err.msg, "z.xml:entry 1: port out of range 1-65535 (\"192.0.2.1:0\")");
    assert_int_equal(sn_targets_count(r.ts), 0);
    done(&r);
    free(xml);
    free(h);
}

/* --- the blob decoder alone ---------------------------------------------- */

static void test_blob_decodes_entries_in_order(void **state)
{
    (void)state;
    blob_t b;
    three_entries(&b);
    got_t *g = calloc(1, sizeof *g);
    sn_error_t err = {{0}};
    assert_int_equal(sn_hostcache_blob_decode(b.b, b.n, collect, g, &err), SN_OK);
    assert_int_equal(g->n, 3);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(g->index[i], i);
    assert_addr(&g->addr[0], "192.0.2.1:40007");
    assert_addr(&g->addr[1], "198.51.100.7:33033");
    assert_addr(&g->addr[2], "203.0.113.9:443");
    assert_int_equal(g->l[0].count, 1);
    assert_int_equal(g->l[0].first_seen, 1493987178);
    assert_int_equal(g->l[0].last_seen, 1493988979);
    assert_string_equal(g->flags[0], "2");
    assert_string_equal(g->flags[1], "4");
    free(g);
}

/* Entries may sit inside a container element; other types are skipped. */
static void test_blob_finds_entries_in_containers_and_skips_every_type(void **state)
{
    (void)state;
    blob_t b = {0};
    put_obj(&b, 4);
    put_int(&b, 7, 12345);                                                          /* type 0 */
    put(&b, 3), put_leb(&b, 8), put(&b, 'h'), put(&b, 'i'), put(&b, 0);             /* type 3 */
    put(&b, 4), put_leb(&b, 9), put_leb(&b, 3), put(&b, 1), put(&b, 2), put(&b, 3); /* type 4 */
    put(&b, 5); /* a container of two entries */
    put_leb(&b, 1);
    put_obj(&b, 3);
    put(&b, 6), put_leb(&b, 2), put_leb(&b, 2), put_leb(&b, 300), put_leb(&b, 1); /* type 6 */
    put_entry(&b, IP(192, 0, 2, 10), 1000, 2, 1493987178, 1493988979);
    /* an entry with a type-1 time and an extra string field */
    put(&b, 5);
    put_leb(&b, 0);
    put_obj(&b, 3);
    put_ip(&b, 0, IP(192, 0, 2, 11), 1001);
    put(&b, 1), put_leb(&b, 2);
    for (int k = 7; k >= 0; k--)
        put(&b, (uint8_t)((uint64_t)1500000000 >> (8 * k)));
    put(&b, 3), put_leb(&b, 5), put(&b, 0);

    got_t *g = calloc(1, sizeof *g);
    sn_error_t err = {{0}};
    assert_int_equal(sn_hostcache_blob_decode(b.b, b.n, collect, g, &err), SN_OK);
    assert_int_equal(g->n, 2);
    assert_addr(&g->addr[0], "192.0.2.10:1000");
    assert_addr(&g->addr[1], "192.0.2.11:1001");
    assert_int_equal(g->l[1].first_seen, 1500000000);
    assert_int_equal(g->l[1].last_seen, 1500000000);
    assert_string_equal(g->flags[1], "");
    free(g);
}

/* Every prefix of a valid blob is refused, without reading past it. */
static void test_blob_every_truncation_is_an_error(void **state)
{
    (void)state;
    blob_t b;
    three_entries(&b);
    for (size_t n = 0; n < b.n; n++) {
        uint8_t *copy = malloc(n + 1); /* exact size, so ASan sees any overread */
        memcpy(copy, b.b, n);
        got_t *g = calloc(1, sizeof *g);
        sn_error_t err = {{0}};
        assert_int_equal(sn_hostcache_blob_decode(copy, n, collect, g, &err), SN_EPARSE);
        assert_true(g->n < 3);
        assert_true(strncmp(err.msg, "entry ", 6) == 0);
        free(g);
        free(copy);
    }
}

static void test_blob_faults_name_entry_and_reason(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t bytes[48];
        size_t n;
        const char *msg;
        unsigned delivered;
    } cases[] = {
        {"empty", {0}, 0, "entry 1: truncated object (missing 0x41 marker) at byte 0", 0},
        {"bad marker",
         {0x42, 0x00},
         2,
         "entry 1: object does not start with the 0x41 marker at byte 0",
         0},
        {"over-long LEB128",
         {0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
         12,
         "entry 1: LEB128 integer longer than 10 bytes at byte 11",
         0},
        {"LEB128 past 64 bits",
         {0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02},
         11,
         "entry 1: LEB128 integer overflows 64 bits at byte 11",
         0},
        {"count past the end",
         {0x41, 0xc8, 0x01, 0x05, 0x00, 0x41, 0x00},
         7,
         "entry 1: element count larger than the remaining bytes can hold at byte 0",
         0},
        {"huge count",
         {0x41, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
         11,
         "entry 1: element count larger than the remaining bytes can hold at byte 0",
         0},
        {"unknown type",
         {0x41, 0x01, 0x09, 0x00, 0x00},
         5,
         "entry 1: unknown element type at byte 2",
         0},
        {"truncated IPv4",
         {0x41, 0x01, 0x05, 0x00, 0x41, 0x01, 0x02, 0x00, 0xc0, 0x00, 0x02},
         11,
         "entry 1: truncated IPv4 element at byte 6",
         0},
        {"truncated 8-byte integer",
         {0x41, 0x01, 0x01, 0x00, 0x01, 0x02},
         6,
         "entry 1: truncated 8-byte integer element at byte 2",
         0},
        {"unterminated string",
         {0x41, 0x01, 0x03, 0x00, 'a', 'b'},
         6,
         "entry 1: unterminated string element at byte 2",
         0},
        {"byte string past the end",
         {0x41, 0x01, 0x04, 0x00, 0x05, 0x01},
         6,
         "entry 1: truncated byte-string element at byte 2",
         0},
        {"integer list past the end",
         {0x41, 0x01, 0x06, 0x00, 0x05, 0x01},
         6,
         "entry 1: integer-list count larger than the remaining bytes at byte 2",
         0},
        {"trailing bytes",
         {0x41, 0x00, 0x00},
         3,
         "entry 1: trailing bytes after the object list at byte 2",
         0},
        {"fault after one entry",
         {0x41, 0x02, 0x05, 0x00, 0x41, 0x01, 0x02, 0x00, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x50, 0x07,
          0x00},
         16,
         "entry 2: unknown element type at byte 14",
         1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        got_t *g = calloc(1, sizeof *g);
        sn_error_t err = {{0}};
        sn_status_t st = sn_hostcache_blob_decode(cases[i].n ? cases[i].bytes : NULL, cases[i].n,
                                                  collect, g, &err);
        if (st != SN_EPARSE || strcmp(err.msg, cases[i].msg) != 0 || g->n != cases[i].delivered)
            fail_msg("%s: status %d, \"%s\", %u delivered", cases[i].name, st, err.msg, g->n);
        free(g);
    }
}

static void test_blob_ten_byte_leb128_is_accepted(void **state)
{
    (void)state;
    blob_t b = {0};
    put_obj(&b, 1);
    put_int(&b, 9, UINT64_MAX); /* ten bytes, the last one 0x01 */
    assert_int_equal(b.n, 2 + 1 + 1 + 10);
    sn_error_t err = {{0}};
    assert_int_equal(sn_hostcache_blob_decode(b.b, b.n, collect, &(got_t){0}, &err), SN_OK);
}

static void test_blob_depth_bomb_is_refused(void **state)
{
    (void)state;
    blob_t b = {0};
    for (int i = 0; i < 200; i++) {
        put_obj(&b, 1);
        put(&b, 5);
        put_leb(&b, 0);
    }
    put_obj(&b, 0);
    /* The count check stops nothing here: each level holds one element. */
    sn_error_t err = {{0}};
    assert_int_equal(sn_hostcache_blob_decode(b.b, b.n, collect, &(got_t){0}, &err), SN_EPARSE);
    assert_string_equal(err.msg, "entry 1: objects nested deeper than 8 at byte 32");

    /* Eight levels, the innermost an entry, are fine. */
    memset(&b, 0, sizeof b);
    for (int i = 0; i < 6; i++) {
        put_obj(&b, 1);
        put(&b, 5);
        put_leb(&b, 0);
    }
    put_obj(&b, 1);
    put_entry(&b, IP(192, 0, 2, 1), 80, 1, 0, 0);
    got_t *g = calloc(1, sizeof *g);
    assert_int_equal(sn_hostcache_blob_decode(b.b, b.n, collect, g, &err), SN_OK);
    assert_int_equal(g->n, 1);
    free(g);
}

static void test_blob_callback_status_stops_the_decode(void **state)
{
    (void)state;
    blob_t b;
    three_entries(&b);
    got_t *g = calloc(1, sizeof *g);
    g->stop_at = 2;
    sn_error_t err = {{0}};
    assert_int_equal(sn_hostcache_blob_decode(b.b, b.n, collect, g, &err), SN_EINVAL);
    assert_int_equal(g->n, 1);
    free(g);
}

/* --- real caches (optional) ---------------------------------------------- */

static char *shared_file(const char *rel)
{
    const char *dir = getenv("SN_SHARED");
    if (dir == NULL)
        return NULL;
    char *path = malloc(strlen(dir) + strlen(rel) + 2);
    sprintf(path, "%s/%s", dir, rel);
    if (access(path, R_OK) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

static void test_hostcache_real_skype7_blob_has_200_entries(void **state)
{
    (void)state;
    char *path = shared_file("testdata/hostcache/skype7-hostcache-blob.shared.xml");
    if (path == NULL)
        skip();
    sn_targets_t *ts = sn_targets_new();
    sn_read_opts_t o = {.strict = true};
    sn_read_stats_t st = {0};
    sn_error_t err = {{0}};
    assert_int_equal(sn_input_read(ts, path, &o, &st, &err), SN_OK);
    assert_int_equal(st.entries, 200);
    assert_int_equal(st.bad, 0);
    const sn_target_t *t = sn_targets_at(ts, 0);
    assert_addr(&t->addr, "157.55.56.146:40007");
    assert_int_equal(t->first_seen, 1493987178);
    assert_int_equal(t->last_seen, 1493988979);
    assert_string_equal(sn_targets_flags(ts, t), "2");
    for (size_t i = 0; i < sn_targets_count(ts); i++) {
        t = sn_targets_at(ts, i);
        assert_int_equal(t->addr.family, AF_INET);
        assert_true(t->first_seen >= 1493974739 && t->last_seen <= 1493988979);
        assert_true(t->first_seen <= t->last_seen);
    }
    sn_targets_free(ts);
    free(path);
}

static void test_hostcache_real_legacy_file_has_6_entries(void **state)
{
    (void)state;
    char *path = shared_file("testdata/hostcache/baset2006-fig17.legacy-shared.xml");
    if (path == NULL)
        skip();
    sn_targets_t *ts = sn_targets_new();
    sn_read_opts_t o = {.strict = true};
    sn_read_stats_t st = {0};
    sn_error_t err = {{0}};
    assert_int_equal(sn_input_read(ts, path, &o, &st, &err), SN_OK);
    assert_int_equal(st.entries, 6);
    static const char *const want[6] = {"80.160.91.12:33033",  "66.235.180.9:22112",
                                        "81.67.170.129:17177", "68.230.70.155:40176",
                                        "68.5.243.243:63815",  "68.14.107.154:195"};
    for (size_t i = 0; i < 6; i++) {
        const sn_target_t *t = sn_targets_at(ts, i);
        assert_addr(&t->addr, want[i]);
        if (i == 0)
            assert_string_equal(sn_targets_flags(ts, t), "1");
        else
            assert_null(sn_targets_flags(ts, t));
    }
    sn_targets_free(ts);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostcache_legacy_entries_with_flags_and_blanks),
        cmocka_unit_test(test_hostcache_legacy_bad_entries_are_reported_with_line),
        cmocka_unit_test(test_hostcache_truncated_file_gives_no_target),
        cmocka_unit_test(test_hostcache_overlong_entry_is_bad_not_truncated),
        cmocka_unit_test(test_hostcache_elsewhere_is_ignored),
        cmocka_unit_test(test_hostcache_without_the_path_is_an_error),
        cmocka_unit_test(test_hostcache_empty_cache_reads_zero_entries),
        cmocka_unit_test(test_hostcache_rejects_billion_laughs),
        cmocka_unit_test(test_hostcache_rejects_external_entities_and_reads_nothing),
        cmocka_unit_test(test_hostcache_rejects_external_dtd),
        cmocka_unit_test(test_hostcache_undeclared_entity_is_an_xml_error),
        cmocka_unit_test(test_hostcache_rejects_deep_nesting),
        cmocka_unit_test(test_hostcache_syntax_error_names_file_and_line),
        cmocka_unit_test(test_hostcache_blob_entries_keep_times_and_small_integer),
        cmocka_unit_test(test_hostcache_blob_lower_case_hex_is_accepted),
        cmocka_unit_test(test_hostcache_blob_bad_hex_is_a_bad_entry),
        cmocka_unit_test(test_hostcache_truncated_blob_keeps_entries_before_the_fault),
        cmocka_unit_test(test_hostcache_blob_port_zero_is_a_bad_entry),
        cmocka_unit_test(test_blob_decodes_entries_in_order),
        cmocka_unit_test(test_blob_finds_entries_in_containers_and_skips_every_type),
        cmocka_unit_test(test_blob_every_truncation_is_an_error),
        cmocka_unit_test(test_blob_faults_name_entry_and_reason),
        cmocka_unit_test(test_blob_ten_byte_leb128_is_accepted),
        cmocka_unit_test(test_blob_depth_bomb_is_refused),
        cmocka_unit_test(test_blob_callback_status_stops_the_decode),
        cmocka_unit_test(test_hostcache_real_skype7_blob_has_200_entries),
        cmocka_unit_test(test_hostcache_real_legacy_file_has_6_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
