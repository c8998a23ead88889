/*
 * Swarm populations: reading, writing, checking and generating the CSV that
 * describes the emulated super-node network (see population.h for the format
 * and the behaviour table).
 *
 * The file is our own format but it is still outside input: rows are split by
 * a strict CSV reader (quoted fields allowed, one row per line, every row as
 * wide as the header) and every value is bounds-checked, so a bad row is an
 * error naming FILE:LINE rather than a node with a surprising address.
 *
 * The generator is shaped by what the swarm can realise on one host. The
 * kernel answers TCP for a whole port, so the swarm gives each port one UDP
 * socket and one listener, and silences the non-accepting nodes of a port with
 * a classic BPF filter on the listener's destination address. That sets two
 * budgets the generator keeps:
 *   - file descriptors: ports are drawn from a fixed random pool of at most
 *     SN_POPGEN_MAX_PORTS ports (two descriptors each fit well under a 20,000
 *     open-file limit), with many nodes per port; since the addresses are
 *     distinct, the (address, port) pairs still are. A closed node takes a port
 *     of its own outside the pool (it costs no descriptor: the kernel answers).
 *   - filter length: a cBPF program holds at most 4096 instructions, so the
 *     accepting nodes of a port, and the tcp-443-only and tcp-80-only nodes,
 *     are given addresses in a few contiguous runs (at most 8 per port, 32 for
 *     443 and 80), which merge into a few address ranges whatever the count.
 * Runs and single nodes are laid out in a random order with random gaps over
 * 127.1.0.1 .. 127.254.255.254, and the rows keep the random order in which
 * behaviours and ports were drawn, so the file does not read as sorted.
 *
 * Node addresses are loopback only, with one exception for the network-
 * namespace lab (tests/e2e_lab.sh), where the swarm plays nodes behind a real
 * NAT: the documentation ranges of RFC 5737 (192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24) are accepted when SN_SWARM_ALLOW_DOC=1 is set AND the
 * process runs inside a named network namespace (one that `ip netns add`
 * created, found under /run/netns). Both are needed so that neither a stray
 * variable on a real host nor a namespace alone makes the swarm claim them.
 */
#include "lab/population.h"
#include "lib/decimal.h"
#include "lib/rng.h"
#include "lib/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HEADER_COLS 5
#define MAX_LINE 4096
#define MAX_ROWS 16000000u

/* Generated addresses: 127.1.0.1 .. 127.254.255.254 (never 127.0.0.0/16, 127.255/16). */
#define GEN_FIRST 0x7F010001u
#define GEN_LAST 0x7FFEFFFEu
/*
 * Generated ports: 1024..32767 and 61000..65535, outside Linux's default
 * ephemeral range, so the swarm's sockets never collide with the host's own
 * outgoing connections (the scanner's among them).
 */
#define GEN_PORT_LOW_MIN 1024u
#define GEN_PORT_LOW_SPAN (32768u - GEN_PORT_LOW_MIN)
#define GEN_PORT_HIGH_MIN 61000u
#define GEN_PORT_SPAN (GEN_PORT_LOW_SPAN + (65536u - GEN_PORT_HIGH_MIN))
#define GEN_RUNS_PER_PORT 8u
#define GEN_RUNS_FALLBACK 32u

static const char *const beh_names[SN_BEH_COUNT_] = {
    [SN_BEH_ALIVE] = "alive",
    [SN_BEH_UDP_ONLY] = "udp-only",
    [SN_BEH_TCP_ONLY] = "tcp-only",
    [SN_BEH_TCP_443_ONLY] = "tcp-443-only",
    [SN_BEH_TCP_80_ONLY] = "tcp-80-only",
    [SN_BEH_DEAD] = "dead",
    [SN_BEH_CLOSED] = "closed",
    [SN_BEH_NAT] = "nat",
};

static const char *const header_names[HEADER_COLS] = {"address", "port", "behaviour", "delay_ms",
                                                      "loss"};

const char *sn_behaviour_name(sn_behaviour_t b)
{
    if ((unsigned)b >= SN_BEH_COUNT_)
        return NULL;
    return beh_names[b];
}

