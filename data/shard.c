/*
 * Shards (see shard.h). The hash is sn_addr_hash keyed with the seed mixed
 * with a constant of its own, so that the shard split is independent of the
 * target set's own hash table and of the probe order; its high 32 bits are
 * scaled onto 1..N (multiply and shift), which keeps the shards within one
 * target of even for any N, not only for powers of two. tests/test_shard.c
 * pins a few targets' shards: a change here would move targets between
 * shards from one night to the next.
 */
#include "data/shard.h"
#include "lib/decimal.h"

#include <string.h>

#define SHARD_DOMAIN UINT64_C(0x5348415244534e50) /* "SHARDSNP" */

/* K or N: at most six bytes (leading zeros count), so that the range checks below see a
 * value that fits, and "0000001/4" stays refused as before. */
static bool parse_uint(const char *s, size_t len, unsigned *out)
{
    uint64_t v;
    if (len > 6 || !sn_decimal_u64(s, len, 999999, &v))
        return false;
    *out = (unsigned)v;
    return true;
}

sn_status_t sn_shard_parse(const char *text, sn_shard_t *s, sn_error_t *err)
{
    const char *slash = text ? strchr(text, '/') : NULL;
    unsigned k, n;
    if (slash == NULL || !parse_uint(text, (size_t)(slash - text), &k) ||
        !parse_uint(slash + 1, strlen(slash + 1), &n))
        return sn_error_set(err, SN_EINVAL, "--shard '%s': expected K/N, two whole numbers",
                            text ? text : "");
    if (n < 1 || n > SN_SHARD_MAX)
        return sn_error_set(err, SN_EINVAL, "--shard '%s': N must be 1 to %u", text, SN_SHARD_MAX);
    if (k < 1 || k > n)
        return sn_error_set(err, SN_EINVAL, "--shard '%s': K must be 1 to N (%u)", text, n);
    s->k = k;
    s->n = n;
    return SN_OK;
}

unsigned sn_shard_of(const sn_addr_t *a, uint64_t key, unsigned n)
{
    uint64_t h = sn_addr_hash(a, key ^ SHARD_DOMAIN) >> 32;
    return (unsigned)((h * n) >> 32) + 1;
}

bool sn_shard_has(const sn_shard_t *s, const sn_addr_t *a)
{
    return s == NULL || s->n == 0 || sn_shard_of(a, s->key, s->n) == s->k;
}
