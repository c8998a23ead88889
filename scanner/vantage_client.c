/*
 * Vantage discovery, the STUN client: RFC 5780 NAT behaviour tests against a
 * STUN server with two addresses, and UDP and TCP reachability, observed on the
 * wire. What the observations mean is judged in vantage_verdict.c (pure), and
 * the verdict's saved forms are vantage_file.c.
 *
 * The discovery is a handful of transactions run one after another, so it
 * uses plain non-blocking sockets and poll() rather than the scan engine: each
 * UDP transaction sends one Binding request (the same transaction id on every
 * retransmission) and waits for the response with that id, ignoring anything
 * else that arrives, such as a late answer to an earlier test. IP_RECVERR
 * turns ICMP errors into results, so that "nothing listens there" (port
 * unreachable from the server itself) is not mistaken for "UDP is blocked"
 * (silence, or an error from a router on the way). The mapping tests and the
 * filtering tests use two different sockets: a mapping towards the alternate
 * address, opened by the mapping tests, would otherwise let the filtering
 * tests' answers through and make every NAT look endpoint-independent.
 */
#include "scanner/vantage.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probes/stun.h"

#define DEFAULT_STUN_PORT 3478
#define DEFAULT_TIMEOUT_MS 1000u
#define DGRAM_MAX 2048
#define TCP_REPLY_MAX 2048
#define RECV_ROUNDS 64 /* datagrams read per wake-up, so a flood cannot stall a test */
#define HOST_MAX 253

/* ---- the server's address ----------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * True when h could only be meant as an IP literal (digits and dots, or a
 * colon): such a string that inet_pton refused must not go to getaddrinfo,
 * which would read "010.1" the inet_aton way.
 */
static bool looks_numeric(const char *h, size_t n)
{
    bool only_digits_dots = true;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == ':')
            return true;
        if (!((h[i] >= '0' && h[i] <= '9') || h[i] == '.'))
            only_digits_dots = false;
    }
    return only_digits_dots;
}

/*
 * A DNS host name: letters, digits, '-' and '.', not starting with '-' or
 * '.', whose last label starts with a letter (as every top-level domain
 * does). The last rule keeps inet_aton's forms ("0x7f.1", "1.2.3.0x4"), whose
 * last part is always a number, away from getaddrinfo.
 */
