/*
 * For harnesses of loaders that take a path (blocklist, population, vantage, mmdb): the
 * input bytes go into an anonymous memory file (memfd) whose /proc/self/fd path the loader
 * opens like any file, so that no harness writes to the file system.
 */
#ifndef SN_FUZZ_FILE_H
#define SN_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

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

#endif
