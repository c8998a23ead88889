/*
 * STUN (RFC 8489, with RFC 5780's attributes): the parser, the writer, TCP
 * framing, and the "stun" scan probe built on them.
 *
 * The parser walks the attributes once through the bounds-checked cursor of
 * lib/bytes.h, so every length is checked against what is left before a byte
 * is read, and fills one flat struct; nothing is allocated, so it is cheap
 * enough to run on every datagram and safe to fuzz.
 * Strictness follows RFC 8489: what the RFC calls malformed is rejected with
 * a sentence saying where, what it lets a receiver ignore is ignored. The
 * writer mirrors the parser over the same struct.
 *
 * The probe's transaction id carries the engine's 64-bit token in its first
 * eight bytes and a fixed marker in the last four, so a reply is matched by
 * token and also checked to answer a request of ours. As a swarm node, the
 * probe answers a Binding request as a plain RFC 5780-aware server with a
 * single address would: XOR-MAPPED-ADDRESS, RESPONSE-ORIGIN, SOFTWARE and
 * FINGERPRINT, or a 420 listing what it cannot honour (unknown
 * comprehension-required attributes, or a CHANGE-REQUEST it has no alternate
 * address for).
 */
#include "probes/stun.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "probes/probe.h"
#include "lib/bytes.h"

/* RFC 8489: SOFTWARE and reason phrases are at most 763 bytes of UTF-8. */
#define TEXT_WIRE_MAX 763
#define ATTR_HDR 4
#define FINGERPRINT_ATTR_LEN (ATTR_HDR + 4)

static const uint8_t txid_marker[4] = {'s', 'n', 'p', 'b'};

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/*
 * The message type interleaves the class bits with the method:
 * M11..M7 C1 M6..M4 C0 M3..M0 (RFC 8489 section 5).
 */
static uint16_t type_encode(sn_stun_class_t cls, uint16_t method)
{
    return (uint16_t)((method & 0x000Fu) | (method & 0x0070u) << 1 | (method & 0x0F80u) << 2 |
                      ((unsigned)cls & 1u) << 4 | ((unsigned)cls & 2u) << 7);
}

static void type_decode(uint16_t t, sn_stun_class_t *cls, uint16_t *method)
{
    *cls = (sn_stun_class_t)((t >> 4 & 1u) | (t >> 7 & 2u));
    *method = (uint16_t)((t & 0x000Fu) | (t >> 1 & 0x0070u) | (t >> 2 & 0x0F80u));
}

void sn_stun_msg_init(sn_stun_msg_t *m, sn_stun_class_t cls, uint16_t method,
                      const uint8_t txid[SN_STUN_TXID_LEN])
{
    if (m == NULL)
        return;
    memset(m, 0, sizeof *m);
    m->cls = cls;
    m->method = method;
    if (txid != NULL)
        memcpy(m->txid, txid, SN_STUN_TXID_LEN);
}

/*
 * Copies n bytes of wire text into dst (SN_STUN_TEXT_MAX with the NUL).
 * Trailing NULs (some stacks count a C terminator) are dropped; control
 * characters become '?' so that the text is safe to print on a terminal or
 * in a CSV cell; a cut never splits a UTF-8 sequence.
 */
static void copy_text(char *dst, const uint8_t *src, size_t n)
{
    while (n > 0 && src[n - 1] == 0)
        n--;
    size_t keep = n;
    if (keep > SN_STUN_TEXT_MAX - 1) {
        keep = SN_STUN_TEXT_MAX - 1;
        while (keep > 0 && (src[keep] & 0xC0u) == 0x80u)
            keep--;
    }
    for (size_t i = 0; i < keep; i++) {
        uint8_t c = src[i];
        dst[i] = (c < 0x20u || c == 0x7Fu) ? '?' : (char)c;
    }
    dst[keep] = '\0';
}

/*
 * Reads an address attribute value, the cursor v over it (MAPPED-ADDRESS
 * layout: reserved byte, family, port, address). xor_key is the 16 bytes
 * after the type and length (cookie and transaction id) for
 * XOR-MAPPED-ADDRESS, else NULL.
 */
