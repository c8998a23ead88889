/*
 * Populations: the CSV reader's strictness (every bad row names FILE:LINE),
 * write/read round trips with golden bytes, the realisability check, the
 * expected-outcome table, and the generator's determinism, shares, address and
 * port layout, and the filter budget the swarm depends on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/population.h"

/* Writes len bytes to a fresh temporary file; returns its path (static buffer per slot). */
static const char *tmp_file(const char *text, size_t len)
{
    static char path[4][64];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, 64, "/tmp/test_population_XXXXXX");
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return p;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, fp);
    fclose(fp);
    return buf;
}

static sn_node_t node(const char *ip, uint16_t port, sn_behaviour_t b)
{
    sn_node_t n;
    memset(&n, 0, sizeof n);
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &n.addr), SN_OK);
    n.addr.port = port;
    n.behaviour = (uint8_t)b;
    return n;
}

/* ---- names ---------------------------------------------------------------------------- */

static void test_population_behaviour_names_round_trip(void **state)
{
    (void)state;
    static const char *names[SN_BEH_COUNT_] = {
        "alive", "udp-only", "tcp-only", "tcp-443-only", "tcp-80-only", "dead", "closed", "nat"};
    for (unsigned b = 0; b < SN_BEH_COUNT_; b++) {
        sn_behaviour_t got;
        assert_string_equal(sn_behaviour_name((sn_behaviour_t)b), names[b]);
        assert_int_equal(sn_behaviour_parse(names[b], &got), SN_OK);
        assert_int_equal(got, b);
    }
    assert_null(sn_behaviour_name(SN_BEH_COUNT_));
    const char *bad[] = {"Alive", "", "alive ", "tcp443only", "nat\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sn_behaviour_t got;
        assert_int_equal(sn_behaviour_parse(bad[i], &got), SN_EPARSE);
    }
}

/* ---- reading -------------------------------------------------------------------------- */

static void test_population_loads_quoted_crlf_bom_and_extra_columns(void **state)
{
    (void)state;
    static const char text[] = "\xEF\xBB\xBF"
                               "address,port,behaviour,delay_ms,loss,seen_count\r\n"
                               "127.1.0.5,40123,alive,0,0,3\r\n"
                               "\"::1\",\"2000\",nat,250,0.25,\"a, \"\"quoted\"\" note\"\r\n"
                               "127.200.3.4,033033,closed,60000,1,\n";
    sn_population_t pop;
    sn_error_t err = {{0}};
    const char *path = tmp_file(text, sizeof text - 1);
    assert_int_equal(sn_population_load(path, &pop, &err), SN_OK);
    unlink(path);
    assert_int_equal(pop.count, 3);

    sn_node_t want0 = node("127.1.0.5", 40123, SN_BEH_ALIVE);
    assert_memory_equal(&pop.nodes[0], &want0, sizeof want0);
    sn_node_t want1 = node("::1", 2000, SN_BEH_NAT);
    want1.delay_ms = 250;
    want1.loss = 0.25f;
    assert_memory_equal(&pop.nodes[1], &want1, sizeof want1);
    sn_node_t want2 = node("127.200.3.4", 33033, SN_BEH_CLOSED); /* decimal, never octal */
    want2.delay_ms = 60000;
    want2.loss = 1.0f;
    assert_memory_equal(&pop.nodes[2], &want2, sizeof want2);
    sn_population_free(&pop);
    sn_population_free(&pop); /* a freed population frees again harmlessly */
    sn_population_free(NULL);
}

static void test_population_header_only_is_an_empty_population(void **state)
{
    (void)state;
    static const char text[] = "address,port,behaviour,delay_ms,loss\n";
    sn_population_t pop;
    sn_error_t err = {{0}};
    const char *path = tmp_file(text, sizeof text - 1);
    assert_int_equal(sn_population_load(path, &pop, &err), SN_OK);
    unlink(path);
    assert_int_equal(pop.count, 0);
    assert_int_equal(sn_population_check(&pop, &err), SN_OK);
    sn_population_free(&pop);
}

typedef struct bad_case {
    const char *text;
    int line;
    const char *why;
} bad_case_t;

#define HDR "address,port,behaviour,delay_ms,loss\n"