sn_status_t sn_behaviour_parse(const char *s, sn_behaviour_t *out)
{
    if (s == NULL || out == NULL)
        return SN_EINVAL;
    for (unsigned i = 0; i < SN_BEH_COUNT_; i++) {
        if (strcmp(s, beh_names[i]) == 0) {
            *out = (sn_behaviour_t)i;
            return SN_OK;
        }
    }
    return SN_EPARSE;
}

/* Parses exactly len bytes as a behaviour name. */
static sn_status_t behaviour_parse_n(const char *s, size_t len, sn_behaviour_t *out)
{
    for (unsigned i = 0; i < SN_BEH_COUNT_; i++) {
        if (strlen(beh_names[i]) == len && memcmp(s, beh_names[i], len) == 0) {
            *out = (sn_behaviour_t)i;
            return SN_OK;
        }
    }
    return SN_EPARSE;
}

void sn_population_free(sn_population_t *pop)
{
    if (pop == NULL)
        return;
    free(pop->nodes);
    pop->nodes = NULL;
    pop->count = 0;
}

/* ---- reading -------------------------------------------------------------------------- */

typedef struct field {
    const char *s;
    size_t len;
} field_t;

/*
 * Splits one line (no line terminator) into at most max fields, in place:
 * quoted fields are unescaped ("" becomes ") into the line buffer itself,
 * which is safe because unescaping only shortens. Returns the field count, or
 * -1 with *why set when the line is not valid CSV or has too many fields.
 */
static int split_csv(char *line, size_t len, field_t *f, int max, const char **why)
{
    size_t i = 0;
    int n = 0;

    for (;;) {
        if (n == max) {
            *why = "too many columns";
            return -1;
        }
        if (i < len && line[i] == '"') {
            size_t w = i + 1, r = i + 1;
            f[n].s = line + w;
            for (;;) {
                if (r >= len) {
                    *why = "unterminated quoted field";
                    return -1;
                }
                if (line[r] == '"') {
                    if (r + 1 < len && line[r + 1] == '"') {
                        line[w++] = '"';
                        r += 2;
                        continue;
                    }
                    break;
                }
                line[w++] = line[r++];
            }
            f[n].len = w - (size_t)(f[n].s - line);
            i = r + 1;
            n++;
            if (i == len)
                return n;
            if (line[i] != ',') {
                *why = "text after a closing quote";
                return -1;
            }
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && line[i] != ',') {
            if (line[i] == '"') {
                *why = "quote inside an unquoted field";
                return -1;
            }
            i++;
        }
        f[n].s = line + start;
        f[n].len = i - start;
        n++;
        if (i == len)
            return n;
        i++; /* the comma; a trailing comma makes one more, empty field */
    }
}

static sn_status_t parse_delay(const field_t *f, uint32_t *out)
{
    uint64_t v;

    /* At most six bytes, as before, so that "0000001" stays refused. */
    if (f->len > 6 || !sn_decimal_u64(f->s, f->len, SN_POP_MAX_DELAY_MS, &v))
        return SN_EPARSE;
    *out = (uint32_t)v;
    return SN_OK;
}

/* Loss: plain decimal "0", "1", "0.25" (digits, optional fraction), 0..1. */
static sn_status_t parse_loss(const field_t *f, float *out)
{
    char buf[32];

    if (f->len == 0 || f->len >= sizeof buf)
        return SN_EPARSE;
    size_t i = sn_decimal_span(f->s, f->len);
    if (i == 0)
        return SN_EPARSE;
    if (i < f->len) {
        if (f->s[i] != '.')
            return SN_EPARSE;
        i++;
        size_t frac = sn_decimal_span(f->s + i, f->len - i);
        if (frac == 0 || i + frac != f->len)
            return SN_EPARSE;
    }
    memcpy(buf, f->s, f->len);
    buf[f->len] = '\0';
    double v = strtod(buf, NULL);
    if (!(v >= 0.0 && v <= 1.0))
        return SN_EPARSE;
    *out = (float)v;
    return SN_OK;
}

/* True for a node address the swarm may serve: 127.0.0.0/8 (not its first and last) or ::1. */
static bool loopback_ok(const sn_addr_t *a)
{
    static const uint8_t v6_loop[16] = {[15] = 1};

    if (a->family == AF_INET) {
        uint32_t ip = sn_addr_v4(a);
        return (ip >> 24) == 127 && ip != 0x7F000000u && ip != 0x7FFFFFFFu;
    }
    return a->family == AF_INET6 && memcmp(a->ip, v6_loop, 16) == 0;
}

