/* The data directory: the environment's override, else the installed path. */
#include "lib/datadir.h"

#include <stdlib.h>

#ifndef SN_DATA_DIR
#define SN_DATA_DIR "/usr/local/share/snprobe"
#endif

const char *sn_data_dir(void)
{
    const char *d = getenv("SNPROBE_DATA_DIR");
    return d != NULL && d[0] != '\0' ? d : SN_DATA_DIR;
}
