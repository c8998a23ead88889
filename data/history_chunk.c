/*
 * The history store's packed batches of observations (history_chunk.h).
 */
#include "data/history_chunk.h"
#include "lib/bytes.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_VERSION 1
#define F_PROBED 1u
#define F_ALIVE 2u
#define F_INCOMPLETE 4u

/* A growing byte buffer for the encoder. */
typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf_t;

/* Room for n more bytes; false when out of memory. */
static bool buf_room(buf_t *b, size_t n)
{
    if (b->cap - b->len >= n)
        return true;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc - b->len < n)
        nc *= 2;
    uint8_t *np = realloc(b->p, nc);
    if (np == NULL)
        return false;
    b->p = np;
    b->cap = nc;
    return true;
}

/* Appends v (room for SN_LEB128_MAX bytes was made). */
static void put_u(buf_t *b, uint64_t v)
{
    b->len += sn_put_leb128(b->p + b->len, v);
}

/* Appends a text's length (+ bias) and its bytes; false when out of memory. */
static bool put_text(buf_t *b, const char *s, size_t n, uint64_t bias)
{
    if (!buf_room(b, SN_LEB128_MAX + n))
        return false;
    put_u(b, n + bias);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return true;
}

static const char *cell_of(const sn_history_obs_t *o, size_t i)
{
    const char *c = o->cells ? o->cells[i] : NULL;
    return c ? c : "";
}

sn_status_t sn_hchunk_encode(const sn_history_obs_t *obs, size_t n, size_t n_cells, uint8_t **blob,
                             size_t *len, sn_error_t *err)
{
    *blob = NULL;
    *len = 0;
    buf_t b = {0};
    if (!buf_room(&b, 3 * SN_LEB128_MAX))
        goto oom;
    put_u(&b, CHUNK_VERSION);
    put_u(&b, n);
    put_u(&b, n_cells);
    int64_t prev_at = 0;
    for (size_t k = 0; k < n; k++) {
        const sn_history_obs_t *o = &obs[k];
        const char *addr = o->address ? o->address : "";
        size_t alen = strlen(addr);
        if (alen > SN_HCHUNK_ADDR_MAX) {
            free(b.p);
            return sn_error_set(err, SN_EINVAL, "history: address '%.64s...' is too long", addr);
        }
        if (!buf_room(&b, 1 + 3 * SN_LEB128_MAX))
            goto oom;
        b.p[b.len++] = (uint8_t)((o->probed ? F_PROBED : 0) | (o->alive ? F_ALIVE : 0) |
                                 (o->incomplete ? F_INCOMPLETE : 0));
        if (!put_text(&b, addr, alen, 0) || !buf_room(&b, 2 * SN_LEB128_MAX))
            goto oom;
        put_u(&b, o->port);
        /* The zigzag of the difference, in unsigned arithmetic (no overflow to undefine). */
        uint64_t d = (uint64_t)o->observed_at - (uint64_t)prev_at;
        put_u(&b, (d << 1) ^ (uint64_t) - (int64_t)(d >> 63));
        prev_at = o->observed_at;
        for (size_t i = 0; i < n_cells; i++) {
            const char *c = cell_of(o, i), *was = k > 0 ? cell_of(&obs[k - 1], i) : "";
            /* The first bytes first: most cells are empty, or differ there. */
            if (c[0] == was[0] && (c[0] == '\0' || strcmp(c + 1, was + 1) == 0)) {
                if (!buf_room(&b, 1))
                    goto oom;
                b.p[b.len++] = 0;
            } else if (!put_text(&b, c, strlen(c), 1)) {
                goto oom;
            }
        }
    }
    *blob = b.p;
    *len = b.len;
    return SN_OK;
oom:
    free(b.p);
    return sn_error_set(err, SN_ENOMEM, "out of memory");
}

/* Reads the header through r; NULL or the reason it is refused. */
static const char *read_header(sn_bytes_t *r, uint64_t *n, uint64_t *n_cells)
{
    uint64_t version;
    const char *why;
    if ((why = sn_bytes_leb128(r, &version)) != NULL)
        return why;
    if (version != CHUNK_VERSION)
        return "unknown chunk version";
    if ((why = sn_bytes_leb128(r, n)) != NULL || (why = sn_bytes_leb128(r, n_cells)) != NULL)
        return why;
    /* Every observation takes at least 4 bytes and every cell 1: more than is left is a lie
     * (and refusing it here bounds what the decoder allocates). */
    if (*n_cells > sn_bytes_left(r) || *n > sn_bytes_left(r) / 4)
        return "counts larger than the chunk";
    return NULL;
}

