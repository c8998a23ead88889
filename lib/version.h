/* The version, printed by --version and recorded in every report. */
#ifndef SN_VERSION_H
#define SN_VERSION_H

#define SN_VERSION "0.1.0"

#endif
