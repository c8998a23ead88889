/*
 * Whether an address is one of this machine's: the statistics ask it of the
 * address the nodes saw us at, to tell a direct vantage from one behind a NAT.
 * Loopback counts as local without asking the kernel (all of 127/8 and ::1,
 * where the swarm emulator plays its nodes); anything else is compared with
 * the interfaces' addresses (getifaddrs).
 */
#ifndef SN_IFADDR_H
#define SN_IFADDR_H

#include "lib/addr.h"

/*
 * 1 when ip (port ignored) is a loopback address or an address of one of this
 * machine's interfaces, 0 when it is not, -1 when the interfaces cannot be
 * listed (getifaddrs failed) and ip is not loopback.
 */
int sn_ifaddr_is_local(const sn_addr_t *ip);

#endif
