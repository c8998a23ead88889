/*
 * Academic and dynamic/static classification of a host from its PTR name and
 * AS organisation.
 *
 * Academic by name asks the Public Suffix List (libpsl) for the name's ICANN
 * public suffix, so "ac.uk" and "edu.cn" are recognised where they are real
 * registries and the look-alikes are not: ".ac" alone is Ascension Island and
 * ".education" a generic TLD.
 *
 * Dynamic/static is decided by one ordered table of rules (RULES below), in
 * the way mail operators have long guessed at end-user address space: explicit
 * words first ("static", "dynamic"), then known hosting domains and server
 * words, then access-network words (DSL, cable, dial-up, customer), then the
 * structure of the name: the address written into it (the looked-up one in any
 * common encoding, another one, or part of one), a first label of numbers, a
 * subscriber-sized counter; and a plain name last. Static markers stand before
 * every dynamic sign, so they outrank it. Keywords match whole tokens of the
 * name (split at dots, dashes, underscores and letter/digit boundaries), and
 * never the top-level label, so "resolver" is not "res" and "foo.bb"
 * (Barbados) is not broadband; a few unambiguous access markers ("dhcp",
 * "ppp", "cable") are also read at the edge of a longer token, outside the
 * registrant's own label. No rule knows a provider's scheme by heart beyond
 * the hosting and business domains.
 *
 * Across one scan, sn_cluster turns what the rules alone must call a plain
 * name into a pool when many names share its template (digit runs marked)
 * with different counters: the one piece of state, kept apart from the
 * read-only classifier.
 *
 * Names come off the network: they are copied, bounded to 253 bytes, lower-cased
 * and checked against the host-name alphabet before any rule looks at them.
 * Nothing here allocates after sn_classify_new, except the cluster table.
 */
#include "data/classify.h"
#include "lib/decimal.h"
#include "lib/fnv.h"
#include "lib/text.h"

#include <libpsl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sn_classify {
    psl_ctx_t *psl; /* NULL: shape rules only */
};

/* ---- names split into labels, words, tokens and digit runs --------------- */

#define NAME_MAX_LEN 253
#define MAX_SPANS 256

typedef struct span {
    uint8_t off, len;
    uint8_t label; /* index of the label the span lies in */
} span_t;

typedef struct name {
    char s[NAME_MAX_LEN + 3];
    size_t len;
    span_t labels[MAX_SPANS];
    size_t nlabels;
    span_t words[MAX_SPANS]; /* alphanumeric runs between . - _ */
    size_t nwords;
    span_t tokens[MAX_SPANS]; /* words split at letter/digit boundaries */
    size_t ntokens;
    span_t digits[MAX_SPANS]; /* the digit tokens */
    size_t ndigits;
} name_t;

enum { NAME_NONE, NAME_INVALID, NAME_OK };

static bool is_sep(char c)
{
    return c == '.' || c == '-' || c == '_';
}

static int hex_val(char c)
{
    if (sn_is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static void push(span_t *a, size_t *n, size_t off, size_t len, size_t label)
{
    if (*n < MAX_SPANS) {
        a[*n].off = (uint8_t)off;
        a[*n].len = (uint8_t)len;
        a[*n].label = (uint8_t)label;
        (*n)++;
    }
}

/*
 * Copies a name into n, lower-cased and without a trailing dot, and splits it.
 * Host names hold letters, digits, '-' and (in practice) '_'; anything else,
 * an empty label or a label over 63 bytes makes the name NAME_INVALID.
 */
static int parse_name(const char *in, name_t *n)
{
    if (in == NULL)
        return NAME_NONE;
    size_t len = strnlen(in, NAME_MAX_LEN + 2);
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0)
        return NAME_NONE;
    if (len > NAME_MAX_LEN)
        return NAME_INVALID;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (sn_is_upper(c))
            c = (char)(c - 'A' + 'a');
        if (!sn_is_lower(c) && !sn_is_digit(c) && !is_sep(c))
            return NAME_INVALID;
        n->s[i] = c;
    }
    n->s[len] = '\0';
    n->len = len;
    n->nlabels = n->nwords = n->ntokens = n->ndigits = 0;

    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && n->s[i] != '.')
            continue;
        if (i == start || i - start > 63)
            return NAME_INVALID;
        push(n->labels, &n->nlabels, start, i - start, n->nlabels);
        start = i + 1;
    }
    size_t label = 0;
    for (size_t i = 0; i < len;) {
        if (n->s[i] == '.') {
            label++;
            i++;
            continue;
        }
        if (is_sep(n->s[i])) {
            i++;
            continue;
        }
        size_t w = i;
        while (i < len && !is_sep(n->s[i]))
            i++;
        push(n->words, &n->nwords, w, i - w, label);
        for (size_t t = w; t < i;) {
            size_t u = t;
            bool digit = sn_is_digit(n->s[t]);
            while (u < i && sn_is_digit(n->s[u]) == digit)
                u++;
            push(n->tokens, &n->ntokens, t, u - t, label);
            if (digit)
                push(n->digits, &n->ndigits, t, u - t, label);
            t = u;
        }
    }
    return NAME_OK;
}

