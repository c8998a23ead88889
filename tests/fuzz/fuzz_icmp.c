/*
 * Fuzz harness for the decoding of kernel ICMP errors (IP_RECVERR / IPV6_RECVERR records
 * read from a UDP socket's error queue, sn_udp_icmp_decode). The first byte splits the
 * input: a destination sockaddr of that many bytes (mod 129), then the control buffer.
 * Whatever the records claim, the decoder reads inside the buffer and gives a known
 * outcome and an address when it answers.
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
    sn_outcome_t o = SN_OUTCOME_NONE;
    sn_addr_t to;
    if (sn_udp_icmp_decode(&m, &o, &to) && o != SN_OUTCOME_CLOSED && o != SN_OUTCOME_UNREACHABLE)
        abort();
    free(name);
    free(ctl);
    return 0;
}
