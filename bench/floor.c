/*
 * floor: the benchmark's yardstick, the most this machine does without any
 * features. It probes a list of ip:port targets on loopback and writes one CSV
 * row per target, nothing else: no retries, no fallback ports, no enrichment,
 * no progress line.
 *
 *   UDP: Skype-shaped 18-byte requests from one unconnected socket, sent and
 *        received in batches (sendmmsg/recvmmsg); a reply is matched by its
 *        source address and port and the 2-byte session id it echoes. After
 *        the last send it waits --timeout-ms for late replies. The RTT runs
 *        from the datagram's send time to the kernel's receive timestamp of
 *        the reply (SO_TIMESTAMPNS). A sendmmsg call hands its datagrams to
 *        loopback one after the other, so the send time of the k-th of r is
 *        interpolated between the clock read before and after the call
 *        (udp_rtt_us); udp_rtt_batch_us counts from the clock read before the
 *        call, for every datagram of the batch, as a scanner that timestamps
 *        a batch once does; the two differ by how long the call took.
 *   TCP: one non-blocking connect per target under epoll, in flight bounded
 *        by --inflight (and the fd limit); each socket is closed with
 *        SO_LINGER 0 (an RST, so no TIME_WAIT piles up). A connect that has
 *        not completed --timeout-ms after it started is "filtered", but only
 *        after every completion the kernel has queued has been read: a
 *        handshake that finished in time is never lost to this loop being
 *        late. Connects start at most 1,024 per round, so that completions
 *        are collected while the list is still being started.
 *
 * It is one file with no project dependencies on purpose: it measures the
 * kernel and the machine, not shared code. The output columns are the ones
 * snprobe's results CSV uses (address,port,udp_outcome / tcp_outcome), so one
 * scorer reads both. It sends to 127.0.0.0/8 only and refuses any other list.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { PENDING = 0, ALIVE, CLOSED, FILTERED, FAILED };
static const char *const outcome_name[] = {"", "alive", "closed", "filtered", "error"};

enum { BATCH_MAX = 256, REQ_LEN = 18, REPLY_LEN = 11, TCP_ROUND = 1024 };

typedef struct target {
    uint32_t ip;   /* network order */
    uint16_t port; /* host order */
    uint8_t outcome;
    int fd;            /* TCP: the socket while in flight */
    uint64_t start_us; /* TCP: when the connect started */
    uint64_t sent_ns;  /* UDP: interpolated send time, CLOCK_REALTIME */
    uint64_t batch_ns; /* UDP: the clock read before the sendmmsg call */
    uint32_t rtt_us, rtt_batch_us;
} target_t;

typedef struct opts {
    int tcp;
    uint64_t rate; /* targets per second; 0: unpaced */
    uint64_t timeout_us;
    long inflight;
    unsigned batch; /* UDP datagrams per sendmmsg / recvmmsg */
    const char *out;
    const char *list;
} opts_t;

