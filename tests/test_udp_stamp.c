/*
 * The UDP transport's send times: the kernel's transmit stamps, read from the
 * socket's error queue and tied to their datagram by the OPT_ID number.
 *
 * The first half feeds the pure pieces (scanner/udp.h) built messages: the
 * error-queue decoder (stamps of both families, ICMP errors, and stamps it
 * must not trust) and the ring that matches a stamp to its datagram across a
 * batch. The second half runs the transport itself (sn_transport_udp, no
 * engine) against a swarm on loopback, one batch of datagrams to nodes that
 * answer after DELAY_MS, on a clock whose CLOCK_REALTIME runs a second behind
 * the kernel's: an RTT taken from the user-space send time is then over a
 * second, one taken from the kernel's transmit stamp is about DELAY_MS, and
 * never below it (the swarm counts the delay from its own receive time, later
 * than our datagram left). CTest runs this program in a private network
 * namespace (tests/lib/in_netns.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/population.h"
#include "lab/swarm.h"
#include "probes/probe.h"
#include "scanner/transport.h"
#include "scanner/udp.h"

/* ---- building error-queue messages ---- */

typedef struct msg {
    union {
        uint8_t b[512];
        struct cmsghdr align;
    } ctl;
    size_t len;
    struct sockaddr_storage name;
    socklen_t namelen;
} msg_t;

static void add_record(msg_t *m, int level, int type, const void *data, size_t n)
{
    assert_true(m->len + CMSG_SPACE(n) <= sizeof m->ctl.b);
    struct cmsghdr *c = (struct cmsghdr *)(m->ctl.b + m->len);
    memset(c, 0, CMSG_SPACE(n));
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(n);
    memcpy(CMSG_DATA(c), data, n);
    m->len += CMSG_SPACE(n);
}

static void add_stamp_time(msg_t *m, long sec, long nsec)
{
    struct scm_timestamping t;
    memset(&t, 0, sizeof t);
    t.ts[0].tv_sec = sec;
    t.ts[0].tv_nsec = nsec;
    add_record(m, SOL_SOCKET, SCM_TIMESTAMPING, &t, sizeof t);
}

static void add_ee(msg_t *m, int level, uint8_t origin, uint32_t eerrno, uint32_t info,
                   uint32_t data)
{
    struct sock_extended_err ee;
    memset(&ee, 0, sizeof ee);
    ee.ee_errno = eerrno;
    ee.ee_origin = origin;
    ee.ee_info = info;
    ee.ee_data = data;
    add_record(m, level, level == IPPROTO_IP ? IP_RECVERR : IPV6_RECVERR, &ee, sizeof ee);
}

/* What the kernel queues for a datagram sent with OPT_ID number key at sec.nsec. */
static void stamp_msg(msg_t *m, int level, uint32_t key, long sec, long nsec)
{
    memset(m, 0, sizeof *m);
    add_stamp_time(m, sec, nsec);
    add_ee(m, level, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, SCM_TSTAMP_SND, key);
}

static sn_udp_errq_kind_t decode(msg_t *m, sn_udp_errq_t *ev)
{
    struct msghdr h = {.msg_name = m->namelen > 0 ? &m->name : NULL,
                       .msg_namelen = m->namelen,
                       .msg_control = m->ctl.b,
                       .msg_controllen = m->len};
    memset(ev, 0xa5, sizeof *ev); /* nothing decoded may be left to chance */
    sn_udp_errq_kind_t k = sn_udp_errq_decode(&h, ev);
    assert_int_equal(ev->kind, k);
    return k;
}

/* ---- the decoder ---- */

static void test_errq_decodes_v4_transmit_stamp_with_its_number_and_time(void **state)
{
    (void)state;
    msg_t m;
    stamp_msg(&m, IPPROTO_IP, 4242, 1796277796, 309425634);
    sn_udp_errq_t ev;
    assert_int_equal(decode(&m, &ev), SN_UDP_ERRQ_TXSTAMP);
    assert_int_equal(ev.key, 4242);
    assert_true(ev.tx_ns == 1796277796309425634ull);
}

