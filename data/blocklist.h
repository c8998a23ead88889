/*
 * Which addresses a scan must never touch.
 *
 * The default list holds the special-purpose ranges of RFC 6890 and later
 * registries (private, loopback, link-local, CGN shared space, multicast,
 * reserved, documentation, benchmarking, ...), IPv4 and IPv6. A user opens a
 * range explicitly with --allow CIDR (the tests and the demo allow
 * 127.0.0.0/8 and ::1/128); --exclude-file adds ranges that are blocked
 * whatever --allow says.
 *
 * Decision: excluded by the user -> blocked; else in the floor (multicast,
 * broadcast, 0.0.0.0/8, ::/128) -> blocked whatever --allow says; else an
 * IPv4-mapped or NAT64 (64:ff9b::/96) address -> the verdict on the IPv4 address
 * it carries; else in a default range and not inside an allowed range ->
 * blocked; else probed.
 */
#ifndef SN_BLOCKLIST_H
#define SN_BLOCKLIST_H

#include <stdbool.h>
#include <stdio.h>

#include "lib/status.h"
#include "lib/addr.h"

typedef struct sn_blocklist sn_blocklist_t;

/* A blocklist holding the default special-purpose ranges. NULL on no memory. */
sn_blocklist_t *sn_blocklist_new(void);
void sn_blocklist_free(sn_blocklist_t *bl); /* accepts NULL */

/* Parses "a.b.c.d/n", "v6/n" or a bare address (a /32 or /128). Strict: host bits must be 0. */
sn_status_t sn_cidr_parse(const char *s, sn_addr_t *net, unsigned *prefix, sn_error_t *err);

/* Opens a range for scanning (--allow). */
sn_status_t sn_blocklist_allow(sn_blocklist_t *bl, const char *cidr, sn_error_t *err);
/*
 * Tells the user on f what an --allow CIDR does: when it is wider than a /8 and opens
 * special-purpose ranges, each range it opens and each one of the floor (multicast,
 * broadcast, 0.0.0.0/8, ::/128) that stays blocked; when it opens nothing the blocklist
 * holds, says so. Silent for a precise range (a /8 or longer) that opens something, and
 * for a CIDR that does not parse (sn_blocklist_allow reports that).
 */
void sn_blocklist_explain_allow(const char *cidr, FILE *f);
/* Blocks a range whatever --allow says (one line of --exclude-file). */
sn_status_t sn_blocklist_exclude(sn_blocklist_t *bl, const char *cidr, sn_error_t *err);
/* Reads CIDRs, one per line, `#` comments; a bad line is an error naming file and line. */
sn_status_t sn_blocklist_load(sn_blocklist_t *bl, const char *path, sn_error_t *err);

/*
 * True if a must not be probed; *why (may be NULL) gets the name of the range
 * that blocks it ("private (RFC 1918)", "excluded by user", ...).
 */
bool sn_blocklist_blocked(const sn_blocklist_t *bl, const sn_addr_t *a, const char **why);

#endif
