#!/usr/bin/env python3
"""Small tools over swarm populations for the end-to-end tests.

  pop.py edit POP.csv [--delay BEHAVIOUR:COUNT:MS]... [--loss BEHAVIOUR:COUNT:P]...
      Rewrites POP.csv in place: the first COUNT nodes of BEHAVIOUR (in file
      order, skipping nodes an earlier option already changed) get delay_ms MS,
      or loss P. Fails if there are not that many nodes.
  pop.py ports-free POP.csv
      Exit 1 (naming the port) if a closed node's port is held by any socket
      on this machine: the kernel would not answer for it as the test expects.
  pop.py loopback6 POP.csv LIST.txt BEHAVIOUR...
      Writes a population of one ::1 node per behaviour, each on a free port of
      its own (20000..32767), and its [::1]:port list.
  pop.py port-free PORT...
      Exit 1 if any of the ports is held (UDP or TCP, IPv4 wildcard).
  pop.py list POP.csv LIST.txt
      Writes the population's nodes as an ip:port list.
  pop.py count POP.csv BEHAVIOUR
      Prints how many nodes have that behaviour.

Standard library only.
"""
import csv
import random
import socket
import sys


def die(msg):
    print("pop.py: " + msg, file=sys.stderr)
    sys.exit(2)


def read(path):
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        return list(r.fieldnames or []), list(r)


def write(path, fields, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def port_free(port, v6=False):
    """True when UDP and TCP port can be bound on the wildcard address(es)."""
    fams = [(socket.AF_INET, "0.0.0.0")]
    if v6:
        fams.append((socket.AF_INET6, "::"))
    for fam, host in fams:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(fam, kind)
            try:
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                if kind == socket.SOCK_STREAM:
                    # As the swarm does: connections left in TIME_WAIT do not hold the port.
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((host, port))
            except OSError:
                return False
            finally:
                s.close()
    return True


def hostport(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def cmd_edit(args):
    if not args:
        die("edit needs POP.csv")
    path, opts = args[0], args[1:]
    fields, rows = read(path)
    for need in ("behaviour", "delay_ms", "loss"):
        if need not in fields:
            die(f"{path}: no '{need}' column")
    changed = set()
    if len(opts) % 2:
        die("edit: an option lacks its value")
    for i in range(0, len(opts), 2):
        opt, spec = opts[i], opts[i + 1]
        if opt not in ("--delay", "--loss"):
            die(f"edit: unknown option {opt}")
        beh, count, value = spec.split(":")
        count = int(count)
        picked = [k for k, r in enumerate(rows) if r["behaviour"] == beh and k not in changed]
        if len(picked) < count:
            die(f"{path}: only {len(picked)} {beh} nodes left, {count} wanted")
        for k in picked[:count]:
            rows[k]["delay_ms" if opt == "--delay" else "loss"] = value
            changed.add(k)
    write(path, fields, rows)


def cmd_ports_free(args):
    _, rows = read(args[0])
    for r in rows:
        if r["behaviour"] == "closed" and not port_free(int(r["port"]), ":" in r["address"]):
            print(f"pop.py: port {r['port']} of closed node {r['address']} is busy")
            sys.exit(1)


def cmd_loopback6(args):
    if len(args) < 3:
        die("loopback6 needs POP.csv LIST.txt BEHAVIOUR...")
    pop, lst, behs = args[0], args[1], args[2:]
    rng = random.Random()
    ports = []
    for _ in range(2000):
        p = rng.randrange(20000, 32768)
        if p not in ports and port_free(p, True):
            ports.append(p)
            if len(ports) == len(behs):
                break
    if len(ports) < len(behs):
        die("no free ports found")
    rows = [{"address": "::1", "port": p, "behaviour": b, "delay_ms": 0, "loss": 0}
            for p, b in zip(ports, behs)]
    write(pop, ["address", "port", "behaviour", "delay_ms", "loss"], rows)
    with open(lst, "w") as f:
        for r in rows:
            f.write(hostport(r["address"], r["port"]) + "\n")


def cmd_port_free(args):
    for p in args:
        if not port_free(int(p)):
            print(f"pop.py: port {p} is busy")
            sys.exit(1)


def cmd_list(args):
    _, rows = read(args[0])
    with open(args[1], "w") as f:
        for r in rows:
            f.write(hostport(r["address"], r["port"]) + "\n")


def cmd_count(args):
    _, rows = read(args[0])
    print(sum(1 for r in rows if r["behaviour"] == args[1]))


def main():
    if len(sys.argv) < 3:
        die(__doc__)
    cmds = {"edit": cmd_edit, "ports-free": cmd_ports_free, "loopback6": cmd_loopback6,
            "port-free": cmd_port_free,
            "list": cmd_list, "count": cmd_count}
    if sys.argv[1] not in cmds:
        die(f"unknown command {sys.argv[1]}")
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