static bool span_is(const name_t *n, const span_t *sp, const char *word)
{
    size_t wl = strlen(word);
    return sp->len == wl && memcmp(n->s + sp->off, word, wl) == 0;
}

/* True when b directly follows a with exactly one separator between them. */
static bool adjacent(const name_t *n, const span_t *a, const span_t *b)
{
    size_t end = (size_t)a->off + a->len;
    return (size_t)b->off == end + 1 && is_sep(n->s[end]);
}

/* ---- the rules ----------------------------------------------------------- */

typedef bool (*match_fn)(const name_t *n, const sn_addr_t *addr, const char *const *words);

/* The top-level label is a country or generic TLD, never a keyword ("foo.bb" is Barbados). */
static bool in_tld(const name_t *n, const span_t *sp)
{
    return n->nlabels > 1 && sp->label == n->nlabels - 1;
}

static bool in_list(const name_t *n, const span_t *sp, const char *const *words)
{
    for (size_t k = 0; words[k] != NULL; k++)
        if (span_is(n, sp, words[k]))
            return true;
    return false;
}

/* A token or a whole word ("3g", "dhcp6") equals one of words, outside the TLD. */
static bool any_token(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)addr;
    for (size_t i = 0; i < n->ntokens; i++)
        if (!in_tld(n, &n->tokens[i]) && in_list(n, &n->tokens[i], words))
            return true;
    for (size_t i = 0; i < n->nwords; i++)
        if (!in_tld(n, &n->words[i]) && in_list(n, &n->words[i], words))
            return true;
    return false;
}

/* The first token of the first label, as in "mx1", "mail-out", "ns2". */
static bool first_token(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)addr;
    return n->nlabels > 1 && n->ntokens > 0 && in_list(n, &n->tokens[0], words);
}

/* The name is one of the domains or lies under one. */
static bool under_domain(const name_t *n, const sn_addr_t *addr, const char *const *domains)
{
    (void)addr;
    for (size_t k = 0; domains[k] != NULL; k++) {
        size_t dl = strlen(domains[k]);
        if (n->len == dl && memcmp(n->s, domains[k], dl) == 0)
            return true;
        if (n->len > dl && n->s[n->len - dl - 1] == '.' &&
            memcmp(n->s + n->len - dl, domains[k], dl) == 0)
            return true;
    }
    return false;
}

/* A run of 12 or more hex digits with a digit in it: a cable modem's MAC. */
static bool mac_run(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)addr;
    (void)words;
    size_t run = 0;
    bool digit = false;
    for (size_t i = 0; i <= n->len; i++) {
        if (i < n->len && hex_val(n->s[i]) >= 0) {
            run++;
            digit = digit || sn_is_digit(n->s[i]);
            continue;
        }
        if (run >= 12 && digit)
            return true;
        run = 0;
        digit = false;
    }
    return false;
}

static int octet_of(const name_t *n, const span_t *sp)
{
    uint64_t v;
    if (sp->len > 3 || !sn_decimal_u64(n->s + sp->off, sp->len, 255, &v))
        return -1;
    return (int)v;
}

/* Do k adjacent digit runs starting at run i read as the octets want[0..k-1]? */
static bool octets_at(const name_t *n, size_t i, const int *want, size_t k)
{
    if (i + k > n->ndigits)
        return false;
    for (size_t j = 0; j < k; j++) {
        if (j > 0 && !adjacent(n, &n->digits[i + j - 1], &n->digits[i + j]))
            return false;
        if (octet_of(n, &n->digits[i + j]) != want[j])
            return false;
    }
    return true;
}

/*
 * Three octets of the address in a row, as in "34.red-83-45-67" (83.45.67.34)
 * or "host-45-67-89". Short ones ("0-0-1") are too common in router interface
 * names to mean anything, so the three must be at least five digits long.
 */
static bool three_octets_at(const name_t *n, size_t i, const int *want)
{
    if (!octets_at(n, i, want, 3))
        return false;
    return n->digits[i].len + n->digits[i + 1].len + n->digits[i + 2].len >= 5;
}

