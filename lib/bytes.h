/*
 * The one bounds-checked byte reader: every parser of outside input (the
 * host-cache blob, DNS replies, STUN and Skype datagrams, JSON text) reads
 * through a cursor of this kind, so that no parser indexes a buffer on its own.
 *
 * Every read checks what is left before it moves; a read that does not fit
 * returns false and leaves the cursor where it was. Multi-byte integers are
 * big-endian (network order). The writers (sn_put16/32/64) and the unchecked
 * loads (sn_get16/32/64) are for buffers whose size the caller has already
 * checked: packet builders, fixed headers and spans a checked read took.
 */
#ifndef SN_LIB_BYTES_H
#define SN_LIB_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A cursor over len bytes at p; pos is the next byte to read (0 <= pos <= len). */
typedef struct sn_bytes {
    const uint8_t *p;
    size_t len;
    size_t pos;
} sn_bytes_t;

/* A cursor at the start of the len bytes at p (p may be NULL when len is 0). */
static inline sn_bytes_t sn_bytes(const void *p, size_t len)
{
    sn_bytes_t b = {(const uint8_t *)p, len, 0};
    return b;
}

/* How many bytes are left to read. */
static inline size_t sn_bytes_left(const sn_bytes_t *b)
{
    return b->len - b->pos;
}

/* The next byte without moving, or -1 at the end. */
static inline int sn_bytes_peek(const sn_bytes_t *b)
{
    return b->pos < b->len ? b->p[b->pos] : -1;
}

/* Moves to an absolute offset; false (and no move) if pos is past the end. */
static inline bool sn_bytes_seek(sn_bytes_t *b, size_t pos)
{
    if (pos > b->len)
        return false;
    b->pos = pos;
    return true;
}

/*
 * Takes the next n bytes: *out (when out is not NULL) points at them inside
 * the buffer. With out NULL this skips n bytes.
 */
static inline bool sn_bytes_take(sn_bytes_t *b, size_t n, const uint8_t **out)
{
    if (n > sn_bytes_left(b))
        return false;
    /* An empty cursor may have no buffer: NULL plus 0 is undefined in C. */
    if (out != NULL)
        *out = b->p != NULL ? b->p + b->pos : NULL;
    b->pos += n;
    return true;
}

/*
 * Takes the bytes up to and including the first byte equal to stop (a
 * terminated string): *out (when out is not NULL) points at them and *n (when
 * n is not NULL) counts them without the stop byte. False, and no move, when
 * stop does not occur in what is left.
 */
static inline bool sn_bytes_take_until(sn_bytes_t *b, uint8_t stop, const uint8_t **out, size_t *n)
{
    const uint8_t *at = sn_bytes_left(b) > 0 ? memchr(b->p + b->pos, stop, sn_bytes_left(b)) : NULL;
    if (at == NULL)
        return false;
    size_t k = (size_t)(at - (b->p + b->pos));
    if (out != NULL)
        *out = b->p + b->pos;
    if (n != NULL)
        *n = k;
    b->pos += k + 1;
    return true;
}

/* Copies the next n bytes to dst. */
static inline bool sn_bytes_copy(sn_bytes_t *b, void *dst, size_t n)
{
    const uint8_t *s;
    if (!sn_bytes_take(b, n, &s))
        return false;
    if (n > 0)
        memcpy(dst, s, n);
    return true;
}

/* Unchecked big-endian loads and stores: the caller has checked the size. */
static inline uint16_t sn_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t sn_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t sn_get64(const uint8_t *p)
{
    return (uint64_t)sn_get32(p) << 32 | sn_get32(p + 4);
}

static inline void sn_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void sn_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void sn_put64(uint8_t *p, uint64_t v)
{
    sn_put32(p, (uint32_t)(v >> 32));
    sn_put32(p + 4, (uint32_t)v);
}

/*
 * The checked integer reads: the next byte, or the next 2, 4 or 8 bytes as a
 * big-endian integer, into *v. False, with *v and the cursor untouched, when
 * fewer bytes are left.
 */
static inline bool sn_bytes_u8(sn_bytes_t *b, uint8_t *v)
{
    if (b->pos >= b->len)
        return false;
    *v = b->p[b->pos++];
    return true;
}

static inline bool sn_bytes_be16(sn_bytes_t *b, uint16_t *v)
{
    if (sn_bytes_left(b) < 2)
        return false;
    *v = sn_get16(b->p + b->pos);
    b->pos += 2;
    return true;
}

static inline bool sn_bytes_be32(sn_bytes_t *b, uint32_t *v)
{
    if (sn_bytes_left(b) < 4)
        return false;
    *v = sn_get32(b->p + b->pos);
    b->pos += 4;
    return true;
}

static inline bool sn_bytes_be64(sn_bytes_t *b, uint64_t *v)
{
    if (sn_bytes_left(b) < 8)
        return false;
    *v = sn_get64(b->p + b->pos);
    b->pos += 8;
    return true;
}

/* The longest unsigned LEB128 integer of 64 bits: 10 bytes of 7 bits. */
#define SN_LEB128_MAX 10

/*
 * Reads one unsigned LEB128 integer (7 bits a byte, the lowest first, the top
 * bit set on every byte but the last) of at most 10 bytes into *v. Returns
 * NULL, or a static reason: truncated, longer than 10 bytes, or past 64 bits.
 * Unlike the other reads, a failure leaves the cursor after the bytes read so
 * far, so that the fault is reported at that offset.
 */
static inline const char *sn_bytes_leb128(sn_bytes_t *b, uint64_t *v)
{
    uint64_t acc = 0;
    for (unsigned i = 0; i < SN_LEB128_MAX; i++) {
        uint8_t byte;
        if (!sn_bytes_u8(b, &byte))
            return "truncated LEB128 integer";
        uint64_t bits = byte & 0x7fu;
        /* The 10th byte holds bit 63 only: anything more overflows. */
        if (i == SN_LEB128_MAX - 1 && bits > 1)
            return "LEB128 integer overflows 64 bits";
        acc |= bits << (7 * i);
        if ((byte & 0x80u) == 0) {
            *v = acc;
            return NULL;
        }
    }
    return "LEB128 integer longer than 10 bytes";
}

/* Writes v as unsigned LEB128 at p (room for SN_LEB128_MAX bytes); the bytes written. */
static inline size_t sn_put_leb128(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80u) {
        p[n++] = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

#endif
