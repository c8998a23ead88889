/*
 * Reverse DNS: PTR lookups of target addresses through c-ares, driven by the
 * scanner's own libuv loop (one uv_poll_t per c-ares socket, one timer for
 * c-ares timeouts), with a cap on lookups in flight and a FIFO for the rest.
 *
 * Every lookup ends in one status that keeps the error class a user needs
 * (NXDOMAIN is not SERVFAIL is not a timeout), and with every PTR name of the
 * answer. Names come from outside and are never trusted: they are passed on as
 * received (in presentation form, see sn_rdns_parse_reply) and callers decide
 * with sn_hostname_valid whether a name is a plausible host name.
 *
 * Why our own reply parser: c-ares 1.18's ares_parse_ptr_reply rejects the
 * whole answer when one name holds a byte other than a letter, digit or one
 * of "-._*" and slash, so one odd PTR would hide the others and turn the
 * lookup into an error; and without ARES_FLAG_NOCHECKRESP c-ares reports
 * SERVFAIL and REFUSED as ECONNREFUSED.
 * We therefore ask with ARES_FLAG_NOCHECKRESP (a SERVFAIL or REFUSED answer is
 * final and not retried on the next server; timeouts and unreachable servers
 * still fail over) and parse the reply with the bounds-checked reader here.
 */
#ifndef SN_RDNS_H
#define SN_RDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "lib/status.h"
#include "lib/addr.h"

typedef enum sn_rdns_status {
    SN_RDNS_OK = 0,    /* one or more PTR names (some may be invalid names) */
    SN_RDNS_NXDOMAIN,  /* RCODE 3: the PTR name does not exist */
    SN_RDNS_NODATA,    /* NOERROR but no PTR record: the name exists without one */
    SN_RDNS_SERVFAIL,  /* RCODE 2 */
    SN_RDNS_REFUSED,   /* RCODE 5 */
    SN_RDNS_TIMEOUT,   /* no answer from any server within timeout and tries */
    SN_RDNS_BADRESP,   /* malformed or mismatched reply, or RCODE 1 (FORMERR) */
    SN_RDNS_SKIPPED,   /* not looked up; never produced here, for callers' records */
    SN_RDNS_CANCELLED, /* sn_rdns_close ran before the lookup finished */
    SN_RDNS_ERROR,     /* anything else: no server reachable (ICMP refused),
                          NOTIMP and other RCODEs, out of memory */
    SN_RDNS_STATUS_COUNT
} sn_rdns_status_t;

/* At most this many names are passed per lookup; further PTRs are dropped. */
#define SN_RDNS_MAX_NAMES 32

typedef struct sn_rdns sn_rdns_t;

typedef struct sn_rdns_opts {
    /*
     * DNS servers as "ADDR[:PORT]": "192.0.2.53", "192.0.2.53:5353",
     * "2001:db8::53" (bare IPv6, port 53) or "[2001:db8::53]:5353". Tried in
     * order on timeouts. NULL or n_servers 0: the system resolver
     * (/etc/resolv.conf). The strings are copied.
     */
    const char *const *servers;
    size_t n_servers;
    /* Timeout of the first try in ms; c-ares doubles it for each later round
     * over the servers. 0 means 2000. */
    unsigned timeout_ms;
    /* Tries per server (1 = no retry). 0 means 2. */
    unsigned tries;
    /* Lookups sent at once; the rest wait in a FIFO. 0 means 100. */
    size_t max_inflight;
    /* Cap on lookups waiting in the FIFO; 0 means no cap. */
    size_t max_queued;
    /*
     * Circuit breaker: after this many consecutive lookups timed out (every
     * server silent for the whole bounded time), the resolver stops asking
     * for a back-off period (30 s, doubling up to 5 min) and ends queued
     * lookups at once as SN_RDNS_TIMEOUT; after it, one lookup at a time
     * tests the servers (the rest still end at once) until one answers.
     * 0 means 16. on_trip (may be NULL) is told each time it opens.
     */
    unsigned breaker_timeouts;
    void (*on_trip)(void *ud, unsigned timeouts, unsigned backoff_ms);
    void *trip_ud;
} sn_rdns_opts_t;

