/*
 * Fuzz harness for the Skype UDP probe: parse (the scanner's side, fed
 * whatever arrives on the socket) and answer (the swarm's side, fed whatever
 * a client sends). Beyond "does not crash" it checks the module's promises:
 * parse accepts only 11-byte NAT-info messages, answer replies only to
 * 18-byte first messages, and every answer parses back to the request's id.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "probes/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const sn_probe_t *p = sn_probe_find("skype");
    if (p == NULL)
        __builtin_trap();

    sn_probe_reply_t r;
    memset(&r, 0, sizeof r);
    int ok = p->parse(data, size, &r);
    if (ok != 0 && ok != 1)
        __builtin_trap();
    if (ok == 1 && (size != 11 || r.token > 0xFFFFu))
        __builtin_trap();

    sn_answer_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    sn_addr_set_v4(&ctx.requester, 0x7F000001u, 40000);
    sn_addr_set_v4(&ctx.node, 0x7F000002u, 33033);
    uint8_t out[64];
    int n = p->answer(data, size, &ctx, out, sizeof out);
    if (n == 0)
        return 0;
    if (n != 11 || size != 18)
        __builtin_trap();
    memset(&r, 0, sizeof r);
    if (p->parse(out, (size_t)n, &r) != 1 || r.token != ((uint64_t)data[0] << 8 | data[1]) ||
        !sn_addr_same_ip(&r.observed, &ctx.requester) ||
        memcmp(out + 7, (const uint8_t[]){127, 0, 0, 2}, 4) != 0) /* the node's own address */
        __builtin_trap();
    return 0;
}
