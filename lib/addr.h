/*
 * Endpoint addresses: an IPv4 or IPv6 address with a port, in a fixed 20-byte
 * value type that hashes and compares without touching sockaddr.
 *
 * Every address that comes from outside (files, packets, the command line) is
 * parsed here, strictly: inet_pton only, so `010.0.0.1`, `127.1` and
 * `0x7f.0.0.1` are rejected rather than read as octal or short forms, and ports
 * are plain decimal 1..65535 (no sign, no leading `0x`, `033033` is 33033 and
 * never octal).
 */
#ifndef SN_ADDR_H
#define SN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/status.h"

typedef struct sn_addr {
    uint8_t family; /* AF_INET, AF_INET6, or 0 for "no address" */
    uint8_t pad_;   /* always 0 so that memcmp/hash see defined bytes */
    uint16_t port;  /* host byte order; 0 when only an IP is meant */
    uint8_t ip[16]; /* network order; IPv4 uses ip[0..3], the rest is 0 */
} sn_addr_t;

/* Longest text sn_addr_format writes, with the NUL: "[v6]:65535". */
#define SN_ADDR_STRLEN 48

/*
 * Parses an IP literal of exactly len bytes (no port, no brackets).
 * Returns SN_OK or SN_EPARSE; on success out->port is 0.
 */
sn_status_t sn_addr_parse_ip(const char *s, size_t len, sn_addr_t *out);

/*
 * Parses a decimal port 1..65535 of exactly len bytes.
 * Returns SN_OK or SN_EPARSE; *why (if not NULL) gets a static reason.
 */
sn_status_t sn_addr_parse_port(const char *s, size_t len, uint16_t *out, const char **why);

/*
 * Parses "a.b.c.d:port", "[v6]:port". A bare IPv6 literal with a port
 * ("::1:80") is ambiguous and rejected. Leading/trailing blanks are not
 * accepted here; callers trim. *why gets a static reason on failure.
 */
sn_status_t sn_addr_parse_endpoint(const char *s, size_t len, sn_addr_t *out, const char **why);

/* Writes "ip" (with_port false) or "ip:port" / "[ip]:port". Returns length. */
size_t sn_addr_format(const sn_addr_t *a, char *buf, size_t cap, bool with_port);

/* Family-aware equality of IP and port; of IP alone. */
bool sn_addr_equal(const sn_addr_t *a, const sn_addr_t *b);
bool sn_addr_same_ip(const sn_addr_t *a, const sn_addr_t *b);

/* The splitmix64 finaliser: a bijection on 64 bits with full avalanche. */
uint64_t sn_mix64(uint64_t x);

/* A well-mixed 64-bit hash of IP and port, seeded (seed 0 is fine). */
uint64_t sn_addr_hash(const sn_addr_t *a, uint64_t seed);

/* Conversions to and from the socket API. Returns the sockaddr length. */
socklen_t sn_addr_to_sockaddr(const sn_addr_t *a, struct sockaddr_storage *ss);
sn_status_t sn_addr_from_sockaddr(const struct sockaddr *sa, sn_addr_t *out);

/* IPv4 address as a host-order integer (only for AF_INET). */
uint32_t sn_addr_v4(const sn_addr_t *a);
void sn_addr_set_v4(sn_addr_t *a, uint32_t host_order_ip, uint16_t port);

#endif
