/*
 * Fuzz harness for STUN: the parser, TCP framing, and the probe's parse and
 * answer. Properties checked beyond "does not crash":
 *   - a message the parser accepts is one whole frame to sn_stun_frame_len;
 *   - a frame length is never more than the bytes given, at least a header,
 *     and a multiple of 4;
 *   - what the parser accepts, the writer writes back, and the parser reads
 *     the same fields from that (the writer and parser agree);
 *   - every answer the probe writes is a message the parser accepts.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "probes/probe.h"
#include "probes/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_fields(const sn_stun_msg_t *a, const sn_stun_msg_t *b)
{
    return a->cls == b->cls && a->method == b->method &&
           memcmp(a->txid, b->txid, sizeof a->txid) == 0 &&
           memcmp(&a->mapped, &b->mapped, sizeof a->mapped) == 0 &&
           memcmp(&a->xor_mapped, &b->xor_mapped, sizeof a->xor_mapped) == 0 &&
           memcmp(&a->response_origin, &b->response_origin, sizeof a->response_origin) == 0 &&
           memcmp(&a->other_address, &b->other_address, sizeof a->other_address) == 0 &&
           a->change_request == b->change_request && a->change_flags == b->change_flags &&
           a->error_code == b->error_code &&
           (a->error_code == 0 || strcmp(a->reason, b->reason) == 0) &&
           strcmp(a->software, b->software) == 0 &&
           a->n_unknown_attributes == b->n_unknown_attributes &&
           memcmp(a->unknown_attributes, b->unknown_attributes,
                  a->n_unknown_attributes * sizeof a->unknown_attributes[0]) == 0 &&
           a->fingerprint == b->fingerprint;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[2048];
    sn_stun_msg_t m, back;
    sn_error_t err;

    int frame = sn_stun_frame_len(data, size);
    if (frame > 0 && ((size_t)frame > size || frame < SN_STUN_HEADER_LEN || frame % 4 != 0))
        __builtin_trap();
    if (frame > 0)
        (void)sn_stun_parse(data, (size_t)frame, &m, &err);

    if (sn_stun_parse(data, size, &m, &err) == SN_OK) {
        if (frame != (int)size)
            __builtin_trap();
        /* Only an ERROR-CODE carries a reason; the writer writes it only then. */
        if (m.error_code == 0 && m.reason[0] != '\0')
            __builtin_trap();
        int n = sn_stun_write(&m, out, sizeof out);
        if (n <= 0 || sn_stun_parse(out, (size_t)n, &back, &err) != SN_OK ||
            !same_fields(&m, &back))
            __builtin_trap();
    }

    const sn_probe_t *p = sn_probe_find("stun");
    if (p == NULL)
        __builtin_trap();
    sn_probe_reply_t r;
    memset(&r, 0, sizeof r);
    int ok = p->parse(data, size, &r);
    if (ok != 0 && ok != 1)
        __builtin_trap();

    sn_answer_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    sn_addr_set_v4(&ctx.requester, 0x7F000001u, 40000);
    sn_addr_set_v4(&ctx.node, 0x7F000002u, 3478);
    int n = p->answer(data, size, &ctx, out, sizeof out);
    if (n < 0 || (n > 0 && sn_stun_parse(out, (size_t)n, &back, &err) != SN_OK))
        __builtin_trap();
    return 0;
}
