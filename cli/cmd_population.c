/*
 * `snprobe population -o FILE`: generates a swarm population (and, with
 * --list, its ip:port list) for tests and benchmarks.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "lab/demo.h"
#include "lab/population.h"
#include "lib/outfile.h"

/* The population's addresses, one ip:port a line: the list a scan reads. */
static sn_status_t write_list(const sn_population_t *pop, const char *path, sn_error_t *err)
{
    sn_outfile_t *of = NULL;
    sn_status_t st = sn_outfile_open(path, &of, err);
    if (st != SN_OK)
        return st;
    FILE *f = sn_outfile_stream(of);
    if (f == NULL) {
        sn_outfile_abort(of, false);
        return sn_error_set(err, SN_ENOMEM, "out of memory writing %s", path);
    }
    for (size_t i = 0; i < pop->count; i++) {
        char a[SN_ADDR_STRLEN];
        sn_addr_format(&pop->nodes[i].addr, a, sizeof a, true);
        fprintf(f, "%s\n", a);
    }
    return sn_outfile_commit(of, err);
}

int sn_cmd_population(const sn_config_t *cfg)
{
    sn_error_t err = {{0}};
    sn_popgen_t gen = {.count = (size_t)cfg->count,
                       .seed = cfg->seed ? (uint64_t)cfg->seed : 1,
                       .one_port = (uint16_t)cfg->one_port,
                       .delay_ms = (uint32_t)cfg->delay_ms};
    if (cfg->mix != NULL) {
        if (sn_demo_parse_mix(cfg->mix, &gen, &err) != SN_OK)
            return sn_cli_usage(&err);
    } else {
        sn_demo_default_mix(&gen);
    }
    if (strcmp(cfg->output, "-") == 0) {
        sn_error_set(&err, SN_EINVAL, "population needs -o FILE");
        return sn_cli_usage(&err);
    }
    sn_population_t pop = {0};
    sn_status_t st = sn_population_generate(&gen, &pop, &err);
    if (st == SN_OK)
        st = sn_population_write(&pop, cfg->output, &err);
    if (st == SN_OK && cfg->list != NULL)
        st = write_list(&pop, cfg->list, &err);
    sn_population_free(&pop);
    return st == SN_OK ? SN_EXIT_OK : sn_cli_fail_st(st, &err);
}