static void test_errq_decodes_v6_transmit_stamp_whose_time_comes_after_the_record(void **state)
{
    (void)state;
    msg_t m;
    memset(&m, 0, sizeof m);
    add_ee(&m, IPPROTO_IPV6, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, SCM_TSTAMP_SND, 0xffffffffu);
    add_stamp_time(&m, 1700000000, 999999999);
    sn_udp_errq_t ev;
    assert_int_equal(decode(&m, &ev), SN_UDP_ERRQ_TXSTAMP);
    assert_int_equal(ev.key, 0xffffffffu);
    assert_true(ev.tx_ns == 1700000000999999999ull);
}

static void test_errq_icmp_port_unreachable_is_closed_with_its_destination(void **state)
{
    (void)state;
    msg_t m;
    memset(&m, 0, sizeof m);
    add_stamp_time(&m, 1700000000, 5); /* the error's own receive stamp rides along */
    add_ee(&m, IPPROTO_IP, SO_EE_ORIGIN_ICMP, ECONNREFUSED, 0, 0);
    struct sockaddr_in *sin = (struct sockaddr_in *)&m.name;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(20001);
    sin->sin_addr.s_addr = htonl(0x7f4d0001);
    m.namelen = sizeof *sin;
    sn_udp_errq_t ev;
    assert_int_equal(decode(&m, &ev), SN_UDP_ERRQ_ICMP);
    assert_int_equal(ev.outcome, SN_OUTCOME_CLOSED);
    char a[SN_ADDR_STRLEN];
    sn_addr_format(&ev.to, a, sizeof a, true);
    assert_string_equal(a, "127.77.0.1:20001");
}

static void test_errq_icmp6_host_unreachable_is_unreachable(void **state)
{
    (void)state;
    msg_t m;
    memset(&m, 0, sizeof m);
    add_ee(&m, IPPROTO_IPV6, SO_EE_ORIGIN_ICMP6, EHOSTUNREACH, 0, 0);
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&m.name;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(20002);
    s6->sin6_addr = in6addr_loopback;
    m.namelen = sizeof *s6;
    sn_udp_errq_t ev;
    assert_int_equal(decode(&m, &ev), SN_UDP_ERRQ_ICMP);
    assert_int_equal(ev.outcome, SN_OUTCOME_UNREACHABLE);
    char a[SN_ADDR_STRLEN];
    sn_addr_format(&ev.to, a, sizeof a, true);
    assert_string_equal(a, "[::1]:20002");
}

/* A message that must not give a stamp: each case changes one thing of a good one. */
typedef struct bad_stamp {
    const char *what;
    int change;
} bad_stamp_t;

enum {
    NO_TIME,        /* the record without SCM_TIMESTAMPING */
    NO_RECORD,      /* SCM_TIMESTAMPING without the record (a receive stamp) */
    ZERO_TIME,      /* ts[0] zero: only a hardware stamp */
    SCHED_STAMP,    /* a stamp of another point of the path */
    NOT_ENOMSG,     /* a record of timestamping origin with another errno */
    BAD_NSEC,       /* nanoseconds out of range */
    NEGATIVE_SEC,   /* before 1970 */
    SHORT_TIME,     /* SCM_TIMESTAMPING shorter than three timespecs */
    CUT_BY_CONTROL, /* the control buffer ends inside the time */
};

