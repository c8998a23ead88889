/*
 * Fuzz harness for the --vantage-from reader (sn_vantage_load): arbitrary bytes as the
 * file, text or JSON form. A loaded verdict is known and prints back without a sanitizer
 * report; a refused one says why.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_file.h"
#include "scanner/vantage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_vantage(const char *path, sn_error_t *err)
{
    sn_vantage_t v;
    if (sn_vantage_load(path, &v, err) == SN_OK) {
        if (!v.known)
            abort();
        char buf[512];
        sn_vantage_format(&v, buf, sizeof buf);
    } else if (err->msg[0] == '\0') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_file_run(data, size, check_vantage);
}
