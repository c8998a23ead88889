/*
 * Endpoint addresses: strict parsing, formatting, hashing and conversion.
 *
 * Every address that enters the program from a file, a packet or the command
 * line passes through here, so the rules live in one place: IPv6 literals go
 * through inet_pton, IPv4 through a strict dotted-quad reader of our own
 * (never inet_aton, which reads `010.0.0.1` as octal and accepts `127.1`):
 * exactly four decimal octets of at most 255, none with a leading zero. That
 * is what glibc's inet_pton accepts, and tests/test_addr.c holds the two to
 * the same answers; it is ours because harvested lists run to millions of
 * lines, and it takes a fifth of inet_pton's instructions. Ports are plain
 * decimal. The
 * value type is a fixed 20-byte struct whose padding and unused bytes are
 * always zero, so that it can be hashed and compared as plain bytes.
 */
#include "lib/addr.h"
#include "lib/decimal.h"
#include "lib/text.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* Longest IP literal inet_pton can take: a full IPv6 with an IPv4 tail. */
#define IP_TEXT_MAX 45

/* Longest port text we read; leading zeros are allowed ("033033"), not more. */
#define PORT_TEXT_MAX 8

/* Reads a dotted quad ("192.0.2.1") of len bytes into ip[4]; false if it is not one. */
static bool parse_v4(const char *s, size_t len, uint8_t ip[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && i - start < 3 && sn_is_digit(s[i]))
            v = v * 10 + (unsigned)(s[i++] - '0');
        size_t digits = i - start;
        if (digits == 0 || v > 255 || (digits > 1 && s[start] == '0'))
            return false;
        ip[part] = (uint8_t)v;
    }
    return i == len;
}

static bool has_char(const char *s, size_t len, char c)
{
    return memchr(s, c, len) != NULL;
}

sn_status_t sn_addr_parse_ip(const char *s, size_t len, sn_addr_t *out)
{
    char buf[IP_TEXT_MAX + 1];
    sn_addr_t a;

    if (s == NULL || out == NULL || len == 0 || len > IP_TEXT_MAX || has_char(s, len, '\0'))
        return SN_EPARSE;
    memset(&a, 0, sizeof a);
    if (has_char(s, len, ':')) {
        memcpy(buf, s, len);
        buf[len] = '\0';
        /* Zone ids ("fe80::1%eth0") name an interface of this host; refuse them. */
        if (inet_pton(AF_INET6, buf, a.ip) != 1)
            return SN_EPARSE;
        a.family = AF_INET6;
    } else {
        if (!parse_v4(s, len, a.ip))
            return SN_EPARSE;
        a.family = AF_INET;
    }
    *out = a;
    return SN_OK;
}

/* A refusal of the port or endpoint parsers: reason into *why (when asked), SN_EPARSE. */
static sn_status_t parse_fail(const char **why, const char *reason)
{
    if (why != NULL)
        *why = reason;
    return SN_EPARSE;
}

sn_status_t sn_addr_parse_port(const char *s, size_t len, uint16_t *out, const char **why)
{
    uint64_t v;

    if (s == NULL || len == 0)
        return parse_fail(why, "missing port");
    if (len > PORT_TEXT_MAX)
        return parse_fail(why, "port too long");
    if (sn_decimal_span(s, len) != len)
        return parse_fail(why, "port is not a decimal number");
    if (!sn_decimal_u64(s, len, 65535, &v) || v < 1)
        return parse_fail(why, "port out of range 1-65535");
    if (out != NULL)
        *out = (uint16_t)v;
    return SN_OK;
}

sn_status_t sn_addr_parse_endpoint(const char *s, size_t len, sn_addr_t *out, const char **why)
{
    sn_addr_t a;
    uint16_t port;
    const char *port_s;
    size_t port_len;

    if (s == NULL || len == 0)
        return parse_fail(why, "empty address");
    if (has_char(s, len, '\0'))
        return parse_fail(why, "NUL byte in address");

    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return parse_fail(why, "missing ']' after IPv6 address");
        size_t ip_len = (size_t)(close - s) - 1;
        if (has_char(s + 1, ip_len, '%'))
            return parse_fail(why, "IPv6 zone id not allowed");
        if (sn_addr_parse_ip(s + 1, ip_len, &a) != SN_OK)
            return parse_fail(why, "bad IPv6 address");
        if (a.family != AF_INET6)
            return parse_fail(why, "brackets around a non-IPv6 address");
        size_t rest = len - (size_t)(close - s) - 1;
        if (rest == 0)
            return parse_fail(why, "missing port");
        if (close[1] != ':')
            return parse_fail(why, "expected ':' after ']'");
        port_s = close + 2;
        port_len = rest - 1;
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon == NULL) {
            if (sn_addr_parse_ip(s, len, &a) == SN_OK)
                return parse_fail(why, "missing port");
            return parse_fail(why, "bad IPv4 address");
        }
        size_t ip_len = (size_t)(colon - s);
        if (has_char(colon + 1, len - ip_len - 1, ':'))
            return parse_fail(why, "unbracketed IPv6 address");
        if (sn_addr_parse_ip(s, ip_len, &a) != SN_OK || a.family != AF_INET)
            return parse_fail(why, "bad IPv4 address");
        port_s = colon + 1;
        port_len = len - ip_len - 1;
    }
    if (sn_addr_parse_port(port_s, port_len, &port, why) != SN_OK)
        return SN_EPARSE;
    a.port = port;
    if (out != NULL)
        *out = a;
    return SN_OK;
}

/* Decimal digits of v (< 65536) at p; returns how many. An octet, the common
 * case, takes branches instead of a digit loop and a reversal. */
