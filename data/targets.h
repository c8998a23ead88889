/*
 * The target set: every distinct (address, port) read from the inputs, with
 * how often the harvests listed it and which inputs did.
 *
 * Inputs are added one after another (sn_targets_begin_input); the order is
 * kept, so that later stages can draw the discovery curve (distinct nodes after
 * each input). Memory grows with distinct targets, not with listings: a target
 * costs one sn_target_t plus one hash slot; a target listed under a second
 * label costs two 8-byte links in the sources arena, each further label one.
 */
#ifndef SN_TARGETS_H
#define SN_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/status.h"
#include "lib/addr.h"

#define SN_NO_INDEX UINT32_MAX

typedef struct sn_target {
    sn_addr_t addr;
    uint32_t seen_count;  /* listings summed over inputs and `count` columns */
    uint32_t first_input; /* index of the first input that listed it */
    uint32_t sources;     /* its one label, or the head of its label chain (targets.c) */
    uint32_t flags;       /* interned opaque flags string (host cache `,flags`), or SN_NO_INDEX */
    int64_t first_seen;   /* Unix seconds from the input, 0 if unknown */
    int64_t last_seen;    /* Unix seconds from the input, 0 if unknown */
} sn_target_t;

/* What one listing says about a target beyond its address. */
typedef struct sn_listing {
    uint32_t count;     /* listings this entry stands for; 0 is read as 1 */
    int64_t first_seen; /* 0 if unknown */
    int64_t last_seen;  /* 0 if unknown */
    const char *flags;  /* opaque, may be NULL */
    const char *source; /* label overriding the input's name (CSV `source`), may be NULL */
} sn_listing_t;

typedef struct sn_targets sn_targets_t;

sn_targets_t *sn_targets_new(void);
void sn_targets_free(sn_targets_t *ts); /* accepts NULL */

/*
 * Starts a new input named name (a path, or "-"); later listings belong to it.
 * Returns the input's index (0, 1, ...) or a negative status.
 */
int sn_targets_begin_input(sn_targets_t *ts, const char *name);

/* Adds one listing of addr to the current input. listing may be NULL. */
sn_status_t sn_targets_add(sn_targets_t *ts, const sn_addr_t *addr, const sn_listing_t *listing);

size_t sn_targets_count(const sn_targets_t *ts);
const sn_target_t *sn_targets_at(const sn_targets_t *ts, size_t i);

/* Finds a target by address and port; NULL if absent. */
const sn_target_t *sn_targets_find(const sn_targets_t *ts, const sn_addr_t *addr);

/* Number of inputs begun and the name of input i. */
size_t sn_targets_input_count(const sn_targets_t *ts);
const char *sn_targets_input_name(const sn_targets_t *ts, size_t i);
/* Listings read from input i (entries, not distinct targets). */
uint64_t sn_targets_input_listings(const sn_targets_t *ts, size_t i);
/* Total listings over all inputs. */
uint64_t sn_targets_listings(const sn_targets_t *ts);

/*
 * Calls fn(label, ud) for each distinct source label of t, in the order they
 * were first seen. Labels are input names or CSV `source` values.
 */
void sn_targets_foreach_source(const sn_targets_t *ts, const sn_target_t *t,
                               void (*fn)(const char *label, void *ud), void *ud);

/* The interned flags string of t, or NULL. */
const char *sn_targets_flags(const sn_targets_t *ts, const sn_target_t *t);

#endif
