/*
 * The scan engine against an emulated super-node network, both on one libuv
 * loop in this process, loopback only.
 *
 * Each test builds a small population, starts a swarm (scanner/swarm.h) that
 * plays it, scans the same nodes as targets and runs the loop until the
 * engine's done callback has fired; a short linger afterwards lets late
 * replies arrive, then the engine and the swarm are closed from inside the
 * loop, uv_run returns and the loop must close cleanly. Every test then
 * checks the callback counts (on_result once per target, done once and after
 * the last result) and the outcome fields of every result.
 *
 * The swarm needs root for its socket filters (and ports 443/80), so those
 * tests skip when not root. Ports are drawn below the kernel's ephemeral
 * range and checked free for UDP and TCP on both families: a port the swarm
 * leaves unbound (a closed node's) must not be one the engine's own sockets
 * could be given. A guard timer ends a scan that never finishes, so that a
 * bug shows as a failed assertion rather than a hung test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/population.h"
#include "data/targets.h"
#include "probes/probe.h"
#include "scanner/engine.h"
#include "data/result.h"
#include "lab/swarm.h"

#define GUARD_MS 8000 /* a scan still running by then is a failure */
#define LINGER_MS 20  /* default wait after done before closing */
#define MAX_EXTRA 4   /* targets a test may add that no swarm node plays */

/* ---- ports ---------------------------------------------------------------------------- */

static bool bind_ok(int family, int type, uint16_t port, bool reuse)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    int fd = socket(family, type, 0);

    if (fd < 0)
        return false;
    memset(&ss, 0, sizeof ss);
    if (reuse)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        len = sizeof *s4;
    }
    bool ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
    close(fd);
    return ok;
}

static bool port_free(uint16_t port)
{
    return bind_ok(AF_INET, SOCK_DGRAM, port, false) && bind_ok(AF_INET, SOCK_STREAM, port, true) &&
           bind_ok(AF_INET6, SOCK_DGRAM, port, false) && bind_ok(AF_INET6, SOCK_STREAM, port, true);
}

/* A port in 20000..31999, free now, never handed out before by this process. */
static uint16_t free_port(void)
{
    static unsigned seed;
    static uint16_t used[128];
    static size_t n_used;

    if (seed == 0)
        seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
    for (int tries = 0; tries < 1000; tries++) {
        uint16_t p = (uint16_t)(20000 + rand_r(&seed) % 12000);
        bool seen = false;
        for (size_t i = 0; i < n_used; i++)
            seen |= used[i] == p;
        if (seen || !port_free(p))
            continue;
        if (n_used < sizeof used / sizeof used[0])
            used[n_used++] = p;
        return p;
    }
    fail_msg("no free port in 20000..31999");
    return 0;
}

static void require_root(void)
{
    if (geteuid() != 0) {
        print_message("the swarm needs root for its socket filters: skipping\n");
        skip();
    }
}

/* ---- the harness ---------------------------------------------------------------------- */

typedef struct node_spec {
    const char *ip;
    int port_slot; /* index into the test's ports */
    sn_behaviour_t beh;
    uint32_t delay_ms;
} node_spec_t;

typedef struct scan scan_t;

struct scan {
    uv_loop_t loop;
    uv_timer_t guard, linger, action, sampler;
    bool torn_down;
    bool timed_out;
    uint32_t linger_ms;
    uint64_t action_ms; /* 0: no action */
    void (*action_fn)(scan_t *s);
    bool sample;            /* sample inflight every millisecond */
    bool start_paused;      /* pause the engine before starting it */
    bool stop_before_start; /* call sn_engine_stop before sn_engine_start */
    void (*result_hook)(scan_t *s, const sn_result_t *r); /* runs inside on_result */
    size_t n_extra; /* targets no node plays (scan_add_extra) */

    sn_population_t pop;
    sn_swarm_t *swarm;
    sn_targets_t *ts;
    size_t n; /* targets in ts: the nodes, then the extras */
    const uint32_t *order;
    size_t n_order;
    sn_engine_cfg_t cfg;
    sn_engine_t *eng;

    sn_result_t *res; /* last result per target index */
    unsigned *calls;  /* on_result calls per target index */
    size_t n_results;
    unsigned unknown_targets; /* results whose target is not in ts */
    unsigned done_calls;
    size_t results_at_done;
    unsigned results_after_done;
    uint32_t max_inflight;        /* largest inflight seen by the sampler and on_result */
    uint64_t t_start, t_done;     /* loop time */
    sn_engine_stats_t stats;      /* at teardown */
    sn_swarm_stats_t swarm_stats; /* at teardown */

    /* what an action saw */
    sn_engine_stats_t at_action;
    size_t results_at_action;
    unsigned done_at_action[2];
};

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

/* Closes the engine, the swarm and the harness timers; uv_run then returns. */
static void teardown(scan_t *s)
{
    if (s->torn_down)
        return;
    s->torn_down = true;
    if (s->eng != NULL) {
        sn_engine_get_stats(s->eng, &s->stats);
        sn_engine_free(s->eng);
        s->eng = NULL;
    }
    if (s->swarm != NULL) {
        sn_swarm_get_stats(s->swarm, &s->swarm_stats);
        sn_swarm_stop(s->swarm);
        s->swarm = NULL;
    }
    uv_close((uv_handle_t *)&s->guard, on_closed);
    uv_close((uv_handle_t *)&s->linger, on_closed);
    uv_close((uv_handle_t *)&s->action, on_closed);
    uv_close((uv_handle_t *)&s->sampler, on_closed);
}

static void on_guard(uv_timer_t *t)
{
    scan_t *s = t->data;
    s->timed_out = true;
    teardown(s);
}

