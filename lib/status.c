/*
 * Status names and the error-message helper. Kept tiny on purpose: every
 * module links it, and it must never fail itself (vsnprintf truncates).
 */
#include "lib/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *sn_status_str(sn_status_t st)
{
    switch (st) {
    case SN_OK: return "ok";
    case SN_ENOMEM: return "out of memory";
    case SN_EIO: return "I/O error";
    case SN_EPARSE: return "parse error";
    case SN_EINVAL: return "invalid value";
    case SN_ESYS: return "system error";
    case SN_ELIMIT: return "limit exceeded";
    case SN_ENOTFOUND: return "not found";
    case SN_EBUSY: return "busy";
    default: return "unknown error";
    }
}

sn_status_t sn_error_set(sn_error_t *err, sn_status_t st, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}
