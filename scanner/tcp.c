/*
 * TCP transport: a non-blocking connect per attempt, the handshake alone.
 *
 * All connecting sockets sit in one epoll set of our own, which the libuv loop
 * watches through a single poll handle: one epoll_ctl per connection and no
 * libuv handle per connection. The connection pool is sized below the
 * open-file limit; EMFILE is back-pressure (the connect waits for a slot),
 * never an outcome. A finished attempt reads the kernel's RTT (TCP_INFO) and
 * closes with SO_LINGER 0, so the scanner sends RST and leaves no TIME_WAIT.
 * Every attempt's end goes to the engine through the one upcall; the engine
 * decides on retries and fallback ports (scanner/transport.h).
 *
 * How long a handshake may take is learned from the scan's answers unless the
 * user fixed it (scanner/rto.h): the deadline FIFO holds each attempt's start,
 * and the timeout that applies is asked for when deadlines are checked. Before
 * an attempt is called filtered its socket is asked once more whether the
 * handshake ended meanwhile, so that a completion not yet read from the epoll
 * set is never taken for silence.
 */
#include "scanner/transport.h"

#include "scanner/rto.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct tcp_conn {
    int fd;
    uint32_t job;
    uint32_t job_gen; /* the job's generation, echoed in the upcall */
    uint32_t gen;     /* bumped whenever the slot is freed, to spot stale events */
    uint32_t next_free;
    uint16_t port;
    uint64_t start_ns; /* monotonic, at connect() */
} tcp_conn_t;

typedef struct tcp {
    sn_transport_env_t env;
    int epfd;
    uv_poll_t tcp_poll;
    tcp_conn_t *conns;
    uint32_t n_conns, free_conn, tcp_inflight;
    sn_dlq_t tcp_dl; /* at_ns: the attempt's start; its deadline is that plus the timeout */
    sn_rto_t rto;
    int closing;
    int handles;
} tcp_t;

static void on_epoll(uv_poll_t *h, int status, int events);

/* Tells the engine how connection c's attempt ended (the slot is released first). */
static void tcp_end(tcp_t *e, uint32_t job, uint32_t job_gen, sn_outcome_t o, uint32_t rtt,
                    uint16_t port)
{
    sn_attempt_end_t end = {.job = job,
                            .gen = job_gen,
                            .transport = SN_TRANSPORT_TCP,
                            .outcome = o,
                            .rtt_us = rtt,
                            .port = port};
    e->env.done(e->env.engine, &end);
}

static sn_status_t tcp_init(const sn_transport_env_t *env, void **state, int *handles,
                            sn_error_t *err)
{
    *state = NULL;
    *handles = 0;
    tcp_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    e->env = *env;
    e->epfd = -1;
    sn_rto_init(&e->rto, env->timeout_ns, !env->fixed_timeout);
    e->env.st->tcp_timeout_ms = (uint32_t)(env->timeout_ns / 1000000u);
    e->n_conns = env->max_conns;
    e->conns = calloc(e->n_conns, sizeof *e->conns);
    if (e->conns == NULL) {
        free(e);
        return sn_error_set(err, SN_ENOMEM, "out of memory for %u connections", env->max_conns);
    }
    *state = e; /* from here on the engine closes it on failure */
    for (uint32_t i = 0; i < e->n_conns; i++) {
        e->conns[i].fd = -1;
        e->conns[i].next_free = i + 1 < e->n_conns ? i + 1 : SN_NO_INDEX;
    }
    e->free_conn = 0;
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0)
        return sn_error_set(err, SN_ESYS, "epoll_create1: %s", strerror(errno));
    int rc = uv_poll_init(e->env.loop, &e->tcp_poll, e->epfd);
    if (rc != 0)
        return sn_error_set(err, SN_ESYS, "cannot watch the epoll set: %s", uv_strerror(rc));
    e->tcp_poll.data = e;
    e->handles = *handles = 1;
    if ((rc = uv_poll_start(&e->tcp_poll, UV_READABLE, on_epoll)) != 0)
        return sn_error_set(err, SN_ESYS, "cannot watch the epoll set: %s", uv_strerror(rc));
    return SN_OK;
}

/* Ends a connection: RST instead of FIN, and the slot back to the pool. */
static void conn_release(tcp_t *e, uint32_t c)
{
    tcp_conn_t *conn = &e->conns[c];
    struct linger lg = {1, 0};
    setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(conn->fd); /* also leaves the epoll set */
    conn->fd = -1;
    conn->gen++;
    conn->next_free = e->free_conn;
    e->free_conn = c;
    e->tcp_inflight--;
}