static void on_linger(uv_timer_t *t)
{
    teardown(t->data);
}

static void on_action(uv_timer_t *t)
{
    scan_t *s = t->data;
    if (s->eng != NULL)
        s->action_fn(s);
}

static void note_inflight(scan_t *s)
{
    sn_engine_stats_t st;
    sn_engine_get_stats(s->eng, &st);
    if (st.inflight > s->max_inflight)
        s->max_inflight = st.inflight;
}

static void on_sample(uv_timer_t *t)
{
    scan_t *s = t->data;
    if (s->eng != NULL)
        note_inflight(s);
}

static void on_result(void *ud, const sn_result_t *r)
{
    scan_t *s = ud;
    s->n_results++;
    if (s->done_calls > 0)
        s->results_after_done++;
    if (s->eng != NULL)
        note_inflight(s);
    size_t i = 0;
    while (i < s->n && r->target != sn_targets_at(s->ts, i))
        i++;
    if (i < s->n) {
        s->calls[i]++;
        s->res[i] = *r;
    } else {
        s->unknown_targets++;
    }
    if (s->result_hook != NULL)
        s->result_hook(s, r);
}

static void on_done(void *ud)
{
    scan_t *s = ud;
    s->done_calls++;
    s->results_at_done = s->n_results;
    s->t_done = uv_now(&s->loop);
    uv_timer_start(&s->linger, on_linger, s->linger_ms, 0);
}

/* Starts the loop, the swarm for nodes (none: no swarm) and the target set. */
static void scan_init(scan_t *s, const node_spec_t *nodes, size_t n, const uint16_t *ports)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(uv_loop_init(&s->loop), 0);
    s->linger_ms = LINGER_MS;
    s->ts = sn_targets_new();
    assert_non_null(s->ts);
    assert_true(sn_targets_begin_input(s->ts, "test") >= 0);
    s->n = n;
    s->res = calloc(n + MAX_EXTRA, sizeof *s->res);
    s->calls = calloc(n + MAX_EXTRA, sizeof *s->calls);
    assert_non_null(s->res);
    assert_non_null(s->calls);
    if (n == 0)
        return;

    s->pop.nodes = calloc(n, sizeof *s->pop.nodes);
    assert_non_null(s->pop.nodes);
    s->pop.count = n;
    for (size_t i = 0; i < n; i++) {
        sn_node_t *nd = &s->pop.nodes[i];
        assert_int_equal(sn_addr_parse_ip(nodes[i].ip, strlen(nodes[i].ip), &nd->addr), SN_OK);
        nd->addr.port = ports[nodes[i].port_slot];
        nd->behaviour = (uint8_t)nodes[i].beh;
        nd->delay_ms = nodes[i].delay_ms;
        assert_int_equal(sn_targets_add(s->ts, &nd->addr, NULL), SN_OK);
        /* Target i is node i: the checks below rely on it. */
        assert_true(sn_addr_equal(&sn_targets_at(s->ts, i)->addr, &nd->addr));
    }
    sn_error_t err = {{0}};
    sn_swarm_opts_t opts = {.seed = 7};
    sn_status_t st = sn_swarm_start(&s->loop, &s->pop, &opts, &s->swarm, &err);
    if (st == SN_ESYS &&
        (strstr(err.msg, "port 443:") != NULL || strstr(err.msg, "port 80:") != NULL) &&
        strstr(err.msg, "in use") != NULL) {
        /* Another swarm on this host took the shared fallback port after our check. */
        print_message("%s: skipping\n", err.msg);
        skip();
    }
    if (st != SN_OK)
        fail_msg("the swarm did not start: %s", err.msg);
}

/* Adds a target that no swarm node plays (after the nodes: index n). */
static void scan_add_extra(scan_t *s, const char *ip, uint16_t port)
{
    sn_addr_t a;
    assert_true(s->n_extra < MAX_EXTRA);
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    assert_int_equal(sn_targets_add(s->ts, &a, NULL), SN_OK);
    assert_true(sn_addr_equal(&sn_targets_at(s->ts, s->n)->addr, &a));
    s->n++;
    s->n_extra++;
}

/* A plan of the named probes (NULL: not in the plan) with test-friendly defaults. */
static void scan_plan(scan_t *s, const char *udp, const char *tcp, uint32_t timeout_ms,
                      uint32_t retries)
{
    memset(&s->cfg, 0, sizeof s->cfg);
    s->cfg.udp_probe = udp != NULL ? sn_probe_find(udp) : NULL;
    s->cfg.tcp_probe = tcp != NULL ? sn_probe_find(tcp) : NULL;
    if (udp != NULL)
        assert_non_null(s->cfg.udp_probe);
    if (tcp != NULL)
        assert_non_null(s->cfg.tcp_probe);
    s->cfg.rate = 0;
    s->cfg.max_inflight = 256;
    s->cfg.timeout_ms = timeout_ms;
    s->cfg.retries = retries;
    s->cfg.seed = 0x9e3779b97f4a7c15ull;
    s->cfg.on_result = on_result;
    s->cfg.ud = s;
}

/*
 * Runs the scan to its end and checks what holds for every scan: the loop
 * closes, no guard timeout, done exactly once and after the last result, no
 * result for a stranger or twice for a target.
 */
