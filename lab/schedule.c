/*
 * A schedule of nights (see schedule.h). Every node that ever exists is one
 * "identity" with a fixed address and port; a night is a presence bit per
 * identity. A dynamic node that moves is retired and a new identity takes its
 * place on a fresh address, so an address never hosts two different nodes and
 * the ground truth per target is unambiguous.
 */
#include "lab/schedule.h"
#include "lib/outfile.h"
#include "lib/rng.h"

#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

enum { ROLE_CORE, ROLE_DYNAMIC, ROLE_FLAKY };

typedef struct ident {
    sn_node_t node;
    uint8_t role;
} ident_t;

typedef struct build {
    ident_t *id;
    size_t n, cap;
    uint32_t *used; /* IPv4 addresses taken, open addressing (0 = empty) */
    size_t used_cap;
    sn_rng_t rng;
} build_t;

static uint32_t v4(const sn_addr_t *a)
{
    return (uint32_t)a->ip[0] << 24 | (uint32_t)a->ip[1] << 16 | (uint32_t)a->ip[2] << 8 | a->ip[3];
}

static bool used_has(const build_t *b, uint32_t ip)
{
    for (size_t i = (ip * 2654435761u) & (b->used_cap - 1);; i = (i + 1) & (b->used_cap - 1)) {
        if (b->used[i] == 0)
            return false;
        if (b->used[i] == ip)
            return true;
    }
}

static void used_add(build_t *b, uint32_t ip)
{
    size_t i = (ip * 2654435761u) & (b->used_cap - 1);
    while (b->used[i] != 0 && b->used[i] != ip)
        i = (i + 1) & (b->used_cap - 1);
    b->used[i] = ip;
}

static sn_status_t add_ident(build_t *b, const sn_node_t *n, uint8_t role)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? 2 * b->cap : 1024;
        ident_t *ni = realloc(b->id, nc * sizeof *ni);
        if (ni == NULL)
            return SN_ENOMEM;
        b->id = ni;
        b->cap = nc;
    }
    b->id[b->n++] = (ident_t){.node = *n, .role = role};
    if (n->addr.family == AF_INET)
        used_add(b, v4(&n->addr));
    return SN_OK;
}

/* A fresh IPv4 loopback address no identity ever had (127.1.0.1 .. 127.254.255.254). */
static void fresh_addr(build_t *b, sn_addr_t *a)
{
    uint32_t ip;
    do {
        uint64_t r = sn_rng_next(&b->rng);
        ip = 127u << 24 | (uint32_t)(1 + r % 254) << 16 | (uint32_t)((r >> 8) % 256) << 8 |
             (uint32_t)(1 + (r >> 16) % 254);
    } while (used_has(b, ip));
    sn_addr_set_v4(a, ip, a->port);
}

static bool can_move(const sn_node_t *n)
{
    return n->addr.family == AF_INET && n->behaviour != SN_BEH_CLOSED &&
           n->behaviour != SN_BEH_TCP_443_ONLY && n->behaviour != SN_BEH_TCP_80_ONLY;
}

bool sn_behaviour_answers(sn_behaviour_t b)
{
    return b != SN_BEH_DEAD && b != SN_BEH_CLOSED && b < SN_BEH_COUNT_;
}

void sn_schedule_free(sn_schedule_t *s)
{
    if (s == NULL)
        return;
    for (size_t d = 0; d < s->nights; d++) {
        if (s->present)
            sn_population_free(&s->present[d]);
        if (s->listed)
            free(s->listed[d]);
    }
    free(s->present);
    free(s->listed);
    free(s->n_listed);
    *s = (sn_schedule_t){0};
}

