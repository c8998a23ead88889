/*
 * Fuzz harness for the --exclude-file loader (sn_blocklist_load): arbitrary bytes as the
 * file. A load that fails must say why; whatever loaded, the floor of the allow list
 * (multicast, broadcast, unspecified) stays blocked after --allow 0.0.0.0/0 and ::/0.
 */
#include <stdlib.h>
#include <string.h>

#include "data/blocklist.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_blocked(const sn_blocklist_t *bl, const char *ip)
{
    sn_addr_t a;
    if (sn_addr_parse_ip(ip, strlen(ip), &a) != SN_OK || !sn_blocklist_blocked(bl, &a, NULL))
        abort();
}

static void check_blocklist(const char *path, sn_error_t *err)
{
    sn_blocklist_t *bl = sn_blocklist_new();
    if (bl != NULL) {
        if (sn_blocklist_load(bl, path, err) != SN_OK && err->msg[0] == '\0')
            abort();
        /* An error message never carries more than a short excerpt of a line. */
        if (strlen(err->msg) > 200)
            abort();
        sn_blocklist_allow(bl, "0.0.0.0/0", err);
        sn_blocklist_allow(bl, "::/0", err);
        check_blocked(bl, "224.0.0.1");
        check_blocked(bl, "255.255.255.255");
        check_blocked(bl, "0.0.0.0");
        check_blocked(bl, "ff02::1");
        check_blocked(bl, "::");
    }
    sn_blocklist_free(bl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_file_run(data, size, check_blocklist);
}