static const bad_case_t bad_rows[] = {
    {"", 1, "empty file"},
    {"addr,port,behaviour,delay_ms,loss\n", 1, "header"},
    {"address,port,behaviour\n", 1, "header"},
    {HDR "127.1.0.1,1000,alive,0\n", 2, "columns"},
    {HDR "127.1.0.1,1000,alive,0,0,extra\n", 2, "columns"},
    {HDR "127.1.0.1,1000,alive,0,0\n\n127.1.0.2,1000,alive,0,0\n", 3, "empty line"},
    {HDR "127.1.0.1,1000,alive,0,0\n127.1.0.2,1000,alive,0,0\n10.0.0.1,1000,alive,0,0\n", 4,
     "127.0.0.0/8"},
    {HDR "010.1.0.1,1000,alive,0,0\n", 2, "IP literal"},
    {HDR "127.1,1000,alive,0,0\n", 2, "IP literal"},
    {HDR "::2,1000,alive,0,0\n", 2, "127.0.0.0/8"},
    {HDR "127.255.255.255,1000,alive,0,0\n", 2, "127.0.0.0/8"},
    {HDR "127.1.0.1,0,alive,0,0\n", 2, ":2:"},
    {HDR "127.1.0.1,65536,alive,0,0\n", 2, ":2:"},
    {HDR "127.1.0.1,0x50,alive,0,0\n", 2, ":2:"},
    {HDR "127.1.0.1,1000,Alive,0,0\n", 2, "unknown behaviour"},
    {HDR "127.1.0.1,1000,alive,-1,0\n", 2, "delay_ms"},
    {HDR "127.1.0.1,1000,alive,1e3,0\n", 2, "delay_ms"},
    {HDR "127.1.0.1,1000,alive,60001,0\n", 2, "delay_ms"},
    {HDR "127.1.0.1,1000,alive,,0\n", 2, "delay_ms"},
    {HDR "127.1.0.1,1000,alive,0,1.5\n", 2, "loss"},
    {HDR "127.1.0.1,1000,alive,0,-0\n", 2, "loss"},
    {HDR "127.1.0.1,1000,alive,0,.5\n", 2, "loss"},
    {HDR "127.1.0.1,1000,alive,0,5e-1\n", 2, "loss"},
    {HDR "127.1.0.1,1000,alive,0,nan\n", 2, "loss"},
    {HDR "127.1.0.1,1000,alive,0,0.\n", 2, "loss"},
    {HDR "\"127.1.0.1,1000,alive,0,0\n", 2, "unterminated"},
    {HDR "\"127.1.0.1\"x,1000,alive,0,0\n", 2, "closing quote"},
    {HDR "127.1.0.1,10\"00,alive,0,0\n", 2, "quote"},
};

static void test_population_rejects_bad_rows_naming_file_and_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
        const bad_case_t *c = &bad_rows[i];
        const char *path = tmp_file(c->text, strlen(c->text));
        sn_population_t pop = {(sn_node_t *)1, 99};
        sn_error_t err = {{0}};
        sn_status_t st = sn_population_load(path, &pop, &err);
        char where[96];
        snprintf(where, sizeof where, "%s:%d:", path, c->line);
        if (st != SN_EPARSE || strstr(err.msg, where) == NULL || strstr(err.msg, c->why) == NULL)
            fail_msg("case %zu: status %d, message \"%s\", want %s and \"%s\"", i, st, err.msg,
                     where, c->why);
        assert_null(pop.nodes);
        assert_int_equal(pop.count, 0);
        unlink(path);
    }
}