static void scan_run(scan_t *s)
{
    sn_error_t err = {{0}};
    uv_timer_init(&s->loop, &s->guard);
    uv_timer_init(&s->loop, &s->linger);
    uv_timer_init(&s->loop, &s->action);
    uv_timer_init(&s->loop, &s->sampler);
    s->guard.data = s->linger.data = s->action.data = s->sampler.data = s;
    uv_timer_start(&s->guard, on_guard, GUARD_MS, 0);

    sn_status_t st = sn_engine_new(&s->loop, &s->cfg, &s->eng, &err);
    if (st != SN_OK)
        fail_msg("sn_engine_new: %s", err.msg);
    if (s->start_paused)
        sn_engine_pause(s->eng, true);
    if (s->stop_before_start)
        sn_engine_stop(s->eng);
    if (s->action_ms > 0)
        uv_timer_start(&s->action, on_action, s->action_ms, 0);
    if (s->sample)
        uv_timer_start(&s->sampler, on_sample, 1, 1);
    uv_update_time(&s->loop);
    s->t_start = uv_now(&s->loop);
    st = sn_engine_start(s->eng, s->ts, s->order, s->n_order, on_done, &err);
    if (st != SN_OK)
        fail_msg("sn_engine_start: %s", err.msg);

    assert_int_equal(uv_run(&s->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&s->loop), 0);

    assert_false(s->timed_out);
    assert_int_equal(s->done_calls, 1);
    assert_int_equal(s->results_at_done, s->n_results);
    assert_int_equal(s->results_after_done, 0);
    assert_int_equal(s->unknown_targets, 0);
    for (size_t i = 0; i < s->n; i++)
        assert_in_range(s->calls[i], 0, 1);
    assert_int_equal(s->stats.targets_done, s->n_results);
}

static void scan_free(scan_t *s)
{
    sn_targets_free(s->ts);
    free(s->pop.nodes);
    free(s->res);
    free(s->calls);
}

/* Every target reported exactly once. */
static void assert_all_reported_once(const scan_t *s)
{
    assert_int_equal(s->n_results, s->n);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(s->calls[i], 1);
}

/* Checks one transport's outcome, attempts and port, naming the target when they differ. */
static void expect_probe(const scan_t *s, size_t i, const char *which, const sn_probe_result_t *p,
                         sn_outcome_t outcome, unsigned attempts, uint16_t port)
{
    if (p->outcome == outcome && p->attempts == attempts && p->port == port)
        return;
    char a[SN_ADDR_STRLEN];
    sn_addr_format(&sn_targets_at(s->ts, i)->addr, a, sizeof a, true);
    fail_msg("target %s %s: outcome '%s' attempts %u port %u; expected '%s' attempts %u port %u", a,
             which, sn_outcome_name((sn_outcome_t)p->outcome), p->attempts, p->port,
             sn_outcome_name(outcome), attempts, port);
}

static const sn_result_t *result_of(const scan_t *s, size_t i)
{
    assert_int_equal(s->calls[i], 1);
    return &s->res[i];
}

static uint16_t own_port(const scan_t *s, size_t i)
{
    return sn_targets_at(s->ts, i)->addr.port;
}

static void assert_addr_is(const sn_addr_t *a, const char *ip, uint16_t port)
{
    sn_addr_t want;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &want), SN_OK);
    want.port = port;
    char got[SN_ADDR_STRLEN], exp[SN_ADDR_STRLEN];
    sn_addr_format(a, got, sizeof got, true);
    sn_addr_format(&want, exp, sizeof exp, true);
    if (!sn_addr_equal(a, &want))
        fail_msg("address %s (family %u), expected %s", got, a->family, exp);
}

/* ---- tests that need no swarm --------------------------------------------------------- */

static void test_engine_rejects_invalid_plans_without_callbacks(void **state)
{
    (void)state;
    scan_t s;
    scan_init(&s, NULL, 0, NULL);
    sn_error_t err = {{0}};
    sn_engine_t *e = (sn_engine_t *)&s; /* must be reset to NULL */

    scan_plan(&s, NULL, NULL, 100, 0);
    assert_int_equal(sn_engine_new(&s.loop, &s.cfg, &e, &err), SN_EINVAL);
    assert_null(e);
    assert_non_null(strstr(err.msg, "empty"));

    scan_plan(&s, "tcp", NULL, 100, 0); /* a TCP probe in the UDP slot */
    s.cfg.udp_probe = sn_probe_find("tcp");
    assert_int_equal(sn_engine_new(&s.loop, &s.cfg, &e, &err), SN_EINVAL);
    assert_null(e);

    scan_plan(&s, NULL, NULL, 100, 0);
    s.cfg.tcp_probe = sn_probe_find("skype"); /* a UDP probe in the TCP slot */
    assert_int_equal(sn_engine_new(&s.loop, &s.cfg, &e, &err), SN_EINVAL);
    assert_null(e);

    scan_plan(&s, "skype", "tcp", 0, 0);
    assert_int_equal(sn_engine_new(&s.loop, &s.cfg, &e, &err), SN_EINVAL);
    assert_null(e);

    scan_plan(&s, "skype", "tcp", 100, 21);
    assert_int_equal(sn_engine_new(&s.loop, &s.cfg, &e, &err), SN_EINVAL);
    assert_null(e);

    sn_engine_free(NULL);
    assert_int_equal(uv_run(&s.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&s.loop), 0);
    assert_int_equal(s.n_results, 0);
    scan_free(&s);
}

static void test_engine_empty_target_set_calls_done_once_and_nothing_else(void **state)
{
    (void)state;
    scan_t s;
    scan_init(&s, NULL, 0, NULL);
    scan_plan(&s, "skype", "tcp", 100, 0);
    scan_run(&s);
    assert_int_equal(s.n_results, 0);
    assert_int_equal(s.stats.targets_total, 0);
    assert_int_equal(s.stats.sent, 0);
    scan_free(&s);
}

