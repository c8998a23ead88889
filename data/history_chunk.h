/*
 * The packed form of a batch of observations: how the SQLite history store
 * (history_sqlite.c) keeps a night, one blob per batch the writer commits,
 * instead of one indexed row per observation. At 1,000,000 targets a row
 * each cost the writer 5-6 us of CPU per observation (the (address, port)
 * index entered at random places, 39 columns bound and packed by SQLite);
 * the blob costs a fraction of a microsecond to pack and one row per 1,000
 * observations to store.
 *
 * Layout, every integer unsigned LEB128 (lib/bytes.h):
 *   version (1) | observations N | cells per observation C
 *   N times: flags (bit 0 probed, 1 alive, 2 incomplete) | address length,
 *            address text | port | observed_at as the zigzag of its
 *            difference to the previous observation's (the first's to 0) |
 *            C cells, each either 0 (the same text as this column's cell in
 *            the previous observation; "" before the first) or its length + 1
 *            followed by its text.
 * Scans finish their targets in shuffled order, but most columns still repeat
 * from one row to the next (empty fields, the vantage, the outcome), so the
 * "same as before" code makes a night about a third of the rows' size.
 *
 * The blob is read back from a file that may be damaged: the decoder checks
 * every length against what is left and reports the byte offset of a fault;
 * texts holding a NUL byte are refused (cells are C strings).
 */
#ifndef SN_HISTORY_CHUNK_H
#define SN_HISTORY_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "data/history.h"
#include "lib/status.h"

/* The longest address text a chunk may hold (an IPv6 address with a zone fits). */
#define SN_HCHUNK_ADDR_MAX 64

/*
 * Packs obs[0..n) with n_cells cells each (an observation's cells NULL: every cell "") into
 * a malloc'd blob at *blob of *len bytes. SN_EINVAL for an address longer than
 * SN_HCHUNK_ADDR_MAX; SN_ENOMEM; err set on failure.
 */
sn_status_t sn_hchunk_encode(const sn_history_obs_t *obs, size_t n, size_t n_cells, uint8_t **blob,
                             size_t *len, sn_error_t *err);

/*
 * Reads the blob's header: its count of observations and of cells per observation. SN_EINVAL
 * with err set when the header is damaged or of another version.
 */
sn_status_t sn_hchunk_header(const uint8_t *blob, size_t len, uint64_t *n, uint64_t *n_cells,
                             sn_error_t *err);

/*
 * Unpacks the blob, calling fn for each observation in the order they were packed: its
 * address, cells (n_cells of them, as the header says) and flags point into storage that
 * lives until fn returns; run_id and target_id are 0. Returns SN_OK, or SN_EINVAL with err
 * naming the byte offset of the fault (observations before it were delivered), or
 * SN_ENOMEM.
 */
sn_status_t sn_hchunk_decode(const uint8_t *blob, size_t len, sn_history_obs_fn fn, void *ud,
                             sn_error_t *err);

#endif