static sn_status_t read_addr(sn_bytes_t *v, const uint8_t *xor_key, uint16_t type, size_t off,
                             sn_addr_t *a, sn_error_t *err)
{
    unsigned vlen = (unsigned)sn_bytes_left(v);
    uint8_t reserved, family = 0;
    bool said = sn_bytes_u8(v, &reserved) && sn_bytes_u8(v, &family);
    size_t iplen = family == 0x01 && vlen == 8 ? 4 : family == 0x02 && vlen == 20 ? 16 : 0;
    if (iplen == 0)
        return sn_error_set(err, SN_EPARSE,
                            "stun: attribute 0x%04x at offset %zu: family %d with length %u is "
                            "neither IPv4 (1, 8 bytes) nor IPv6 (2, 20 bytes)",
                            type, off, said ? family : -1, vlen);
    memset(a, 0, sizeof *a);
    a->family = iplen == 4 ? AF_INET : AF_INET6;
    /* The length matched the family: the port and the address are all there. */
    (void)sn_bytes_be16(v, &a->port);
    (void)sn_bytes_copy(v, a->ip, iplen);
    if (xor_key != NULL) {
        a->port ^= (uint16_t)(SN_STUN_MAGIC >> 16);
        for (size_t i = 0; i < iplen; i++)
            a->ip[i] ^= xor_key[i];
    }
    return SN_OK;
}

/* Attributes below 0x8000 that the parser understands (and may ignore). */
static bool known_required(uint16_t type)
{
    switch (type) {
    case SN_STUN_ATTR_MAPPED_ADDRESS:
    case SN_STUN_ATTR_CHANGE_REQUEST:
    case SN_STUN_ATTR_SOURCE_ADDRESS:
    case SN_STUN_ATTR_CHANGED_ADDRESS:
    case SN_STUN_ATTR_USERNAME:
    case SN_STUN_ATTR_MESSAGE_INTEGRITY:
    case SN_STUN_ATTR_ERROR_CODE:
    case SN_STUN_ATTR_UNKNOWN_ATTRIBUTES:
    case SN_STUN_ATTR_REALM:
    case SN_STUN_ATTR_NONCE:
    case SN_STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
    case SN_STUN_ATTR_PASSWORD_ALGORITHM:
    case SN_STUN_ATTR_USERHASH:
    case SN_STUN_ATTR_XOR_MAPPED_ADDRESS:
    case SN_STUN_ATTR_PRIORITY:
    case SN_STUN_ATTR_USE_CANDIDATE:
    case SN_STUN_ATTR_PADDING:
    case SN_STUN_ATTR_RESPONSE_PORT: return true;
    default: return false;
    }
}

/* What the attribute walk remembers beyond the output struct. */
typedef struct walk {
    const uint8_t *msg;     /* the whole message, for FINGERPRINT's CRC */
    const uint8_t *xor_key; /* the cookie and transaction id, for XOR-MAPPED-ADDRESS */
    bool after_integrity;   /* MESSAGE-INTEGRITY seen: ignore what follows */
    bool got_other;         /* OTHER-ADDRESS seen: CHANGED-ADDRESS no longer counts */
    bool got_origin;        /* RESPONSE-ORIGIN seen: SOURCE-ADDRESS no longer counts */
    bool got_error;
    bool got_software;
    bool got_unknown_list;
} walk_t;

/*
 * Reads one attribute of type type at offset off, the cursor v over its value
 * (without the padding).
 */
