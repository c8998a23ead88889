/*
 * The swarm emulator: plays a population of super nodes on loopback.
 *
 * Everything here follows from one fact: the kernel answers for a port, not
 * for an address. So the swarm opens one UDP socket and one TCP listener per
 * distinct port, on the wildcard address, and decides per address:
 *   - UDP: IP_PKTINFO tells which address a datagram was sent to; the node is
 *     found in an open-addressing table keyed by (IPv4 address, port), 16
 *     bytes a slot at a load of at most 3/4, and the reply leaves from that
 *     address (IP_PKTINFO on sendmsg), from the port's own socket or, for a
 *     `nat` node, from a shared socket on an ephemeral port. Datagrams come in
 *     with recvmmsg and go out with sendmmsg, 64 at a time.
 *   - TCP: a classic BPF filter on each listener loads the IPv4 destination
 *     address (SKF_NET_OFF + 16) and keeps only SYNs to accepting nodes; the
 *     kernel drops the rest without answering, which is how a silent node
 *     looks. The accepting addresses are merged into ranges and searched as a
 *     balanced tree of range checks, so a filter costs about four instructions
 *     per range and O(log ranges) per packet. Every listener has a filter, even
 *     when all of its port's nodes accept, so that a listener on 0.0.0.0 never
 *     accepts anything but loopback node addresses.
 *   - closed nodes have a port of their own (population check) on which the
 *     swarm opens nothing, and the kernel sends ICMP port unreachable or RST.
 * IPv6 serves ::1 only, so an IPv6 port has at most one node and its filter is
 * "::1 or nothing"; ::1 nodes live in the same table under the address 0,
 * which no IPv4 node can have (127.0.0.0/8 only).
 *
 * Delays: a delayed reply is built at once and kept in a binary heap by due
 * time; a timerfd armed to the nanosecond (not a millisecond uv_timer) wakes
 * the loop when the earliest is due, and the due time counts from the kernel's
 * receive timestamp, so the time a datagram waited in the socket queue is not
 * added to the delay. The receive path also sends whatever has come due, so a
 * busy loop does not hold due replies until it reaches the timer. What is left
 * of the lateness is the process waiting for a core (the benchmark runs the
 * swarm of its RTT case under SCHED_FIFO for that).
 *
 * Descriptors are raw and watched by uv_poll_t on the caller's loop; each
 * watched descriptor is closed in its handle's close callback, and the swarm
 * is freed when the last one has closed.
 */
#include "lab/swarm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/rng.h"
#include "probes/probe.h"

#define BATCH 64
#define DGRAM_MAX 2048
#define CTRL_MAX 128
#define RECV_ROUNDS 8        /* batches per readiness callback, for fairness between ports */
#define ACCEPT_ROUNDS 1024   /* accepts per readiness callback */
#define FD_RESERVE 64        /* descriptors left for the loop, stdio and accept */
#define QUEUE_MAX (1u << 22) /* delayed replies waiting at most */
#define BPF_MAX_INSNS 4096   /* the kernel's BPF_MAXINSNS for classic filters */
#define BPF_ACCEPT 0xFFFFFFFFu
#define BPF_DROP 0u
#define LISTEN_BACKLOG 65535

enum { EP_UDP = 1, EP_TCP, EP_TIMER };

/* One node in the lookup table; port 0 marks an empty slot. */
typedef struct slot {
    uint32_t ip; /* IPv4 host order; 0 for ::1 */
    uint16_t port;
    uint8_t beh;
    uint8_t pad;
    uint32_t delay_ms;
    float loss;
} slot_t;

/* One watched descriptor. The poll handle comes first: callbacks cast back. */
typedef struct ep {
    uv_poll_t poll;
    sn_swarm_t *swarm;
    int fd;
    uint8_t kind;
    uint8_t family;
    uint16_t port;
    bool timestamps; /* SO_TIMESTAMPNS on: the port has delayed nodes */
    bool watched;    /* uv_poll_init done: closes through the loop */
} ep_t;

typedef struct delayed {
    uint64_t due_ns; /* CLOCK_MONOTONIC */
    int fd;          /* the socket it leaves from */
    uint16_t len;
    sn_addr_t to;
    sn_addr_t from;
    uint8_t data[];
} delayed_t;

typedef union ctrl_buf {
    struct cmsghdr align;
    char buf[CTRL_MAX];
} ctrl_buf_t;

