/*
 * STUN messages (RFC 8489) with the NAT-behaviour attributes of RFC 5780:
 * a strict parser, a writer, and TCP framing. The scan probe (sn_probe_stun
 * in stun.c) and the vantage command both build on this; neither touches a
 * socket here.
 *
 * One struct, sn_stun_msg_t, is both what the parser fills and what the
 * writer reads, so a message can be parsed, inspected and written back, and
 * the fuzz harness can check that round trip. Addresses use sn_addr_t with
 * family 0 meaning "attribute absent"; XOR-MAPPED-ADDRESS is stored decoded.
 *
 * What the parser rejects (SN_EPARSE, with a sentence in err): fewer than 20
 * bytes, the top two bits of the first byte set, a wrong magic cookie, a
 * length field that is not a multiple of 4 or does not match the datagram, an
 * attribute header or value (with its padding to 4 bytes) that runs past the
 * end, an address attribute of the wrong length or family, a malformed
 * ERROR-CODE or CHANGE-REQUEST, SOFTWARE or a reason phrase longer than the
 * 763 bytes RFC 8489 allows, a FINGERPRINT that does not verify, and any
 * attribute after FINGERPRINT. What it tolerates: unknown
 * comprehension-optional attributes (type >= 0x8000) are skipped; unknown
 * comprehension-required ones (< 0x8000) are listed in not_understood, and a
 * response that has any is unusable (RFC 8489 section 6.3.3); MESSAGE-INTEGRITY
 * is recognised but not verified (we hold no credentials), and attributes
 * after it other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored as
 * RFC 8489 section 14.5 says; repeated attributes count once (the first).
 */
#ifndef SN_STUN_H
#define SN_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/status.h"
#include "lib/crc32.h"

#define SN_STUN_MAGIC 0x2112A442u
#define SN_STUN_HEADER_LEN 20
#define SN_STUN_TXID_LEN 12
/* Largest message: the 16-bit length field, rounded down to a multiple of 4. */
#define SN_STUN_MAX_LEN (SN_STUN_HEADER_LEN + 65532)
/* Text kept from SOFTWARE and reason phrases: RFC 8489 asks for fewer than
 * 128 characters; longer (up to 763 bytes) is accepted and cut, with the NUL. */
#define SN_STUN_TEXT_MAX 128
/* Attribute types kept from UNKNOWN-ATTRIBUTES and not_understood. */
#define SN_STUN_UNKNOWN_MAX 8
/* The FINGERPRINT value is CRC-32 of the message before it, XOR this. */
#define SN_STUN_FINGERPRINT_XOR 0x5354554Eu

#define SN_STUN_METHOD_BINDING 0x001

typedef enum sn_stun_class {
    SN_STUN_REQUEST = 0,
    SN_STUN_INDICATION = 1,
    SN_STUN_SUCCESS = 2,
    SN_STUN_ERROR = 3
} sn_stun_class_t;

/* Attribute types this module knows (RFC 8489, RFC 5780, RFC 3489, RFC 8445). */
enum {
    SN_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    SN_STUN_ATTR_CHANGE_REQUEST = 0x0003,  /* RFC 5780 */
    SN_STUN_ATTR_SOURCE_ADDRESS = 0x0004,  /* RFC 3489; read as RESPONSE-ORIGIN */
    SN_STUN_ATTR_CHANGED_ADDRESS = 0x0005, /* RFC 3489; read as OTHER-ADDRESS */
    SN_STUN_ATTR_USERNAME = 0x0006,
    SN_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    SN_STUN_ATTR_ERROR_CODE = 0x0009,
    SN_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    SN_STUN_ATTR_REALM = 0x0014,
    SN_STUN_ATTR_NONCE = 0x0015,
    SN_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    SN_STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
    SN_STUN_ATTR_USERHASH = 0x001E,
    SN_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    SN_STUN_ATTR_PRIORITY = 0x0024,      /* ICE */
    SN_STUN_ATTR_USE_CANDIDATE = 0x0025, /* ICE */
    SN_STUN_ATTR_PADDING = 0x0026,       /* RFC 5780 */
    SN_STUN_ATTR_RESPONSE_PORT = 0x0027, /* RFC 5780 */
    SN_STUN_ATTR_SOFTWARE = 0x8022,
    SN_STUN_ATTR_ALTERNATE_SERVER = 0x8023,
    SN_STUN_ATTR_FINGERPRINT = 0x8028,
    SN_STUN_ATTR_RESPONSE_ORIGIN = 0x802B, /* RFC 5780 */
    SN_STUN_ATTR_OTHER_ADDRESS = 0x802C    /* RFC 5780 */
};