static void test_errq_refuses_stamps_it_cannot_trust(void **state)
{
    (void)state;
    static const bad_stamp_t cases[] = {
        {"no time", NO_TIME},
        {"no record", NO_RECORD},
        {"zero time", ZERO_TIME},
        {"sched stamp", SCHED_STAMP},
        {"errno not ENOMSG", NOT_ENOMSG},
        {"nanoseconds out of range", BAD_NSEC},
        {"negative seconds", NEGATIVE_SEC},
        {"short time record", SHORT_TIME},
        {"cut by the control length", CUT_BY_CONTROL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msg_t m;
        memset(&m, 0, sizeof m);
        int ch = cases[i].change;
        if (ch == SHORT_TIME) {
            struct timespec one = {1700000000, 1};
            add_record(&m, SOL_SOCKET, SCM_TIMESTAMPING, &one, sizeof one);
        } else if (ch != NO_TIME && ch != CUT_BY_CONTROL) {
            add_stamp_time(&m,
                           ch == ZERO_TIME      ? 0
                           : ch == NEGATIVE_SEC ? -5
                                                : 1700000000,
                           ch == BAD_NSEC ? 1000000000 : 1);
        }
        if (ch != NO_RECORD)
            add_ee(&m, IPPROTO_IP, SO_EE_ORIGIN_TIMESTAMPING, ch == NOT_ENOMSG ? EIO : ENOMSG,
                   ch == SCHED_STAMP ? SCM_TSTAMP_SCHED : SCM_TSTAMP_SND, 7);
        if (ch == CUT_BY_CONTROL) {
            add_stamp_time(&m, 1700000000, 1);
            m.len -= 8; /* the record claims more than the buffer holds */
        }
        sn_udp_errq_t ev;
        if (decode(&m, &ev) != SN_UDP_ERRQ_NONE)
            fail_msg("case '%s' gave a stamp", cases[i].what);
    }
}

static void test_errq_empty_or_foreign_control_is_nothing(void **state)
{
    (void)state;
    msg_t m;
    memset(&m, 0, sizeof m);
    sn_udp_errq_t ev;
    assert_int_equal(decode(&m, &ev), SN_UDP_ERRQ_NONE); /* no control at all */
    int v = 1;
    add_record(&m, SOL_SOCKET, SCM_RIGHTS, &v, sizeof v);
    assert_int_equal(decode(&m, &ev), SN_UDP_ERRQ_NONE);
    add_ee(&m, IPPROTO_IP, SO_EE_ORIGIN_LOCAL, EMSGSIZE, 0, 0); /* a local error, no answer */
    assert_int_equal(decode(&m, &ev), SN_UDP_ERRQ_NONE);
}

/* ---- the ring ---- */

static sn_udp_txring_t ring; /* 96 KiB: not on the stack */

static void test_txring_matches_every_stamp_of_a_batch_to_its_datagram(void **state)
{
    (void)state;
    sn_udp_txring_clear(&ring);
    enum { N = 256 };
    const uint32_t key0 = 0xffffff80u; /* the batch's numbers wrap through 0 */
    const uint64_t sent = 1700000000000000000ull;
    /* Datagram k of the batch carries job (k * 37) % N: the numbers, not the jobs, are in order. */
    for (uint32_t k = 0; k < N; k++)
        sn_udp_txring_put(&ring, key0 + k, (k * 37) % N, 1000 + k, sent);
    /* The stamps come back in another order, each a little later than the call. */
    bool seen[N] = {false};
    for (uint32_t i = 0; i < N; i++) {
        uint32_t k = (i * 101 + 7) % N;
        sn_udp_txent_t en;
        assert_true(sn_udp_txring_take(&ring, key0 + k, sent + 1000 + k, &en));
        assert_int_equal(en.key, key0 + k);
        assert_int_equal(en.job, (k * 37) % N);
        assert_int_equal(en.tag, 1000 + k);
        assert_true(en.user_ns == sent);
        assert_false(seen[k]);
        seen[k] = true;
    }
    /* Each is taken once: a second stamp of a number finds nothing. */
    sn_udp_txent_t en;
    for (uint32_t k = 0; k < N; k++)
        assert_false(sn_udp_txring_take(&ring, key0 + k, sent + 5000, &en));
}

static void test_txring_refuses_a_stamp_older_than_its_datagram(void **state)
{
    (void)state;
    sn_udp_txring_clear(&ring);
    sn_udp_txring_put(&ring, 9, 3, 77, 5000);
    sn_udp_txent_t en;
    assert_false(
        sn_udp_txring_take(&ring, 9, 4999, &en));         /* before the call: not this datagram's */
    assert_true(sn_udp_txring_take(&ring, 9, 5000, &en)); /* the entry stayed for its own stamp */
    assert_int_equal(en.job, 3);
}

static void test_txring_forgets_a_datagram_put_over_and_keys_never_put(void **state)
{
    (void)state;
    sn_udp_txring_clear(&ring);
    sn_udp_txent_t en;
    assert_false(sn_udp_txring_take(&ring, 0, 1, &en)); /* an empty ring knows no 0 */
    sn_udp_txring_put(&ring, 5, 1, 1, 10);
    sn_udp_txring_put(&ring, 5 + SN_UDP_TXRING, 2, 2, 20); /* the ring wrapped */
    assert_false(sn_udp_txring_take(&ring, 5, 30, &en));
    assert_true(sn_udp_txring_take(&ring, 5 + SN_UDP_TXRING, 30, &en));
    assert_int_equal(en.job, 2);
    sn_udp_txring_put(&ring, 6, 1, 1, 10);
    sn_udp_txring_clear(&ring); /* the kernel's numbering restarted */
    assert_false(sn_udp_txring_take(&ring, 6, 30, &en));
}

/* ---- the transport on loopback ---- */

static void require_root(void)
{
    if (geteuid() != 0) {
        print_message("the swarm needs root for its socket filters: skipping\n");
        skip();
    }
}

#define DELAY_MS 20
#define BEHIND_NS 1000000000ull /* the injected CLOCK_REALTIME runs this far behind */
#define MAX_T 1600
#define GUARD_MS 10000

typedef struct run {
    uv_loop_t loop;
    uv_timer_t guard, linger;
    sn_swarm_t *swarm;
    sn_population_t pop;
    sn_clock_t clock;
    int64_t real_offset_ns; /* added to the kernel's CLOCK_REALTIME */
    void *udp;
    int handles, closed;
    bool torn_down, timed_out;
    sn_engine_stats_t st;
    sn_addr_t dst[MAX_T];
    size_t n, expected;
    sn_attempt_end_t end[MAX_T];
    unsigned ends[MAX_T];
    size_t n_ended;
} run_t;

static uint64_t mono_ns(void *ud)
{
    (void)ud;
    return uv_hrtime();
}

static uint64_t real_ns(void *ud)
{
    const run_t *r = ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)((int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec + r->real_offset_ns);
}

static void on_closed_handle(uv_handle_t *h)
{
    (void)h;
}

static void teardown(run_t *r)
{
    if (r->torn_down)
        return;
    r->torn_down = true;
    sn_transport_udp.close(r->udp);
    sn_swarm_stop(r->swarm);
    uv_close((uv_handle_t *)&r->guard, on_closed_handle);
    uv_close((uv_handle_t *)&r->linger, on_closed_handle);
}

static void on_guard(uv_timer_t *t)
{
    run_t *r = t->data;
    r->timed_out = true;
    teardown(r);
}

static void on_linger(uv_timer_t *t)
{
    teardown(t->data);
}

/* The engine's side of the upcall: record the end, forget the job as the engine does. */
static void on_attempt_done(void *engine, const sn_attempt_end_t *end)
{
    run_t *r = engine;
    if (end == NULL)
        return;
    assert_true(end->job < r->n);
    r->end[end->job] = *end;
    r->ends[end->job]++;
    sn_transport_udp.cancel(r->udp, end->job);
    if (++r->n_ended == r->expected)
        uv_timer_start(&r->linger, on_linger, 20, 0); /* a little longer: no second end */
}

static void on_transport_closed(void *engine)
{
    ((run_t *)engine)->closed++;
}

static bool udp_port_free(int family, uint16_t port)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    if (fd < 0)
        return family == AF_INET6; /* no IPv6: nothing can hold the port there */
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET6) {
        int one = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
        len = sizeof(struct sockaddr_in6);
    } else {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
        len = sizeof(struct sockaddr_in);
    }
    bool ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
    close(fd);
    return ok;
}