/* RFC 5737 documentation ranges: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24. */
static bool doc_range(const sn_addr_t *a)
{
    if (a->family != AF_INET)
        return false;
    uint32_t net = sn_addr_v4(a) & 0xFFFFFF00u;
    return net == 0xC0000200u || net == 0xC6336400u || net == 0xCB007100u;
}

/* True when this process's network namespace is one of those under /run/netns. */
static bool in_named_netns(void)
{
    struct stat self;
    if (stat("/proc/self/ns/net", &self) != 0)
        return false;
    DIR *d = opendir("/run/netns");
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        char path[300];
        struct stat st;
        if (e->d_name[0] == '.' ||
            snprintf(path, sizeof path, "/run/netns/%s", e->d_name) >= (int)sizeof path)
            continue;
        found = stat(path, &st) == 0 && st.st_dev == self.st_dev && st.st_ino == self.st_ino;
    }
    closedir(d);
    return found;
}

/* Documentation addresses are node addresses only in the lab (see the top of the file). */
static bool doc_allowed(const sn_addr_t *a)
{
    const char *v = getenv("SN_SWARM_ALLOW_DOC");
    return doc_range(a) && v != NULL && strcmp(v, "1") == 0 && in_named_netns();
}

static bool node_addr_ok(const sn_addr_t *a)
{
    return loopback_ok(a) || doc_allowed(a);
}

static const char *node_addr_why(const sn_addr_t *a)
{
    return doc_range(a) ? "address is in a documentation range, which the swarm serves only "
                          "inside a named network namespace with SN_SWARM_ALLOW_DOC=1"
                        : "address is not in 127.0.0.0/8 or ::1 (the swarm serves loopback only)";
}

/* Parses one data row into n; *why gets a static reason on failure. */
static sn_status_t parse_row(const field_t *f, sn_node_t *n, const char **why)
{
    sn_behaviour_t b;
    uint16_t port;

    memset(n, 0, sizeof *n);
    if (sn_addr_parse_ip(f[0].s, f[0].len, &n->addr) != SN_OK) {
        *why = "address is not an IP literal";
        return SN_EPARSE;
    }
    if (!node_addr_ok(&n->addr)) {
        *why = node_addr_why(&n->addr);
        return SN_EPARSE;
    }
    if (sn_addr_parse_port(f[1].s, f[1].len, &port, why) != SN_OK) {
        if (*why == NULL)
            *why = "bad port";
        return SN_EPARSE;
    }
    n->addr.port = port;
    if (behaviour_parse_n(f[2].s, f[2].len, &b) != SN_OK) {
        *why = "unknown behaviour (alive, udp-only, tcp-only, tcp-443-only, tcp-80-only, dead, "
               "closed or nat)";
        return SN_EPARSE;
    }
    n->behaviour = (uint8_t)b;
    if (parse_delay(&f[3], &n->delay_ms) != SN_OK) {
        *why = "delay_ms is not a whole number of milliseconds in 0..60000";
        return SN_EPARSE;
    }
    if (parse_loss(&f[4], &n->loss) != SN_OK) {
        *why = "loss is not a decimal number in 0..1";
        return SN_EPARSE;
    }
    return SN_OK;
}

static sn_status_t push_node(sn_population_t *pop, size_t *cap, const sn_node_t *n)
{
    if (pop->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        sn_node_t *p = realloc(pop->nodes, ncap * sizeof *p);
        if (p == NULL)
            return SN_ENOMEM;
        pop->nodes = p;
        *cap = ncap;
    }
    pop->nodes[pop->count++] = *n;
    return SN_OK;
}

