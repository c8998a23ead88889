/*
 * Open-addressing hash maps for counting: uint64 -> uint64 (sn_u64map_t) and
 * address -> uint64 or a set of addresses (sn_addrmap_t). Linear probing over
 * a power-of-two table kept at most 3/4 full, so a lookup is a hash and a few
 * adjacent slots, and memory follows the number of distinct keys. Keys are
 * never removed: the users count what a stream showed them and free the whole
 * map at the end.
 *
 * A zeroed struct is an empty map (no allocation until the first insert);
 * _free accepts one and leaves it empty again. Iteration order is the slot
 * order: callers that print sort what they read out.
 */
#ifndef SN_HASHMAP_H
#define SN_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

/* uint64 -> uint64; the key UINT64_MAX marks an empty slot and cannot be stored. */
typedef struct sn_u64map {
    uint64_t *k, *v;
    size_t cap, n; /* slots, keys stored */
} sn_u64map_t;

void sn_u64map_free(sn_u64map_t *m);

/*
 * The hash a uint64 key is placed by: the splitmix64 finaliser (sn_mix64) of the key plus
 * the golden-ratio constant, so that small and sequential keys spread over the table.
 * Callers that key a map by a hash of their own use it as the next hash of a chain when
 * two of their keys collide.
 */
static inline uint64_t sn_u64map_hash(uint64_t key)
{
    return sn_mix64(key + UINT64_C(0x9e3779b97f4a7c15));
}

/*
 * The value slot of key: with insert, a new key is added with value 0; without
 * it, NULL when absent. NULL also for key UINT64_MAX and when growing the
 * table runs out of memory (the map is then unchanged). The pointer is valid
 * until the next insert.
 */
uint64_t *sn_u64map_get(sn_u64map_t *m, uint64_t key, bool insert);

/* Walks the keys: start with *pos = 0; false when there are no more. */
bool sn_u64map_next(const sn_u64map_t *m, size_t *pos, uint64_t *key, uint64_t *val);

/*
 * Address -> uint64, or a set of addresses. Keys compare as whole addresses
 * (family, IP, port): a caller that means "per IP" zeroes the port first.
 * Family 0 marks an empty slot; such a key is ignored. Use one map either as
 * a set (sn_addrmap_put) or as a map (sn_addrmap_get), never both: a set
 * stores no values (v stays NULL), so a million addresses cost 20 bytes a slot.
 */
typedef struct sn_addrmap {
    sn_addr_t *k;
    uint64_t *v; /* NULL for a set */
    size_t cap, n;
} sn_addrmap_t;

void sn_addrmap_free(sn_addrmap_t *m);

/* Adds key to the set; true when it is there now (also when it already was, or
 * family 0), false when out of memory. */
bool sn_addrmap_put(sn_addrmap_t *m, const sn_addr_t *key);

/* The value slot of key, as sn_u64map_get; NULL for family 0. */
uint64_t *sn_addrmap_get(sn_addrmap_t *m, const sn_addr_t *key, bool insert);

/* Walks the keys (val may be NULL; it gets 0 for a set): *pos = 0 first. */
bool sn_addrmap_next(const sn_addrmap_t *m, size_t *pos, sn_addr_t *key, uint64_t *val);

#endif
