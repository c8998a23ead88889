/*
 * enrich_bench: the benchmark's enrichment rows, the two lookups a scan adds
 * to every result, each timed on its own so that the figure is the module's
 * and not the scan's.
 *
 *   rdns  PTR lookups through sn_rdns (c-ares on a libuv loop, as the scanner
 *         drives it) against one DNS server, normally a dnsmasq that bench/run.sh
 *         starts in its private network namespace with a PTR record for every
 *         address of the list. Every answer is checked against the name the
 *         list expects, so a fast wrong answer cannot pass.
 *   geo   sn_geo_lookup over random public-looking IPv4 addresses: pure
 *         in-memory lookups, no traffic. The databases are the files given
 *         (data/geo/ when scripts/fetch-geo-data.sh has fetched them), or,
 *         with --synthetic N, generated CSV range tables of N country and N AS
 *         ranges whose every answer is known, so that each lookup is checked.
 *
 * Only the lookups are timed (loading the databases is reported apart). The
 * result goes to stderr as one line and, with --json, to a file that
 * bench/table.py reads. It talks to the server given on the command line and
 * to nothing else; it starts no server itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "lib/addr.h"
#include "lib/decimal.h"
#include "lib/rng.h"
#include "data/geo.h"
#include "data/rdns.h"

typedef struct expect {
    sn_addr_t addr;
    char *name; /* the PTR target the server should give */
} expect_t;

typedef struct rdns_run {
    size_t done, right, wrong;
    size_t by_status[SN_RDNS_STATUS_COUNT];
    char first_wrong[256];
} rdns_run_t;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("enrich_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t parse_count(const char *opt, const char *v, uint64_t min, uint64_t max)
{
    uint64_t n = 0;
    if (v == NULL || *v == '\0')
        die("%s needs a number", opt);
    if (!sn_decimal_u64(v, strlen(v), max, &n) || n < min)
        die("%s: '%s' is not a number %" PRIu64 "..%" PRIu64, opt, v, min, max);
    return n;
}

/* ---- rdns ------------------------------------------------------------------ */

/* Reads "IP NAME" lines (blank lines and # comments skipped), strictly. */
static expect_t *load_expect(const char *path, size_t *n_out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    size_t n = 0, cap = 1024, lineno = 0;
    expect_t *v = malloc(cap * sizeof *v);
    char line[512];
    if (v == NULL)
        die("out of memory");
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        size_t len = strcspn(line, "\r\n");
        if (line[len] == '\0' && !feof(f))
            die("%s:%zu: line too long", path, lineno);
        line[len] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *sp = strchr(line, ' ');
        if (sp == NULL || sp[1] == '\0' || strchr(sp + 1, ' ') != NULL)
            die("%s:%zu: expected \"IP NAME\"", path, lineno);
        if (n == cap) {
            cap *= 2;
            expect_t *nv = realloc(v, cap * sizeof *nv);
            if (nv == NULL)
                die("out of memory");
            v = nv;
        }
        if (sn_addr_parse_ip(line, (size_t)(sp - line), &v[n].addr) != SN_OK)
            die("%s:%zu: '%.*s' is not an IP address", path, lineno, (int)(sp - line), line);
        v[n].name = strdup(sp + 1);
        if (v[n].name == NULL)
            die("out of memory");
        n++;
    }
    if (ferror(f))
        die("%s: read error", path);
    fclose(f);
    if (n == 0)
        die("%s: no addresses", path);
    *n_out = n;
    return v;
}

typedef struct lookup_ctx {
    rdns_run_t *run;
    const expect_t *want;
} lookup_ctx_t;

static void on_ptr(void *ud, const sn_addr_t *addr, sn_rdns_status_t st, const char *const *names,
                   size_t n_names)
{
    const lookup_ctx_t *c = ud;
    rdns_run_t *run = c->run;
    (void)addr;
    run->done++;
    run->by_status[st < SN_RDNS_STATUS_COUNT ? st : SN_RDNS_ERROR]++;
    if (st == SN_RDNS_OK && n_names == 1 && strcmp(names[0], c->want->name) == 0) {
        run->right++;
        return;
    }
    if (run->wrong++ == 0) {
        char ip[SN_ADDR_STRLEN];
        sn_addr_format(&c->want->addr, ip, sizeof ip, false);
        snprintf(run->first_wrong, sizeof run->first_wrong, "%s: %s, %zu name(s), first '%s'", ip,
                 sn_rdns_status_name(st), n_names, n_names > 0 ? names[0] : "");
    }
}