static bool v4_in_name(const name_t *n, const uint8_t ip[4])
{
    const int fw[4] = {ip[0], ip[1], ip[2], ip[3]};
    const int rv[4] = {ip[3], ip[2], ip[1], ip[0]};
    for (size_t i = 0; i < n->ndigits; i++) {
        /* Dotted or dashed, forward or reversed; or three octets of it. */
        if (octets_at(n, i, fw, 4) || octets_at(n, i, rv, 4) || three_octets_at(n, i, fw) ||
            three_octets_at(n, i, fw + 1) || three_octets_at(n, i, rv) ||
            three_octets_at(n, i, rv + 1))
            return true;
    }
    /* Run together, forward and reversed: zero-padded, plain, as one number, in hex. */
    char padded[2][16], plain[2][16], number[16], hex[2][16];
    uint32_t v = (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];
    for (int r = 0; r < 2; r++) {
        const int *o = r ? rv : fw;
        snprintf(padded[r], sizeof padded[r], "%03u%03u%03u%03u", (unsigned)o[0], (unsigned)o[1],
                 (unsigned)o[2], (unsigned)o[3]);
        snprintf(plain[r], sizeof plain[r], "%u%u%u%u", (unsigned)o[0], (unsigned)o[1],
                 (unsigned)o[2], (unsigned)o[3]);
        snprintf(hex[r], sizeof hex[r], "%02x%02x%02x%02x", (unsigned)o[0], (unsigned)o[1],
                 (unsigned)o[2], (unsigned)o[3]);
    }
    snprintf(number, sizeof number, "%u", v);
    for (size_t i = 0; i < n->ndigits; i++) {
        const span_t *d = &n->digits[i];
        if (span_is(n, d, padded[0]) || span_is(n, d, plain[0]) || span_is(n, d, number) ||
            span_is(n, d, padded[1]) || span_is(n, d, plain[1]))
            return true;
    }
    /* Hex anywhere, as in "0x50a15b19" or T-Online's "p5b0f1a2c": no separator is a hex digit. */
    return strstr(n->s, hex[0]) != NULL || strstr(n->s, hex[1]) != NULL;
}

static int group_of(const name_t *n, const span_t *sp)
{
    if (sp->len == 0 || sp->len > 4)
        return -1;
    int v = 0;
    for (size_t i = 0; i < sp->len; i++) {
        int h = hex_val(n->s[sp->off + i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static bool v6_in_name(const name_t *n, const uint8_t ip[16])
{
    int g[8];
    for (int i = 0; i < 8; i++)
        g[i] = ip[2 * i] << 8 | ip[2 * i + 1];
    /* Four consecutive groups written as adjacent words: "2001-db8-0-1", "...-1-2-3-4". */
    for (size_t w = 0; w + 4 <= n->nwords; w++) {
        for (int j = 0; j + 4 <= 8; j++) {
            if (g[j] == 0 && g[j + 1] == 0 && g[j + 2] == 0 && g[j + 3] == 0)
                continue;
            bool ok = true;
            for (int k = 0; k < 4 && ok; k++) {
                ok = group_of(n, &n->words[w + k]) == g[j + k] &&
                     (k == 0 || adjacent(n, &n->words[w + k - 1], &n->words[w + k]));
            }
            if (ok)
                return true;
        }
    }
    /* All 32 nibbles, or the 16 of the interface identifier, in one run. */
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", ip[i]);
    return strstr(n->s, hex) != NULL || strstr(n->s, hex + 16) != NULL;
}

static bool addr_in(const name_t *n, const sn_addr_t *addr)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (addr == NULL)
        return false;
    if (addr->family == AF_INET)
        return v4_in_name(n, addr->ip);
    if (addr->family == AF_INET6) {
        if (memcmp(addr->ip, mapped, sizeof mapped) == 0)
            return v4_in_name(n, addr->ip + 12);
        return v6_in_name(n, addr->ip);
    }
    return false;
}

static bool embedded_addr(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)words;
    return addr_in(n, addr);
}

/*
 * With no address to compare, four octet-valued numbers in a row, or "0x"
 * and eight hex digits, still read as an address. Only then: with the address
 * known, router interface names such as "xe-0-1-0-0" must not count.
 */
static bool addr_pattern(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)words;
    if (addr != NULL && (addr->family == AF_INET || addr->family == AF_INET6))
        return false;
    for (size_t i = 0; i + 4 <= n->ndigits; i++) {
        bool ok = true;
        for (size_t j = 0; j < 4 && ok; j++)
            ok = octet_of(n, &n->digits[i + j]) >= 0 &&
                 (j == 0 || adjacent(n, &n->digits[i + j - 1], &n->digits[i + j]));
        if (ok)
            return true;
    }
    for (size_t i = 0; i < n->nwords; i++) {
        const span_t *w = &n->words[i];
        if (w->len == 10 && memcmp(n->s + w->off, "0x", 2) == 0) {
            bool ok = true;
            for (size_t j = 2; j < 10 && ok; j++)
                ok = hex_val(n->s[w->off + j]) >= 0;
            if (ok)
                return true;
        }
    }
    return false;
}

/* The label the registrant chose ("comcast" in x.comcast.net, "pppppp" in x.pppppp.co.nz):
 * the one before the public suffix, taken as the last label, or the last two when they
 * have the shape of a country's second level ("co.uk", "ne.jp", "com.br"). */
static size_t registrant_label(const name_t *n)
{
    if (n->nlabels < 2)
        return 0;
    size_t last = n->nlabels - 1;
    const span_t *tld = &n->labels[last], *sld = &n->labels[last - 1];
    if (n->nlabels >= 3 && tld->len == 2 && sld->len <= 3)
        return last - 2;
    return last - 1;
}

/*
 * An access marker run into a longer token ("mbcdhcp38", "PPPa33", "modemcable090"),
 * outside the registrant's own label and the suffix: "firewater.pppppp.co.nz" is a
 * host of a company called pppppp.
 */
static bool token_contains(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)addr;
    size_t reg = registrant_label(n);
    for (size_t i = 0; i < n->ntokens; i++) {
        const span_t *t = &n->tokens[i];
        if (n->nlabels > 1 && t->label >= reg)
            continue;
        /* At the token's end ("modemcable"), or at its start with at most two
         * letters after it ("PPPa"): "cablevision" and "dhcpserver" are words. */
        for (size_t k = 0; words[k] != NULL; k++) {
            size_t wl = strlen(words[k]);
            if (t->len <= wl)
                continue;
            if (memcmp(n->s + t->off + t->len - wl, words[k], wl) == 0)
                return true;
            if (t->len - wl <= 2 && memcmp(n->s + t->off, words[k], wl) == 0)
                return true;
        }
    }
    return false;
}