/* Replies gathered for one sendmmsg from one socket. */
typedef struct out_batch {
    int fd;
    unsigned n;
    struct mmsghdr msg[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage to[BATCH];
    ctrl_buf_t ctrl[BATCH];
    uint8_t data[BATCH][DGRAM_MAX];
} out_batch_t;

struct sn_swarm {
    uv_loop_t *loop;
    slot_t *table;
    unsigned shift; /* 64 - log2(table size) */
    size_t mask;
    ep_t *eps;
    size_t n_eps;
    size_t closing;
    bool stopping;
    int nat_fd[2]; /* [0] IPv4, [1] IPv6; -1 when no nat node needs it */
    int timer_fd;
    const sn_probe_t **answerers;
    size_t n_answerers;
    delayed_t **heap;
    size_t heap_len, heap_cap;
    uint64_t armed_ns; /* 0: timerfd disarmed */
    sn_rng_t rng;
    sn_swarm_stats_t stats;

    struct mmsghdr rmsg[BATCH];
    struct iovec riov[BATCH];
    struct sockaddr_storage rname[BATCH];
    ctrl_buf_t rctrl[BATCH];
    uint8_t rbuf[BATCH][DGRAM_MAX];
    out_batch_t out_own, out_nat;
    out_batch_t out_due; /* delayed replies leaving, apart from a receive batch being built */
};

/* ---- node table ----------------------------------------------------------------------- */

static size_t slot_index(const sn_swarm_t *s, uint32_t ip, uint16_t port)
{
    uint64_t k = ((uint64_t)ip << 16 | port) * 0x9E3779B97F4A7C15ull;
    return (size_t)(k >> s->shift);
}

static const slot_t *lookup(const sn_swarm_t *s, uint32_t ip, uint16_t port)
{
    for (size_t i = slot_index(s, ip, port);; i = (i + 1) & s->mask) {
        const slot_t *sl = &s->table[i];
        if (sl->port == 0)
            return NULL;
        if (sl->port == port && sl->ip == ip)
            return sl;
    }
}

static void insert(sn_swarm_t *s, const sn_node_t *n)
{
    uint32_t ip = n->addr.family == AF_INET ? sn_addr_v4(&n->addr) : 0;
    size_t i = slot_index(s, ip, n->addr.port);
    while (s->table[i].port != 0)
        i = (i + 1) & s->mask;
    s->table[i] = (slot_t){.ip = ip,
                           .port = n->addr.port,
                           .beh = n->behaviour,
                           .delay_ms = n->delay_ms,
                           .loss = n->loss};
}

static bool accepts_own_port(uint8_t beh)
{
    return beh == SN_BEH_ALIVE || beh == SN_BEH_TCP_ONLY || beh == SN_BEH_NAT;
}

static bool answers_udp(uint8_t beh)
{
    return beh == SN_BEH_ALIVE || beh == SN_BEH_UDP_ONLY || beh == SN_BEH_NAT;
}

/* ---- BPF filters ---------------------------------------------------------------------- */

typedef struct range {
    uint32_t lo, hi;
} range_t;

/* Instructions the tree over r ranges takes (see emit_tree). */
static size_t tree_size(size_t r)
{
    if (r == 0)
        return 1;
    size_t mid = r / 2;
    size_t left = tree_size(mid);
    return (left + 1 <= 255 ? 3 : 4) + left + tree_size(r - mid - 1);
}

/* Length of the whole IPv4 filter over r ranges: a load, then the tree (or a lone drop). */
static size_t filter_len(size_t r)
{
    return r == 0 ? 1 : 1 + tree_size(r);
}

/*
 * Emits the range tree for rg[0..r) at p; returns the instructions written.
 * For the middle range: A < lo goes left, A > hi goes right, else accept.
 * Conditional jumps have 8-bit offsets, so when the left subtree is longer
 * than a jump reaches, the way right goes through a `ja` (32-bit offset):
 *   short:  jge lo ? next : L | jgt hi ? R : next | ret accept | L... | R...
 *   long:   jge lo ? next : L | jgt hi ? next : acc | ja R | ret accept | L... | R...
 * An empty subtree is a single `ret drop`.
 */
static size_t emit_tree(const range_t *rg, size_t r, struct sock_filter *p)
{
    if (r == 0) {
        p[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, BPF_DROP);
        return 1;
    }
    size_t mid = r / 2;
    size_t left = tree_size(mid);
    size_t at;
    if (left + 1 <= 255) {
        p[0] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, rg[mid].lo, 0, 2);
        p[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, rg[mid].hi,
                                            (uint8_t)(left + 1), 0);
        p[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, BPF_ACCEPT);
        at = 3;
    } else {
        p[0] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, rg[mid].lo, 0, 3);
        p[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, rg[mid].hi, 0, 1);
        p[2] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(left + 1));
        p[3] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, BPF_ACCEPT);
        at = 4;
    }
    at += emit_tree(rg, mid, p + at);
    at += emit_tree(rg + mid + 1, r - mid - 1, p + at);
    return at;
}

/* Merges sorted, distinct IPv4 addresses into ranges; returns the range count. */
static size_t make_ranges(const uint32_t *ips, size_t n, range_t *out)
{
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (r > 0 && out[r - 1].hi + 1 == ips[i])
            out[r - 1].hi = ips[i];
        else
            out[r++] = (range_t){ips[i], ips[i]};
    }
    return r;
}

static size_t count_ranges(const uint32_t *ips, size_t n)
{
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || ips[i - 1] + 1 != ips[i])
            r++;
    }
    return r;
}

/* The IPv4 filter over r ranges into p (filter_len(r) instructions). */
static size_t emit_v4_filter(const range_t *rg, size_t r, struct sock_filter *p)
{
    if (r == 0) {
        p[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, BPF_DROP);
        return 1;
    }
    p[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_NET_OFF + 16));
    return 1 + emit_tree(rg, r, p + 1);
}

/* The IPv6 filter: accept only destination ::1 (when accept), else drop all. */
static size_t emit_v6_filter(bool accept, struct sock_filter *p)
{
    if (!accept) {
        p[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, BPF_DROP);
        return 1;
    }
    /* The destination address is at bytes 24..39 of the IPv6 header. */
    for (unsigned w = 0; w < 4; w++) {
        p[2 * w] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                (uint32_t)(SKF_NET_OFF + 24 + 4 * (int)w));
        /* to the drop at index 9: from index 2w+1, offset 9 - (2w + 2) */
        p[2 * w + 1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, w == 3 ? 1u : 0u, 0,
                                                    (uint8_t)(7 - 2 * w));
    }
    p[8] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, BPF_ACCEPT);
    p[9] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, BPF_DROP);
    return 10;
}

