/*
 * Enrichment stage (see enrich.h). A result that waits for DNS is copied into
 * a parked record whose address is the lookup's callback argument; records are
 * recycled through a free list, so a long scan allocates only up to the
 * largest number parked at once.
 */
#include "scanner/enrich.h"

#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "data/blocklist.h"
#include "data/rdns.h"
#include "probes/probe.h"

typedef struct parked {
    sn_result_t r;
    sn_field_values_t values[2]; /* r's udp_values and tcp_values point here */
    sn_enrichment_t en;
    sn_enricher_t *owner; /* who parked it: the DNS answer comes back to it */
    struct parked *next_free;
} parked_t;

struct sn_enricher {
    sn_enrich_cfg_t cfg;
    sn_emit_fn emit;
    void *ud;
    sn_rdns_t *rdns;
    sn_geo_t *geo;
    sn_classify_t *cls;
    sn_cluster_t *cluster;   /* templates of this scan's names: pools by their counters */
    sn_blocklist_t *special; /* special-purpose ranges, for the RFC 6303 rule */
    parked_t *free_list;
    size_t parked;
    void (*idle_fn)(void *);
    void *idle_ud;
    bool cancelled; /* sn_enricher_cancel ran: no more lookups */
};

/* The resolver's breaker opened: say so once, a dead resolver explains a
 * column of timeouts. */
static void on_trip(void *ud, unsigned timeouts, unsigned backoff_ms)
{
    const sn_enricher_t *en = ud;
    if (!en->cfg.quiet)
        fprintf(stderr,
                "snprobe: DNS: %u lookups in a row timed out; the servers look dead: backing "
                "off %u ms, and lookups meanwhile are marked timeout at once\n",
                timeouts, backoff_ms);
}

