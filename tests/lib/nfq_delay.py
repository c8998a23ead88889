#!/usr/bin/env python3
"""Holds the packets of one netfilter queue for a fixed time, then lets them go.

  nfq_delay.py --queue N --delay-ms MS [--ready FILE]

The swarm's delay_ms applies to UDP replies only, and a kernel without netem
cannot delay a TCP handshake by itself; this does it with the NFQUEUE target:
an iptables rule (in the test's own network namespace) sends the packets to be
delayed, say the SYN-ACKs of some addresses, to queue N, and this program
receives each one (its metadata only, never the payload) and issues the
ACCEPT verdict MS milliseconds after it arrived. Packets leave in the order
they came, each as late as the delay says, whatever else arrives meanwhile.

It speaks nfnetlink_queue over a raw NETLINK_NETFILTER socket (standard
library only: no libnetfilter_queue, no pip package). When it is bound and
configured it writes FILE (--ready), so that a test starts its scan only then.
SIGTERM or SIGINT: it lets every held packet go at once and exits 0. On exit
it prints how many packets it held and their delay (min / max) on stderr.
"""
import argparse
import collections
import os
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN = 1, 2, 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NF_ACCEPT = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NLMSG_HDR = struct.Struct("=IHHII")  # length, type, flags, seq, pid (host order)
NFGEN_HDR = struct.Struct("!BBH")  # family, version, resource id (the queue, big-endian)


def attr(kind, payload):
    """One netlink attribute, padded to 4 bytes."""
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\0" * (-n % 4)


class Queue:
    def __init__(self, num):
        self.num = num
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((0, 0))

    def send(self, msg, payload, flags=NLM_F_REQUEST):
        self.seq += 1
        body = NFGEN_HDR.pack(socket.AF_UNSPEC, 0, self.num) + payload
        kind = NFNL_SUBSYS_QUEUE << 8 | msg
        self.sock.send(NLMSG_HDR.pack(NLMSG_HDR.size + len(body), kind, flags, self.seq, 0) + body)
        return self.seq

    def config(self, payload):
        """A configuration message, acknowledged: raises OSError on the kernel's refusal."""
        seq = self.send(NFQNL_MSG_CONFIG, payload, NLM_F_REQUEST | NLM_F_ACK)
        while True:
            data = self.sock.recv(65536)
            for kind, mseq, body in self.messages(data):
                if kind == NLMSG_ERROR and mseq == seq:
                    (code,) = struct.unpack_from("=i", body)
                    if code != 0:
                        raise OSError(-code, f"nfnetlink_queue config: {os.strerror(-code)}")
                    return

    def bind(self):
        self.config(attr(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET)))
        self.config(attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)))
        self.config(attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 65536)))

    def verdict(self, packet_id):
        self.send(NFQNL_MSG_VERDICT, attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id)))

    @staticmethod
    def messages(data):
        """(type, seq, body) of every netlink message in data; a truncated one ends the walk."""
        off = 0
        while off + NLMSG_HDR.size <= len(data):
            n, kind, _, seq, _ = NLMSG_HDR.unpack_from(data, off)
            if n < NLMSG_HDR.size or off + n > len(data):
                break
            yield kind, seq, data[off + NLMSG_HDR.size:off + n]
            off += (n + 3) & ~3

    @staticmethod
    def packet_id(body):
        """The packet id of an NFQNL_MSG_PACKET body, or None when it carries no header."""
        off = NFGEN_HDR.size
        while off + 4 <= len(body):
            n, kind = struct.unpack_from("=HH", body, off)
            if n < 4 or off + n > len(body):
                return None
            if kind & 0x3FFF == NFQA_PACKET_HDR and n >= 4 + 4:
                return struct.unpack_from("!I", body, off + 4)[0]
            off += (n + 3) & ~3
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queue", type=int, default=0)
    ap.add_argument("--delay-ms", type=float, required=True)
    ap.add_argument("--ready")
    a = ap.parse_args()
    q = Queue(a.queue)
    try:
        q.bind()
    except OSError as e:
        print(f"nfq_delay: cannot bind queue {a.queue}: {e}", file=sys.stderr)
        return 2
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    if a.ready:
        with open(a.ready, "w") as f:
            f.write(f"{os.getpid()}\n")
    delay = a.delay_ms / 1000.0
    held = collections.deque()  # (release time, packet id, arrival), in arrival order
    count, lo, hi = 0, None, None
    while not stop:
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, pid, came = held.popleft()
            q.verdict(pid)
            d = time.monotonic() - came
            lo = d if lo is None else min(lo, d)
            hi = d if hi is None else max(hi, d)
        wait = max(0.0, held[0][0] - now) if held else 0.5
        try:
            r, _, _ = select.select([q.sock], [], [], wait)
        except InterruptedError:
            continue
        if not r:
            continue
        try:
            data = q.sock.recv(1 << 20)
        except OSError as e:  # ENOBUFS: the kernel dropped messages; they are lost to us
            print(f"nfq_delay: {e}", file=sys.stderr)
            continue
        came = time.monotonic()
        for kind, _, body in q.messages(data):
            if kind == (NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET):
                pid = q.packet_id(body)
                if pid is not None:
                    held.append((came + delay, pid, came))
                    count += 1
    while held:
        q.verdict(held.popleft()[1])
    ms = (lambda v: "-" if v is None else f"{v * 1000:.1f}")
    print(f"nfq_delay: held {count} packets, {ms(lo)} to {ms(hi)} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