/* The first label is numbers only ("04-160.034.popsite.net", "74.67-201-80..."): a
 * generated name, as people name hosts with words. */
static bool numeric_label(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)addr;
    (void)words;
    if (n->nlabels < 3)
        return false;
    size_t runs = 0;
    for (size_t i = 0; i < n->ntokens && n->tokens[i].label == 0; i++) {
        if (!sn_is_digit(n->s[n->tokens[i].off]))
            return false;
        runs++;
    }
    return runs >= 2;
}

/*
 * Four octet-valued numbers in a row that are not the address looked up (a PTR
 * often keeps the address of an older assignment, or names the subscriber's
 * other address), long enough (seven digits or more) not to be a router port
 * such as "xe-0-1-0-0".
 */
static bool other_address(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)addr;
    (void)words;
    for (size_t i = 0; i + 4 <= n->ndigits; i++) {
        bool ok = true;
        size_t digits = 0;
        for (size_t j = 0; j < 4 && ok; j++) {
            ok = octet_of(n, &n->digits[i + j]) >= 0 &&
                 (j == 0 || adjacent(n, &n->digits[i + j - 1], &n->digits[i + j]));
            digits += n->digits[i + j].len;
        }
        if (ok && digits >= 7)
            return true;
    }
    return false;
}

/*
 * Part of an address in the first label: three octet-valued numbers in a row
 * (five digits or more, as "TCE-E-7-182-54"), or the looked-up address's last two
 * octets in order ("USR-157-050" for 24.226.157.50).
 */
static bool partial_address(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)words;
    for (size_t i = 0; i + 3 <= n->ndigits && n->digits[i + 2].label == 0; i++) {
        bool ok = true;
        size_t digits = 0;
        for (size_t j = 0; j < 3 && ok; j++) {
            ok = octet_of(n, &n->digits[i + j]) >= 0 &&
                 (j == 0 || adjacent(n, &n->digits[i + j - 1], &n->digits[i + j]));
            digits += n->digits[i + j].len;
        }
        if (ok && digits >= 5)
            return true;
    }
    if (addr == NULL || addr->family != AF_INET)
        return false;
    const int tail[2] = {addr->ip[2], addr->ip[3]};
    for (size_t i = 0; i + 2 <= n->ndigits && n->digits[i + 1].label == 0; i++)
        if (octets_at(n, i, tail, 2) && n->digits[i].len + n->digits[i + 1].len >= 4)
            return true;
    return false;
}

/*
 * A counter in the first label: a run of five or more digits that is not an
 * address ("a151145.upc-a.chello.nl", "bgp542174bgs", "sagami134136"). People
 * and operators number servers in ones, tens and hundreds; pools number
 * subscribers in the hundred thousands.
 */
static bool counter_template(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)addr;
    (void)words;
    if (n->nlabels < 3)
        return false;
    for (size_t i = 0; i < n->ndigits && n->digits[i].label == 0; i++)
        if (n->digits[i].len >= 5)
            return true;
    return false;
}

static bool always(const name_t *n, const sn_addr_t *addr, const char *const *words)
{
    (void)n;
    (void)addr;
    (void)words;
    return true;
}