static target_t *tg;
static size_t ntg;
static uint32_t *slots; /* open addressing: target index + 1, 0 = empty */
static size_t slot_mask;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("floor: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The clock of SO_TIMESTAMPNS receive timestamps. */
static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static size_t slot_of(uint32_t ip, uint16_t port)
{
    return (size_t)mix64((uint64_t)ip << 16 | port) & slot_mask;
}

/* Returns the index of (ip, port), or SIZE_MAX. */
static size_t lookup(uint32_t ip, uint16_t port)
{
    for (size_t s = slot_of(ip, port);; s = (s + 1) & slot_mask) {
        if (slots[s] == 0)
            return SIZE_MAX;
        const target_t *t = &tg[slots[s] - 1];
        if (t->ip == ip && t->port == port)
            return slots[s] - 1;
    }
}

/* Strict "a.b.c.d:port": inet_pton for the address, plain decimal port. */
static int parse_line(char *s, uint32_t *ip, uint16_t *port)
{
    char *colon = strrchr(s, ':');
    if (!colon || colon == s || colon - s > 15 || colon[1] == '\0' || strlen(colon + 1) > 5)
        return -1;
    *colon = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return -1;
    unsigned long p = 0;
    for (const char *d = colon + 1; *d; d++) {
        if (*d < '0' || *d > '9')
            return -1;
        p = p * 10 + (unsigned long)(*d - '0');
    }
    if (p == 0 || p > 65535)
        return -1;
    *ip = a.s_addr;
    *port = (uint16_t)p;
    return 0;
}

static void load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("%s: %s", path, strerror(errno));
    size_t cap = 1024, lineno = 0, dups = 0;
    char line[256];
    tg = malloc(cap * sizeof *tg);
    if (!tg)
        die("out of memory");
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        uint32_t ip;
        uint16_t port;
        if (parse_line(line, &ip, &port) != 0)
            die("%s:%zu: not an IPv4 a.b.c.d:port line", path, lineno);
        if ((ntohl(ip) >> 24) != 127)
            die("%s:%zu: not a loopback address; floor probes 127.0.0.0/8 only", path, lineno);
        if (ntg == cap) {
            cap *= 2;
            target_t *n = realloc(tg, cap * sizeof *tg);
            if (!n)
                die("out of memory");
            tg = n;
        }
        tg[ntg++] = (target_t){.ip = ip, .port = port, .fd = -1};
    }
    if (ferror(f))
        die("%s: read error", path);
    fclose(f);
    if (ntg == 0 || ntg > UINT32_MAX / 4)
        die("%s: %zu targets; need 1 to %u", path, ntg, UINT32_MAX / 4);

    size_t size = 1024;
    while (size < 2 * ntg)
        size *= 2;
    slots = calloc(size, sizeof *slots);
    if (!slots)
        die("out of memory");
    slot_mask = size - 1;
    size_t kept = 0;
    for (size_t i = 0; i < ntg; i++) {
        if (lookup(tg[i].ip, tg[i].port) != SIZE_MAX) {
            dups++;
            continue;
        }
        tg[kept] = tg[i];
        size_t s = slot_of(tg[kept].ip, tg[kept].port);
        while (slots[s])
            s = (s + 1) & slot_mask;
        slots[s] = (uint32_t)(kept + 1);
        kept++;
    }
    ntg = kept;
    if (dups)
        fprintf(stderr, "floor: %zu duplicate targets ignored\n", dups);
}

/* How many more targets the pacing allows now (rate 0: unlimited). */
static size_t allowance(const opts_t *o, uint64_t t0, size_t started)
{
    if (o->rate == 0)
        return SIZE_MAX;
    uint64_t due = (now_us() - t0) * o->rate / 1000000u + 1;
    return due > started ? (size_t)(due - started) : 0;
}

static void set_buf(int fd, int force, int plain, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof bytes) != 0)
        (void)setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof bytes);
}

/* The session id of target i: well mixed, so that a reply to one target
 * cannot match another by accident. */
static uint16_t session_id(size_t i)
{
    return (uint16_t)mix64(i + 0x5eed);
}

