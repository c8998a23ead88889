/*
 * SHA-256 (FIPS 180-4), streaming: init, update any number of times with
 * pieces of any size, final. Used for the digests of the files a scan reads.
 */
#ifndef SN_SHA256_H
#define SN_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* The running state; plain data, no allocation, copy freely. */
typedef struct sn_sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
} sn_sha256_t;

/* Starts a fresh digest in *c. */
void sn_sha256_init(sn_sha256_t *c);
/* Feeds len bytes at data (data may be NULL when len is 0). */
void sn_sha256_update(sn_sha256_t *c, const void *data, size_t len);
/* Writes the 32-byte digest to out; *c must be initialised again before reuse. */
void sn_sha256_final(sn_sha256_t *c, uint8_t out[32]);
/* Lower-case hex of the digest of data; hex gets 65 bytes (64 digits and a NUL). */
void sn_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
