/*
 * The one writer's lock of snprobe: an exclusive flock(2) on a lock file
 * that holds the holder's pid as text, shared by the output files
 * (lib/outfile.h) and the history store (data/history.h) so that both
 * refuse a second writer the same way and name its pid.
 *
 * The kernel drops an flock when its holder dies, even by kill -9, so a
 * stale lock file never blocks anyone. A holder removes the file while it
 * still holds the lock; a taker who locked a file that was removed meanwhile
 * sees that its inode is no longer the one at the name and tries again, so
 * two writers never both believe they hold it.
 */
#ifndef SN_LOCKFILE_H
#define SN_LOCKFILE_H

#include "lib/status.h"

typedef struct sn_lockfile sn_lockfile_t;

/*
 * Takes the lock at path (created 0644, never through a symlink) without
 * waiting. When another process holds it: SN_EBUSY with the message
 * "WHAT is being written by another snprobe (pid P, lock PATH)" followed by
 * suffix (may be ""). Other failures: SN_EIO naming the file.
 */
sn_status_t sn_lockfile_take(const char *path, const char *what, const char *suffix,
                             sn_lockfile_t **out, sn_error_t *err);

/* Removes the lock file while still holding it, then releases it. Accepts NULL. */
void sn_lockfile_release(sn_lockfile_t *l);

#endif
