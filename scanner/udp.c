/*
 * UDP transport: one unconnected socket per address family for every target.
 *
 * Requests are built into a batch and leave in one sendmmsg; replies arrive in
 * recvmmsg batches with their kernel receive time (SO_TIMESTAMPNS), so a busy
 * loop does not inflate the RTT. A reply is matched first by its source
 * address and port (hash table), then by the token the probe found in it;
 * when the port differs (a NAT or relay in front of the node) the token alone
 * finds the job and the reply is recorded as coming from elsewhere. ICMP
 * errors come through IP_RECVERR's error queue, which names the original
 * destination.
 *
 * The transport keeps its own record per job slot (where the probe went, its
 * token, its last send): it knows jobs only through the attempts the engine
 * sends (scanner/transport.h), and reports every end through the one upcall.
 * Whether a timed-out attempt is retried is the engine's decision.
 */
#include "scanner/transport.h"
#include "scanner/udp.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UDP_BATCH 256    /* datagrams per sendmmsg / recvmmsg */
#define UDP_MSG_MAX 1500 /* largest request or reply handled */

typedef struct udp udp_t;

typedef struct udp_sock {
    udp_t *u;
    int fd;
    int family;
    uv_poll_t poll;
    int poll_events;
    unsigned nbatch; /* datagrams built and not yet sent */
    bool flushing;   /* a send is under way: a result callback inside it must not send again */
    uint32_t job[UDP_BATCH];
    uint32_t job_gen[UDP_BATCH]; /* the job's generation when its datagram was built */
    struct mmsghdr msg[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct sockaddr_storage dst[UDP_BATCH];
    uint8_t buf[UDP_BATCH][UDP_MSG_MAX];
} udp_sock_t;

/* A slot of the UDP reply table: the job (+1; 0 = empty) and its key's hash. */
typedef struct udp_slot {
    uint32_t job1;
    uint32_t hash;
} udp_slot_t;

/* What the transport knows of the probe in one job slot. */
typedef struct ujob {
    sn_addr_t key; /* where the request goes: the reply table's key */
    uint64_t token;
    uint64_t sent_ns; /* CLOCK_REALTIME of the last send (kernel stamps are realtime) */
    uint32_t gen;     /* the job's generation */
    uint8_t seq;      /* sends made; a deadline carries the value it was pushed with */
    uint8_t live;     /* in the reply table, not cancelled */
} ujob_t;

struct udp {
    sn_transport_env_t env;
    uint64_t token_mask;
    ujob_t *jobs; /* env.n_jobs records */
    udp_sock_t *udp4, *udp6;
    udp_slot_t *udp_table; /* (ip, port) -> job; open addressing, linear probing */
    uint32_t udp_mask;
    sn_dlq_t udp_dl;
    uint8_t *rx_buf; /* UDP_BATCH * UDP_MSG_MAX */
    int closing;
    int handles; /* open; the state is freed when the last has closed */
};

/* Tells the engine that an attempt of job j ended with o. */
static void udp_end(udp_t *u, uint32_t j, sn_outcome_t o)
{
    sn_attempt_end_t end = {
        .job = j, .gen = u->jobs[j].gen, .transport = SN_TRANSPORT_UDP, .outcome = o};
    u->env.done(u->env.engine, &end);
}

/*
 * The reply table: (ip, port) -> job, linear probing. Each slot keeps its
 * key's hash, so a probe compares 32 bits before it looks at a job, and a
 * deletion finds the home of the entries it shifts without hashing again.
 */

static const sn_addr_t *job_key(const udp_t *u, uint32_t j)
{
    return &u->jobs[j].key;
}

static uint32_t key_hash(const sn_addr_t *k)
{
    return (uint32_t)sn_addr_hash(k, 0x5eed);
}

static void table_insert(udp_t *e, uint32_t j)
{
    uint32_t h = key_hash(job_key(e, j)), i = h & e->udp_mask;
    while (e->udp_table[i].job1 != 0)
        i = (i + 1) & e->udp_mask;
    e->udp_table[i] = (udp_slot_t){j + 1, h};
}

static uint32_t table_find_slot(const udp_t *e, const sn_addr_t *k)
{
    uint32_t h = key_hash(k), i = h & e->udp_mask;
    for (;;) {
        const udp_slot_t *sl = &e->udp_table[i];
        if (sl->job1 == 0)
            return UINT32_MAX;
        if (sl->hash == h && sn_addr_equal(job_key(e, sl->job1 - 1), k))
            return i;
        i = (i + 1) & e->udp_mask;
    }
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void table_delete_slot(udp_t *e, uint32_t i)
{
    e->udp_table[i].job1 = 0;
    uint32_t k = i;
    for (;;) {
        k = (k + 1) & e->udp_mask;
        udp_slot_t v = e->udp_table[k];
        if (v.job1 == 0)
            return;
        uint32_t home = v.hash & e->udp_mask;
        if (((k - home) & e->udp_mask) >= ((k - i) & e->udp_mask)) {
            e->udp_table[i] = v;
            e->udp_table[k].job1 = 0;
            i = k;
        }
    }
}

static void udp_cancel(void *state, uint32_t j)
{
    udp_t *e = state;
    ujob_t *uj = &e->jobs[j];
    if (!uj->live)
        return;
    uj->live = 0;
    uint32_t i = table_find_slot(e, &uj->key);
    if (i != UINT32_MAX && e->udp_table[i].job1 == j + 1)
        table_delete_slot(e, i);
}

/* ---- sockets ---- */

static void on_udp_io(uv_poll_t *h, int status, int events);

static int set_int(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof v);
}

static udp_sock_t *open_sock(udp_t *e, int family, sn_error_t *err)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        sn_error_set(err, SN_ESYS, "cannot open a UDP socket: %s", strerror(errno));
        return NULL;
    }
    /* Large buffers absorb reply bursts at high rates; FORCE works as root. */
    if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20) != 0)
        set_int(fd, SOL_SOCKET, SO_RCVBUF, 16 << 20);
    if (set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20) != 0)
        set_int(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
    set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
    if (family == AF_INET6) {
        set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
        set_int(fd, IPPROTO_IPV6, IPV6_RECVERR, 1);
    } else {
        set_int(fd, IPPROTO_IP, IP_RECVERR, 1);
    }
    udp_sock_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        close(fd);
        sn_error_set(err, SN_ENOMEM, "out of memory");
        return NULL;
    }
    s->u = e;
    s->fd = fd;
    s->family = family;
    for (unsigned k = 0; k < UDP_BATCH; k++) {
        s->iov[k].iov_base = s->buf[k];
        s->msg[k].msg_hdr.msg_iov = &s->iov[k];
        s->msg[k].msg_hdr.msg_iovlen = 1;
        s->msg[k].msg_hdr.msg_name = &s->dst[k];
    }
    int rc = uv_poll_init(e->env.loop, &s->poll, fd);
    if (rc != 0) {
        close(fd);
        free(s);
        sn_error_set(err, SN_ESYS, "cannot watch a UDP socket: %s", uv_strerror(rc));
        return NULL;
    }
    s->poll.data = s;
    s->poll_events = UV_READABLE;
    e->handles++;
    if ((rc = uv_poll_start(&s->poll, UV_READABLE, on_udp_io)) != 0)
        sn_error_set(err, SN_ESYS, "cannot watch a UDP socket: %s", uv_strerror(rc));
    return s;
}

