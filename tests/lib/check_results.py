#!/usr/bin/env python3
"""Checks a scan's results against the swarm population it probed.

  check_results.py POP.csv RESULTS [--format csv|ndjson] [--rtt-tolerance-ms MS]
                   [--retries N] [--fallback 443,80|none] [--quiet]

POP.csv is a population (address,port,behaviour,delay_ms,loss); RESULTS is
snprobe's results file (CSV with a header, or NDJSON, one object per line).
For every node the row must say what lab/population.h prescribes for the
default plan (skype,tcp with fallback ports 443,80): udp_outcome,
tcp_outcome, tcp_port, reply_from set or empty, reach_class and sn_eligible.
A node with loss 1 never gets a UDP reply, so its UDP outcome is filtered
whatever its behaviour. A delayed node that answers UDP must show
delay_ms*1000 <= udp_rtt_us < (delay_ms + tolerance)*1000. With --retries N,
every UDP probe reported filtered must have been sent N+1 times.

Every node must appear in exactly one row, and no row may name a target the
population lacks (with --partial, as after an interrupted scan, nodes may
lack a row, and a row whose UDP or TCP outcome is `incomplete` because the
scan stopped before every attempt and fallback port of that probe was made
must have reach_class `incomplete` and sn_eligible 0, is checked for the
other transport only and counted as cut short; an empty outcome is wrong). Mismatches are printed (the first 30 in full, then a count
per kind) and the exit status is 1 if there is any; 2 for unusable input.

Standard library only.
"""
import argparse
import csv
import ipaddress
import json
import sys

# behaviour -> (udp outcome, tcp outcome, answering tcp port or None for own,
#               reply from another port)
EXPECT = {
    "alive": ("alive", "alive", None, False),
    "udp-only": ("alive", "filtered", None, False),
    "tcp-only": ("filtered", "alive", None, False),
    "tcp-443-only": ("filtered", "alive", 443, False),
    "tcp-80-only": ("filtered", "alive", 80, False),
    "dead": ("filtered", "filtered", None, False),
    "closed": ("closed", "closed", None, False),
    "nat": ("alive", "alive", None, True),
}

REQUIRED = ("address", "port", "udp_outcome", "tcp_outcome", "tcp_port",
            "reply_from", "reach_class", "sn_eligible", "udp_rtt_us",
            "udp_attempts", "blocked")


def die(msg):
    print("check_results: " + msg, file=sys.stderr)
    sys.exit(2)


def norm_addr(text, where):
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        die(f"{where}: '{text}' is not an IP address")


def load_population(path):
    pop = {}
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        for need in ("address", "port", "behaviour"):
            if need not in (rows.fieldnames or []):
                die(f"{path}: no '{need}' column")
        for n, row in enumerate(rows, 2):
            beh = row["behaviour"]
            if beh not in EXPECT or not row["port"].isdigit():
                die(f"{path}:{n}: bad row {row}")
            key = (norm_addr(row["address"], f"{path}:{n}"), int(row["port"]))
            if key in pop:
                die(f"{path}:{n}: node listed twice")
            delay = int(row.get("delay_ms") or 0)
            loss = float(row.get("loss") or 0)
            pop[key] = (beh, delay, loss)
    if not pop:
        die(f"{path}: empty population")
    return pop


def text_of(value):
    """An NDJSON value in the CSV's spelling: null -> '', true -> '1'."""
    if value is None:
        return ""
    if value is True:
        return "1"
    if value is False:
        return "0"
    return str(value)


def load_results(path, fmt):
    rows = []
    with open(path, newline="") as f:
        if fmt == "csv":
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                die(f"{path}: no column(s) {', '.join(missing)}")
            for n, row in enumerate(reader, 2):
                if None in row or any(v is None for v in row.values()):
                    die(f"{path}:{n}: row has the wrong number of fields")
                rows.append((n, row))
        else:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    die(f"{path}:{n}: empty line")
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    die(f"{path}:{n}: not JSON: {e}")
                if not isinstance(obj, dict):
                    die(f"{path}:{n}: not a JSON object")
                missing = [c for c in REQUIRED if c not in obj]
                if missing:
                    die(f"{path}:{n}: no key(s) {', '.join(missing)}")
                rows.append((n, {k: text_of(v) for k, v in obj.items()}))
    return rows


