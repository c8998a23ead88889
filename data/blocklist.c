/*
 * The blocklist: special-purpose ranges a scan must never touch, ranges the
 * user opens (--allow) and ranges the user closes (--exclude-file).
 *
 * The check runs once per target, a million times in a large scan, against a
 * few dozen ranges, so each range is kept pre-masked: IPv4 as a 32-bit
 * network and mask (one AND and one compare), IPv6 as two big-endian 64-bit
 * words each. A linear walk over such a short array beats any tree. The
 * default ranges are written below as CIDR text and parsed at start-up by the
 * same strict parser users go through, so a typo in the table fails loudly in
 * the tests instead of silently opening a range.
 */
#include "data/blocklist.h"
#include "lib/decimal.h"
#include "lib/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CIDR_TEXT_MAX 64

typedef struct range4 {
    uint32_t net, mask;
    const char *name;
} range4_t;

typedef struct range6 {
    uint64_t net[2], mask[2];
    const char *name;
} range6_t;

typedef struct rlist {
    range4_t *v4;
    size_t n4, cap4;
    range6_t *v6;
    size_t n6, cap6;
} rlist_t;

struct sn_blocklist {
    rlist_t floor; /* never probed, whatever --allow says */
    rlist_t deflt; /* special-purpose ranges, first match names the block */
    rlist_t allow; /* --allow */
    rlist_t excl;  /* --exclude-file and sn_blocklist_exclude */
};

typedef struct named_cidr {
    const char *cidr;
    const char *name;
} named_cidr_t;

/*
 * The floor: no super node lives in these ranges and a datagram sent there reaches every
 * host of a link or the local host itself, so no --allow opens them.
 */
static const named_cidr_t floor_ranges[] = {
    {"0.0.0.0/8", "this network (RFC 791)"},
    {"224.0.0.0/4", "multicast (RFC 5771)"},
    {"255.255.255.255/32", "limited broadcast (RFC 919)"},
    {"::/128", "unspecified (RFC 4291)"},
    {"ff00::/8", "multicast (RFC 4291)"},
};

/*
 * The IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and later), the
 * ranges not globally reachable, plus reserved space. Two prefixes carry an IPv4 address
 * in their low 32 bits and are judged by it instead (sn_blocklist_blocked): IPv4-mapped
 * ::ffff:0:0/96 (RFC 4291 2.5.5.2) and the NAT64 well-known prefix 64:ff9b::/96, which
 * must not carry a non-global IPv4 address (RFC 6052 section 3.1).
 */
static const named_cidr_t defaults[] = {
    {"10.0.0.0/8", "private (RFC 1918)"},
    {"100.64.0.0/10", "shared address space, carrier-grade NAT (RFC 6598)"},
    {"127.0.0.0/8", "loopback (RFC 1122)"},
    {"169.254.0.0/16", "link-local (RFC 3927)"},
    {"172.16.0.0/12", "private (RFC 1918)"},
    {"192.0.0.0/24", "IETF protocol assignments (RFC 6890)"},
    {"192.0.2.0/24", "documentation, TEST-NET-1 (RFC 5737)"},
    {"192.88.99.0/24", "6to4 relay anycast, deprecated (RFC 7526)"},
    {"192.168.0.0/16", "private (RFC 1918)"},
    {"198.18.0.0/15", "benchmarking (RFC 2544)"},
    {"198.51.100.0/24", "documentation, TEST-NET-2 (RFC 5737)"},
    {"203.0.113.0/24", "documentation, TEST-NET-3 (RFC 5737)"},
    {"240.0.0.0/4", "reserved (RFC 1112)"},
    {"::1/128", "loopback (RFC 4291)"},
    {"::/96", "IPv4-compatible, deprecated (RFC 4291)"},
    {"64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"},
    {"3fff::/20", "documentation (RFC 9637)"},
    {"5f00::/16", "segment routing SIDs (RFC 9602)"},
    {"100::/64", "discard-only (RFC 6666)"},
    {"2001:db8::/32", "documentation (RFC 3849)"},
    {"2001::/23", "IETF protocol assignments (RFC 2928)"},
    {"2002::/16", "6to4 (RFC 3056)"},
    {"fc00::/7", "unique local (RFC 4193)"},
    {"fe80::/10", "link-local (RFC 4291)"},
};