static void udp_close(void *state);

static sn_status_t udp_init(const sn_transport_env_t *env, void **state, int *handles,
                            sn_error_t *err)
{
    *state = NULL;
    *handles = 0;
    udp_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    e->env = *env;
    unsigned b = env->probe->token_bits;
    e->token_mask = b >= 64 ? UINT64_MAX : (1ull << b) - 1;
    uint32_t cap = 1024;
    while (cap < env->n_jobs * 2u)
        cap <<= 1;
    e->jobs = calloc(env->n_jobs, sizeof *e->jobs);
    e->udp_table = calloc(cap, sizeof *e->udp_table);
    e->rx_buf = malloc((size_t)UDP_BATCH * UDP_MSG_MAX);
    if (e->jobs == NULL || e->udp_table == NULL || e->rx_buf == NULL) {
        free(e->jobs);
        free(e->udp_table);
        free(e->rx_buf);
        free(e);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    e->udp_mask = cap - 1;
    *state = e;
    /* From here on the engine owns the state and closes it on failure. */
    e->udp4 = open_sock(e, AF_INET, err);
    if (e->udp4 == NULL || !uv_is_active((uv_handle_t *)&e->udp4->poll)) {
        *handles = e->handles;
        return SN_ESYS;
    }
    e->udp6 = open_sock(e, AF_INET6, NULL); /* optional: a host without IPv6 still scans IPv4 */
    *handles = e->handles;
    return SN_OK;
}

static void udp_free(udp_t *e)
{
    free(e->jobs);
    free(e->udp_table);
    free(e->rx_buf);
    free(e->udp_dl.v);
    free(e->udp4);
    free(e->udp6);
    free(e);
}

/* The descriptor closes with its handle; the last handle frees the state. */
static void on_sock_closed(uv_handle_t *h)
{
    udp_sock_t *s = h->data;
    udp_t *e = s->u;
    close(s->fd);
    e->env.closed(e->env.engine);
    if (--e->handles == 0)
        udp_free(e);
}

static void udp_close(void *state)
{
    udp_t *e = state;
    if (e == NULL || e->closing)
        return;
    e->closing = 1;
    if (e->handles == 0) {
        udp_free(e);
        return;
    }
    if (e->udp4 != NULL)
        uv_close((uv_handle_t *)&e->udp4->poll, on_sock_closed);
    if (e->udp6 != NULL)
        uv_close((uv_handle_t *)&e->udp6->poll, on_sock_closed);
}

/* ---- sending ---- */

static udp_sock_t *sock_for(udp_t *e, const sn_addr_t *dst)
{
    return dst->family == AF_INET6 ? e->udp6 : e->udp4;
}

/* Full, and the kernel asked us to wait for the socket to drain: no more for now. */
static bool udp_ready(const void *state, const sn_addr_t *dst)
{
    const udp_t *e = state;
    if (dst == NULL)
        return true;
    const udp_sock_t *s = dst->family == AF_INET6 ? e->udp6 : e->udp4;
    return !(s != NULL && s->nbatch == UDP_BATCH && (s->poll_events & UV_WRITABLE));
}

static void flush_sock(udp_t *e, udp_sock_t *s);
static void handle_icmp(udp_t *e, udp_sock_t *s);

/* Pure decoder of one error-queue message (scanner/udp.h); fuzzed by tests/fuzz/fuzz_icmp.c. */
bool sn_udp_icmp_decode(const struct msghdr *m, sn_outcome_t *o, sn_addr_t *to)
{
    if (m->msg_control == NULL || m->msg_controllen < sizeof(struct cmsghdr))
        return false;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
              (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
            continue;
        /* The kernel always fills a whole sock_extended_err, but the decoder does not
         * rely on it: a short record inside the control buffer is skipped. */
        size_t room = (size_t)((const uint8_t *)m->msg_control + m->msg_controllen -
                               (const uint8_t *)CMSG_DATA(c));
        if (c->cmsg_len < CMSG_LEN(sizeof(struct sock_extended_err)) ||
            room < sizeof(struct sock_extended_err))
            continue;
        struct sock_extended_err ee;
        memcpy(&ee, CMSG_DATA(c), sizeof ee); /* no alignment assumed */
        if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6)
            continue;
        if (ee.ee_errno == ECONNREFUSED)
            *o = SN_OUTCOME_CLOSED;
        else if (ee.ee_errno == EHOSTUNREACH || ee.ee_errno == ENETUNREACH ||
                 ee.ee_errno == EACCES || ee.ee_errno == EHOSTDOWN)
            *o = SN_OUTCOME_UNREACHABLE;
        else
            continue; /* fragmentation needed and the like: not an answer */
        if (m->msg_name == NULL || m->msg_namelen < sizeof(sa_family_t) ||
            m->msg_namelen > sizeof(struct sockaddr_storage))
            return false;
        struct sockaddr_storage dst = {0};
        memcpy(&dst, m->msg_name, m->msg_namelen);
        if ((dst.ss_family == AF_INET && m->msg_namelen < sizeof(struct sockaddr_in)) ||
            (dst.ss_family == AF_INET6 && m->msg_namelen < sizeof(struct sockaddr_in6)))
            return false;
        return sn_addr_from_sockaddr((struct sockaddr *)&dst, to) == SN_OK;
    }
    return false;
}

