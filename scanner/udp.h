/*
 * scanner/udp.h: the pieces of the UDP transport (udp.c) that are reachable
 * outside it. Both are pure, so that tests and the fuzz harness
 * (tests/fuzz/fuzz_icmp.c) can reach them without an engine, a loop or a
 * socket: the decoder of what a socket's error queue holds (ICMP errors and
 * the kernel's transmit stamps), and the ring that ties a transmit stamp to
 * the datagram it belongs to. The transport itself is reached only through
 * its ops table (scanner/transport.h, sn_transport_udp).
 */
#ifndef SN_SCANNER_UDP_H
#define SN_SCANNER_UDP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/outcome.h"

/* What one error-queue message is. */
typedef enum sn_udp_errq_kind {
    SN_UDP_ERRQ_NONE =
        0,            /* nothing we use: a stamp of another kind, an ICMP error that is no answer */
    SN_UDP_ERRQ_ICMP, /* an ICMP error that answers a probe */
    SN_UDP_ERRQ_TXSTAMP /* the kernel's software transmit stamp of one of our datagrams */
} sn_udp_errq_kind_t;

typedef struct sn_udp_errq {
    sn_udp_errq_kind_t kind;
    sn_outcome_t outcome; /* ICMP: closed (port unreachable) or unreachable (net/host/admin) */
    sn_addr_t to;         /* ICMP: the destination of the datagram that drew it */
    uint32_t key;         /* TXSTAMP: the datagram's SOF_TIMESTAMPING_OPT_ID number */
    uint64_t tx_ns;       /* TXSTAMP: when the datagram left, CLOCK_REALTIME nanoseconds */
} sn_udp_errq_t;

/*
 * Decodes one message read from a UDP socket's error queue (MSG_ERRQUEUE).
 * An IP_RECVERR/IPV6_RECVERR record of ICMP origin that is an answer gives
 * SN_UDP_ERRQ_ICMP with out->outcome and out->to (msg_name: the destination
 * of the datagram that drew it); one of timestamping origin for a software
 * transmit stamp (SCM_TSTAMP_SND), with the SCM_TIMESTAMPING record beside
 * it, gives SN_UDP_ERRQ_TXSTAMP with out->key (ee_data) and out->tx_ns
 * (ts[0]). The first record that is either decides. Pure: reads only m and
 * checks every length, so a fuzzer can feed it any bytes. SN_UDP_ERRQ_NONE
 * (out->kind too) when nothing in m is either.
 */
sn_udp_errq_kind_t sn_udp_errq_decode(const struct msghdr *m, sn_udp_errq_t *out);

/*
 * The ring of datagrams sent and not yet stamped, one per socket, indexed by
 * the datagram's OPT_ID number modulo its size. Each entry names the attempt
 * (the job, and its generation and seq as a tag) and the user-space stamp
 * the datagram was sent with, the clock read before the sendmmsg call that
 * carried it: no kernel stamp of that datagram can be earlier.
 */
#define SN_UDP_TXRING 4096 /* a power of two; datagrams that may wait for their stamp */

typedef struct sn_udp_txent {
    uint32_t key;     /* the datagram's OPT_ID number */
    uint32_t job;     /* the engine's job index */
    uint32_t tag;     /* the attempt: the job's generation << 8 | its seq */
    bool used;        /* holds a datagram whose stamp has not come */
    uint64_t user_ns; /* CLOCK_REALTIME read before the call that sent it */
} sn_udp_txent_t;

typedef struct sn_udp_txring {
    sn_udp_txent_t v[SN_UDP_TXRING];
} sn_udp_txring_t;

/* Records a datagram sent with number key (it replaces what was in its slot). */
void sn_udp_txring_put(sn_udp_txring_t *r, uint32_t key, uint32_t job, uint32_t tag,
                       uint64_t user_ns);

/*
 * The datagram a transmit stamp (key, tx_ns) belongs to: true, *out its
 * entry, taken off the ring, when key's slot holds that very key and tx_ns is
 * not before the datagram's user-space stamp. False for a key never put, put
 * over since (the ring wrapped), already stamped, or a stamp that cannot be
 * this datagram's because it is older than the datagram; the entry then
 * stays as it was. A stamp thus never makes a send time earlier than the
 * user-space one it replaces.
 */
bool sn_udp_txring_take(sn_udp_txring_t *r, uint32_t key, uint64_t tx_ns, sn_udp_txent_t *out);

/* Forgets every datagram (the kernel's numbering restarts). */
void sn_udp_txring_clear(sn_udp_txring_t *r);

#endif