/* ---- sockets -------------------------------------------------------------------------- */

static sn_status_t sys_fail(sn_error_t *err, const char *what, unsigned port, int e)
{
    return sn_error_set(err, SN_ESYS, "swarm: %s on port %u: %s", what, port, strerror(e));
}

/* Sets a buffer size, forcing past the sysctl cap when we may (root). */
static void set_buf(int fd, int force_opt, int opt, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) != 0)
        (void)setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

static int bind_any(int fd, int family, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t len;

    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
        len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_addr = in6addr_any;
        len = sizeof *sin6;
    }
    return bind(fd, (struct sockaddr *)&ss, len);
}

/* A UDP socket on the wildcard address of family at port (0: ephemeral, for nat replies). */
static sn_status_t open_udp(int family, uint16_t port, int rcvbuf, bool timestamps, int *out,
                            sn_error_t *err)
{
    int one = 1, e;
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return sys_fail(err, "UDP socket", port, errno);
    if (family == AF_INET6 &&
        (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0 ||
         setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0))
        goto fail;
    if (family == AF_INET && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0)
        goto fail;
    if (timestamps && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0)
        goto fail;
    if (port != 0) {
        set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
        set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, 4 << 20);
    } else {
        set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, 4 << 20);
    }
    if (bind_any(fd, family, port) != 0)
        goto fail;
    *out = fd;
    return SN_OK;
fail:
    e = errno;
    close(fd);
    return sys_fail(err, family == AF_INET6 ? "binding UDP [::]" : "binding UDP 0.0.0.0", port, e);
}

/* A TCP listener on the wildcard address of family at port, with its filter attached first. */
static sn_status_t open_tcp(int family, uint16_t port, struct sock_filter *prog, size_t len,
                            int *out, sn_error_t *err)
{
    int one = 1, e;
    struct sock_fprog fp = {.len = (unsigned short)len, .filter = prog};
    const char *what = family == AF_INET6 ? "TCP listener on [::]" : "TCP listener on 0.0.0.0";
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return sys_fail(err, "TCP socket", port, errno);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0))
        goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) != 0) {
        e = errno;
        close(fd);
        if (e == EPERM)
            return sn_error_set(err, SN_ESYS,
                                "swarm: attaching the address filter on port %u: %s (this "
                                "kernel lets only privileged users attach socket filters; run "
                                "the swarm as root)",
                                port, strerror(e));
        return sys_fail(err, "attaching the address filter", port, e);
    }
    if (bind_any(fd, family, port) != 0) {
        e = errno;
        close(fd);
        if (e == EACCES && port < 1024)
            return sn_error_set(err, SN_ESYS,
                                "swarm: port %u needs root (or CAP_NET_BIND_SERVICE) for the "
                                "tcp-%u-only nodes: %s",
                                port, port, strerror(e));
        return sys_fail(err, what, port, e);
    }
    if (listen(fd, LISTEN_BACKLOG) != 0)
        goto fail;
    *out = fd;
    return SN_OK;
fail:
    e = errno;
    close(fd);
    return sys_fail(err, what, port, e);
}

/* ---- delayed replies ------------------------------------------------------------------ */

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void arm_timer(sn_swarm_t *s, uint64_t due_ns)
{
    struct itimerspec it;

    memset(&it, 0, sizeof it);
    if (due_ns == 0)
        due_ns = 1; /* 0 would disarm; 1 ns after boot is "now" */
    it.it_value.tv_sec = (time_t)(due_ns / 1000000000ull);
    it.it_value.tv_nsec = (long)(due_ns % 1000000000ull);
    if (timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &it, NULL) == 0)
        s->armed_ns = due_ns;
}

static void heap_up(delayed_t **h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p]->due_ns <= h[i]->due_ns)
            break;
        delayed_t *t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static void heap_down(delayed_t **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && h[l]->due_ns < h[m]->due_ns)
            m = l;
        if (l + 1 < n && h[l + 1]->due_ns < h[m]->due_ns)
            m = l + 1;
        if (m == i)
            return;
        delayed_t *t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
}

static bool queue_reply(sn_swarm_t *s, uint64_t due_ns, int fd, const sn_addr_t *to,
                        const sn_addr_t *from, const uint8_t *data, size_t len)
{
    if (s->heap_len == s->heap_cap) {
        size_t ncap = s->heap_cap ? s->heap_cap * 2 : 1024;
        if (ncap > QUEUE_MAX)
            return false;
        delayed_t **h = realloc(s->heap, ncap * sizeof *h);
        if (h == NULL)
            return false;
        s->heap = h;
        s->heap_cap = ncap;
    }
    delayed_t *d = malloc(sizeof *d + len);
    if (d == NULL)
        return false;
    d->due_ns = due_ns;
    d->fd = fd;
    d->len = (uint16_t)len;
    d->to = *to;
    d->from = *from;
    memcpy(d->data, data, len);
    s->heap[s->heap_len] = d;
    heap_up(s->heap, s->heap_len++);
    if (s->armed_ns == 0 || due_ns < s->armed_ns)
        arm_timer(s, due_ns);
    return true;
}

/* ---- sending -------------------------------------------------------------------------- */