static uint32_t crc32(const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;
    while (len--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t rtt_of(uint64_t rx_ns, uint64_t sent_ns)
{
    return rx_ns > sent_ns ? (uint32_t)((rx_ns - sent_ns) / 1000u) : 0;
}

/* Reads every reply waiting; returns how many targets it newly found alive. */
static size_t drain_udp(int fd, unsigned batch)
{
    static uint8_t buf[BATCH_MAX][64];
    static struct sockaddr_in from[BATCH_MAX];
    static struct iovec iov[BATCH_MAX];
    static struct mmsghdr msgs[BATCH_MAX];
    static union {
        uint8_t b[CMSG_SPACE(sizeof(struct timespec)) + 32];
        struct cmsghdr align;
    } ctl[BATCH_MAX];
    size_t found = 0;
    for (;;) {
        for (unsigned k = 0; k < batch; k++) {
            iov[k] = (struct iovec){.iov_base = buf[k], .iov_len = sizeof buf[k]};
            msgs[k].msg_hdr = (struct msghdr){.msg_name = &from[k],
                                              .msg_namelen = sizeof from[k],
                                              .msg_iov = &iov[k],
                                              .msg_iovlen = 1,
                                              .msg_control = ctl[k].b,
                                              .msg_controllen = sizeof ctl[k].b};
        }
        int r = recvmmsg(fd, msgs, batch, MSG_DONTWAIT, NULL);
        if (r <= 0) {
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                die("recvmmsg: %s", strerror(errno));
            return found;
        }
        const uint64_t fallback = real_ns(); /* when a timestamp is missing */
        for (int k = 0; k < r; k++) {
            const uint8_t *b = buf[k];
            if (msgs[k].msg_len != REPLY_LEN || (b[2] & 0x0f) != 0x05 ||
                from[k].sin_family != AF_INET)
                continue;
            size_t i = lookup(from[k].sin_addr.s_addr, ntohs(from[k].sin_port));
            if (i == SIZE_MAX || tg[i].outcome != PENDING ||
                session_id(i) != (uint16_t)(b[0] << 8 | b[1]))
                continue;
            uint64_t rx = fallback;
            struct msghdr *mh = &msgs[k].msg_hdr;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec ts;
                    memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    rx = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
                }
            }
            tg[i].outcome = ALIVE;
            tg[i].rtt_us = rtt_of(rx, tg[i].sent_ns);
            tg[i].rtt_batch_us = rtt_of(rx, tg[i].batch_ns);
            found++;
        }
    }
}

static void run_udp(const opts_t *o)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, 4 << 20);
    set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, 64 << 20);
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0)
        die("SO_TIMESTAMPNS: %s", strerror(errno));
    const unsigned batch = o->batch;

    /* Request: id(2) 0x02 iv(4) crc(4) payload(7), as snprobe's skype probe. */
    static const uint8_t payload[7] = {'s', 'n', 'p', 'r', 'o', 'b', 'e'};
    const uint32_t crc = crc32(payload, sizeof payload);
    static uint8_t pkt[BATCH_MAX][REQ_LEN];
    static struct sockaddr_in to[BATCH_MAX];
    static struct iovec iov[BATCH_MAX];
    static struct mmsghdr msgs[BATCH_MAX];

    size_t next = 0, alive = 0;
    const uint64_t t0 = now_us();
    while (next < ntg) {
        size_t k = ntg - next < batch ? ntg - next : batch;
        size_t allow = allowance(o, t0, next);
        if (allow == 0) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            (void)poll(&p, 1, 1);
            alive += drain_udp(fd, batch);
            continue;
        }
        if (k > allow)
            k = allow;
        for (size_t j = 0; j < k; j++) {
            size_t i = next + j;
            uint16_t id = session_id(i);
            uint32_t iv = (uint32_t)mix64(i ^ 0x1f2e3d4cULL);
            uint8_t *b = pkt[j];
            b[0] = (uint8_t)(id >> 8), b[1] = (uint8_t)id, b[2] = 0x02;
            for (int q = 0; q < 4; q++) {
                b[3 + q] = (uint8_t)(iv >> (24 - 8 * q));
                b[7 + q] = (uint8_t)(crc >> (24 - 8 * q));
            }
            memcpy(b + 11, payload, sizeof payload);
            to[j] = (struct sockaddr_in){
                .sin_family = AF_INET, .sin_port = htons(tg[i].port), .sin_addr.s_addr = tg[i].ip};
            iov[j] = (struct iovec){.iov_base = b, .iov_len = REQ_LEN};
            msgs[j].msg_hdr = (struct msghdr){.msg_name = &to[j],
                                              .msg_namelen = sizeof to[j],
                                              .msg_iov = &iov[j],
                                              .msg_iovlen = 1};
        }
        const uint64_t before = real_ns();
        int r = sendmmsg(fd, msgs, (unsigned)k, 0);
        const uint64_t after = real_ns();
        for (int j = 0; j < r; j++) {
            /* the j-th datagram left in the j-th of r equal slices of the call */
            tg[next + (size_t)j].batch_ns = before;
            tg[next + (size_t)j].sent_ns =
                before + (after - before) * (2 * (uint64_t)j + 1) / (2 * (uint64_t)r);
        }
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR)
                die("sendmmsg: %s", strerror(errno));
            struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
            (void)poll(&p, 1, 1);
        } else {
            next += (size_t)r;
        }
        alive += drain_udp(fd, batch);
    }
    const uint64_t deadline = now_us() + o->timeout_us;
    for (uint64_t t = now_us(); alive < ntg && t < deadline; t = now_us()) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        (void)poll(&p, 1, (int)((deadline - t + 999) / 1000));
        alive += drain_udp(fd, batch);
    }
    for (size_t i = 0; i < ntg; i++)
        if (tg[i].outcome == PENDING)
            tg[i].outcome = FILTERED;
    close(fd);
}