static int udp_send(void *state, const sn_attempt_t *a)
{
    udp_t *e = state;
    udp_sock_t *s = sock_for(e, &a->dst);
    if (s == NULL)
        return SN_SEND_FAILED;
    if (s->nbatch == UDP_BATCH)
        flush_sock(e, s); /* a full batch leaves now, and the pump goes on */
    if (s->nbatch == UDP_BATCH)
        return SN_SEND_LATER; /* the kernel will not take more now: try again when writable */

    unsigned k = s->nbatch;
    sn_probe_req_t req = {.target = a->dst, .token = a->token};
    int n = e->env.probe->build(&req, s->buf[k], UDP_MSG_MAX);
    if (n < 0)
        return SN_SEND_FAILED;
    s->iov[k].iov_len = (size_t)n;
    s->msg[k].msg_hdr.msg_namelen = sn_addr_to_sockaddr(&req.target, &s->dst[k]);
    s->job[k] = a->job;
    s->job_gen[k] = a->gen;
    s->nbatch++;
    ujob_t *uj = &e->jobs[a->job];
    if (a->seq == 0 || !uj->live || uj->gen != a->gen) {
        if (uj->live)
            udp_cancel(e, a->job); /* a slot the engine reused without a word: cannot happen */
        *uj = (ujob_t){.key = a->dst, .token = a->token, .gen = a->gen, .live = 1};
        table_insert(e, a->job);
    }
    uj->seq = (uint8_t)(a->seq + 1);
    return 0;
}

