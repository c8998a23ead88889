/*
 * The writer's lock (see lockfile.h): one implementation for the output
 * files and the history store, issue 11 having found two that differed in
 * how they left the lock file behind.
 */
#include "lib/lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct sn_lockfile {
    int fd;
    char *path;
};

sn_status_t sn_lockfile_take(const char *path, const char *what, const char *suffix,
                             sn_lockfile_t **out, sn_error_t *err)
{
    *out = NULL;
    for (int round = 0; round < 8; round++) {
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
            return sn_error_set(err, SN_EIO, "cannot create the lock file %s: %s", path,
                                strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char pid[32] = "";
            ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
            close(fd);
            if (e != EWOULDBLOCK)
                return sn_error_set(err, SN_EIO, "cannot lock %s: %s", path, strerror(e));
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            return sn_error_set(err, SN_EBUSY,
                                "%s is being written by another snprobe (pid %s, lock %s)%s", what,
                                pid[0] ? pid : "unknown", path, suffix ? suffix : "");
        }
        /* Still the file at that name? A finishing holder unlinks it while it
         * holds the lock; one who locked the unlinked inode tries again. */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev) {
            sn_lockfile_t *l = malloc(sizeof *l);
            char *p = strdup(path);
            if (l == NULL || p == NULL) {
                free(l);
                free(p);
                unlink(path);
                close(fd);
                return sn_error_set(err, SN_ENOMEM, "out of memory");
            }
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
                /* The pid is only for the message; the lock holds without it. */
            }
            l->fd = fd;
            l->path = p;
            *out = l;
            return SN_OK;
        }
        close(fd);
    }
    return sn_error_set(err, SN_EBUSY, "cannot lock %s: it keeps changing", path);
}

void sn_lockfile_release(sn_lockfile_t *l)
{
    if (l == NULL)
        return;
    unlink(l->path); /* while still held: see sn_lockfile_take */
    close(l->fd);
    free(l->path);
    free(l);
}