static bool host_name_ok(const char *h, size_t n)
{
    if (n == 0 || n > HOST_MAX || h[0] == '-' || h[0] == '.')
        return false;
    size_t end = h[n - 1] == '.' ? n - 1 : n, last = end;
    while (last > 0 && h[last - 1] != '.')
        last--;
    if (last == end || !((h[last] >= 'a' && h[last] <= 'z') || (h[last] >= 'A' && h[last] <= 'Z')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

/*
 * Parses HOST[:PORT] ("192.0.2.1", "192.0.2.1:3478", "[2001:db8::1]:3478",
 * "2001:db8::1", "stun.example.org:3478") into out, resolving a host name.
 */
static sn_status_t parse_server(const char *s, sn_addr_t *out, sn_error_t *err)
{
    size_t len = strlen(s);
    const char *host = s, *port_s = NULL;
    size_t hlen = len, plen = 0;
    bool bracketed = false;

    if (len == 0 || len > HOST_MAX + 8)
        return sn_error_set(err, SN_EINVAL, "--stun: '%s' is not HOST[:PORT]", s);
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return sn_error_set(err, SN_EINVAL, "--stun '%s': missing ']'", s);
        bracketed = true;
        host = s + 1;
        hlen = (size_t)(close - host);
        if (close + 1 < s + len) {
            if (close[1] != ':')
                return sn_error_set(err, SN_EINVAL, "--stun '%s': expected ':' after ']'", s);
            port_s = close + 2;
            plen = (size_t)(s + len - port_s);
        }
    } else {
        const char *c1 = memchr(s, ':', len);
        if (c1 != NULL && memchr(c1 + 1, ':', (size_t)(s + len - c1 - 1)) == NULL) {
            hlen = (size_t)(c1 - s);
            port_s = c1 + 1;
            plen = len - hlen - 1;
        } /* two colons or more: a bare IPv6 literal, no port */
    }
    uint16_t port = DEFAULT_STUN_PORT;
    if (port_s != NULL) {
        const char *why = NULL;
        if (sn_addr_parse_port(port_s, plen, &port, &why) != SN_OK)
            return sn_error_set(err, SN_EINVAL, "--stun '%s': bad port (%s)", s,
                                why != NULL ? why : "not 1..65535");
    }
    if (hlen == 0)
        return sn_error_set(err, SN_EINVAL, "--stun '%s': no host", s);
    if (sn_addr_parse_ip(host, hlen, out) == SN_OK) {
        if (bracketed && out->family != AF_INET6)
            return sn_error_set(err, SN_EINVAL, "--stun '%s': brackets around a non-IPv6 address",
                                s);
        out->port = port;
        return SN_OK;
    }
    if (bracketed || looks_numeric(host, hlen) || !host_name_ok(host, hlen))
        return sn_error_set(err, SN_EINVAL, "--stun '%s': neither an IP address nor a host name",
                            s);

    char name[HOST_MAX + 1];
    memcpy(name, host, hlen);
    name[hlen] = '\0';
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0)
        return sn_error_set(err, SN_ENOTFOUND, "--stun: cannot resolve '%s': %s", name,
                            gai_strerror(rc));
    sn_status_t st = SN_ENOTFOUND;
    for (struct addrinfo *ai = res; ai != NULL && st != SN_OK; ai = ai->ai_next)
        st = sn_addr_from_sockaddr(ai->ai_addr, out);
    freeaddrinfo(res);
    if (st != SN_OK)
        return sn_error_set(err, SN_ENOTFOUND, "--stun: '%s' has no IPv4 or IPv6 address", name);
    out->port = port;
    return SN_OK;
}

/*
 * The local address the kernel would send from towards server (a connected
 * UDP socket sends nothing): binding both test sockets to it makes "mapped
 * equals local" a plain comparison.
 */
static sn_status_t route_source(const sn_addr_t *server, sn_addr_t *local, sn_error_t *err)
{
    char text[SN_ADDR_STRLEN];
    struct sockaddr_storage ss;
    socklen_t sl = sn_addr_to_sockaddr(server, &ss);
    int fd = socket(server->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    sn_addr_format(server, text, sizeof text, true);
    if (fd < 0)
        return sn_error_set(err, SN_ESYS, "vantage: cannot open a UDP socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        int e = errno;
        close(fd);
        return sn_error_set(err, SN_ESYS, "vantage: no route to STUN server %s: %s", text,
                            strerror(e));
    }
    struct sockaddr_storage ls;
    socklen_t ll = sizeof ls;
    sn_status_t st = SN_OK;
    if (getsockname(fd, (struct sockaddr *)&ls, &ll) != 0 ||
        sn_addr_from_sockaddr((struct sockaddr *)&ls, local) != SN_OK)
        st = sn_error_set(err, SN_ESYS, "vantage: cannot tell the local address towards %s", text);
    close(fd);
    local->port = 0;
    return st;
}

/* ---- UDP transactions --------------------------------------------------------------------- */

static void new_txid(uint8_t txid[SN_STUN_TXID_LEN])
{
    static uint64_t counter;
    if (getrandom(txid, SN_STUN_TXID_LEN, GRND_NONBLOCK) == SN_STUN_TXID_LEN)
        return;
    /* No entropy yet (early boot): ids only need to differ between our own tests. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 48);
    uint64_t b = ++counter * 0x9E3779B97F4A7C15ull;
    memcpy(txid, &a, 8);
    memcpy(txid + 8, &b, 4);
}

/* Opens a non-blocking UDP socket bound to ip (any port) with ICMP errors queued. */
static int udp_open(const sn_addr_t *ip, sn_addr_t *bound, sn_error_t *err)
{
    int fd = socket(ip->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        sn_error_set(err, SN_ESYS, "vantage: cannot open a UDP socket: %s", strerror(errno));
        return -1;
    }
    int on = 1;
    if (ip->family == AF_INET)
        setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
    else
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
    sn_addr_t a = *ip;
    a.port = 0;
    struct sockaddr_storage ss;
    socklen_t sl = sn_addr_to_sockaddr(&a, &ss);
    struct sockaddr_storage ls;
    socklen_t ll = sizeof ls;
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
        getsockname(fd, (struct sockaddr *)&ls, &ll) != 0 ||
        sn_addr_from_sockaddr((struct sockaddr *)&ls, bound) != SN_OK) {
        char text[SN_ADDR_STRLEN];
        sn_addr_format(&a, text, sizeof text, false);
        sn_error_set(err, SN_ESYS, "vantage: cannot bind a UDP socket to %s: %s", text,
                     strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int build_binding(const uint8_t txid[SN_STUN_TXID_LEN], uint8_t change_flags, uint8_t *buf,
                         size_t cap)
{
    sn_stun_msg_t m;
    sn_stun_msg_init(&m, SN_STUN_REQUEST, SN_STUN_METHOD_BINDING, txid);
    if (change_flags != 0) {
        m.change_request = true;
        m.change_flags = change_flags;
    }
    return sn_stun_write(&m, buf, cap);
}

/*
 * Reads buf as the response to transaction txid. Returns true (t filled) when
 * it is one, false when it is something else (another transaction, not STUN).
 */
static bool take_response(const uint8_t *buf, size_t n, const uint8_t txid[SN_STUN_TXID_LEN],
                          const sn_addr_t *from, sn_vantage_test_t *t)
{
    sn_stun_msg_t m;
    if (sn_stun_parse(buf, n, &m, NULL) != SN_OK || m.method != SN_STUN_METHOD_BINDING ||
        (m.cls != SN_STUN_SUCCESS && m.cls != SN_STUN_ERROR) ||
        memcmp(m.txid, txid, SN_STUN_TXID_LEN) != 0)
        return false;
    t->from = *from;
    if (m.cls == SN_STUN_ERROR || !sn_stun_response_usable(&m)) {
        t->result = SN_VTEST_REJECTED;
        t->error_code = m.cls == SN_STUN_ERROR ? m.error_code : 0;
        return true;
    }
    t->result = SN_VTEST_ANSWERED;
    t->mapped = m.xor_mapped.family != 0 ? m.xor_mapped : m.mapped;
    t->other = m.other_address;
    return true;
}

/*
 * Reads the socket's queued ICMP errors. Returns true (t filled) when one is
 * about a datagram sent to `to`; errors about other destinations are dropped.
 */
static bool take_icmp(int fd, const sn_addr_t *to, sn_vantage_test_t *t)
{
    for (int round = 0; round < RECV_ROUNDS; round++) {
        uint8_t data[64];
        union {
            char buf[512];
            struct cmsghdr align;
        } ctrl;
        struct sockaddr_storage dst;
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
        struct msghdr mh = {.msg_name = &dst,
                            .msg_namelen = sizeof dst,
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctrl.buf,
                            .msg_controllen = sizeof ctrl.buf};
        if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            return false;
        sn_addr_t d;
        if (sn_addr_from_sockaddr((struct sockaddr *)&dst, &d) != SN_OK || !sn_addr_equal(&d, to))
            continue;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
            if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                  (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
                continue;
            struct sock_extended_err ee;
            if (c->cmsg_len < CMSG_LEN(sizeof ee))
                continue;
            memcpy(&ee, CMSG_DATA(c), sizeof ee);
            if (ee.ee_origin != SO_EE_ORIGIN_ICMP && ee.ee_origin != SO_EE_ORIGIN_ICMP6)
                continue;
            /* The offender (who sent the ICMP) follows the struct, when the kernel has it. */
            size_t room = c->cmsg_len - CMSG_LEN(sizeof ee);
            struct sockaddr_storage off;
            memset(&off, 0, sizeof off);
            memcpy(&off, CMSG_DATA(c) + sizeof ee, room < sizeof off ? room : sizeof off);
            sn_addr_t from = {0};
            if (sn_addr_from_sockaddr((struct sockaddr *)&off, &from) == SN_OK)
                t->from = from;
            t->result = ee.ee_errno == ECONNREFUSED ? SN_VTEST_REFUSED : SN_VTEST_UNREACHABLE;
            return true;
        }
    }
    return false;
}

/*
 * One Binding transaction from fd to `to`, with CHANGE-REQUEST change_flags
 * (0: none): up to retries + 1 sends of the same request, timeout_ms each.
 */
static void udp_transact(int fd, const sn_addr_t *to, uint8_t change_flags,
                         const sn_vantage_cfg_t *cfg, sn_vantage_test_t *t)
{
    uint8_t txid[SN_STUN_TXID_LEN], req[128], buf[DGRAM_MAX];
    struct sockaddr_storage ss;
    socklen_t sl = sn_addr_to_sockaddr(to, &ss);

    memset(t, 0, sizeof *t);
    t->to = *to;
    new_txid(txid);
    int n = build_binding(txid, change_flags, req, sizeof req);
    if (n <= 0)
        return; /* cannot happen: a Binding request is 20 or 28 bytes */
    t->result = SN_VTEST_SILENT;
    for (unsigned attempt = 0; attempt <= cfg->retries; attempt++) {
        if (sendto(fd, req, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&ss, sl) < 0 &&
            errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
            t->result = errno == ECONNREFUSED ? SN_VTEST_REFUSED : SN_VTEST_UNREACHABLE;
            return;
        }
        int64_t deadline = now_ms() + cfg->timeout_ms;
        for (;;) {
            int64_t left = deadline - now_ms();
            if (left <= 0)
                break;
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int r = poll(&p, 1, (int)left);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            if (p.revents & POLLERR) {
                if (take_icmp(fd, to, t))
                    return;
                /* Clear the pending socket error too, or poll() keeps waking up. */
                int soerr;
                socklen_t sl2 = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl2);
            }
            if (!(p.revents & POLLIN))
                continue;
            for (int i = 0; i < RECV_ROUNDS; i++) {
                struct sockaddr_storage fs;
                socklen_t fl = sizeof fs;
                ssize_t got = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&fs, &fl);
                if (got < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK)
                        break;
                    continue; /* a pending ICMP error, also queued: read on POLLERR */
                }
                sn_addr_t from;
                if (sn_addr_from_sockaddr((struct sockaddr *)&fs, &from) != SN_OK)
                    continue;
                if (take_response(buf, (size_t)got, txid, &from, t))
                    return;
            }
        }
    }
}

/* ---- TCP connections ---------------------------------------------------------------------- */

enum { TC_CONNECTING, TC_READING, TC_DONE };

typedef struct tcp_conn {
    sn_vantage_test_t *t;
    int fd;
    int state;
    unsigned attempts;
    int64_t deadline;
    uint8_t txid[SN_STUN_TXID_LEN];
    uint8_t buf[TCP_REPLY_MAX];
    size_t have;
} tcp_conn_t;

static void tcp_finish(tcp_conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = TC_DONE;
}

static void tcp_failed(tcp_conn_t *c, int e)
{
    c->t->result = e == ECONNREFUSED ? SN_VTEST_REFUSED : SN_VTEST_UNREACHABLE;
    tcp_finish(c);
}

/* Connected: the path passes. Ask for the mapping over the connection too. */
static void tcp_connected(tcp_conn_t *c, const sn_vantage_cfg_t *cfg)
{
    uint8_t req[64];
    c->t->result = SN_VTEST_ANSWERED;
    new_txid(c->txid);
    int n = build_binding(c->txid, 0, req, sizeof req);
    if (n <= 0 || send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        tcp_finish(c);
        return;
    }
    c->state = TC_READING;
    c->deadline = now_ms() + cfg->timeout_ms;
}

static void tcp_start(tcp_conn_t *c, const sn_vantage_cfg_t *cfg)
{
    struct sockaddr_storage ss;
    socklen_t sl = sn_addr_to_sockaddr(&c->t->to, &ss);

    c->attempts++;
    c->fd = socket(c->t->to.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->t->result = SN_VTEST_NOT_RUN; /* a local shortage says nothing about the path */
        c->state = TC_DONE;
        return;
    }
    c->t->result = SN_VTEST_SILENT;
    if (connect(c->fd, (struct sockaddr *)&ss, sl) == 0) {
        tcp_connected(c, cfg);
    } else if (errno == EINPROGRESS) {
        c->state = TC_CONNECTING;
        c->deadline = now_ms() + cfg->timeout_ms;
    } else {
        tcp_failed(c, errno);
    }
}

static void tcp_readable(tcp_conn_t *c)
{
    ssize_t got = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (got <= 0) {
        tcp_finish(c); /* connected, but no STUN answer: the verdict stands */
        return;
    }
    c->have += (size_t)got;
    int flen = sn_stun_frame_len(c->buf, c->have);
    if (flen < 0 || (flen == 0 && c->have == sizeof c->buf)) {
        tcp_finish(c);
        return;
    }
    if (flen == 0)
        return;
    sn_vantage_test_t r = *c->t;
    if (take_response(c->buf, (size_t)flen, c->txid, &c->t->to, &r) &&
        r.result == SN_VTEST_ANSWERED) {
        c->t->mapped = r.mapped;
        c->t->from = r.from;
    }
    tcp_finish(c);
}

/* Runs the TCP tests (those with a destination set) side by side. */
static void tcp_tests(sn_vantage_test_t *tests, size_t n, const sn_vantage_cfg_t *cfg)
{
    tcp_conn_t conns[3];
    size_t nc = 0;

    for (size_t i = 0; i < n && nc < 3; i++) {
        if (tests[i].to.family == 0)
            continue;
        tcp_conn_t *c = &conns[nc++];
        memset(c, 0, sizeof *c);
        c->t = &tests[i];
        c->fd = -1;
        tcp_start(c, cfg);
    }
    for (;;) {
        struct pollfd pfd[3];
        tcp_conn_t *who[3];
        size_t np = 0;
        int64_t now = now_ms(), wait = -1;
        for (size_t i = 0; i < nc; i++) {
            tcp_conn_t *c = &conns[i];
            if (c->state == TC_DONE)
                continue;
            if (c->deadline <= now) {
                if (c->state == TC_CONNECTING) {
                    close(c->fd);
                    c->fd = -1;
                    if (c->attempts <= cfg->retries)
                        tcp_start(c, cfg);
                    else
                        tcp_finish(c); /* stays SN_VTEST_SILENT */
                } else {
                    tcp_finish(c);
                }
                if (c->state == TC_DONE)
                    continue;
            }
            pfd[np].fd = c->fd;
            pfd[np].events = c->state == TC_CONNECTING ? POLLOUT : POLLIN;
            pfd[np].revents = 0;
            who[np++] = c;
            int64_t left = c->deadline - now;
            if (left < 0)
                left = 0;
            if (wait < 0 || left < wait)
                wait = left;
        }
        if (np == 0)
            return;
        int r = poll(pfd, np, (int)wait);
        if (r < 0 && errno != EINTR)
            break;
        for (size_t i = 0; r > 0 && i < np; i++) {
            tcp_conn_t *c = who[i];
            if (pfd[i].revents == 0)
                continue;
            if (c->state == TC_CONNECTING) {
                int soerr = 0;
                socklen_t len = sizeof soerr;
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
                    soerr = errno;
                if (soerr == 0)
                    tcp_connected(c, cfg);
                else
                    tcp_failed(c, soerr);
            } else {
                tcp_readable(c);
            }
        }
    }
    for (size_t i = 0; i < nc; i++)
        if (conns[i].state != TC_DONE)
            tcp_finish(&conns[i]);
}

/* ---- observing ---------------------------------------------------------------------------- */

sn_status_t sn_vantage_observe(const sn_vantage_cfg_t *cfg, sn_vantage_obs_t *obs, sn_error_t *err)
{
    if (obs == NULL)
        return sn_error_set(err, SN_EINVAL, "vantage: no place for the observations");
    memset(obs, 0, sizeof *obs);
    if (cfg == NULL || cfg->stun == NULL)
        return sn_error_set(err, SN_EINVAL, "vantage needs --stun HOST[:PORT]");
    sn_vantage_cfg_t c = *cfg;
    if (c.timeout_ms == 0)
        c.timeout_ms = DEFAULT_TIMEOUT_MS;

    sn_status_t st = parse_server(cfg->stun, &obs->server, err);
    if (st != SN_OK)
        return st;
    sn_addr_t lip;
    st = route_source(&obs->server, &lip, err);
    if (st != SN_OK)
        return st;

    sn_vantage_test_t *t = obs->t;
    int a = udp_open(&lip, &obs->local_map, err);
    if (a < 0)
        return SN_ESYS;
    udp_transact(a, &obs->server, 0, &c, &t[SN_VT_MAP1]);
    const sn_addr_t *other = &t[SN_VT_MAP1].other;
    bool rfc5780 = other->family == obs->server.family && other->port != 0;
    if (sn_vantage_test_mapped(&t[SN_VT_MAP1]) &&
        !sn_addr_equal(&t[SN_VT_MAP1].mapped, &obs->local_map) && rfc5780) {
        sn_addr_t to2 = *other;
        to2.port = obs->server.port;
        udp_transact(a, &to2, 0, &c, &t[SN_VT_MAP2]);
        if (sn_vantage_test_mapped(&t[SN_VT_MAP2]) &&
            !sn_addr_equal(&t[SN_VT_MAP2].mapped, &t[SN_VT_MAP1].mapped))
            udp_transact(a, other, 0, &c, &t[SN_VT_MAP3]);
    }
    close(a);

    /* Filtering only where UDP passed at all: otherwise it would only wait. */
    if (t[SN_VT_MAP1].result == SN_VTEST_ANSWERED) {
        int b = udp_open(&lip, &obs->local_filter, err);
        if (b < 0)
            return SN_ESYS;
        udp_transact(b, &obs->server, 0, &c, &t[SN_VT_FILTER1]);
        if (sn_vantage_test_mapped(&t[SN_VT_FILTER1]) && rfc5780) {
            udp_transact(b, &obs->server, SN_STUN_CHANGE_IP | SN_STUN_CHANGE_PORT, &c,
                         &t[SN_VT_FILTER2]);
            if (t[SN_VT_FILTER2].result == SN_VTEST_SILENT)
                udp_transact(b, &obs->server, SN_STUN_CHANGE_PORT, &c, &t[SN_VT_FILTER3]);
        }
        close(b);
    }

    /* The STUN port stands for "a high port"; when it is 443 or 80 it cannot. */
    if (obs->server.port != 443 && obs->server.port != 80)
        t[SN_VT_TCP_STUN].to = obs->server;
    t[SN_VT_TCP_443].to = obs->server;
    t[SN_VT_TCP_443].to.port = 443;
    t[SN_VT_TCP_80].to = obs->server;
    t[SN_VT_TCP_80].to.port = 80;
    tcp_tests(&t[SN_VT_TCP_STUN], 3, &c);
    return SN_OK;
}

sn_status_t sn_vantage_discover(const sn_vantage_cfg_t *cfg, sn_vantage_t *out, sn_error_t *err)
{
    sn_vantage_obs_t obs;
    if (out == NULL)
        return sn_error_set(err, SN_EINVAL, "vantage: no place for the verdict");
    memset(out, 0, sizeof *out);
    sn_status_t st = sn_vantage_observe(cfg, &obs, err);
    if (st != SN_OK)
        return st;
    sn_vantage_decide(&obs, out);
    return SN_OK;
}