/* Sends what is batched on s; what the kernel will not take now stays batched. */
static void flush_sock(udp_t *e, udp_sock_t *s)
{
    if (s->flushing)
        return; /* a result callback of this very send stopped the scan */
    s->flushing = true;
    unsigned off = 0;
    bool retried = false;
    while (off < s->nbatch) {
        uint64_t rt = sn_clock_real(e->env.clock), mono = sn_clock_mono(e->env.clock);
        int r = sendmmsg(s->fd, &s->msg[off], s->nbatch - off, 0);
        if (r > 0) {
            /* Every datagram of the call is stamped with the time before it:
             * an RTT may then include part of the call, but is never shorter
             * than the true one (interpolating within the call was tried and
             * gave RTTs below the responder's own delay). */
            for (unsigned k = off; k < off + (unsigned)r; k++) {
                ujob_t *uj = &e->jobs[s->job[k]];
                if (!uj->live || uj->gen != s->job_gen[k])
                    continue; /* its target finished while the datagram waited */
                uj->sent_ns = rt;
                if (sn_dlq_push(&e->udp_dl, s->job[k], uj->gen << 8 | uj->seq,
                                mono + e->env.timeout_ns) != 0)
                    udp_end(e, s->job[k], SN_OUTCOME_ERROR); /* no deadline: out of memory */
            }
            off += (unsigned)r;
            retried = false;
            continue;
        }
        if (errno == EAGAIN || errno == ENOBUFS) {
            e->env.st->backpressure++;
            if (!(s->poll_events & UV_WRITABLE)) {
                s->poll_events |= UV_WRITABLE;
                uv_poll_start(&s->poll, s->poll_events, on_udp_io);
            }
            break;
        }
        if (errno == EINTR)
            continue;
        /* With IP_RECVERR, an ICMP error that arrived for an earlier datagram is
         * reported by the next send on the socket: consume it and try again. Only
         * when the same datagram fails twice is the error its own. */
        int er = errno;
        if (!retried &&
            (er == ECONNREFUSED || er == EHOSTUNREACH || er == ENETUNREACH || er == EHOSTDOWN)) {
            retried = true;
            handle_icmp(e, s);
            continue;
        }
        retried = false;
        /* This datagram cannot be sent at all (no route, refused by a local
         * firewall): an outcome for its target, not an error of the scan. */
        uint32_t j = s->job[off];
        bool current = e->jobs[j].live && e->jobs[j].gen == s->job_gen[off];
        sn_outcome_t o = er == ENETUNREACH || er == EHOSTUNREACH || er == EPERM || er == EACCES ||
                                 er == EHOSTDOWN
                             ? SN_OUTCOME_UNREACHABLE
                             : SN_OUTCOME_ERROR;
        off++;
        if (current)
            udp_end(e, j, o);
    }
    if (off > 0) {
        unsigned rest = s->nbatch - off;
        for (unsigned k = 0; k < rest; k++) {
            s->job[k] = s->job[off + k];
            s->job_gen[k] = s->job_gen[off + k];
            memcpy(s->buf[k], s->buf[off + k], s->iov[off + k].iov_len);
            s->iov[k].iov_len = s->iov[off + k].iov_len;
            s->dst[k] = s->dst[off + k];
            s->msg[k].msg_hdr.msg_namelen = s->msg[off + k].msg_hdr.msg_namelen;
        }
        s->nbatch = rest;
    }
    s->flushing = false;
}

