/*
 * The TCP handshake probe: no payload, no reply bytes. A completed connect is
 * "alive", a RST "closed", silence "filtered"; the kernel does the talking on
 * both sides, so build writes nothing and parse/answer are absent. Trying the
 * fallback ports (443, then 80, by default) when the node's own port does not
 * answer is the engine's job, not this module's: a probe knows one port.
 */
#include "probes/probe.h"

static int tcp_build(const sn_probe_req_t *req, uint8_t *buf, size_t cap)
{
    (void)req;
    (void)buf;
    (void)cap;
    return 0;
}

const sn_probe_t sn_probe_tcp = {
    .name = "tcp",
    .summary = "TCP handshake on the node's port (the engine falls back to 443, then 80)",
    .transport = SN_TRANSPORT_TCP,
    .default_port = 0,
    .token_bits = 0,
    .build = tcp_build,
    .parse = NULL,
    .answer = NULL,
};