static sn_status_t read_attr(walk_t *w, size_t off, uint16_t type, sn_bytes_t *v,
                             sn_stun_msg_t *out, sn_error_t *err)
{
    uint16_t vlen = (uint16_t)sn_bytes_left(v);
    const uint8_t *text;
    uint32_t word;
    sn_addr_t tmp;
    sn_status_t st;

    switch (type) {
    case SN_STUN_ATTR_MAPPED_ADDRESS:
        st = read_addr(v, NULL, type, off, &tmp, err);
        if (st == SN_OK && out->mapped.family == 0)
            out->mapped = tmp;
        return st;
    case SN_STUN_ATTR_XOR_MAPPED_ADDRESS:
        st = read_addr(v, w->xor_key, type, off, &tmp, err);
        if (st == SN_OK && out->xor_mapped.family == 0)
            out->xor_mapped = tmp;
        return st;
    case SN_STUN_ATTR_RESPONSE_ORIGIN:
    case SN_STUN_ATTR_SOURCE_ADDRESS:
        st = read_addr(v, NULL, type, off, &tmp, err);
        if (st == SN_OK && !w->got_origin) {
            out->response_origin = tmp;
            w->got_origin = type == SN_STUN_ATTR_RESPONSE_ORIGIN;
        }
        return st;
    case SN_STUN_ATTR_OTHER_ADDRESS:
    case SN_STUN_ATTR_CHANGED_ADDRESS:
        st = read_addr(v, NULL, type, off, &tmp, err);
        if (st == SN_OK && !w->got_other) {
            out->other_address = tmp;
            w->got_other = type == SN_STUN_ATTR_OTHER_ADDRESS;
        }
        return st;
    case SN_STUN_ATTR_CHANGE_REQUEST:
        if (vlen != 4 || !sn_bytes_be32(v, &word))
            return sn_error_set(err, SN_EPARSE,
                                "stun: CHANGE-REQUEST at offset %zu has length %u, not 4", off,
                                vlen);
        if (!out->change_request) {
            out->change_request = true;
            out->change_flags = (uint8_t)(word & (SN_STUN_CHANGE_IP | SN_STUN_CHANGE_PORT));
        }
        return SN_OK;
    case SN_STUN_ATTR_ERROR_CODE: {
        /* Reserved bits, the class (3 bits) and the number (a byte), then the reason. */
        if (vlen < 4 || vlen - 4 > TEXT_WIRE_MAX || !sn_bytes_be32(v, &word))
            return sn_error_set(err, SN_EPARSE,
                                "stun: ERROR-CODE at offset %zu has length %u, outside 4..%u", off,
                                vlen, 4 + TEXT_WIRE_MAX);
        unsigned cls = word >> 8 & 0x07u, num = word & 0xFFu;
        if (cls < 3 || cls > 6 || num > 99)
            return sn_error_set(err, SN_EPARSE,
                                "stun: ERROR-CODE at offset %zu has class %u number %u, outside "
                                "300..699",
                                off, cls, num);
        if (!w->got_error && sn_bytes_take(v, vlen - 4u, &text)) {
            w->got_error = true;
            out->error_code = (uint16_t)(cls * 100 + num);
            copy_text(out->reason, text, vlen - 4u);
        }
        return SN_OK;
    }
    case SN_STUN_ATTR_UNKNOWN_ATTRIBUTES:
        if (vlen % 2 != 0)
            return sn_error_set(err, SN_EPARSE,
                                "stun: UNKNOWN-ATTRIBUTES at offset %zu has odd length %u", off,
                                vlen);
        if (!w->got_unknown_list) {
            uint16_t t;
            w->got_unknown_list = true;
            while (out->n_unknown_attributes < SN_STUN_UNKNOWN_MAX && sn_bytes_be16(v, &t))
                out->unknown_attributes[out->n_unknown_attributes++] = t;
        }
        return SN_OK;
    case SN_STUN_ATTR_SOFTWARE:
        if (vlen > TEXT_WIRE_MAX)
            return sn_error_set(err, SN_EPARSE,
                                "stun: SOFTWARE at offset %zu is %u bytes, more than the %u "
                                "RFC 8489 allows",
                                off, vlen, TEXT_WIRE_MAX);
        if (!w->got_software && sn_bytes_take(v, vlen, &text)) {
            w->got_software = true;
            copy_text(out->software, text, vlen);
        }
        return SN_OK;
    case SN_STUN_ATTR_MESSAGE_INTEGRITY:
        if (vlen != 20)
            return sn_error_set(err, SN_EPARSE,
                                "stun: MESSAGE-INTEGRITY at offset %zu has length %u, not 20", off,
                                vlen);
        out->integrity = true;
        w->after_integrity = true;
        return SN_OK;
    case SN_STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
        if (vlen < 16 || vlen > 32 || vlen % 4 != 0)
            return sn_error_set(err, SN_EPARSE,
                                "stun: MESSAGE-INTEGRITY-SHA256 at offset %zu has length %u, not "
                                "16..32 in steps of 4",
                                off, vlen);
        out->integrity = true;
        w->after_integrity = true;
        return SN_OK;
    case SN_STUN_ATTR_FINGERPRINT: {
        uint32_t want = sn_crc32(w->msg, off) ^ SN_STUN_FINGERPRINT_XOR, got;
        if (vlen != 4 || !sn_bytes_be32(v, &got))
            return sn_error_set(err, SN_EPARSE,
                                "stun: FINGERPRINT at offset %zu has length %u, not 4", off, vlen);
        if (want != got)
            return sn_error_set(err, SN_EPARSE,
                                "stun: FINGERPRINT at offset %zu is 0x%08x, the message gives "
                                "0x%08x",
                                off, got, want);
        out->fingerprint = true;
        return SN_OK;
    }
    default:
        if (type < 0x8000u && !known_required(type)) {
            if (out->n_not_understood < SN_STUN_UNKNOWN_MAX)
                out->not_understood[out->n_not_understood] = type;
            if (out->n_not_understood < UINT8_MAX)
                out->n_not_understood++;
        }
        return SN_OK;
    }
}