typedef struct dyn_rule {
    const char *name; /* reported as dyn_rule */
    sn_dyn_t verdict;
    match_fn match;
    const char *const *words; /* the matcher's argument */
} dyn_rule_t;

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* First match wins; the order is the policy. */
static const dyn_rule_t RULES[] = {
    /* Names ISPs put on space they have not assigned say nothing about the host. */
    {"placeholder", SN_DYN_UNKNOWN, any_token,
     WORDS("unknown", "unassigned", "unallocated", "unused", "undefined", "noreverse", "nordns",
           "notassigned")},

    /* An explicit assignment word outranks everything else in the name:
     * "static-dsl" and "1-2-3-4.static.isp" are static. */
    {"static-keyword", SN_DYN_STATIC, any_token,
     WORDS("static", "staticip", "fix", "fixed", "fixedip", "fixip", "fixe", "fijo", "fija",
           "statique", "statico", "estatico", "estatica", "statisch")},
    /* "dip" is Deutsche Telekom's dial-in pool (p5B0F1A2C.dip0.t-ipconnect.de). */
    {"dynamic-keyword", SN_DYN_DYNAMIC, any_token,
     WORDS("dyn", "dynamic", "dynamicip", "dynip", "dyndsl", "dynpool", "dhcp", "pool", "pools",
           "ippool", "dip", "dynamique", "dinamico", "dinamica", "dinamic")},

    /* Hosting and cloud providers: their names embed the address (ec2-54-1-2-3,
     * rs-64-246-49-60.ev1.net) but the hosts are servers. */
    {"hosting-domain", SN_DYN_STATIC, under_domain,
     WORDS("ev1.net", "ev1servers.net", "theplanet.com", "softlayer.com", "amazonaws.com",
           "googleusercontent.com", "cloudapp.net", "cloudapp.azure.com", "linode.com",
           "linodeusercontent.com", "ovh.net", "ovh.ca", "kimsufi.com", "your-server.de",
           "leaseweb.net", "leaseweb.com", "contaboserver.net", "vultrusercontent.com",
           "choopa.net", "rackspace.com", "slicehost.net", "poneytelecom.eu", "secureserver.net",
           "kundenserver.de", "hosteurope.de", "bluehost.com", "hostgator.com", "dreamhost.com",
           "akamaitechnologies.com", "fastly.net", "digitalocean.com", "hetzner.com", "hetzner.de",
           "scaleway.com", "servers.com")},
    {"server-keyword", SN_DYN_STATIC, any_token,
     WORDS("server", "servers", "srv", "colo", "colocation", "hosting", "hosted", "webhost",
           "dedicated", "dedi", "vps", "vds", "datacenter", "datacentre", "cdn")},
    /* A service host names its service first: mail.example.org, mx1, ns2, smtp-out; a load
     * balancer "lb1" (elsewhere "lb" is as often a region: Limburg in home.nl's names). */
    {"service-name", SN_DYN_STATIC, first_token,
     WORDS("mail", "webmail", "mx", "smtp", "smtpout", "mta", "imap", "pop", "relay", "ns", "dns",
           "www", "web", "ftp", "gw", "gateway", "router", "rtr", "vpn", "proxy", "ntp", "sip",
           "voip", "exchange", "owa", "autodiscover", "lb")},
    /* Business lines get fixed addresses: "rrcs" is Road Runner Commercial Services,
     * "wsip" Cox Business static IP. */
    {"business-keyword", SN_DYN_STATIC, any_token,
     WORDS("business", "biz", "corp", "corporate", "enterprise", "rrcs", "wsip")},
    {"business-domain", SN_DYN_STATIC, under_domain, WORDS("comcastbusiness.net", "cbeyond.net")},

    /* Access networks for homes and phones: DSL, cable (hsd, cpe, cm, hfc), fibre to
     * the home, dial-up (ppp, lns and bras are the concentrators), mobile, and the
     * words ISPs use for subscribers (cust, res, abo for abonne, user). "ipngn" is
     * NTT OCN's pool naming, "ipbfp" its FLET'S one. */
    {"access-keyword", SN_DYN_DYNAMIC, any_token,
     WORDS("dsl", "adsl", "vdsl", "xdsl", "adsl2", "cable", "catv", "cablemodem", "cm", "hfc",
           "hsd", "cpe", "dial", "dialup", "dialin", "modem", "isdn", "ppp", "pppoe", "pppoa",
           "lns", "bras", "bng", "client", "clients", "cust", "customer", "customers", "res",
           "resnet", "residential", "broadband", "nas", "node", "dclient", "pptp", "broad", "bb",
           "bband", "home", "user", "users", "subscriber", "abo", "ftth", "fttx", "fttb", "fttc",
           "fttp", "fiber", "fibre", "fios", "wireless", "wlan", "wifi", "wimax", "mobile", "mob",
           "gprs", "umts", "lte", "3g", "4g", "5g", "hspa", "cdma", "cgnat", "cgn", "ipngn",
           "ipbfp", "ipoe")},

    /* Dynamic-DNS services name hosts on changing addresses by definition. */
    {"dynamic-dns-domain", SN_DYN_DYNAMIC, under_domain,
     WORDS("dyndns.org", "dyndns.info", "dyndns.biz", "dyndns.tv", "homeip.net", "no-ip.org",
           "no-ip.biz", "no-ip.info", "ddns.net", "hopto.org", "zapto.org", "duckdns.org",
           "dynu.net", "dnsalias.net", "dnsalias.org", "afraid.org", "changeip.com")},
    /* Access markers run into a longer token: "mbcdhcp38", "PPPa33", "modemcable090". */
    {"access-in-token", SN_DYN_DYNAMIC, token_contains,
     WORDS("dhcp", "ppp", "adsl", "xdsl", "vdsl", "dialup", "dialin", "ddns", "dynip", "modem",
           "cable")},

    /* The address written into the name is the mark of generated pool names. */
    {"embedded-address", SN_DYN_DYNAMIC, embedded_addr, NULL},
    {"mac-in-name", SN_DYN_DYNAMIC, mac_run, NULL},
    {"address-pattern", SN_DYN_DYNAMIC, addr_pattern, NULL},
    /* An address other than the one looked up, or part of one. */
    {"other-address", SN_DYN_DYNAMIC, other_address, NULL},
    {"partial-address", SN_DYN_DYNAMIC, partial_address, NULL},
    /* The structure of generated names: numbers only, or a subscriber-sized counter. */
    {"numeric-label", SN_DYN_DYNAMIC, numeric_label, NULL},
    {"counter-template", SN_DYN_DYNAMIC, counter_template, NULL},

    /* A name someone chose (sss1.skype.net, cs-lab12.cs.ucl.ac.uk) is a named host. */
    {"plain-name", SN_DYN_STATIC, always, NULL},
};