static void start_twice(scan_t *s)
{
    sn_error_t err = {{0}};
    s->done_at_action[0] = s->done_calls;
    assert_int_equal(sn_engine_start(s->eng, s->ts, NULL, 0, on_done, &err), SN_EINVAL);
}

static void test_engine_second_start_is_rejected(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.0.1", 0, SN_BEH_DEAD, 0}};
    scan_t s;
    scan_init(&s, nodes, 1, ports);
    scan_plan(&s, "skype", NULL, 100, 0);
    s.action_ms = 10;
    s.action_fn = start_twice;
    scan_run(&s);
    assert_all_reported_once(&s);
    assert_int_equal(s.done_at_action[0], 0);
    scan_free(&s);
}

/* ---- one behaviour at a time ---------------------------------------------------------- */

static void test_engine_alive_node_is_alive_over_udp_and_tcp_at_first_attempt(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.1.1", 0, SN_BEH_ALIVE, 0}};
    scan_t s;
    scan_init(&s, nodes, 1, ports);
    scan_plan(&s, "skype", "tcp", 1000, 2);
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    assert_ptr_equal(r->udp.probe, sn_probe_find("skype"));
    assert_ptr_equal(r->tcp.probe, sn_probe_find("tcp"));
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
    expect_probe(&s, 0, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 1, ports[0]);
    assert_true(r->udp.rtt_us > 0);
    assert_true(r->tcp.rtt_us > 0);
    /* The NAT-info reply says where the node saw us: loopback's source, no port. */
    assert_addr_is(&r->udp.observed, "127.0.0.1", 0);
    assert_int_equal(r->udp.reply_from.family, 0);
    assert_int_equal(r->tcp.reply_from.family, 0);
    assert_null(r->blocked);
    assert_true(sn_result_sn_eligible(r));
    assert_string_equal(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "udp+tcp");
    assert_int_equal(s.stats.sent, 2);
    assert_int_equal(s.stats.replies, 2);
    assert_int_equal(s.stats.late, 0);
    assert_int_equal(s.swarm_stats.udp_requests, 1);
    assert_int_equal(s.swarm_stats.tcp_accepted, 1);
    scan_free(&s);
}

static void test_engine_silent_node_is_filtered_after_retries(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.2.1", 0, SN_BEH_DEAD, 0}};
    scan_t s;
    scan_init(&s, nodes, 1, ports);
    scan_plan(&s, "skype", "tcp", 100, 2);
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_FILTERED, 3, ports[0]);
    expect_probe(&s, 0, "tcp", &r->tcp, SN_OUTCOME_FILTERED, 3, ports[0]);
    assert_int_equal(r->udp.rtt_us, 0);
    assert_int_equal(r->tcp.rtt_us, 0);
    assert_int_equal(r->udp.observed.family, 0);
    assert_false(sn_result_sn_eligible(r));
    assert_string_equal(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "none");
    assert_int_equal(s.stats.sent, 6);
    assert_int_equal(s.stats.replies, 0);
    /* Three attempts at the same node, byte-identical (same token). */
    assert_int_equal(s.swarm_stats.udp_requests, 3);
    assert_int_equal(s.swarm_stats.udp_silent, 3);
    scan_free(&s);
}

static void test_engine_closed_node_is_closed_at_first_attempt(void **state)
{
    (void)state;
    require_root();
    /* Slot 0 keeps the swarm busy elsewhere; the closed node has slot 1 to itself. */
    uint16_t ports[2] = {free_port(), free_port()};
    static const node_spec_t nodes[] = {{"127.31.3.1", 1, SN_BEH_CLOSED, 0},
                                        {"127.31.3.2", 0, SN_BEH_ALIVE, 0}};
    scan_t s;
    scan_init(&s, nodes, 2, ports);
    /* A long timeout and retries: "closed" can only come from ICMP and RST. */
    scan_plan(&s, "skype", "tcp", 2000, 2);
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_CLOSED, 1, ports[1]);
    expect_probe(&s, 0, "tcp", &r->tcp, SN_OUTCOME_CLOSED, 1, ports[1]);
    assert_string_equal(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "none");
    assert_true(s.stats.icmp >= 1);
    r = result_of(&s, 1);
    expect_probe(&s, 1, "udp", &r->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
    expect_probe(&s, 1, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 1, ports[0]);
    scan_free(&s);
}

static void test_engine_nat_node_reply_from_other_port_is_alive_not_eligible(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.4.1", 0, SN_BEH_NAT, 0}};
    scan_t s;
    scan_init(&s, nodes, 1, ports);
    scan_plan(&s, "skype", "tcp", 1000, 2);
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
    expect_probe(&s, 0, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 1, ports[0]);
    assert_int_equal(r->udp.reply_from.family, AF_INET);
    assert_true(sn_addr_same_ip(&r->udp.reply_from, &sn_targets_at(s.ts, 0)->addr));
    assert_int_not_equal(r->udp.reply_from.port, ports[0]);
    assert_int_not_equal(r->udp.reply_from.port, 0);
    assert_addr_is(&r->udp.observed, "127.0.0.1", 0);
    assert_false(sn_result_sn_eligible(r));
    assert_int_equal(s.stats.late, 0);
    scan_free(&s);
}