sn_status_t sn_stun_parse(const uint8_t *buf, size_t len, sn_stun_msg_t *out, sn_error_t *err)
{
    if (buf == NULL || out == NULL)
        return sn_error_set(err, SN_EINVAL, "stun: no message or no place to parse it into");
    sn_bytes_t b = sn_bytes(buf, len);
    uint16_t mtype, mlen;
    const uint8_t *key; /* the magic cookie, then the transaction id */
    if (!sn_bytes_be16(&b, &mtype) || !sn_bytes_be16(&b, &mlen) ||
        !sn_bytes_take(&b, 4 + SN_STUN_TXID_LEN, &key))
        return sn_error_set(err, SN_EPARSE, "stun: %zu bytes is shorter than the 20-byte header",
                            len);
    if ((mtype & 0xC000u) != 0)
        return sn_error_set(err, SN_EPARSE,
                            "stun: the top two bits of the first byte are set (0x%02x): not STUN",
                            (unsigned)(mtype >> 8));
    uint32_t cookie = sn_get32(key);
    if (cookie != SN_STUN_MAGIC)
        return sn_error_set(err, SN_EPARSE, "stun: magic cookie is 0x%08x, not 0x%08x", cookie,
                            SN_STUN_MAGIC);
    if (mlen % 4 != 0)
        return sn_error_set(err, SN_EPARSE, "stun: message length %u is not a multiple of 4", mlen);
    if ((size_t)mlen + SN_STUN_HEADER_LEN != len)
        return sn_error_set(err, SN_EPARSE,
                            "stun: message length %u does not match the %zu bytes received "
                            "(expected %u)",
                            mlen, len, mlen + SN_STUN_HEADER_LEN);

    sn_stun_class_t cls;
    uint16_t method;
    type_decode(mtype, &cls, &method);
    sn_stun_msg_init(out, cls, method, key + 4);

    walk_t w = {.msg = buf, .xor_key = key};
    while (sn_bytes_left(&b) > 0) {
        size_t off = b.pos, left;
        uint16_t type, vlen;
        const uint8_t *value;
        if (out->fingerprint)
            return sn_error_set(err, SN_EPARSE,
                                "stun: attribute at offset %zu follows FINGERPRINT, which must "
                                "be last",
                                off);
        if (!sn_bytes_be16(&b, &type) || !sn_bytes_be16(&b, &vlen))
            return sn_error_set(err, SN_EPARSE, "stun: truncated attribute header at offset %zu",
                                off);
        left = sn_bytes_left(&b);
        if (!sn_bytes_take(&b, vlen, &value) || !sn_bytes_take(&b, pad4(vlen) - vlen, NULL))
            return sn_error_set(err, SN_EPARSE,
                                "stun: attribute 0x%04x at offset %zu: length %u runs past the "
                                "end of the message (%zu bytes left)",
                                type, off, vlen, left);
        if (!w.after_integrity || type == SN_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 ||
            type == SN_STUN_ATTR_FINGERPRINT) {
            sn_bytes_t v = sn_bytes(value, vlen);
            sn_status_t st = read_attr(&w, off, type, &v, out, err);
            if (st != SN_OK)
                return st;
        }
    }
    return SN_OK;
}

