/*
 * A swarm population: the emulated super-node network the demo, the tests and
 * the benchmark scan. One CSV row per node, with a header:
 *
 *   address,port,behaviour,delay_ms,loss
 *   127.1.0.5,40123,alive,0,0
 *
 * address is in 127.0.0.0/8 or ::1 (the swarm serves loopback only; the
 * network-namespace lab also uses the documentation ranges 192.0.2.0/24,
 * 198.51.100.0/24 and 203.0.113.0/24, accepted only when SN_SWARM_ALLOW_DOC=1
 * is set and the process runs inside a namespace made by `ip netns add`); delay_ms
 * delays UDP replies; loss is the probability (0..1) that a UDP reply is lost.
 * Further columns are ignored, so that a generated population can carry its
 * own ground truth (for example seen_count) for later stages.
 *
 * Behaviours, and what a scan with the default plan (skype,tcp, fallback
 * 443,80) must report for them (sn_population_expect):
 *
 *   alive         UDP replies, TCP accepts          udp alive,    tcp alive on own port
 *   udp-only      UDP replies, TCP silent           udp alive,    tcp filtered
 *   tcp-only      UDP silent,  TCP accepts          udp filtered, tcp alive on own port
 *   tcp-443-only  UDP silent,  TCP only on 443      udp filtered, tcp alive on 443
 *   tcp-80-only   UDP silent,  TCP only on 80       udp filtered, tcp alive on 80
 *   dead          silent everywhere                 udp filtered, tcp filtered
 *   closed        ICMP port unreachable, TCP RST    udp closed,   tcp closed
 *   nat           UDP reply from another port,      udp alive (reply_from set), tcp alive
 *                 TCP accepts
 *
 * Realisability (checked by sn_population_check): a `closed` node needs a port
 * no other node uses, since the kernel answers for the whole port; nodes on
 * ports 443 and 80 are not allowed (those ports serve the fallback cases); a
 * tcp-443-only or tcp-80-only node needs an address no other node uses (the
 * swarm answers 443/80 per address); no (address, port) appears twice.
 */
#ifndef SN_POPULATION_H
#define SN_POPULATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/probe.h"
#include "lib/status.h"
#include "lib/addr.h"

typedef enum sn_behaviour {
    SN_BEH_ALIVE = 0,
    SN_BEH_UDP_ONLY,
    SN_BEH_TCP_ONLY,
    SN_BEH_TCP_443_ONLY,
    SN_BEH_TCP_80_ONLY,
    SN_BEH_DEAD,
    SN_BEH_CLOSED,
    SN_BEH_NAT,
    SN_BEH_COUNT_
} sn_behaviour_t;

/* Largest delay_ms a population may carry (one minute). */
#define SN_POP_MAX_DELAY_MS 60000u

typedef struct sn_node {
    sn_addr_t addr;
    uint8_t behaviour; /* sn_behaviour_t */
    uint32_t delay_ms; /* UDP reply delay */
    float loss;        /* UDP reply loss probability */
} sn_node_t;

typedef struct sn_population {
    sn_node_t *nodes;
    size_t count;
} sn_population_t;

/* "alive", "udp-only", ...; NULL for an out-of-range value. */
const char *sn_behaviour_name(sn_behaviour_t b);
sn_status_t sn_behaviour_parse(const char *s, sn_behaviour_t *out);

/* Reads a population CSV; bad rows are errors naming file and line. */
sn_status_t sn_population_load(const char *path, sn_population_t *pop, sn_error_t *err);
void sn_population_free(sn_population_t *pop); /* frees nodes; accepts zeroed */

/* Checks realisability (see above); err names the first offending node. */
sn_status_t sn_population_check(const sn_population_t *pop, sn_error_t *err);

/* What a scan with the default plan must report for node n (see the table). */
typedef struct sn_expect {
    sn_outcome_t udp;
    sn_outcome_t tcp;
    uint16_t tcp_port; /* port that answers, or the node's own port */
    bool reply_other_port;
} sn_expect_t;
sn_expect_t sn_population_expect(const sn_node_t *n);

/* Parameters of a generated population (demo, tests, benchmark). */
typedef struct sn_popgen {
    size_t count;
    uint64_t seed;
    double dead_share; /* silent everywhere */
    double tcp_only_share;
    double udp_only_share;
    double closed_share;
    double tcp443_share;
    double tcp80_share;
    double nat_share;
    uint16_t one_port; /* nonzero: every node on this port (the peers' case) */
    uint32_t delay_ms; /* applied to every UDP-answering node */
} sn_popgen_t;

/* Most nodes a generated population may have. */
#define SN_POPGEN_MAX_COUNT 4000000u
/*
 * Most distinct ports the non-closed nodes of a generated population use: the
 * swarm needs a UDP socket and a TCP listener per port, and 2 x 6000 fits
 * well under a 20,000 open-file limit. Closed nodes take ports of their own
 * beyond these (they cost no descriptor: the kernel answers for them).
 */
#define SN_POPGEN_MAX_PORTS 6000u

/*
 * Generates a realisable population: distinct addresses spread over
 * 127.1.0.1..127.254.255.254 (never 127.0.0.1), random ports in 1024..32767
 * and 61000..65535 (outside Linux's default ephemeral range, so that they do
 * not collide with the host's outgoing connections) drawn from a pool of at
 * most SN_POPGEN_MAX_PORTS (or one_port), closed nodes on ports of their own. The accepting nodes
 * of each port, and the tcp-443-only and tcp-80-only nodes, get addresses in a few contiguous runs,
 * so that the swarm's per-port filters stay small for any count. Rows come in
 * random order. Deterministic for a given seed. Shares are floored; alive
 * takes the rest. SN_EINVAL for bad shares, one_port 80/443, or one_port with
 * a closed share; SN_ELIMIT when the closed nodes cannot have ports of their own.
 */
sn_status_t sn_population_generate(const sn_popgen_t *gen, sn_population_t *pop, sn_error_t *err);

/* Writes pop as a population CSV (header included). */
sn_status_t sn_population_write(const sn_population_t *pop, const char *path, sn_error_t *err);

#endif
