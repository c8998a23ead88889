/*
 * The cross-vantage comparison (`report --history ... --by-site`): the sites
 * that scanned the newest night, each site's view (its run of that night,
 * shards joined), and how alike the views are: per site the alive count and
 * the reachability classes, the Jaccard index of the alive sets per pair of
 * sites, the share of nodes alive from every site and from only one, the
 * agreement of the reachability class per node, the RTT by continent per
 * site and each site's vantage verdict, under the headline "how similar is
 * the view from every location".
 */
#ifndef SN_HISTORY_SITES_H
#define SN_HISTORY_SITES_H

#include <stddef.h>
#include <stdio.h>

#include "data/history.h"
#include "lib/status.h"

typedef struct sn_sites sn_sites_t;

typedef struct sn_sites_overlap {
    size_t alive_any, alive_all, alive_one; /* nodes alive from any / every / exactly one site */
    size_t observed_all, class_agree;       /* probed by every site; of those, one class */
} sn_sites_overlap_t;

/* Reads the newest night's views from the history at path (up to 16 sites). */
sn_status_t sn_sites_load(sn_sites_t **s, const char *path, sn_error_t *err);
void sn_sites_free(sn_sites_t *s); /* accepts NULL */

size_t sn_sites_count(const sn_sites_t *s);
/* |A ∩ B| / |A ∪ B| of the alive sets of sites a and b (1 when both are empty). */
double sn_sites_jaccard(const sn_sites_t *s, size_t a, size_t b);
void sn_sites_overlap(const sn_sites_t *s, sn_sites_overlap_t *o);

/* The report's section (ud: the sn_sites_t). */
void sn_sites_write_html(FILE *f, void *ud);

#endif
