/*
 * Status codes and error detail shared by every module.
 *
 * A function that can fail returns sn_status_t: 0 is success, a negative value
 * is an error class. Where the caller needs to tell a user *what* failed (which
 * file, which line, which field), the function also takes an sn_error_t and
 * writes one sentence into it. Library error codes (uv, ares, MMDB, csv) are
 * translated at the boundary and their text is kept in the message.
 * Only main.c exits; modules return.
 */
#ifndef SN_STATUS_H
#define SN_STATUS_H

#include <stddef.h>

typedef int sn_status_t;

enum {
    SN_OK = 0,
    SN_ENOMEM = -1,    /* out of memory */
    SN_EIO = -2,       /* a file or socket could not be read or written */
    SN_EPARSE = -3,    /* outside input is malformed */
    SN_EINVAL = -4,    /* a caller or user gave an invalid value */
    SN_ESYS = -5,      /* a system call failed (errno in the message) */
    SN_ELIMIT = -6,    /* a size, depth or count limit was reached */
    SN_ENOTFOUND = -7, /* a named thing (file, probe, key) does not exist */
    SN_EBUSY = -8      /* another snprobe holds the lock on an output or a history */
};

/*
 * Process exit codes, for schedulers (cron, systemd) to act on. Only main.c
 * exits; these are the values it uses.
 */
enum {
    SN_EXIT_OK = 0,          /* the run did its whole job */
    SN_EXIT_FAIL = 1,        /* the run failed (unreadable input, unwritable output, ...) */
    SN_EXIT_USAGE = 2,       /* bad command line */
    SN_EXIT_INTERRUPTED = 3, /* stopped by a signal: results partial (incomplete rows) */
    SN_EXIT_NO_TARGETS = 4,  /* the inputs yielded no target at all */
    SN_EXIT_BUSY = 5         /* another run holds the lock on the output or the history */
};

/* One sentence describing the last failure; msg is always NUL-terminated. */
typedef struct sn_error {
    char msg[512];
} sn_error_t;

/* Short name of a status class ("out of memory", "parse error", ...). */
const char *sn_status_str(sn_status_t st);

/*
 * Formats a message into err (which may be NULL) and returns st, so that a
 * failure path reads `return sn_error_set(err, SN_EPARSE, "%s:%lu: ...", ...)`.
 */
sn_status_t sn_error_set(sn_error_t *err, sn_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