static void udp_flush(void *state)
{
    udp_t *e = state;
    if (e->udp4 != NULL && e->udp4->nbatch > 0)
        flush_sock(e, e->udp4);
    if (e->udp6 != NULL && e->udp6->nbatch > 0)
        flush_sock(e, e->udp6);
}

static bool receive(udp_t *e, udp_sock_t *s);

static void udp_expire(void *state, uint64_t now)
{
    udp_t *e = state;
    sn_dlq_t *q = &e->udp_dl;
    /* A reply that came in time may still wait in the socket while the loop
     * was busy elsewhere (a long send, TCP completions): read what is queued
     * before declaring any timeout. */
    if (sn_dlq_due(q, now)) {
        for (int i = 0; i < 256 && e->udp4 != NULL && receive(e, e->udp4); i++)
            ;
        for (int i = 0; i < 256 && e->udp6 != NULL && receive(e, e->udp6); i++)
            ;
    }
    uint64_t real_now = sn_clock_mono(e->env.clock);
    sn_deadline_t d;
    while (sn_dlq_pop_due(q, now, &d)) {
        const ujob_t *uj = &e->jobs[d.id];
        if (!uj->live || (uj->gen << 8 | uj->seq) != d.gen)
            continue; /* answered, or a newer attempt owns the job */
        /* Silence is `filtered` only after the attempt had its whole timeout; a
         * deadline still ahead (the scan stops at once: now is far ahead) was
         * cut short, and what it would have said is unknown. The engine decides
         * on a retry. */
        udp_end(e, d.id, d.at_ns > real_now ? SN_OUTCOME_INCOMPLETE : SN_OUTCOME_FILTERED);
    }
}

static uint64_t udp_next_deadline(const void *state)
{
    const udp_t *e = state;
    return e->udp_dl.len > 0 ? e->udp_dl.v[e->udp_dl.head].at_ns : UINT64_MAX;
}

/* ---- receiving ---- */

static void handle_reply(udp_t *e, const uint8_t *buf, size_t len, const struct sockaddr *src,
                         uint64_t rx_ns)
{
    sn_probe_reply_t rep;
    sn_probe_reply_clear(&rep); /* not the whole value slots: this runs once per packet */
    sn_addr_t from;
    if (sn_addr_from_sockaddr(src, &from) != SN_OK || e->env.probe->parse(buf, len, &rep) != 1) {
        e->env.st->late++;
        return;
    }
    uint32_t j;
    bool other = false;
    uint32_t slot = table_find_slot(e, &from);
    if (slot != UINT32_MAX) {
        j = e->udp_table[slot].job1 - 1;
        if (((rep.token ^ e->jobs[j].token) & e->token_mask) != 0) {
            e->env.st->late++;
            return;
        }
    } else {
        /* Not from the probed address and port: the token finds the job. */
        if (e->token_mask == 0) {
            e->env.st->late++;
            return;
        }
        j = (uint32_t)(rep.token & ((1ull << e->env.idx_bits) - 1));
        const ujob_t *uj = j < e->env.n_jobs ? &e->jobs[j] : NULL;
        /* A short token is only trusted from the probed IP; 32 bits and more
         * are trusted from anywhere (a relay in front of the node). */
        if (uj == NULL || !uj->live || uj->seq == 0 ||
            ((rep.token ^ uj->token) & e->token_mask) != 0 ||
            (e->env.probe->token_bits < 32 && !sn_addr_same_ip(&from, &uj->key))) {
            e->env.st->late++;
            return;
        }
        other = true;
    }
    const ujob_t *uj = &e->jobs[j];
    sn_attempt_end_t end = {.job = j,
                            .gen = uj->gen,
                            .transport = SN_TRANSPORT_UDP,
                            .outcome = SN_OUTCOME_ALIVE,
                            .rtt_us =
                                rx_ns > uj->sent_ns ? (uint32_t)((rx_ns - uj->sent_ns) / 1000) : 0,
                            .observed = rep.observed,
                            .values = e->env.probe->n_fields > 0 ? &rep.values : NULL};
    if (other)
        end.from = from;
    e->env.done(e->env.engine, &end);
}