sn_status_t sn_schedule_make(const sn_population_t *first, const bool *dynamic, size_t nights,
                             uint64_t seed, sn_schedule_t *out, sn_error_t *err)
{
    *out = (sn_schedule_t){0};
    if (nights == 0)
        return sn_error_set(err, SN_EINVAL, "a schedule needs at least one night");
    size_t joiners = first->count * 3 / 100;
    /* Each night at most every dynamic node moves (one new identity each) and joiners join. */
    size_t most = first->count + (nights - 1) * (first->count + joiners);
    build_t b = {.rng = sn_rng_seeded(seed)};
    b.used_cap = 1024;
    while (b.used_cap < 2 * most)
        b.used_cap *= 2;
    b.used = calloc(b.used_cap, sizeof *b.used);
    /* alive[d * most + i]: identity i present on night d */
    uint8_t *present = calloc(nights * most, 1);
    sn_status_t st = b.used && present ? SN_OK : SN_ENOMEM;
    for (size_t i = 0; i < first->count && st == SN_OK; i++) {
        bool dyn = dynamic != NULL ? dynamic[i] : i % 10 >= 4 && i % 10 < 6;
        uint8_t role = dyn ? ROLE_DYNAMIC : i % 10 < 6 ? ROLE_CORE : ROLE_FLAKY;
        if (!can_move(&first->nodes[i]) && role == ROLE_DYNAMIC)
            role = ROLE_CORE;
        st = add_ident(&b, &first->nodes[i], role);
        present[i] = 1;
    }
    for (size_t d = 1; d < nights && st == SN_OK; d++) {
        uint8_t *prev = present + (d - 1) * most, *now = present + d * most;
        size_t n_before = b.n;
        for (size_t i = 0; i < n_before && st == SN_OK; i++) {
            ident_t *id = &b.id[i];
            if (id->role == ROLE_CORE) {
                now[i] = prev[i];
            } else if (id->role == ROLE_DYNAMIC) {
                if (!prev[i])
                    continue; /* moved away on an earlier night: retired */
                if (sn_rng_unit(&b.rng) < 0.5) {
                    sn_node_t moved = id->node;
                    fresh_addr(&b, &moved.addr);
                    st = add_ident(&b, &moved, ROLE_DYNAMIC);
                    now[b.n - 1] = 1;
                } else {
                    now[i] = 1;
                }
            } else {
                now[i] = prev[i] ? sn_rng_unit(&b.rng) >= 0.3 : sn_rng_unit(&b.rng) < 0.5;
            }
        }
        for (size_t j = 0; j < joiners && st == SN_OK && first->count > 0; j++) {
            const sn_node_t *like = &first->nodes[sn_rng_next(&b.rng) % first->count];
            if (!can_move(like))
                continue;
            sn_node_t n = *like;
            n.behaviour = SN_BEH_ALIVE;
            fresh_addr(&b, &n.addr);
            st = add_ident(&b, &n, ROLE_FLAKY);
            now[b.n - 1] = 1;
        }
    }
    if (st == SN_OK) {
        out->nights = nights;
        out->present = calloc(nights, sizeof *out->present);
        out->listed = calloc(nights, sizeof *out->listed);
        out->n_listed = calloc(nights, sizeof *out->n_listed);
        if (out->present == NULL || out->listed == NULL || out->n_listed == NULL)
            st = SN_ENOMEM;
    }
    for (size_t d = 0; d < nights && st == SN_OK; d++) {
        const uint8_t *now = present + d * most, *prev = d > 0 ? now - most : NULL;
        sn_population_t *p = &out->present[d];
        p->nodes = malloc((b.n ? b.n : 1) * sizeof *p->nodes);
        out->listed[d] = malloc((b.n ? b.n : 1) * sizeof *out->listed[d]);
        if (p->nodes == NULL || out->listed[d] == NULL) {
            st = SN_ENOMEM;
            break;
        }
        for (size_t i = 0; i < b.n; i++) {
            if (now[i])
                p->nodes[p->count++] = b.id[i].node;
            if (now[i] || (prev && prev[i]))
                out->listed[d][out->n_listed[d]++] = b.id[i].node.addr;
        }
    }
    free(b.id);
    free(b.used);
    free(present);
    if (st != SN_OK) {
        sn_schedule_free(out);
        return sn_error_set(err, st, "out of memory making a schedule of %zu nights", nights);
    }
    return SN_OK;
}

sn_status_t sn_schedule_write(const sn_schedule_t *s, const char *path, sn_error_t *err)
{
    sn_outfile_t *of;
    FILE *f;
    sn_status_t st = sn_outfile_open_stream(path, &of, &f, err);
    if (st != SN_OK)
        return st;
    fprintf(f, "night,address,port,behaviour,present,alive\n");
    for (size_t d = 0; d < s->nights; d++) {
        const sn_population_t *p = &s->present[d];
        size_t j = 0;
        for (size_t k = 0; k < s->n_listed[d]; k++) {
            const sn_addr_t *a = &s->listed[d][k];
            const sn_node_t *n = NULL;
            /* Both lists keep the identities' order, and every present node is listed. */
            if (j < p->count && sn_addr_equal(&p->nodes[j].addr, a))
                n = &p->nodes[j++];
            char ip[SN_ADDR_STRLEN];
            sn_addr_format(a, ip, sizeof ip, false);
            fprintf(f, "%zu,%s,%u,%s,%d,%d\n", d + 1, ip, a->port,
                    n ? sn_behaviour_name((sn_behaviour_t)n->behaviour) : "gone", n != NULL,
                    n != NULL && sn_behaviour_answers((sn_behaviour_t)n->behaviour));
        }
    }
    return sn_outfile_commit(of, err);
}
