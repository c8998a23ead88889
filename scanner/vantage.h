/*
 * Vantage: where the scanner stands. RFC 5780 NAT behaviour discovery against
 * a STUN server with two addresses (mapping and filtering behaviour), plus
 * whether UDP passes at all and whether TCP passes to high ports or only to
 * 443/80. A NATed or firewalled vantage changes what "filtered" means, so a
 * scan records its vantage in every output.
 *
 * The work is split in two so that the judgement is testable without a
 * network: sn_vantage_observe runs the transactions and collects what came
 * back into an sn_vantage_obs_t, and sn_vantage_decide, a pure function, turns
 * those observations into the verdict and its evidence lines.
 *
 * The tests (RFC 5780 sections 4.3 and 4.4), all from one local address:
 *   map-test1     Binding to the primary address P:p, from socket A; gives the
 *                 mapped address M1 and the server's OTHER-ADDRESS A:a.
 *   map-test2     Binding to A:p from socket A; mapped M2.
 *   map-test3     Binding to A:a from socket A; mapped M3.
 *   filter-test1  Binding to P:p from a fresh socket B (so that no mapping
 *                 towards A exists yet, which would let test 2 through).
 *   filter-test2  CHANGE-REQUEST change IP and port: the answer leaves A:a.
 *   filter-test3  CHANGE-REQUEST change port: the answer leaves P:a.
 *   tcp-stun, tcp-443, tcp-80: TCP connections to P:p, P:443 and P:80, each
 *                 followed by a Binding request over the connection.
 * Verdicts:
 *   mapping   none when M1 equals our local address and port; otherwise
 *             endpoint-independent when M2 == M1, address-dependent when
 *             M3 == M2, address-and-port-dependent when M3 != M2; unknown when
 *             a test it needs went unanswered or the server has no
 *             OTHER-ADDRESS.
 *   filtering none when filter-test1 shows no NAT and filter-test2 is answered
 *             (nothing on the path filters); endpoint-independent when
 *             filter-test2 is answered behind a NAT; address-dependent when
 *             only filter-test3 is; address-and-port-dependent when neither
 *             is. A firewall without NAT still gets the last two. An answer
 *             that comes from the address the CHANGE-REQUEST asked to change
 *             (a server that ignores it) makes filtering unknown.
 *   udp       open when map-test1 is answered, or refused by the server itself
 *             (ICMP from P: UDP reached it); blocked when it stays silent or a
 *             router on the way refuses it; unknown when not run.
 *   tcp       open when the STUN port (a high port) accepts a connection;
 *             443-80-only when it does not but 443 or 80 does; blocked when
 *             none does. A RST counts as not passing: a firewall can send it
 *             as well as the server.
 */
#ifndef SN_VANTAGE_H
#define SN_VANTAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/addr.h"
#include "lib/status.h"

typedef enum sn_nat_behaviour {
    SN_NAT_UNKNOWN = 0,
    SN_NAT_NONE, /* no NAT (mapped address == local address) / no filtering */
    SN_NAT_ENDPOINT_INDEPENDENT,
    SN_NAT_ADDRESS_DEPENDENT,
    SN_NAT_ADDRESS_PORT_DEPENDENT
} sn_nat_behaviour_t;

typedef enum sn_path {
    SN_PATH_UNKNOWN = 0,
    SN_PATH_OPEN,
    SN_PATH_443_80_ONLY, /* TCP only */
    SN_PATH_BLOCKED
} sn_path_t;

#define SN_VANTAGE_EVIDENCE 16
#define SN_VANTAGE_EVIDENCE_LEN 160

typedef struct sn_vantage {
    bool known; /* false: no vantage recorded for this scan */
    sn_nat_behaviour_t mapping;
    sn_nat_behaviour_t filtering;
    sn_path_t udp;   /* open or blocked */
    sn_path_t tcp;   /* open, 443-80-only or blocked */
    sn_addr_t local; /* our local address and port as bound (family 0: unknown) */
    /* Evidence: one line per test, "name: what was sent -> what came back". */
    char evidence[SN_VANTAGE_EVIDENCE][SN_VANTAGE_EVIDENCE_LEN];
    unsigned n_evidence;
} sn_vantage_t;

typedef struct sn_vantage_cfg {
    const char *stun;    /* HOST[:PORT] of the STUN server (port 3478 by default) */
    unsigned timeout_ms; /* per STUN transaction attempt (0: 1000) */
    unsigned retries;    /* further attempts after a timeout */
} sn_vantage_cfg_t;