static bool tcp_ready(const void *state, const sn_addr_t *dst)
{
    const tcp_t *e = state;
    (void)dst;
    return e->free_conn != SN_NO_INDEX && e->tcp_inflight < e->env.st->tcp_cap;
}

static int tcp_send(void *state, const sn_attempt_t *a)
{
    tcp_t *e = state;
    if (!tcp_ready(e, &a->dst))
        return SN_SEND_LATER;
    sn_addr_t dst = a->dst;
    int fd = socket(dst.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* The kernel says how many we may have: keep under it from now on. */
            e->env.st->backpressure++;
            if (e->tcp_inflight > 16 && errno == EMFILE)
                e->env.st->tcp_cap = e->tcp_inflight - 8;
            return SN_SEND_LATER;
        }
        return SN_SEND_FAILED;
    }
    uint32_t c = e->free_conn;
    tcp_conn_t *conn = &e->conns[c];
    e->free_conn = conn->next_free;
    e->tcp_inflight++;
    conn->fd = fd;
    conn->job = a->job;
    conn->job_gen = a->gen;
    conn->port = dst.port;
    conn->start_ns = sn_clock_mono(e->env.clock);
    sn_rto_sent(&e->rto, conn->start_ns);

    struct sockaddr_storage ss;
    socklen_t sl = sn_addr_to_sockaddr(&dst, &ss);
    int rc = connect(fd, (struct sockaddr *)&ss, sl);
    if (rc != 0 && errno != EINPROGRESS) {
        int er = errno;
        conn_release(e, c);
        tcp_end(e, a->job, a->gen,
                er == ECONNREFUSED ? SN_OUTCOME_CLOSED
                : (er == ENETUNREACH || er == EHOSTUNREACH || er == EACCES || er == EPERM)
                    ? SN_OUTCOME_UNREACHABLE
                    : SN_OUTCOME_ERROR,
                0, 0);
        return 0;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLERR | EPOLLHUP,
                             .data.u64 = (uint64_t)conn->gen << 32 | c};
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 ||
        sn_dlq_push(&e->tcp_dl, c, conn->gen, conn->start_ns) != 0) {
        /* Not watched, or no deadline (out of memory): the attempt cannot be followed. */
        conn_release(e, c);
        return SN_SEND_FAILED;
    }
    return 0;
}

/* Connection c's handshake has ended: tells the engine how. timed: its end is read as it
 * happens (from the epoll set), so the time since connect() is a sample for the adaptive
 * timeout; else (found at its deadline) only the kernel's own RTT is. */
