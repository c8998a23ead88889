/*
 * UDP transport: one unconnected socket per address family for every target.
 *
 * Requests are built into a batch and leave in one sendmmsg; replies arrive in
 * recvmmsg batches. Both ends of an RTT are the kernel's software stamps
 * (SO_TIMESTAMPING), so neither a busy loop nor a long sendmmsg call inflates
 * it: a reply carries its receive time, and a datagram sent comes back
 * through the socket's error queue as a transmit stamp numbered by
 * SOF_TIMESTAMPING_OPT_ID. The number is ours where the kernel takes it in a
 * control message (SCM_TS_OPT_ID, Linux 6.13), else the socket's own counter,
 * restarted whenever a refused datagram leaves its numbering in doubt; a ring
 * per socket ties the number to the attempt. Until its stamp is read a
 * datagram's send time is the clock read before its sendmmsg call, never
 * later than the truth; without SO_TIMESTAMPING (an old kernel, a sandbox)
 * that is all there is, and receive times come from SO_TIMESTAMPNS.
 *
 * With our own numbers, a sendmmsg call of more than 32 datagrams (a scan at
 * full rate; its calls carry 256) asks for the stamps of its first datagram
 * and then of 1 in TX_SAMPLE (8) only; the others, told by a control message
 * to take none, get the stamp of the last one before them in the call, a few
 * microseconds early. A stamp per datagram cost about 1.2 us of kernel time
 * each there (its error-queue message: allocated, queued, woken for, read), a
 * ninth of the send path. A paced scan's calls are short and every datagram
 * has its own stamp.
 *
 * A reply is matched first by its source address and port (hash table), then
 * by the token the probe found in it; when the port differs (a NAT or relay
 * in front of the node) the token alone finds the job and the reply is
 * recorded as coming from elsewhere. ICMP errors come through IP_RECVERR's
 * error queue, which names the original destination; one reader takes them
 * and the transmit stamps from it, right after each sendmmsg and before the
 * replies are read, so that a reply finds its datagram's stamp already there
 * and neither kind of message is lost to a reader of the other.
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
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UDP_BATCH 256     /* datagrams per sendmmsg / recvmmsg */
#define UDP_MSG_MAX 1500  /* largest request or reply handled */
#define ERRQ_BATCH 256    /* error-queue messages per recvmmsg: a whole sendmmsg's stamps */
#define ERRQ_CTL 192      /* control bytes per error-queue message (two records fit in 128) */
#define TX_SAMPLE 8       /* sampled: 1 in TX_SAMPLE datagrams of a call is stamped ... */
#define TX_SAMPLE_CALL 32 /* ... when the call carries more than this many */

/* The kernel's software stamps: of each datagram sent (TX_SOFTWARE, returned
 * on the error queue numbered by OPT_ID and without the datagram, TSONLY) and
 * of each received (RX_SOFTWARE), reported as SCM_TIMESTAMPING (SOFTWARE). */
#define UDP_TS_FLAGS                                                                               \
    (SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |     \
     SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY)

/* Linux 6.13's control message that gives a datagram its OPT_ID number; older C
 * headers lack it. The value is the asm-generic one, not that of alpha, mips,
 * parisc or sparc, so the fallback is only for the architectures that use it. */
#if !defined(SCM_TS_OPT_ID) && (defined(__x86_64__) || defined(__i386__) ||                        \
                                defined(__aarch64__) || defined(__arm__) || defined(__riscv))
#define SCM_TS_OPT_ID 81
#endif

/* How a socket's send times are taken. */
enum {
    STAMP_OFF,     /* the clock read before sendmmsg: SO_TIMESTAMPING was refused, or tests */
    STAMP_COUNTER, /* kernel stamps numbered by the socket's counter, which we follow */
    STAMP_CMSG     /* kernel stamps numbered by us, one SCM_TS_OPT_ID per datagram */
};

typedef struct udp udp_t;

