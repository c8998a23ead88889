/*
 * The scan engine: runs a probe plan over a list of targets on one libuv loop.
 *
 * What it does, in one place: pacing (a token bucket, probes sent in batches
 * per wake-up), the in-flight table (one job per target being probed, a fixed
 * pool allocated once), deadlines (one FIFO per transport: timeouts are equal
 * for every attempt, so sending order is deadline order and no per-probe timer
 * is needed), retries with the same token, TCP fallback ports, and reply
 * matching (UDP: by remote address and port through a hash table, and by the
 * token for replies from another port). It knows probes only through
 * sn_probe_t and hands each finished target to the caller's callback.
 *
 * Transports (udp.c, tcp.c) sit behind one ops table and one upcall
 * (scanner/transport.h); the retry and fallback policy is the engine's alone,
 * and time is read through an injected clock (scanner/clock.h), so the engine
 * runs in tests against a fake transport on a clock the test moves. The real
 * transports work on raw non-blocking sockets watched by the loop, because
 * the engine needs what libuv does not expose: sendmmsg and recvmmsg batches,
 * kernel transmit and receive timestamps (SO_TIMESTAMPING), the ICMP error
 * queue (IP_RECVERR), TCP_INFO and SO_LINGER 0.
 */
#ifndef SN_ENGINE_H
#define SN_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "data/targets.h"
#include "probes/probe.h"
#include "data/result.h"
#include "lib/status.h"
#include "scanner/clock.h"

struct sn_transport_ops; /* scanner/transport.h */

#define SN_MAX_FALLBACK_PORTS 4

typedef void (*sn_result_fn)(void *ud, const sn_result_t *r);

typedef struct sn_engine_cfg {
    const sn_probe_t *udp_probe; /* NULL: no UDP probe in the plan */
    const sn_probe_t *tcp_probe; /* NULL: no TCP probe in the plan */
    double rate;                 /* probes (sends) per second; 0 = no limit */
    uint32_t max_inflight;       /* targets being probed at once */
    uint32_t timeout_ms;         /* per attempt */
    bool fixed_timeout;          /* TCP: no shorter timeout learned from the answers */
    uint32_t retries;            /* further attempts per port after a timeout */
    uint16_t fallback_ports[SN_MAX_FALLBACK_PORTS];
    unsigned n_fallback;
    uint64_t seed;          /* token randomness */
    sn_result_fn on_result; /* called once per target, as it finishes */
    void *ud;
    /* Injected for tests; NULL: the kernel's clocks and the UDP and TCP transports. */
    const sn_clock_t *clock;
    const struct sn_transport_ops *udp_transport;
    const struct sn_transport_ops *tcp_transport;
} sn_engine_cfg_t;

/* Counters for the progress line and the summary. */
typedef struct sn_engine_stats {
    uint64_t targets_total;
    uint64_t targets_started;
    uint64_t targets_done;
    uint64_t sent;         /* attempts sent, both transports */
    uint64_t replies;      /* matched UDP replies and completed handshakes */
    uint64_t late;         /* replies that matched no outstanding probe */
    uint64_t icmp;         /* ICMP errors received */
    uint64_t backpressure; /* EMFILE/ENOBUFS/EAGAIN waits */
    uint64_t tx_stamped;   /* UDP sends timed by the kernel's transmit stamp (0: user-space) */
    uint32_t inflight;     /* targets in flight now */
    uint32_t tcp_cap;      /* TCP connections allowed at once */
    /* The TCP timeout at the last deadline check: learned, or --timeout (scanner/rto.h). */
    uint32_t tcp_timeout_ms;
} sn_engine_stats_t;

typedef struct sn_engine sn_engine_t;

/*
 * The open-file limit a scan needs: the loop, the UDP sockets, DNS, the
 * output files and a minimum of TCP connections in flight.
 */
#define SN_ENGINE_MIN_NOFILE 64

/*
 * Checks, before anything is created, that the process may open enough
 * files for a scan (raising the soft limit to the hard one first). Returns
 * SN_OK, or SN_ELIMIT with err naming the limit and the one needed.
 */
sn_status_t sn_engine_check_fds(sn_error_t *err);

/*
 * Creates an engine on loop for cfg. Raises RLIMIT_NOFILE's soft limit to the
 * hard limit and sizes TCP concurrency under it. Returns SN_OK or an error in
 * err (an invalid plan, no socket).
 */
sn_status_t sn_engine_new(uv_loop_t *loop, const sn_engine_cfg_t *cfg, sn_engine_t **out,
                          sn_error_t *err);

/*
 * Starts probing targets[order[i]] for i in 0..n-1 (order may be NULL: all of
 * the set in order). The engine keeps pointers into ts and order until it is
 * done. on_result fires once per target; when the last has fired, `done`
 * fires once (may be NULL).
 */
sn_status_t sn_engine_start(sn_engine_t *e, const sn_targets_t *ts, const uint32_t *order, size_t n,
                            void (*done)(void *ud), sn_error_t *err);

/*
 * Stops sending (SIGINT): no new target starts, no retry or fallback port is
 * sent; probes in flight get their timeout, then every started target is
 * reported. A second call finishes every started target at once. A probe
 * whose attempts, retries or fallback ports were not all made (or whose last
 * attempt was cut before its timeout) is reported SN_OUTCOME_INCOMPLETE,
 * never filtered: silence is only filtered after every attempt timed out.
 */
void sn_engine_stop(sn_engine_t *e);

/*
 * Pauses starting new targets (targets in flight go on), or resumes. The scan
 * pauses while too many results wait for their reverse lookups.
 */
void sn_engine_pause(sn_engine_t *e, bool paused);

void sn_engine_get_stats(const sn_engine_t *e, sn_engine_stats_t *st);

/* Closes the engine's handles; memory is freed once the loop has run. Accepts NULL. */
void sn_engine_free(sn_engine_t *e);

#endif
