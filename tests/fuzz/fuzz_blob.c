/*
 * Fuzz harness for the Skype 3.x+ host-cache blob decoder: arbitrary bytes as
 * an already un-hexed blob. Every entry delivered must carry an IPv4 address;
 * the decoder must stop cleanly (never read past size) on anything else.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "data/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sn_status_t on_entry(void *ud, unsigned index, const sn_addr_t *addr,
                            const sn_listing_t *listing)
{
    unsigned *n = ud;
    if (index != *n || addr->family != AF_INET || listing == NULL ||
        listing->first_seen > listing->last_seen)
        abort(); /* a decoder bug, which the fuzzer must see */
    (*n)++;
    return SN_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned n = 0;
    sn_error_t err;
    sn_hostcache_blob_decode(data, size, on_entry, &n, &err);
    return 0;
}