bool sn_stun_response_usable(const sn_stun_msg_t *m)
{
    return m != NULL && (m->cls == SN_STUN_SUCCESS || m->cls == SN_STUN_ERROR) &&
           m->n_not_understood == 0;
}

/* A bounded output buffer: every write checks room first. */
typedef struct wbuf {
    uint8_t *p;
    size_t cap;
    size_t off;
} wbuf_t;

/*
 * Appends an attribute header and zeroed room for vlen bytes plus padding.
 * Returns where the value goes, or NULL when it does not fit.
 */
static uint8_t *attr_add(wbuf_t *w, uint16_t type, size_t vlen)
{
    size_t need = ATTR_HDR + pad4(vlen);
    if (vlen > 0xFFFFu || w->cap - w->off < need || w->off + need > SN_STUN_MAX_LEN)
        return NULL;
    uint8_t *a = w->p + w->off;
    sn_put16(a, type);
    sn_put16(a + 2, (uint16_t)vlen);
    memset(a + ATTR_HDR, 0, pad4(vlen));
    w->off += need;
    return a + ATTR_HDR;
}

static bool addr_valid(const sn_addr_t *a)
{
    return a->family == 0 || a->family == AF_INET || a->family == AF_INET6;
}

/* Appends an address attribute if a is set; xor_key as in read_addr. False when full. */
static bool addr_add(wbuf_t *w, uint16_t type, const sn_addr_t *a, const uint8_t *xor_key)
{
    if (a->family == 0)
        return true;
    size_t iplen = a->family == AF_INET ? 4 : 16;
    uint8_t *v = attr_add(w, type, 4 + iplen);
    if (v == NULL)
        return false;
    v[0] = 0;
    v[1] = a->family == AF_INET ? 0x01 : 0x02;
    uint16_t port = a->port;
    if (xor_key != NULL)
        port ^= (uint16_t)(SN_STUN_MAGIC >> 16);
    sn_put16(v + 2, port);
    for (size_t i = 0; i < iplen; i++)
        v[4 + i] = (uint8_t)(a->ip[i] ^ (xor_key != NULL ? xor_key[i] : 0));
    return true;
}

/* Appends a text attribute if s is non-empty. False when full. */
static bool text_add(wbuf_t *w, uint16_t type, const char *s, size_t n)
{
    if (n == 0)
        return true;
    uint8_t *v = attr_add(w, type, n);
    if (v == NULL)
        return false;
    memcpy(v, s, n);
    return true;
}

