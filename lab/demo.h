/*
 * `snprobe demo`, the embedded default, and the population tools it shares
 * with `snprobe population`: a generated super-node network on loopback,
 * served by `snprobe swarm` in a child process, scanned, and summarised.
 */
#ifndef SN_DEMO_H
#define SN_DEMO_H

#include <stdbool.h>

#include "lab/population.h"
#include "lib/status.h"

/* The demo's behaviour shares, drawn from the studies' seed figures. */
void sn_demo_default_mix(sn_popgen_t *gen);

/* Parses "dead=0.25,tcp-only=0.05" into gen's shares (the rest stays alive). */
sn_status_t sn_demo_parse_mix(const char *mix, sn_popgen_t *gen, sn_error_t *err);

typedef struct sn_demo_cfg {
    const char *out_dir;
    const char *self_exe; /* path of the snprobe binary, to start the swarm */
    unsigned count;
    unsigned nights; /* nights scanned into out_dir/history.db (at least 1) */
    uint64_t seed;
    bool progress, quiet;
    /* The scan's settings, the command line's defaults (cli/cmd_demo.c fills them from
       the option table, so that the demo scans as `snprobe scan` would): */
    const char *probes;         /* probe plan, "skype,tcp" */
    const char *fallback_ports; /* "443,80" */
    const char *plan;           /* the plan as the history records it */
    unsigned timeout_ms, retries, dns_timeout_ms, dns_inflight;
} sn_demo_cfg_t;

sn_status_t sn_demo_run(const sn_demo_cfg_t *cfg, sn_error_t *err);

#endif