/* Adds a reply whose bytes are already in b->data[b->n]: to `to`, from the node address. */
static void batch_add(out_batch_t *b, const sn_addr_t *to, const sn_addr_t *from, size_t len)
{
    unsigned i = b->n++;
    struct msghdr *mh = &b->msg[i].msg_hdr;

    memset(mh, 0, sizeof *mh);
    mh->msg_name = &b->to[i];
    mh->msg_namelen = sn_addr_to_sockaddr(to, &b->to[i]);
    b->iov[i].iov_base = b->data[i];
    b->iov[i].iov_len = len;
    mh->msg_iov = &b->iov[i];
    mh->msg_iovlen = 1;
    mh->msg_control = b->ctrl[i].buf;
    memset(b->ctrl[i].buf, 0, sizeof b->ctrl[i].buf);
    if (from->family == AF_INET) {
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        memcpy(&pi.ipi_spec_dst, from->ip, 4);
        mh->msg_controllen = CMSG_SPACE(sizeof pi);
        struct cmsghdr *c = CMSG_FIRSTHDR(mh);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
    } else {
        struct in6_pktinfo pi6;
        memset(&pi6, 0, sizeof pi6);
        memcpy(&pi6.ipi6_addr, from->ip, 16);
        mh->msg_controllen = CMSG_SPACE(sizeof pi6);
        struct cmsghdr *c = CMSG_FIRSTHDR(mh);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi6);
        memcpy(CMSG_DATA(c), &pi6, sizeof pi6);
    }
}

static void flush(sn_swarm_t *s, out_batch_t *b)
{
    unsigned done = 0;

    while (done < b->n) {
        int r = sendmmsg(b->fd, b->msg + done, b->n - done, 0);
        if (r > 0) {
            done += (unsigned)r;
            s->stats.udp_replies += (uint64_t)r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
            s->stats.udp_errors += b->n - done;
            break;
        } else {
            s->stats.udp_errors++; /* this one datagram failed; the rest may go */
            done++;
        }
    }
    b->n = 0;
}

/*
 * Sends every delayed reply due by now, earliest first, in batches per socket.
 * Called from the timer and from the receive path: under load the loop serves
 * hundreds of sockets per wake-up before it reaches the timer's descriptor, and
 * a reply due meanwhile should not wait for that turn.
 */
static void send_due(sn_swarm_t *s, uint64_t now)
{
    out_batch_t *b = &s->out_due;

    b->n = 0;
    while (s->heap_len > 0 && s->heap[0]->due_ns <= now) {
        delayed_t *d = s->heap[0];
        s->heap[0] = s->heap[--s->heap_len];
        heap_down(s->heap, s->heap_len, 0);
        if (b->n > 0 && (b->fd != d->fd || b->n == BATCH))
            flush(s, b);
        b->fd = d->fd;
        memcpy(b->data[b->n], d->data, d->len);
        batch_add(b, &d->to, &d->from, d->len);
        free(d);
    }
    if (b->n > 0)
        flush(s, b);
}