/* Ports below the ephemeral range that nothing holds, never the same twice. */
static uint16_t next_free_port(void)
{
    static uint16_t p = 21000;
    while (!udp_port_free(AF_INET, p) || !udp_port_free(AF_INET6, p))
        p++;
    return p++;
}

static void add_target(run_t *r, const char *ip, uint16_t port, sn_behaviour_t beh, bool node)
{
    assert_true(r->n < MAX_T);
    sn_addr_t a;
    assert_int_equal(sn_addr_parse_ip(ip, strlen(ip), &a), SN_OK);
    a.port = port;
    r->dst[r->n++] = a;
    if (!node)
        return;
    sn_node_t *nd = &r->pop.nodes[r->pop.count++];
    memset(nd, 0, sizeof *nd);
    nd->addr = a;
    nd->behaviour = (uint8_t)beh;
    nd->delay_ms = beh == SN_BEH_ALIVE ? DELAY_MS : 0;
}

static void run_init(run_t *r, int64_t real_offset_ns)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(uv_loop_init(&r->loop), 0);
    r->pop.nodes = calloc(MAX_T, sizeof *r->pop.nodes);
    assert_non_null(r->pop.nodes);
    r->real_offset_ns = real_offset_ns;
    r->clock = (sn_clock_t){.mono_ns = mono_ns, .real_ns = real_ns, .ud = r};
}

