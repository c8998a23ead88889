/*
 * The counting hash maps (see hashmap.h). Both grow by doubling at 3/4 load
 * and rehash every key into the new table; they differ only in the key type
 * and in whether a value array exists. uint64 keys are hashed with
 * sn_u64map_hash, addresses with sn_addr_hash.
 */
#include "lib/hashmap.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 16u

static size_t u64_slot(uint64_t key, size_t cap)
{
    return (size_t)sn_u64map_hash(key) & (cap - 1);
}

void sn_u64map_free(sn_u64map_t *m)
{
    if (m == NULL)
        return;
    free(m->k);
    free(m->v);
    memset(m, 0, sizeof *m);
}

static bool u64_grow(sn_u64map_t *m)
{
    size_t nc = m->cap ? m->cap * 2 : FIRST_CAP;
    uint64_t *nk = malloc(nc * sizeof *nk), *nv = calloc(nc, sizeof *nv);
    if (nk == NULL || nv == NULL) {
        free(nk);
        free(nv);
        return false;
    }
    memset(nk, 0xff, nc * sizeof *nk);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->k[i] == UINT64_MAX)
            continue;
        size_t j = u64_slot(m->k[i], nc);
        while (nk[j] != UINT64_MAX)
            j = (j + 1) & (nc - 1);
        nk[j] = m->k[i];
        nv[j] = m->v[i];
    }
    free(m->k);
    free(m->v);
    m->k = nk;
    m->v = nv;
    m->cap = nc;
    return true;
}

uint64_t *sn_u64map_get(sn_u64map_t *m, uint64_t key, bool insert)
{
    if (m == NULL || key == UINT64_MAX)
        return NULL;
    if (insert && (m->n + 1) * 4 > m->cap * 3 && !u64_grow(m))
        return NULL;
    if (m->cap == 0)
        return NULL;
    size_t j = u64_slot(key, m->cap);
    while (m->k[j] != UINT64_MAX) {
        if (m->k[j] == key)
            return &m->v[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (!insert)
        return NULL;
    m->k[j] = key;
    m->v[j] = 0;
    m->n++;
    return &m->v[j];
}

/*
 * The walk of both maps over their parallel arrays: keys of ksize bytes each, vals (NULL
 * for a set: *val gets 0) and cap slots. From *pos on, finds the next slot whose key
 * used() says is one, copies it out (key and val may be NULL), leaves *pos just past it
 * and returns true; false at the end of the table. The callers pass a constant used(),
 * which the compiler inlines.
 */
static bool walk(const void *keys, size_t ksize, const uint64_t *vals, size_t cap,
                 bool (*used)(const void *key), size_t *pos, void *key, uint64_t *val)
{
    for (; *pos < cap; (*pos)++) {
        const void *k = (const char *)keys + *pos * ksize;
        if (!used(k))
            continue;
        if (key != NULL)
            memcpy(key, k, ksize);
        if (val != NULL)
            *val = vals != NULL ? vals[*pos] : 0;
        (*pos)++;
        return true;
    }
    return false;
}

static bool u64_used(const void *key)
{
    return *(const uint64_t *)key != UINT64_MAX;
}

bool sn_u64map_next(const sn_u64map_t *m, size_t *pos, uint64_t *key, uint64_t *val)
{
    return m != NULL && walk(m->k, sizeof *m->k, m->v, m->cap, u64_used, pos, key, val);
}

/* ---- addresses ---------------------------------------------------------- */

/* The key as stored: the bytes past the IP's length and the padding zeroed, so
 * that memcmp and the hash see only what the address says. */
static sn_addr_t addr_key(const sn_addr_t *in)
{
    sn_addr_t k;
    memset(&k, 0, sizeof k);
    k.family = in->family;
    k.port = in->port;
    memcpy(k.ip, in->ip, in->family == AF_INET ? 4 : 16);
    return k;
}

void sn_addrmap_free(sn_addrmap_t *m)
{
    if (m == NULL)
        return;
    free(m->k);
    free(m->v);
    memset(m, 0, sizeof *m);
}

static bool addr_grow(sn_addrmap_t *m, bool values)
{
    size_t nc = m->cap ? m->cap * 2 : FIRST_CAP;
    sn_addr_t *nk = calloc(nc, sizeof *nk);
    uint64_t *nv = values ? calloc(nc, sizeof *nv) : NULL;
    if (nk == NULL || (values && nv == NULL)) {
        free(nk);
        free(nv);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->k[i].family == 0)
            continue;
        size_t j = sn_addr_hash(&m->k[i], 0) & (nc - 1);
        while (nk[j].family != 0)
            j = (j + 1) & (nc - 1);
        nk[j] = m->k[i];
        if (values)
            nv[j] = m->v[i];
    }
    free(m->k);
    free(m->v);
    m->k = nk;
    m->v = nv;
    m->cap = nc;
    return true;
}

/* The slot of key, inserting it when insert; SIZE_MAX when absent or out of memory. */
static size_t addr_slot(sn_addrmap_t *m, const sn_addr_t *key, bool insert, bool values)
{
    if (insert && (m->n + 1) * 4 > m->cap * 3 && !addr_grow(m, values))
        return SIZE_MAX;
    if (m->cap == 0)
        return SIZE_MAX;
    size_t j = sn_addr_hash(key, 0) & (m->cap - 1);
    while (m->k[j].family != 0) {
        if (memcmp(&m->k[j], key, sizeof *key) == 0)
            return j;
        j = (j + 1) & (m->cap - 1);
    }
    if (!insert)
        return SIZE_MAX;
    m->k[j] = *key;
    if (values)
        m->v[j] = 0;
    m->n++;
    return j;
}

bool sn_addrmap_put(sn_addrmap_t *m, const sn_addr_t *in)
{
    if (m == NULL || in == NULL)
        return false;
    if (in->family == 0)
        return true;
    sn_addr_t key = addr_key(in);
    return addr_slot(m, &key, true, false) != SIZE_MAX;
}

uint64_t *sn_addrmap_get(sn_addrmap_t *m, const sn_addr_t *in, bool insert)
{
    if (m == NULL || in == NULL || in->family == 0)
        return NULL;
    sn_addr_t key = addr_key(in);
    size_t j = addr_slot(m, &key, insert, true);
    return j != SIZE_MAX && m->v != NULL ? &m->v[j] : NULL;
}

static bool addr_used(const void *key)
{
    return ((const sn_addr_t *)key)->family != 0;
}

bool sn_addrmap_next(const sn_addrmap_t *m, size_t *pos, sn_addr_t *key, uint64_t *val)
{
    return m != NULL && walk(m->k, sizeof *m->k, m->v, m->cap, addr_used, pos, key, val);
}