sn_dyn_t sn_classify_dyn(const char *name, const sn_addr_t *addr, const char **rule)
{
    name_t n;
    const char *r = "plain-name";
    sn_dyn_t verdict = SN_DYN_STATIC;
    switch (parse_name(name, &n)) {
    case NAME_NONE:
        r = "no-ptr";
        verdict = SN_DYN_UNKNOWN;
        break;
    case NAME_INVALID:
        r = "invalid-name";
        verdict = SN_DYN_UNKNOWN;
        break;
    default:
        for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++) {
            if (RULES[i].match(&n, addr, RULES[i].words)) {
                r = RULES[i].name;
                verdict = RULES[i].verdict;
                break;
            }
        }
    }
    if (rule != NULL)
        *rule = r;
    return verdict;
}

bool sn_classify_name_has_addr(const char *name, const sn_addr_t *addr)
{
    name_t n;
    return parse_name(name, &n) == NAME_OK && addr_in(&n, addr);
}

const char *sn_dyn_str(sn_dyn_t dyn)
{
    switch (dyn) {
    case SN_DYN_DYNAMIC: return "dynamic";
    case SN_DYN_STATIC: return "static";
    default: return "unknown";
    }
}

/* ---- template clustering across one scan ----------------------------------- */

#define CLUSTER_SEEN SN_CLUSTER_MIN /* distinct counters remembered per template */

typedef struct cluster_slot {
    uint64_t key;                   /* hash of the template; 0: empty */
    uint64_t counter[CLUSTER_SEEN]; /* hashes of the distinct first-label counters seen */
    uint8_t n;
} cluster_slot_t;

struct sn_cluster {
    cluster_slot_t *slot;
    size_t cap, used; /* cap a power of two */
};

sn_cluster_t *sn_cluster_new(void)
{
    sn_cluster_t *cl = calloc(1, sizeof *cl);
    if (cl == NULL)
        return NULL;
    cl->cap = 64;
    cl->slot = calloc(cl->cap, sizeof *cl->slot);
    if (cl->slot == NULL) {
        free(cl);
        return NULL;
    }
    return cl;
}

void sn_cluster_free(sn_cluster_t *cl)
{
    if (cl == NULL)
        return;
    free(cl->slot);
    free(cl);
}

static cluster_slot_t *cluster_find(cluster_slot_t *slot, size_t cap, uint64_t key)
{
    size_t i = (size_t)sn_mix64(key) & (cap - 1);
    while (slot[i].key != 0 && slot[i].key != key)
        i = (i + 1) & (cap - 1);
    return &slot[i];
}

static bool cluster_grow(sn_cluster_t *cl)
{
    size_t cap = cl->cap * 2;
    cluster_slot_t *slot = calloc(cap, sizeof *slot);
    if (slot == NULL)
        return false;
    for (size_t i = 0; i < cl->cap; i++)
        if (cl->slot[i].key != 0)
            *cluster_find(slot, cap, cl->slot[i].key) = cl->slot[i];
    free(cl->slot);
    cl->slot = slot;
    cl->cap = cap;
    return true;
}