static void on_timer(uv_poll_t *h, int status, int events)
{
    ep_t *ep = (ep_t *)h;
    sn_swarm_t *s = ep->swarm;
    uint64_t ticks;

    (void)status;
    (void)events;
    if (read(ep->fd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
        return;
    s->armed_ns = 0;
    send_due(s, clock_ns(CLOCK_MONOTONIC));
    if (s->heap_len > 0)
        arm_timer(s, s->heap[0]->due_ns);
}

/* ---- receiving ------------------------------------------------------------------------ */

/* Offers the request to every registered UDP answerer; returns the first reply's length. */
static int answer_any(const sn_swarm_t *s, const uint8_t *req, size_t len,
                      const sn_answer_ctx_t *ctx, uint8_t *out)
{
    for (size_t i = 0; i < s->n_answerers; i++) {
        int r = s->answerers[i]->answer(req, len, ctx, out, DGRAM_MAX);
        if (r > 0 && r <= DGRAM_MAX)
            return r;
    }
    return 0;
}

/* Handles datagram i of the receive batch on ep. mono_off converts kernel timestamps. */
static void handle_dgram(sn_swarm_t *s, const ep_t *ep, unsigned i, uint64_t now_ns,
                         int64_t mono_off)
{
    struct msghdr *mh = &s->rmsg[i].msg_hdr;
    size_t len = s->rmsg[i].msg_len;
    sn_answer_ctx_t ctx;
    uint64_t rx_ns = now_ns;
    uint32_t ip = 0;
    bool have_dst = false;

    s->stats.udp_requests++;
    if (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        goto silent;
    memset(&ctx, 0, sizeof ctx);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            ip = ntohl(pi.ipi_addr.s_addr);
            sn_addr_set_v4(&ctx.node, ip, ep->port);
            have_dst = ip != 0;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi6;
            memcpy(&pi6, CMSG_DATA(c), sizeof pi6);
            if (IN6_IS_ADDR_LOOPBACK(&pi6.ipi6_addr)) {
                ctx.node.family = AF_INET6;
                ctx.node.port = ep->port;
                memcpy(ctx.node.ip, &pi6.ipi6_addr, 16);
                have_dst = true;
            }
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            int64_t real = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
            if (real + mono_off > 0 && (uint64_t)(real + mono_off) <= now_ns)
                rx_ns = (uint64_t)(real + mono_off);
        }
    }
    if (!have_dst)
        goto silent;
    const slot_t *sl = lookup(s, ip, ep->port);
    if (sl == NULL || !answers_udp(sl->beh))
        goto silent;
    if (sl->loss > 0.0f && sn_rng_unit(&s->rng) < (double)sl->loss) {
        s->stats.udp_lost++;
        return;
    }
    if (sn_addr_from_sockaddr((struct sockaddr *)&s->rname[i], &ctx.requester) != SN_OK)
        goto silent;

    bool nat = sl->beh == SN_BEH_NAT;
    out_batch_t *b = nat ? &s->out_nat : &s->out_own;
    int fd = nat ? s->nat_fd[ep->family == AF_INET6] : ep->fd;
    int r = answer_any(s, s->rbuf[i], len, &ctx, b->data[b->n]);
    if (r <= 0)
        goto silent;
    if (sl->delay_ms > 0) {
        uint64_t due = rx_ns + (uint64_t)sl->delay_ms * 1000000ull;
        if (queue_reply(s, due, fd, &ctx.requester, &ctx.node, b->data[b->n], (size_t)r))
            s->stats.udp_delayed++;
        else
            s->stats.udp_errors++;
        return;
    }
    batch_add(b, &ctx.requester, &ctx.node, (size_t)r);
    return;
silent:
    s->stats.udp_silent++;
}

static void on_udp(uv_poll_t *h, int status, int events)
{
    ep_t *ep = (ep_t *)h;
    sn_swarm_t *s = ep->swarm;

    (void)events;
    if (status < 0)
        return;
    s->out_own.fd = ep->fd;
    s->out_own.n = 0;
    s->out_nat.fd = s->nat_fd[ep->family == AF_INET6];
    s->out_nat.n = 0;
    for (int round = 0; round < RECV_ROUNDS; round++) {
        for (unsigned i = 0; i < BATCH; i++) {
            struct msghdr *mh = &s->rmsg[i].msg_hdr;
            mh->msg_namelen = sizeof s->rname[i];
            mh->msg_controllen = sizeof s->rctrl[i].buf;
            mh->msg_flags = 0;
        }
        int n = recvmmsg(ep->fd, s->rmsg, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            break;
        uint64_t now = clock_ns(CLOCK_MONOTONIC);
        int64_t mono_off = 0;
        if (ep->timestamps)
            mono_off = (int64_t)now - (int64_t)clock_ns(CLOCK_REALTIME);
        for (unsigned i = 0; i < (unsigned)n; i++)
            handle_dgram(s, ep, i, now, mono_off);
        if (s->out_own.n > 0)
            flush(s, &s->out_own);
        if (s->out_nat.n > 0)
            flush(s, &s->out_nat);
        /* The timer stays armed for what it was armed for; it re-arms from the heap. */
        if (s->heap_len > 0 && s->heap[0]->due_ns <= now)
            send_due(s, clock_ns(CLOCK_MONOTONIC));
        if (n < BATCH)
            break; /* drained; level-triggered polling calls again if more came */
    }
}

static void on_tcp(uv_poll_t *h, int status, int events)
{
    ep_t *ep = (ep_t *)h;

    (void)events;
    if (status < 0)
        return;
    for (int i = 0; i < ACCEPT_ROUNDS; i++) {
        int c = accept4(ep->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break; /* EAGAIN, or EMFILE: try again on the next readiness */
        }
        /*
         * A plain close sends FIN, not RST: a RST could reach the scanner before
         * it has read its connect's result, turning "alive" into "reset".
         */
        close(c);
        ep->swarm->stats.tcp_accepted++;
    }
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static void swarm_free(sn_swarm_t *s)
{
    for (size_t i = 0; i < s->heap_len; i++)
        free(s->heap[i]);
    free(s->heap);
    free(s->table);
    free(s->eps);
    free(s->answerers);
    free(s);
}

static void on_close(uv_handle_t *h)
{
    ep_t *ep = (ep_t *)h;
    sn_swarm_t *s = ep->swarm;

    close(ep->fd);
    ep->fd = -1;
    if (--s->closing == 0)
        swarm_free(s);
}

void sn_swarm_stop(sn_swarm_t *s)
{
    if (s == NULL || s->stopping)
        return;
    s->stopping = true;
    for (int f = 0; f < 2; f++) {
        if (s->nat_fd[f] >= 0)
            close(s->nat_fd[f]);
        s->nat_fd[f] = -1;
    }
    s->closing = 0;
    for (size_t i = 0; i < s->n_eps; i++) {
        if (s->eps[i].watched)
            s->closing++;
    }
    for (size_t i = 0; i < s->n_eps; i++) {
        ep_t *ep = &s->eps[i];
        if (ep->watched)
            uv_close((uv_handle_t *)&ep->poll, on_close);
        else if (ep->fd >= 0)
            close(ep->fd);
    }
    if (s->closing == 0)
        swarm_free(s);
}

void sn_swarm_get_stats(const sn_swarm_t *s, sn_swarm_stats_t *st)
{
    if (s == NULL || st == NULL)
        return;
    *st = s->stats;
}

/* ---- start ---------------------------------------------------------------------------- */

/* Per-node sort key: port, family, accepting, IPv4 address (0 for ::1). */
#define KEY_PORT(k) ((uint16_t)((k) >> 34))
#define KEY_V6(k) ((unsigned)((k) >> 33) & 1u)
#define KEY_ACC(k) ((unsigned)((k) >> 32) & 1u)
#define KEY_IP(k) ((uint32_t)(k))

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* What the swarm opens for one port and family. */
typedef struct plan {
    uint16_t port;
    uint8_t family;
    bool udp; /* a UDP socket (some node there is not closed) */
    bool timestamps;
    bool tcp;            /* a listener */
    bool v6_accept;      /* IPv6: ::1 accepts */
    const uint32_t *ips; /* IPv4: sorted accepting addresses (into a scratch array) */
    size_t n_ips;
} plan_t;

typedef struct builder {
    sn_swarm_t *s;
    const sn_population_t *pop;
    uint64_t *keys;
    uint32_t *ips;       /* scratch: IPv4 addresses of keys, same order; then 443, 80 */
    uint32_t *fb_ips[2]; /* sorted IPv4 tcp-443-only, tcp-80-only addresses */
    size_t fb_n[2];
    bool fb_v6[2];
    uint64_t delay_ports[65536 / 64];
    plan_t *plans;
    size_t n_plans;
    size_t max_ips; /* longest accepting list, for the range scratch */
    int rcvbuf;
} builder_t;

static sn_status_t push_plan(builder_t *b, const plan_t *p)
{
    plan_t *np = realloc(b->plans, (b->n_plans + 1) * sizeof *np);
    if (np == NULL)
        return SN_ENOMEM;
    b->plans = np;
    b->plans[b->n_plans++] = *p;
    if (p->n_ips > b->max_ips)
        b->max_ips = p->n_ips;
    return SN_OK;
}

/*
 * Decides what every port needs, from the nodes sorted by (port, family,
 * accepting, address), and checks each filter against the BPF limit.
 */
static sn_status_t plan_ports(builder_t *b, size_t *ports, sn_error_t *err)
{
    const sn_population_t *pop = b->pop;
    size_t n = pop->count;

    for (size_t i = 0; i < n; i++) {
        const sn_node_t *nd = &pop->nodes[i];
        bool v6 = nd->addr.family == AF_INET6;
        uint32_t ip = v6 ? 0 : sn_addr_v4(&nd->addr);
        b->keys[i] = (uint64_t)nd->addr.port << 34 | (uint64_t)v6 << 33 |
                     (uint64_t)accepts_own_port(nd->behaviour) << 32 | ip;
        if (nd->delay_ms > 0 && answers_udp(nd->behaviour))
            b->delay_ports[nd->addr.port / 64] |= 1ull << (nd->addr.port % 64);
    }
    if (n > 1)
        qsort(b->keys, n, sizeof *b->keys, cmp_u64);
    for (size_t i = 0; i < n; i++)
        b->ips[i] = KEY_IP(b->keys[i]);

    *ports = 0;
    for (size_t i = 0; i < n;) {
        uint16_t port = KEY_PORT(b->keys[i]);
        size_t j = i;
        while (j < n && KEY_PORT(b->keys[j]) == port)
            j++;
        (*ports)++;
        /* A closed node is alone on its port (checked): open nothing there. */
        const slot_t *sl = lookup(b->s, KEY_IP(b->keys[i]), port);
        if (j - i == 1 && sl != NULL && sl->beh == SN_BEH_CLOSED) {
            i = j;
            continue;
        }
        bool ts = (b->delay_ports[port / 64] >> (port % 64)) & 1u;
        size_t v4_end = i;
        while (v4_end < j && !KEY_V6(b->keys[v4_end]))
            v4_end++;
        if (v4_end > i) {
            size_t acc = i;
            while (acc < v4_end && !KEY_ACC(b->keys[acc]))
                acc++;
            plan_t p = {.port = port,
                        .family = AF_INET,
                        .udp = true,
                        .timestamps = ts,
                        .tcp = true,
                        .ips = b->ips + acc,
                        .n_ips = v4_end - acc};
            size_t insns = filter_len(count_ranges(p.ips, p.n_ips));
            if (insns > BPF_MAX_INSNS)
                return sn_error_set(err, SN_ELIMIT,
                                    "swarm: port %u: the filter for its %zu accepting addresses "
                                    "needs %zu BPF instructions, more than %d; give the "
                                    "accepting nodes of a port fewer separate address runs",
                                    port, p.n_ips, insns, BPF_MAX_INSNS);
            if (push_plan(b, &p) != SN_OK)
                return sn_error_set(err, SN_ENOMEM, "swarm: out of memory");
        }
        if (v4_end < j) {
            plan_t p = {.port = port,
                        .family = AF_INET6,
                        .udp = true,
                        .timestamps = ts,
                        .tcp = true,
                        .v6_accept = KEY_ACC(b->keys[v4_end]) != 0};
            if (push_plan(b, &p) != SN_OK)
                return sn_error_set(err, SN_ENOMEM, "swarm: out of memory");
        }
        i = j;
    }

    /* The fallback ports: listeners for the tcp-443-only and tcp-80-only nodes. */
    static const uint16_t fb_port[2] = {443, 80};
    for (int f = 0; f < 2; f++) {
        uint8_t want = f == 0 ? SN_BEH_TCP_443_ONLY : SN_BEH_TCP_80_ONLY;
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) {
            const sn_node_t *nd = &pop->nodes[i];
            if (nd->behaviour != want)
                continue;
            if (nd->addr.family == AF_INET6)
                b->fb_v6[f] = true;
            else
                cnt++;
        }
        if (cnt > 0) {
            b->fb_ips[f] = malloc(cnt * sizeof(uint32_t));
            if (b->fb_ips[f] == NULL)
                return sn_error_set(err, SN_ENOMEM, "swarm: out of memory");
            for (size_t i = 0; i < n; i++) {
                const sn_node_t *nd = &pop->nodes[i];
                if (nd->behaviour == want && nd->addr.family == AF_INET)
                    b->fb_ips[f][b->fb_n[f]++] = sn_addr_v4(&nd->addr);
            }
            qsort(b->fb_ips[f], cnt, sizeof(uint32_t), cmp_u32);
            plan_t p = {.port = fb_port[f],
                        .family = AF_INET,
                        .tcp = true,
                        .ips = b->fb_ips[f],
                        .n_ips = cnt};
            size_t insns = filter_len(count_ranges(p.ips, p.n_ips));
            if (insns > BPF_MAX_INSNS)
                return sn_error_set(err, SN_ELIMIT,
                                    "swarm: port %u: the filter for its %zu tcp-%u-only addresses "
                                    "needs %zu BPF instructions, more than %d",
                                    fb_port[f], cnt, fb_port[f], insns, BPF_MAX_INSNS);
            if (push_plan(b, &p) != SN_OK)
                return sn_error_set(err, SN_ENOMEM, "swarm: out of memory");
        }
        if (b->fb_v6[f]) {
            plan_t p = {.port = fb_port[f], .family = AF_INET6, .tcp = true, .v6_accept = true};
            if (push_plan(b, &p) != SN_OK)
                return sn_error_set(err, SN_ENOMEM, "swarm: out of memory");
        }
    }
    return SN_OK;
}

/* Raises the open-file soft limit to the hard one; fails if `need` still does not fit. */
static sn_status_t ensure_fds(size_t need, sn_error_t *err)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return sn_error_set(err, SN_ESYS, "swarm: getrlimit: %s", strerror(errno));
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl.rlim_cur = rl.rlim_max;
    }
    if (rl.rlim_cur != RLIM_INFINITY && need + FD_RESERVE > rl.rlim_cur)
        return sn_error_set(err, SN_ELIMIT,
                            "swarm: the population needs %zu sockets (plus %d spare) but the "
                            "open-file limit is %llu; use fewer distinct ports",
                            need, FD_RESERVE, (unsigned long long)rl.rlim_cur);
    return SN_OK;
}

