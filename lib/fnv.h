/*
 * FNV-1a, 64-bit (Fowler, Noll, Vo; draft-eastlake-fnv): a byte-at-a-time
 * string hash that is cheap for short keys and can be continued across
 * pieces. Used where a string key is hashed (the target string table, the
 * classifier's name clusters, the history key set); three copies of the loop
 * became this one.
 */
#ifndef SN_FNV_H
#define SN_FNV_H

#include <stddef.h>
#include <stdint.h>

/* The FNV-1a 64-bit offset basis: the starting value of a fresh hash. */
#define SN_FNV64_OFFSET UINT64_C(0xcbf29ce484222325)

/*
 * Continues the FNV-1a hash h over the len bytes at p (p may be NULL when len
 * is 0). Start with SN_FNV64_OFFSET; hashing "a" then "b" equals hashing "ab".
 */
uint64_t sn_fnv1a64(uint64_t h, const void *p, size_t len);

#endif
