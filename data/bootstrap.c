/*
 * Baset and Schulzrinne (2004) and Guha et al. list seven bootstrap super
 * nodes in the Skype 1.x client, all on port 33033. Kept as the text of a
 * plain list, so that it goes through the same reader as any harvest.
 */
#include "data/bootstrap.h"

const char sn_bootstrap_list[] = "# Skype 1.x bootstrap super nodes (2004)\n"
                                 "66.235.180.9:33033\n"
                                 "66.235.181.9:33033\n"
                                 "80.161.91.25:33033\n"
                                 "80.160.91.12:33033\n"
                                 "64.246.49.60:33033\n"
                                 "64.246.49.61:33033\n"
                                 "64.246.48.23:33033\n";
