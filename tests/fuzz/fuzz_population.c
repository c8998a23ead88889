/*
 * Fuzz harness for the population CSV reader (sn_population_load, the swarm's --population):
 * arbitrary bytes as the file. A failed load says why and leaves nothing allocated; a
 * loaded population passes or fails sn_population_check without a sanitizer report.
 */
#include <stdlib.h>

#include "lab/population.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_population(const char *path, sn_error_t *err)
{
    sn_population_t pop = {0};
    if (sn_population_load(path, &pop, err) == SN_OK) {
        for (size_t i = 0; i < pop.count; i++)
            (void)sn_population_expect(&pop.nodes[i]);
        (void)sn_population_check(&pop, err);
    } else if (err->msg[0] == '\0') {
        abort();
    }
    sn_population_free(&pop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_file_run(data, size, check_population);
}
