/*
 * The swarm: an emulated super-node network on loopback, built from a
 * population (data/population.h), for the demo, the tests and the benchmark.
 *
 * The kernel answers TCP (and ICMP for UDP) for a whole port, not for an
 * address, so the swarm works per port: one UDP socket per distinct port
 * (bound to 0.0.0.0 and, for ::1 nodes, [::] with IPV6_V6ONLY) that learns the
 * address asked through IP_PKTINFO and answers from that same address; one TCP
 * listener per port, whose classic BPF socket filter lets through only SYNs to
 * the accepting nodes' addresses (a SYN the filter drops gets no answer at
 * all, which is how a silent node looks). A closed node has its port to
 * itself and the swarm opens nothing there, so the kernel sends ICMP port
 * unreachable and RST. tcp-443-only and tcp-80-only nodes are served by one
 * listener on 0.0.0.0:443 / 0.0.0.0:80 (root needed) with the same kind of
 * filter; other addresses are silent on those ports while such nodes exist,
 * and get RST from the kernel otherwise.
 *
 * UDP answers come from the probe registry: each datagram is offered to every
 * registered UDP probe's `answer` in turn, until one returns a reply; the swarm
 * knows no probe by name. Sockets are raw non-blocking descriptors watched by
 * uv_poll_t on the caller's loop; datagrams are read with recvmmsg and answered
 * with sendmmsg in batches. Delayed replies wait in a heap and leave on a
 * timerfd armed to the microsecond, so a 50 ms delay measures as 50 ms.
 */
#ifndef SN_SWARM_H
#define SN_SWARM_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lab/population.h"
#include "lib/status.h"

typedef struct sn_swarm sn_swarm_t;

typedef struct sn_swarm_opts {
    uint64_t seed;  /* seeds the loss draws (deterministic per arrival order) */
    int udp_rcvbuf; /* bytes per UDP socket; 0: chosen from the number of ports */
} sn_swarm_opts_t;

typedef struct sn_swarm_stats {
    size_t nodes;          /* nodes served */
    size_t ports;          /* distinct node ports (including closed nodes' ports) */
    size_t sockets;        /* descriptors the swarm holds open */
    uint64_t udp_requests; /* datagrams received */
    uint64_t udp_replies;  /* replies sent, at once or after a delay */
    uint64_t udp_lost;     /* replies dropped by a node's loss probability */
    uint64_t udp_delayed;  /* replies queued for a node's delay */
    uint64_t udp_silent;   /* datagrams not answered: silent node, no node, no probe matched */
    uint64_t udp_errors;   /* replies that could not be sent (or queued) */
    uint64_t tcp_accepted; /* connections accepted (and closed at once) */
} sn_swarm_stats_t;

/*
 * Checks pop (sn_population_check), raises the open-file soft limit to the
 * hard limit, binds every socket and starts watching them on loop. On success
 * every socket is bound and listening when this returns (the swarm is ready),
 * *out is set, and pop may be freed: the swarm keeps its own compact table
 * (about 32 bytes per node). opts may be NULL (seed 0, default buffers).
 *
 * Fails without leaving anything open with: SN_EINVAL (unrealisable
 * population), SN_ELIMIT (more descriptors than the open-file limit allows, or
 * a port whose filter would exceed 4096 BPF instructions; the message names
 * the port), SN_ESYS (a socket call failed, e.g. a port in use, or port
 * 443/80 without root; the message names the port and the reason), SN_ENOMEM.
 * If a failure happens after handles were registered with loop, they are
 * closed and free themselves when the loop next runs.
 */
sn_status_t sn_swarm_start(uv_loop_t *loop, const sn_population_t *pop, const sn_swarm_opts_t *opts,
                           sn_swarm_t **out, sn_error_t *err);

/*
 * Stops serving: closes every handle and descriptor. Memory is freed in the
 * close callbacks, so the loop must run once more (uv_run returns when done).
 * s must not be used after this call (read the stats before it): the close
 * callbacks run at the end of the current loop iteration and free s.
 * Replies still waiting for their delay are dropped. Accepts NULL.
 */
void sn_swarm_stop(sn_swarm_t *s);

/* Copies the counters so far into *st. */
void sn_swarm_get_stats(const sn_swarm_t *s, sn_swarm_stats_t *st);

#endif
