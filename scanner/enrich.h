/*
 * The enrichment stage between the engine and the sinks: who each node is.
 *
 * Every result passes through it. Geography, AS and the classes are computed
 * at once (in-memory lookups); a reverse lookup is asynchronous (c-ares on the
 * scan's loop), so a result that needs one is parked until its answer or its
 * timeout, while probing goes on. Results leave in completion order.
 *
 * Reverse lookups of special-purpose addresses (loopback, private, ...: the
 * default blocklist's ranges) are sent only to DNS servers given explicitly:
 * public resolvers cannot answer them and should never see them (RFC 6303).
 */
#ifndef SN_ENRICH_H
#define SN_ENRICH_H

#include <stdbool.h>
#include <uv.h>

#include "data/result.h"
#include "lib/status.h"

typedef enum sn_rdns_mode {
    SN_RDNS_NONE = 0, /* --no-rdns */
    SN_RDNS_ALIVE,    /* nodes that answered anything (default) */
    SN_RDNS_ALL       /* every target */
} sn_rdns_mode_t;

typedef struct sn_enrich_cfg {
    sn_rdns_mode_t rdns;
    const char *const *dns_servers; /* "ADDR[:PORT]"; none: the system resolver */
    size_t n_dns_servers;
    unsigned dns_timeout_ms, dns_tries, dns_inflight;
    const char *const *geo_files; /* --geo/--asn: mmdb or ip-location-db CSV */
    size_t n_geo_files;
    bool geo_defaults; /* also search the default directories */
    size_t max_parked; /* results waiting for DNS before the scan pauses */
    bool quiet;        /* no note on stderr when the DNS breaker opens */
} sn_enrich_cfg_t;

typedef struct sn_enricher sn_enricher_t;

/* emit is called once per submitted result, enriched. */
typedef void (*sn_emit_fn)(void *ud, const sn_result_t *r);

sn_status_t sn_enricher_new(uv_loop_t *loop, const sn_enrich_cfg_t *cfg, sn_emit_fn emit, void *ud,
                            sn_enricher_t **out, sn_error_t *err);

/* Enriches r (copied) and emits it, now or when its reverse lookup ends. */
void sn_enricher_submit(sn_enricher_t *en, const sn_result_t *r);

/* Results parked for a reverse lookup. */
size_t sn_enricher_parked(const sn_enricher_t *en);

/* Called (once) whenever the parked count drops to zero; may be NULL. */
void sn_enricher_on_idle(sn_enricher_t *en, void (*fn)(void *ud), void *ud);

/* Databases in use, for the report's credits: count and "file (type, date)". */
size_t sn_enricher_sources(const sn_enricher_t *en, const char **out, size_t cap);

/*
 * Gives up on DNS (a stopping scan): every pending lookup ends now and its
 * result is emitted with rdns_status "cancelled", as is every result
 * submitted later that would have wanted a lookup. Accepts NULL.
 */
void sn_enricher_cancel(sn_enricher_t *en);

/* Closes the resolver (parked results are emitted as "cancelled") and frees. */
void sn_enricher_free(sn_enricher_t *en);

#endif
