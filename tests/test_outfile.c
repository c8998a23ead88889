/*
 * The one output-file helper (lib/outfile.c): what a path names decides how
 * it is written, and nothing a path or a planted file names is destroyed.
 *
 * Every case works in a fresh mkdtemp directory under /tmp; the device case
 * makes its own character device there with mknod (root), the full-disk case
 * uses /dev/full. A second writer is simulated with a forked child, since
 * flock locks belong to open file descriptions of other processes too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/outfile.h"

typedef struct dir {
    char path[64];
} dir_t;

static void dir_make(dir_t *d)
{
    snprintf(d->path, sizeof d->path, "/tmp/sn_outfile_XXXXXX");
    assert_non_null(mkdtemp(d->path));
}

static void dir_join(const dir_t *d, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", d->path, name);
}

/* Removes everything in the directory (one level) and the directory. */
static void dir_remove(const dir_t *d)
{
    DIR *dir = opendir(d->path);
    if (dir == NULL)
        return;
    char p[512];
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", d->path, e->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    closedir(dir);
    rmdir(d->path);
}

/* Entries in the directory, "." and ".." not counted. */
static int dir_count(const dir_t *d)
{
    DIR *dir = opendir(d->path);
    assert_non_null(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(dir);
    return n;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void write_and_commit(const char *path, const char *text)
{
    sn_error_t err = {{0}};
    sn_outfile_t *f = NULL;
    assert_int_equal(sn_outfile_open(path, &f, &err), SN_OK);
    assert_int_equal(sn_outfile_write(f, text, strlen(text), &err), SN_OK);
    assert_int_equal(sn_outfile_commit(f, &err), SN_OK);
}

static void test_outfile_new_file_appears_whole_only_at_commit(void **state)
{
    (void)state;
    dir_t d;
    char path[256];
    sn_error_t err = {{0}};
    dir_make(&d);
    dir_join(&d, "res.csv", path, sizeof path);

    sn_outfile_t *f = NULL;
    assert_int_equal(sn_outfile_open(path, &f, &err), SN_OK);
    assert_non_null(sn_outfile_temp(f));
    assert_int_equal(access(path, F_OK), -1); /* not there until commit */
    assert_int_equal(sn_outfile_write(f, "a,b\n", 4, &err), SN_OK);
    FILE *s = sn_outfile_stream(f);
    assert_non_null(s);
    fputs("c,d\n", s);
    assert_int_equal(sn_outfile_commit(f, &err), SN_OK);
    assert_string_equal(slurp(path), "a,b\nc,d\n");
    assert_int_equal(dir_count(&d), 1); /* no temporary, no lock left */
    dir_remove(&d);
}

static void test_outfile_replaces_a_regular_file_atomically(void **state)
{
    (void)state;
    dir_t d;
    char path[256];
    sn_error_t err = {{0}};
    dir_make(&d);
    dir_join(&d, "res.csv", path, sizeof path);
    put(path, "old\n");

    sn_outfile_t *f = NULL;
    assert_int_equal(sn_outfile_open(path, &f, &err), SN_OK);
    assert_int_equal(sn_outfile_write(f, "new\n", 4, &err), SN_OK);
    assert_string_equal(slurp(path), "old\n"); /* the old one stays until commit */
    sn_outfile_abort(f, false);
    assert_string_equal(slurp(path), "old\n");
    assert_int_equal(dir_count(&d), 1);

    assert_int_equal(chmod(path, 0640), 0);
    write_and_commit(path, "new\n");
    assert_string_equal(slurp(path), "new\n");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640); /* the replaced file's permissions */
    dir_remove(&d);
}

static void test_outfile_char_device_stays_a_device(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* mknod needs root */
    dir_t d;
    char path[256];
    dir_make(&d);
    dir_join(&d, "null", path, sizeof path);
    assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0); /* like /dev/null */

    write_and_commit(path, "rows\n");
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(1, 3));
    assert_int_equal(dir_count(&d), 1); /* no temporary, no lock */
    dir_remove(&d);
}

static void test_outfile_fifo_is_written_in_place(void **state)
{
    (void)state;
    dir_t d;
    char path[256];
    dir_make(&d);
    dir_join(&d, "pipe", path, sizeof path);
    assert_int_equal(mkfifo(path, 0600), 0);
    int rd = open(path, O_RDONLY | O_NONBLOCK); /* a reader, so the writer's open returns */
    assert_true(rd >= 0);

    write_and_commit(path, "through\n");
    char buf[32] = "";
    assert_int_equal(read(rd, buf, sizeof buf - 1), 8);
    assert_string_equal(buf, "through\n");
    close(rd);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    dir_remove(&d);
}

