/*
 * Fuzz harness for the command line: the first byte picks the parser, the rest is its text.
 *   0: argv for sn_cli_parse (arguments split at NUL bytes, after "snprobe")
 *   1: --plan for sn_scan_parse_plan   2: --ports for sn_scan_parse_ports
 *   3: --mix for sn_demo_parse_mix
 * A refusal must say why; the same argv parsed twice gives the same answer (getopt's
 * state does not leak from one parse into the next).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lab/demo.h"
#include "scanner/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_argv(char *text, size_t len)
{
    char *argv[66];
    int argc = 0;
    argv[argc++] = "snprobe";
    char *p = text;
    while (p < text + len && argc < 65) {
        argv[argc++] = p;
        p += strlen(p) + 1;
    }
    argv[argc] = NULL;
    sn_status_t first = SN_OK;
    for (int round = 0; round < 2; round++) {
        char *copy[66];
        memcpy(copy, argv, sizeof copy); /* getopt permutes argv */
        sn_config_t cli;
        sn_error_t err;
        err.msg[0] = '\0';
        sn_status_t st = sn_cli_parse(argc, copy, &cli, &err);
        if (st != SN_OK && err.msg[0] == '\0')
            abort();
        if (round == 0)
            first = st;
        else if (st != first)
            abort();
        sn_cli_free(&cli);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned which = data[0] % 4;
    char *text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    sn_error_t err;
    err.msg[0] = '\0';
    sn_status_t st = SN_OK;
    if (which == 0) {
        parse_argv(text, size - 1);
    } else if (which == 1 || which == 2) {
        sn_engine_cfg_t ecfg;
        memset(&ecfg, 0, sizeof ecfg);
        st = which == 1 ? sn_scan_parse_plan(text, &ecfg, &err)
                        : sn_scan_parse_ports(text, &ecfg, &err);
        if (st == SN_OK && which == 2 && ecfg.n_fallback > SN_MAX_FALLBACK_PORTS)
            abort();
    } else {
        sn_popgen_t gen;
        sn_demo_default_mix(&gen);
        st = sn_demo_parse_mix(text, &gen, &err);
    }
    if (st != SN_OK && err.msg[0] == '\0')
        abort();
    free(text);
    return 0;
}