/* What became of one test. */
typedef enum sn_vtest_result {
    SN_VTEST_NOT_RUN = 0,
    SN_VTEST_ANSWERED,    /* UDP: a Binding success response; TCP: connected */
    SN_VTEST_SILENT,      /* nothing before the last attempt timed out */
    SN_VTEST_REFUSED,     /* ICMP port unreachable (from: who sent it), or TCP RST */
    SN_VTEST_UNREACHABLE, /* ICMP host/net unreachable or prohibited, no route */
    SN_VTEST_REJECTED     /* a STUN error response (e.g. 420: no RFC 5780 support) */
} sn_vtest_result_t;

typedef struct sn_vantage_test {
    sn_vtest_result_t result;
    sn_addr_t to;        /* where the request went */
    sn_addr_t from;      /* UDP: source of the answer or of the ICMP error */
    sn_addr_t mapped;    /* XOR-MAPPED-ADDRESS (else MAPPED-ADDRESS); family 0: none */
    sn_addr_t other;     /* OTHER-ADDRESS in the answer; family 0: none */
    unsigned error_code; /* SN_VTEST_REJECTED: the STUN error code */
} sn_vantage_test_t;

enum {
    SN_VT_MAP1,
    SN_VT_MAP2,
    SN_VT_MAP3,
    SN_VT_FILTER1,
    SN_VT_FILTER2,
    SN_VT_FILTER3,
    SN_VT_TCP_STUN,
    SN_VT_TCP_443,
    SN_VT_TCP_80,
    SN_VT_COUNT
};

typedef struct sn_vantage_obs {
    sn_addr_t server;       /* the primary address and port */
    sn_addr_t local_map;    /* socket A as bound (map tests) */
    sn_addr_t local_filter; /* socket B as bound (filter tests) */
    sn_vantage_test_t t[SN_VT_COUNT];
} sn_vantage_obs_t;

/* "none", "endpoint-independent", ...; "open", "443-80-only", "blocked", "unknown". */
const char *sn_nat_behaviour_name(sn_nat_behaviour_t b);
const char *sn_path_name(sn_path_t p);

/* The value named s (the names above); false, and *out untouched, for any other text. */
bool sn_nat_behaviour_from_name(const char *s, sn_nat_behaviour_t *out);
bool sn_path_from_name(const char *s, sn_path_t *out);

/*
 * Runs the tests with plain non-blocking sockets and poll(): a handful of
 * sequential transactions, at most (retries + 1) x timeout_ms each, then the
 * three TCP connections in parallel, and records what came back in obs.
 * Silence and refusals are results, not errors. Returns SN_EINVAL for a bad
 * cfg->stun, SN_ENOTFOUND when its name does not resolve, SN_ESYS when no
 * socket can be opened or there is no route to the server (obs then holds
 * what was run so far).
 */
sn_status_t sn_vantage_observe(const sn_vantage_cfg_t *cfg, sn_vantage_obs_t *obs, sn_error_t *err);

/*
 * sn_vantage_observe then sn_vantage_decide. Fills out even when tests fail
 * (unknown fields, out->known false on an error); same errors.
 */
sn_status_t sn_vantage_discover(const sn_vantage_cfg_t *cfg, sn_vantage_t *out, sn_error_t *err);

/* Did test t get an answer that names our mapped address? */
bool sn_vantage_test_mapped(const sn_vantage_test_t *t);

/* The judgement (see the top of this file): pure, fills all of out, known = true. */
void sn_vantage_decide(const sn_vantage_obs_t *obs, sn_vantage_t *out);

/*
 * Prints the verdict: stable `key: value` lines (mapping, filtering, udp,
 * tcp, local) then the evidence lines; or one JSON object on one line with
 * json true: {"mapping":...,"filtering":...,"udp":...,"tcp":...,
 * "local":"ip:port"|null,"evidence":["name: ...",...]}.
 */
void sn_vantage_print(FILE *f, const sn_vantage_t *v, bool json);

/*
 * Reads a verdict saved by sn_vantage_print (either form, told apart by a
 * leading '{'); mapping, filtering, udp and tcp are required, values are
 * checked against the names above. Errors name file and line: SN_EIO (cannot
 * read), SN_EPARSE (bad content), SN_ELIMIT (file over 64 KiB, too many or too
 * long evidence lines). out->known is true on success.
 */
sn_status_t sn_vantage_load(const char *path, sn_vantage_t *out, sn_error_t *err);

/*
 * Compact one-field form for results rows: "mapping=...;filtering=...;udp=...;tcp=...";
 * "" for NULL or an unknown vantage. Always NUL-terminates when cap > 0.
 */
void sn_vantage_format(const sn_vantage_t *v, char *buf, size_t cap);

#endif
