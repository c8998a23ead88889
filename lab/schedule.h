/*
 * A schedule of nights: how an emulated super-node population changes from
 * one night to the next, as the measurement studies saw it. A core of
 * long-lived nodes stays put; dynamic-address nodes come back on a new
 * address (the old one is gone for good); flaky nodes leave and return;
 * new nodes join. The schedule is the ground truth of the demo's history
 * and of the tests that check `snprobe history` against it.
 *
 * Each night has the nodes present (the swarm plays exactly those) and the
 * targets listed: tonight's present nodes plus last night's, since a harvest
 * still lists a node that left yesterday. A listed target is probed; it is
 * alive when it is present and its behaviour answers.
 */
#ifndef SN_SCHEDULE_H
#define SN_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/population.h"

typedef struct sn_schedule {
    size_t nights;
    sn_population_t *present; /* per night: the nodes the swarm plays */
    sn_addr_t **listed;       /* per night: the targets the harvest lists */
    size_t *n_listed;
} sn_schedule_t;

/*
 * Makes nights nights starting from first (night 1 is first itself, all
 * listed). Deterministic for a seed. Node roles: dynamic (each later night,
 * half of the dynamic nodes move to a fresh address on the same port): the
 * nodes with dynamic[i] set, or without that array 20% by index; of the
 * others, 6 in 10 by index are core (never change) and the rest flaky (a
 * present one leaves with probability 0.3, an absent one returns with 0.5);
 * 3% of the first night's count join each night.
 * closed, tcp-443-only and tcp-80-only nodes never move (they need a port or
 * an address of their own). Returns SN_OK, or SN_ENOMEM.
 */
sn_status_t sn_schedule_make(const sn_population_t *first, const bool *dynamic, size_t nights,
                             uint64_t seed, sn_schedule_t *out, sn_error_t *err);

void sn_schedule_free(sn_schedule_t *s); /* accepts zeroed */

/*
 * Writes the ground truth, one row per night and listed target:
 * night,address,port,behaviour,present,alive (behaviour of the node on that
 * address, or "gone" when no node is there tonight).
 */
sn_status_t sn_schedule_write(const sn_schedule_t *s, const char *path, sn_error_t *err);

/* Whether a node of behaviour b answers the default plan over UDP or TCP. */
bool sn_behaviour_answers(sn_behaviour_t b);

#endif