static void test_engine_reply_later_than_timeout_counts_on_retry(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    /* 150 ms: after the first timeout (100), before the second (200). */
    static const node_spec_t nodes[] = {{"127.31.5.1", 0, SN_BEH_ALIVE, 150}};
    scan_t s;
    scan_init(&s, nodes, 1, ports);
    scan_plan(&s, "skype", "tcp", 100, 2);
    s.linger_ms = 250; /* the reply to the retry arrives too, and must change nothing */
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_ALIVE, 2, ports[0]);
    expect_probe(&s, 0, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 1, ports[0]);
    assert_true(r->udp.rtt_us > 0);
    assert_addr_is(&r->udp.observed, "127.0.0.1", 0);
    assert_int_equal(s.swarm_stats.udp_requests, 2);
    assert_int_equal(s.swarm_stats.udp_replies, 2);
    assert_int_equal(s.stats.replies, 2); /* one UDP, one TCP */
    assert_int_equal(s.stats.late, 1);    /* the second reply found the target done */
    scan_free(&s);
}

static void test_engine_fallback_ports_find_tcp_443_and_80_only_nodes(void **state)
{
    (void)state;
    require_root();
    if (!bind_ok(AF_INET, SOCK_STREAM, 443, true) || !bind_ok(AF_INET, SOCK_STREAM, 80, true)) {
        print_message("TCP port 443 or 80 is in use on this host: skipping\n");
        skip();
    }
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.6.1", 0, SN_BEH_TCP_443_ONLY, 0},
                                        {"127.31.6.2", 0, SN_BEH_TCP_80_ONLY, 0},
                                        {"127.31.6.3", 0, SN_BEH_ALIVE, 0}};
    scan_t s;
    scan_init(&s, nodes, 3, ports);
    scan_plan(&s, "skype", "tcp", 100, 1);
    s.cfg.fallback_ports[0] = 443;
    s.cfg.fallback_ports[1] = 80;
    s.cfg.n_fallback = 2;
    scan_run(&s);

    assert_all_reported_once(&s);
    /* Own port twice (silent), then 443 answers. */
    const sn_result_t *r = result_of(&s, 0);
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_FILTERED, 2, ports[0]);
    expect_probe(&s, 0, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 3, 443);
    assert_string_equal(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "tcp-443-only");
    assert_false(sn_result_sn_eligible(r));
    /* Own port twice, 443 twice (silent while a 443 node exists), then 80. */
    r = result_of(&s, 1);
    expect_probe(&s, 1, "udp", &r->udp, SN_OUTCOME_FILTERED, 2, ports[0]);
    expect_probe(&s, 1, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 5, 80);
    assert_string_equal(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "tcp-80-only");
    /* An answer on the own port ends the search: no fallback tried. */
    r = result_of(&s, 2);
    expect_probe(&s, 2, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 1, ports[0]);
    assert_true(sn_result_sn_eligible(r));
    assert_int_equal(s.swarm_stats.tcp_accepted, 3);
    scan_free(&s);
}

static void test_engine_silent_node_without_fallbacks_keeps_own_port_filtered(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.7.1", 0, SN_BEH_UDP_ONLY, 0}};
    scan_t s;
    scan_init(&s, nodes, 1, ports);
    scan_plan(&s, "skype", "tcp", 100, 2);
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
    expect_probe(&s, 0, "tcp", &r->tcp, SN_OUTCOME_FILTERED, 3, ports[0]);
    assert_string_equal(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "udp-only");
    scan_free(&s);
}

static void test_engine_ipv6_loopback_node_is_alive_over_udp_and_tcp(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"::1", 0, SN_BEH_ALIVE, 0}};
    scan_t s;
    scan_init(&s, nodes, 1, ports);
    scan_plan(&s, "skype", "tcp", 1000, 2);
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
    expect_probe(&s, 0, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 1, ports[0]);
    assert_true(r->udp.rtt_us > 0);
    /* The Skype reply carries IPv4 addresses only: an IPv6 requester is "not said". */
    assert_int_equal(r->udp.observed.family, 0);
    assert_int_equal(r->udp.reply_from.family, 0);
    assert_true(sn_result_sn_eligible(r));
    scan_free(&s);
}

static void test_engine_stun_reports_observed_address_and_port_on_both_families(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[2] = {free_port(), free_port()};
    static const node_spec_t nodes[] = {{"::1", 0, SN_BEH_ALIVE, 0},
                                        {"127.31.8.1", 1, SN_BEH_NAT, 0}};
    scan_t s;
    scan_init(&s, nodes, 2, ports);
    scan_plan(&s, "stun", NULL, 1000, 2);
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
    assert_int_equal(r->udp.observed.family, AF_INET6);
    assert_int_not_equal(r->udp.observed.port, 0);
    assert_addr_is(&r->udp.observed, "::1", r->udp.observed.port);
    /* A 64-bit token is trusted from another port too. */
    r = result_of(&s, 1);
    expect_probe(&s, 1, "udp", &r->udp, SN_OUTCOME_ALIVE, 1, ports[1]);
    assert_int_not_equal(r->udp.observed.port, 0);
    assert_addr_is(&r->udp.observed, "127.0.0.1", r->udp.observed.port);
    assert_true(sn_addr_same_ip(&r->udp.reply_from, &sn_targets_at(s.ts, 1)->addr));
    assert_int_not_equal(r->udp.reply_from.port, ports[1]);
    scan_free(&s);
}

/* ---- plans with one transport --------------------------------------------------------- */

static void test_engine_tcp_only_plan_leaves_udp_unprobed(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.9.1", 0, SN_BEH_ALIVE, 0}};
    scan_t s;
    scan_init(&s, nodes, 1, ports);
    scan_plan(&s, NULL, "tcp", 1000, 2);
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    assert_null(r->udp.probe);
    assert_int_equal(r->udp.outcome, SN_OUTCOME_NONE);
    assert_int_equal(r->udp.attempts, 0);
    expect_probe(&s, 0, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 1, ports[0]);
    assert_string_equal(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "tcp-only");
    assert_int_equal(s.swarm_stats.udp_requests, 0);
    scan_free(&s);
}