/* Starts the swarm (on swarm_loop) and the transport, and sends one attempt per
 * target, in batches of 256 per family. */
static void run_start(run_t *r, int tx_stamps, uv_loop_t *swarm_loop)
{
    sn_error_t err = {{0}};
    sn_swarm_opts_t opts = {.seed = 1};
    if (sn_swarm_start(swarm_loop, &r->pop, &opts, &r->swarm, &err) != SN_OK)
        fail_msg("the swarm did not start: %s", err.msg);
    const sn_probe_t *probe = sn_probe_find("skype");
    assert_non_null(probe);
    sn_transport_env_t env = {.loop = &r->loop,
                              .probe = probe,
                              .clock = &r->clock,
                              .n_jobs = MAX_T,
                              .idx_bits = 11,
                              .timeout_ns = 5000000000ull,
                              .st = &r->st,
                              .done = on_attempt_done,
                              .engine = r,
                              .closed = on_transport_closed,
                              .tx_stamps = tx_stamps};
    if (sn_transport_udp.init(&env, &r->udp, &r->handles, &err) != SN_OK)
        fail_msg("the UDP transport did not start: %s", err.msg);
    uv_timer_init(&r->loop, &r->guard);
    uv_timer_init(&r->loop, &r->linger);
    r->guard.data = r->linger.data = r;
    uv_timer_start(&r->guard, on_guard, GUARD_MS, 0);
    if (r->expected == 0)
        r->expected = r->n;
    for (uint32_t j = 0; j < r->n; j++) {
        sn_attempt_t a = {.job = j,
                          .gen = 1,
                          .seq = 0,
                          .dst = r->dst[j],
                          .token = j | (uint64_t)(0x5a5 + j * 7919) << 11};
        assert_int_equal(sn_transport_udp.send(r->udp, &a), 0);
    }
    sn_transport_udp.flush(r->udp);
}

