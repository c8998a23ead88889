/*
 * Fuzz harness for the decoding of what a UDP socket's error queue holds (sn_udp_errq_decode):
 * kernel ICMP errors (IP_RECVERR / IPV6_RECVERR records) and transmit stamps (a record of
 * timestamping origin beside SCM_TIMESTAMPING). The first byte splits the input: a
 * destination sockaddr of that many bytes (mod 129), then the control buffer. Whatever the
 * records claim, the decoder reads inside the buffer, gives a known outcome and an address
 * when an ICMP error answers, and a stamp only with a time it could stand for.
 */
#include <stdlib.h>
#include <string.h>

#include "scanner/udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t namelen = data[0] % 129;
    data++;
    size--;
    if (namelen > size)
        namelen = size;
    /* Exact-size copies so that ASan sees any read past either buffer. */
    uint8_t *name = namelen > 0 ? malloc(namelen) : NULL;
    size_t ctllen = size - namelen;
    struct cmsghdr *ctl = ctllen > 0 ? malloc(ctllen) : NULL; /* malloc aligns for cmsghdr */
    if ((namelen > 0 && name == NULL) || (ctllen > 0 && ctl == NULL)) {
        free(name);
        free(ctl);
        return 0;
    }
    if (namelen > 0)
        memcpy(name, data, namelen);
    if (ctllen > 0)
        memcpy(ctl, data + namelen, ctllen);
    struct msghdr m = {.msg_name = name,
                       .msg_namelen = (socklen_t)namelen,
                       .msg_control = ctl,
                       .msg_controllen = ctllen};
    sn_udp_errq_t ev;
    sn_udp_errq_kind_t k = sn_udp_errq_decode(&m, &ev);
    if (k != ev.kind)
        abort();
    if (k == SN_UDP_ERRQ_ICMP && ev.outcome != SN_OUTCOME_CLOSED &&
        ev.outcome != SN_OUTCOME_UNREACHABLE)
        abort();
    if (k == SN_UDP_ERRQ_TXSTAMP && ev.tx_ns == 0)
        abort();
    free(name);
    free(ctl);
    return 0;
}
