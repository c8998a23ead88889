/*
 * Fuzz harness for the history store's chunk decoder (data/history_chunk.c):
 * arbitrary bytes as a chunk read from a damaged file. Every observation
 * delivered must hold what the decoder promises (an address of 1 to 64 bytes,
 * as many cells as the header says); and what a valid chunk decodes to must
 * pack and unpack to the same observations (the two sides agree).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/history_chunk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEEP 32 /* observations kept for the round trip */

typedef struct seen {
    uint64_t n_cells;
    size_t n;
    sn_history_obs_t o[KEEP];
    char *strings[KEEP][9]; /* the address and up to 8 cells, copied */
    const char *cells[KEEP][8];
    bool compare; /* the second pass: compare against o[] */
    size_t at;
} seen_t;

static void on_obs(void *ud, const sn_history_obs_t *o)
{
    seen_t *s = ud;
    size_t alen = strlen(o->address);
    if (alen == 0 || alen > SN_HCHUNK_ADDR_MAX || o->cells == NULL)
        abort(); /* a decoder bug, which the fuzzer must see */
    for (uint64_t i = 0; i < s->n_cells; i++)
        if (o->cells[i] == NULL)
            abort();
    if (s->n_cells > 8)
        return; /* the round trip keeps chunks of up to 8 cells */
    if (s->compare) {
        const sn_history_obs_t *w = &s->o[s->at];
        if (s->at >= s->n || strcmp(w->address, o->address) != 0 || w->port != o->port ||
            w->observed_at != o->observed_at || w->probed != o->probed || w->alive != o->alive ||
            w->incomplete != o->incomplete)
            abort();
        for (uint64_t i = 0; i < s->n_cells; i++)
            if (strcmp(w->cells[i], o->cells[i]) != 0)
                abort();
        s->at++;
        return;
    }
    if (s->n == KEEP)
        return;
    sn_history_obs_t *c = &s->o[s->n];
    *c = *o;
    s->strings[s->n][0] = strdup(o->address);
    c->address = s->strings[s->n][0];
    for (uint64_t i = 0; i < s->n_cells; i++) {
        s->strings[s->n][i + 1] = strdup(o->cells[i]);
        s->cells[s->n][i] = s->strings[s->n][i + 1];
    }
    c->cells = s->cells[s->n];
    s->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_error_t err;
    uint64_t n, n_cells;
    if (sn_hchunk_header(data, size, &n, &n_cells, &err) != SN_OK)
        return 0;
    seen_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return 0;
    s->n_cells = n_cells;
    sn_status_t st = sn_hchunk_decode(data, size, on_obs, s, &err);
    if (st == SN_OK && n <= KEEP && n_cells <= 8) {
        if (s->n != n)
            abort();
        uint8_t *blob;
        size_t len;
        if (sn_hchunk_encode(s->o, s->n, (size_t)n_cells, &blob, &len, &err) == SN_OK) {
            s->compare = true;
            if (sn_hchunk_decode(blob, len, on_obs, s, &err) != SN_OK || s->at != s->n)
                abort();
            free(blob);
        }
    }
    for (size_t k = 0; k < s->n; k++)
        for (int i = 0; i < 9; i++)
            free(s->strings[k][i]);
    free(s);
    return 0;
}