typedef struct udp_sock {
    udp_t *u;
    int fd;
    int family;
    uv_poll_t poll;
    int poll_events;
    unsigned nbatch;   /* datagrams built and not yet sent */
    bool flushing;     /* a send is under way: a result callback inside it must not send again */
    bool rx_behind;    /* the last read stopped at its cap with replies still queued */
    int broken;        /* a libuv error: the loop cannot watch the socket, nothing more goes out */
    int stamps;        /* STAMP_*: how send times are taken */
    bool cmsg_ok;      /* STAMP_CMSG: the kernel has taken a datagram with SCM_TS_OPT_ID */
    bool sampled;      /* STAMP_CMSG: long calls stamp 1 in TX_SAMPLE datagrams only */
    uint32_t next_key; /* the OPT_ID number of the next datagram offered to the kernel */
    uint32_t call_key; /* sampled: the number of the call's first datagram */
    unsigned call_n;   /* sampled: datagrams offered to the call (0: not a sampled call) */
    uint64_t call_tx[UDP_BATCH]; /* sampled: the stamps read of the call's datagrams, or 0 */
    uint32_t job[UDP_BATCH];
    uint32_t job_gen[UDP_BATCH]; /* the job's generation when its datagram was built */
    struct mmsghdr msg[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct sockaddr_storage dst[UDP_BATCH];
    union {
        uint8_t b[CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } idctl[UDP_BATCH];   /* STAMP_CMSG: slot k's SCM_TS_OPT_ID, or (sampled, not stamped) an
                           * SO_TIMESTAMPING of 0: rewritten before each call */
    sn_udp_txring_t ring; /* datagrams sent whose stamp has not been read */
    uint8_t buf[UDP_BATCH][UDP_MSG_MAX];
} udp_sock_t;

/* What the error-queue reader reads into (one per transport: a batch is
 * decoded whole before anything is done with it, see read_errqueue). */
typedef struct errq_bufs {
    struct mmsghdr msgs[ERRQ_BATCH];
    struct sockaddr_storage names[ERRQ_BATCH];
    union {
        uint8_t b[ERRQ_CTL];
        struct cmsghdr align;
    } ctl[ERRQ_BATCH];
    struct iovec iov; /* shared: the payloads (an ICMP error's copy of our request) go unread */
    uint8_t scratch[64];
} errq_bufs_t;

/* A slot of the UDP reply table: the job (+1; 0 = empty) and its key's hash. */
typedef struct udp_slot {
    uint32_t job1;
    uint32_t hash;
} udp_slot_t;

/* What the transport knows of the probe in one job slot. */
typedef struct ujob {
    sn_addr_t key; /* where the request goes: the reply table's key */
    uint64_t token;
    uint64_t sent_ns; /* CLOCK_REALTIME of the last send: its kernel stamp once read (realtime) */
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
    errq_bufs_t *errq;
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

/*
 * Asks for the kernel's stamps (want: SN_TXSTAMP_*) and returns the socket's
 * STAMP_* mode. Without SO_TIMESTAMPING (an old kernel, a sandbox that refuses
 * it), receive times come from SO_TIMESTAMPNS and send times are the clock
 * read before sendmmsg, as they were before transmit stamps; nothing says so
 * but the tx_stamped counter, which stays 0.
 */
static int stamps_start(int fd, int want)
{
    if (want != SN_TXSTAMP_OFF && set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, UDP_TS_FLAGS) == 0) {
#ifdef SCM_TS_OPT_ID
        if (want == SN_TXSTAMP_AUTO || want == SN_TXSTAMP_EVERY)
            return STAMP_CMSG; /* until a kernel before 6.13 refuses the first datagram */
#endif
        return STAMP_COUNTER; /* the counter starts at 0 when OPT_ID is first set */
    }
    set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
    return STAMP_OFF;
}

/* Numbers the datagrams by the socket's counter from now on (the kernel refused
 * SCM_TS_OPT_ID before taking any datagram, so the counter is still at 0). */
static void stamps_by_counter(udp_sock_t *s)
{
    for (unsigned k = 0; k < UDP_BATCH; k++) {
        s->msg[k].msg_hdr.msg_control = NULL;
        s->msg[k].msg_hdr.msg_controllen = 0;
    }
    s->stamps = STAMP_COUNTER;
    s->next_key = 0;
    sn_udp_txring_clear(&s->ring);
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
    int stamps = stamps_start(fd, e->env.tx_stamps);
    if (family == AF_INET6) {
        set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
        set_int(fd, IPPROTO_IPV6, IPV6_RECVERR, 1);
    } else {
        set_int(fd, IPPROTO_IP, IP_RECVERR, 1);
        /* Don't Fragment on every probe (they are far below any path MTU): the
         * kernel then leaves the IP ID at 0 instead of drawing one from its
         * shared hashed counters for each datagram (RFC 6864 allows it). */
        set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
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
    s->stamps = stamps;
    s->sampled = e->env.tx_stamps == SN_TXSTAMP_AUTO;
    for (unsigned k = 0; k < UDP_BATCH; k++) {
        s->iov[k].iov_base = s->buf[k];
        s->msg[k].msg_hdr.msg_iov = &s->iov[k];
        s->msg[k].msg_hdr.msg_iovlen = 1;
        s->msg[k].msg_hdr.msg_name = &s->dst[k];
#ifdef SCM_TS_OPT_ID
        if (stamps == STAMP_CMSG) {
            s->msg[k].msg_hdr.msg_control = s->idctl[k].b;
            s->msg[k].msg_hdr.msg_controllen = sizeof s->idctl[k].b;
            struct cmsghdr *c = CMSG_FIRSTHDR(&s->msg[k].msg_hdr);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_TS_OPT_ID;
            c->cmsg_len = CMSG_LEN(sizeof(uint32_t));
        }
#endif
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
    if ((rc = uv_poll_start(&s->poll, UV_READABLE, on_udp_io)) != 0) {
        s->broken = rc; /* IPv6 is optional: its sends then end as errors */
        sn_error_set(err, SN_ESYS, "cannot watch a UDP socket: %s", uv_strerror(rc));
    }
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
    e->errq = malloc(sizeof *e->errq);
    if (e->jobs == NULL || e->udp_table == NULL || e->rx_buf == NULL || e->errq == NULL) {
        free(e->jobs);
        free(e->udp_table);
        free(e->rx_buf);
        free(e->errq);
        free(e);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    e->udp_mask = cap - 1;
    errq_bufs_t *q = e->errq;
    q->iov = (struct iovec){q->scratch, sizeof q->scratch};
    for (unsigned k = 0; k < ERRQ_BATCH; k++)
        q->msgs[k].msg_hdr = (struct msghdr){.msg_name = &q->names[k],
                                             .msg_namelen = sizeof q->names[k],
                                             .msg_iov = &q->iov,
                                             .msg_iovlen = 1,
                                             .msg_control = q->ctl[k].b,
                                             .msg_controllen = sizeof q->ctl[k].b};
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
    free(e->errq);
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

/*
 * No more for now when the batch is full and the kernel asked us to wait for
 * the socket to drain, or when the replies are coming in faster than they are
 * read. The second keeps the send rate clocked by the receive rate: each loop
 * turn may send two pumps' worth but reads at most one cap of replies, and
 * without this the receive queue (which the transmit stamps share) grew until
 * the kernel dropped replies (1,880 of 196,608 at full rate in one run).
 */
static bool udp_ready(const void *state, const sn_addr_t *dst)
{
    const udp_t *e = state;
    if (dst == NULL)
        return true;
    const udp_sock_t *s = dst->family == AF_INET6 ? e->udp6 : e->udp4;
    return !(s != NULL &&
             (s->rx_behind || (s->nbatch == UDP_BATCH && (s->poll_events & UV_WRITABLE))));
}

static void flush_sock(udp_t *e, udp_sock_t *s);

/*
 * The loop cannot watch s any more (uv_poll_start failed): a datagram
 * waiting for the socket to drain would wait for ever, and a reply would
 * never be read. Every datagram batched on it ends as an error, and so does
 * every later send and every attempt in flight on it at its deadline (never
 * `filtered`: the silence would be ours), so that the scan ends.
 */
static void sock_broken(udp_t *e, udp_sock_t *s, int rc, unsigned off)
{
    uint32_t job[UDP_BATCH], gen[UDP_BATCH];
    unsigned n = s->nbatch - off; /* those before off have left */
    s->broken = rc;
    memcpy(job, s->job + off, n * sizeof *job);
    memcpy(gen, s->job_gen + off, n * sizeof *gen);
    s->nbatch = 0;
    for (unsigned k = 0; k < n; k++) {
        const ujob_t *uj = &e->jobs[job[k]];
        if (uj->live && uj->gen == gen[k])
            udp_end(e, job[k], SN_OUTCOME_ERROR);
    }
}

/* Watches s for events; false (and s broken, the batch from off ended) when libuv cannot. */
static bool sock_watch(udp_t *e, udp_sock_t *s, int events, unsigned off)
{
    int rc = uv_poll_start(&s->poll, events, on_udp_io);
    if (rc == 0) {
        s->poll_events = events;
        return true;
    }
    sock_broken(e, s, rc, off);
    return false;
}

/* Pure decoder of one error-queue message (scanner/udp.h); fuzzed by tests/fuzz/fuzz_icmp.c. */
sn_udp_errq_kind_t sn_udp_errq_decode(const struct msghdr *m, sn_udp_errq_t *out)
{
    out->kind = SN_UDP_ERRQ_NONE;
    if (m->msg_control == NULL || m->msg_controllen < sizeof(struct cmsghdr))
        return SN_UDP_ERRQ_NONE;
    const uint8_t *end = (const uint8_t *)m->msg_control + m->msg_controllen;
    bool have_key = false, have_ts = false;
    uint32_t key = 0;
    uint64_t ts_ns = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        /* The kernel always fills whole records, but the decoder does not rely
         * on it: a short record inside the control buffer is skipped. */
        size_t room = (size_t)(end - (const uint8_t *)CMSG_DATA(c));
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
            struct scm_timestamping t;
            if (c->cmsg_len < CMSG_LEN(sizeof t) || room < sizeof t)
                continue;
            memcpy(&t, CMSG_DATA(c), sizeof t); /* no alignment assumed */
            /* ts[0] is the software stamp; zero when only hardware stamped. */
            if (t.ts[0].tv_sec > 0 && t.ts[0].tv_sec < (time_t)1 << 33 && t.ts[0].tv_nsec >= 0 &&
                t.ts[0].tv_nsec < 1000000000) {
                have_ts = true;
                ts_ns = (uint64_t)t.ts[0].tv_sec * 1000000000ull + (uint64_t)t.ts[0].tv_nsec;
            }
            continue;
        }
        if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
              (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
            continue;
        if (c->cmsg_len < CMSG_LEN(sizeof(struct sock_extended_err)) ||
            room < sizeof(struct sock_extended_err))
            continue;
        struct sock_extended_err ee;
        memcpy(&ee, CMSG_DATA(c), sizeof ee);
        if (ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
            /* A transmit stamp: the number is here, the time in SCM_TIMESTAMPING,
             * which may come before or after. Other stamp kinds are not asked for. */
            if (ee.ee_errno == ENOMSG && ee.ee_info == SCM_TSTAMP_SND) {
                have_key = true;
                key = ee.ee_data;
            }
            continue;
        }
        if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6)
            continue;
        if (ee.ee_errno == ECONNREFUSED)
            out->outcome = SN_OUTCOME_CLOSED;
        else if (ee.ee_errno == EHOSTUNREACH || ee.ee_errno == ENETUNREACH ||
                 ee.ee_errno == EACCES || ee.ee_errno == EHOSTDOWN)
            out->outcome = SN_OUTCOME_UNREACHABLE;
        else
            continue; /* fragmentation needed and the like: not an answer */
        if (m->msg_name == NULL || m->msg_namelen < sizeof(sa_family_t) ||
            m->msg_namelen > sizeof(struct sockaddr_storage))
            return SN_UDP_ERRQ_NONE;
        struct sockaddr_storage dst = {0};
        memcpy(&dst, m->msg_name, m->msg_namelen);
        if ((dst.ss_family == AF_INET && m->msg_namelen < sizeof(struct sockaddr_in)) ||
            (dst.ss_family == AF_INET6 && m->msg_namelen < sizeof(struct sockaddr_in6)))
            return SN_UDP_ERRQ_NONE;
        if (sn_addr_from_sockaddr((struct sockaddr *)&dst, &out->to) != SN_OK)
            return SN_UDP_ERRQ_NONE;
        return out->kind = SN_UDP_ERRQ_ICMP;
    }
    if (!have_key || !have_ts)
        return SN_UDP_ERRQ_NONE;
    out->key = key;
    out->tx_ns = ts_ns;
    return out->kind = SN_UDP_ERRQ_TXSTAMP;
}

/* ---- the ring of datagrams waiting for their transmit stamp (scanner/udp.h) ---- */

void sn_udp_txring_put(sn_udp_txring_t *r, uint32_t key, uint32_t job, uint32_t tag,
                       uint64_t user_ns)
{
    r->v[key & (SN_UDP_TXRING - 1)] =
        (sn_udp_txent_t){.key = key, .job = job, .tag = tag, .used = true, .user_ns = user_ns};
}

bool sn_udp_txring_take(sn_udp_txring_t *r, uint32_t key, uint64_t tx_ns, sn_udp_txent_t *out)
{
    sn_udp_txent_t *en = &r->v[key & (SN_UDP_TXRING - 1)];
    if (!en->used || en->key != key || tx_ns < en->user_ns)
        return false;
    *out = *en;
    en->used = false;
    return true;
}

void sn_udp_txring_clear(sn_udp_txring_t *r)
{
    memset(r, 0, sizeof *r);
}

static int udp_send(void *state, const sn_attempt_t *a)
{
    udp_t *e = state;
    udp_sock_t *s = sock_for(e, &a->dst);
    if (s == NULL || s->broken)
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

static void read_errqueue(udp_t *e, udp_sock_t *s);

/*
 * Counter numbering only: a datagram the kernel refused may have used up a
 * number (it does when the refusal comes after the datagram is built: a local
 * firewall, a full device queue; before Linux 6.9, on every refusal), so the
 * numbers of what follows are not known. Turning OPT_ID off and on restarts
 * the kernel's counter at 0; the stamps already queued are read first. Where
 * the kernel will not, the socket goes back to user-space send times.
 */
static void stamps_restart(udp_t *e, udp_sock_t *s)
{
    read_errqueue(e, s);
    sn_udp_txring_clear(&s->ring);
    s->next_key = 0;
    if (set_int(s->fd, SOL_SOCKET, SO_TIMESTAMPING, UDP_TS_FLAGS & ~SOF_TIMESTAMPING_OPT_ID) != 0 ||
        set_int(s->fd, SOL_SOCKET, SO_TIMESTAMPING, UDP_TS_FLAGS) != 0) {
        set_int(s->fd, SOL_SOCKET, SO_TIMESTAMPING,
                SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
        s->stamps = STAMP_OFF;
    }
}

/*
 * After a sendmmsg call that was offered n datagrams numbered from the
 * socket's next_key and took the first `took` (0: it failed): moves the
 * numbering on and reads the stamps of what left. Our own numbers are never
 * given twice, also those of datagrams the call did not take; the kernel's
 * counter is followed only while every datagram offered was taken.
 */
static void stamps_sent(udp_t *e, udp_sock_t *s, unsigned took, unsigned n)
{
    if (s->stamps == STAMP_OFF)
        return;
    if (s->stamps == STAMP_CMSG) {
        s->next_key += n;
        s->cmsg_ok = s->cmsg_ok || took > 0;
    } else {
        s->next_key += took;
        if (took < n) {
            stamps_restart(e, s);
            return;
        }
    }
    if (took > 0)
        read_errqueue(e, s);
}

/* Whether datagram k of the sendmmsg call under way (0: its first) asks for a transmit stamp. */
static bool stamp_asked(const udp_sock_t *s, unsigned k)
{
    return s->stamps != STAMP_OFF && (s->call_n == 0 || k % TX_SAMPLE == 0);
}

/* STAMP_CMSG: gives datagram k of the call at off its number, or (sampled) tells the kernel
 * to take no stamp of it. */
static void stamp_control(udp_sock_t *s, unsigned off, unsigned k, uint32_t key)
{
#ifdef SCM_TS_OPT_ID
    struct cmsghdr *c = CMSG_FIRSTHDR(&s->msg[off + k].msg_hdr);
    bool asked = stamp_asked(s, k);
    uint32_t v = asked ? key : 0; /* SO_TIMESTAMPING 0: no transmit stamp for this one */
    c->cmsg_type = asked ? SCM_TS_OPT_ID : SO_TIMESTAMPING;
    memcpy(CMSG_DATA(c), &v, sizeof v);
#else
    (void)s, (void)off, (void)k, (void)key; /* no STAMP_CMSG without it */
#endif
}

/*
 * Sampled stamps: after the call at off took r datagrams and their stamps were read, each
 * datagram that asked for none takes the kernel stamp of the last one before it in the call
 * that had its stamp read. That datagram left before it, so the time is never later than the
 * truth, and later than the clock read before the call by what the call had sent until then.
 */
static void stamps_carry(udp_t *e, udp_sock_t *s, unsigned off, unsigned r)
{
    uint64_t carry = 0;
    for (unsigned k = 0; k < r; k++) {
        if (stamp_asked(s, k)) {
            if (s->call_tx[k] != 0)
                carry = s->call_tx[k]; /* read, even if its target has ended since */
            continue;
        }
        ujob_t *uj = &e->jobs[s->job[off + k]];
        if (uj->live && uj->gen == s->job_gen[off + k] && carry > uj->sent_ns)
            uj->sent_ns = carry;
    }
    s->call_n = 0;
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
        unsigned n = s->nbatch - off;
        uint32_t key0 = s->next_key;
        if (s->stamps == STAMP_CMSG && s->sampled && n > TX_SAMPLE_CALL) {
            s->call_key = key0;
            s->call_n = n;
            memset(s->call_tx, 0, n * sizeof *s->call_tx);
        }
        for (unsigned k = 0; k < n && s->stamps == STAMP_CMSG; k++)
            stamp_control(s, off, k, key0 + k);
        uint64_t rt = sn_clock_real(e->env.clock), mono = sn_clock_mono(e->env.clock);
        int r = sendmmsg(s->fd, &s->msg[off], n, 0);
        if (r <= 0)
            s->call_n = 0; /* nothing left: no stamps to carry */
        if (r > 0) {
            /* Every datagram of the call is stamped with the time before it,
             * never later than the truth, until its kernel transmit stamp is
             * read (stamps_sent, read_errqueue) or, sampled, that of the last
             * stamped one before it (stamps_carry): without one an RTT may
             * include part of the call (interpolating within the call was tried
             * and gave RTTs below the responder's own delay). */
            for (unsigned k = off; k < off + (unsigned)r; k++) {
                ujob_t *uj = &e->jobs[s->job[k]];
                if (!uj->live || uj->gen != s->job_gen[k])
                    continue; /* its target finished while the datagram waited */
                uj->sent_ns = rt;
                uint32_t tag = uj->gen << 8 | uj->seq;
                if (sn_dlq_push(&e->udp_dl, s->job[k], tag, mono + e->env.timeout_ns) != 0) {
                    udp_end(e, s->job[k], SN_OUTCOME_ERROR); /* no deadline: out of memory */
                    continue;
                }
                if (stamp_asked(s, k - off))
                    sn_udp_txring_put(&s->ring, key0 + (k - off), s->job[k], tag, rt);
            }
            stamps_sent(e, s, (unsigned)r, n);
            if (s->call_n != 0)
                stamps_carry(e, s, off, (unsigned)r);
            off += (unsigned)r;
            retried = false;
            continue;
        }
        int er = errno;
        if (er == EINVAL && s->stamps == STAMP_CMSG && !s->cmsg_ok) {
            stamps_by_counter(s); /* a kernel before 6.13 knows no SCM_TS_OPT_ID */
            continue;
        }
        stamps_sent(e, s, 0, n);
        if (er == EAGAIN || er == ENOBUFS) {
            e->env.st->backpressure++;
            if (!(s->poll_events & UV_WRITABLE) &&
                !sock_watch(e, s, s->poll_events | UV_WRITABLE, off)) {
                s->flushing = false; /* the rest of the batch ended as errors */
                return;
            }
            break;
        }
        if (er == EINTR)
            continue;
        /* With IP_RECVERR, an ICMP error that arrived for an earlier datagram is
         * reported by the next send on the socket: consume it and try again. Only
         * when the same datagram fails twice is the error its own. */
        if (!retried &&
            (er == ECONNREFUSED || er == EHOSTUNREACH || er == ENETUNREACH || er == EHOSTDOWN)) {
            retried = true;
            read_errqueue(e, s);
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
        const udp_sock_t *s = sock_for(e, &uj->key);
        udp_end(e, d.id,
                s != NULL && s->broken ? SN_OUTCOME_ERROR /* no reply could be read */
                : d.at_ns > real_now   ? SN_OUTCOME_INCOMPLETE
                                       : SN_OUTCOME_FILTERED);
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

/* A transmit stamp: the datagram it belongs to now left at tx_ns. */
static void apply_stamp(udp_t *e, udp_sock_t *s, uint32_t key, uint64_t tx_ns)
{
    sn_udp_txent_t en;
    if (s->stamps == STAMP_OFF || !sn_udp_txring_take(&s->ring, key, tx_ns, &en))
        return; /* not ours to trust: the send time stays the user-space one */
    if (key - s->call_key < s->call_n)
        s->call_tx[key - s->call_key] = tx_ns; /* for the datagrams after it (stamps_carry) */
    ujob_t *uj = &e->jobs[en.job];
    if (!uj->live || (uj->gen << 8 | uj->seq) != en.tag || uj->sent_ns != en.user_ns)
        return; /* answered, or a newer attempt owns the job */
    uj->sent_ns = tx_ns;
    e->env.st->tx_stamped++;
}

/*
 * Reads s's error queue, up to 1,024 messages: transmit stamps (each sets the
 * send time of the datagram it belongs to) and ICMP errors (each ends the
 * attempt it answers), in the order they came. It is the queue's one reader,
 * so that neither kind is read, and lost, by a reader of the other. A batch is
 * decoded whole before anything is done with it: an ICMP error's upcall may
 * send, and a send reads this queue again into the same buffers.
 */
static void read_errqueue(udp_t *e, udp_sock_t *s)
{
    errq_bufs_t *b = e->errq;
    sn_udp_errq_t ev[ERRQ_BATCH];
    for (int round = 0; round < 4; round++) {
        int r = recvmmsg(s->fd, b->msgs, ERRQ_BATCH, MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
        if (r <= 0)
            return; /* empty (EAGAIN) */
        for (int k = 0; k < r; k++) {
            struct msghdr *m = &b->msgs[k].msg_hdr;
            sn_udp_errq_decode(m, &ev[k]);
            m->msg_namelen = sizeof b->names[k]; /* what the kernel shortened, for the next read */
            m->msg_controllen = sizeof b->ctl[k].b;
        }
        for (int k = 0; k < r; k++) {
            if (ev[k].kind == SN_UDP_ERRQ_TXSTAMP) {
                apply_stamp(e, s, ev[k].key, ev[k].tx_ns);
            } else if (ev[k].kind == SN_UDP_ERRQ_ICMP) {
                e->env.st->icmp++;
                uint32_t slot = table_find_slot(e, &ev[k].to);
                if (slot != UINT32_MAX)
                    udp_end(e, e->udp_table[slot].job1 - 1, ev[k].outcome);
            }
        }
        if (r < ERRQ_BATCH)
            return;
    }
}

/*
 * Starts loading what the replies of a batch will look up: each one's reply-table slot, then
 * the job that slot names (ours, and the engine's and its target through env.prefetch). All
 * are cold (a table twice the window, jobs taken in shuffled order), and fetched for the
 * whole batch at once their misses overlap instead of stalling every reply in turn.
 */
static void prefetch_replies(const udp_t *e, const struct sockaddr_storage *srcs, int r)
{
    uint32_t at[64];
    for (int k = 0; k < r; k++) {
        sn_addr_t a;
        at[k] = UINT32_MAX;
        if (sn_addr_from_sockaddr((const struct sockaddr *)&srcs[k], &a) == SN_OK) {
            at[k] = key_hash(&a) & e->udp_mask;
            __builtin_prefetch(&e->udp_table[at[k]]);
        }
    }
    for (int k = 0; k < r; k++) {
        uint32_t j1 = at[k] != UINT32_MAX ? e->udp_table[at[k]].job1 : 0;
        at[k] = j1;
        if (j1 != 0) {
            __builtin_prefetch(&e->jobs[j1 - 1]);
            if (e->env.prefetch != NULL)
                e->env.prefetch(e->env.engine, j1 - 1, 0);
        }
    }
    if (e->env.prefetch != NULL)
        for (int k = 0; k < r; k++)
            if (at[k] != 0)
                e->env.prefetch(e->env.engine, at[k] - 1, 1);
}

/* Reads up to 1,024 datagrams; true (and s->rx_behind) when the socket may hold more. */
static bool receive(udp_t *e, udp_sock_t *s)
{
    struct mmsghdr msgs[64];
    struct iovec iovs[64];
    struct sockaddr_storage srcs[64];
    union {
        /* SCM_TIMESTAMPING, or SCM_TIMESTAMPNS without it; room for both */
        uint8_t
            b[CMSG_SPACE(sizeof(struct scm_timestamping)) + CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } ctls[64];
    const unsigned batch = 64;

    /* The stamps of what was sent come first, so that a reply's RTT is taken
     * from its datagram's kernel transmit time; and the ICMP errors with them. */
    read_errqueue(e, s);
    s->rx_behind = false;
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
                read_errqueue(e, s); /* the pending error was consumed; its detail is queued */
                continue;
            }
            return false;
        }
        prefetch_replies(e, srcs, r);
        for (int k = 0; k < r; k++) {
            uint64_t rx_ns = 0;
            struct msghdr *m = &msgs[k].msg_hdr;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
                if (c->cmsg_level != SOL_SOCKET)
                    continue;
                struct timespec ts;
                if (c->cmsg_type == SCM_TIMESTAMPING &&
                    c->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping)))
                    memcpy(&ts, CMSG_DATA(c), sizeof ts); /* ts[0], the software stamp */
                else if (c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof ts))
                    memcpy(&ts, CMSG_DATA(c), sizeof ts);
                else
                    continue;
                rx_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
    s->rx_behind = true;
    return true;
}

static void on_udp_io(uv_poll_t *h, int status, int events)
{
    udp_sock_t *s = h->data;
    udp_t *e = s->u;
    if (e->closing)
        return;
    if (status == UV_EBADF) {
        /* libuv stops a poll handle on POLLERR, which for us is the error queue
         * holding something: an ICMP error, or transmit stamps that came after
         * their sendmmsg had returned (a device that sends later). Watch again
         * and read: receive drains the queue first, so the next poll does not
         * wake for the same messages, and a steady flow of stamps costs one
         * wake-up per batch at most, never a stopped socket. */
        events = sock_watch(e, s, s->poll_events, 0) ? UV_READABLE : 0;
    }
    if ((events & UV_WRITABLE) && !s->broken) {
        flush_sock(e, s);
        if (s->nbatch == 0 && !s->broken)
            sock_watch(e, s, UV_READABLE, 0);
    }
    if (events & UV_READABLE)
        receive(e, s);                /* the error queue, then the replies */
    e->env.done(e->env.engine, NULL); /* the batch is over: the engine may send */
}

/* A send's cold lines: the job's record, and the reply-table slot its address hashes to
 * (where the insert starts probing). */
static void udp_prefetch(const void *state, uint32_t job, const sn_addr_t *dst)
{
    const udp_t *e = state;
    if (job < e->env.n_jobs)
        __builtin_prefetch(&e->jobs[job], 1);
    if (dst != NULL)
        __builtin_prefetch(&e->udp_table[key_hash(dst) & e->udp_mask], 1);
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
    .prefetch = udp_prefetch,
    .cancel = udp_cancel,
    .close = udp_close,
};