static void handle_icmp(udp_t *e, udp_sock_t *s)
{
    for (int n = 0; n < 1024; n++) {
        struct sockaddr_storage dst;
        uint8_t data[64];
        union {
            uint8_t b[512];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {data, sizeof data};
        struct msghdr m = {.msg_name = &dst,
                           .msg_namelen = sizeof dst,
                           .msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = ctl.b,
                           .msg_controllen = sizeof ctl.b};
        if (recvmsg(s->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            return;
        sn_outcome_t o;
        sn_addr_t to;
        if (!sn_udp_icmp_decode(&m, &o, &to))
            continue;
        e->env.st->icmp++;
        uint32_t slot = table_find_slot(e, &to);
        if (slot == UINT32_MAX)
            continue;
        udp_end(e, e->udp_table[slot].job1 - 1, o);
    }
}

/* Reads up to 1,024 datagrams; true when the socket may hold more. */
static bool receive(udp_t *e, udp_sock_t *s)
{
    struct mmsghdr msgs[64];
    struct iovec iovs[64];
    struct sockaddr_storage srcs[64];
    union {
        uint8_t b[CMSG_SPACE(sizeof(struct timespec)) + 64];
        struct cmsghdr align;
    } ctls[64];
    const unsigned batch = 64;

    for (int round = 0; round < 16; round++) {
        for (unsigned k = 0; k < batch; k++) {
            iovs[k] = (struct iovec){e->rx_buf + (size_t)k * UDP_MSG_MAX, UDP_MSG_MAX};
            msgs[k].msg_hdr = (struct msghdr){.msg_name = &srcs[k],
                                              .msg_namelen = sizeof srcs[k],
                                              .msg_iov = &iovs[k],
                                              .msg_iovlen = 1,
                                              .msg_control = ctls[k].b,
                                              .msg_controllen = sizeof ctls[k].b};
        }
        int r = recvmmsg(s->fd, msgs, batch, MSG_DONTWAIT, NULL);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return false;
            if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
                errno == ENETUNREACH) {
                handle_icmp(e, s); /* the pending error was consumed; its detail is queued */
                continue;
            }
            return false;
        }
        for (int k = 0; k < r; k++) {
            uint64_t rx_ns = 0;
            struct msghdr *m = &msgs[k].msg_hdr;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec ts;
                    memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    rx_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
                }
            }
            if (rx_ns == 0)
                rx_ns = sn_clock_real(e->env.clock);
            size_t len = msgs[k].msg_len;
            if (m->msg_flags & MSG_TRUNC)
                len = UDP_MSG_MAX + 1; /* oversized: no probe accepts it */
            handle_reply(e, iovs[k].iov_base, len < UDP_MSG_MAX ? len : UDP_MSG_MAX,
                         (struct sockaddr *)&srcs[k], rx_ns);
        }
        if ((unsigned)r < batch)
            return false;
    }
    return true;
}

static void on_udp_io(uv_poll_t *h, int status, int events)
{
    udp_sock_t *s = h->data;
    udp_t *e = s->u;
    if (e->closing)
        return;
    if (status == UV_EBADF) {
        /* libuv stops a poll handle on POLLERR; for us that is an ICMP error
         * waiting in the error queue, so drain it and watch again. */
        handle_icmp(e, s);
        uv_poll_start(&s->poll, s->poll_events, on_udp_io);
        events = UV_READABLE;
    }
    if (events & UV_WRITABLE) {
        flush_sock(e, s);
        if (s->nbatch == 0) {
            s->poll_events = UV_READABLE;
            uv_poll_start(&s->poll, UV_READABLE, on_udp_io);
        }
    }
    if (events & UV_READABLE) {
        handle_icmp(e, s);
        receive(e, s);
    }
    e->env.done(e->env.engine, NULL); /* the batch is over: the engine may send */
}

const sn_transport_ops_t sn_transport_udp = {
    .name = "udp",
    .transport = SN_TRANSPORT_UDP,
    .init = udp_init,
    .send = udp_send,
    .ready = udp_ready,
    .flush = udp_flush,
    .expire = udp_expire,
    .next_deadline = udp_next_deadline,
    .cancel = udp_cancel,
    .close = udp_close,
};
