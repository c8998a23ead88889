/*
 * Shards of a target set (--shard K/N): N scanners with the same inputs and
 * the same --seed probe every target exactly once between them, and a target
 * lands in the same shard night after night, because its shard is a keyed
 * hash of its address and port alone (not of its position in the inputs,
 * nor of the set it is in).
 */
#ifndef SN_SHARD_H
#define SN_SHARD_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/status.h"

/* The most shards: a split finer than this buys nothing a scanner could use. */
#define SN_SHARD_MAX 65536u

typedef struct sn_shard {
    unsigned k, n; /* shard k of n (1 <= k <= n); n 0: no sharding */
    uint64_t key;  /* the --seed */
} sn_shard_t;

/*
 * Parses "K/N" (decimal, 1 <= K <= N <= SN_SHARD_MAX) into s (key untouched).
 * SN_EINVAL with a message naming the text and what is wrong.
 */
sn_status_t sn_shard_parse(const char *text, sn_shard_t *s, sn_error_t *err);

/* The shard (1..n) of address:port for a key; n >= 1. */
unsigned sn_shard_of(const sn_addr_t *a, uint64_t key, unsigned n);

/* Whether a belongs to s (always, without sharding). */
bool sn_shard_has(const sn_shard_t *s, const sn_addr_t *a);

#endif
