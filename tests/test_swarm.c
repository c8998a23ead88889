/*
 * The swarm, end to end on loopback: each test starts a swarm on a libuv loop
 * run by a second thread, talks to it with plain sockets from the test thread,
 * stops it through a uv_async_t, and checks that the loop closes cleanly.
 *
 * Ports are picked at run time among ports free for UDP and TCP on both
 * families, so that the tests can run beside other swarms. "No answer" is
 * judged by a short wait (300 ms): silence has no other signature.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/population.h"
#include "probes/probe.h"
#include "lab/swarm.h"

#define SILENCE_MS 300
#define REPLY_MS 2000

/* ---- harness -------------------------------------------------------------------------- */

typedef struct fixture {
    uv_loop_t loop;
    uv_async_t stop;
    uv_thread_t thread;
    sn_swarm_t *swarm;
    sn_swarm_stats_t stats; /* as they were when the swarm stopped */
} fixture_t;

static void on_stop(uv_async_t *a)
{
    fixture_t *f = a->data;
    sn_swarm_get_stats(f->swarm, &f->stats);
    sn_swarm_stop(f->swarm);
    uv_close((uv_handle_t *)a, NULL);
}

static void run_loop(void *arg)
{
    fixture_t *f = arg;
    uv_run(&f->loop, UV_RUN_DEFAULT);
}

/* Starts the swarm; on failure runs the loop dry and closes it, and returns the status. */
static sn_status_t fx_start(fixture_t *f, const sn_population_t *pop, sn_error_t *err)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    sn_swarm_opts_t opts = {.seed = 42};
    sn_status_t st = sn_swarm_start(&f->loop, pop, &opts, &f->swarm, err);
    if (st != SN_OK) {
        assert_null(f->swarm);
        uv_run(&f->loop, UV_RUN_DEFAULT);
        assert_int_equal(uv_loop_close(&f->loop), 0);
        /* Some kernels let only root attach socket filters: nothing to test then. */
        if (st == SN_ESYS && geteuid() != 0 && strstr(err->msg, "only privileged") != NULL)
            skip();
        return st;
    }
    assert_int_equal(uv_async_init(&f->loop, &f->stop, on_stop), 0);
    f->stop.data = f;
    assert_int_equal(uv_thread_create(&f->thread, run_loop, f), 0);
    return SN_OK;
}

