/*
 * The atomic output file (see outfile.h). What the path names is looked at
 * once, with lstat, and decides the whole way of writing: a temporary file
 * next to the target then rename for regular files (or none yet), direct
 * writes for devices and FIFOs, refusal for the rest. The temporary name
 * comes from mkostemp (O_EXCL), so nothing planted in the directory can
 * redirect the write; the lock is an flock on PATH.lock, released by the
 * kernel whatever way the process ends.
 */
#include "lib/outfile.h"

#include "lib/lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum kind { K_STDOUT, K_DIRECT, K_TEMP } kind_t;

struct sn_outfile {
    kind_t kind;
    int fd;
    sn_lockfile_t *lock; /* NULL when no lock is held */
    char *name;          /* the path as given, for messages */
    char *target;        /* the file renamed over (a symlink resolved); K_TEMP only */
    char *temp;          /* the temporary file; K_TEMP only */
    char *lock_path;     /* target + ".lock" */
    off_t size;          /* end of the last whole write */
    FILE *stream;
};

/* What path resolves to: *resolved (malloc'ed) is the file to replace or
 * write; *st its status when it exists (*exists). */
static sn_status_t resolve(const char *path, char **resolved, struct stat *st, bool *exists,
                           sn_error_t *err)
{
    *resolved = NULL;
    *exists = false;
    struct stat lst;
    if (lstat(path, &lst) != 0) {
        if (errno != ENOENT)
            return sn_error_set(err, SN_EIO, "cannot use %s: %s", path, strerror(errno));
        *resolved = strdup(path);
        return *resolved ? SN_OK : sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    if (S_ISLNK(lst.st_mode)) {
        char *real = realpath(path, NULL);
        if (real == NULL)
            return sn_error_set(err, SN_EINVAL,
                                "cannot write %s: it is a symlink to %s (%s); snprobe follows "
                                "symlinks only to files that exist",
                                path, "a missing file", strerror(errno));
        if (stat(real, st) != 0) {
            int e = errno;
            free(real);
            return sn_error_set(err, SN_EIO, "cannot use %s: %s", path, strerror(e));
        }
        *resolved = real;
    } else {
        *st = lst;
        *resolved = strdup(path);
        if (*resolved == NULL)
            return sn_error_set(err, SN_ENOMEM, "out of memory");
    }
    *exists = true;
    if (S_ISDIR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISSOCK(st->st_mode)) {
        free(*resolved);
        *resolved = NULL;
        return sn_error_set(err, SN_EINVAL, "cannot write %s: it is a %s", path,
                            S_ISDIR(st->st_mode)   ? "directory"
                            : S_ISBLK(st->st_mode) ? "block device"
                                                   : "socket");
    }
    return SN_OK;
}

/* dir part of p ("." when none), malloc'ed. */
static char *dir_of(const char *p)
{
    const char *slash = strrchr(p, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == p)
        return strdup("/");
    return strndup(p, (size_t)(slash - p));
}

sn_status_t sn_outfile_check(const char *path, sn_error_t *err)
{
    if (path == NULL || strcmp(path, "-") == 0)
        return SN_OK;
    if (path[0] == '\0')
        return sn_error_set(err, SN_EINVAL, "an empty output path");
    char *real = NULL;
    struct stat st;
    bool exists;
    sn_status_t rc = resolve(path, &real, &st, &exists, err);
    if (rc != SN_OK)
        return rc;
    if (!exists || S_ISREG(st.st_mode)) {
        char *dir = dir_of(real);
        struct stat ds;
        if (dir == NULL)
            rc = sn_error_set(err, SN_ENOMEM, "out of memory");
        else if (stat(dir, &ds) != 0 || !S_ISDIR(ds.st_mode))
            rc = sn_error_set(err, SN_EIO, "cannot write %s: no directory %s", path, dir);
        else if (access(dir, W_OK) != 0)
            rc = sn_error_set(err, SN_EIO, "cannot write %s: directory %s: %s", path, dir,
                              strerror(errno));
        free(dir);
    }
    free(real);
    return rc;
}

/* The lock (lib/lockfile.h) on f->lock_path. */
static sn_status_t take_lock(sn_outfile_t *f, sn_error_t *err)
{
    return sn_lockfile_take(f->lock_path, f->name, "; not writing it twice", &f->lock, err);
}

static void release_lock(sn_outfile_t *f)
{
    sn_lockfile_release(f->lock);
    f->lock = NULL;
}

static void discard(sn_outfile_t *f)
{
    free(f->name);
    free(f->target);
    free(f->temp);
    free(f->lock_path);
    free(f);
}

/* Makes the unique temporary file next to f->target: DIR/.BASE.XXXXXX. */
static sn_status_t make_temp(sn_outfile_t *f, const struct stat *old, sn_error_t *err)
{
    const char *slash = strrchr(f->target, '/');
    size_t dlen = slash ? (size_t)(slash - f->target) + 1 : 0;
    const char *base = f->target + dlen;
    size_t n = dlen + 1 + strlen(base) + sizeof ".XXXXXX";
    f->temp = malloc(n);
    if (f->temp == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory");
    snprintf(f->temp, n, "%.*s.%s.XXXXXX", (int)dlen, f->target, base);
    f->fd = mkostemp(f->temp, O_CLOEXEC);
    if (f->fd < 0) {
        int e = errno;
        free(f->temp);
        f->temp = NULL;
        return sn_error_set(err, SN_EIO, "cannot create a temporary file next to %s: %s", f->name,
                            strerror(e));
    }
    /* mkostemp makes it 0600; the file replaced keeps its permissions, a new
     * one is as readable as any file the user makes. */
    mode_t mask = umask(0);
    umask(mask);
    mode_t mode = old != NULL ? old->st_mode & 07777 : 0666 & ~mask;
    if (fchmod(f->fd, mode) != 0) {
        /* Not fatal: the file is still ours and complete. */
    }
    return SN_OK;
}

sn_status_t sn_outfile_open(const char *path, sn_outfile_t **out, sn_error_t *err)
{
    if (out == NULL || path == NULL || path[0] == '\0')
        return sn_error_set(err, SN_EINVAL, "no output path given");
    *out = NULL;
    sn_outfile_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory opening %s", path);
    f->fd = -1;
    f->name = strdup(strcmp(path, "-") == 0 ? "standard output" : path);
    if (f->name == NULL) {
        discard(f);
        return sn_error_set(err, SN_ENOMEM, "out of memory opening %s", path);
    }
    if (strcmp(path, "-") == 0) {
        f->kind = K_STDOUT;
        f->fd = STDOUT_FILENO;
        *out = f;
        return SN_OK;
    }

    struct stat st;
    bool exists;
    sn_status_t rc = resolve(path, &f->target, &st, &exists, err);
    if (rc != SN_OK) {
        discard(f);
        return rc;
    }
    if (exists && !S_ISREG(st.st_mode)) {
        /* A character device or FIFO: written in place, never replaced. */
        f->kind = K_DIRECT;
        f->fd = open(f->target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (f->fd < 0) {
            rc = sn_error_set(err, SN_EIO, "cannot open %s: %s", path, strerror(errno));
            discard(f);
            return rc;
        }
        *out = f;
        return SN_OK;
    }

    f->kind = K_TEMP;
    size_t n = strlen(f->target) + sizeof ".lock";
    f->lock_path = malloc(n);
    if (f->lock_path == NULL) {
        discard(f);
        return sn_error_set(err, SN_ENOMEM, "out of memory opening %s", path);
    }
    snprintf(f->lock_path, n, "%s.lock", f->target);
    if ((rc = take_lock(f, err)) != SN_OK ||
        (rc = make_temp(f, exists ? &st : NULL, err)) != SN_OK) {
        release_lock(f);
        discard(f);
        return rc;
    }
    *out = f;
    return SN_OK;
}

int sn_outfile_fd(const sn_outfile_t *f)
{
    return f != NULL ? f->fd : -1;
}

const char *sn_outfile_name(const sn_outfile_t *f)
{
    return f != NULL ? f->name : "";
}

const char *sn_outfile_temp(const sn_outfile_t *f)
{
    return f != NULL && f->kind == K_TEMP ? f->temp : NULL;
}

sn_status_t sn_outfile_write(sn_outfile_t *f, const void *buf, size_t len, sn_error_t *err)
{
    if (f == NULL)
        return sn_error_set(err, SN_EINVAL, "no output file");
    const char *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(f->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pf = {.fd = f->fd, .events = POLLOUT};
                if (poll(&pf, 1, -1) < 0 && errno != EINTR)
                    break;
                continue;
            }
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    if (left == 0) {
        f->size += (off_t)len;
        return SN_OK;
    }
    int e = errno;
    if (f->kind == K_TEMP && ftruncate(f->fd, f->size) == 0)
        lseek(f->fd, f->size, SEEK_SET);
    return sn_error_set(err, SN_EIO, "writing %s: %s", f->name, strerror(e));
}

FILE *sn_outfile_stream(sn_outfile_t *f)
{
    if (f == NULL)
        return NULL;
    if (f->stream == NULL) {
        if (f->kind == K_STDOUT) {
            f->stream = stdout;
        } else {
            f->stream = fdopen(f->fd, "w");
        }
    }
    return f->stream;
}

/* Closes the descriptor (through the stream when there is one). */
static int close_fd(sn_outfile_t *f)
{
    int rc = 0;
    if (f->kind == K_STDOUT) {
        if (fflush(stdout) != 0 || ferror(stdout))
            rc = -1;
        return rc;
    }
    if (f->stream != NULL) {
        rc = ferror(f->stream) ? -1 : 0;
        if (fclose(f->stream) != 0)
            rc = -1;
        f->stream = NULL;
    } else if (f->fd >= 0 && close(f->fd) != 0) {
        rc = -1;
    }
    f->fd = -1;
    return rc;
}

sn_status_t sn_outfile_commit(sn_outfile_t *f, sn_error_t *err)
{
    if (f == NULL)
        return SN_OK;
    sn_status_t rc = SN_OK;
    if (f->stream != NULL && fflush(f->stream) != 0)
        rc = sn_error_set(err, SN_EIO, "writing %s: %s", f->name, strerror(errno));
    /* fsync before rename, so that the path never names a file whose rows a
     * crash could still lose. */
    if (rc == SN_OK && f->kind == K_TEMP && fsync(f->fd) != 0 && errno != EINVAL && errno != EROFS)
        rc = sn_error_set(err, SN_EIO, "writing %s: %s", f->name, strerror(errno));
    errno = 0;
    if (close_fd(f) != 0 && rc == SN_OK)
        rc = sn_error_set(err, SN_EIO, "writing %s: %s", f->name,
                          errno ? strerror(errno) : "write error");
    if (f->kind == K_TEMP) {
        if (rc == SN_OK && rename(f->temp, f->target) != 0)
            rc = sn_error_set(err, SN_EIO, "cannot rename %s to %s: %s", f->temp, f->target,
                              strerror(errno));
        if (rc != SN_OK)
            unlink(f->temp);
    }
    release_lock(f);
    discard(f);
    return rc;
}

void sn_outfile_abort(sn_outfile_t *f, bool keep)
{
    if (f == NULL)
        return;
    close_fd(f);
    if (f->kind == K_TEMP && !keep)
        unlink(f->temp);
    release_lock(f);
    discard(f);
}

sn_status_t sn_outfile_open_stream(const char *path, sn_outfile_t **out, FILE **stream,
                                   sn_error_t *err)
{
    *stream = NULL;
    sn_status_t st = sn_outfile_open(path, out, err);
    if (st != SN_OK)
        return st;
    *stream = sn_outfile_stream(*out);
    if (*stream == NULL) {
        sn_outfile_abort(*out, false);
        *out = NULL;
        return sn_error_set(err, SN_ENOMEM, "out of memory writing %s", path);
    }
    return SN_OK;
}

sn_status_t sn_outfile_finish(sn_outfile_t *f, sn_status_t st, sn_error_t *err)
{
    if (st != SN_OK) {
        sn_outfile_abort(f, false);
        return st;
    }
    return sn_outfile_commit(f, err);
}
