/*
 * Vantage: where the scanner stands. RFC 5780 NAT behaviour discovery against
 * a STUN server with two addresses (mapping and filtering behaviour), plus
 * whether UDP passes at all and whether TCP passes to high ports or only to
 * 443/80. A NATed or firewalled vantage changes what "filtered" means, so a
 * scan records its vantage in every output.
 */
#ifndef SN_VANTAGE_H
#define SN_VANTAGE_H

#include <stdbool.h>
#include <stdio.h>

#include "../data/addr.h"
#include "status.h"

typedef enum sn_nat_behaviour {
    SN_NAT_UNKNOWN = 0,
    SN_NAT_NONE,                 /* no NAT (mapped address == local address) / no filtering */
    SN_NAT_ENDPOINT_INDEPENDENT,
    SN_NAT_ADDRESS_DEPENDENT,
    SN_NAT_ADDRESS_PORT_DEPENDENT
} sn_nat_behaviour_t;

typedef enum sn_path {
    SN_PATH_UNKNOWN = 0,
    SN_PATH_OPEN,
    SN_PATH_443_80_ONLY,         /* TCP only */
    SN_PATH_BLOCKED
} sn_path_t;

#define SN_VANTAGE_EVIDENCE 16

typedef struct sn_vantage {
    bool known;                  /* false: no vantage recorded for this scan */
    sn_nat_behaviour_t mapping;
    sn_nat_behaviour_t filtering;
    sn_path_t udp;               /* open or blocked */
    sn_path_t tcp;               /* open, 443-80-only or blocked */
    sn_addr_t local;             /* our local address and port as bound */
    /* Evidence: one line per test, "test: what was sent -> what came back". */
    char evidence[SN_VANTAGE_EVIDENCE][160];
    unsigned n_evidence;
} sn_vantage_t;

typedef struct sn_vantage_cfg {
    const char *stun;            /* HOST[:PORT] of the STUN server (port 3478 by default) */
    unsigned timeout_ms;         /* per STUN transaction attempt */
    unsigned retries;
} sn_vantage_cfg_t;

/* "none", "endpoint-independent", ...; "open", "443-80-only", "blocked", "unknown". */
const char *sn_nat_behaviour_name(sn_nat_behaviour_t b);
const char *sn_path_name(sn_path_t p);

/* Runs the discovery (its own loop). Fills out even when tests fail (unknown fields). */
sn_status_t sn_vantage_discover(const sn_vantage_cfg_t *cfg, sn_vantage_t *out, sn_error_t *err);

/*
 * Prints the verdict: stable `key: value` lines (mapping, filtering, udp,
 * tcp, local) then the evidence lines; or one JSON object with json true.
 */
void sn_vantage_print(FILE *f, const sn_vantage_t *v, bool json);

/* Reads a verdict saved by sn_vantage_print (either form); err names file and line. */
sn_status_t sn_vantage_load(const char *path, sn_vantage_t *out, sn_error_t *err);

/* Compact one-field form for results rows: "mapping=...;filtering=...;udp=...;tcp=...". */
void sn_vantage_format(const sn_vantage_t *v, char *buf, size_t cap);

#endif