static void test_engine_skype_only_plan_leaves_tcp_unprobed(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.10.1", 0, SN_BEH_ALIVE, 0}};
    scan_t s;
    scan_init(&s, nodes, 1, ports);
    scan_plan(&s, "skype", NULL, 1000, 2);
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    assert_null(r->tcp.probe);
    assert_int_equal(r->tcp.outcome, SN_OUTCOME_NONE);
    assert_int_equal(r->tcp.attempts, 0);
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
    assert_string_equal(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "udp-only");
    assert_int_equal(s.swarm_stats.tcp_accepted, 0);
    assert_int_equal(s.stats.tcp_cap, 0);
    scan_free(&s);
}

/* ---- many targets --------------------------------------------------------------------- */

/*
 * Every behaviour twice, scanned in reverse order with the first target left
 * out: each listed target is reported once with what the population says it
 * must show, the one left out never.
 */
static void test_engine_order_scans_listed_targets_once_each_as_expected(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[3] = {free_port(), free_port(), free_port()};
    static const node_spec_t nodes[] = {
        {"127.31.11.1", 0, SN_BEH_ALIVE, 0},    {"127.31.11.2", 0, SN_BEH_ALIVE, 0},
        {"127.31.11.3", 0, SN_BEH_UDP_ONLY, 0}, {"127.31.11.4", 0, SN_BEH_UDP_ONLY, 0},
        {"127.31.11.5", 0, SN_BEH_TCP_ONLY, 0}, {"127.31.11.6", 0, SN_BEH_TCP_ONLY, 0},
        {"127.31.11.7", 0, SN_BEH_DEAD, 0},     {"127.31.11.8", 0, SN_BEH_DEAD, 0},
        {"127.31.11.9", 0, SN_BEH_NAT, 0},      {"127.31.11.10", 0, SN_BEH_NAT, 0},
        {"127.31.11.11", 1, SN_BEH_CLOSED, 0},  {"127.31.11.12", 2, SN_BEH_CLOSED, 0},
    };
    enum { N = sizeof nodes / sizeof nodes[0] };
    const uint32_t retries = 1;
    uint32_t order[N - 1];
    for (uint32_t i = 0; i < N - 1; i++)
        order[i] = N - 1 - i;

    scan_t s;
    scan_init(&s, nodes, N, ports);
    scan_plan(&s, "skype", "tcp", 100, retries);
    s.order = order;
    s.n_order = N - 1;
    scan_run(&s);

    assert_int_equal(s.n_results, N - 1);
    assert_int_equal(s.calls[0], 0);
    assert_int_equal(s.stats.targets_total, N - 1);
    for (size_t i = 1; i < N; i++) {
        const sn_result_t *r = result_of(&s, i);
        sn_expect_t want = sn_population_expect(&s.pop.nodes[i]);
        unsigned udp_tries = want.udp == SN_OUTCOME_FILTERED ? retries + 1 : 1;
        unsigned tcp_tries = want.tcp == SN_OUTCOME_FILTERED ? retries + 1 : 1;
        expect_probe(&s, i, "udp", &r->udp, want.udp, udp_tries, own_port(&s, i));
        expect_probe(&s, i, "tcp", &r->tcp, want.tcp, tcp_tries, want.tcp_port);
        assert_int_equal(r->udp.reply_from.family != 0, want.reply_other_port);
        assert_int_equal(sn_result_sn_eligible(r), nodes[i].beh == SN_BEH_ALIVE);
    }
    scan_free(&s);
}

static void stop_now(scan_t *s)
{
    s->done_at_action[0] = s->done_calls;
    sn_engine_get_stats(s->eng, &s->at_action);
    s->results_at_action = s->n_results;
    sn_engine_stop(s->eng);
}

static void test_engine_stop_reports_started_targets_only(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    enum { N = 40 };
    static char ips[N][20];
    node_spec_t nodes[N];
    for (int i = 0; i < N; i++) {
        snprintf(ips[i], sizeof ips[i], "127.31.12.%d", i + 1);
        nodes[i] = (node_spec_t){ips[i], 0, SN_BEH_DEAD, 0};
    }
    scan_t s;
    scan_init(&s, nodes, N, ports);
    scan_plan(&s, "skype", "tcp", 200, 2);
    s.cfg.rate = 100; /* about three targets started by the time of the stop */
    s.action_ms = 50;
    s.action_fn = stop_now;
    scan_run(&s);

    size_t started = s.at_action.targets_started;
    assert_int_equal(s.done_at_action[0], 0);
    assert_in_range(started, 1, N - 1);
    assert_int_equal(s.stats.targets_started, started); /* none started after the stop */
    assert_int_equal(s.n_results, started);
    for (size_t i = 0; i < N; i++) {
        if (i >= started) {
            assert_int_equal(s.calls[i], 0);
            continue;
        }
        const sn_result_t *r = result_of(&s, i);
        /* Sent once before the stop, no retry after it: the retries that were
         * due were never made, so silence is not `filtered` but incomplete. */
        expect_probe(&s, i, "udp", &r->udp, SN_OUTCOME_INCOMPLETE, 1, ports[0]);
        expect_probe(&s, i, "tcp", &r->tcp, SN_OUTCOME_INCOMPLETE, r->tcp.attempts ? 1 : 0,
                     ports[0]);
        assert_string_equal(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "incomplete");
    }
    assert_int_equal(s.swarm_stats.udp_requests, started);
    scan_free(&s);
}

static void stop_twice(scan_t *s)
{
    sn_engine_get_stats(s->eng, &s->at_action);
    sn_engine_stop(s->eng);
    s->done_at_action[0] = s->done_calls;
    s->results_at_action = s->n_results;
    sn_engine_stop(s->eng);
    s->done_at_action[1] = s->done_calls;
}

