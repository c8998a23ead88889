/*
 * Readers of harvested super-node lists: Skype host-cache XML (both the
 * `<_N>ip:port[,flags]</_N>` shape of 1.x/2.x and the hex-blob shape of 3.x and
 * later), plain `ip:port` lists, and CSV with a header. Each reader feeds the
 * target set through sn_targets_add; none keeps its own copy.
 *
 * A bad entry (bad address, bad port, malformed blob element) is reported to
 * the diag callback with the file, the line (or entry index for blobs) and a
 * reason, then skipped and counted. With opts->strict the first bad entry
 * stops the read with SN_EPARSE and the same message in err. A file that
 * cannot be read or parsed at all is an error naming the file.
 */
#ifndef SN_INPUT_H
#define SN_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/status.h"
#include "data/targets.h"

typedef enum sn_input_format {
    SN_INPUT_AUTO = 0, /* sniffed from the content: '<' XML, a CSV header, else plain */
    SN_INPUT_XML,
    SN_INPUT_PLAIN,
    SN_INPUT_CSV
} sn_input_format_t;

/* Called once per bad entry. where is "file:line" or "file:entry N". */
typedef void (*sn_bad_entry_fn)(void *ud, const char *where, const char *reason);

typedef struct sn_read_opts {
    sn_input_format_t format;
    bool strict;            /* first bad entry is fatal */
    sn_bad_entry_fn on_bad; /* may be NULL */
    void *ud;
} sn_read_opts_t;

typedef struct sn_read_stats {
    uint64_t entries; /* good listings added */
    uint64_t bad;     /* bad entries skipped */
} sn_read_stats_t;

/*
 * Reads path ("-" for stdin) as one new input of ts (sn_targets_begin_input is
 * called here). stats accumulates (it is not reset). Returns SN_OK, or an
 * error with err->msg naming the file (and line where there is one).
 */
sn_status_t sn_input_read(sn_targets_t *ts, const char *path, const sn_read_opts_t *opts,
                          sn_read_stats_t *stats, sn_error_t *err);

/*
 * The same over a buffer already in memory; name is used in messages.
 * Fuzz harnesses and tests call these.
 */
sn_status_t sn_input_read_buf(sn_targets_t *ts, const char *name, const char *buf, size_t len,
                              const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err);

/* Format-specific entry points (the input is already begun). */
sn_status_t sn_hostcache_read(sn_targets_t *ts, const char *name, const char *buf, size_t len,
                              const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err);
sn_status_t sn_plainlist_read(sn_targets_t *ts, const char *name, const char *buf, size_t len,
                              const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err);
sn_status_t sn_csvin_read(sn_targets_t *ts, const char *name, const char *buf, size_t len,
                          const sn_read_opts_t *opts, sn_read_stats_t *stats, sn_error_t *err);

/*
 * Decodes one Skype 3.x+ host-cache blob (raw bytes, already un-hexed).
 * Each entry found calls fn with its address and listing (last-seen fields
 * filled where present). Returns SN_OK, or SN_EPARSE with err set to the
 * element index and reason; entries before the fault have been delivered.
 */
typedef sn_status_t (*sn_blob_entry_fn)(void *ud, unsigned index, const sn_addr_t *addr,
                                        const sn_listing_t *listing);
sn_status_t sn_hostcache_blob_decode(const uint8_t *blob, size_t len, sn_blob_entry_fn fn, void *ud,
                                     sn_error_t *err);

/* Largest input file read, in bytes (a harvested list of millions still fits). */
#define SN_INPUT_MAX_BYTES (512u * 1024u * 1024u)

#endif