static int run_rdns(const char *server, const char *list, size_t inflight, unsigned timeout_ms,
                    FILE *json)
{
    size_t n = 0;
    expect_t *want = load_expect(list, &n);
    lookup_ctx_t *ctx = calloc(n, sizeof *ctx);
    if (ctx == NULL)
        die("out of memory");
    rdns_run_t run = {0};
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        die("uv_loop_init failed");
    const char *servers[1] = {server};
    sn_rdns_opts_t o = {
        .servers = servers, .n_servers = 1, .max_inflight = inflight, .timeout_ms = timeout_ms};
    sn_rdns_t *r = NULL;
    sn_error_t err = {{0}};
    if (sn_rdns_new(&loop, &o, &r, &err) != SN_OK)
        die("%s", err.msg);

    const double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        ctx[i] = (lookup_ctx_t){.run = &run, .want = &want[i]};
        if (sn_rdns_lookup(r, &want[i].addr, on_ptr, &ctx[i]) != SN_OK)
            die("sn_rdns_lookup refused lookup %zu", i);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    const double secs = now_s() - t0;
    sn_rdns_close(r);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        die("the loop did not close cleanly");
    if (run.done != n)
        die("%zu of %zu lookups finished", run.done, n);

    fprintf(stderr,
            "enrich_bench: rdns %zu lookups via %s (%zu in flight) in %.3f s: %.0f/s; %zu right, "
            "%zu wrong; timeouts %zu, nxdomain %zu\n",
            n, server, inflight, secs, (double)n / secs, run.right, run.wrong,
            run.by_status[SN_RDNS_TIMEOUT], run.by_status[SN_RDNS_NXDOMAIN]);
    if (run.wrong > 0)
        fprintf(stderr, "  e.g. %s\n", run.first_wrong);
    if (json != NULL)
        fprintf(json,
                "{\"kind\": \"rdns\", \"lookups\": %zu, \"seconds\": %.6f, \"per_s\": %.1f, "
                "\"right\": %zu, \"wrong\": %zu, \"inflight\": %zu, \"timeouts\": %zu}\n",
                n, secs, (double)n / secs, run.right, run.wrong, inflight,
                run.by_status[SN_RDNS_TIMEOUT]);
    for (size_t i = 0; i < n; i++)
        free(want[i].name);
    free(want);
    free(ctx);
    return run.wrong == 0 ? 0 : 1;
}

/* ---- geo ------------------------------------------------------------------- */

/* True for addresses a harvested list would hold: not private, loopback,
 * link-local, shared (CGN), multicast, reserved or "this network". */
static bool public_looking(uint32_t ip)
{
    uint32_t a = ip >> 24, b = (ip >> 16) & 0xff;
    return !(a == 0 || a == 10 || a == 127 || a >= 224 || (a == 169 && b == 254) ||
             (a == 172 && (b & 0xf0) == 16) || (a == 192 && b == 168) ||
             (a == 100 && (b & 0xc0) == 64));
}

/* A synthetic table: n ranges with sorted random starts over the IPv4 space;
 * every tenth range is left out, so that "no data" is exercised too. */
typedef struct synth {
    uint32_t *start; /* n + 1 entries; start[n] is the end sentinel (exclusive, as 2^32 - 1) */
    size_t n;
} synth_t;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void synth_make(synth_t *t, size_t n, uint64_t seed)
{
    sn_rng_t rng = sn_rng_seeded(seed);
    t->n = n;
    t->start = malloc((n + 1) * sizeof *t->start);
    if (t->start == NULL)
        die("out of memory");
    for (;;) {
        t->start[0] = 0;
        for (size_t i = 1; i < n; i++)
            t->start[i] = (uint32_t)sn_rng_next(&rng);
        qsort(t->start + 1, n - 1, sizeof *t->start, cmp_u32);
        bool distinct = true;
        for (size_t i = 1; i < n && distinct; i++)
            distinct = t->start[i] > t->start[i - 1];
        if (distinct)
            break; /* a repeated cut would make an empty range: draw again */
    }
    t->start[n] = UINT32_MAX;
}

static bool synth_present(size_t i)
{
    return i % 10 != 7;
}