/* run_start with the swarm on the same loop, which runs until every attempt has ended. */
static void run_scan(run_t *r, int tx_stamps)
{
    run_start(r, tx_stamps, &r->loop);
    assert_int_equal(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    assert_false(r->timed_out);
    assert_int_equal(r->closed, r->handles); /* every handle closed, once */
    for (size_t j = 0; j < r->n; j++)
        if (r->ends[j] != 1)
            fail_msg("target %zu ended %u times", j, r->ends[j]);
}

static void run_free(run_t *r)
{
    free(r->pop.nodes);
}

/* The attempt of target j ended with o; alive ones with an RTT in [lo_us, hi_us). */
static void expect_end(const run_t *r, size_t j, sn_outcome_t o, uint64_t lo_us, uint64_t hi_us)
{
    const sn_attempt_end_t *e = &r->end[j];
    char a[SN_ADDR_STRLEN];
    sn_addr_format(&r->dst[j], a, sizeof a, true);
    if (e->outcome != o)
        fail_msg("%s: '%s', expected '%s'", a, sn_outcome_name(e->outcome), sn_outcome_name(o));
    if (o == SN_OUTCOME_ALIVE && (e->rtt_us < lo_us || e->rtt_us >= hi_us))
        fail_msg("%s: RTT %u us, expected in [%llu, %llu)", a, e->rtt_us, (unsigned long long)lo_us,
                 (unsigned long long)hi_us);
}

/* Kernel stamps at both ends: the swarm's delay and a little more, far below a second. */
#define KERNEL_LO_US (DELAY_MS * 1000ull)
#define KERNEL_HI_US (DELAY_MS * 1000ull + 500000ull)

/* n IPv4 datagrams in one sendmmsg (256: a full batch) and one IPv6 datagram; `stamped`
 * kernel stamps are taken. */
static void batch_of(int tx_stamps, int n, int64_t offset, uint64_t lo_us, uint64_t hi_us,
                     uint64_t stamped)
{
    run_t r;
    run_init(&r, offset);
    uint16_t port = next_free_port();
    for (int i = 0; i < n; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.77.%d.%d", i / 200, 1 + i % 200);
        add_target(&r, ip, port, SN_BEH_ALIVE, true);
    }
    add_target(&r, "::1", port, SN_BEH_ALIVE, true);
    run_scan(&r, tx_stamps);
    for (size_t j = 0; j < r.n; j++)
        expect_end(&r, j, SN_OUTCOME_ALIVE, lo_us, hi_us);
    assert_int_equal(r.st.tx_stamped, stamped);
    run_free(&r);
}

static void test_udp_every_datagram_of_a_full_batch_is_timed_by_its_kernel_stamp(void **state)
{
    (void)state;
    require_root();
    batch_of(SN_TXSTAMP_EVERY, 256, -(int64_t)BEHIND_NS, KERNEL_LO_US, KERNEL_HI_US, 257);
}

/*
 * The default: of the 256 datagrams of one call, the first and then 1 in 8 ask for a stamp
 * (32), and the IPv6 one, alone in its call, has its own. The injected clock runs a second
 * behind the kernel's, so an RTT under a second shows that the datagram was timed by a kernel
 * stamp, its own or the one before it in the call: every datagram is.
 */
static void test_udp_sampled_stamps_time_every_datagram_of_a_full_batch(void **state)
{
    (void)state;
    require_root();
    batch_of(SN_TXSTAMP_AUTO, 256, -(int64_t)BEHIND_NS, KERNEL_LO_US, KERNEL_HI_US, 33);
}

/* A call of 32 datagrams or fewer (a paced scan's) is not sampled: each has its own stamp. */
static void test_udp_short_call_stamps_every_datagram(void **state)
{
    (void)state;
    require_root();
    batch_of(SN_TXSTAMP_AUTO, 32, -(int64_t)BEHIND_NS, KERNEL_LO_US, KERNEL_HI_US, 33);
}

static void test_udp_counter_numbering_times_a_full_batch_by_kernel_stamps(void **state)
{
    (void)state;
    require_root();
    batch_of(SN_TXSTAMP_COUNTER, 256, -(int64_t)BEHIND_NS, KERNEL_LO_US, KERNEL_HI_US, 257);
}

static void test_udp_without_kernel_stamps_the_user_space_send_time_is_kept(void **state)
{
    (void)state;
    require_root();
    /* The send time is the clock read before sendmmsg, a second behind: so is every RTT. */
    batch_of(SN_TXSTAMP_OFF, 256, -(int64_t)BEHIND_NS, BEHIND_NS / 1000 + KERNEL_LO_US,
             BEHIND_NS / 1000 + KERNEL_HI_US, 0);
}

static void test_udp_kernel_stamp_older_than_the_send_time_is_not_taken(void **state)
{
    (void)state;
    require_root();
    /* The injected clock runs 15 ms ahead: every kernel stamp is then older than
     * the user-space send time it would replace, and cannot be its datagram's.
     * The RTTs stay those of the user-space time, 15 ms short of the truth
     * (a kernel stamp taken would give at least DELAY_MS). */
    batch_of(SN_TXSTAMP_AUTO, 256, 15000000, KERNEL_LO_US - 15000, KERNEL_LO_US, 0);
}

/*
 * One batch that mixes stamped datagrams with ICMP errors (closed nodes) and a
 * datagram the kernel refuses (the broadcast address): each closed node is
 * closed, the refused one unreachable, and every live node still has its own
 * kernel stamp, also those sent after a refusal (which, with counter
 * numbering, restarts the kernel's counter). Sampled (SN_TXSTAMP_AUTO), the
 * refusal splits the batch into calls of at most 60 and 59 datagrams (an ICMP
 * error that has come back fails the next call, which is made again, so there
 * may be more and shorter ones), each of which asks for at least its first and
 * every eighth datagram's stamp: 8 + 8 or more; the others are timed by the
 * stamp before them (an RTT under a second: the injected clock runs a second
 * behind).
 */
static void mixed_batch(int tx_stamps)
{
    run_t r;
    run_init(&r, -(int64_t)BEHIND_NS);
    uint16_t port = next_free_port();
    size_t closed[8], n_closed = 0, refused = 0, n_alive = 0;
    for (int i = 0; i < 120; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.78.0.%d", 1 + i);
        if (i % 15 == 7) {
            closed[n_closed++] = r.n;
            add_target(&r, ip, next_free_port(), SN_BEH_CLOSED, true);
        } else if (i == 60) {
            refused = r.n;
            add_target(&r, "127.255.255.255", port, SN_BEH_ALIVE, false);
        } else {
            add_target(&r, ip, port, SN_BEH_ALIVE, true);
            n_alive++;
        }
    }
    assert_int_equal(n_closed, 8);
    run_scan(&r, tx_stamps);
    for (size_t j = 0; j < r.n; j++) {
        bool is_closed = false;
        for (size_t c = 0; c < n_closed; c++)
            is_closed |= closed[c] == j;
        expect_end(&r, j,
                   is_closed      ? SN_OUTCOME_CLOSED
                   : j == refused ? SN_OUTCOME_UNREACHABLE
                                  : SN_OUTCOME_ALIVE,
                   KERNEL_LO_US, KERNEL_HI_US);
    }
    assert_true(r.st.icmp >= n_closed);
    /* Every datagram that left was stamped, the closed nodes' too (their stamp
     * comes before the ICMP error); the refused one never left. */
    if (tx_stamps == SN_TXSTAMP_AUTO)
        assert_in_range(r.st.tx_stamped, 16, n_alive + n_closed);
    else
        assert_int_equal(r.st.tx_stamped, n_alive + n_closed);
    run_free(&r);
}

static void test_udp_icmp_errors_and_a_refused_send_among_stamped_datagrams(void **state)
{
    (void)state;
    require_root();
    mixed_batch(SN_TXSTAMP_EVERY);
}

static void test_udp_icmp_errors_and_a_refused_send_among_sampled_stamps(void **state)
{
    (void)state;
    require_root();
    mixed_batch(SN_TXSTAMP_AUTO);
}

static void test_udp_counter_numbering_recovers_after_a_refused_send(void **state)
{
    (void)state;
    require_root();
    mixed_batch(SN_TXSTAMP_COUNTER);
}

/*
 * Replies that arrive faster than one read takes them (1,024 a wake-up) hold
 * the sending back until they are read: otherwise, at full rate, each loop
 * turn sends more than it reads, the socket's queue grows until the kernel
 * drops replies, and live nodes are reported silent. The swarm runs on a loop
 * of its own and answers all 1,500 datagrams before the transport's loop first
 * runs, so their replies wait in the socket together.
 */
static void test_udp_replies_queued_past_one_read_hold_sends_back_until_read(void **state)
{
    (void)state;
    require_root();
    run_t r;
    run_init(&r, 0);
    uint16_t port = next_free_port();
    for (int i = 0; i < 1500; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "127.79.%d.%d", i / 200, 1 + i % 200);
        add_target(&r, ip, port, SN_BEH_ALIVE, true);
    }
    uv_loop_t swarm_loop;
    assert_int_equal(uv_loop_init(&swarm_loop), 0);
    run_start(&r, SN_TXSTAMP_AUTO, &swarm_loop);
    sn_swarm_stats_t ss = {0};
    uint64_t give_up = uv_hrtime() + (uint64_t)GUARD_MS * 1000000ull;
    while (ss.udp_replies < r.n && uv_hrtime() < give_up) {
        uv_run(&swarm_loop, UV_RUN_ONCE);
        sn_swarm_get_stats(r.swarm, &ss);
    }
    assert_int_equal(ss.udp_replies, r.n);
    const sn_addr_t *dst = &r.dst[0];
    assert_true(sn_transport_udp.ready(r.udp, dst)); /* nothing read yet */

    uv_run(&r.loop, UV_RUN_ONCE); /* one wake-up: one read's worth */
    assert_int_equal(r.n_ended, 1024);
    assert_false(sn_transport_udp.ready(r.udp, dst));
    uv_run(&r.loop, UV_RUN_ONCE); /* the rest, and the queue is empty */
    assert_int_equal(r.n_ended, r.n);
    assert_true(sn_transport_udp.ready(r.udp, dst));
    for (size_t j = 0; j < r.n; j++)
        assert_int_equal(r.end[j].outcome, SN_OUTCOME_ALIVE);

    sn_transport_udp.close(r.udp);
    sn_swarm_stop(r.swarm);
    uv_close((uv_handle_t *)&r.guard, on_closed_handle);
    uv_close((uv_handle_t *)&r.linger, on_closed_handle);
    assert_int_equal(uv_run(&r.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_run(&swarm_loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&r.loop), 0);
    assert_int_equal(uv_loop_close(&swarm_loop), 0);
    assert_int_equal(r.closed, r.handles);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errq_decodes_v4_transmit_stamp_with_its_number_and_time),
        cmocka_unit_test(test_errq_decodes_v6_transmit_stamp_whose_time_comes_after_the_record),
        cmocka_unit_test(test_errq_icmp_port_unreachable_is_closed_with_its_destination),
        cmocka_unit_test(test_errq_icmp6_host_unreachable_is_unreachable),
        cmocka_unit_test(test_errq_refuses_stamps_it_cannot_trust),
        cmocka_unit_test(test_errq_empty_or_foreign_control_is_nothing),
        cmocka_unit_test(test_txring_matches_every_stamp_of_a_batch_to_its_datagram),
        cmocka_unit_test(test_txring_refuses_a_stamp_older_than_its_datagram),
        cmocka_unit_test(test_txring_forgets_a_datagram_put_over_and_keys_never_put),
        cmocka_unit_test(test_udp_every_datagram_of_a_full_batch_is_timed_by_its_kernel_stamp),
        cmocka_unit_test(test_udp_sampled_stamps_time_every_datagram_of_a_full_batch),
        cmocka_unit_test(test_udp_short_call_stamps_every_datagram),
        cmocka_unit_test(test_udp_counter_numbering_times_a_full_batch_by_kernel_stamps),
        cmocka_unit_test(test_udp_without_kernel_stamps_the_user_space_send_time_is_kept),
        cmocka_unit_test(test_udp_kernel_stamp_older_than_the_send_time_is_not_taken),
        cmocka_unit_test(test_udp_icmp_errors_and_a_refused_send_among_stamped_datagrams),
        cmocka_unit_test(test_udp_icmp_errors_and_a_refused_send_among_sampled_stamps),
        cmocka_unit_test(test_udp_counter_numbering_recovers_after_a_refused_send),
        cmocka_unit_test(test_udp_replies_queued_past_one_read_hold_sends_back_until_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