static void fx_stop(fixture_t *f)
{
    assert_int_equal(uv_async_send(&f->stop), 0);
    assert_int_equal(uv_thread_join(&f->thread), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* True when port is free for UDP and TCP on 0.0.0.0 and [::]. */
static bool port_free(uint16_t port)
{
    static const int types[2] = {SOCK_DGRAM, SOCK_STREAM};
    int fds[4], n = 0;
    bool ok = true;

    for (int fam = 0; fam < 2 && ok; fam++) {
        for (int t = 0; t < 2 && ok; t++) {
            int one = 1;
            struct sockaddr_storage ss;
            socklen_t len;
            memset(&ss, 0, sizeof ss);
            int fd = socket(fam ? AF_INET6 : AF_INET, types[t], 0);
            if (fd < 0) {
                ok = false;
                break;
            }
            fds[n++] = fd;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (fam) {
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
            if (bind(fd, (struct sockaddr *)&ss, len) != 0)
                ok = false;
        }
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
    return ok;
}

/* A port in 10000..29999 free on both families, not handed out before by this process. */
static uint16_t free_port(void)
{
    static unsigned seed;
    static uint16_t used[64];
    static int n_used;

    if (seed == 0)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    for (int tries = 0; tries < 500; tries++) {
        uint16_t p = (uint16_t)(10000 + rand_r(&seed) % 20000);
        bool seen = false;
        for (int i = 0; i < n_used; i++)
            seen |= used[i] == p;
        if (!seen && port_free(p)) {
            if (n_used < 64)
                used[n_used++] = p;
            return p;
        }
    }
    fail_msg("no free port found");
    return 0;
}

typedef struct row {
    const char *ip;
    int port_slot; /* index into the test's port array */
    sn_behaviour_t beh;
    uint32_t delay_ms;
    float loss;
} row_t;

static void make_pop(const row_t *rows, size_t n, const uint16_t *ports, sn_population_t *pop)
{
    pop->nodes = calloc(n, sizeof *pop->nodes);
    assert_non_null(pop->nodes);
    pop->count = n;
    for (size_t i = 0; i < n; i++) {
        sn_node_t *nd = &pop->nodes[i];
        assert_int_equal(sn_addr_parse_ip(rows[i].ip, strlen(rows[i].ip), &nd->addr), SN_OK);
        nd->addr.port = ports[rows[i].port_slot];
        nd->behaviour = (uint8_t)rows[i].beh;
        nd->delay_ms = rows[i].delay_ms;
        nd->loss = rows[i].loss;
    }
}

static sn_addr_t endpoint(const char *ip, uint16_t port)
{
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    return a;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A UDP socket bound to the loopback address of `family`, port chosen by the kernel. */
static int udp_client(int family)
{
    sn_addr_t me = endpoint(family == AF_INET ? "127.0.0.1" : "::1", 0);
    struct sockaddr_storage ss;
    socklen_t len = sn_addr_to_sockaddr(&me, &ss);
    int fd = socket(family, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    return fd;
}

/* Sends a skype request with token to `to`; returns the request length. */
static void send_skype(int fd, const sn_addr_t *to, uint64_t token)
{
    const sn_probe_t *skype = sn_probe_find("skype");
    assert_non_null(skype);
    uint8_t req[64];
    sn_probe_req_t rq = {.target = *to, .token = token};
    int len = skype->build(&rq, req, sizeof req);
    assert_true(len > 0);
    struct sockaddr_storage ss;
    socklen_t sl = sn_addr_to_sockaddr(to, &ss);
    assert_int_equal(sendto(fd, req, (size_t)len, 0, (struct sockaddr *)&ss, sl), len);
}

/* Waits up to ms for a datagram; returns its length (from filled) or -1 on silence. */
static int recv_within(int fd, int ms, uint8_t *buf, size_t cap, sn_addr_t *from)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) != 1)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    ssize_t n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&ss, &sl);
    if (n < 0)
        return -1;
    if (from != NULL)
        assert_int_equal(sn_addr_from_sockaddr((struct sockaddr *)&ss, from), SN_OK);
    return (int)n;
}

enum { TCP_CONNECTED = 0, TCP_PENDING = -1, TCP_NOT_CLOSED = -2 };

/*
 * Connects to every target at once and waits ms for all of them. results[i]
 * becomes TCP_CONNECTED, TCP_PENDING (no answer), or the errno of the failure.
 * A connected socket is then read until the swarm's FIN (end of file), so
 * that the swarm has accepted and closed it before the test goes on; one that
 * sees no FIN within REPLY_MS becomes TCP_NOT_CLOSED.
 */
static void tcp_probe(const sn_addr_t *targets, size_t n, int ms, int *results)
{
    int *fds = calloc(n, sizeof *fds);
    assert_non_null(fds);
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sn_addr_to_sockaddr(&targets[i], &ss);
        fds[i] = socket(targets[i].family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fds[i] >= 0);
        int r = connect(fds[i], (struct sockaddr *)&ss, sl);
        results[i] = r == 0 ? TCP_CONNECTED : errno == EINPROGRESS ? TCP_PENDING : errno;
    }
    uint64_t end = now_ms() + (uint64_t)ms;
    for (;;) {
        size_t waiting = 0;
        struct pollfd *p = calloc(n, sizeof *p);
        assert_non_null(p);
        for (size_t i = 0; i < n; i++) {
            p[i].fd = results[i] == TCP_PENDING ? fds[i] : -1;
            p[i].events = POLLOUT;
            waiting += results[i] == TCP_PENDING;
        }
        uint64_t t = now_ms();
        if (waiting == 0 || t >= end) {
            free(p);
            break;
        }
        int r = poll(p, (nfds_t)n, (int)(end - t));
        for (size_t i = 0; r > 0 && i < n; i++) {
            if (p[i].fd >= 0 && p[i].revents != 0) {
                int e = 0;
                socklen_t el = sizeof e;
                getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &e, &el);
                results[i] = e == 0 ? TCP_CONNECTED : e;
            }
        }
        free(p);
    }
    for (size_t i = 0; i < n; i++) {
        if (results[i] == TCP_CONNECTED) {
            struct pollfd p = {.fd = fds[i], .events = POLLIN};
            char c;
            if (poll(&p, 1, REPLY_MS) != 1 || recv(fds[i], &c, 1, 0) != 0)
                results[i] = TCP_NOT_CLOSED;
        }
        close(fds[i]);
    }
    free(fds);
}

