/*
 * The probe registry: the one place a probe module is named. The engine, the
 * option parser (--probes, --list-probes) and the swarm see modules only
 * through this array, so adding a probe is one new file plus one line here.
 * The order is stable: it is the order --list-probes prints.
 */
#include "probes/probe.h"

#include <string.h>

extern const sn_probe_t sn_probe_skype;
extern const sn_probe_t sn_probe_tcp;
extern const sn_probe_t sn_probe_stun;

const sn_probe_t *const sn_probes[] = {&sn_probe_skype, &sn_probe_tcp, &sn_probe_stun};
const size_t sn_probe_count = sizeof sn_probes / sizeof sn_probes[0];

const sn_probe_t *sn_probe_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sn_probe_count; i++) {
        if (strcmp(sn_probes[i]->name, name) == 0)
            return sn_probes[i];
    }
    return NULL;
}
