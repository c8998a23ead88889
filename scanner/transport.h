/*
 * The seam between the engine and a transport (udp.c, tcp.c, a test's fake).
 *
 * A transport is one `const` ops table. The engine owns the jobs, the retry
 * and fallback policy and the result; a transport owns its sockets, its own
 * record of what it has in flight and its deadlines. It learns of an attempt
 * only through `send` (where to, which token, which job and generation), and
 * tells the engine what became of it through one upcall, `attempt_done`; it
 * never reads or writes the engine's jobs. The engine ignores an upcall for a
 * job that has since finished (the generation tells), so a transport may be
 * late without harm.
 */
#ifndef SN_TRANSPORT_H
#define SN_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "data/result.h"
#include "lib/addr.h"
#include "lib/status.h"
#include "probes/probe.h"
#include "scanner/clock.h"
#include "scanner/engine.h"

/* One attempt, as the engine asks for it. */
typedef struct sn_attempt {
    uint32_t job;   /* the engine's job index (< n_jobs) */
    uint32_t gen;   /* the job's generation: echoed in the upcall */
    uint8_t seq;    /* attempts made on this transport before this one */
    sn_addr_t dst;  /* address and port (the engine chose the port) */
    uint64_t token; /* the probe token, the same on every retry */
} sn_attempt_t;

/* What became of an attempt. */
typedef struct sn_attempt_end {
    uint32_t job, gen; /* as in the attempt */
    sn_transport_t transport;
    sn_outcome_t outcome;            /* ALIVE, CLOSED, UNREACHABLE, FILTERED (timed out), ERROR */
    uint32_t rtt_us;                 /* ALIVE: the round-trip time */
    uint16_t port;                   /* ALIVE over TCP: the port that answered */
    sn_addr_t from;                  /* set only when the reply came from another IP or port */
    sn_addr_t observed;              /* our address as the node saw it (family 0: not said) */
    const sn_field_values_t *values; /* ALIVE: the probe's declared fields, or NULL */
} sn_attempt_end_t;

/*
 * The one upcall. end != NULL: an attempt ended; the engine applies its policy
 * (a retry, a fallback port, or the probe's outcome) and may call `send` or
 * `cancel` of the same transport from inside. end == NULL: the transport has
 * handled an I/O batch and the engine may send again.
 */
typedef void (*sn_attempt_done_fn)(void *engine, const sn_attempt_end_t *end);

/* What a transport is given at init. */
typedef struct sn_transport_env {
    uv_loop_t *loop;
    const sn_probe_t *probe;
    const sn_clock_t *clock;
    uint32_t n_jobs;       /* job indexes are below this */
    unsigned idx_bits;     /* low token bits that are the job index */
    uint64_t timeout_ns;   /* per attempt */
    bool fixed_timeout;    /* TCP: wait timeout_ns always, learn no shorter one (scanner/rto.h) */
    uint32_t max_conns;    /* connection-oriented transports: at most this many at once */
    sn_engine_stats_t *st; /* the transport's counters: late, icmp, tx_stamped, backpressure... */
    sn_attempt_done_fn done;
    /* Optional: the engine starts loading job j's state (stage 0) or, once that has had time
     * to arrive, its target (stage 1), for answers the transport is about to report. */
    void (*prefetch)(void *engine, uint32_t j, int stage);
    void *engine; /* the upcall's first argument */
    /* Closing is asynchronous: the transport calls closed(engine) once per handle it
     * told of in *handles at init, from the handle's close callback. */
    void (*closed)(void *engine);
    /* UDP: how a datagram's send time is taken (SN_TXSTAMP_*; the engine leaves it
     * 0, the kernel's transmit stamps when it gives them; tests choose). */
    int tx_stamps;
} sn_transport_env_t;

/* Values of sn_transport_env_t.tx_stamps. */
/* SN_TXSTAMP_AUTO: numbered by SCM_TS_OPT_ID, 1 in 8 datagrams of a long sendmmsg stamped
 * (scanner/udp.c), else by the socket's counter, every datagram stamped. */