static const char EXCLUDED[] = "excluded by user";
static const char MAPPED_BLOCKED[] = "IPv4-mapped, carries a blocked IPv4 address (RFC 4291)";
static const char NAT64_BLOCKED[] =
    "NAT64 well-known prefix carrying a non-global IPv4 address (RFC 6052 3.1)";

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Mask of the top `bits` bits of a 64-bit word, bits in 0..64. */
static uint64_t top_mask64(unsigned bits)
{
    return bits == 0 ? 0 : bits >= 64 ? UINT64_MAX : ~(UINT64_MAX >> bits);
}

static uint32_t top_mask32(unsigned bits)
{
    return bits == 0 ? 0 : bits >= 32 ? UINT32_MAX : ~(UINT32_MAX >> bits);
}

static void rlist_free(rlist_t *l)
{
    free(l->v4);
    free(l->v6);
    memset(l, 0, sizeof *l);
}

static sn_status_t rlist_add(rlist_t *l, const sn_addr_t *net, unsigned prefix, const char *name)
{
    if (net->family == AF_INET) {
        if (l->n4 == l->cap4) {
            size_t cap = l->cap4 ? l->cap4 * 2 : 16;
            range4_t *p = realloc(l->v4, cap * sizeof *p);
            if (p == NULL)
                return SN_ENOMEM;
            l->v4 = p;
            l->cap4 = cap;
        }
        range4_t *r = &l->v4[l->n4++];
        r->mask = top_mask32(prefix);
        r->net = sn_addr_v4(net) & r->mask;
        r->name = name;
    } else {
        if (l->n6 == l->cap6) {
            size_t cap = l->cap6 ? l->cap6 * 2 : 16;
            range6_t *p = realloc(l->v6, cap * sizeof *p);
            if (p == NULL)
                return SN_ENOMEM;
            l->v6 = p;
            l->cap6 = cap;
        }
        range6_t *r = &l->v6[l->n6++];
        r->mask[0] = top_mask64(prefix);
        r->mask[1] = top_mask64(prefix > 64 ? prefix - 64 : 0);
        r->net[0] = load_be64(net->ip) & r->mask[0];
        r->net[1] = load_be64(net->ip + 8) & r->mask[1];
        r->name = name;
    }
    return SN_OK;
}

/* The first range of l holding a (already split into words), or NULL. */
static const char *rlist_match(const rlist_t *l, const sn_addr_t *a, uint32_t v4, uint64_t hi,
                               uint64_t lo)
{
    if (a->family == AF_INET) {
        for (size_t i = 0; i < l->n4; i++)
            if ((v4 & l->v4[i].mask) == l->v4[i].net)
                return l->v4[i].name;
    } else {
        for (size_t i = 0; i < l->n6; i++)
            if ((hi & l->v6[i].mask[0]) == l->v6[i].net[0] &&
                (lo & l->v6[i].mask[1]) == l->v6[i].net[1])
                return l->v6[i].name;
    }
    return NULL;
}

static sn_status_t load_table(rlist_t *l, const named_cidr_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sn_addr_t net;
        unsigned prefix;
        /* The table is ours and tested; a parse failure here cannot come from a user. */
        sn_status_t st = sn_cidr_parse(t[i].cidr, &net, &prefix, NULL);
        if (st == SN_OK)
            st = rlist_add(l, &net, prefix, t[i].name);
        if (st != SN_OK)
            return st;
    }
    return SN_OK;
}

sn_blocklist_t *sn_blocklist_new(void)
{
    sn_blocklist_t *bl = calloc(1, sizeof *bl);
    if (bl == NULL)
        return NULL;
    if (load_table(&bl->floor, floor_ranges, sizeof floor_ranges / sizeof floor_ranges[0]) !=
            SN_OK ||
        load_table(&bl->deflt, defaults, sizeof defaults / sizeof defaults[0]) != SN_OK) {
        sn_blocklist_free(bl);
        return NULL;
    }
    return bl;
}