sn_status_t sn_population_load(const char *path, sn_population_t *pop, sn_error_t *err)
{
    field_t f[64];
    char *line = NULL;
    size_t linecap = 0, cap = 0;
    unsigned long lineno = 0;
    int cols = 0;
    sn_status_t st = SN_OK;
    FILE *fp;

    if (path == NULL || pop == NULL)
        return sn_error_set(err, SN_EINVAL, "population: no file or no output given");
    memset(pop, 0, sizeof *pop);
    fp = fopen(path, "r");
    if (fp == NULL)
        return sn_error_set(err, errno == ENOENT ? SN_ENOTFOUND : SN_EIO, "%s: %s", path,
                            strerror(errno));

    for (;;) {
        errno = 0;
        ssize_t got = getline(&line, &linecap, fp);
        if (got < 0) {
            if (ferror(fp)) {
                st = sn_error_set(err, SN_EIO, "%s: %s", path, strerror(errno ? errno : EIO));
                goto out;
            }
            break;
        }
        lineno++;
        size_t len = (size_t)got;
        if (len > MAX_LINE) {
            st = sn_error_set(err, SN_EPARSE, "%s:%lu: line longer than %d bytes", path, lineno,
                              MAX_LINE);
            goto out;
        }
        if (memchr(line, '\0', len) != NULL) {
            st = sn_error_set(err, SN_EPARSE, "%s:%lu: NUL byte in line", path, lineno);
            goto out;
        }
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        char *p = line;
        if (lineno == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3; /* a UTF-8 byte order mark, as spreadsheets write */
            len -= 3;
        }
        if (len == 0) {
            st = sn_error_set(err, SN_EPARSE, "%s:%lu: empty line", path, lineno);
            goto out;
        }
        const char *why = NULL;
        int n = split_csv(p, len, f, (int)(sizeof f / sizeof f[0]), &why);
        if (n < 0) {
            st = sn_error_set(err, SN_EPARSE, "%s:%lu: %s", path, lineno, why);
            goto out;
        }
        if (lineno == 1) {
            if (n < HEADER_COLS)
                goto bad_header;
            for (int i = 0; i < HEADER_COLS; i++) {
                if (f[i].len != strlen(header_names[i]) ||
                    memcmp(f[i].s, header_names[i], f[i].len) != 0)
                    goto bad_header;
            }
            cols = n;
            continue;
        }
        if (n != cols) {
            st = sn_error_set(err, SN_EPARSE, "%s:%lu: %d columns, the header has %d", path, lineno,
                              n, cols);
            goto out;
        }
        if (pop->count >= MAX_ROWS) {
            st = sn_error_set(err, SN_ELIMIT, "%s:%lu: more than %u nodes", path, lineno, MAX_ROWS);
            goto out;
        }
        sn_node_t node;
        why = NULL;
        if (parse_row(f, &node, &why) != SN_OK) {
            st = sn_error_set(err, SN_EPARSE, "%s:%lu: %s", path, lineno, why);
            goto out;
        }
        if (push_node(pop, &cap, &node) != SN_OK) {
            st = sn_error_set(err, SN_ENOMEM, "%s:%lu: out of memory", path, lineno);
            goto out;
        }
    }
    if (lineno == 0)
        st = sn_error_set(err, SN_EPARSE, "%s:1: empty file, expected the header %s", path,
                          "address,port,behaviour,delay_ms,loss");
    goto out;

bad_header:
    st = sn_error_set(err, SN_EPARSE,
                      "%s:1: header must begin address,port,behaviour,delay_ms,loss", path);
out:
    free(line);
    fclose(fp);
    if (st != SN_OK)
        sn_population_free(pop);
    return st;
}

/* ---- writing -------------------------------------------------------------------------- */

/* Shortest decimal text that reads back as the same float. */
static void format_loss(float v, char *buf, size_t cap)
{
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, cap, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            break;
    }
    /* %g may choose an exponent ("1e-05"), which our reader refuses: use plain digits. */
    if (strchr(buf, 'e') != NULL)
        snprintf(buf, cap, "%.9f", (double)v);
}

sn_status_t sn_population_write(const sn_population_t *pop, const char *path, sn_error_t *err)
{
    if (pop == NULL || path == NULL)
        return sn_error_set(err, SN_EINVAL, "population: nothing to write");
    sn_outfile_t *of = NULL;
    sn_status_t st = sn_outfile_open(path, &of, err);
    if (st != SN_OK)
        return st;
    FILE *fp = sn_outfile_stream(of);
    if (fp == NULL) {
        sn_outfile_abort(of, false);
        return sn_error_set(err, SN_ENOMEM, "out of memory writing %s", path);
    }
    fputs("address,port,behaviour,delay_ms,loss\n", fp);
    for (size_t i = 0; i < pop->count; i++) {
        const sn_node_t *n = &pop->nodes[i];
        const char *beh = sn_behaviour_name((sn_behaviour_t)n->behaviour);
        char ip[SN_ADDR_STRLEN], loss[40];
        if (beh == NULL || sn_addr_format(&n->addr, ip, sizeof ip, false) == 0) {
            sn_outfile_abort(of, false);
            return sn_error_set(err, SN_EINVAL, "%s: node %zu has no valid address or behaviour",
                                path, i);
        }
        format_loss(n->loss, loss, sizeof loss);
        fprintf(fp, "%s,%u,%s,%u,%s\n", ip, (unsigned)n->addr.port, beh, (unsigned)n->delay_ms,
                loss);
    }
    return sn_outfile_commit(of, err);
}