/* The range holding ip: the last start <= ip. */
static size_t synth_find(const synth_t *t, uint32_t ip)
{
    size_t lo = 0, hi = t->n; /* start[lo] <= ip < start[hi] (or hi == n) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->start[mid] <= ip)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static const char *const cc_pool[] = {"US", "DE", "FR", "GB", "JP", "BR", "IN", "CN", "RU", "NL",
                                      "SE", "AU", "ZA", "EG", "AR", "CA", "KR", "IT", "ES", "NG"};
#define CC_POOL (sizeof cc_pool / sizeof cc_pool[0])

static void fmt_ip(uint32_t ip, char *buf, size_t cap)
{
    snprintf(buf, cap, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* Renders the table as ip-location-db CSV (country, or AS when as is true). */
static char *synth_csv(const synth_t *t, bool as, size_t *len)
{
    size_t cap = t->n * 64 + 64, off = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        die("out of memory");
    for (size_t i = 0; i < t->n; i++) {
        if (!synth_present(i))
            continue;
        char a[16], b[16];
        uint32_t last = i + 1 < t->n ? t->start[i + 1] - 1 : UINT32_MAX;
        fmt_ip(t->start[i], a, sizeof a);
        fmt_ip(last, b, sizeof b);
        int w =
            as ? snprintf(buf + off, cap - off, "%s,%s,%zu,Synthetic Net %zu\n", a, b, 64512 + i, i)
               : snprintf(buf + off, cap - off, "%s,%s,%s\n", a, b, cc_pool[i % CC_POOL]);
        if (w < 0 || (size_t)w >= cap - off)
            die("synthetic table overflow");
        off += (size_t)w;
    }
    *len = off;
    return buf;
}

static int run_geo(char **files, size_t n_files, size_t synthetic, uint64_t count, uint64_t seed,
                   FILE *json)
{
    sn_geo_t *geo = sn_geo_new();
    if (geo == NULL)
        die("out of memory");
    sn_error_t err = {{0}};
    synth_t cty = {0}, asn = {0};
    const double l0 = now_s();
    for (size_t i = 0; i < n_files; i++)
        if (sn_geo_add_file(geo, files[i], &err) != SN_OK)
            die("%s", err.msg);
    if (synthetic > 0) {
        synth_make(&cty, synthetic, seed ^ 0xc0ffee);
        synth_make(&asn, synthetic, seed ^ 0xa5a5);
        size_t len;
        char *csv = synth_csv(&cty, false, &len);
        if (sn_geo_add_csv_mem(geo, "synthetic-country.csv", csv, len, &err) != SN_OK)
            die("%s", err.msg);
        free(csv);
        csv = synth_csv(&asn, true, &len);
        if (sn_geo_add_csv_mem(geo, "synthetic-asn.csv", csv, len, &err) != SN_OK)
            die("%s", err.msg);
        free(csv);
    }
    const double load_s = now_s() - l0;
    if (sn_geo_count(geo) == 0)
        die("no databases: give files or --synthetic N");

    /* The addresses are drawn before the clock starts: the figure is the lookups'. */
    sn_addr_t *addrs = malloc(count * sizeof *addrs);
    if (addrs == NULL)
        die("out of memory");
    sn_rng_t rng = sn_rng_seeded(seed);
    for (uint64_t i = 0; i < count;) {
        uint32_t ip = (uint32_t)sn_rng_next(&rng);
        if (public_looking(ip))
            sn_addr_set_v4(&addrs[i++], ip, 0);
    }
    size_t with_cc = 0, with_as = 0, wrong = 0;
    uint64_t sink = 0;
    sn_geo_info_t info;
    const double t0 = now_s();
    for (uint64_t i = 0; i < count; i++) {
        sn_geo_lookup(geo, &addrs[i], &info);
        with_cc += info.country[0] != '\0';
        with_as += info.asn != 0;
        sink += info.asn + (unsigned char)info.country[0];
    }
    const double secs = now_s() - t0;

    /* Checking is a second pass, outside the timed one. */
    if (synthetic > 0) {
        for (uint64_t i = 0; i < count; i++) {
            uint32_t ip = sn_addr_v4(&addrs[i]);
            size_t c = synth_find(&cty, ip), a = synth_find(&asn, ip);
            sn_geo_lookup(geo, &addrs[i], &info);
            bool ok = synth_present(c) ? strcmp(info.country, cc_pool[c % CC_POOL]) == 0
                                       : info.country[0] == '\0';
            ok = ok && (synth_present(a) ? info.asn == 64512 + a : info.asn == 0);
            if (!ok && wrong++ == 0) {
                char s[16];
                fmt_ip(ip, s, sizeof s);
                fprintf(stderr, "  e.g. %s: got '%s' AS%" PRIu32 "\n", s, info.country, info.asn);
            }
        }
    }
    char sources[1024] = "";
    for (size_t i = 0, off = 0; i < sn_geo_count(geo) && off < sizeof sources; i++) {
        int w = snprintf(sources + off, sizeof sources - off, "%s%s", i ? " + " : "",
                         sn_geo_source(geo, i));
        if (w < 0)
            break;
        off += (size_t)w;
    }
    for (char *p = sources; *p; p++)
        if (*p == '"' || *p == '\\')
            *p = '\'';
    fprintf(stderr,
            "enrich_bench: geo %" PRIu64 " lookups in %.3f s: %.0f/s; with country %.1f%%, with AS "
            "%.1f%%; %s; loaded in %.2f s: %s (checksum %" PRIu64 ")\n",
            count, secs, (double)count / secs, 100.0 * (double)with_cc / (double)count,
            100.0 * (double)with_as / (double)count,
            synthetic > 0 ? (wrong ? "some answers WRONG" : "every answer right")
                          : "answers not checked (real data)",
            load_s, sources, sink);
    if (json != NULL)
        fprintf(json,
                "{\"kind\": \"geo\", \"lookups\": %" PRIu64 ", \"seconds\": %.6f, \"per_s\": %.1f, "
                "\"with_country\": %zu, \"with_as\": %zu, \"checked\": %s, \"wrong\": %zu, "
                "\"load_s\": %.3f, \"sources\": \"%s\"}\n",
                count, secs, (double)count / secs, with_cc, with_as,
                synthetic > 0 ? "true" : "false", wrong, load_s, sources);
    free(addrs);
    free(cty.start);
    free(asn.start);
    sn_geo_free(geo);
    return wrong == 0 ? 0 : 1;
}

static void usage(void)
{
    fputs(
        "usage: enrich_bench rdns --server ADDR:PORT --list FILE [--inflight N] [--timeout-ms MS]\n"
        "                         [--json OUT]\n"
        "       enrich_bench geo [--count N] [--seed S] [--synthetic RANGES] [--json OUT] "
        "[DB...]\n"
        "  rdns: PTR lookups of every address in FILE (\"IP NAME\" lines), each answer\n"
        "        checked against NAME; --inflight lookups at once (default 500); a\n"
        "        lookup's first try waits --timeout-ms (default 2000, c-ares doubles it)\n"
        "  geo:  N (default 2000000) sn_geo_lookup calls over random public-looking IPv4\n"
        "        addresses, in the databases DB... (.mmdb or ip-location-db .csv) and/or\n"
        "        generated country and AS range tables of RANGES rows each (checked)\n",
        stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const bool rdns = strcmp(argv[1], "rdns") == 0;
    if (!rdns && strcmp(argv[1], "geo") != 0)
        usage();
    const char *server = NULL, *list = NULL, *json_path = NULL;
    size_t inflight = 500, synthetic = 0, n_files = 0;
    unsigned timeout_ms = 2000;
    uint64_t count = 2000000, seed = 1;
    char **files = calloc((size_t)argc, sizeof *files);
    if (files == NULL)
        die("out of memory");
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (rdns && strcmp(a, "--server") == 0 && v)
            server = v, i++;
        else if (rdns && strcmp(a, "--list") == 0 && v)
            list = v, i++;
        else if (rdns && strcmp(a, "--inflight") == 0)
            inflight = (size_t)parse_count(a, v, 1, 65536), i++;
        else if (rdns && strcmp(a, "--timeout-ms") == 0)
            timeout_ms = (unsigned)parse_count(a, v, 1, 600000), i++;
        else if (!rdns && strcmp(a, "--count") == 0)
            count = parse_count(a, v, 1, 100000000), i++;
        else if (!rdns && strcmp(a, "--seed") == 0)
            seed = parse_count(a, v, 0, UINT64_MAX), i++;
        else if (!rdns && strcmp(a, "--synthetic") == 0)
            synthetic = (size_t)parse_count(a, v, 2, 10000000), i++;
        else if (strcmp(a, "--json") == 0 && v)
            json_path = v, i++;
        else if (a[0] == '-')
            usage();
        else if (!rdns)
            files[n_files++] = argv[i];
        else
            usage();
    }
    if (rdns && (server == NULL || list == NULL))
        usage();
    FILE *json = NULL;
    if (json_path != NULL && (json = fopen(json_path, "w")) == NULL)
        die("%s: %s", json_path, strerror(errno));
    int rc = rdns ? run_rdns(server, list, inflight, timeout_ms, json)
                  : run_geo(files, n_files, synthetic, count, seed, json);
    if (json != NULL && fclose(json) != 0)
        die("%s: write failed", json_path);
    free(files);
    return rc;
}
