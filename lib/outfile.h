/*
 * The one way snprobe writes a file (results, summary, HTML report, export,
 * population, list, demo files).
 *
 * snprobe often runs as root, so writing must not be a way to destroy what a
 * path names. What the path names decides how it is written:
 *   - absent or a regular file: a temporary file with a unique name is made
 *     next to it (mkostemp: O_CREAT|O_EXCL, so a symlink planted at any name
 *     is never followed), written, fsync'ed and renamed over the path at
 *     commit; the path is thus either the old file or the whole new one;
 *   - a character device or a FIFO (/dev/null, /dev/stdout, a pipe): opened
 *     and written directly, never renamed over, never truncated;
 *   - "-": standard output, written directly;
 *   - a symlink: followed; the file it points to is replaced (by the rules
 *     above) and the link keeps pointing at it; a dangling link is refused;
 *   - a directory, block device or socket: refused at open.
 * One writer per regular output: open takes an exclusive flock on PATH.lock
 * (which holds the writer's pid) and a second open of the same path fails at
 * once with SN_EBUSY naming that pid. The lock file is removed at commit or
 * abort.
 *
 * Writes through sn_outfile_write are all-or-nothing on a regular file: a
 * short or failed write is cut back (ftruncate) to the end of the last whole
 * write, so a caller that writes whole rows leaves a file of whole rows even
 * on a full disk.
 */
#ifndef SN_OUTFILE_H
#define SN_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/status.h"

typedef struct sn_outfile sn_outfile_t;

/*
 * Checks, before any work starts, that path could be opened: refuses a
 * directory (also through a symlink), a block device, a socket, a dangling
 * symlink, a missing parent directory. "-" and NULL are fine. Creates
 * nothing. Returns SN_OK or SN_EINVAL/SN_EIO with err naming the path.
 */
sn_status_t sn_outfile_check(const char *path, sn_error_t *err);

/*
 * Opens path for writing as described above. *out is NULL on failure.
 * Returns SN_OK, SN_EBUSY (another writer holds the path; err names its pid),
 * SN_EINVAL (what path names cannot be written), SN_EIO, SN_ENOMEM.
 */
sn_status_t sn_outfile_open(const char *path, sn_outfile_t **out, sn_error_t *err);

/* The descriptor to write to (the temporary file's, the device's, stdout's). */
int sn_outfile_fd(const sn_outfile_t *f);

/* The name for messages: the path as given ("standard output" for "-"). */
const char *sn_outfile_name(const sn_outfile_t *f);

/* The temporary file's path, or NULL when the file is written directly. */
const char *sn_outfile_temp(const sn_outfile_t *f);

/*
 * Writes all of buf, or (on a regular file) nothing: on failure the file is
 * cut back to where this write began. Rides out EINTR, short writes and a
 * non-blocking descriptor. Returns SN_OK or SN_EIO naming the file.
 */
sn_status_t sn_outfile_write(sn_outfile_t *f, const void *buf, size_t len, sn_error_t *err);

/*
 * A stdio stream on the file, made on first call and owned by f (do not
 * fclose it). For writers that print; its errors surface at commit.
 */
FILE *sn_outfile_stream(sn_outfile_t *f);

/*
 * Finishes the file: flushes the stream, fsyncs, closes, renames the
 * temporary over the path, releases the lock, frees f (also on failure, when
 * the temporary file is removed). Returns SN_OK or SN_EIO naming the file.
 * NULL is SN_OK.
 */
sn_status_t sn_outfile_commit(sn_outfile_t *f, sn_error_t *err);

/*
 * For writers that print: opens path and its stream in one step (*stream is
 * sn_outfile_stream's). On failure *out and *stream are NULL.
 */
sn_status_t sn_outfile_open_stream(const char *path, sn_outfile_t **out, FILE **stream,
                                   sn_error_t *err);

/*
 * Ends a file whose writing returned st: commits it when st is SN_OK (and
 * returns the commit's status), else aborts it and returns st unchanged.
 */
sn_status_t sn_outfile_finish(sn_outfile_t *f, sn_status_t st, sn_error_t *err);

/*
 * Gives up: closes, removes the temporary file unless keep (then its name
 * stays what sn_outfile_temp said), releases the lock, frees f. NULL is fine.
 */
void sn_outfile_abort(sn_outfile_t *f, bool keep);

#endif