static size_t put_dec(char *p, unsigned v)
{
    if (v < 10) {
        p[0] = (char)('0' + v);
        return 1;
    }
    if (v < 100) {
        p[0] = (char)('0' + v / 10);
        p[1] = (char)('0' + v % 10);
        return 2;
    }
    if (v < 1000) {
        p[0] = (char)('0' + v / 100);
        p[1] = (char)('0' + v / 10 % 10);
        p[2] = (char)('0' + v % 10);
        return 3;
    }
    size_t n = v < 10000 ? 4 : 5;
    for (size_t i = n; i-- > 0; v /= 10)
        p[i] = (char)('0' + v % 10);
    return n;
}

/*
 * IPv4 by hand: every result row formats two addresses, and glibc's
 * inet_ntop plus snprintf cost two printf calls each (about a twentieth of
 * a 1,000,000-target scan's CPU). Same output and truncation as below.
 */
static size_t format_ip4(const sn_addr_t *a, char *buf, size_t cap, bool with_port)
{
    char tmp[24]; /* "255.255.255.255:65535" */
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (i > 0)
            tmp[n++] = '.';
        n += put_dec(tmp + n, a->ip[i]);
    }
    if (with_port) {
        tmp[n++] = ':';
        n += put_dec(tmp + n, a->port);
    }
    if (n >= cap)
        n = cap - 1; /* on truncation, what was actually written */
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return n;
}

size_t sn_addr_format(const sn_addr_t *a, char *buf, size_t cap, bool with_port)
{
    char ip[INET6_ADDRSTRLEN];
    int n;

    if (buf == NULL || cap == 0)
        return 0;
    buf[0] = '\0';
    if (a == NULL || (a->family != AF_INET && a->family != AF_INET6))
        return 0;
    if (a->family == AF_INET)
        return format_ip4(a, buf, cap, with_port);
    if (inet_ntop(a->family, a->ip, ip, sizeof ip) == NULL)
        return 0;
    if (!with_port)
        n = snprintf(buf, cap, "%s", ip);
    else if (a->family == AF_INET6)
        n = snprintf(buf, cap, "[%s]:%u", ip, (unsigned)a->port);
    else
        n = snprintf(buf, cap, "%s:%u", ip, (unsigned)a->port);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    /* On truncation report what was actually written, never more. */
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

static size_t ip_len_of(uint8_t family)
{
    return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

bool sn_addr_same_ip(const sn_addr_t *a, const sn_addr_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->family != b->family)
        return false;
    return memcmp(a->ip, b->ip, ip_len_of(a->family)) == 0;
}

bool sn_addr_equal(const sn_addr_t *a, const sn_addr_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return a->port == b->port && sn_addr_same_ip(a, b);
}

uint64_t sn_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

uint64_t sn_addr_hash(const sn_addr_t *a, uint64_t seed)
{
    if (a == NULL)
        return sn_mix64(seed);
    /*
     * Only the bytes that carry meaning are read, so that a caller who forgot
     * to zero the unused part of ip still gets equal hashes for equal
     * addresses. Each word is folded in through a full mix, so no two fields
     * cancel each other out.
     */
    uint64_t h = seed + UINT64_C(0x9e3779b97f4a7c15);
    uint64_t tag = ((uint64_t)a->family << 16) | a->port;
    if (a->family == AF_INET6) {
        h = sn_mix64(h ^ tag);
        h = sn_mix64(h ^ load64(a->ip));
        h = sn_mix64(h ^ load64(a->ip + 8));
    } else {
        uint32_t v4;
        memcpy(&v4, a->ip, sizeof v4);
        h = sn_mix64(h ^ (tag << 32 | v4));
    }
    return h;
}

socklen_t sn_addr_to_sockaddr(const sn_addr_t *a, struct sockaddr_storage *ss)
{
    if (a == NULL || ss == NULL)
        return 0;
    memset(ss, 0, sizeof *ss);
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, a->ip, 4);
        return (socklen_t)sizeof *sin;
    }
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        memcpy(&sin6->sin6_addr, a->ip, 16);
        return (socklen_t)sizeof *sin6;
    }
    return 0;
}

sn_status_t sn_addr_from_sockaddr(const struct sockaddr *sa, sn_addr_t *out)
{
    sn_addr_t a;

    if (sa == NULL || out == NULL)
        return SN_EINVAL;
    memset(&a, 0, sizeof a);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        a.family = AF_INET;
        a.port = ntohs(sin->sin_port);
        memcpy(a.ip, &sin->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        a.port = ntohs(sin6->sin6_port);
        /*
         * A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; unmap them
         * so that a reply matches the IPv4 target it answers.
         */
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            a.family = AF_INET;
            memcpy(a.ip, sin6->sin6_addr.s6_addr + 12, 4);
        } else {
            a.family = AF_INET6;
            memcpy(a.ip, &sin6->sin6_addr, 16);
        }
    } else {
        return SN_EINVAL;
    }
    *out = a;
    return SN_OK;
}

uint32_t sn_addr_v4(const sn_addr_t *a)
{
    if (a == NULL || a->family != AF_INET)
        return 0;
    return (uint32_t)a->ip[0] << 24 | (uint32_t)a->ip[1] << 16 | (uint32_t)a->ip[2] << 8 |
           (uint32_t)a->ip[3];
}

void sn_addr_set_v4(sn_addr_t *a, uint32_t host_order_ip, uint16_t port)
{
    if (a == NULL)
        return;
    memset(a, 0, sizeof *a);
    a->family = AF_INET;
    a->port = port;
    a->ip[0] = (uint8_t)(host_order_ip >> 24);
    a->ip[1] = (uint8_t)(host_order_ip >> 16);
    a->ip[2] = (uint8_t)(host_order_ip >> 8);
    a->ip[3] = (uint8_t)host_order_ip;
}
