/*
 * Fuzz harness for the --vantage-from reader (sn_vantage_load): arbitrary bytes as the
 * file, text or JSON form. A loaded verdict is known and prints back without a sanitizer
 * report; a refused one says why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "scanner/vantage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_file_open(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    sn_vantage_t v;
    sn_error_t err;
    err.msg[0] = '\0';
    if (sn_vantage_load(path, &v, &err) == SN_OK) {
        if (!v.known)
            abort();
        char buf[512];
        sn_vantage_format(&v, buf, sizeof buf);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    close(fd);
    return 0;
}