/* CHANGE-REQUEST flags (RFC 5780 section 7.2). */
#define SN_STUN_CHANGE_IP 0x04u
#define SN_STUN_CHANGE_PORT 0x02u

typedef struct sn_stun_msg {
    sn_stun_class_t cls;
    uint16_t method; /* 12 bits; SN_STUN_METHOD_BINDING */
    uint8_t txid[SN_STUN_TXID_LEN];

    sn_addr_t mapped;          /* MAPPED-ADDRESS */
    sn_addr_t xor_mapped;      /* XOR-MAPPED-ADDRESS, decoded */
    sn_addr_t response_origin; /* RESPONSE-ORIGIN, else SOURCE-ADDRESS */
    sn_addr_t other_address;   /* OTHER-ADDRESS, else CHANGED-ADDRESS */

    bool change_request;  /* CHANGE-REQUEST present */
    uint8_t change_flags; /* SN_STUN_CHANGE_IP | SN_STUN_CHANGE_PORT */

    uint16_t error_code;             /* ERROR-CODE as class*100+number (300..699); 0: absent */
    char reason[SN_STUN_TEXT_MAX];   /* its reason phrase */
    char software[SN_STUN_TEXT_MAX]; /* SOFTWARE; "" when absent */

    uint16_t unknown_attributes[SN_STUN_UNKNOWN_MAX]; /* UNKNOWN-ATTRIBUTES (in a 420) */
    uint8_t n_unknown_attributes;

    bool fingerprint; /* parse: present and verified; write: append one */

    /* Filled by the parser only; the writer ignores them. */
    bool integrity; /* MESSAGE-INTEGRITY(-SHA256) present, not verified */
    uint16_t not_understood[SN_STUN_UNKNOWN_MAX]; /* unknown comprehension-required types */
    uint8_t n_not_understood;                     /* how many were found (may exceed the array) */
} sn_stun_msg_t;

/* Zeroes m and sets its class, method and transaction id (txid may be NULL: zeros). */
void sn_stun_msg_init(sn_stun_msg_t *m, sn_stun_class_t cls, uint16_t method,
                      const uint8_t txid[SN_STUN_TXID_LEN]);

/*
 * Parses one whole STUN message of exactly len bytes (a datagram, or a frame
 * cut by sn_stun_frame_len) into out. Returns SN_OK, or SN_EPARSE with one
 * sentence in err (which may be NULL); out is then unspecified.
 */
sn_status_t sn_stun_parse(const uint8_t *buf, size_t len, sn_stun_msg_t *out, sn_error_t *err);

/*
 * True when m is a response a client may use: a success or error response
 * with no comprehension-required attribute it did not understand.
 */
bool sn_stun_response_usable(const sn_stun_msg_t *m);

/*
 * Writes m into buf (cap bytes). Attributes, in this order, each only when
 * set: MAPPED-ADDRESS, XOR-MAPPED-ADDRESS, RESPONSE-ORIGIN, OTHER-ADDRESS,
 * CHANGE-REQUEST, ERROR-CODE (with reason), UNKNOWN-ATTRIBUTES, SOFTWARE,
 * FINGERPRINT (always last). Padding bytes are zero. Returns the message
 * length, SN_ELIMIT when cap is too small, or SN_EINVAL for a field out of
 * range (method above 12 bits, error code outside 300..699, text too long).
 */
int sn_stun_write(const sn_stun_msg_t *m, uint8_t *buf, size_t cap);

/*
 * TCP framing: how long the first STUN message at the start of a byte stream
 * is. Returns 20 + its length field when that many bytes are in buf, 0 when
 * more bytes are needed, or SN_EPARSE as soon as the bytes present cannot
 * start a STUN message (top bits set, length not a multiple of 4, wrong
 * cookie). It checks framing only; the frame still goes to sn_stun_parse.
 */
int sn_stun_frame_len(const uint8_t *buf, size_t len);

/*
 * The scan probe's transaction id: the 64-bit token big endian in bytes 0-7,
 * then the fixed marker "snpb" in bytes 8-11, which a reply must echo.
 * sn_stun_txid_token returns false (and leaves *token alone) when the marker
 * is missing: the reply answers someone else's request.
 */
void sn_stun_txid_from_token(uint64_t token, uint8_t txid[SN_STUN_TXID_LEN]);
bool sn_stun_txid_token(const uint8_t txid[SN_STUN_TXID_LEN], uint64_t *token);

#endif