sn_status_t sn_hchunk_header(const uint8_t *blob, size_t len, uint64_t *n, uint64_t *n_cells,
                             sn_error_t *err)
{
    sn_bytes_t r = sn_bytes(blob, len);
    const char *why = read_header(&r, n, n_cells);
    if (why != NULL)
        return sn_error_set(err, SN_EINVAL, "history chunk: %s at byte %zu", why, r.pos);
    return SN_OK;
}

/* One column's current text, NUL-terminated. */
typedef struct col {
    char *s;
    size_t cap;
} col_t;

/* Takes a text of n bytes through r into *dst (grown to fit); NULL or why it failed. */
static const char *take_text(sn_bytes_t *r, size_t n, col_t *dst, bool *oom)
{
    const uint8_t *at;
    if (!sn_bytes_take(r, n, &at))
        return "text past the end of the chunk";
    if (n > 0 && memchr(at, 0, n) != NULL)
        return "text holds a NUL byte";
    if (dst->cap < n + 1) {
        size_t nc = dst->cap ? dst->cap : 32;
        while (nc < n + 1)
            nc *= 2;
        char *ns = realloc(dst->s, nc);
        if (ns == NULL) {
            *oom = true;
            return "out of memory";
        }
        dst->s = ns;
        dst->cap = nc;
    }
    if (n > 0)
        memcpy(dst->s, at, n);
    dst->s[n] = '\0';
    return NULL;
}

sn_status_t sn_hchunk_decode(const uint8_t *blob, size_t len, sn_history_obs_fn fn, void *ud,
                             sn_error_t *err)
{
    sn_bytes_t r = sn_bytes(blob, len);
    uint64_t n, n_cells;
    const char *why = read_header(&r, &n, &n_cells);
    if (why != NULL)
        return sn_error_set(err, SN_EINVAL, "history chunk: %s at byte %zu", why, r.pos);
    size_t nc = (size_t)n_cells;
    col_t *cols = calloc(nc + 1, sizeof *cols); /* the cells, then the address */
    const char **cells = calloc(nc ? nc : 1, sizeof *cells);
    bool oom = cols == NULL || cells == NULL;
    for (size_t i = 0; !oom && i < nc; i++) { /* every column starts as "" */
        if ((cols[i].s = calloc(1, 32)) == NULL)
            oom = true;
        else
            cols[i].cap = 32;
    }
    int64_t at = 0;
    for (uint64_t k = 0; !oom && why == NULL && k < n; k++) {
        uint8_t flags;
        uint64_t alen, port, zz;
        if (!sn_bytes_u8(&r, &flags)) {
            why = "observation past the end of the chunk";
            break;
        }
        if (flags > (F_PROBED | F_ALIVE | F_INCOMPLETE)) {
            why = "unknown flags";
            break;
        }
        if ((why = sn_bytes_leb128(&r, &alen)) != NULL)
            break;
        if (alen == 0 || alen > SN_HCHUNK_ADDR_MAX) {
            why = "address length out of range";
            break;
        }
        if ((why = take_text(&r, (size_t)alen, &cols[nc], &oom)) != NULL ||
            (why = sn_bytes_leb128(&r, &port)) != NULL)
            break;
        if (port > UINT16_MAX) {
            why = "port above 65535";
            break;
        }
        if ((why = sn_bytes_leb128(&r, &zz)) != NULL)
            break;
        at = (int64_t)((uint64_t)at + ((zz >> 1) ^ (uint64_t) - (int64_t)(zz & 1)));
        for (size_t i = 0; why == NULL && i < nc; i++) {
            uint64_t code;
            if ((why = sn_bytes_leb128(&r, &code)) == NULL && code > 0) {
                if (code - 1 > sn_bytes_left(&r))
                    why = "text past the end of the chunk";
                else
                    why = take_text(&r, (size_t)(code - 1), &cols[i], &oom);
            }
            cells[i] = cols[i].s;
        }
        if (why != NULL)
            break;
        sn_history_obs_t o = {.address = cols[nc].s,
                              .port = (uint16_t)port,
                              .observed_at = at,
                              .probed = (flags & F_PROBED) != 0,
                              .alive = (flags & F_ALIVE) != 0,
                              .incomplete = (flags & F_INCOMPLETE) != 0,
                              .cells = cells};
        fn(ud, &o);
    }
    if (!oom && why == NULL && sn_bytes_left(&r) > 0)
        why = "bytes after the last observation";
    size_t pos = r.pos;
    for (size_t i = 0; cols != NULL && i <= nc; i++)
        free(cols[i].s);
    free(cols);
    free(cells);
    if (oom)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    if (why != NULL)
        return sn_error_set(err, SN_EINVAL, "history chunk: %s at byte %zu", why, pos);
    return SN_OK;
}
