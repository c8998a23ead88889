/*
 * This machine's addresses (see ifaddr.h). The interface list is read afresh
 * at every call: it is asked once per report, and addresses come and go.
 */
#include "lib/ifaddr.h"

#include <ifaddrs.h>
#include <string.h>
#include <sys/socket.h>

int sn_ifaddr_is_local(const sn_addr_t *ip)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    if (ip == NULL)
        return 0;
    if (ip->family == AF_INET && ip->ip[0] == 127)
        return 1;
    if (ip->family == AF_INET6 && memcmp(ip->ip, v6_loopback, 16) == 0)
        return 1;
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return -1;
    int found = 0;
    for (const struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next) {
        sn_addr_t a;
        if (i->ifa_addr != NULL &&
            (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6) &&
            sn_addr_from_sockaddr(i->ifa_addr, &a) == SN_OK && sn_addr_same_ip(&a, ip))
            found = 1;
    }
    freeifaddrs(list);
    return found;
}
