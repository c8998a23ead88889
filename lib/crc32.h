/*
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial value and
 * final XOR 0xFFFFFFFF): the checksum zlib, Ethernet and the STUN FINGERPRINT
 * attribute use. Shared by the Skype probe (payload CRC) and STUN, so that one
 * table and one set of test vectors serve both.
 */
#ifndef SN_CRC32_H
#define SN_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 of len bytes at p (p may be NULL when len is 0). "123456789" gives 0xCBF43926. */
uint32_t sn_crc32(const uint8_t *p, size_t len);

#endif