static void finish_tcp(target_t *t, int outcome, long *inflight)
{
    close(t->fd); /* SO_LINGER 0: an RST for an established connection */
    t->fd = -1;
    t->outcome = (uint8_t)outcome;
    (*inflight)--;
}

static int tcp_outcome(int err)
{
    if (err == 0)
        return ALIVE;
    if (err == ECONNREFUSED)
        return CLOSED;
    if (err == ETIMEDOUT || err == EHOSTUNREACH || err == ENETUNREACH)
        return FILTERED;
    return FAILED;
}

static void start_tcp(target_t *t, int ep, long *inflight, uint32_t index)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(t->port), .sin_addr.s_addr = t->ip};
    t->fd = fd;
    t->start_us = now_us();
    (*inflight)++;
    if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0) {
        finish_tcp(t, ALIVE, inflight);
    } else if (errno != EINPROGRESS) {
        finish_tcp(t, tcp_outcome(errno), inflight);
    } else {
        struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = index};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
            die("epoll_ctl: %s", strerror(errno));
    }
}

static void run_tcp(const opts_t *o)
{
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1: %s", strerror(errno));
    struct rlimit rl;
    long cap = o->inflight;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)cap > rl.rlim_cur - 64)
        cap = (long)rl.rlim_cur - 64;
    if (cap < 1)
        die("fd limit too low for any connection in flight");

    static struct epoll_event evs[1024];
    size_t next = 0, head = 0;
    long inflight = 0;
    const uint64_t t0 = now_us();
    while (next < ntg || inflight > 0) {
        /* A round starts at most TCP_ROUND connects, so that completions are
         * collected while the rest of the list is still being started. */
        size_t allow = allowance(o, t0, next), started = 0;
        while (next < ntg && inflight < cap && allow > 0 && started < TCP_ROUND) {
            start_tcp(&tg[next], ep, &inflight, (uint32_t)next);
            next++, allow--, started++;
        }
        int wait_ms = 0;
        uint64_t t = now_us();
        if (next < ntg && inflight < cap) /* more to start: 0, or 1 ms when paced */
            wait_ms = allowance(o, t0, next) > 0 ? 0 : 1;
        else if (head < next && tg[head].fd >= 0) /* the oldest connect in flight */
            wait_ms = tg[head].start_us + o->timeout_us > t
                          ? (int)((tg[head].start_us + o->timeout_us - t + 999) / 1000)
                          : 0;
        /* Every completion the kernel has queued is read before any connect
         * is declared timed out: one that finished in time is alive even when
         * this loop got to it late. */
        for (int ne = 1024; ne == 1024; wait_ms = 0) {
            ne = epoll_wait(ep, evs, 1024, wait_ms);
            if (ne < 0) {
                if (errno != EINTR)
                    die("epoll_wait: %s", strerror(errno));
                break;
            }
            for (int k = 0; k < ne; k++) {
                target_t *tt = &tg[evs[k].data.u32];
                if (tt->fd < 0)
                    continue;
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(tt->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                    err = errno;
                finish_tcp(tt, tcp_outcome(err), &inflight);
            }
        }
        /* Connects start in list order, so the oldest pending one is the
         * first not yet finished from head on. */
        t = now_us();
        while (head < next && (tg[head].fd < 0 || tg[head].start_us + o->timeout_us <= t)) {
            if (tg[head].fd >= 0)
                finish_tcp(&tg[head], FILTERED, &inflight);
            head++;
        }
    }
    close(ep);
}

