/*
 * scanner/udp.h: the one piece of the UDP transport (udp.c) that is reachable
 * outside it, the pure decoder of ICMP errors read from a socket's error queue,
 * so that the fuzz harness (tests/fuzz/fuzz_icmp.c) can feed it any bytes
 * without an engine, a loop or a socket. The transport itself is reached only
 * through its ops table (scanner/transport.h, sn_transport_udp).
 */
#ifndef SN_SCANNER_UDP_H
#define SN_SCANNER_UDP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/outcome.h"

/*
 * Decodes one message read from a UDP socket's error queue (MSG_ERRQUEUE): the
 * first IP_RECVERR/IPV6_RECVERR record of ICMP origin that is an answer gives
 * *o (closed for port unreachable, unreachable for net/host/admin) and *to, the
 * destination of the datagram that drew it (msg_name). Pure: reads only m and
 * checks every length, so a fuzzer can feed it any bytes. False when nothing
 * in m is an answer.
 */
bool sn_udp_icmp_decode(const struct msghdr *m, sn_outcome_t *o, sn_addr_t *to);

#endif