static void conn_finished(tcp_t *e, uint32_t c, bool timed)
{
    tcp_conn_t *conn = &e->conns[c];
    uint32_t j = conn->job, jg = conn->job_gen;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    /* The adaptive timeout learns from what answered, by the clock its deadlines use: the
     * scanner's own lag in reading an answer is part of what the timeout must cover. */
    uint64_t elapsed = sn_clock_mono(e->env.clock) - conn->start_ns;
    if (timed && (soerr == 0 || soerr == ECONNREFUSED))
        sn_rto_answered(&e->rto, elapsed);
    if (soerr == 0) {
        /* The kernel's own handshake RTT; the connect time where it has none. */
        struct tcp_info ti;
        socklen_t tl = sizeof ti;
        uint32_t rtt = 0;
        if (getsockopt(conn->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
            rtt = ti.tcpi_rtt;
        if (rtt == 0)
            rtt = (uint32_t)(elapsed / 1000);
        else if (!timed)
            sn_rto_answered(&e->rto, (uint64_t)rtt * 1000u);
        uint16_t port = conn->port;
        conn_release(e, c);
        tcp_end(e, j, jg, SN_OUTCOME_ALIVE, rtt, port);
        return;
    }
    conn_release(e, c);
    sn_outcome_t o = soerr == ECONNREFUSED  ? SN_OUTCOME_CLOSED
                     : (soerr == ETIMEDOUT) ? SN_OUTCOME_FILTERED
                     : (soerr == ENETUNREACH || soerr == EHOSTUNREACH || soerr == EACCES)
                         ? SN_OUTCOME_UNREACHABLE
                         : SN_OUTCOME_ERROR;
    tcp_end(e, j, jg, o, 0, 0);
}

/* Handles the connections that have finished. */
static void drain(tcp_t *e)
{
    struct epoll_event evs[256];
    for (int round = 0; round < 16; round++) {
        int n = epoll_wait(e->epfd, evs, 256, 0);
        for (int i = 0; i < n; i++) {
            uint32_t c = (uint32_t)evs[i].data.u64;
            uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
            if (c < e->n_conns && e->conns[c].fd >= 0 && e->conns[c].gen == gen)
                conn_finished(e, c, true);
        }
        if (n < 256)
            break;
    }
}

static void on_epoll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    tcp_t *e = h->data;
    if (e->closing)
        return;
    drain(e);
    e->env.done(e->env.engine, NULL); /* the batch is over: the engine may send */
}

/* False when nothing can be due at now (not a whole timeout since the clock's zero);
 * else *limit is the latest start that is due at now. */
static bool due_limit(const tcp_t *e, uint64_t now, uint64_t *limit)
{
    uint64_t to = sn_rto_timeout(&e->rto, now);
    e->env.st->tcp_timeout_ms = (uint32_t)(to / 1000000u);
    *limit = now >= to ? now - to : 0;
    return now >= to;
}

/* True when connection c's handshake has ended, though its end was not read yet. */
static bool conn_ended(const tcp_conn_t *conn)
{
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    return getsockopt(conn->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
           ti.tcpi_state != TCP_SYN_SENT;
}

/* Every deadline due by now ends its attempt as filtered; UINT64_MAX / 2 ends them all. */
static void tcp_expire(void *state, uint64_t now)
{
    tcp_t *e = state;
    sn_dlq_t *q = &e->tcp_dl;
    uint64_t real_now = sn_clock_mono(e->env.clock);
    uint64_t limit;
    if (!due_limit(e, now, &limit) || !sn_dlq_due(q, limit))
        return;
    /* A handshake that completed in time may not have been read yet; what is read may
     * also lengthen the timeout, so the limit is taken again afterwards. */
    drain(e);
    if (!due_limit(e, now, &limit))
        return;
    uint64_t real_to = sn_rto_timeout(&e->rto, real_now);
    sn_deadline_t d;
    while (sn_dlq_pop_due(q, limit, &d)) {
        tcp_conn_t *conn = &e->conns[d.id];
        if (conn->fd < 0 || conn->gen != d.gen)
            continue;
        if (conn_ended(conn)) {
            conn_finished(e, d.id, false);
            continue;
        }
        uint32_t j = conn->job, jg = conn->job_gen;
        conn_release(e, d.id);
        /* A deadline still ahead was cut (second signal): unknown, not filtered. */
        tcp_end(e, j, jg,
                d.at_ns + real_to > real_now ? SN_OUTCOME_INCOMPLETE : SN_OUTCOME_FILTERED, 0, 0);
    }
}

/* The head's deadline under what is known now: its start plus the configured timeout,
 * or plus the learned one once that applies (not before it does). */
static uint64_t tcp_next_deadline(const void *state)
{
    const tcp_t *e = state;
    if (e->tcp_dl.len == 0)
        return UINT64_MAX;
    uint64_t start = e->tcp_dl.v[e->tcp_dl.head].at_ns;
    return sn_rto_deadline(&e->rto, start);
}

/* Connections end with the attempt; the engine forgets the job itself. */
static void tcp_cancel(void *state, uint32_t job)
{
    (void)state;
    (void)job;
}

static void tcp_free(tcp_t *e)
{
    if (e->epfd >= 0)
        close(e->epfd);
    free(e->conns);
    free(e->tcp_dl.v);
    free(e);
}

static void on_epoll_closed(uv_handle_t *h)
{
    tcp_t *e = h->data;
    e->env.closed(e->env.engine);
    tcp_free(e);
}

static void tcp_close(void *state)
{
    tcp_t *e = state;
    if (e == NULL || e->closing)
        return;
    e->closing = 1;
    for (uint32_t c = 0; c < e->n_conns && e->conns != NULL; c++)
        if (e->conns[c].fd >= 0)
            conn_release(e, c);
    if (e->handles == 0) {
        tcp_free(e);
        return;
    }
    uv_close((uv_handle_t *)&e->tcp_poll, on_epoll_closed);
}

const sn_transport_ops_t sn_transport_tcp = {
    .name = "tcp",
    .transport = SN_TRANSPORT_TCP,
    .init = tcp_init,
    .send = tcp_send,
    .ready = tcp_ready,
    .flush = NULL,
    .expire = tcp_expire,
    .next_deadline = tcp_next_deadline,
    .cancel = tcp_cancel,
    .close = tcp_close,
};
