/*
 * Firewall export (see export.h). The nodes are collected as plain 20-byte
 * addresses, sorted and de-duplicated at close, because every format groups
 * them by family and a firewall refuses duplicate set elements. A million
 * nodes cost 20 MB for the few seconds the export takes.
 *
 * The nft script keeps elements to one per line inside `add element`
 * statements of at most 4096 elements each, which nft parses in linear time
 * and a reader can still diff.
 */
#include "reports/export.h"
#include "lib/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/stats.h"

#define NFT_CHUNK 4096

struct sn_export {
    sn_export_opts_t opts;
    char name[32];
    char *path;
    sn_addr_t *v;
    size_t n, cap;
};

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 24)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!(sn_is_alnum(s[i]) || s[i] == '_'))
            return false;
    }
    return true;
}

sn_status_t sn_export_new(sn_export_t **out, const sn_export_opts_t *opts, const char *path,
                          sn_error_t *err)
{
    *out = NULL;
    if (opts == NULL || path == NULL || path[0] == '\0')
        return sn_error_set(err, SN_EINVAL, "export: no options or no output path");
    if (opts->format != SN_EXPORT_NFT && opts->format != SN_EXPORT_IPSET &&
        opts->format != SN_EXPORT_PLAIN)
        return sn_error_set(err, SN_EINVAL, "export: unknown format %d", (int)opts->format);
    const char *name = opts->name != NULL ? opts->name : "snprobe";
    if (!name_ok(name))
        return sn_error_set(err, SN_EINVAL,
                            "export: the set name must be 1-24 letters, digits or '_'");
    sn_export_t *ex = calloc(1, sizeof *ex);
    if (ex == NULL || (ex->path = strdup(path)) == NULL) {
        free(ex);
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    ex->opts = *opts;
    snprintf(ex->name, sizeof ex->name, "%s", name);
    ex->opts.name = ex->name;
    *out = ex;
    return SN_OK;
}

bool sn_export_wants(const sn_export_opts_t *opts, const sn_result_t *r)
{
    if (r == NULL || r->target == NULL || r->blocked != NULL)
        return false;
    if (opts->eligible_only)
        return sn_result_sn_eligible(r);
    bool udp = r->udp.probe != NULL && r->udp.outcome == SN_OUTCOME_ALIVE;
    bool tcp = r->tcp.probe != NULL && r->tcp.outcome == SN_OUTCOME_ALIVE;
    return udp || tcp;
}

sn_status_t sn_export_add(sn_export_t *ex, const sn_result_t *r)
{
    if (ex == NULL)
        return SN_EINVAL;
    if (!sn_export_wants(&ex->opts, r))
        return SN_OK;
    if (ex->n == ex->cap) {
        size_t nc = ex->cap ? ex->cap * 2 : 1024;
        sn_addr_t *nv = realloc(ex->v, nc * sizeof *nv);
        if (nv == NULL)
            return SN_ENOMEM;
        ex->v = nv;
        ex->cap = nc;
    }
    sn_addr_t a = r->target->addr;
    a.pad_ = 0;
    if (ex->opts.addr_only)
        a.port = 0;
    ex->v[ex->n++] = a;
    return SN_OK;
}

size_t sn_export_count(const sn_export_t *ex)
{
    return ex != NULL ? ex->n : 0;
}

static int addr_order(const void *pa, const void *pb)
{
    const sn_addr_t *a = pa, *b = pb;
    int fa = a->family == AF_INET ? 0 : 1, fb = b->family == AF_INET ? 0 : 1;
    if (fa != fb)
        return fa - fb;
    int c = memcmp(a->ip, b->ip, sizeof a->ip);
    if (c != 0)
        return c;
    return (int)a->port - (int)b->port;
}

/* One element in the format's own spelling. */
static void element(const sn_export_t *ex, const sn_addr_t *a, char *buf, size_t cap)
{
    char ip[SN_ADDR_STRLEN];
    sn_addr_format(a, ip, sizeof ip, false);
    if (ex->opts.addr_only) {
        snprintf(buf, cap, "%s", ip);
        return;
    }
    switch (ex->opts.format) {
    case SN_EXPORT_NFT: snprintf(buf, cap, "%s . %u", ip, (unsigned)a->port); break;
    case SN_EXPORT_IPSET: snprintf(buf, cap, "%s", ip); break;
    case SN_EXPORT_PLAIN: sn_addr_format(a, buf, cap, true); break;
    }
}

static void write_nft(FILE *f, const sn_export_t *ex, const sn_addr_t *v, size_t n, size_t n4)
{
    const char *t = ex->name;
    bool ao = ex->opts.addr_only;
    fprintf(f,
            "#!/usr/sbin/nft -f\n"
            "# Written by snprobe: %zu %s nodes (%zu IPv4, %zu IPv6)%s.\n"
            "# Load with `nft -f FILE`; loading again replaces the elements. Match them from a\n"
            "# chain in this table, for example:\n"
            "#   nft add chain inet %s out '{ type filter hook output priority 0; }'\n"
            "#   nft add rule inet %s out %s @supernodes_v4 drop\n",
            n, ex->opts.eligible_only ? "super-node eligible" : "alive", n4, n - n4,
            ao ? ", addresses only" : ", address . port", t, t,
            ao ? "ip daddr" : "ip daddr . th dport");
    fprintf(f,
            "table inet %s {\n"
            "\tset supernodes_v4 {\n\t\ttype %s\n\t}\n"
            "\tset supernodes_v6 {\n\t\ttype %s\n\t}\n"
            "}\n"
            "flush set inet %s supernodes_v4\n"
            "flush set inet %s supernodes_v6\n",
            t, ao ? "ipv4_addr" : "ipv4_addr . inet_service",
            ao ? "ipv6_addr" : "ipv6_addr . inet_service", t, t);
    char el[SN_ADDR_STRLEN + 16];
    for (int fam = 0; fam < 2; fam++) {
        size_t from = fam == 0 ? 0 : n4, to = fam == 0 ? n4 : n;
        for (size_t i = from; i < to; i += NFT_CHUNK) {
            size_t end = i + NFT_CHUNK < to ? i + NFT_CHUNK : to;
            fprintf(f, "add element inet %s supernodes_v%c {\n", t, fam == 0 ? '4' : '6');
            for (size_t k = i; k < end; k++) {
                element(ex, &v[k], el, sizeof el);
                fprintf(f, "\t%s%s\n", el, k + 1 < end ? "," : "");
            }
            fputs("}\n", f);
        }
    }
}

static void write_ipset(FILE *f, const sn_export_t *ex, const sn_addr_t *v, size_t n, size_t n4)
{
    bool ao = ex->opts.addr_only;
    fprintf(f,
            "# Written by snprobe: %zu %s nodes (%zu IPv4, %zu IPv6). Load with `ipset restore < "
            "FILE`.\n",
            n, ex->opts.eligible_only ? "super-node eligible" : "alive", n4, n - n4);
    char el[SN_ADDR_STRLEN + 16];
    for (int fam = 0; fam < 2; fam++) {
        size_t from = fam == 0 ? 0 : n4, to = fam == 0 ? n4 : n;
        size_t entries = (to - from) * (ao ? 1 : 2);
        size_t maxelem = 65536;
        while (maxelem < entries)
            maxelem *= 2;
        char set[48];
        snprintf(set, sizeof set, "%s_v%c", ex->name, fam == 0 ? '4' : '6');
        fprintf(f, "create %s %s family %s maxelem %zu -exist\n", set,
                ao ? "hash:ip" : "hash:ip,port", fam == 0 ? "inet" : "inet6", maxelem);
        fprintf(f, "flush %s\n", set);
        for (size_t k = from; k < to; k++) {
            element(ex, &v[k], el, sizeof el);
            if (ao) {
                fprintf(f, "add %s %s\n", set, el);
            } else {
                fprintf(f, "add %s %s,udp:%u\n", set, el, (unsigned)v[k].port);
                fprintf(f, "add %s %s,tcp:%u\n", set, el, (unsigned)v[k].port);
            }
        }
    }
}

sn_status_t sn_export_close(sn_export_t *ex, size_t *written, sn_error_t *err)
{
    if (written != NULL)
        *written = 0;
    if (ex == NULL)
        return SN_OK;
    if (ex->n > 1)
        qsort(ex->v, ex->n, sizeof *ex->v, addr_order);
    size_t n = 0, n4 = 0;
    for (size_t i = 0; i < ex->n; i++) {
        if (n > 0 && memcmp(&ex->v[n - 1], &ex->v[i], sizeof ex->v[i]) == 0)
            continue;
        ex->v[n++] = ex->v[i];
    }
    for (size_t i = 0; i < n; i++)
        n4 += ex->v[i].family == AF_INET;

    sn_outfile_t *of = NULL;
    sn_status_t st = sn_outfile_open(ex->path, &of, err);
    FILE *f = st == SN_OK ? sn_outfile_stream(of) : NULL;
    if (st == SN_OK && f == NULL) {
        sn_outfile_abort(of, false);
        st = sn_error_set(err, SN_ENOMEM, "out of memory writing %s", ex->path);
    }
    if (f != NULL) {
        switch (ex->opts.format) {
        case SN_EXPORT_NFT: write_nft(f, ex, ex->v, n, n4); break;
        case SN_EXPORT_IPSET: write_ipset(f, ex, ex->v, n, n4); break;
        case SN_EXPORT_PLAIN: {
            char el[SN_ADDR_STRLEN + 16];
            for (size_t i = 0; i < n; i++) {
                element(ex, &ex->v[i], el, sizeof el);
                fprintf(f, "%s\n", el);
            }
            break;
        }
        }
        st = sn_outfile_commit(of, err);
    }
    if (st == SN_OK && written != NULL)
        *written = n;
    free(ex->v);
    free(ex->path);
    free(ex);
    return st;
}
