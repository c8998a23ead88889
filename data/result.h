/*
 * The result of one target: what every probe of the plan found. The engine
 * fills it and hands it to the sink as soon as the target is done; sinks read
 * it through the field table (reports/fields.h) and never know which probe ran.
 */
#ifndef SN_RESULT_H
#define SN_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/field.h"
#include "data/classify.h"
#include "data/geo.h"
#include "data/targets.h"
#include "lib/outcome.h"

/* The probe that ran (probes/probe.h); a result only points at it. */
typedef struct sn_probe sn_probe_t;

/* What one probe of the plan found on one target, over all its attempts. */
typedef struct sn_probe_result {
    const sn_probe_t *probe; /* NULL: this transport was not in the plan */
    uint8_t outcome;         /* sn_outcome_t of the port that decided */
    uint8_t attempts;        /* sends made, over all ports tried */
    uint16_t port;           /* port that answered, else the target's own port */
    uint32_t rtt_us;         /* round-trip time of the answering attempt; 0 if none */
    sn_addr_t observed;      /* our address as the node saw it (family 0: not said) */
    sn_addr_t reply_from;    /* set only when the reply came from another IP or port */
} sn_probe_result_t;

#define SN_PTR_TEXT_MAX 1024

/* Who the node is: reverse DNS, geography, AS, classes (scanner/enrich.c). */
typedef struct sn_enrichment {
    const char *rdns_status;   /* "ok", "nxdomain", ..., "skipped" (not looked up) */
    char ptr[SN_PTR_TEXT_MAX]; /* PTR names as received, separated by one space */
    bool ptr_valid;            /* every PTR name is a valid host name */
    bool geo_known;            /* a geo or AS database was consulted */
    sn_geo_info_t geo;
    bool class_known; /* a PTR name or an AS organisation was there to judge */
    sn_class_info_t cls;
} sn_enrichment_t;

typedef struct sn_result {
    const sn_target_t *target;
    const char *blocked; /* why the target was not probed (blocklist), else NULL */
    sn_probe_result_t udp;
    sn_probe_result_t tcp;
    const sn_enrichment_t *enrich; /* NULL: no enrichment ran */
    /* The values of the fields each probe declares (udp.probe->fields, slot i for
     * fields[i]; "": not said), or NULL when the probe declares none or said
     * nothing. They live with whoever holds the result (the engine's side array,
     * the enricher's parked copy, the results reader's row), apart from it, so
     * that a plan of probes without fields (every probe of the product) pays no
     * memory for them. */
    const sn_field_values_t *udp_values, *tcp_values;
} sn_result_t;

/* Room for a reachability class spelt out with a port number ("udp+tcp-8443"). */
typedef struct sn_reach_buf {
    char s[32];
} sn_reach_buf_t;

/*
 * Reachability class from what answered: "udp+tcp", "udp+tcp-443",
 * "udp+tcp-80", "udp-only", "tcp-only", "tcp-443-only", "tcp-80-only",
 * "none", "incomplete"; "" for a target that was not probed. A TCP answer on
 * any other port is spelt out in *buf ("tcp-8443-only"), so the returned
 * pointer is either a string constant or buf->s and lives as long as *buf;
 * the caller owns the buffer, so two classes can be held at once and no
 * thread shares one.
 */
const char *sn_result_reach_class(const sn_result_t *r, sn_reach_buf_t *buf);

/*
 * Super-node eligible: answered over UDP and over TCP on its own port, both
 * from the probed address itself (no NAT or relay in between).
 */
bool sn_result_sn_eligible(const sn_result_t *r);

#endif