def expected_reach(udp, tcp, tcp_port, own):
    u = udp == "alive"
    t = tcp == "alive"
    suffix = ""
    if t and tcp_port != own:
        suffix = f"-{tcp_port}"
    if u and t:
        return "udp+tcp" + suffix
    if u:
        return "udp-only"
    if t:
        return f"tcp{suffix}-only"
    return "none"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("population")
    ap.add_argument("results")
    ap.add_argument("--format", choices=("csv", "ndjson"), default="csv")
    ap.add_argument("--rtt-tolerance-ms", type=float, default=20.0)
    ap.add_argument("--retries", type=int, default=None)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--partial", action="store_true",
                    help="an interrupted scan: rows may be missing or cut short")
    args = ap.parse_args()

    pop = load_population(args.population)
    rows = load_results(args.results, args.format)

    problems = []   # (kind, text)
    cut_short = 0
    seen = {}
    for n, row in rows:
        where = f"{args.results}:{n}"
        if not row["port"].isdigit():
            problems.append(("bad port", f"{where}: port '{row['port']}'"))
            continue
        key = (norm_addr(row["address"], where), int(row["port"]))
        if key in seen:
            problems.append(("duplicate row", f"{where}: {key} also on line {seen[key]}"))
            continue
        seen[key] = n
        if key not in pop:
            problems.append(("unknown target", f"{where}: {key} is not in the population"))
            continue
        beh, delay, loss = pop[key]
        udp, tcp, port443, other = EXPECT[beh]
        if loss >= 1.0 and udp == "alive":
            udp, other = "filtered", False
        own = key[1]
        tport = port443 if port443 else own
        reach = expected_reach(udp, tcp, tport, own)
        eligible = "1" if (udp == "alive" and tcp == "alive" and tport == own
                           and not other) else "0"
        want = {"udp_outcome": udp, "tcp_outcome": tcp, "tcp_port": str(tport),
                "reach_class": reach, "sn_eligible": eligible, "blocked": ""}
        if args.partial and "incomplete" in (row["udp_outcome"], row["tcp_outcome"]):
            # Cut short by the stop: nothing may be claimed of the cut probe,
            # and the class must say so rather than guess.
            cut_short += 1
            want["reach_class"] = "incomplete"
            want["sn_eligible"] = "0"
            if row["udp_outcome"] == "incomplete":
                del want["udp_outcome"]
                other = bool(row["reply_from"])
            if row["tcp_outcome"] == "incomplete":
                del want["tcp_outcome"]
                del want["tcp_port"]
        label = f"{where}: {key[0]}:{key[1]} ({beh}, delay {delay} ms, loss {loss})"
        for col, val in want.items():
            if row[col] != val:
                problems.append((f"{col} for {beh}",
                                 f"{label}: {col} is '{row[col]}', expected '{val}'"))
        if bool(row["reply_from"]) != other:
            problems.append((f"reply_from for {beh}",
                             f"{label}: reply_from is '{row['reply_from']}', expected "
                             + ("another port" if other else "empty")))
        if other and row["reply_from"]:
            # the NAT answers from the node's address on another port
            rf_host, _, rf_port = row["reply_from"].rpartition(":")
            if rf_port == str(own):
                problems.append(("reply_from port", f"{label}: reply_from {row['reply_from']} "
                                 "has the probed port"))
        if udp == "alive" and row["udp_outcome"] == "alive":
            rtt = row["udp_rtt_us"]
            if not rtt.isdigit():
                problems.append(("udp_rtt_us", f"{label}: udp_rtt_us '{rtt}' for an alive UDP"))
            elif delay and not (delay * 1000 <= int(rtt)
                                < (delay + args.rtt_tolerance_ms) * 1000):
                problems.append(("delayed rtt", f"{label}: udp_rtt_us {rtt}, expected "
                                 f"{delay * 1000}..{int((delay + args.rtt_tolerance_ms) * 1000)}"))
        if (args.retries is not None and row["udp_outcome"] == "filtered"
                and row["udp_attempts"] != str(args.retries + 1)):
            problems.append(("udp_attempts", f"{label}: udp_attempts '{row['udp_attempts']}' "
                             f"for a filtered UDP probe, expected {args.retries + 1}"))

    missing = [] if args.partial else [k for k in pop if k not in seen]
    for k in missing[:10]:
        problems.append(("missing row", f"{k[0]}:{k[1]} ({pop[k][0]}) has no row"))
    if len(missing) > 10:
        problems.extend(("missing row", "") for _ in missing[10:])

    by_kind = {}
    for kind, _ in problems:
        by_kind[kind] = by_kind.get(kind, 0) + 1
    shown = [t for _, t in problems if t][:30]
    for t in shown:
        print("MISMATCH " + t)
    for kind, count in sorted(by_kind.items()):
        print(f"check_results: {count} x {kind}")
    behs = {}
    for beh, _, _ in pop.values():
        behs[beh] = behs.get(beh, 0) + 1
    summary = ", ".join(f"{b} {c}" for b, c in sorted(behs.items()))
    if problems:
        print(f"check_results: FAIL: {len(problems)} problem(s) over {len(pop)} nodes "
              f"and {len(rows)} rows ({summary})")
        return 1
    if not args.quiet:
        extra = f", {cut_short} cut short" if args.partial else ""
        print(f"check_results: ok: {len(rows)} rows match {len(pop)} nodes ({summary}){extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
