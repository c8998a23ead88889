/*
 * Where snprobe's data files live (geo/AS databases in <dir>/geo): the
 * environment variable SNPROBE_DATA_DIR when it is set and not empty, else the
 * installed data directory chosen at build time (CMake's SN_DATA_DIR, by
 * default <prefix>/share/snprobe). No source path is baked into the program;
 * the test suite points SNPROBE_DATA_DIR at the repository's data/.
 */
#ifndef SN_DATADIR_H
#define SN_DATADIR_H

/* The data directory, without a trailing slash. Never NULL; the string is the
 * environment's or a constant, valid for the life of the process (as long as
 * the environment variable is not changed). */
const char *sn_data_dir(void);

#endif