/*
 * Called exactly once per accepted lookup. addr is the looked-up address.
 * names (NULL when n_names is 0) are the PTR targets in answer order, only
 * for SN_RDNS_OK, each in presentation form; names and addr are valid only
 * during the call. The callback may call sn_rdns_lookup and sn_rdns_close.
 */
typedef void (*sn_rdns_cb)(void *ud, const sn_addr_t *addr, sn_rdns_status_t st,
                           const char *const *names, size_t n_names);

/*
 * Creates a resolver on loop. opts may be NULL (all defaults, system
 * resolver). Returns SN_OK and *out, SN_EINVAL (a bad server string or
 * limit, named in err), SN_ENOMEM, or SN_ESYS (c-ares could not start; its
 * text is in err).
 */
sn_status_t sn_rdns_new(uv_loop_t *loop, const sn_rdns_opts_t *opts, sn_rdns_t **out,
                        sn_error_t *err);

/*
 * Queues a PTR lookup of addr's IP (its port is ignored). The lookup is sent
 * from the loop, never from inside this call, so cb never runs before this
 * returns. Returns SN_OK (cb will fire once), SN_EINVAL (NULL argument,
 * family not AF_INET/AF_INET6, or the resolver is closing), SN_ELIMIT (the
 * FIFO is full) or SN_ENOMEM; on error cb never fires.
 */
sn_status_t sn_rdns_lookup(sn_rdns_t *r, const sn_addr_t *addr, sn_rdns_cb cb, void *ud);

/* Lookups accepted whose callback has not fired yet (queued and in flight). */
size_t sn_rdns_pending(const sn_rdns_t *r);

/* Lookups answered at once as timed out because the breaker was open. */
size_t sn_rdns_short_circuited(const sn_rdns_t *r);

/*
 * Cancels every pending lookup (callbacks fire once with SN_RDNS_CANCELLED:
 * within this call, or, when called from inside an sn_rdns callback, as soon
 * as that callback returns), then closes the c-ares channel and the libuv
 * handles. Memory is freed in the handles' close callbacks, so run the loop
 * afterwards. Accepts NULL; a second call is a no-op.
 */
void sn_rdns_close(sn_rdns_t *r);

/* "ok", "nxdomain", "nodata", "servfail", "refused", "timeout", "badresp",
 * "skipped", "cancelled", "error" (also for values out of range). */
const char *sn_rdns_status_name(sn_rdns_status_t st);

/*
 * True if name is a syntactically valid host name: 1..253 characters (one
 * trailing dot allowed and not counted), labels 1..63 of letters, digits and
 * hyphens (LDH) that neither start nor end with a hyphen, and a last label
 * that is not all digits (so "10.0.0.1" as a PTR target is not a host name).
 * Underscores, spaces, escapes and anything else make it invalid.
 */
bool sn_hostname_valid(const char *name);

/*
 * Writes the PTR query name of a's IP into buf: "3.2.1.127.in-addr.arpa" or
 * the 32-nibble "...ip6.arpa" form. Returns its length, or 0 if the family is
 * unknown or cap is too small (SN_RDNS_QNAME_MAX is always enough).
 */
#define SN_RDNS_QNAME_MAX 74
size_t sn_rdns_ptr_name(const sn_addr_t *a, char *buf, size_t cap);

/*
 * Parses a DNS reply to the PTR query for qname (as sn_rdns_ptr_name wrote
 * it). Checks QR, opcode 0, one question equal to qname (case-insensitively)
 * of type PTR class IN, maps the RCODE, follows CNAMEs in the answer section
 * (RFC 2317 classless delegation, at most 8 links), and collects the PTR
 * targets owned by the final name. Compression pointers must point strictly
 * backwards, so loops end; names longer than 255 octets are malformed.
 *
 * Names are written in presentation form: printable ASCII kept as is
 * (including '<', '"', '=', which CSV and HTML writers must escape), '.' and
 * '\' inside a label as "\." and "\\", other bytes (space, controls, 8-bit)
 * as "\DDD"; no trailing dot; the root name as ".".
 *
 * Returns the status; on SN_RDNS_OK *names holds *n_names (1..
 * SN_RDNS_MAX_NAMES) strings in one allocation, released with free(*names).
 * Otherwise *names is NULL and *n_names 0.
 */
sn_rdns_status_t sn_rdns_parse_reply(const uint8_t *msg, size_t len, const char *qname,
                                     char ***names, size_t *n_names);

#endif
