/*
 * The TCP transport's adaptive timeout: how long a handshake may take before
 * its target counts as silent, learned from the scan's own answers.
 *
 * Most of a TCP scan's wall time is the wait for targets that never answer,
 * and the configured timeout (1 s by default) is far longer than any handshake
 * of a fast population. nmap shortens its wait to what it measures; so does
 * this, but it is built so that a slow live node is not cut short:
 *
 * - Until the scan has run for the whole configured timeout since its first
 *   attempt, and has seen SN_RTO_MIN_SAMPLES answers, the timeout is the
 *   configured one. By then every target probed at the start has had the
 *   whole configured wait, so a slow share of the population (200 ms, 800 ms)
 *   has had every chance to show up among the answers.
 * - Then it is SN_RTO_MARGIN times the slowest answer seen so far (the
 *   slowest, not a mean or a quantile: one slow share of a fast population
 *   must be covered whole), never under SN_RTO_FLOOR_NS and never over the
 *   configured timeout. A slower answer seen later raises it at once.
 * - An answer's time is measured from connect() to the moment the scanner
 *   notices the handshake's end, the same clock the deadline is checked
 *   against, so that the scanner's own lag is inside the margin.
 *
 * The timeout applies at the moment a deadline is checked, to every attempt
 * in flight; attempts start in time order, so the deadlines stay in order.
 * Time is passed in, never read here: tests drive it with numbers.
 */
#ifndef SN_RTO_H
#define SN_RTO_H

#include <stdbool.h>
#include <stdint.h>

#define SN_RTO_FLOOR_NS 100000000ull /* never shorter than 100 ms */
#define SN_RTO_MIN_SAMPLES 32u       /* answers seen before it shortens anything */
#define SN_RTO_MARGIN 2u             /* times the slowest answer */

typedef struct sn_rto {
    uint64_t configured_ns; /* the user's --timeout: the most it ever is */
    bool adaptive;          /* false: always the configured timeout */
    bool started;           /* an attempt has been made */
    uint64_t first_ns;      /* when the first attempt was made */
    uint64_t slowest_ns;    /* the slowest answer seen */
    uint32_t samples;       /* answers seen */
} sn_rto_t;

/* configured_ns: the configured per-attempt timeout; adaptive false fixes it. */
void sn_rto_init(sn_rto_t *r, uint64_t configured_ns, bool adaptive);

/* An attempt was made at now_ns (only the first one's time is kept). */
void sn_rto_sent(sn_rto_t *r, uint64_t now_ns);

/* An attempt was answered (handshake done or refused) elapsed_ns after it was made. */
void sn_rto_answered(sn_rto_t *r, uint64_t elapsed_ns);

/* The timeout that applies at now_ns to every attempt in flight. */
uint64_t sn_rto_timeout(const sn_rto_t *r, uint64_t now_ns);

/*
 * When an attempt made at start_ns is due, under what is known now: the
 * configured deadline, or the learned one once it applies (the engine's timer).
 * More answers can move it later, never earlier than now's answer says.
 */
uint64_t sn_rto_deadline(const sn_rto_t *r, uint64_t start_ns);

/* True once the timeout at now_ns is the learned one, not the configured one. */
bool sn_rto_learned(const sn_rto_t *r, uint64_t now_ns);

#endif