void sn_blocklist_free(sn_blocklist_t *bl)
{
    if (bl == NULL)
        return;
    rlist_free(&bl->floor);
    rlist_free(&bl->deflt);
    rlist_free(&bl->allow);
    rlist_free(&bl->excl);
    free(bl);
}

static bool host_bits_zero(const sn_addr_t *a, unsigned prefix)
{
    size_t bytes = a->family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < bytes; i++) {
        unsigned first_bit = (unsigned)i * 8;
        uint8_t keep;
        if (first_bit + 8 <= prefix)
            keep = 0xff;
        else if (first_bit >= prefix)
            keep = 0;
        else
            keep = (uint8_t)(0xff << (8 - (prefix - first_bit)));
        if ((a->ip[i] & (uint8_t)~keep) != 0)
            return false;
    }
    return true;
}

static void clear_host_bits(sn_addr_t *a, unsigned prefix)
{
    size_t bytes = a->family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < bytes; i++) {
        unsigned first_bit = (unsigned)i * 8;
        if (first_bit >= prefix)
            a->ip[i] = 0;
        else if (first_bit + 8 > prefix)
            a->ip[i] &= (uint8_t)(0xff << (8 - (prefix - first_bit)));
    }
}

sn_status_t sn_cidr_parse(const char *s, sn_addr_t *net, unsigned *prefix, sn_error_t *err)
{
    sn_addr_t a;
    unsigned p = 0, max;

    if (s == NULL)
        return sn_error_set(err, SN_EINVAL, "no CIDR given");
    size_t len = strnlen(s, CIDR_TEXT_MAX + 1);
    if (len == 0)
        return sn_error_set(err, SN_EPARSE, "empty CIDR");
    if (len > CIDR_TEXT_MAX)
        return sn_error_set(err, SN_EPARSE, "CIDR \"%.*s...\" is too long", 24, s);
    const char *slash = memchr(s, '/', len);
    size_t ip_len = slash != NULL ? (size_t)(slash - s) : len;
    if (sn_addr_parse_ip(s, ip_len, &a) != SN_OK)
        return sn_error_set(err, SN_EPARSE, "CIDR \"%s\": \"%.*s\" is not an IP address", s,
                            (int)ip_len, s);
    max = a.family == AF_INET ? 32 : 128;
    if (slash == NULL) {
        p = max;
    } else {
        const char *d = slash + 1;
        size_t dlen = len - ip_len - 1;
        if (dlen == 0)
            return sn_error_set(err, SN_EPARSE, "CIDR \"%s\": missing prefix length after '/'", s);
        if (sn_decimal_span(d, dlen) != dlen)
            return sn_error_set(err, SN_EPARSE,
                                "CIDR \"%s\": prefix length is not a decimal number", s);
        /* Stricter than sn_decimal_u64: "/08" is refused, as an octet "010" is. */
        if (dlen > 1 && d[0] == '0')
            return sn_error_set(err, SN_EPARSE, "CIDR \"%s\": prefix length has a leading zero", s);
        uint64_t v;
        if (!sn_decimal_u64(d, dlen, max, &v))
            return sn_error_set(err, SN_EPARSE, "CIDR \"%s\": prefix length out of range 0-%u", s,
                                max);
        p = (unsigned)v;
    }
    if (!host_bits_zero(&a, p)) {
        char text[SN_ADDR_STRLEN];
        sn_addr_t fixed = a;
        clear_host_bits(&fixed, p);
        sn_addr_format(&fixed, text, sizeof text, false);
        return sn_error_set(err, SN_EPARSE, "CIDR \"%s\": host bits are set (the network is %s/%u)",
                            s, text, p);
    }
    if (net != NULL)
        *net = a;
    if (prefix != NULL)
        *prefix = p;
    return SN_OK;
}