/* ---- checking ------------------------------------------------------------------------- */

/* Sort key: port, then family, then IPv4 address (::1 sorts as 0, never a node's IPv4). */
typedef struct chk_key {
    uint64_t key;
    size_t idx;
} chk_key_t;

static int cmp_chk(const void *a, const void *b)
{
    const chk_key_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static uint64_t node_key(const sn_node_t *n)
{
    uint64_t fam = n->addr.family == AF_INET6 ? 1 : 0;
    uint64_t ip = n->addr.family == AF_INET ? sn_addr_v4(&n->addr) : 0;
    return (uint64_t)n->addr.port << 33 | fam << 32 | ip;
}

static sn_status_t node_fail(sn_error_t *err, sn_status_t st, const sn_node_t *n, size_t i,
                             const char *why)
{
    char text[SN_ADDR_STRLEN] = "?";
    sn_addr_format(&n->addr, text, sizeof text, true);
    return sn_error_set(err, st, "population node %zu (%s): %s", i + 1, text, why);
}

sn_status_t sn_population_check(const sn_population_t *pop, sn_error_t *err)
{
    chk_key_t *keys;
    sn_status_t st = SN_OK;

    if (pop == NULL || (pop->count > 0 && pop->nodes == NULL))
        return sn_error_set(err, SN_EINVAL, "population: none given");
    for (size_t i = 0; i < pop->count; i++) {
        const sn_node_t *n = &pop->nodes[i];
        if (!node_addr_ok(&n->addr))
            return node_fail(err, SN_EINVAL, n, i,
                             doc_range(&n->addr) ? node_addr_why(&n->addr)
                                                 : "not in 127.0.0.0/8 or ::1");
        if (n->addr.port == 0)
            return node_fail(err, SN_EINVAL, n, i, "port 0");
        if (n->addr.port == 443 || n->addr.port == 80)
            return node_fail(err, SN_EINVAL, n, i,
                             "ports 443 and 80 serve the tcp-443-only and tcp-80-only cases");
        if (n->behaviour >= SN_BEH_COUNT_)
            return node_fail(err, SN_EINVAL, n, i, "unknown behaviour");
        if (n->delay_ms > SN_POP_MAX_DELAY_MS)
            return node_fail(err, SN_EINVAL, n, i, "delay_ms above 60000");
        if (!(n->loss >= 0.0f && n->loss <= 1.0f))
            return node_fail(err, SN_EINVAL, n, i, "loss outside 0..1");
    }
    if (pop->count < 2)
        return SN_OK;
    keys = malloc(pop->count * sizeof *keys);
    if (keys == NULL)
        return sn_error_set(err, SN_ENOMEM, "population check: out of memory");
    for (size_t i = 0; i < pop->count; i++) {
        keys[i].key = node_key(&pop->nodes[i]);
        keys[i].idx = i;
    }
    qsort(keys, pop->count, sizeof *keys, cmp_chk);
    for (size_t i = 0; i < pop->count && st == SN_OK;) {
        uint64_t port = keys[i].key >> 33;
        size_t j = i;
        while (j < pop->count && keys[j].key >> 33 == port)
            j++;
        for (size_t k = i; k < j; k++) {
            const sn_node_t *n = &pop->nodes[keys[k].idx];
            if (k + 1 < j && keys[k + 1].key == keys[k].key) {
                size_t later = keys[k + 1].idx;
                st = node_fail(err, SN_EINVAL, &pop->nodes[later], later,
                               "the same address and port appear twice");
                break;
            }
            if (n->behaviour == SN_BEH_CLOSED && j - i > 1) {
                st = node_fail(err, SN_EINVAL, n, keys[k].idx,
                               "a closed node needs a port no other node uses (the kernel "
                               "answers for the whole port)");
                break;
            }
        }
        i = j;
    }
    /*
     * The 443 and 80 listeners answer per address, not per (address, port):
     * an address with a tcp-443-only or tcp-80-only node must carry no other
     * node, or that node would seem to answer on 443/80 as well.
     */
    for (size_t i = 0; i < pop->count && st == SN_OK; i++) {
        const sn_node_t *n = &pop->nodes[keys[i].idx];
        keys[i].key = (uint64_t)(n->addr.family == AF_INET6) << 32 |
                      (n->addr.family == AF_INET ? sn_addr_v4(&n->addr) : 0);
    }
    if (st == SN_OK)
        qsort(keys, pop->count, sizeof *keys, cmp_chk);
    for (size_t i = 0; i + 1 < pop->count && st == SN_OK; i++) {
        if (keys[i].key != keys[i + 1].key)
            continue;
        size_t a = keys[i].idx, b = keys[i + 1].idx;
        const sn_node_t *na = &pop->nodes[a], *nb = &pop->nodes[b];
        if (na->behaviour == SN_BEH_TCP_443_ONLY || na->behaviour == SN_BEH_TCP_80_ONLY)
            st =
                node_fail(err, SN_EINVAL, na, a,
                          "a tcp-443-only or tcp-80-only node needs an address no other node uses");
        else if (nb->behaviour == SN_BEH_TCP_443_ONLY || nb->behaviour == SN_BEH_TCP_80_ONLY)
            st =
                node_fail(err, SN_EINVAL, nb, b,
                          "a tcp-443-only or tcp-80-only node needs an address no other node uses");
    }
    free(keys);
    return st;
}

sn_expect_t sn_population_expect(const sn_node_t *n)
{
    sn_expect_t e = {SN_OUTCOME_FILTERED, SN_OUTCOME_FILTERED, 0, false};

    if (n == NULL)
        return e;
    e.tcp_port = n->addr.port;
    switch ((sn_behaviour_t)n->behaviour) {
    case SN_BEH_ALIVE:
        e.udp = SN_OUTCOME_ALIVE;
        e.tcp = SN_OUTCOME_ALIVE;
        break;
    case SN_BEH_UDP_ONLY: e.udp = SN_OUTCOME_ALIVE; break;
    case SN_BEH_TCP_ONLY: e.tcp = SN_OUTCOME_ALIVE; break;
    case SN_BEH_TCP_443_ONLY:
        e.tcp = SN_OUTCOME_ALIVE;
        e.tcp_port = 443;
        break;
    case SN_BEH_TCP_80_ONLY:
        e.tcp = SN_OUTCOME_ALIVE;
        e.tcp_port = 80;
        break;
    case SN_BEH_DEAD: break;
    case SN_BEH_CLOSED:
        e.udp = SN_OUTCOME_CLOSED;
        e.tcp = SN_OUTCOME_CLOSED;
        break;
    case SN_BEH_NAT:
        e.udp = SN_OUTCOME_ALIVE;
        e.tcp = SN_OUTCOME_ALIVE;
        e.reply_other_port = true;
        break;
    default: break;
    }
    return e;
}

/* ---- generating ----------------------------------------------------------------------- */

/* Address layout order of one node: its run's random rank, the run, a tie-breaker. */
typedef struct lay_key {
    uint64_t rank;
    uint64_t group;
    uint32_t tie;
    uint32_t idx;
} lay_key_t;

static int cmp_lay(const void *a, const void *b)
{
    const lay_key_t *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->tie != y->tie)
        return x->tie < y->tie ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

#define GROUP_SINGLE (4ull << 60)

static bool share_ok(double s)
{
    return s >= 0.0 && s <= 1.0; /* false for NaN as well */
}

/*
 * Lays out addresses. Nodes that the swarm's filters must accept together
 * (the accepting nodes of one port, cut into a few runs; the tcp-443-only and
 * tcp-80-only nodes, cut into a few runs) get consecutive addresses; every run
 * and every other node starts after a random gap. The gaps are bounded so that
 * the whole layout fits the address span.
 */
static sn_status_t lay_out(sn_population_t *pop, sn_rng_t *rs, uint64_t salt, sn_error_t *err)
{
    size_t n = pop->count;
    lay_key_t *k = malloc(n * sizeof *k);

    if (k == NULL)
        return sn_error_set(err, SN_ENOMEM, "population generator: out of memory");
    for (size_t i = 0; i < n; i++) {
        const sn_node_t *nd = &pop->nodes[i];
        uint64_t g;
        switch ((sn_behaviour_t)nd->behaviour) {
        case SN_BEH_ALIVE:
        case SN_BEH_TCP_ONLY:
        case SN_BEH_NAT:
            g = 1ull << 60 | (uint64_t)nd->addr.port << 8 | sn_rng_below(rs, GEN_RUNS_PER_PORT);
            break;
        case SN_BEH_TCP_443_ONLY: g = 2ull << 60 | sn_rng_below(rs, GEN_RUNS_FALLBACK); break;
        case SN_BEH_TCP_80_ONLY: g = 3ull << 60 | sn_rng_below(rs, GEN_RUNS_FALLBACK); break;
        default: g = GROUP_SINGLE | i; break;
        }
        k[i].group = g;
        k[i].rank = sn_mix64(g ^ salt);
        k[i].tie = (uint32_t)sn_rng_next(rs);
        k[i].idx = (uint32_t)i;
    }
    qsort(k, n, sizeof *k, cmp_lay);

    size_t gaps = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || k[i].group != k[i - 1].group || k[i].group >= GROUP_SINGLE)
            gaps++;
    }
    uint64_t span = (uint64_t)GEN_LAST - GEN_FIRST + 1;
    uint64_t maxgap = (span - n) / gaps; /* n <= SN_POPGEN_MAX_COUNT < span */
    uint32_t cur = GEN_FIRST - 1;
    for (size_t i = 0; i < n; i++) {
        cur++;
        if (i == 0 || k[i].group != k[i - 1].group || k[i].group >= GROUP_SINGLE)
            cur += sn_rng_below(rs, (uint32_t)maxgap + 1);
        sn_node_t *nd = &pop->nodes[k[i].idx];
        sn_addr_set_v4(&nd->addr, cur, nd->addr.port);
    }
    free(k);
    return SN_OK;
}