static void test_population_rejects_nul_byte_and_missing_file(void **state)
{
    (void)state;
    static const char text[] = HDR "127.1.0.1,1000,al\0ive,0,0\n";
    sn_population_t pop;
    sn_error_t err = {{0}};
    const char *path = tmp_file(text, sizeof text - 1);
    assert_int_equal(sn_population_load(path, &pop, &err), SN_EPARSE);
    unlink(path);
    assert_non_null(strstr(err.msg, ":2: NUL"));
    assert_int_equal(sn_population_load("/nonexistent/pop.csv", &pop, &err), SN_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/pop.csv"));
}

/* ---- writing -------------------------------------------------------------------------- */

static void test_population_writes_golden_csv(void **state)
{
    (void)state;
    sn_node_t nodes[3] = {node("127.1.0.5", 40123, SN_BEH_ALIVE),
                          node("::1", 2000, SN_BEH_TCP_443_ONLY),
                          node("127.9.8.7", 5, SN_BEH_UDP_ONLY)};
    nodes[2].delay_ms = 50;
    nodes[2].loss = 0.1f;
    sn_population_t pop = {nodes, 3};
    sn_error_t err = {{0}};
    const char *path = tmp_file("", 0);
    assert_int_equal(sn_population_write(&pop, path, &err), SN_OK);
    size_t len;
    char *got = read_all(path, &len);
    static const char want[] = "address,port,behaviour,delay_ms,loss\n"
                               "127.1.0.5,40123,alive,0,0\n"
                               "::1,2000,tcp-443-only,0,0\n"
                               "127.9.8.7,5,udp-only,50,0.1\n";
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(got, want, len);
    free(got);
    unlink(path);
}

static void test_population_write_then_load_round_trips(void **state)
{
    (void)state;
    sn_popgen_t g = {.count = 3000,
                     .seed = 11,
                     .dead_share = 0.2,
                     .tcp_only_share = 0.1,
                     .udp_only_share = 0.1,
                     .closed_share = 0.05,
                     .tcp443_share = 0.05,
                     .tcp80_share = 0.05,
                     .nat_share = 0.1,
                     .delay_ms = 40};
    sn_population_t pop, back;
    sn_error_t err = {{0}};
    assert_int_equal(sn_population_generate(&g, &pop, &err), SN_OK);
    /* Values the generator never makes: an IPv6 node and odd losses. */
    pop.nodes[0].addr = node("::1", 999, SN_BEH_ALIVE).addr;
    pop.nodes[1].loss = 0.3333333f;
    pop.nodes[2].loss = 1e-7f;
    pop.nodes[3].loss = 1.0f;
    const char *path = tmp_file("", 0);
    assert_int_equal(sn_population_write(&pop, path, &err), SN_OK);
    assert_int_equal(sn_population_load(path, &back, &err), SN_OK);
    assert_int_equal(back.count, pop.count);
    assert_memory_equal(back.nodes, pop.nodes, pop.count * sizeof *pop.nodes);
    sn_population_free(&pop);
    sn_population_free(&back);
    unlink(path);
}

/* ---- checking ------------------------------------------------------------------------- */

typedef struct check_case {
    sn_node_t nodes[3];
    size_t n;
    sn_status_t st;
    const char *why; /* substring of the message, naming the offending node */
} check_case_t;

static void test_population_check_enforces_realisability(void **state)
{
    (void)state;
    const check_case_t cases[] = {
        {{node("127.1.0.1", 1000, SN_BEH_ALIVE), node("127.1.0.2", 1000, SN_BEH_CLOSED)},
         2,
         SN_EINVAL,
         "127.1.0.2:1000"},
        {{node("::1", 1000, SN_BEH_DEAD), node("127.1.0.2", 1000, SN_BEH_CLOSED)},
         2,
         SN_EINVAL,
         "closed node needs a port"},
        {{node("127.1.0.1", 1000, SN_BEH_ALIVE), node("127.1.0.1", 1000, SN_BEH_DEAD)},
         2,
         SN_EINVAL,
         "twice"},
        {{node("127.1.0.1", 443, SN_BEH_ALIVE)}, 1, SN_EINVAL, "127.1.0.1:443"},
        {{node("127.1.0.1", 80, SN_BEH_TCP_80_ONLY)}, 1, SN_EINVAL, "ports 443 and 80"},
        {{node("10.1.0.1", 1000, SN_BEH_ALIVE)}, 1, SN_EINVAL, "10.1.0.1:1000"},
        {{node("127.1.0.1", 1000, SN_BEH_TCP_443_ONLY), node("127.1.0.1", 1001, SN_BEH_DEAD)},
         2,
         SN_EINVAL,
         "address no other node uses"},
        {{node("::1", 1000, SN_BEH_ALIVE), node("::1", 1001, SN_BEH_TCP_80_ONLY)},
         2,
         SN_EINVAL,
         "[::1]:1001"},
        /* Realisable: a closed node alone, an address on several ports, v4 and ::1 on a port. */
        {{node("127.1.0.1", 1000, SN_BEH_CLOSED), node("127.1.0.2", 1001, SN_BEH_ALIVE),
          node("127.1.0.2", 1002, SN_BEH_DEAD)},
         3,
         SN_OK,
         NULL},
        {{node("127.1.0.1", 1000, SN_BEH_ALIVE), node("::1", 1000, SN_BEH_DEAD),
          node("127.1.0.3", 1001, SN_BEH_TCP_443_ONLY)},
         3,
         SN_OK,
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_population_t pop = {(sn_node_t *)cases[i].nodes, cases[i].n};
        sn_error_t err = {{0}};
        sn_status_t st = sn_population_check(&pop, &err);
        if (st != cases[i].st || (cases[i].why != NULL && strstr(err.msg, cases[i].why) == NULL))
            fail_msg("case %zu: status %d, message \"%s\"", i, st, err.msg);
    }
    sn_node_t lossy = node("127.1.0.1", 1000, SN_BEH_ALIVE);
    lossy.loss = 1.5f;
    sn_population_t pop = {&lossy, 1};
    assert_int_equal(sn_population_check(&pop, NULL), SN_EINVAL);
}

static void test_population_expect_follows_the_table(void **state)
{
    (void)state;
    const struct {
        sn_behaviour_t b;
        sn_outcome_t udp, tcp;
        uint16_t tcp_port;
        bool other;
    } rows[] = {
        {SN_BEH_ALIVE, SN_OUTCOME_ALIVE, SN_OUTCOME_ALIVE, 5000, false},
        {SN_BEH_UDP_ONLY, SN_OUTCOME_ALIVE, SN_OUTCOME_FILTERED, 5000, false},
        {SN_BEH_TCP_ONLY, SN_OUTCOME_FILTERED, SN_OUTCOME_ALIVE, 5000, false},
        {SN_BEH_TCP_443_ONLY, SN_OUTCOME_FILTERED, SN_OUTCOME_ALIVE, 443, false},
        {SN_BEH_TCP_80_ONLY, SN_OUTCOME_FILTERED, SN_OUTCOME_ALIVE, 80, false},
        {SN_BEH_DEAD, SN_OUTCOME_FILTERED, SN_OUTCOME_FILTERED, 5000, false},
        {SN_BEH_CLOSED, SN_OUTCOME_CLOSED, SN_OUTCOME_CLOSED, 5000, false},
        {SN_BEH_NAT, SN_OUTCOME_ALIVE, SN_OUTCOME_ALIVE, 5000, true},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sn_node_t n = node("127.1.0.1", 5000, rows[i].b);
        sn_expect_t e = sn_population_expect(&n);
        assert_int_equal(e.udp, rows[i].udp);
        assert_int_equal(e.tcp, rows[i].tcp);
        assert_int_equal(e.tcp_port, rows[i].tcp_port);
        assert_int_equal(e.reply_other_port, rows[i].other);
    }
}

/* ---- generating ----------------------------------------------------------------------- */

static const sn_popgen_t mixed_gen = {.count = 20000,
                                      .seed = 5,
                                      .dead_share = 0.25,
                                      .tcp_only_share = 0.1,
                                      .udp_only_share = 0.1,
                                      .closed_share = 0.05,
                                      .tcp443_share = 0.05,
                                      .tcp80_share = 0.05,
                                      .nat_share = 0.1,
                                      .delay_ms = 50};

static void test_population_generator_is_deterministic_per_seed(void **state)
{
    (void)state;
    sn_population_t a, b, c;
    sn_error_t err = {{0}};
    sn_popgen_t g = mixed_gen;
    assert_int_equal(sn_population_generate(&g, &a, &err), SN_OK);
    assert_int_equal(sn_population_generate(&g, &b, &err), SN_OK);
    g.seed++;
    assert_int_equal(sn_population_generate(&g, &c, &err), SN_OK);
    assert_int_equal(a.count, g.count);
    assert_memory_equal(a.nodes, b.nodes, a.count * sizeof *a.nodes);
    assert_memory_not_equal(a.nodes, c.nodes, a.count * sizeof *a.nodes);
    sn_population_free(&a);
    sn_population_free(&b);
    sn_population_free(&c);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void test_population_generator_keeps_shares_layout_and_realisability(void **state)
{
    (void)state;
    sn_population_t pop;
    sn_error_t err = {{0}};
    assert_int_equal(sn_population_generate(&mixed_gen, &pop, &err), SN_OK);
    assert_int_equal(sn_population_check(&pop, &err), SN_OK);

    size_t cnt[SN_BEH_COUNT_] = {0};
    uint32_t *ips = malloc(pop.count * sizeof *ips);
    static uint8_t port_used[65536];
    memset(port_used, 0, sizeof port_used);
    size_t distinct_open_ports = 0, inversions = 0;
    assert_non_null(ips);
    for (size_t i = 0; i < pop.count; i++) {
        const sn_node_t *n = &pop.nodes[i];
        cnt[n->behaviour]++;
        assert_int_equal(n->addr.family, AF_INET);
        uint32_t ip = sn_addr_v4(&n->addr);
        assert_true(ip >= 0x7F010001u && ip <= 0x7FFEFFFEu);
        ips[i] = ip;
        uint16_t p = n->addr.port;
        assert_true((p >= 1024 && p <= 32767) || p >= 61000);
        if (n->behaviour != SN_BEH_CLOSED && !port_used[p]++)
            distinct_open_ports++;
        bool udp = n->behaviour == SN_BEH_ALIVE || n->behaviour == SN_BEH_UDP_ONLY ||
                   n->behaviour == SN_BEH_NAT;
        assert_int_equal(n->delay_ms, udp ? 50 : 0);
        assert_true(n->loss == 0.0f);
        if (i > 0 && ips[i] < ips[i - 1])
            inversions++;
    }
    /* Shares are floored; alive takes the rest. */
    assert_int_equal(cnt[SN_BEH_DEAD], 5000);
    assert_int_equal(cnt[SN_BEH_TCP_ONLY], 2000);
    assert_int_equal(cnt[SN_BEH_UDP_ONLY], 2000);
    assert_int_equal(cnt[SN_BEH_CLOSED], 1000);
    assert_int_equal(cnt[SN_BEH_TCP_443_ONLY], 1000);
    assert_int_equal(cnt[SN_BEH_TCP_80_ONLY], 1000);
    assert_int_equal(cnt[SN_BEH_NAT], 2000);
    assert_int_equal(cnt[SN_BEH_ALIVE], 6000);
    assert_true(distinct_open_ports <= SN_POPGEN_MAX_PORTS);
    assert_true(distinct_open_ports > 1000); /* spread, not piled on a few ports */
    /* Rows are not in address order. */
    assert_true(inversions > pop.count / 4);
    /* Addresses are distinct. */
    qsort(ips, pop.count, sizeof *ips, cmp_u32);
    for (size_t i = 1; i < pop.count; i++)
        assert_true(ips[i] != ips[i - 1]);
    free(ips);
    sn_population_free(&pop);
}

static void test_population_generator_rejects_bad_parameters(void **state)
{
    (void)state;
    sn_population_t pop;
    sn_error_t err = {{0}};
    sn_popgen_t g = {.count = 100, .one_port = 5000, .closed_share = 0.1};
    assert_int_equal(sn_population_generate(&g, &pop, &err), SN_EINVAL);
    assert_non_null(strstr(err.msg, "closed"));
    g = (sn_popgen_t){.count = 100, .one_port = 443};
    assert_int_equal(sn_population_generate(&g, &pop, &err), SN_EINVAL);
    g = (sn_popgen_t){.count = 100, .dead_share = 0.6, .nat_share = 0.6};
    assert_int_equal(sn_population_generate(&g, &pop, &err), SN_EINVAL);
    g = (sn_popgen_t){.count = 100, .dead_share = 0.0 / 0.0};
    assert_int_equal(sn_population_generate(&g, &pop, &err), SN_EINVAL);
    g = (sn_popgen_t){.count = 0};
    assert_int_equal(sn_population_generate(&g, &pop, &err), SN_EINVAL);
    g = (sn_popgen_t){.count = 100, .delay_ms = SN_POP_MAX_DELAY_MS + 1};
    assert_int_equal(sn_population_generate(&g, &pop, &err), SN_EINVAL);
    /* 40,000 closed nodes cannot each have a port of their own. */
    g = (sn_popgen_t){.count = 40000, .closed_share = 1.0};
    assert_int_equal(sn_population_generate(&g, &pop, &err), SN_ELIMIT);
    assert_null(pop.nodes);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Ranges (runs of consecutive addresses) in a sorted address list. */
static size_t ranges_of(uint32_t *ips, size_t n)
{
    size_t r = 0;
    qsort(ips, n, sizeof *ips, cmp_u32);
    for (size_t i = 0; i < n; i++)
        r += i == 0 || ips[i] != ips[i - 1] + 1;
    return r;
}

static bool accepts(uint8_t b)
{
    return b == SN_BEH_ALIVE || b == SN_BEH_TCP_ONLY || b == SN_BEH_NAT;
}

/*
 * The swarm's filter needs about four BPF instructions per address range,
 * within 4096: the generator keeps a port's accepting nodes in at most 8 runs
 * and the tcp-443-only / tcp-80-only nodes in at most 32.
 */
static void test_population_generator_keeps_filters_within_budget(void **state)
{
    (void)state;
    sn_population_t pop;
    sn_error_t err = {{0}};
    sn_popgen_t one = {
        .count = 65536, .seed = 3, .dead_share = 0.25, .one_port = 33033, .tcp443_share = 0.01};
    assert_int_equal(sn_population_generate(&one, &pop, &err), SN_OK);
    uint32_t *acc = malloc(pop.count * sizeof *acc), *fb = malloc(pop.count * sizeof *fb);
    assert_non_null(acc);
    assert_non_null(fb);
    size_t na = 0, nf = 0;
    for (size_t i = 0; i < pop.count; i++) {
        assert_int_equal(pop.nodes[i].addr.port, 33033);
        if (accepts(pop.nodes[i].behaviour))
            acc[na++] = sn_addr_v4(&pop.nodes[i].addr);
        if (pop.nodes[i].behaviour == SN_BEH_TCP_443_ONLY)
            fb[nf++] = sn_addr_v4(&pop.nodes[i].addr);
    }
    assert_int_equal(na, 65536 - 16384 - 655);
    assert_true(ranges_of(acc, na) <= 8);
    assert_true(ranges_of(fb, nf) <= 32);
    sn_population_free(&pop);

    /* Many ports: every port's accepting set stays within 8 ranges. */
    sn_popgen_t many = mixed_gen;
    many.count = 200000;
    assert_int_equal(sn_population_generate(&many, &pop, &err), SN_OK);
    uint64_t *keys = malloc(pop.count * sizeof *keys);
    assert_non_null(keys);
    size_t nk = 0;
    for (size_t i = 0; i < pop.count; i++) {
        if (accepts(pop.nodes[i].behaviour))
            keys[nk++] = (uint64_t)pop.nodes[i].addr.port << 32 | sn_addr_v4(&pop.nodes[i].addr);
    }
    qsort(keys, nk, sizeof *keys, cmp_u64);
    size_t worst = 0, runs = 0;
    for (size_t i = 0; i < nk; i++) {
        if (i == 0 || keys[i] >> 32 != keys[i - 1] >> 32)
            runs = 0; /* a new port */
        if (i == 0 || keys[i] != keys[i - 1] + 1)
            runs++;
        if (runs > worst)
            worst = runs;
    }
    assert_true(worst >= 1 && worst <= 8);
    free(keys);
    free(acc);
    free(fb);
    sn_population_free(&pop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_population_behaviour_names_round_trip),
        cmocka_unit_test(test_population_loads_quoted_crlf_bom_and_extra_columns),
        cmocka_unit_test(test_population_header_only_is_an_empty_population),
        cmocka_unit_test(test_population_rejects_bad_rows_naming_file_and_line),
        cmocka_unit_test(test_population_rejects_nul_byte_and_missing_file),
        cmocka_unit_test(test_population_writes_golden_csv),
        cmocka_unit_test(test_population_write_then_load_round_trips),
        cmocka_unit_test(test_population_check_enforces_realisability),
        cmocka_unit_test(test_population_expect_follows_the_table),
        cmocka_unit_test(test_population_generator_is_deterministic_per_seed),
        cmocka_unit_test(test_population_generator_keeps_shares_layout_and_realisability),
        cmocka_unit_test(test_population_generator_rejects_bad_parameters),
        cmocka_unit_test(test_population_generator_keeps_filters_within_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