/* ---- the mixed population ------------------------------------------------------------- */

/*
 * Port 0 is shared by most behaviours (IPv4 and ::1); ports 1 and 2 belong to
 * a closed IPv4 and a closed ::1 node; port 3 holds a lone silent ::1 node.
 */
static const row_t mixed[] = {
    {"127.10.0.1", 0, SN_BEH_ALIVE, 0, 0.0f},
    {"127.10.0.2", 0, SN_BEH_UDP_ONLY, 0, 0.0f},
    {"127.10.0.3", 0, SN_BEH_TCP_ONLY, 0, 0.0f},
    {"127.10.0.4", 0, SN_BEH_DEAD, 0, 0.0f},
    {"127.10.0.5", 0, SN_BEH_NAT, 0, 0.0f},
    {"127.10.0.6", 0, SN_BEH_ALIVE, 100, 0.0f},
    {"127.10.0.7", 0, SN_BEH_ALIVE, 0, 1.0f},
    {"::1", 0, SN_BEH_ALIVE, 0, 0.0f},
    {"127.10.0.9", 1, SN_BEH_CLOSED, 0, 0.0f},
    {"::1", 2, SN_BEH_CLOSED, 0, 0.0f},
    {"::1", 3, SN_BEH_DEAD, 0, 0.0f},
};

static void start_mixed(fixture_t *f, uint16_t ports[4])
{
    sn_population_t pop;
    sn_error_t err = {{0}};
    for (int i = 0; i < 4; i++)
        ports[i] = free_port();
    make_pop(mixed, sizeof mixed / sizeof mixed[0], ports, &pop);
    sn_status_t st = fx_start(f, &pop, &err);
    if (st != SN_OK)
        fail_msg("swarm start: %s", err.msg);
    sn_population_free(&pop); /* the swarm keeps its own table */
}

/* ---- UDP ------------------------------------------------------------------------------ */

static void test_swarm_alive_node_replies_skype_from_its_own_address(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    int fd = udp_client(AF_INET);
    sn_addr_t node = endpoint("127.10.0.1", ports[0]), from;
    send_skype(fd, &node, 0xA1B2C3D4E5F6ull);
    uint8_t buf[256];
    int n = recv_within(fd, REPLY_MS, buf, sizeof buf, &from);
    /* Session id, NAT-info type, our address as seen, the node's own address. */
    const uint8_t want[11] = {0xE5, 0xF6, 0x05, 127, 0, 0, 1, 127, 10, 0, 1};
    assert_int_equal(n, 11);
    assert_memory_equal(buf, want, sizeof want);
    assert_true(sn_addr_equal(&from, &node));
    close(fd);

    fx_stop(&f);
    assert_int_equal(f.stats.udp_requests, 1);
    assert_int_equal(f.stats.udp_replies, 1);
    assert_int_equal(f.stats.nodes, sizeof mixed / sizeof mixed[0]);
    assert_int_equal(f.stats.ports, 4);
}

static void test_swarm_udp_only_node_replies(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    int fd = udp_client(AF_INET);
    sn_addr_t node = endpoint("127.10.0.2", ports[0]), from;
    send_skype(fd, &node, 7);
    uint8_t buf[256];
    assert_int_equal(recv_within(fd, REPLY_MS, buf, sizeof buf, &from), 11);
    assert_true(sn_addr_equal(&from, &node));
    close(fd);
    fx_stop(&f);
}