static sn_status_t add_user(rlist_t *l, const char *cidr, const char *name, sn_error_t *err)
{
    sn_addr_t net;
    unsigned prefix;
    sn_status_t st = sn_cidr_parse(cidr, &net, &prefix, err);
    if (st != SN_OK)
        return st;
    if (rlist_add(l, &net, prefix, name) != SN_OK)
        return sn_error_set(err, SN_ENOMEM, "out of memory adding range %s", cidr);
    return SN_OK;
}

sn_status_t sn_blocklist_allow(sn_blocklist_t *bl, const char *cidr, sn_error_t *err)
{
    if (bl == NULL)
        return sn_error_set(err, SN_EINVAL, "no blocklist");
    return add_user(&bl->allow, cidr, "allowed by user", err);
}

sn_status_t sn_blocklist_exclude(sn_blocklist_t *bl, const char *cidr, sn_error_t *err)
{
    if (bl == NULL)
        return sn_error_set(err, SN_EINVAL, "no blocklist");
    return add_user(&bl->excl, cidr, EXCLUDED, err);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

sn_status_t sn_blocklist_load(sn_blocklist_t *bl, const char *path, sn_error_t *err)
{
    if (bl == NULL || path == NULL)
        return sn_error_set(err, SN_EINVAL, "no blocklist or file given");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return sn_error_set(err, errno == ENOENT ? SN_ENOTFOUND : SN_EIO, "%s: %s", path,
                            strerror(errno));

    sn_status_t st = SN_OK;
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    ssize_t n;
    errno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (memchr(line, '\0', (size_t)n) != NULL) {
            st = sn_error_set(err, SN_EPARSE, "%s:%lu: NUL byte in line (not a text file?)", path,
                              lineno);
            goto done;
        }
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *b = line, *e = line + strlen(line);
        while (b < e && is_blank(*b))
            b++;
        while (e > b && is_blank(e[-1]))
            e--;
        if (b == e)
            continue;
        *e = '\0';
        sn_error_t why;
        st = sn_blocklist_exclude(bl, b, &why);
        if (st != SN_OK) {
            /* The parser's message repeats the text; only a line that could be a CIDR
             * (hex digits, '.', ':', '/') is repeated whole. Any other line, which may be
             * a secret (--exclude-file /etc/shadow as root), shows a short escaped
             * excerpt only (SN_QUOTE_MAX bytes: a shadow line stops before its hash). */
            size_t len = (size_t)(e - b);
            if (len <= CIDR_TEXT_MAX && strspn(b, "0123456789abcdefABCDEF.:/ \t") == len) {
                sn_error_set(err, st, "%s:%lu: %s", path, lineno, why.msg);
            } else {
                char q[SN_QUOTE_CAP];
                sn_text_quote(q, sizeof q, b, len);
                sn_error_set(err, st, "%s:%lu: not a CIDR: \"%s\"", path, lineno, q);
            }
            goto done;
        }
    }
    if (ferror(f))
        st = sn_error_set(err, SN_EIO, "%s:%lu: read error: %s", path, lineno + 1,
                          strerror(errno ? errno : EIO));
done:
    free(line);
    fclose(f);
    return st;
}

/*
 * The verdict on an IPv6 address that carries an IPv4 one in its low 32 bits (lo): the
 * IPv4 address's own verdict under the same lists; a block by a default range is named
 * by `carrier` (the IPv6 form), a user's exclusion stays "excluded by user".
 */
static const char *blocked_v4(const sn_blocklist_t *bl, uint64_t lo, const char *carrier)
{
    sn_addr_t v4 = {.family = AF_INET};
    uint32_t x = (uint32_t)lo;
    v4.ip[0] = (uint8_t)(x >> 24);
    v4.ip[1] = (uint8_t)(x >> 16);
    v4.ip[2] = (uint8_t)(x >> 8);
    v4.ip[3] = (uint8_t)x;
    const char *why;
    if (!sn_blocklist_blocked(bl, &v4, &why))
        return NULL;
    return why == EXCLUDED ? EXCLUDED : carrier;
}

