/*
 * The bootstrap super nodes that the 2004 studies found hard-coded in the
 * Skype client, as an ip:port list for `snprobe bootstrap`. These are public
 * addresses: never probe them from a machine that must stay on loopback.
 */
#ifndef SN_BOOTSTRAP_H
#define SN_BOOTSTRAP_H

extern const char sn_bootstrap_list[];

#endif