static void test_swarm_nat_node_replies_from_another_port(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    int fd = udp_client(AF_INET);
    sn_addr_t node = endpoint("127.10.0.5", ports[0]), from;
    send_skype(fd, &node, 9);
    uint8_t buf[256];
    assert_int_equal(recv_within(fd, REPLY_MS, buf, sizeof buf, &from), 11);
    assert_true(sn_addr_same_ip(&from, &node));
    assert_int_not_equal(from.port, node.port);
    close(fd);
    fx_stop(&f);
}

static void test_swarm_silent_nodes_and_strangers_get_no_udp_reply(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    int fd = udp_client(AF_INET);
    const char *silent[] = {"127.10.0.3", "127.10.0.4",
                            "127.10.0.99"}; /* tcp-only, dead, no node */
    for (size_t i = 0; i < 3; i++) {
        sn_addr_t a = endpoint(silent[i], ports[0]);
        send_skype(fd, &a, i);
    }
    /* An alive node, but bytes no probe answers. */
    sn_addr_t alive = endpoint("127.10.0.1", ports[0]);
    struct sockaddr_storage ss;
    socklen_t sl = sn_addr_to_sockaddr(&alive, &ss);
    assert_int_equal(sendto(fd, "hello", 5, 0, (struct sockaddr *)&ss, sl), 5);
    uint8_t buf[256];
    assert_int_equal(recv_within(fd, SILENCE_MS, buf, sizeof buf, NULL), -1);
    close(fd);

    int fd6 = udp_client(AF_INET6);
    sn_addr_t dead6 = endpoint("::1", ports[3]);
    send_skype(fd6, &dead6, 1);
    assert_int_equal(recv_within(fd6, SILENCE_MS, buf, sizeof buf, NULL), -1);
    close(fd6);

    fx_stop(&f);
    assert_int_equal(f.stats.udp_requests, 5);
    assert_int_equal(f.stats.udp_silent, 5);
    assert_int_equal(f.stats.udp_replies, 0);
}

static void test_swarm_closed_udp_node_gets_port_unreachable(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    const char *ips[2] = {"127.10.0.9", "::1"};
    const int slot[2] = {1, 2};
    for (int i = 0; i < 2; i++) {
        sn_addr_t a = endpoint(ips[i], ports[slot[i]]);
        int fd = udp_client(a.family);
        struct sockaddr_storage ss;
        socklen_t sl = sn_addr_to_sockaddr(&a, &ss);
        assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), 0);
        send_skype(fd, &a, 3);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, REPLY_MS), 1);
        uint8_t buf[64];
        assert_int_equal(recv(fd, buf, sizeof buf, 0), -1);
        assert_int_equal(errno, ECONNREFUSED);
        close(fd);
    }
    fx_stop(&f);
}

static void test_swarm_delayed_node_replies_no_sooner_than_its_delay(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    int fd = udp_client(AF_INET);
    sn_addr_t node = endpoint("127.10.0.6", ports[0]), from;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    send_skype(fd, &node, 5);
    uint8_t buf[64];
    assert_int_equal(recv_within(fd, REPLY_MS, buf, sizeof buf, &from), 11);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t us = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    assert_true(us >= 100000);
    assert_true(sn_addr_equal(&from, &node));
    close(fd);
    fx_stop(&f);
    assert_int_equal(f.stats.udp_delayed, 1);
    assert_int_equal(f.stats.udp_replies, 1);
}

/*
 * Delayed replies from two ports, interleaved with undelayed traffic that keeps
 * the receive path busy (due replies also leave from there): every reply comes,
 * in order per node, and none sooner than its own request's delay. Only the
 * lower bound is checked; how late a reply may be depends on the machine's load.
 */
