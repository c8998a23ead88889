/*
 * The bootstrap super nodes that the studies found hard-coded in the Skype
 * client, in two lists: the 1.x client of 2004 and the 1.4 client. Each node
 * carries the reverse name its source gives, and each list its client version
 * and its source, so that `snprobe bootstrap` can say which list a row comes
 * from. These are public addresses: never probe them from a machine that
 * must stay on loopback (tests use --list with loopback nodes, or --dry-run).
 */
#ifndef SN_BOOTSTRAP_H
#define SN_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/addr.h"
#include "lib/status.h"

/* The lists, as bits of a mask. */
enum { SN_BOOT_2004 = 1u << 0, SN_BOOT_14 = 1u << 1, SN_BOOT_ALL = SN_BOOT_2004 | SN_BOOT_14 };

typedef struct sn_bootstrap_set {
    unsigned bit;
    const char *name;   /* "2004", "1.4": what --set takes */
    const char *client; /* the Skype client version that held the list */
    const char *source; /* where the list was published */
} sn_bootstrap_set_t;

typedef struct sn_bootstrap_node {
    const char *ip;
    unsigned port;
    const char *ptr; /* reverse name the source gives; "" when it gives none */
    unsigned sets;   /* SN_BOOT_* bits: the lists that hold the node */
} sn_bootstrap_node_t;

/* The lists (*n of them), in a fixed order. */
const sn_bootstrap_set_t *sn_bootstrap_sets(size_t *n);

/* Every distinct bundled node (*n of them), each once, in list order. */
const sn_bootstrap_node_t *sn_bootstrap_nodes(size_t *n);

/*
 * The nodes of the lists in mask, de-duplicated, as a plain ip:port list
 * (comment lines first), into buf. Returns the length, or 0 when it does not
 * fit or mask selects nothing.
 */
size_t sn_bootstrap_list_text(unsigned mask, char *buf, size_t cap);

/* The bundled node at addr (address and port), or NULL. */
const sn_bootstrap_node_t *sn_bootstrap_find(const sn_addr_t *addr);

/* The names of the lists in sets, joined with '+' ("2004+1.4"), into buf. */
void sn_bootstrap_sets_str(unsigned sets, char *buf, size_t cap);

#endif
