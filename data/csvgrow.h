/*
 * libcsv with a buffer that grows geometrically.
 *
 * libcsv grows its field buffer by a fixed block (128 bytes by default), and
 * every growth may copy the whole field: a 50 MB quoted field then costs
 * hundreds of thousands of reallocations, quadratic time (over 300 s under
 * ASan). sn_csv_parse feeds csv_parse in 64 KiB steps and, before each step,
 * sets the block to the size the buffer already has, so the buffer at least
 * doubles each time it must grow and a field of n bytes is read in O(n).
 * Every libcsv user in snprobe parses through it.
 */
#ifndef SN_CSVGROW_H
#define SN_CSVGROW_H

#include <csv.h>
#include <stddef.h>

#define SN_CSV_STEP ((size_t)64 * 1024)

/* csv_parse over len bytes of s; returns the bytes parsed (len unless libcsv stopped on an error).
 */
static inline size_t sn_csv_parse(struct csv_parser *p, const void *s, size_t len,
                                  void (*cb1)(void *, size_t, void *), void (*cb2)(int, void *),
                                  void *data)
{
    size_t done = 0;
    while (done < len) {
        size_t step = len - done < SN_CSV_STEP ? len - done : SN_CSV_STEP;
        size_t have = csv_get_buffer_size(p);
        csv_set_blk_size(p, have > 128 ? have : 128);
        size_t n = csv_parse(p, (const char *)s + done, step, cb1, cb2, data);
        done += n;
        if (n != step)
            break;
    }
    return done;
}

#endif