static void test_outfile_symlink_is_followed_and_kept(void **state)
{
    (void)state;
    dir_t d;
    char link[256], target[256], seen[256];
    dir_make(&d);
    dir_join(&d, "link.csv", link, sizeof link);
    dir_join(&d, "real.csv", target, sizeof target);
    put(target, "old\n");
    assert_int_equal(symlink("real.csv", link), 0);

    write_and_commit(link, "rows\n");
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* still a link ... */
    ssize_t n = readlink(link, seen, sizeof seen - 1);
    assert_true(n > 0);
    seen[n] = '\0';
    assert_string_equal(seen, "real.csv");        /* ... to the same file ... */
    assert_string_equal(slurp(target), "rows\n"); /* ... which holds the rows */
    assert_int_equal(dir_count(&d), 2);
    dir_remove(&d);
}

static void test_outfile_dangling_symlink_and_directory_are_refused(void **state)
{
    (void)state;
    dir_t d;
    char link[256], sub[256];
    sn_error_t err = {{0}};
    sn_outfile_t *f = NULL;
    dir_make(&d);
    dir_join(&d, "dangling", link, sizeof link);
    assert_int_equal(symlink("nowhere/at/all", link), 0);
    assert_int_equal(sn_outfile_check(link, &err), SN_EINVAL);
    assert_int_equal(sn_outfile_open(link, &f, &err), SN_EINVAL);
    assert_null(f);
    assert_non_null(strstr(err.msg, link));

    dir_join(&d, "sub", sub, sizeof sub);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(sn_outfile_check(sub, &err), SN_EINVAL);
    assert_non_null(strstr(err.msg, "directory"));
    assert_int_equal(sn_outfile_open(sub, &f, &err), SN_EINVAL);
    assert_null(f);
    assert_int_equal(dir_count(&d), 2); /* nothing was created */
    dir_remove(&d);
}

/* Every name snprobe could pick as temporary (its pattern, any suffix) is a
 * planted symlink to a victim file: the victim must stay untouched. The
 * planted names here are the ones a predictable scheme would use. */