bool sn_cluster_observe(sn_cluster_t *cl, const char *name)
{
    name_t n;
    if (cl == NULL || parse_name(name, &n) != NAME_OK || n.nlabels < 3 || n.ndigits == 0 ||
        n.digits[0].label != 0)
        return false;
    /* The template: the name with each digit run replaced by '#'; the counter:
     * the digit runs of the first label, which is where pools number hosts. */
    uint64_t key = SN_FNV64_OFFSET, counter = SN_FNV64_OFFSET;
    size_t prev = 0, counter_digits = 0;
    for (size_t i = 0; i < n.ndigits; i++) {
        const span_t *d = &n.digits[i];
        key = sn_fnv1a64(key, n.s + prev, d->off - prev);
        key = sn_fnv1a64(key, "#", 1);
        prev = (size_t)d->off + d->len;
        if (d->label == 0) {
            counter = sn_fnv1a64(counter, n.s + d->off, d->len);
            counter = sn_fnv1a64(counter, ".", 1);
            counter_digits += d->len;
        }
    }
    /* Servers are numbered in ones and tens ("sj-core-5", "hpsmtp-eml26"); pools number
     * hosts in the hundreds and more. */
    if (counter_digits < 3)
        return false;
    key = sn_fnv1a64(key, n.s + prev, n.len - prev);
    key = key ? key : 1;
    if ((cl->used + 1) * 4 > cl->cap * 3 && !cluster_grow(cl))
        return false;
    cluster_slot_t *s = cluster_find(cl->slot, cl->cap, key);
    if (s->key == 0) {
        s->key = key;
        cl->used++;
    }
    for (uint8_t i = 0; i < s->n; i++)
        if (s->counter[i] == counter)
            return s->n >= SN_CLUSTER_MIN;
    if (s->n < CLUSTER_SEEN)
        s->counter[s->n++] = counter;
    return s->n >= SN_CLUSTER_MIN;
}

void sn_cluster_apply(sn_cluster_t *cl, const char *ptr, sn_class_info_t *info)
{
    if (cl == NULL || info == NULL)
        return;
    bool pool = sn_cluster_observe(cl, ptr);
    if (pool && info->dyn == SN_DYN_STATIC && strcmp(info->dyn_rule, "plain-name") == 0) {
        info->dyn = SN_DYN_DYNAMIC;
        info->dyn_rule = "template-cluster";
    }
}

/* ---- academic ------------------------------------------------------------ */

sn_classify_t *sn_classify_new(void)
{
    sn_classify_t *cls = calloc(1, sizeof *cls);
    if (cls == NULL)
        return NULL;
    cls->psl = psl_latest(NULL);
    return cls;
}

void sn_classify_free(sn_classify_t *cls)
{
    if (cls == NULL)
        return;
    psl_free(cls->psl);
    free(cls);
}

bool sn_classify_has_psl(const sn_classify_t *cls)
{
    return cls != NULL && cls->psl != NULL;
}

bool sn_classify_registrable(const sn_classify_t *cls, const char *name, char *out, size_t cap)
{
    name_t n;
    if (out == NULL || cap == 0)
        return false;
    out[0] = '\0';
    if (parse_name(name, &n) != NAME_OK || n.nlabels < 2)
        return false;
    const char *reg = NULL;
    if (cls != NULL && cls->psl != NULL) {
        reg = psl_registrable_domain(cls->psl, n.s);
    } else {
        size_t last = n.nlabels - 1, take = 2;
        const span_t *tld = &n.labels[last], *sld = &n.labels[last - 1];
        if (n.nlabels >= 3 && tld->len == 2 && sld->len <= 3)
            take = 3; /* "ucl.ac.uk", "foo.co.jp" */
        if (n.nlabels >= take)
            reg = n.s + n.labels[n.nlabels - take].off;
    }
    if (reg == NULL || strlen(reg) >= cap)
        return false;
    memcpy(out, reg, strlen(reg) + 1);
    return true;
}

/* "ac.uk", "edu.cn": first label ac or edu, second a two-letter country code. */
static bool academic_shape(const char *s, size_t len)
{
    const char *dot = memchr(s, '.', len);
    if (dot == NULL)
        return false;
    size_t first = (size_t)(dot - s), rest = len - first - 1;
    bool ac = (first == 2 && memcmp(s, "ac", 2) == 0) || (first == 3 && memcmp(s, "edu", 3) == 0);
    return ac && rest == 2 && sn_is_lower(dot[1]) && sn_is_lower(dot[2]);
}

static bool academic_suffix(const char *s, size_t len)
{
    return (len == 3 && memcmp(s, "edu", 3) == 0) || academic_shape(s, len);
}

bool sn_classify_edu_name(const sn_classify_t *cls, const char *name)
{
    name_t n;
    if (parse_name(name, &n) != NAME_OK || n.nlabels < 2)
        return false;
    if (cls != NULL && cls->psl != NULL) {
        /* The longest ICANN suffix is found first, scanning from the left; label 0
         * is skipped because a bare suffix ("ac.uk" itself) is no host. */
        for (size_t i = 1; i < n.nlabels; i++) {
            const char *sfx = n.s + n.labels[i].off;
            if (psl_is_public_suffix2(cls->psl, sfx, PSL_TYPE_ICANN))
                return academic_suffix(sfx, n.len - n.labels[i].off);
        }
        return false;
    }
    /* No list: the last two labels if they have the academic shape, else the last. */
    const span_t *last = &n.labels[n.nlabels - 1];
    if (n.nlabels >= 3) {
        const span_t *two = &n.labels[n.nlabels - 2];
        if (academic_shape(n.s + two->off, n.len - two->off))
            return true;
    }
    return academic_suffix(n.s + last->off, last->len);
}

