/* The names of the outcomes, as the results files and the history write them. */
#include "lib/outcome.h"

const char *sn_outcome_name(sn_outcome_t o)
{
    switch (o) {
    case SN_OUTCOME_NONE: return "";
    case SN_OUTCOME_ALIVE: return "alive";
    case SN_OUTCOME_CLOSED: return "closed";
    case SN_OUTCOME_UNREACHABLE: return "unreachable";
    case SN_OUTCOME_FILTERED: return "filtered";
    case SN_OUTCOME_ERROR: return "error";
    case SN_OUTCOME_INCOMPLETE: return "incomplete";
    }
    return "";
}
