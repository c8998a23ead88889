/*
 * FNV-1a 64: XOR the byte in, then multiply by the FNV prime 2^40 + 2^8 + 0xb3.
 */
#include "lib/fnv.h"

uint64_t sn_fnv1a64(uint64_t h, const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}