static void test_swarm_delayed_replies_leave_in_order_and_never_early(void **state)
{
    (void)state;
    enum { N = 40 };
    static const row_t rows[] = {
        {"127.10.1.1", 0, SN_BEH_ALIVE, 30, 0.0f},
        {"127.10.1.2", 1, SN_BEH_ALIVE, 20, 0.0f},
        {"127.10.1.3", 0, SN_BEH_ALIVE, 0, 0.0f},
    };
    static const uint32_t delay_ms[2] = {30, 20};
    fixture_t f;
    uint16_t ports[2] = {free_port(), free_port()};
    sn_population_t pop;
    sn_error_t err = {{0}};
    make_pop(rows, sizeof rows / sizeof rows[0], ports, &pop);
    if (fx_start(&f, &pop, &err) != SN_OK)
        fail_msg("swarm start: %s", err.msg);
    sn_population_free(&pop);

    sn_addr_t node[3] = {endpoint("127.10.1.1", ports[0]), endpoint("127.10.1.2", ports[1]),
                         endpoint("127.10.1.3", ports[0])};
    int fd[3] = {udp_client(AF_INET), udp_client(AF_INET), udp_client(AF_INET)};
    uint64_t sent_us[2][N];
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 2; k++) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            sent_us[k][i] = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
            send_skype(fd[k], &node[k], (uint64_t)(k * N + i + 1));
        }
        send_skype(fd[2], &node[2], 1000u + (uint64_t)i);
        struct timespec pause = {0, 1000000}; /* 1 ms: the stream outlasts the delays */
        nanosleep(&pause, NULL);
    }
    uint8_t buf[64];
    sn_addr_t from;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < N; i++) {
            assert_int_equal(recv_within(fd[k], REPLY_MS, buf, sizeof buf, &from), 11);
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t got_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
            assert_true(sn_addr_equal(&from, &node[k]));
            /* Replies to one node leave in request order, so the i-th reply answers the i-th. */
            assert_true(got_us >= sent_us[k][i] + delay_ms[k] * 1000u);
        }
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(recv_within(fd[2], REPLY_MS, buf, sizeof buf, NULL), 11);
    for (int k = 0; k < 3; k++)
        close(fd[k]);
    fx_stop(&f);
    assert_int_equal(f.stats.udp_delayed, 2 * N);
    assert_int_equal(f.stats.udp_replies, 3 * N);
    assert_int_equal(f.stats.udp_errors, 0);
}

static void test_swarm_loss_one_drops_every_reply(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    int fd = udp_client(AF_INET);
    sn_addr_t node = endpoint("127.10.0.7", ports[0]);
    for (uint64_t t = 0; t < 4; t++)
        send_skype(fd, &node, t);
    uint8_t buf[64];
    assert_int_equal(recv_within(fd, SILENCE_MS, buf, sizeof buf, NULL), -1);
    close(fd);
    fx_stop(&f);
    assert_int_equal(f.stats.udp_lost, 4);
    assert_int_equal(f.stats.udp_replies, 0);
}

/*
 * Sends 200 requests to a node with loss 0.5, each followed by one to a
 * loss-free node on the same port; that node's reply marks the moment the
 * lossy request has been dealt with (one socket keeps order), so nothing waits
 * for a timeout. Returns how many lossy requests were answered.
 */
static int half_lossy_run(void)
{
    fixture_t f;
    uint16_t ports[1] = {free_port()};
    static const row_t rows[] = {{"127.13.0.1", 0, SN_BEH_ALIVE, 0, 0.5f},
                                 {"127.13.0.2", 0, SN_BEH_ALIVE, 0, 0.0f}};
    sn_population_t pop;
    sn_error_t err = {{0}};
    make_pop(rows, 2, ports, &pop);
    if (fx_start(&f, &pop, &err) != SN_OK)
        fail_msg("swarm start: %s", err.msg);
    sn_population_free(&pop);
    int fd = udp_client(AF_INET);
    sn_addr_t lossy = endpoint("127.13.0.1", ports[0]), marker = endpoint("127.13.0.2", ports[0]);
    int got = 0;
    uint8_t buf[64];
    for (uint64_t t = 0; t < 200; t++) {
        send_skype(fd, &lossy, t);
        send_skype(fd, &marker, t);
        for (;;) {
            sn_addr_t from;
            assert_int_equal(recv_within(fd, REPLY_MS, buf, sizeof buf, &from), 11);
            if (sn_addr_equal(&from, &marker))
                break;
            assert_true(sn_addr_equal(&from, &lossy));
            got++;
        }
    }
    close(fd);
    fx_stop(&f);
    assert_int_equal(f.stats.udp_lost + (uint64_t)got, 200);
    assert_int_equal(f.stats.udp_replies, (uint64_t)got + 200);
    return got;
}