static uint64_t parse_num(const char *opt, const char *v, uint64_t max)
{
    uint64_t n = 0;
    if (!v || !*v)
        die("%s needs a number", opt);
    for (const char *d = v; *d; d++) {
        if (*d < '0' || *d > '9' || n > max / 10)
            die("%s: '%s' is not a number 0..%llu", opt, v, (unsigned long long)max);
        n = n * 10 + (uint64_t)(*d - '0');
    }
    if (n > max)
        die("%s: '%s' is not a number 0..%llu", opt, v, (unsigned long long)max);
    return n;
}

static void usage(void)
{
    fputs("usage: floor --udp|--tcp [--rate N] [--timeout-ms MS] [--inflight N] [-o OUT.csv] LIST\n"
          "  LIST: one a.b.c.d:port per line (127.0.0.0/8 only)\n"
          "  --rate N        targets per second, 0 = as fast as possible (default 0)\n"
          "  --timeout-ms MS wait after the last UDP send / per TCP connect (default 1000)\n"
          "  --inflight N    TCP connects in flight at most (default 8192)\n"
          "  --batch N       UDP datagrams per sendmmsg/recvmmsg, 1..256 (default 64)\n"
          "  -o OUT.csv      results (default stdout): address,port,udp_outcome,udp_rtt_us,\n"
          "                  udp_rtt_batch_us | address,port,tcp_outcome\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    opts_t o = {.tcp = -1, .timeout_us = 1000000, .inflight = 8192, .batch = 64};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--udp") == 0)
            o.tcp = 0;
        else if (strcmp(a, "--tcp") == 0)
            o.tcp = 1;
        else if (strcmp(a, "--rate") == 0)
            o.rate = parse_num(a, v, 100000000), i++;
        else if (strcmp(a, "--timeout-ms") == 0)
            o.timeout_us = parse_num(a, v, 3600000) * 1000, i++;
        else if (strcmp(a, "--inflight") == 0)
            o.inflight = (long)parse_num(a, v, 1000000), i++;
        else if (strcmp(a, "--batch") == 0)
            o.batch = (unsigned)parse_num(a, v, BATCH_MAX), i++;
        else if (strcmp(a, "-o") == 0 && v)
            o.out = v, i++;
        else if (a[0] == '-' || o.list)
            usage();
        else
            o.list = a;
    }
    if (o.tcp < 0 || !o.list || o.inflight < 1 || o.batch < 1)
        usage();

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    load(o.list);

    const uint64_t t0 = now_us();
    if (o.tcp)
        run_tcp(&o);
    else
        run_udp(&o);
    const double secs = (double)(now_us() - t0) / 1e6;

    FILE *out = o.out ? fopen(o.out, "w") : stdout;
    if (!out)
        die("%s: %s", o.out, strerror(errno));
    size_t count[5] = {0};
    fprintf(out, "address,port,%s\n",
            o.tcp ? "tcp_outcome" : "udp_outcome,udp_rtt_us,udp_rtt_batch_us");
    for (size_t i = 0; i < ntg; i++) {
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &tg[i].ip, ip, sizeof ip);
        fprintf(out, "%s,%u,%s", ip, tg[i].port, outcome_name[tg[i].outcome]);
        if (!o.tcp && tg[i].outcome == ALIVE)
            fprintf(out, ",%u,%u\n", tg[i].rtt_us, tg[i].rtt_batch_us);
        else
            fputs(o.tcp ? "\n" : ",,\n", out);
        count[tg[i].outcome]++;
    }
    if (fflush(out) != 0 || ferror(out) || (out != stdout && fclose(out) != 0))
        die("%s: write failed", o.out ? o.out : "stdout");
    fprintf(stderr,
            "floor: %s %zu targets in %.3f s (%.0f/s): %zu alive, %zu closed, %zu filtered, %zu "
            "error\n",
            o.tcp ? "tcp" : "udp", ntg, secs, (double)ntg / secs, count[ALIVE], count[CLOSED],
            count[FILTERED], count[FAILED]);
    free(slots);
    free(tg);
    return 0;
}