static void test_outfile_planted_symlinks_are_never_followed(void **state)
{
    (void)state;
    dir_t d;
    char path[256], victim[256], plant[256];
    dir_make(&d);
    dir_join(&d, "res.csv", path, sizeof path);
    dir_join(&d, "victim", victim, sizeof victim);
    put(victim, "precious\n");
    static const char *const names[] = {"res.csv.tmp", ".res.csv.tmp", "res.csv~", ".res.csv.swp"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        dir_join(&d, names[i], plant, sizeof plant);
        assert_int_equal(symlink(victim, plant), 0);
    }
    write_and_commit(path, "rows\n");

    /* The actual temporary name of a writer is made with O_EXCL: plant a link
     * at the name it would have used, after the fact, and write again. */
    sn_error_t err = {{0}};
    sn_outfile_t *f = NULL;
    assert_int_equal(sn_outfile_open(path, &f, &err), SN_OK);
    char used[256];
    snprintf(used, sizeof used, "%s", sn_outfile_temp(f));
    sn_outfile_abort(f, false);
    assert_int_equal(symlink(victim, used), 0);
    for (int k = 0; k < 20; k++)
        write_and_commit(path, "rows again\n");

    assert_string_equal(slurp(victim), "precious\n");
    assert_string_equal(slurp(path), "rows again\n");
    struct stat st;
    assert_int_equal(lstat(used, &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* left alone, not replaced either */
    dir_remove(&d);
}

static void test_outfile_planted_lock_symlink_is_not_followed(void **state)
{
    (void)state;
    dir_t d;
    char path[256], victim[256], lock[300];
    sn_error_t err = {{0}};
    dir_make(&d);
    dir_join(&d, "res.csv", path, sizeof path);
    dir_join(&d, "victim", victim, sizeof victim);
    put(victim, "precious\n");
    snprintf(lock, sizeof lock, "%s.lock", path);
    assert_int_equal(symlink(victim, lock), 0);
    sn_outfile_t *f = NULL;
    assert_int_not_equal(sn_outfile_open(path, &f, &err), SN_OK);
    assert_null(f);
    assert_string_equal(slurp(victim), "precious\n");
    dir_remove(&d);
}

static void test_outfile_second_writer_is_refused_naming_the_first(void **state)
{
    (void)state;
    dir_t d;
    char path[256];
    sn_error_t err = {{0}};
    dir_make(&d);
    dir_join(&d, "same.csv", path, sizeof path);

    sn_outfile_t *f = NULL;
    assert_int_equal(sn_outfile_open(path, &f, &err), SN_OK);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        sn_error_t cerr = {{0}};
        sn_outfile_t *g = NULL;
        sn_status_t st = sn_outfile_open(path, &g, &cerr);
        char msg[600];
        int n = snprintf(msg, sizeof msg, "%d %s", st, cerr.msg);
        if (write(pipefd[1], msg, (size_t)n) != n)
            _exit(2);
        _exit(g == NULL ? 0 : 1);
    }
    close(pipefd[1]);
    char msg[600] = "";
    ssize_t n = read(pipefd[0], msg, sizeof msg - 1);
    close(pipefd[0]);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(n > 0);
    msg[n] = '\0';
    char want[64];
    snprintf(want, sizeof want, "%d ", SN_EBUSY);
    assert_memory_equal(msg, want, strlen(want));
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    assert_non_null(strstr(msg, pid));

    assert_int_equal(sn_outfile_write(f, "mine\n", 5, &err), SN_OK);
    assert_int_equal(sn_outfile_commit(f, &err), SN_OK);
    assert_string_equal(slurp(path), "mine\n");
    write_and_commit(path, "next\n"); /* released at commit */
    assert_string_equal(slurp(path), "next\n");
    dir_remove(&d);
}

static void test_outfile_failed_write_is_cut_back_to_the_last_whole_one(void **state)
{
    (void)state;
    /* /dev/full: every write fails with ENOSPC; written in place. */
    sn_error_t err = {{0}};
    sn_outfile_t *f = NULL;
    assert_int_equal(sn_outfile_open("/dev/full", &f, &err), SN_OK);
    assert_null(sn_outfile_temp(f));
    assert_int_equal(sn_outfile_write(f, "row\n", 4, &err), SN_EIO);
    assert_non_null(strstr(err.msg, "/dev/full"));
    sn_outfile_abort(f, false);
    struct stat st;
    assert_int_equal(stat("/dev/full", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

/* A regular file that cannot grow (RLIMIT_FSIZE, as a full disk would): the
 * write that does not fit is cut back, so the file holds whole writes. */
static void test_outfile_regular_file_keeps_whole_writes_when_full(void **state)
{
    (void)state;
    dir_t d;
    char path[256];
    sn_error_t err = {{0}};
    dir_make(&d);
    dir_join(&d, "res.csv", path, sizeof path);
    sn_outfile_t *f = NULL;
    assert_int_equal(sn_outfile_open(path, &f, &err), SN_OK);
    char temp[256];
    snprintf(temp, sizeof temp, "%s", sn_outfile_temp(f));

    struct rlimit old, small = {.rlim_cur = 100, .rlim_max = RLIM_INFINITY};
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    static const char row[] = "0123456789012345678901234567890123456\n\n"; /* 40 bytes */
    assert_int_equal(sn_outfile_write(f, row, 40, &err), SN_OK);
    assert_int_equal(sn_outfile_write(f, row, 40, &err), SN_OK);
    sn_status_t st = sn_outfile_write(f, row, 40, &err); /* 20 bytes fit, then EFBIG */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(st, SN_EIO);
    assert_non_null(strstr(err.msg, path));
    struct stat sb;
    assert_int_equal(stat(temp, &sb), 0);
    assert_int_equal(sb.st_size, 80);
    sn_outfile_abort(f, true); /* kept for inspection */
    assert_int_equal(stat(temp, &sb), 0);
    assert_int_equal(sb.st_size, 80);
    assert_int_equal(access(path, F_OK), -1);
    dir_remove(&d);
}

static void test_outfile_null_and_dash(void **state)
{
    (void)state;
    sn_error_t err = {{0}};
    assert_int_equal(sn_outfile_commit(NULL, &err), SN_OK);
    sn_outfile_abort(NULL, true);
    assert_int_equal(sn_outfile_check(NULL, &err), SN_OK);
    assert_int_equal(sn_outfile_check("-", &err), SN_OK);
    sn_outfile_t *f = NULL;
    assert_int_equal(sn_outfile_open("", &f, &err), SN_EINVAL);
    assert_int_equal(sn_outfile_open("-", &f, &err), SN_OK);
    assert_int_equal(sn_outfile_fd(f), STDOUT_FILENO);
    assert_string_equal(sn_outfile_name(f), "standard output");
    assert_int_equal(sn_outfile_commit(f, &err), SN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outfile_new_file_appears_whole_only_at_commit),
        cmocka_unit_test(test_outfile_replaces_a_regular_file_atomically),
        cmocka_unit_test(test_outfile_char_device_stays_a_device),
        cmocka_unit_test(test_outfile_fifo_is_written_in_place),
        cmocka_unit_test(test_outfile_symlink_is_followed_and_kept),
        cmocka_unit_test(test_outfile_dangling_symlink_and_directory_are_refused),
        cmocka_unit_test(test_outfile_planted_symlinks_are_never_followed),
        cmocka_unit_test(test_outfile_planted_lock_symlink_is_not_followed),
        cmocka_unit_test(test_outfile_second_writer_is_refused_naming_the_first),
        cmocka_unit_test(test_outfile_failed_write_is_cut_back_to_the_last_whole_one),
        cmocka_unit_test(test_outfile_regular_file_keeps_whole_writes_when_full),
        cmocka_unit_test(test_outfile_null_and_dash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
