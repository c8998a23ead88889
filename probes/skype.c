/*
 * The Skype UDP probe: the first datagram of the Skype UDP exchange, and the
 * short NAT-info message a super node answers with, which carries the address
 * the node saw us at. That observed address is why this probe exists: it tells
 * whether a NAT sits between the scanner and the node.
 *
 * Request (18 bytes), every multi-byte field big endian:
 *   0-1   session id: the low 16 bits of the engine's token (token_bits 16)
 *   2     message type; the low nibble 0x2 means "payload"
 *   3-6   IV: bits 16..47 of the token, so the request is a pure function of
 *         the token and retries are byte-identical
 *   7-10  CRC-32 (IEEE) of the 7 payload bytes
 *   11-17 payload: the fixed ASCII bytes "snprobe". A real client's payload
 *         is RC4-obfuscated with a key from the IV; a node that only checks
 *         framing answers either way, and fixed bytes keep golden tests exact.
 *
 * Reply, the NAT-info message (11 bytes):
 *   0-1   the session id of the request
 *   2     message type; the low nibble 0x5 means "NAT info"
 *   3-6   the requester's IPv4 address as the node saw it
 *   7-10  the node's own IPv4 address
 * An address of 0.0.0.0 means "not said" (an IPv6 requester, or a node that
 * does not know its address) and is reported as no address at all.
 */
#include "probes/probe.h"

#include <string.h>
#include <sys/socket.h>

#include "lib/crc32.h"
#include "lib/bytes.h"

#define REQ_LEN 18
#define REPLY_LEN 11
#define TYPE_PAYLOAD 0x02
#define TYPE_NAT_INFO 0x05

static const uint8_t payload[7] = {'s', 'n', 'p', 'r', 'o', 'b', 'e'};

/* Copies an IPv4 address's four bytes, or zeros for anything else. */
static void put_v4(uint8_t *p, const sn_addr_t *a)
{
    if (a->family == AF_INET)
        memcpy(p, a->ip, 4);
    else
        memset(p, 0, 4);
}

/* Reads four address bytes into an IPv4 sn_addr_t with port 0; 0.0.0.0 stays "no address". */
static void get_v4(const uint8_t *p, sn_addr_t *a)
{
    memset(a, 0, sizeof *a);
    if ((p[0] | p[1] | p[2] | p[3]) == 0)
        return;
    a->family = AF_INET;
    memcpy(a->ip, p, 4);
}

static int skype_build(const sn_probe_req_t *req, uint8_t *buf, size_t cap)
{
    if (req == NULL || buf == NULL)
        return SN_EINVAL;
    if (cap < REQ_LEN)
        return SN_ELIMIT;
    sn_put16(buf, (uint16_t)(req->token & 0xFFFFu));
    buf[2] = TYPE_PAYLOAD;
    sn_put32(buf + 3, (uint32_t)(req->token >> 16));
    sn_put32(buf + 7, sn_crc32(payload, sizeof payload));
    memcpy(buf + 11, payload, sizeof payload);
    return REQ_LEN;
}

static int skype_parse(const uint8_t *buf, size_t len, sn_probe_reply_t *out)
{
    if (buf == NULL || out == NULL || len != REPLY_LEN)
        return 0;
    sn_bytes_t b = sn_bytes(buf, len);
    uint16_t session;
    uint8_t type;
    const uint8_t *seen;
    /* Bytes 7..10, the node's own address as it says, are left unread: nothing uses them. */
    if (!sn_bytes_be16(&b, &session) || !sn_bytes_u8(&b, &type) || !sn_bytes_take(&b, 4, &seen) ||
        (type & 0x0Fu) != TYPE_NAT_INFO)
        return 0;
    out->token = session;
    get_v4(seen, &out->observed);
    return 1;
}

static int skype_answer(const uint8_t *req, size_t len, const sn_answer_ctx_t *ctx, uint8_t *out,
                        size_t cap)
{
    if (req == NULL || ctx == NULL || out == NULL)
        return SN_EINVAL;
    sn_bytes_t b = sn_bytes(req, len);
    uint16_t session;
    uint8_t type;
    if (len != REQ_LEN || !sn_bytes_be16(&b, &session) || !sn_bytes_u8(&b, &type) ||
        (type & 0x0Fu) != TYPE_PAYLOAD)
        return 0;
    if (cap < REPLY_LEN)
        return SN_ELIMIT;
    sn_put16(out, session);
    out[2] = TYPE_NAT_INFO;
    put_v4(out + 3, &ctx->requester);
    put_v4(out + 7, &ctx->node);
    return REPLY_LEN;
}

const sn_probe_t sn_probe_skype = {
    .name = "skype",
    .summary = "Skype UDP first message; the NAT-info reply says the address the node saw us at",
    .transport = SN_TRANSPORT_UDP,
    .default_port = 0,
    .token_bits = 16,
    .build = skype_build,
    .parse = skype_parse,
    .answer = skype_answer,
};
