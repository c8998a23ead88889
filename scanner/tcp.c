/*
 * TCP transport: a non-blocking connect per attempt, the handshake alone.
 *
 * All connecting sockets sit in one epoll set of our own, which the libuv loop
 * watches through a single poll handle: one epoll_ctl per connection and no
 * libuv handle per connection. The connection pool is sized below the
 * open-file limit; EMFILE is back-pressure (the connect waits for a slot),
 * never an outcome. A finished attempt reads the kernel's RTT (TCP_INFO) and
 * closes with SO_LINGER 0, so the scanner sends RST and leaves no TIME_WAIT.
 */
#include "scanner/engine_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void on_epoll(uv_poll_t *h, int status, int events);

sn_status_t sn_tcp_init(sn_engine_t *e, sn_error_t *err)
{
    e->conns = calloc(e->n_conns, sizeof *e->conns);
    if (e->conns == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory for %u connections", e->n_conns);
    for (uint32_t i = 0; i < e->n_conns; i++) {
        e->conns[i].fd = -1;
        e->conns[i].next_free = i + 1 < e->n_conns ? i + 1 : SN_NO_INDEX;
    }
    e->free_conn = 0;
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0)
        return sn_error_set(err, SN_ESYS, "epoll_create1: %s", strerror(errno));
    uv_poll_init(e->loop, &e->tcp_poll, e->epfd);
    e->tcp_poll.data = e;
    uv_poll_start(&e->tcp_poll, UV_READABLE, on_epoll);
    e->handles_open++;
    return SN_OK;
}

/* Ends a connection: RST instead of FIN, and the slot back to the pool. */
static void conn_release(sn_engine_t *e, uint32_t c)
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

int sn_tcp_connect(sn_engine_t *e, uint32_t j)
{
    if (e->free_conn == SN_NO_INDEX || e->tcp_inflight >= e->st.tcp_cap)
        return 1;
    job_t *job = &e->jobs[j];
    sn_addr_t dst = job->res.target->addr;
    dst.port = sn_tcp_current_port(e, job);
    int fd = socket(dst.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* The kernel says how many we may have: keep under it from now on. */
            e->st.backpressure++;
            if (e->tcp_inflight > 16 && errno == EMFILE)
                e->st.tcp_cap = e->tcp_inflight - 8;
            return 1;
        }
        job->res.tcp.outcome = SN_OUTCOME_ERROR;
        sn_engine_job_tcp_done(e, j);
        return -1;
    }
    uint32_t c = e->free_conn;
    tcp_conn_t *conn = &e->conns[c];
    e->free_conn = conn->next_free;
    e->tcp_inflight++;
    conn->fd = fd;
    conn->job = j;
    conn->port = dst.port;
    conn->start_ns = sn_now_ns();
    job->tcp_tries++;
    job->res.tcp.attempts++;

    struct sockaddr_storage ss;
    socklen_t sl = sn_addr_to_sockaddr(&dst, &ss);
    int rc = connect(fd, (struct sockaddr *)&ss, sl);
    if (rc != 0 && errno != EINPROGRESS) {
        int er = errno;
        conn_release(e, c);
        sn_engine_tcp_attempt_failed(e, j, er == ECONNREFUSED ? SN_OUTCOME_CLOSED
                                           : (er == ENETUNREACH || er == EHOSTUNREACH ||
                                              er == EACCES || er == EPERM)
                                               ? SN_OUTCOME_UNREACHABLE
                                               : SN_OUTCOME_ERROR);
        return 0;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLERR | EPOLLHUP,
                             .data.u64 = (uint64_t)conn->gen << 32 | c};
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        conn_release(e, c);
        job->res.tcp.outcome = SN_OUTCOME_ERROR;
        sn_engine_job_tcp_done(e, j);
        return 0;
    }
    sn_dlq_push(&e->tcp_dl, c, conn->gen, conn->start_ns + e->timeout_ns);
    return 0;
}

static void conn_finished(sn_engine_t *e, uint32_t c)
{
    tcp_conn_t *conn = &e->conns[c];
    uint32_t j = conn->job;
    job_t *job = &e->jobs[j];
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr == 0) {
        /* The kernel's own handshake RTT; the connect time where it has none. */
        struct tcp_info ti;
        socklen_t tl = sizeof ti;
        uint32_t rtt = 0;
        if (getsockopt(conn->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
            rtt = ti.tcpi_rtt;
        if (rtt == 0)
            rtt = (uint32_t)((sn_now_ns() - conn->start_ns) / 1000);
        uint16_t port = conn->port;
        conn_release(e, c);
        job->res.tcp.outcome = SN_OUTCOME_ALIVE;
        job->res.tcp.rtt_us = rtt;
        job->res.tcp.port = port;
        e->st.replies++;
        sn_engine_job_tcp_done(e, j);
        return;
    }
    conn_release(e, c);
    sn_outcome_t o = soerr == ECONNREFUSED ? SN_OUTCOME_CLOSED
                     : (soerr == ETIMEDOUT) ? SN_OUTCOME_FILTERED
                     : (soerr == ENETUNREACH || soerr == EHOSTUNREACH || soerr == EACCES)
                         ? SN_OUTCOME_UNREACHABLE
                         : SN_OUTCOME_ERROR;
    sn_engine_tcp_attempt_failed(e, j, o);
}

/* Handles the connections that have finished. */
static void drain(sn_engine_t *e)
{
    struct epoll_event evs[256];
    for (int round = 0; round < 16; round++) {
        int n = epoll_wait(e->epfd, evs, 256, 0);
        for (int i = 0; i < n; i++) {
            uint32_t c = (uint32_t)evs[i].data.u64;
            uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
            if (c < e->n_conns && e->conns[c].fd >= 0 && e->conns[c].gen == gen)
                conn_finished(e, c);
        }
        if (n < 256)
            break;
    }
}

static void on_epoll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    sn_engine_t *e = h->data;
    if (e->closing)
        return;
    drain(e);
    sn_engine_pump(e);
}

void sn_tcp_expire(sn_engine_t *e, uint64_t now)
{
    dlq_t *q = &e->tcp_dl;
    /* A handshake that completed in time may not have been read yet. */
    if (q->len > 0 && q->v[q->head].at_ns <= now)
        drain(e);
    while (q->len > 0 && q->v[q->head].at_ns <= now) {
        deadline_t d = q->v[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
        tcp_conn_t *conn = &e->conns[d.id];
        if (conn->fd < 0 || conn->gen != d.gen)
            continue;
        uint32_t j = conn->job;
        conn_release(e, d.id);
        sn_engine_tcp_attempt_failed(e, j, SN_OUTCOME_FILTERED);
    }
}

void sn_tcp_abort_all(sn_engine_t *e)
{
    for (uint32_t c = 0; c < e->n_conns && e->conns != NULL; c++) {
        if (e->conns[c].fd < 0)
            continue;
        uint32_t j = e->conns[c].job;
        conn_release(e, c);
        sn_engine_tcp_attempt_failed(e, j, SN_OUTCOME_FILTERED);
    }
}

static void on_epoll_closed(uv_handle_t *h)
{
    sn_engine_t *e = h->data;
    close(e->epfd);
    e->epfd = -1;
    sn_engine_handle_closed(h);
}

void sn_tcp_close(sn_engine_t *e)
{
    if (e->epfd < 0)
        return;
    for (uint32_t c = 0; c < e->n_conns && e->conns != NULL; c++)
        if (e->conns[c].fd >= 0)
            conn_release(e, c);
    uv_close((uv_handle_t *)&e->tcp_poll, on_epoll_closed);
}