bool sn_blocklist_blocked(const sn_blocklist_t *bl, const sn_addr_t *a, const char **why)
{
    const char *name = NULL;

    if (why != NULL)
        *why = NULL;
    if (a == NULL || (a->family != AF_INET && a->family != AF_INET6)) {
        /* Not an address we could reason about: never probe it. */
        if (why != NULL)
            *why = "not an IP address";
        return true;
    }
    if (bl == NULL) {
        if (why != NULL)
            *why = "no blocklist";
        return true;
    }
    uint32_t v4 = 0;
    uint64_t hi = 0, lo = 0;
    if (a->family == AF_INET) {
        v4 = sn_addr_v4(a);
    } else {
        hi = load_be64(a->ip);
        lo = load_be64(a->ip + 8);
    }
    if (rlist_match(&bl->excl, a, v4, hi, lo) != NULL) {
        name = EXCLUDED;
    } else if ((name = rlist_match(&bl->floor, a, v4, hi, lo)) != NULL) {
        /* blocked whatever --allow says */
    } else if (a->family == AF_INET6 && (lo >> 32) == 0xffffu && hi == 0) {
        name = blocked_v4(bl, lo, MAPPED_BLOCKED);
    } else if (a->family == AF_INET6 && hi == UINT64_C(0x0064ff9b00000000) && (lo >> 32) == 0) {
        name = blocked_v4(bl, lo, NAT64_BLOCKED);
    } else {
        name = rlist_match(&bl->deflt, a, v4, hi, lo);
        if (name != NULL && rlist_match(&bl->allow, a, v4, hi, lo) != NULL)
            name = NULL;
    }
    if (why != NULL)
        *why = name;
    return name != NULL;
}

/* True when the first `bits` bits of a and b (same family) agree. */
static bool same_prefix(const sn_addr_t *a, const sn_addr_t *b, unsigned bits)
{
    for (unsigned i = 0; i < bits / 8; i++)
        if (a->ip[i] != b->ip[i])
            return false;
    if (bits % 8 == 0)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - bits % 8));
    return (a->ip[bits / 8] & m) == (b->ip[bits / 8] & m);
}

/* The ranges of t that overlap net/prefix, written to f as "  CIDR  name" lines. */
static size_t overlaps(const named_cidr_t *t, size_t n, const sn_addr_t *net, unsigned prefix,
                       FILE *f, const char *lead)
{
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        sn_addr_t rnet;
        unsigned rp;
        if (sn_cidr_parse(t[i].cidr, &rnet, &rp, NULL) != SN_OK || rnet.family != net->family ||
            !same_prefix(&rnet, net, rp < prefix ? rp : prefix))
            continue;
        if (f != NULL)
            fprintf(f, "%s%-20s %s\n", lead, t[i].cidr, t[i].name);
        hits++;
    }
    return hits;
}

void sn_blocklist_explain_allow(const char *cidr, FILE *f)
{
    sn_addr_t net;
    unsigned prefix;
    if (f == NULL || sn_cidr_parse(cidr, &net, &prefix, NULL) != SN_OK)
        return;
    size_t nd = sizeof defaults / sizeof defaults[0],
           nf = sizeof floor_ranges / sizeof floor_ranges[0];
    size_t opened = overlaps(defaults, nd, &net, prefix, NULL, "");
    size_t floor_hits = overlaps(floor_ranges, nf, &net, prefix, NULL, "");
    if (opened == 0) {
        fprintf(f, "snprobe: --allow %s opens nothing the blocklist holds%s\n", cidr,
                floor_hits > 0 ? "; these ranges are never probed:"
                               : " (public space needs no --allow)");
        overlaps(floor_ranges, nf, &net, prefix, f, "  never probed: ");
        return;
    }
    if (prefix >= 8)
        return; /* a range the user named precisely: no surprise to report */
    fprintf(f, "snprobe: --allow %s opens special-purpose space:\n", cidr);
    overlaps(defaults, nd, &net, prefix, f, "  opened: ");
    overlaps(floor_ranges, nf, &net, prefix, f, "  never probed: ");
}
