/*
 * Firewall export: the alive (or only the super-node eligible) nodes of a
 * scan as a blocklist, the use the studies had in mind (an operator who
 * wants to keep Skype-style overlays off a network). Formats:
 *   nft    an nftables script for `nft -f`: table inet snprobe with the sets
 *          supernodes_v4 (ipv4_addr . inet_service) and supernodes_v6
 *          (ipv6_addr . inet_service), or ipv4_addr / ipv6_addr alone with
 *          addr_only. The sets are declared, flushed and refilled, so the
 *          script can be loaded again after every scan without touching the
 *          user's own chains in that table.
 *   ipset  an `ipset restore` file: snprobe_v4 / snprobe_v6 of type
 *          hash:ip,port (one udp: and one tcp: entry per node, since a node
 *          speaks both) or hash:ip with addr_only, created with -exist,
 *          flushed and refilled, maxelem sized to fit.
 *   plain  one node per line, "ip:port" ("[v6]:port"), or "ip" with addr_only.
 * The port is the node's own (listed) port. Nodes are written sorted
 * (IPv4 before IPv6, then by address and port) and without duplicates, so two
 * exports of the same results are byte-identical.
 */
#ifndef SN_EXPORT_H
#define SN_EXPORT_H

#include <stdbool.h>

#include "data/result.h"
#include "probes/probe.h" /* the probes a result points at */
#include "lib/status.h"

typedef enum sn_export_format {
    SN_EXPORT_NFT = 0,
    SN_EXPORT_IPSET,
    SN_EXPORT_PLAIN
} sn_export_format_t;

typedef struct sn_export_opts {
    sn_export_format_t format;
    bool eligible_only; /* only super-node eligible nodes (else every alive node) */
    bool addr_only;     /* addresses without ports */
    const char *name;   /* nft table / ipset prefix; NULL: "snprobe". [A-Za-z0-9_], 1-24 chars */
} sn_export_opts_t;

typedef struct sn_export sn_export_t;

/*
 * Starts an export to path ("-": standard output); nothing is written until
 * close. Returns SN_EINVAL (bad name or format), SN_ENOMEM.
 */
sn_status_t sn_export_new(sn_export_t **out, const sn_export_opts_t *opts, const char *path,
                          sn_error_t *err);

/* Offers one result; kept when it passes the filter (alive or eligible). SN_ENOMEM. */
sn_status_t sn_export_add(sn_export_t *ex, const sn_result_t *r);

/* Nodes kept so far (before duplicates are removed). */
size_t sn_export_count(const sn_export_t *ex);

/*
 * Sorts, removes duplicates and writes the file (an sn_outfile: temporary renamed over PATH),
 * then frees ex (accepts NULL). *written (may be NULL) gets the number of
 * nodes written. Returns SN_EIO naming the file.
 */
sn_status_t sn_export_close(sn_export_t *ex, size_t *written, sn_error_t *err);

/*
 * Convenience: offers the result and returns whether it passes the filter,
 * without an export (for counting).
 */
bool sn_export_wants(const sn_export_opts_t *opts, const sn_result_t *r);

#endif
