#!/usr/bin/env python3
"""Runs a command while loopback sockets watch for probes sent to them.

  listen.py LIST.txt COUNTS.txt -- COMMAND...

Binds a UDP socket and a TCP listener on 127.0.0.1 at one free port (and on
[::1] at the same port when IPv6 is there), appends those endpoints to
LIST.txt (an ip:port list the command is meant to read), runs COMMAND, waits
a moment for stragglers, and writes to COUNTS.txt how many datagrams and
connections arrived: "udp N tcp M". Exits with COMMAND's status.

It tells whether a command that should send nothing (a dry run, a target the
blocklist holds back) really sent nothing. Standard library only.
"""
import socket
import subprocess
import sys
import time


def open_pair(fam, host, port):
    u = socket.socket(fam, socket.SOCK_DGRAM)
    t = socket.socket(fam, socket.SOCK_STREAM)
    if fam == socket.AF_INET6:
        for s in (u, t):
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    u.bind((host, port))
    t.bind((host, port))
    t.listen(128)
    u.setblocking(False)
    t.setblocking(False)
    return u, t


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    list_path, counts_path, cmd = sys.argv[1], sys.argv[2], sys.argv[4:]
    socks = []
    for _ in range(50):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        try:
            socks = [open_pair(socket.AF_INET, "127.0.0.1", port)]
        except OSError:
            continue
        try:
            socks.append(open_pair(socket.AF_INET6, "::1", port))
        except OSError:
            pass
        break
    if not socks:
        print("listen.py: no free port", file=sys.stderr)
        return 2
    with open(list_path, "a") as f:
        f.write(f"127.0.0.1:{port}\n")
        if len(socks) > 1:
            f.write(f"[::1]:{port}\n")
    rc = subprocess.run(cmd).returncode
    time.sleep(0.3)
    udp = tcp = 0
    for u, t in socks:
        while True:
            try:
                u.recv(2048)
                udp += 1
            except OSError:
                break
        while True:
            try:
                c, _ = t.accept()
                c.close()
                tcp += 1
            except OSError:
                break
    with open(counts_path, "w") as f:
        f.write(f"udp {udp} tcp {tcp}\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
