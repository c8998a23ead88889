/*
 * The probe registry: the one place a probe module is named. The engine, the
 * option parser (--probes, --list-probes), the swarm and the column table see
 * modules only through this array, so adding a probe is one new file plus one
 * line here. The order is stable: it is the order --list-probes prints, and
 * the order in which declared fields become columns. A module built outside
 * the product (a test's) joins the same array through sn_probe_register.
 */
#include "probes/probe.h"

#include <string.h>

extern const sn_probe_t sn_probe_skype;
extern const sn_probe_t sn_probe_tcp;
extern const sn_probe_t sn_probe_stun;

const sn_probe_t *sn_probes[SN_PROBES_MAX] = {&sn_probe_skype, &sn_probe_tcp, &sn_probe_stun};
size_t sn_probe_count = 3;

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

int sn_probe_field_index(const sn_probe_t *p, const char *name)
{
    for (size_t i = 0; p != NULL && name != NULL && i < p->n_fields; i++)
        if (strcmp(p->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool valid_name(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 32)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

sn_status_t sn_probe_register(const sn_probe_t *p)
{
    if (p == NULL || p->name == NULL || *p->name == '\0' || sn_probe_find(p->name) != NULL)
        return SN_EINVAL;
    if (p->transport != SN_TRANSPORT_UDP && p->transport != SN_TRANSPORT_TCP)
        return SN_EINVAL;
    if (p->n_fields > SN_FIELD_VALUES_MAX || (p->n_fields > 0 && p->fields == NULL))
        return SN_EINVAL;
    for (size_t i = 0; i < p->n_fields; i++) {
        if (!valid_name(p->fields[i].name) || p->fields[i].help == NULL ||
            p->fields[i].type > SN_FIELD_BOOL ||
            sn_probe_field_index(p, p->fields[i].name) != (int)i)
            return SN_EINVAL;
    }
    if (sn_probe_count == SN_PROBES_MAX)
        return SN_ELIMIT;
    sn_probes[sn_probe_count++] = p;
    return SN_OK;
}