int sn_stun_write(const sn_stun_msg_t *m, uint8_t *buf, size_t cap)
{
    if (m == NULL || buf == NULL)
        return SN_EINVAL;
    size_t sw_len = strnlen(m->software, SN_STUN_TEXT_MAX);
    size_t reason_len = strnlen(m->reason, SN_STUN_TEXT_MAX);
    if (m->method > 0x0FFFu || (unsigned)m->cls > 3u || sw_len == SN_STUN_TEXT_MAX ||
        reason_len == SN_STUN_TEXT_MAX || m->n_unknown_attributes > SN_STUN_UNKNOWN_MAX ||
        (m->error_code != 0 && (m->error_code < 300 || m->error_code > 699)) ||
        !addr_valid(&m->mapped) || !addr_valid(&m->xor_mapped) ||
        !addr_valid(&m->response_origin) || !addr_valid(&m->other_address))
        return SN_EINVAL;
    if (cap < SN_STUN_HEADER_LEN)
        return SN_ELIMIT;

    sn_put16(buf, type_encode(m->cls, m->method));
    sn_put16(buf + 2, 0);
    sn_put32(buf + 4, SN_STUN_MAGIC);
    memcpy(buf + 8, m->txid, SN_STUN_TXID_LEN);

    wbuf_t w = {.p = buf, .cap = cap, .off = SN_STUN_HEADER_LEN};
    bool ok = addr_add(&w, SN_STUN_ATTR_MAPPED_ADDRESS, &m->mapped, NULL) &&
              addr_add(&w, SN_STUN_ATTR_XOR_MAPPED_ADDRESS, &m->xor_mapped, buf + 4) &&
              addr_add(&w, SN_STUN_ATTR_RESPONSE_ORIGIN, &m->response_origin, NULL) &&
              addr_add(&w, SN_STUN_ATTR_OTHER_ADDRESS, &m->other_address, NULL);
    if (ok && m->change_request) {
        uint8_t *v = attr_add(&w, SN_STUN_ATTR_CHANGE_REQUEST, 4);
        if (v != NULL)
            v[3] = m->change_flags & (SN_STUN_CHANGE_IP | SN_STUN_CHANGE_PORT);
        ok = v != NULL;
    }
    if (ok && m->error_code != 0) {
        uint8_t *v = attr_add(&w, SN_STUN_ATTR_ERROR_CODE, 4 + reason_len);
        if (v != NULL) {
            v[2] = (uint8_t)(m->error_code / 100);
            v[3] = (uint8_t)(m->error_code % 100);
            memcpy(v + 4, m->reason, reason_len);
        }
        ok = v != NULL;
    }
    if (ok && m->n_unknown_attributes > 0) {
        uint8_t *v = attr_add(&w, SN_STUN_ATTR_UNKNOWN_ATTRIBUTES, 2u * m->n_unknown_attributes);
        for (size_t i = 0; v != NULL && i < m->n_unknown_attributes; i++)
            sn_put16(v + 2 * i, m->unknown_attributes[i]);
        ok = v != NULL;
    }
    ok = ok && text_add(&w, SN_STUN_ATTR_SOFTWARE, m->software, sw_len);
    if (ok && m->fingerprint) {
        /* The CRC covers a header whose length already counts the FINGERPRINT. */
        size_t before = w.off;
        sn_put16(buf + 2, (uint16_t)(before + FINGERPRINT_ATTR_LEN - SN_STUN_HEADER_LEN));
        uint8_t *v = attr_add(&w, SN_STUN_ATTR_FINGERPRINT, 4);
        if (v != NULL)
            sn_put32(v, sn_crc32(buf, before) ^ SN_STUN_FINGERPRINT_XOR);
        ok = v != NULL;
    }
    if (!ok)
        return SN_ELIMIT;
    sn_put16(buf + 2, (uint16_t)(w.off - SN_STUN_HEADER_LEN));
    return (int)w.off;
}

int sn_stun_frame_len(const uint8_t *buf, size_t len)
{
    if (buf == NULL && len > 0)
        return SN_EINVAL;
    /* Judge the header bytes that are present, so that garbage is refused early. */
    sn_bytes_t b = sn_bytes(buf, len);
    uint8_t first, c;
    uint16_t mlen = 0;
    if (sn_bytes_u8(&b, &first) && (first & 0xC0u) != 0)
        return SN_EPARSE;
    if (sn_bytes_seek(&b, 2) && sn_bytes_be16(&b, &mlen)) {
        if (mlen % 4 != 0)
            return SN_EPARSE;
        for (unsigned i = 0; i < 4 && sn_bytes_u8(&b, &c); i++)
            if (c != (uint8_t)(SN_STUN_MAGIC >> (24 - 8 * i)))
                return SN_EPARSE;
    }
    if (len < SN_STUN_HEADER_LEN)
        return 0;
    size_t total = SN_STUN_HEADER_LEN + (size_t)mlen;
    return len >= total ? (int)total : 0;
}

void sn_stun_txid_from_token(uint64_t token, uint8_t txid[SN_STUN_TXID_LEN])
{
    sn_put64(txid, token);
    memcpy(txid + 8, txid_marker, sizeof txid_marker);
}

