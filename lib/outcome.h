/*
 * The outcome of a probe: a word of the base vocabulary, because the engine
 * decides it, the result carries it, and the sinks and the history store name
 * it, and none of them should need the probe interface to do so.
 */
#ifndef SN_OUTCOME_H
#define SN_OUTCOME_H

/* What became of one probe. The order is "best first" for merging attempts. */
typedef enum sn_outcome {
    SN_OUTCOME_NONE = 0,    /* not probed */
    SN_OUTCOME_ALIVE,       /* a valid reply or a completed handshake */
    SN_OUTCOME_CLOSED,      /* TCP RST, or ICMP port unreachable */
    SN_OUTCOME_UNREACHABLE, /* ICMP host/net unreachable, EHOSTUNREACH, ENETUNREACH */
    SN_OUTCOME_FILTERED,    /* silence until the last attempt timed out */
    SN_OUTCOME_ERROR,       /* a local failure (send error) */
    SN_OUTCOME_INCOMPLETE   /* the scan stopped before every attempt and fallback was made */
} sn_outcome_t;

/* "alive", "closed", ... ; "" for SN_OUTCOME_NONE. */
const char *sn_outcome_name(sn_outcome_t o);

#endif