sn_status_t sn_enricher_new(uv_loop_t *loop, const sn_enrich_cfg_t *cfg, sn_emit_fn emit, void *ud,
                            sn_enricher_t **out, sn_error_t *err)
{
    *out = NULL;
    sn_enricher_t *en = calloc(1, sizeof *en);
    if (en == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    en->cfg = *cfg;
    en->emit = emit;
    en->ud = ud;
    sn_status_t st = SN_OK;
    en->geo = sn_geo_new();
    en->cls = sn_classify_new();
    en->cluster = sn_cluster_new();
    en->special = sn_blocklist_new();
    if (en->geo == NULL || en->cls == NULL || en->cluster == NULL || en->special == NULL) {
        st = sn_error_set(err, SN_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg->n_geo_files; i++)
        if ((st = sn_geo_add_file(en->geo, cfg->geo_files[i], err)) != SN_OK)
            goto fail;
    if (cfg->geo_defaults) {
        size_t added = 0;
        if ((st = sn_geo_add_defaults(en->geo, NULL, &added, err)) != SN_OK)
            goto fail;
    }
    if (cfg->rdns != SN_RDNS_NONE) {
        sn_rdns_opts_t ro = {.servers = cfg->dns_servers,
                             .n_servers = cfg->n_dns_servers,
                             .timeout_ms = cfg->dns_timeout_ms,
                             .tries = cfg->dns_tries,
                             .max_inflight = cfg->dns_inflight,
                             .on_trip = on_trip,
                             .trip_ud = en};
        if ((st = sn_rdns_new(loop, &ro, &en->rdns, err)) != SN_OK)
            goto fail;
    }
    *out = en;
    return SN_OK;
fail:
    sn_enricher_free(en);
    return st;
}

/*
 * An enrichment with nothing in it yet. Every field is set but the text
 * buffers past their first byte: this runs once per target, and the PTR
 * buffer alone is a kilobyte that nothing reads beyond its terminator.
 */
static void enrichment_clear(sn_enrichment_t *x, const char *rdns_status)
{
    x->rdns_status = rdns_status;
    x->ptr[0] = '\0';
    x->ptr_valid = false;
    x->geo_known = false;
    x->geo.country[0] = '\0';
    x->geo.continent[0] = '\0';
    x->geo.continent_from_table = false;
    x->geo.asn = 0;
    x->geo.as_org[0] = '\0';
    x->geo.source = NULL;
    x->geo.as_source = NULL;
    x->class_known = false;
    memset(&x->cls, 0, sizeof x->cls);
}

/* Geography, AS and classes: everything that needs no waiting. */
static void finish(sn_enricher_t *en, sn_result_t *r, sn_enrichment_t *x)
{
    const sn_addr_t *a = &r->target->addr;
    if (sn_geo_count(en->geo) > 0) {
        sn_geo_lookup(en->geo, a, &x->geo);
        x->geo_known = true;
    }
    /* The first PTR name is the one judged; the others are kept as received. */
    char first[256];
    first[0] = '\0';
    if (x->ptr[0] != '\0') {
        size_t n = strcspn(x->ptr, " ");
        if (n >= sizeof first)
            n = sizeof first - 1;
        memcpy(first, x->ptr, n);
        first[n] = '\0';
    }
    x->class_known = first[0] != '\0' || x->geo.as_org[0] != '\0';
    sn_classify(en->cls, first[0] ? first : NULL, a, x->geo.as_org, &x->cls);
    sn_cluster_apply(en->cluster, first[0] ? first : NULL, &x->cls);
    r->enrich = x;
    en->emit(en->ud, r);
}

static void on_ptr(void *ud, const sn_addr_t *addr, sn_rdns_status_t st, const char *const *names,
                   size_t n_names)
{
    (void)addr;
    parked_t *p = ud;
    sn_enricher_t *en = p->owner;
    p->en.rdns_status = sn_rdns_status_name(st);
    size_t len = 0;
    bool valid = n_names > 0;
    for (size_t i = 0; i < n_names; i++) {
        size_t n = strlen(names[i]);
        if (len + n + (len ? 1 : 0) >= sizeof p->en.ptr)
            break; /* whole names only */
        if (len)
            p->en.ptr[len++] = ' ';
        memcpy(p->en.ptr + len, names[i], n);
        len += n;
        valid = valid && sn_hostname_valid(names[i]);
    }
    p->en.ptr[len] = '\0';
    p->en.ptr_valid = valid;
    finish(en, &p->r, &p->en);
    p->next_free = en->free_list;
    en->free_list = p;
    if (--en->parked == 0 && en->idle_fn != NULL)
        en->idle_fn(en->idle_ud);
}

static bool wants_rdns(const sn_enricher_t *en, const sn_result_t *r)
{
    if ((en->rdns == NULL && !en->cancelled) || r->blocked != NULL)
        return false;
    if (en->cfg.rdns == SN_RDNS_ALIVE && r->udp.outcome != SN_OUTCOME_ALIVE &&
        r->tcp.outcome != SN_OUTCOME_ALIVE)
        return false;
    if (en->cfg.n_dns_servers == 0 && sn_blocklist_blocked(en->special, &r->target->addr, NULL))
        return false; /* RFC 6303: not for public resolvers */
    return true;
}

/* A result parked past the engine's callback takes its field values along. */
static void park_result(parked_t *p, const sn_result_t *src)
{
    p->r = *src;
    if (src->udp_values != NULL) {
        p->values[0] = *src->udp_values;
        p->r.udp_values = &p->values[0];
    }
    if (src->tcp_values != NULL) {
        p->values[1] = *src->tcp_values;
        p->r.tcp_values = &p->values[1];
    }
}

void sn_enricher_submit(sn_enricher_t *en, const sn_result_t *r)
{
    bool wants = wants_rdns(en, r);
    if (!wants || en->cancelled) {
        sn_result_t copy = *r; /* finished at once: its values are still the caller's */
        sn_enrichment_t x;
        enrichment_clear(&x, wants ? "cancelled" : "skipped");
        finish(en, &copy, &x);
        return;
    }
    parked_t *p = en->free_list;
    if (p != NULL)
        en->free_list = p->next_free;
    else
        p = malloc(sizeof *p);
    if (p == NULL) {
        sn_result_t copy = *r; /* finished at once: its values are still the caller's */
        sn_enrichment_t x;
        enrichment_clear(&x, "error");
        finish(en, &copy, &x);
        return;
    }
    park_result(p, r);
    enrichment_clear(&p->en, NULL);
    p->r.enrich = NULL; /* until the answer: no enrichment yet */
    p->owner = en;
    if (sn_rdns_lookup(en->rdns, &r->target->addr, on_ptr, p) != SN_OK) {
        p->en.rdns_status = "error";
        finish(en, &p->r, &p->en);
        p->next_free = en->free_list;
        en->free_list = p;
        return;
    }
    en->parked++;
}

size_t sn_enricher_parked(const sn_enricher_t *en)
{
    return en != NULL ? en->parked : 0;
}

void sn_enricher_on_idle(sn_enricher_t *en, void (*fn)(void *ud), void *ud)
{
    en->idle_fn = fn;
    en->idle_ud = ud;
}

size_t sn_enricher_sources(const sn_enricher_t *en, const char **out, size_t cap)
{
    size_t n = sn_geo_count(en->geo);
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = sn_geo_source(en->geo, i);
    return n;
}

void sn_enricher_cancel(sn_enricher_t *en)
{
    if (en == NULL || en->cancelled)
        return;
    en->cancelled = true;
    sn_rdns_t *r = en->rdns;
    en->rdns = NULL;
    sn_rdns_close(r); /* pending lookups end as "cancelled", through on_ptr */
}

void sn_enricher_free(sn_enricher_t *en)
{
    if (en == NULL)
        return;
    en->idle_fn = NULL;
    sn_rdns_close(en->rdns); /* pending lookups end as "cancelled", through on_ptr */
    while (en->free_list != NULL) {
        parked_t *p = en->free_list;
        en->free_list = p->next_free;
        free(p);
    }
    sn_geo_free(en->geo);
    sn_classify_free(en->cls);
    sn_cluster_free(en->cluster);
    sn_blocklist_free(en->special);
    free(en);
}
