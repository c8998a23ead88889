/*
 * Engine internals: the job pool, the ready rings and the engine struct, for
 * engine.c alone. The transports do not see them: they meet the engine through
 * scanner/transport.h (one ops table, one upcall).
 */
#ifndef SN_ENGINE_INT_H
#define SN_ENGINE_INT_H

#include "scanner/engine.h"
#include "scanner/pace.h"
#include "scanner/transport.h"

#include "lib/rng.h"

#define PUMP_MAX 1024     /* sends per wake-up before the loop polls again */
#define PREFETCH_AHEAD 16 /* targets: how far ahead start_target loads the next ones */

/* The two transports of a plan, as indexes into the engine's tables. */
enum { T_UDP = 0, T_TCP = 1, T_COUNT = 2 };

/* One target being probed. Slots live in a pool allocated once. */
typedef struct job {
    uint64_t token; /* this target's probe token, kept across retries */
    uint32_t gen;   /* bumped whenever the slot is freed, to spot stale upcalls */
    uint32_t next_free;
    uint16_t udp_port; /* where the UDP request goes */
    uint8_t active;
    uint8_t pending;      /* transports not finished */
    uint8_t udp_seq;      /* UDP sends made */
    uint8_t udp_first;    /* outcome of the UDP attempts (UDP has no fallback ports) */
    uint8_t tcp_port_idx; /* 0: own port; i: fallback_ports[i-1] */
    uint8_t tcp_tries;    /* attempts on the current TCP port */
    uint8_t tcp_first;    /* outcome on the own port, kept when fallbacks fail too */
    sn_result_t res;      /* its field values, if any, point into the engine's side array */
} job_t;

/*
 * A ring of jobs waiting for a token to send, each entry with the job's
 * generation: a job can finish while its retry waits here (a late reply), and
 * its slot can be reused before the entry comes up, so a stale entry is
 * skipped rather than sent. Stale entries make the length unbounded: it grows.
 */
typedef struct jentry {
    uint32_t job;
    uint32_t gen;
} jentry_t;

typedef struct jring {
    jentry_t *v;
    size_t cap, head, len;
} jring_t;

/* A transport of the plan: its ops, its state, and its probe. */
typedef struct tport {
    const sn_transport_ops_t *ops; /* NULL: not in the plan */
    void *state;
} tport_t;

struct sn_engine {
    uv_loop_t *loop;
    sn_engine_cfg_t cfg;
    const sn_clock_t *clock;
    const sn_targets_t *ts;
    const uint32_t *order;
    size_t n_targets, next_target;
    void (*done)(void *ud);
    int stopping; /* 0 running, 1 draining, 2 finishing now */
    bool paused;  /* no new targets for now (back-pressure from later stages) */
    int started;
    int closing;
    int handles_open;
    sn_engine_stats_t st;
    sn_rng_t rng; /* the tokens' random bits, from cfg.seed */

    /* jobs */
    job_t *jobs;
    sn_field_values_t *values; /* 2 a job (UDP, TCP), or NULL: no probe declares fields */
    uint32_t n_jobs, free_job, idx_bits;
    jring_t udp_ready, tcp_ready;

    /* pacing and timing */
    sn_pace_t pace;
    uv_timer_t timer;
    uv_idle_t idle;
    int idle_on;

    tport_t tp[T_COUNT];
};

#endif