/*
 * Word starts that mark an academic organisation, in the languages AS names
 * use: "universit" covers university, universität, université, università,
 * universiteit and universitet; "universida" universidad and universidade;
 * "forschungsnetz" the DFN (Verein zur Foerderung eines Deutschen Forschungsnetzes).
 */
static const char *const ORG_PREFIXES[] = {
    "universit", "universida", "uniwersytet", "college",        "polytechni",
    "politecni", "politechni", "hochschule",  "forschungsnetz", NULL};

/* National research and education networks, matched as whole words. */
static const char *const ORG_NRENS[] = {
    "janet",   "jisc",   "dfn",     "renater", "garr",     "surfnet", "internet2", "cernet",
    "cernet2", "aarnet", "canarie", "rediris", "nordunet", "sunet",   "uninett",   "funet",
    "aconet",  "belnet", "heanet",  "reannz",  "sinet",    "kreonet", "twaren",    "tanet",
    "rnp",     "ernet",  "cesnet",  "pionier", "restena",  "arnes",   "carnet",    "grnet",
    "fccn",    "litnet", "eenet",   "niif",    "ulakbim",  "iucc",    "sanren",    "tenet",
    "kenet",   "myren",  "geant",   "esnet",   NULL};

/* Word sequences that mark an academic organisation. */
static const char *const ORG_PHRASES[][4] = {
    {"institute", "of", "technology", NULL}, {"research", "and", "education", NULL},
    {"education", "and", "research", NULL},  {"academic", "network", NULL, NULL},
    {"research", "network", NULL, NULL},     {"education", "network", NULL, NULL},
};

#define ORG_MAX_WORDS 64

bool sn_classify_edu_org(const char *as_org)
{
    if (as_org == NULL)
        return false;
    /* Lower-cased words of ASCII letters and digits; bytes of UTF-8 characters
     * stay inside words so "Universität" starts with "universit". */
    char buf[256];
    size_t len = strnlen(as_org, sizeof buf - 1);
    const char *w[ORG_MAX_WORDS];
    size_t wl[ORG_MAX_WORDS], nw = 0;
    for (size_t i = 0; i < len; i++) {
        char c = as_org[i];
        if (sn_is_upper(c))
            c = (char)(c - 'A' + 'a');
        buf[i] = c;
    }
    for (size_t i = 0; i < len && nw < ORG_MAX_WORDS;) {
        unsigned char c = (unsigned char)buf[i];
        if (!(sn_is_lower(c) || sn_is_digit(c) || c >= 0x80)) {
            i++;
            continue;
        }
        size_t s = i;
        while (i < len) {
            unsigned char d = (unsigned char)buf[i];
            if (!(sn_is_lower(d) || sn_is_digit(d) || d >= 0x80))
                break;
            i++;
        }
        w[nw] = buf + s;
        wl[nw++] = i - s;
    }
    for (size_t i = 0; i < nw; i++) {
        for (size_t k = 0; ORG_PREFIXES[k] != NULL; k++) {
            size_t pl = strlen(ORG_PREFIXES[k]);
            if (wl[i] >= pl && memcmp(w[i], ORG_PREFIXES[k], pl) == 0)
                return true;
        }
        for (size_t k = 0; ORG_NRENS[k] != NULL; k++) {
            size_t pl = strlen(ORG_NRENS[k]);
            if (wl[i] == pl && memcmp(w[i], ORG_NRENS[k], pl) == 0)
                return true;
        }
        for (size_t k = 0; k < sizeof ORG_PHRASES / sizeof ORG_PHRASES[0]; k++) {
            bool ok = true;
            size_t j = 0;
            for (; j < 4 && ORG_PHRASES[k][j] != NULL && ok; j++) {
                size_t pl = strlen(ORG_PHRASES[k][j]);
                ok = i + j < nw && wl[i + j] == pl && memcmp(w[i + j], ORG_PHRASES[k][j], pl) == 0;
            }
            if (ok)
                return true;
        }
    }
    return false;
}

void sn_classify(const sn_classify_t *cls, const char *ptr, const sn_addr_t *addr,
                 const char *as_org, sn_class_info_t *out)
{
    if (out == NULL)
        return;
    out->edu = false;
    out->edu_source = "";
    if (sn_classify_edu_name(cls, ptr)) {
        out->edu = true;
        out->edu_source = "ptr";
    } else if (sn_classify_edu_org(as_org)) {
        out->edu = true;
        out->edu_source = "as_org";
    }
    out->dyn = sn_classify_dyn(ptr, addr, &out->dyn_rule);
    out->addr_in_name = sn_classify_name_has_addr(ptr, addr);
}
