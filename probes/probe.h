/*
 * The probe module interface.
 *
 * A probe is pure bytes in, fields out: `build` writes the request for one
 * target, `parse` reads a reply, `answer` is what a live node of that kind
 * replies (the swarm emulator uses it). None of them touches a socket, a loop
 * or a clock, so every module is testable with byte arrays alone. The engine
 * knows probes only through this struct and the registry; adding a probe is
 * one new file plus one line in registry.c (or, for a module built outside
 * the product such as a test's, one call of sn_probe_register).
 *
 * Fields: a probe that finds more than the engine records for every probe
 * (outcome, RTT, attempts, the observed address) declares those fields in
 * `fields` (name, type, help) and its parse fills their values, slot i for
 * fields[i]. The column table (reports/fields.c) makes each declared field a
 * column after the common ones, so the CSV and NDJSON writers, --list-fields,
 * the results reader and the history carry it without knowing the probe.
 *
 * Matching: the engine gives every probe a 64-bit token and keeps it across
 * retries. A module embeds the low `token_bits` bits in its request, and its
 * parse returns the bits it found in a reply; the engine matches a reply on
 * (source IP, token bits) and then compares the source port with the probed
 * one, so a reply from another port (a NAT or relay in front of the node) is
 * still attributed, and recorded as such.
 */
#ifndef SN_PROBE_H
#define SN_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/field.h"   /* sn_field_decl_t, sn_field_values_t */
#include "lib/outcome.h" /* sn_outcome_t, sn_outcome_name */
#include "lib/status.h"

typedef enum sn_transport { SN_TRANSPORT_UDP = 1, SN_TRANSPORT_TCP = 2 } sn_transport_t;

/* What build gets to know about the request it writes. */
typedef struct sn_probe_req {
    sn_addr_t target; /* where the request goes (port already chosen) */
    uint64_t token;   /* engine-chosen; embed the low token_bits bits */
} sn_probe_req_t;

/* What parse found in a reply. Cleared by the caller (sn_probe_reply_clear) before parse. */
typedef struct sn_probe_reply {
    uint64_t token;           /* token bits carried by the reply */
    sn_addr_t observed;       /* our address as the node saw it (family 0: not said) */
    sn_field_values_t values; /* the probe's declared fields ("": not said) */
} sn_probe_reply_t;

/* Clears a reply for parse: no token, no address, every value empty. Cheaper than
 * zeroing the value slots whole, on a path that runs once per packet. */
static inline void sn_probe_reply_clear(sn_probe_reply_t *r)
{
    r->token = 0;
    memset(&r->observed, 0, sizeof r->observed);
    for (size_t i = 0; i < SN_FIELD_VALUES_MAX; i++)
        r->values.v[i][0] = '\0';
}

/* What answer gets to know when the swarm plays a node. */
typedef struct sn_answer_ctx {
    sn_addr_t requester; /* source address and port of the request as received */
    sn_addr_t node;      /* the node being played (address and port asked) */
} sn_answer_ctx_t;

typedef struct sn_probe {
    const char *name;    /* as in --probes */
    const char *summary; /* one line for --list-probes */
    sn_transport_t transport;
    uint16_t default_port; /* 0: the target's own port */
    unsigned token_bits;   /* request bits that come back in the reply (0..64) */
    /* The result fields this probe adds (at most SN_FIELD_VALUES_MAX); NULL, 0: none. */
    const sn_field_decl_t *fields;
    size_t n_fields;

    /*
     * Writes the request for req into buf (cap bytes). Returns its length
     * (0 for a TCP handshake without payload), or a negative status.
     */
    int (*build)(const sn_probe_req_t *req, uint8_t *buf, size_t cap);

    /*
     * Reads reply bytes. Returns 1 when they are a valid reply of this probe
     * (out filled), 0 when not (short, long, wrong type or id: not a match).
     * NULL for probes without a reply payload (TCP handshake).
     */
    int (*parse)(const uint8_t *buf, size_t len, sn_probe_reply_t *out);

    /*
     * Plays a live node: reads a request, writes the reply into out (cap
     * bytes). Returns the reply length, 0 when the request is not one this
     * probe answers, or a negative status. NULL where the kernel answers (TCP).
     */
    int (*answer)(const uint8_t *req, size_t len, const sn_answer_ctx_t *ctx, uint8_t *out,
                  size_t cap);
} sn_probe_t;

/*
 * The registry (probes/registry.c): every module, in a stable order: the
 * product's, then those registered at run time. The count only grows, so a
 * table derived from the registry (the columns) is current while its count is.
 */
#define SN_PROBES_MAX 16
extern const sn_probe_t *sn_probes[SN_PROBES_MAX];
extern size_t sn_probe_count;

/*
 * Adds a module after the product's (a test's probe, a plug-in), before any
 * scan or table of columns is made. Returns SN_EINVAL for a module without a
 * name, with a name taken, or with a field declaration that is not valid
 * (more than SN_FIELD_VALUES_MAX, a name outside [a-z0-9_]); SN_ELIMIT when
 * SN_PROBES_MAX modules are registered. Not thread-safe.
 */
sn_status_t sn_probe_register(const sn_probe_t *p);

/* Index of the field named name among p's declared fields, or -1. */
int sn_probe_field_index(const sn_probe_t *p, const char *name);

/* Finds a probe by name; NULL if there is none. */
const sn_probe_t *sn_probe_find(const char *name);

#endif