sn_status_t sn_population_generate(const sn_popgen_t *gen, sn_population_t *pop, sn_error_t *err)
{
    size_t cnt[SN_BEH_COUNT_] = {0};
    uint16_t *ports = NULL;
    sn_rng_t rs;
    sn_status_t st;

    if (gen == NULL || pop == NULL)
        return sn_error_set(err, SN_EINVAL, "population generator: no parameters given");
    memset(pop, 0, sizeof *pop);
    if (gen->count == 0 || gen->count > SN_POPGEN_MAX_COUNT)
        return sn_error_set(err, SN_EINVAL, "population generator: count must be 1..%u",
                            SN_POPGEN_MAX_COUNT);
    const double shares[] = {gen->dead_share,   gen->tcp_only_share, gen->udp_only_share,
                             gen->closed_share, gen->tcp443_share,   gen->tcp80_share,
                             gen->nat_share};
    const sn_behaviour_t beh[] = {SN_BEH_DEAD,   SN_BEH_TCP_ONLY,     SN_BEH_UDP_ONLY,
                                  SN_BEH_CLOSED, SN_BEH_TCP_443_ONLY, SN_BEH_TCP_80_ONLY,
                                  SN_BEH_NAT};
    double sum = 0;
    size_t taken = 0;
    for (size_t i = 0; i < sizeof shares / sizeof shares[0]; i++) {
        if (!share_ok(shares[i]))
            return sn_error_set(err, SN_EINVAL,
                                "population generator: the %s share must be in 0..1",
                                sn_behaviour_name(beh[i]));
        sum += shares[i];
        cnt[beh[i]] = (size_t)floor(shares[i] * (double)gen->count);
        taken += cnt[beh[i]];
    }
    if (sum > 1.0 + 1e-9 || taken > gen->count)
        return sn_error_set(err, SN_EINVAL,
                            "population generator: the shares add up to more than 1");
    cnt[SN_BEH_ALIVE] = gen->count - taken;
    if (gen->delay_ms > SN_POP_MAX_DELAY_MS)
        return sn_error_set(err, SN_EINVAL, "population generator: delay_ms must be 0..%u",
                            SN_POP_MAX_DELAY_MS);
    if (gen->one_port == 443 || gen->one_port == 80)
        return sn_error_set(err, SN_EINVAL,
                            "population generator: one_port cannot be %u (it serves the "
                            "tcp-%u-only case)",
                            gen->one_port, gen->one_port);
    if (gen->one_port != 0 && cnt[SN_BEH_CLOSED] > 0)
        return sn_error_set(err, SN_EINVAL,
                            "population generator: closed nodes need ports of their own, so "
                            "one_port needs a closed share of 0");

    size_t closed = cnt[SN_BEH_CLOSED];
    size_t open = gen->count - closed;
    size_t pool = 0;
    if (gen->one_port == 0) {
        if (closed > GEN_PORT_SPAN - (open > 0 ? 1 : 0))
            return sn_error_set(err, SN_ELIMIT,
                                "population generator: %zu closed nodes need as many ports of "
                                "their own; at most %u fit",
                                closed, GEN_PORT_SPAN - (open > 0 ? 1 : 0));
        pool = open < SN_POPGEN_MAX_PORTS ? open : SN_POPGEN_MAX_PORTS;
        if (pool > GEN_PORT_SPAN - closed)
            pool = GEN_PORT_SPAN - closed;
    }

    pop->nodes = calloc(gen->count, sizeof *pop->nodes);
    if (pop->nodes == NULL)
        return sn_error_set(err, SN_ENOMEM, "population generator: out of memory");
    pop->count = gen->count;
    rs = sn_rng_seeded(gen->seed ^ 0x736E70726F6265ull); /* "snprobe": seed 0 is a fine seed too */

    /* Behaviours by exact counts, then shuffled: the rows' order. */
    size_t at = 0;
    for (unsigned b = 0; b < SN_BEH_COUNT_; b++) {
        for (size_t i = 0; i < cnt[b]; i++)
            pop->nodes[at++].behaviour = (uint8_t)b;
    }
    for (size_t i = pop->count; i > 1; i--) {
        size_t j = sn_rng_below(&rs, (uint32_t)i);
        uint8_t t = pop->nodes[i - 1].behaviour;
        pop->nodes[i - 1].behaviour = pop->nodes[j].behaviour;
        pop->nodes[j].behaviour = t;
    }

    /* Ports: a random pool for the open nodes, one port each for the closed ones. */
    if (gen->one_port == 0) {
        ports = malloc(GEN_PORT_SPAN * sizeof *ports);
        if (ports == NULL) {
            st = sn_error_set(err, SN_ENOMEM, "population generator: out of memory");
            goto fail;
        }
        for (uint32_t i = 0; i < GEN_PORT_SPAN; i++)
            ports[i] =
                (uint16_t)(i < GEN_PORT_LOW_SPAN ? GEN_PORT_LOW_MIN + i
                                                 : GEN_PORT_HIGH_MIN + (i - GEN_PORT_LOW_SPAN));
        for (size_t i = 0; i < pool + closed; i++) {
            size_t j = i + sn_rng_below(&rs, (uint32_t)(GEN_PORT_SPAN - i));
            uint16_t t = ports[i];
            ports[i] = ports[j];
            ports[j] = t;
        }
    }
    size_t next_closed = 0;
    for (size_t i = 0; i < pop->count; i++) {
        sn_node_t *n = &pop->nodes[i];
        if (gen->one_port != 0)
            n->addr.port = gen->one_port;
        else if (n->behaviour == SN_BEH_CLOSED)
            n->addr.port = ports[pool + next_closed++];
        else
            n->addr.port = ports[sn_rng_below(&rs, (uint32_t)pool)];
        if (n->behaviour == SN_BEH_ALIVE || n->behaviour == SN_BEH_UDP_ONLY ||
            n->behaviour == SN_BEH_NAT)
            n->delay_ms = gen->delay_ms;
        n->loss = 0.0f;
    }
    free(ports);
    ports = NULL;

    st = lay_out(pop, &rs, sn_mix64(gen->seed + 0x5851F42D4C957F2Dull), err);
    if (st != SN_OK)
        goto fail;
    return SN_OK;

fail:
    free(ports);
    sn_population_free(pop);
    return st;
}