bool sn_stun_txid_token(const uint8_t txid[SN_STUN_TXID_LEN], uint64_t *token)
{
    if (memcmp(txid + 8, txid_marker, sizeof txid_marker) != 0)
        return false;
    *token = sn_get64(txid);
    return true;
}

/* The probe: a Binding request with FINGERPRINT (28 bytes), so that a node
 * multiplexing STUN with other traffic on one port can tell it apart. */
static int stun_build(const sn_probe_req_t *req, uint8_t *buf, size_t cap)
{
    if (req == NULL || buf == NULL)
        return SN_EINVAL;
    uint8_t txid[SN_STUN_TXID_LEN];
    sn_stun_txid_from_token(req->token, txid);
    sn_stun_msg_t m;
    sn_stun_msg_init(&m, SN_STUN_REQUEST, SN_STUN_METHOD_BINDING, txid);
    m.fingerprint = true;
    return sn_stun_write(&m, buf, cap);
}

/*
 * A Binding success response is a live node saying where it saw us. An error
 * response (say 400) is as much a sign of life and matches by token too; it
 * just says no address.
 */
static int stun_parse(const uint8_t *buf, size_t len, sn_probe_reply_t *out)
{
    sn_stun_msg_t m;
    uint64_t token;
    if (out == NULL || sn_stun_parse(buf, len, &m, NULL) != SN_OK)
        return 0;
    if (m.method != SN_STUN_METHOD_BINDING || !sn_stun_response_usable(&m) ||
        !sn_stun_txid_token(m.txid, &token))
        return 0;
    out->token = token;
    if (m.cls == SN_STUN_SUCCESS) {
        out->observed = m.xor_mapped.family != 0 ? m.xor_mapped : m.mapped;
    }
    return 1;
}

static int stun_answer(const uint8_t *req, size_t len, const sn_answer_ctx_t *ctx, uint8_t *out,
                       size_t cap)
{
    if (req == NULL || ctx == NULL || out == NULL)
        return SN_EINVAL;
    sn_stun_msg_t q;
    if (sn_stun_parse(req, len, &q, NULL) != SN_OK || q.cls != SN_STUN_REQUEST ||
        q.method != SN_STUN_METHOD_BINDING)
        return 0;

    sn_stun_msg_t r;
    sn_stun_msg_init(&r, SN_STUN_SUCCESS, SN_STUN_METHOD_BINDING, q.txid);
    if (q.n_not_understood > 0 || (q.change_request && q.change_flags != 0)) {
        /* RFC 8489 section 6.3.1.1, and RFC 5780 for a server with one address. */
        r.cls = SN_STUN_ERROR;
        r.error_code = 420;
        snprintf(r.reason, sizeof r.reason, "Unknown Attribute");
        if (q.n_not_understood > 0) {
            size_t n =
                q.n_not_understood < SN_STUN_UNKNOWN_MAX ? q.n_not_understood : SN_STUN_UNKNOWN_MAX;
            memcpy(r.unknown_attributes, q.not_understood, n * sizeof q.not_understood[0]);
            r.n_unknown_attributes = (uint8_t)n;
        } else {
            r.unknown_attributes[0] = SN_STUN_ATTR_CHANGE_REQUEST;
            r.n_unknown_attributes = 1;
        }
    } else {
        if (ctx->requester.family == AF_INET || ctx->requester.family == AF_INET6)
            r.xor_mapped = ctx->requester;
        if (ctx->node.family == AF_INET || ctx->node.family == AF_INET6)
            r.response_origin = ctx->node;
    }
    snprintf(r.software, sizeof r.software, "snprobe-swarm");
    r.fingerprint = true;
    return sn_stun_write(&r, out, cap);
}

const sn_probe_t sn_probe_stun = {
    .name = "stun",
    .summary = "STUN Binding request (RFC 8489); the reply says the address the node saw us at",
    .transport = SN_TRANSPORT_UDP,
    .default_port = 0,
    .token_bits = 64,
    .build = stun_build,
    .parse = stun_parse,
    .answer = stun_answer,
};
