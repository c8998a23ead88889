/*
 * For harnesses of loaders that take a path (blocklist, population, vantage, mmdb): the
 * input bytes go into an anonymous memory file (memfd) whose /proc/self/fd path the loader
 * opens like any file, so that no harness writes to the file system. fuzz_file_run is the
 * whole of such a harness's entry point but its check.
 */
#ifndef SN_FUZZ_FILE_H
#define SN_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/status.h"

/* Writes data to a new memfd; fills path (>= 32 bytes) and returns the fd, or -1. */
static inline int fuzz_file_open(const uint8_t *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("snprobe-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

/*
 * Puts the input in a memfd and calls check with its path and an error whose message is
 * empty (so that check can tell whether a refusal said why); closes the memfd after.
 * Returns 0, LLVMFuzzerTestOneInput's answer; an input that cannot be put in a memfd is
 * skipped.
 */
static inline int fuzz_file_run(const uint8_t *data, size_t size,
                                void (*check)(const char *path, sn_error_t *err))
{
    char path[64];
    int fd = fuzz_file_open(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    sn_error_t err;
    err.msg[0] = '\0';
    check(path, &err);
    close(fd);
    return 0;
}

#endif
