/*
 * SHA-256 (FIPS 180-4, test vectors of FIPS 180-2 appendix B and RFC 6234):
 * streaming init/update/final, and a one-call hex digest. No allocation; a
 * context is a plain value that the caller owns.
 */
#ifndef SN_SHA256_H
#define SN_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* A digest in progress; fields are private to lib/sha256.c. */
typedef struct sn_sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
} sn_sha256_t;

/* Starts a digest. */
void sn_sha256_init(sn_sha256_t *c);

/* Adds len bytes at data (data may be NULL when len is 0); any split of the
 * message into calls gives the same digest. */
void sn_sha256_update(sn_sha256_t *c, const void *data, size_t len);

/* Writes the 32-byte digest to out; c must be initialised again before reuse. */
void sn_sha256_final(sn_sha256_t *c, uint8_t out[32]);

/* Lower-case hex of the digest of data; hex gets 65 bytes (NUL-terminated). */
void sn_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