#define SN_TXSTAMP_AUTO 0
#define SN_TXSTAMP_COUNTER 1 /* numbered by the socket's counter only (kernels before 6.13) */
#define SN_TXSTAMP_OFF 2     /* the user-space clock read before each sendmmsg */
#define SN_TXSTAMP_EVERY 3   /* numbered by SCM_TS_OPT_ID, every datagram stamped */

/* Return values of send besides 0 (the attempt is made and counted). */
#define SN_SEND_LATER 1     /* back-pressure: nothing was done, ask again later */
#define SN_SEND_FAILED (-1) /* the attempt cannot be made at all (a local error) */

typedef struct sn_transport_ops {
    const char *name;
    sn_transport_t transport;
    /* Creates the state; *handles is the number of libuv handles it opened. */
    sn_status_t (*init)(const sn_transport_env_t *env, void **state, int *handles, sn_error_t *err);
    /* Makes an attempt: 0, SN_SEND_LATER or SN_SEND_FAILED. May make upcalls for
     * other jobs (and, having returned 0, for this one) from inside. */
    int (*send)(void *state, const sn_attempt_t *a);
    /* Can a send to dst (NULL: to anywhere) be taken now? No when a full batch
     * waits on the kernel, or every connection slot is taken. */
    bool (*ready)(const void *state, const sn_addr_t *dst);
    /* Sends what is batched; NULL when nothing is. */
    void (*flush)(void *state);
    /* Reports every attempt whose deadline is at or before now_ns as FILTERED,
     * after reading what has arrived. UINT64_MAX / 2 ends every attempt. */
    void (*expire)(void *state, uint64_t now_ns);
    /* The earliest deadline (monotonic ns), UINT64_MAX when none: the engine's timer. */
    uint64_t (*next_deadline)(const void *state);
    /* Optional: a send for job (UINT32_MAX: none named) or to dst (NULL: none) comes soon:
     * start loading what it will touch. */
    void (*prefetch)(const void *state, uint32_t job, const sn_addr_t *dst);
    /* The engine has ended this job's probe: forget it (late replies are late). */
    void (*cancel)(void *state, uint32_t job);
    /* Closes the handles (asynchronously, see env.closed) and frees the state. */
    void (*close)(void *state);
} sn_transport_ops_t;

extern const sn_transport_ops_t sn_transport_udp;
extern const sn_transport_ops_t sn_transport_tcp;

/* ---- a FIFO of deadlines, shared by the transports ---- */

/* A deadline: the id of what may time out, the generation it had, and when. */
typedef struct sn_deadline {
    uint32_t id;
    uint32_t gen;
    uint64_t at_ns;
} sn_deadline_t;

/* Pushes come in time order (every attempt has the same timeout). */
typedef struct sn_dlq {
    sn_deadline_t *v;
    size_t cap, head, len;
} sn_dlq_t;

/* Appends a deadline. Returns 0, or -1 out of memory (nothing appended). */
static inline int sn_dlq_push(sn_dlq_t *q, uint32_t id, uint32_t gen, uint64_t at_ns)
{
    if (q->len == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 4096;
        sn_deadline_t *nv = malloc(ncap * sizeof *nv);
        if (nv == NULL)
            return -1;
        for (size_t i = 0; i < q->len; i++)
            nv[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = nv;
        q->cap = ncap;
        q->head = 0;
    }
    q->v[(q->head + q->len) % q->cap] = (sn_deadline_t){id, gen, at_ns};
    q->len++;
    return 0;
}

/* True when the earliest deadline is due by now (then *d is it, taken off). */
static inline bool sn_dlq_pop_due(sn_dlq_t *q, uint64_t now, sn_deadline_t *d)
{
    if (q->len == 0 || q->v[q->head].at_ns > now)
        return false;
    *d = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return true;
}

static inline bool sn_dlq_due(const sn_dlq_t *q, uint64_t now)
{
    return q->len > 0 && q->v[q->head].at_ns <= now;
}

#endif