static void test_engine_second_stop_finishes_started_targets_at_once(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    enum { N = 20 };
    static char ips[N][20];
    node_spec_t nodes[N];
    for (int i = 0; i < N; i++) {
        snprintf(ips[i], sizeof ips[i], "127.31.13.%d", i + 1);
        nodes[i] = (node_spec_t){ips[i], 0, SN_BEH_DEAD, 0};
    }
    scan_t s;
    scan_init(&s, nodes, N, ports);
    scan_plan(&s, "skype", "tcp", 5000, 0); /* no timeout can end them in this test */
    s.cfg.max_inflight = 4;
    s.action_ms = 50;
    s.action_fn = stop_twice;
    scan_run(&s);

    assert_int_equal(s.at_action.targets_started, 4);
    assert_int_equal(s.done_at_action[0], 0); /* the first stop waits for the timeouts */
    assert_int_equal(s.results_at_action, 0);
    assert_int_equal(s.done_at_action[1], 1); /* the second ends them before it returns */
    assert_int_equal(s.n_results, 4);
    for (size_t i = 0; i < 4; i++) {
        const sn_result_t *r = result_of(&s, i);
        /* Cut before their timeout: what they would have said is unknown. */
        expect_probe(&s, i, "udp", &r->udp, SN_OUTCOME_INCOMPLETE, 1, ports[0]);
        expect_probe(&s, i, "tcp", &r->tcp, SN_OUTCOME_INCOMPLETE, 1, ports[0]);
        assert_string_equal(sn_result_reach_class(r, &(sn_reach_buf_t){0}), "incomplete");
    }
    for (size_t i = 4; i < N; i++)
        assert_int_equal(s.calls[i], 0);
    assert_true(s.t_done - s.t_start < 5000);
    scan_free(&s);
}

static void resume(scan_t *s)
{
    sn_engine_get_stats(s->eng, &s->at_action);
    s->results_at_action = s->n_results;
    sn_engine_pause(s->eng, false);
}

static void test_engine_paused_scan_starts_nothing_until_resumed(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.14.1", 0, SN_BEH_ALIVE, 0},
                                        {"127.31.14.2", 0, SN_BEH_DEAD, 0}};
    scan_t s;
    scan_init(&s, nodes, 2, ports);
    scan_plan(&s, "skype", "tcp", 100, 0);
    s.action_ms = 50;
    s.action_fn = resume;
    s.start_paused = true;
    scan_run(&s);

    /* Nothing started, sent or reported while paused. */
    assert_int_equal(s.at_action.targets_started, 0);
    assert_int_equal(s.at_action.sent, 0);
    assert_int_equal(s.results_at_action, 0);
    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 0);
    expect_probe(&s, 0, "udp", &r->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
    expect_probe(&s, 0, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 1, ports[0]);
    r = result_of(&s, 1);
    expect_probe(&s, 1, "udp", &r->udp, SN_OUTCOME_FILTERED, 1, ports[0]);
    expect_probe(&s, 1, "tcp", &r->tcp, SN_OUTCOME_FILTERED, 1, ports[0]);
    scan_free(&s);
}

static void test_engine_pacing_spreads_sends_over_time(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    enum { N = 100 };
    static char ips[N][20];
    node_spec_t nodes[N];
    for (int i = 0; i < N; i++) {
        snprintf(ips[i], sizeof ips[i], "127.31.15.%d", i + 1);
        nodes[i] = (node_spec_t){ips[i], 0, SN_BEH_ALIVE, 0};
    }
    scan_t s;
    scan_init(&s, nodes, N, ports);
    scan_plan(&s, "skype", NULL, 2000, 0);
    s.cfg.rate = 200; /* 100 sends: about half a second */
    scan_run(&s);

    assert_all_reported_once(&s);
    for (size_t i = 0; i < N; i++)
        expect_probe(&s, i, "udp", &result_of(&s, i)->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
    assert_int_equal(s.stats.sent, N);
    /* A lower bound only: unpaced, 100 loopback sends take a millisecond or two. */
    assert_true(s.t_done - s.t_start >= 450);
    scan_free(&s);
}

static void test_engine_max_inflight_caps_targets_in_flight(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    enum { N = 50 };
    static char ips[N][20];
    node_spec_t nodes[N];
    for (int i = 0; i < N; i++) {
        snprintf(ips[i], sizeof ips[i], "127.31.16.%d", i + 1);
        nodes[i] = (node_spec_t){ips[i], 0, SN_BEH_DEAD, 0};
    }
    scan_t s;
    scan_init(&s, nodes, N, ports);
    scan_plan(&s, "skype", "tcp", 50, 0);
    s.cfg.max_inflight = 4;
    s.sample = true;
    scan_run(&s);

    assert_all_reported_once(&s);
    assert_int_equal(s.max_inflight, 4); /* reached, never passed */
    assert_true(s.stats.tcp_cap <= 4);
    for (size_t i = 0; i < N; i++) {
        const sn_result_t *r = result_of(&s, i);
        expect_probe(&s, i, "udp", &r->udp, SN_OUTCOME_FILTERED, 1, ports[0]);
        expect_probe(&s, i, "tcp", &r->tcp, SN_OUTCOME_FILTERED, 1, ports[0]);
    }
    assert_int_equal(s.stats.sent, 2 * N);
    scan_free(&s);
}

/* ---- local send failures, re-entry -------------------------------------------------- */

/*
 * 127.255.255.255 is loopback's broadcast address: the kernel refuses a
 * datagram to it without SO_BROADCAST (EACCES) and a connect to it
 * (ENETUNREACH) before anything is sent, so this exercises the "cannot be
 * sent at all" path without a packet leaving the host.
 */
static void test_engine_unsendable_target_is_unreachable_at_first_attempt(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.17.1", 0, SN_BEH_ALIVE, 0},
                                        {"127.31.17.2", 0, SN_BEH_ALIVE, 0}};
    scan_t s;
    scan_init(&s, nodes, 2, ports);
    scan_add_extra(&s, "127.255.255.255", ports[0]);
    /* The broadcast target sits between the two nodes, in the same send batch. */
    static const uint32_t order[3] = {0, 2, 1};
    s.order = order;
    s.n_order = 3;
    scan_plan(&s, "skype", "tcp", 1000, 2);
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 2);
    expect_probe(&s, 2, "udp", &r->udp, SN_OUTCOME_UNREACHABLE, 1, ports[0]);
    expect_probe(&s, 2, "tcp", &r->tcp, SN_OUTCOME_UNREACHABLE, 1, ports[0]);
    for (size_t i = 0; i < 2; i++) {
        r = result_of(&s, i);
        expect_probe(&s, i, "udp", &r->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
        expect_probe(&s, i, "tcp", &r->tcp, SN_OUTCOME_ALIVE, 1, ports[0]);
    }
    assert_int_equal(s.swarm_stats.udp_requests, 2);
    scan_free(&s);
}