static void test_swarm_loss_half_drops_about_half_and_repeats_per_seed(void **state)
{
    (void)state;
    int a = half_lossy_run(), b = half_lossy_run();
    assert_true(a >= 60 && a <= 140);
    assert_int_equal(a, b);
}

static void test_swarm_empty_population_starts_and_stops(void **state)
{
    (void)state;
    fixture_t f;
    sn_population_t pop = {NULL, 0};
    sn_error_t err = {{0}};
    assert_int_equal(fx_start(&f, &pop, &err), SN_OK);
    fx_stop(&f);
    assert_int_equal(f.stats.nodes, 0);
    assert_int_equal(f.stats.sockets, 0);
}

static void test_swarm_ipv6_loopback_node_replies_from_its_port(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    int fd = udp_client(AF_INET6);
    sn_addr_t node = endpoint("::1", ports[0]), from;
    send_skype(fd, &node, 0x0102);
    uint8_t buf[64];
    /* An IPv6 requester and node: both addresses are "not said" (zeros). */
    const uint8_t want[11] = {0x01, 0x02, 0x05, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(recv_within(fd, REPLY_MS, buf, sizeof buf, &from), 11);
    assert_memory_equal(buf, want, sizeof want);
    assert_true(sn_addr_equal(&from, &node));
    close(fd);
    fx_stop(&f);
}

/* ---- TCP ------------------------------------------------------------------------------ */

static void test_swarm_tcp_accepting_nodes_complete_the_handshake(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    sn_addr_t t[4] = {endpoint("127.10.0.1", ports[0]), endpoint("127.10.0.3", ports[0]),
                      endpoint("127.10.0.5", ports[0]), endpoint("::1", ports[0])};
    int res[4];
    tcp_probe(t, 4, REPLY_MS, res);
    for (int i = 0; i < 4; i++)
        assert_int_equal(res[i], TCP_CONNECTED);
    fx_stop(&f);
    assert_int_equal(f.stats.tcp_accepted, 4);
}

static void test_swarm_tcp_silent_nodes_leave_connect_pending(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    /* udp-only, dead, an address that is no node, a silent ::1 on its own port. */
    sn_addr_t t[4] = {endpoint("127.10.0.2", ports[0]), endpoint("127.10.0.4", ports[0]),
                      endpoint("127.10.0.99", ports[0]), endpoint("::1", ports[3])};
    int res[4];
    tcp_probe(t, 4, SILENCE_MS, res);
    for (int i = 0; i < 4; i++)
        assert_int_equal(res[i], TCP_PENDING);
    fx_stop(&f);
    assert_int_equal(f.stats.tcp_accepted, 0);
}

static void test_swarm_tcp_closed_nodes_refuse(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[4];
    start_mixed(&f, ports);

    sn_addr_t t[2] = {endpoint("127.10.0.9", ports[1]), endpoint("::1", ports[2])};
    int res[2];
    tcp_probe(t, 2, REPLY_MS, res);
    assert_int_equal(res[0], ECONNREFUSED);
    assert_int_equal(res[1], ECONNREFUSED);
    fx_stop(&f);
}

static void test_swarm_fallback_ports_answer_only_their_nodes(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* binding 443 and 80 needs root */
    fixture_t f;
    uint16_t ports[1] = {free_port()};
    static const row_t rows[] = {
        {"127.11.0.1", 0, SN_BEH_TCP_443_ONLY, 0, 0.0f},
        {"127.11.0.2", 0, SN_BEH_TCP_80_ONLY, 0, 0.0f},
        {"127.11.0.3", 0, SN_BEH_DEAD, 0, 0.0f},
    };
    sn_population_t pop;
    sn_error_t err = {{0}};
    make_pop(rows, 3, ports, &pop);
    sn_status_t st = fx_start(&f, &pop, &err);
    sn_population_free(&pop);
    if (st == SN_ESYS && strstr(err.msg, "in use") != NULL)
        skip(); /* another swarm on this host holds 443 or 80 */
    if (st != SN_OK)
        fail_msg("swarm start: %s", err.msg);

    sn_addr_t t[8] = {
        endpoint("127.11.0.1", 443),      endpoint("127.11.0.2", 80),       /* accept */
        endpoint("127.11.0.1", 80),       endpoint("127.11.0.2", 443),      /* silent */
        endpoint("127.11.0.3", 443),      endpoint("127.11.0.3", 80),       /* silent */
        endpoint("127.11.0.1", ports[0]), endpoint("127.11.0.2", ports[0]), /* silent */
    };
    int res[8];
    tcp_probe(t, 8, SILENCE_MS, res);
    assert_int_equal(res[0], TCP_CONNECTED);
    assert_int_equal(res[1], TCP_CONNECTED);
    for (int i = 2; i < 8; i++)
        assert_int_equal(res[i], TCP_PENDING);
    int fd = udp_client(AF_INET);
    send_skype(fd, &t[6], 1);
    uint8_t buf[64];
    assert_int_equal(recv_within(fd, SILENCE_MS, buf, sizeof buf, NULL), -1);
    close(fd);
    fx_stop(&f);
    assert_int_equal(f.stats.tcp_accepted, 2);
}

/* A port whose accepting and silent addresses alternate: hundreds of ranges, long jumps. */
static void test_swarm_filter_with_many_ranges_accepts_exactly_its_nodes(void **state)
{
    (void)state;
    enum { N = 1000 };
    fixture_t f;
    uint16_t port = free_port();
    sn_population_t pop = {calloc(N, sizeof(sn_node_t)), N};
    assert_non_null(pop.nodes);
    sn_addr_t *t = calloc(N, sizeof *t);
    int *res = calloc(N, sizeof *res);
    assert_non_null(t);
    assert_non_null(res);
    for (size_t i = 0; i < N; i++) {
        sn_addr_set_v4(&pop.nodes[i].addr, 0x7F140000u + (uint32_t)i, port);
        pop.nodes[i].behaviour = (i % 2 == 0 || i % 7 == 0) ? SN_BEH_ALIVE : SN_BEH_DEAD;
        t[i] = pop.nodes[i].addr;
    }
    sn_error_t err = {{0}};
    if (fx_start(&f, &pop, &err) != SN_OK)
        fail_msg("swarm start: %s", err.msg);
    tcp_probe(t, N, SILENCE_MS, res);
    size_t accepted = 0;
    for (size_t i = 0; i < N; i++) {
        int want = pop.nodes[i].behaviour == SN_BEH_ALIVE ? TCP_CONNECTED : TCP_PENDING;
        if (res[i] != want)
            fail_msg("node %zu: got %d, want %d", i, res[i], want);
        accepted += want == TCP_CONNECTED;
    }
    fx_stop(&f);
    assert_int_equal(f.stats.tcp_accepted, accepted);
    sn_population_free(&pop);
    free(t);
    free(res);
}

static void test_swarm_one_port_generated_population_fits_the_filter(void **state)
{
    (void)state;
    fixture_t f;
    sn_popgen_t g = {.count = 65536, .seed = 7, .dead_share = 0.25, .one_port = free_port()};
    sn_population_t pop;
    sn_error_t err = {{0}};
    assert_int_equal(sn_population_generate(&g, &pop, &err), SN_OK);
    if (fx_start(&f, &pop, &err) != SN_OK)
        fail_msg("swarm start: %s", err.msg);
    /* The first few alive and dead nodes, in file order. */
    sn_addr_t t[8];
    int want[8], res[8], n_alive = 0, n_dead = 0, n = 0;
    for (size_t i = 0; i < pop.count && n < 8; i++) {
        bool alive = pop.nodes[i].behaviour == SN_BEH_ALIVE;
        if ((alive && n_alive < 4) || (!alive && n_dead < 4)) {
            t[n] = pop.nodes[i].addr;
            want[n++] = alive ? TCP_CONNECTED : TCP_PENDING;
            alive ? n_alive++ : n_dead++;
        }
    }
    tcp_probe(t, (size_t)n, SILENCE_MS, res);
    for (int i = 0; i < n; i++)
        assert_int_equal(res[i], want[i]);
    fx_stop(&f);
    assert_int_equal(f.stats.sockets, 2);
    sn_population_free(&pop);
}

/* ---- refusals ------------------------------------------------------------------------- */

static void test_swarm_refuses_closed_node_sharing_a_port(void **state)
{
    (void)state;
    fixture_t f;
    uint16_t ports[1] = {free_port()};
    static const row_t rows[] = {
        {"127.12.0.1", 0, SN_BEH_ALIVE, 0, 0.0f},
        {"127.12.0.2", 0, SN_BEH_CLOSED, 0, 0.0f},
    };
    sn_population_t pop;
    sn_error_t err = {{0}};
    make_pop(rows, 2, ports, &pop);
    assert_int_equal(fx_start(&f, &pop, &err), SN_EINVAL);
    assert_non_null(strstr(err.msg, "127.12.0.2"));
    /* Nothing was left bound: the port is free again. */
    assert_true(port_free(ports[0]));
    sn_population_free(&pop);
}

static void test_swarm_refuses_port_whose_filter_exceeds_bpf_limit(void **state)
{
    (void)state;
    enum { N = 2400 }; /* 1200 single-address ranges: about 4800 instructions */
    fixture_t f;
    uint16_t port = free_port();
    sn_population_t pop = {calloc(N, sizeof(sn_node_t)), N};
    assert_non_null(pop.nodes);
    for (size_t i = 0; i < N; i++) {
        sn_addr_set_v4(&pop.nodes[i].addr, 0x7F150000u + (uint32_t)i, port);
        pop.nodes[i].behaviour = i % 2 ? SN_BEH_DEAD : SN_BEH_ALIVE;
    }
    sn_error_t err = {{0}};
    assert_int_equal(fx_start(&f, &pop, &err), SN_ELIMIT);
    char want[32];
    snprintf(want, sizeof want, "port %u", port);
    assert_non_null(strstr(err.msg, want));
    assert_true(port_free(port));
    sn_population_free(&pop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swarm_alive_node_replies_skype_from_its_own_address),
        cmocka_unit_test(test_swarm_udp_only_node_replies),
        cmocka_unit_test(test_swarm_nat_node_replies_from_another_port),
        cmocka_unit_test(test_swarm_silent_nodes_and_strangers_get_no_udp_reply),
        cmocka_unit_test(test_swarm_closed_udp_node_gets_port_unreachable),
        cmocka_unit_test(test_swarm_delayed_node_replies_no_sooner_than_its_delay),
        cmocka_unit_test(test_swarm_delayed_replies_leave_in_order_and_never_early),
        cmocka_unit_test(test_swarm_loss_one_drops_every_reply),
        cmocka_unit_test(test_swarm_loss_half_drops_about_half_and_repeats_per_seed),
        cmocka_unit_test(test_swarm_empty_population_starts_and_stops),
        cmocka_unit_test(test_swarm_ipv6_loopback_node_replies_from_its_port),
        cmocka_unit_test(test_swarm_tcp_accepting_nodes_complete_the_handshake),
        cmocka_unit_test(test_swarm_tcp_silent_nodes_leave_connect_pending),
        cmocka_unit_test(test_swarm_tcp_closed_nodes_refuse),
        cmocka_unit_test(test_swarm_fallback_ports_answer_only_their_nodes),
        cmocka_unit_test(test_swarm_filter_with_many_ranges_accepts_exactly_its_nodes),
        cmocka_unit_test(test_swarm_one_port_generated_population_fits_the_filter),
        cmocka_unit_test(test_swarm_refuses_closed_node_sharing_a_port),
        cmocka_unit_test(test_swarm_refuses_port_whose_filter_exceeds_bpf_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