static int default_rcvbuf(size_t udp_sockets)
{
    /* 256 MiB of queue in all, 256 KiB to 16 MiB per socket. */
    size_t per = udp_sockets ? ((size_t)256 << 20) / udp_sockets : ((size_t)16 << 20);
    if (per > ((size_t)16 << 20))
        per = (size_t)16 << 20;
    if (per < ((size_t)256 << 10))
        per = (size_t)256 << 10;
    return (int)per;
}

/* Opens every planned descriptor into s->eps (not yet watched). */
static sn_status_t open_all(builder_t *b, bool nat4, bool nat6, bool timer, sn_error_t *err)
{
    sn_swarm_t *s = b->s;
    range_t *rg = NULL;
    struct sock_filter *prog = NULL;
    sn_status_t st = SN_OK;

    rg = malloc((b->max_ips + 1) * sizeof *rg);
    prog = malloc(BPF_MAX_INSNS * sizeof *prog);
    if (rg == NULL || prog == NULL) {
        st = sn_error_set(err, SN_ENOMEM, "swarm: out of memory");
        goto out;
    }
    for (size_t i = 0; i < b->n_plans; i++) {
        const plan_t *p = &b->plans[i];
        if (p->udp) {
            ep_t *ep = &s->eps[s->n_eps];
            *ep = (ep_t){.swarm = s,
                         .fd = -1,
                         .kind = EP_UDP,
                         .family = p->family,
                         .port = p->port,
                         .timestamps = p->timestamps};
            st = open_udp(p->family, p->port, b->rcvbuf, p->timestamps, &ep->fd, err);
            if (st != SN_OK)
                goto out;
            s->n_eps++;
        }
        if (p->tcp) {
            size_t len;
            if (p->family == AF_INET)
                len = emit_v4_filter(rg, make_ranges(p->ips, p->n_ips, rg), prog);
            else
                len = emit_v6_filter(p->v6_accept, prog);
            ep_t *ep = &s->eps[s->n_eps];
            *ep =
                (ep_t){.swarm = s, .fd = -1, .kind = EP_TCP, .family = p->family, .port = p->port};
            st = open_tcp(p->family, p->port, prog, len, &ep->fd, err);
            if (st != SN_OK)
                goto out;
            s->n_eps++;
        }
    }
    if (nat4 && (st = open_udp(AF_INET, 0, 0, false, &s->nat_fd[0], err)) != SN_OK)
        goto out;
    if (nat6 && (st = open_udp(AF_INET6, 0, 0, false, &s->nat_fd[1], err)) != SN_OK)
        goto out;
    if (timer) {
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (fd < 0) {
            st = sn_error_set(err, SN_ESYS, "swarm: timerfd_create: %s", strerror(errno));
            goto out;
        }
        s->eps[s->n_eps++] = (ep_t){.swarm = s, .fd = fd, .kind = EP_TIMER};
        s->timer_fd = fd;
    }
out:
    free(rg);
    free(prog);
    return st;
}

