#!/usr/bin/env python3
"""Captures the UDP datagrams on loopback, with kernel timestamps, for the RTT case.

  wiretap.py OUT.csv        (root; bench/run.sh runs it in its own namespace)

It opens a packet socket on lo, writes OUT.csv.ready, and then sleeps until
SIGTERM: the kernel keeps every captured datagram with its timestamp in the
socket's (forced, 1 GiB) receive buffer, so the capture takes no CPU from the
prober or the swarm while they run. On SIGTERM it drains the buffer and writes
one line per datagram: ns,src,sport,dst,dport. Only the outgoing copies are
kept (loopback shows each datagram twice); their timestamp is when the sender's
sendmsg handed that very datagram to the device, which is the truth a prober's
own send time is compared with (score.py rtt --wire).

Standard library only.
"""
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SO_RCVBUFFORCE = 33
SO_TIMESTAMPNS = 35


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n")[2].strip(), file=sys.stderr)
        return 2
    out = sys.argv[1]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 1 << 30)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind(("lo", 0))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    open(out + ".ready", "w").close()
    while not stop:
        time.sleep(0.05)
    s.setblocking(False)
    lines = []
    while True:
        try:
            data, anc, _flags, addr = s.recvmsg(64, 64)
        except BlockingIOError:
            break
        if addr[2] != socket.PACKET_OUTGOING or len(data) < 28 or data[0] >> 4 != 4 or data[9] != 17:
            continue
        ihl = (data[0] & 15) * 4
        if len(data) < ihl + 4:
            continue
        ts = 0
        for level, kind, val in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(val) >= 16:
                sec, nsec = struct.unpack("qq", val[:16])
                ts = sec * 1000000000 + nsec
        sport, dport = struct.unpack("!HH", data[ihl:ihl + 4])
        lines.append(f"{ts},{socket.inet_ntoa(data[12:16])},{sport},"
                     f"{socket.inet_ntoa(data[16:20])},{dport}\n")
    with open(out, "w") as f:
        f.writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