static void stop_on_first_result(scan_t *s, const sn_result_t *r)
{
    (void)r;
    if (s->eng != NULL && s->n_results == 1)
        sn_engine_stop(s->eng);
}

/*
 * The runner stops the engine from inside a result callback (an output write
 * error). When that result is a send failure found while a batch is being
 * sent, the stop must not send the batch a second time nor report a target
 * twice.
 */
static void test_engine_stop_inside_result_of_send_failure_reports_each_once(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.18.1", 0, SN_BEH_ALIVE, 0},
                                        {"127.31.18.2", 0, SN_BEH_ALIVE, 0}};
    scan_t s;
    scan_init(&s, nodes, 2, ports);
    scan_add_extra(&s, "127.255.255.255", ports[0]);
    static const uint32_t order[3] = {0, 2, 1};
    s.order = order;
    s.n_order = 3;
    scan_plan(&s, "skype", NULL, 1000, 2);
    s.result_hook = stop_on_first_result;
    scan_run(&s);

    assert_all_reported_once(&s);
    const sn_result_t *r = result_of(&s, 2);
    expect_probe(&s, 2, "udp", &r->udp, SN_OUTCOME_UNREACHABLE, 1, ports[0]);
    for (size_t i = 0; i < 2; i++)
        expect_probe(&s, i, "udp", &result_of(&s, i)->udp, SN_OUTCOME_ALIVE, 1, ports[0]);
    assert_int_equal(s.swarm_stats.udp_requests, 2); /* each node asked once */
    scan_free(&s);
}

static void test_engine_stop_before_start_calls_done_without_results(void **state)
{
    (void)state;
    require_root();
    uint16_t ports[1] = {free_port()};
    static const node_spec_t nodes[] = {{"127.31.19.1", 0, SN_BEH_ALIVE, 0}};
    scan_t s;
    scan_init(&s, nodes, 1, ports);
    scan_plan(&s, "skype", "tcp", 100, 0);
    s.stop_before_start = true;
    scan_run(&s);

    assert_int_equal(s.n_results, 0);
    assert_int_equal(s.stats.targets_started, 0);
    assert_int_equal(s.stats.sent, 0);
    scan_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_rejects_invalid_plans_without_callbacks),
        cmocka_unit_test(test_engine_empty_target_set_calls_done_once_and_nothing_else),
        cmocka_unit_test(test_engine_second_start_is_rejected),
        cmocka_unit_test(test_engine_alive_node_is_alive_over_udp_and_tcp_at_first_attempt),
        cmocka_unit_test(test_engine_silent_node_is_filtered_after_retries),
        cmocka_unit_test(test_engine_closed_node_is_closed_at_first_attempt),
        cmocka_unit_test(test_engine_nat_node_reply_from_other_port_is_alive_not_eligible),
        cmocka_unit_test(test_engine_reply_later_than_timeout_counts_on_retry),
        cmocka_unit_test(test_engine_fallback_ports_find_tcp_443_and_80_only_nodes),
        cmocka_unit_test(test_engine_silent_node_without_fallbacks_keeps_own_port_filtered),
        cmocka_unit_test(test_engine_ipv6_loopback_node_is_alive_over_udp_and_tcp),
        cmocka_unit_test(test_engine_stun_reports_observed_address_and_port_on_both_families),
        cmocka_unit_test(test_engine_tcp_only_plan_leaves_udp_unprobed),
        cmocka_unit_test(test_engine_skype_only_plan_leaves_tcp_unprobed),
        cmocka_unit_test(test_engine_order_scans_listed_targets_once_each_as_expected),
        cmocka_unit_test(test_engine_stop_reports_started_targets_only),
        cmocka_unit_test(test_engine_second_stop_finishes_started_targets_at_once),
        cmocka_unit_test(test_engine_paused_scan_starts_nothing_until_resumed),
        cmocka_unit_test(test_engine_pacing_spreads_sends_over_time),
        cmocka_unit_test(test_engine_max_inflight_caps_targets_in_flight),
        cmocka_unit_test(test_engine_unsendable_target_is_unreachable_at_first_attempt),
        cmocka_unit_test(test_engine_stop_inside_result_of_send_failure_reports_each_once),
        cmocka_unit_test(test_engine_stop_before_start_calls_done_without_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