sn_status_t sn_swarm_start(uv_loop_t *loop, const sn_population_t *pop, const sn_swarm_opts_t *opts,
                           sn_swarm_t **out, sn_error_t *err)
{
    builder_t *b = NULL;
    sn_swarm_t *s = NULL;
    sn_status_t st;
    size_t ports = 0;
    bool nat4 = false, nat6 = false, timer = false;

    if (loop == NULL || pop == NULL || out == NULL)
        return sn_error_set(err, SN_EINVAL, "swarm: no loop, population or output given");
    *out = NULL;
    st = sn_population_check(pop, err);
    if (st != SN_OK)
        return st;

    s = calloc(1, sizeof *s);
    b = calloc(1, sizeof *b);
    if (s == NULL || b == NULL)
        goto nomem;
    s->loop = loop;
    s->nat_fd[0] = s->nat_fd[1] = -1;
    s->timer_fd = -1;
    s->rng = sn_rng_seeded(opts ? opts->seed : 0);

    /* The table: a power of two at least 4/3 of the node count. */
    size_t cap = 16;
    unsigned bits = 4;
    while (cap * 3 < pop->count * 4) {
        cap *= 2;
        bits++;
    }
    s->table = calloc(cap, sizeof *s->table);
    if (s->table == NULL)
        goto nomem;
    s->mask = cap - 1;
    s->shift = 64 - bits;
    for (size_t i = 0; i < pop->count; i++) {
        const sn_node_t *nd = &pop->nodes[i];
        insert(s, nd);
        if (nd->behaviour == SN_BEH_NAT && nd->addr.family == AF_INET6)
            nat6 = true;
        else if (nd->behaviour == SN_BEH_NAT)
            nat4 = true;
        if (nd->delay_ms > 0 && answers_udp(nd->behaviour))
            timer = true;
    }

    for (unsigned i = 0; i < BATCH; i++) {
        struct msghdr *mh = &s->rmsg[i].msg_hdr;
        s->riov[i].iov_base = s->rbuf[i];
        s->riov[i].iov_len = sizeof s->rbuf[i];
        mh->msg_name = &s->rname[i];
        mh->msg_iov = &s->riov[i];
        mh->msg_iovlen = 1;
        mh->msg_control = s->rctrl[i].buf;
    }

    s->answerers = calloc(sn_probe_count + 1, sizeof *s->answerers);
    if (s->answerers == NULL)
        goto nomem;
    for (size_t i = 0; i < sn_probe_count; i++) {
        if (sn_probes[i]->transport == SN_TRANSPORT_UDP && sn_probes[i]->answer != NULL)
            s->answerers[s->n_answerers++] = sn_probes[i];
    }

    b->s = s;
    b->pop = pop;
    if (pop->count > 0) {
        b->keys = malloc(pop->count * sizeof *b->keys);
        b->ips = malloc(pop->count * sizeof *b->ips);
        if (b->keys == NULL || b->ips == NULL)
            goto nomem;
    }
    st = plan_ports(b, &ports, err);
    if (st != SN_OK)
        goto fail;

    size_t fds = (nat4 ? 1 : 0) + (nat6 ? 1 : 0) + (timer ? 1 : 0), udp = 0;
    for (size_t i = 0; i < b->n_plans; i++) {
        fds += (b->plans[i].udp ? 1 : 0) + (b->plans[i].tcp ? 1 : 0);
        udp += b->plans[i].udp ? 1 : 0;
    }
    st = ensure_fds(fds, err);
    if (st != SN_OK)
        goto fail;
    b->rcvbuf = opts && opts->udp_rcvbuf > 0 ? opts->udp_rcvbuf : default_rcvbuf(udp);
    s->eps = calloc(fds + 1, sizeof *s->eps);
    if (s->eps == NULL)
        goto nomem;
    st = open_all(b, nat4, nat6, timer, err);
    if (st != SN_OK)
        goto fail;

    s->stats.nodes = pop->count;
    s->stats.ports = ports;
    s->stats.sockets = fds;
    for (size_t i = 0; i < s->n_eps; i++) {
        ep_t *ep = &s->eps[i];
        uv_poll_cb cb = ep->kind == EP_UDP ? on_udp : ep->kind == EP_TCP ? on_tcp : on_timer;
        int r = uv_poll_init(loop, &ep->poll, ep->fd);
        if (r == 0) {
            ep->watched = true;
            r = uv_poll_start(&ep->poll, UV_READABLE, cb);
        }
        if (r != 0) {
            st = sn_error_set(err, SN_ESYS, "swarm: watching a socket of port %u: %s", ep->port,
                              uv_strerror(r));
            goto fail;
        }
    }
    free(b->keys);
    free(b->ips);
    free(b->fb_ips[0]);
    free(b->fb_ips[1]);
    free(b->plans);
    free(b);
    *out = s;
    return SN_OK;

nomem:
    st = sn_error_set(err, SN_ENOMEM, "swarm: out of memory");
fail:
    if (b != NULL) {
        free(b->keys);
        free(b->ips);
        free(b->fb_ips[0]);
        free(b->fb_ips[1]);
        free(b->plans);
        free(b);
    }
    if (s != NULL) {
        if (s->table == NULL || s->eps == NULL) {
            for (int f = 0; f < 2; f++) {
                if (s->nat_fd[f] >= 0)
                    close(s->nat_fd[f]);
            }
            swarm_free(s);
        } else {
            sn_swarm_stop(s);
        }
    }
    return st;
}
