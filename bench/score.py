#!/usr/bin/env python3
"""Scores one benchmark run against the population it probed.

  score.py check POP.csv RESULTS [--format csv|nmap] [--check udp|tcp|both]
                 [--targets LIST] [--json OUT.json] [--strict]
  score.py rtt DELAYED.csv UNDELAYED.csv --delay-ms MS [--wire TAP.csv] [--json OUT.json]
  score.py ptr RESULTS.csv EXPECTED.txt [--json OUT.json]

`check` joins results with the population (address,port,behaviour,...) and
counts, per transport checked: live targets found alive out of those expected,
dead targets reported alive, and targets whose outcome is exactly the one the
population table (lab/population.h) prescribes. RESULTS is snprobe's results
CSV or floor's CSV (both have address,port,udp_outcome / tcp_outcome), or
nmap's grepable output (-oG), whose port states are mapped to outcomes:
open -> alive, closed -> closed, filtered and open|filtered -> filtered.
A target of the scope missing from the results counts as filtered for nmap
(it reports only what it saw) and as wrong for the others.

`rtt` compares the UDP round-trip times (udp_rtt_us) of a scan of a population
whose nodes delay their replies by MS with those of the same scan undelayed:
error = measured - MS - median(undelayed). It prints the median and p99. With
--wire (a capture of the delayed scan by wiretap.py) it splits the error: the
prober's share is its measured RTT minus the RTT on the wire (request sent to
reply sent, as the kernel timestamped them), the swarm's is the wire RTT minus
MS (how late the emulator answered, plus the path).

`ptr` checks snprobe annotate's results against "IP NAME" lines: a row is right
when its ptr column is exactly the expected name.

Standard library only (CI runs Debian's python3).
"""
import argparse
import csv
import json
import sys

# behaviour -> (udp outcome, tcp outcome, tcp port or None for the node's own)
EXPECT = {
    "alive": ("alive", "alive", None),
    "udp-only": ("alive", "filtered", None),
    "tcp-only": ("filtered", "alive", None),
    "tcp-443-only": ("filtered", "alive", 443),
    "tcp-80-only": ("filtered", "alive", 80),
    "dead": ("filtered", "filtered", None),
    "closed": ("closed", "closed", None),
    "nat": ("alive", "alive", None),
}
NMAP_STATE = {"open": "alive", "closed": "closed", "filtered": "filtered",
              "open|filtered": "filtered", "unfiltered": "filtered",
              "closed|filtered": "filtered"}


def fail(msg):
    print("score: " + msg, file=sys.stderr)
    sys.exit(2)


def key_of(text, where):
    """'a.b.c.d:port' or '[v6]:port' -> (address, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        fail(f"{where}: '{text}' is not address:port")
    return host.strip("[]"), int(port)


def load_population(path):
    pop = {}
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        for need in ("address", "port", "behaviour"):
            if need not in (rows.fieldnames or []):
                fail(f"{path}: no '{need}' column")
        for n, row in enumerate(rows, 2):
            beh = row["behaviour"]
            if beh not in EXPECT or not row["port"].isdigit():
                fail(f"{path}:{n}: bad row")
            pop[(row["address"], int(row["port"]))] = beh
    if not pop:
        fail(f"{path}: empty population")
    return pop


def load_scope(path, pop):
    """The targets one run was given: ip:port lines, or bare IPs (nmap -iL)."""
    by_ip = {}
    for (ip, port) in pop:
        by_ip.setdefault(ip, []).append((ip, port))
    scope = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") or line.count(":") == 1:
                k = key_of(line, f"{path}:{n}")
                if k not in pop:
                    fail(f"{path}:{n}: {line} is not in the population")
                scope.append(k)
            else:
                if line not in by_ip:
                    fail(f"{path}:{n}: {line} is not in the population")
                scope.extend(by_ip[line])
    return scope


def load_csv_results(path):
    res = {}
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        if not rows.fieldnames or "address" not in rows.fieldnames or "port" not in rows.fieldnames:
            fail(f"{path}: not a results CSV (no address,port columns)")
        for row in rows:
            if not row["port"].isdigit():
                continue  # a blocked or unparsable row: it cannot match a target
            res[(row["address"], int(row["port"]))] = row
    return res


def load_nmap_results(path):
    """Grepable output: 'Host: IP ()<TAB>Ports: PORT/STATE/PROTO//...'."""
    res = {}
    with open(path) as f:
        for line in f:
            if not line.startswith("Host:") or "Ports:" not in line:
                continue
            ip = line.split()[1]
            for entry in line.split("Ports:", 1)[1].split("\t", 1)[0].split(","):
                parts = entry.strip().split("/")
                if len(parts) < 3 or not parts[0].isdigit():
                    continue
                outcome = NMAP_STATE.get(parts[1], "filtered")
                row = res.setdefault((ip, int(parts[0])), {})
                row[parts[2] + "_outcome"] = outcome
    return res


def check(args):
    pop = load_population(args.population)
    scope = load_scope(args.targets, pop) if args.targets else list(pop)
    nmap = args.format == "nmap"
    res = load_nmap_results(args.results) if nmap else load_csv_results(args.results)
    transports = ["udp", "tcp"] if args.check == "both" else [args.check]

    s = {"targets": len(scope), "missing": 0, "wrong": 0, "dead_total": 0, "dead_alive": 0}
    for t in transports:
        s.update({t + "_live_expected": 0, t + "_live_found": 0, t + "_correct": 0})
    examples = []
    for k in scope:
        beh = pop[k]
        row = res.get(k)
        if row is None:
            s["missing"] += 1
            row = {}
        dead = beh == "dead"
        s["dead_total"] += dead
        any_alive = False
        ok = row or nmap
        for t in transports:
            want = EXPECT[beh][0 if t == "udp" else 1]
            got = row.get(t + "_outcome", "filtered" if nmap else "")
            if t == "tcp" and EXPECT[beh][2] and row.get("tcp_port") and \
                    row["tcp_port"] != str(EXPECT[beh][2]):
                got += " (port " + row["tcp_port"] + ")"
            any_alive |= got.startswith("alive")
            if want == "alive":
                s[t + "_live_expected"] += 1
                s[t + "_live_found"] += got == "alive"
            if got == want:
                s[t + "_correct"] += 1
            else:
                ok = False
                if len(examples) < 5:
                    examples.append(f"{k[0]}:{k[1]} ({beh}) {t}: expected {want}, got {got or 'nothing'}")
        s["dead_alive"] += dead and any_alive
        s["wrong"] += not ok

    parts = []
    for t in transports:
        parts.append(f"{t} live {s[t + '_live_found']}/{s[t + '_live_expected']}, "
                     f"{t} correct {s[t + '_correct']}/{len(scope)}")
    print(f"score: {args.label or args.results}: " + "; ".join(parts) +
          f"; dead reported alive {s['dead_alive']}/{s['dead_total']}; "
          f"missing {s['missing']}; wrong {s['wrong']}")
    for e in examples:
        print("  e.g. " + e)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(s, f)
    return 1 if args.strict and s["wrong"] else 0


def percentile(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100 * (len(sorted_vals) - 1)))))
    return sorted_vals[i]


def alive_rtts(path):
    out = []
    for row in load_csv_results(path).values():
        v = row.get("udp_rtt_us", "")
        if row.get("udp_outcome") == "alive" and v.isdigit():
            out.append(int(v))
    return sorted(out)


def wire_split(path, results, delay_us):
    """(prober errors, swarm lateness) in us from a wiretap.py capture."""
    req, rep = {}, {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split(",")
            if len(parts) != 5 or not parts[0].isdigit():
                continue
            ts, src, dst = int(parts[0]), (parts[1], parts[2]), (parts[3], parts[4])
            if dst in results and dst not in req:
                req[dst] = ts  # the first request to the target
            elif src in results and src not in rep and src in req and ts > req[src]:
                rep[src] = ts  # its first reply
    prober, swarm = [], []
    for k, row in results.items():
        v = row.get("udp_rtt_us", "")
        if row.get("udp_outcome") != "alive" or not v.isdigit() or k not in rep:
            continue
        wire_us = (rep[k] - req[k]) // 1000
        prober.append(int(v) - wire_us)
        swarm.append(wire_us - delay_us)
    return sorted(prober), sorted(swarm)


def rtt(args):
    base = alive_rtts(args.undelayed)
    meas = alive_rtts(args.delayed)
    if not base or not meas:
        fail("no alive rows with udp_rtt_us in one of the files")
    base_med = percentile(base, 50)
    err = sorted(v - args.delay_ms * 1000 - base_med for v in meas)
    s = {"samples": len(err), "undelayed_median_us": base_med,
         "err_median_us": percentile(err, 50), "err_p99_us": percentile(err, 99)}
    print(f"rtt: {len(err)} replies delayed {args.delay_ms} ms: error median "
          f"{s['err_median_us']} us, p99 {s['err_p99_us']} us (undelayed median {base_med} us)")
    if args.wire:
        results = {(a, str(p)): row for (a, p), row in load_csv_results(args.delayed).items()}
        prober, swarm = wire_split(args.wire, results, args.delay_ms * 1000)
        if prober:
            s.update(wire_matched=len(prober),
                     prober_err_median_us=percentile(prober, 50),
                     prober_err_p99_us=percentile(prober, 99),
                     swarm_late_median_us=percentile(swarm, 50),
                     swarm_late_p99_us=percentile(swarm, 99))
            print(f"rtt: on the wire ({len(prober)} replies): prober's share median "
                  f"{s['prober_err_median_us']} us, p99 {s['prober_err_p99_us']} us; swarm's "
                  f"(wire RTT - delay) median {s['swarm_late_median_us']} us, p99 "
                  f"{s['swarm_late_p99_us']} us")
        else:
            print("rtt: the capture matched no reply", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(s, f)
    return 0


def ptr(args):
    expect = {}
    with open(args.expected) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) != 2:
                fail(f"{args.expected}:{n}: expected \"IP NAME\"")
            expect[parts[0]] = parts[1]
    s = {"targets": 0, "wrong": 0, "missing": 0, "rdns_ok": 0}
    seen = set()
    examples = []
    with open(args.results, newline="") as f:
        for row in csv.DictReader(f):
            s["targets"] += 1
            ip = row.get("address", "")
            seen.add(ip)
            s["rdns_ok"] += row.get("rdns_status") == "ok"
            if ip not in expect or row.get("ptr") != expect[ip]:
                s["wrong"] += 1
                if len(examples) < 5:
                    examples.append(f"{ip}: expected {expect.get(ip, '(none)')}, got "
                                    f"{row.get('ptr') or 'nothing'} ({row.get('rdns_status')})")
    s["missing"] = len(set(expect) - seen)
    print(f"score: {args.label or args.results}: {s['targets'] - s['wrong']}/{s['targets']} PTR "
          f"names right, {s['missing']} addresses missing")
    for e in examples:
        print("  e.g. " + e)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(s, f)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("population")
    c.add_argument("results")
    c.add_argument("--format", choices=["csv", "nmap"], default="csv")
    c.add_argument("--check", choices=["udp", "tcp", "both"], default="both")
    c.add_argument("--targets", help="the list the run was given (default: whole population)")
    c.add_argument("--label")
    c.add_argument("--json")
    c.add_argument("--strict", action="store_true", help="exit 1 when any target is wrong")
    r = sub.add_parser("rtt")
    r.add_argument("delayed")
    r.add_argument("undelayed")
    r.add_argument("--delay-ms", type=int, required=True)
    r.add_argument("--wire", help="wiretap.py capture of the delayed scan")
    r.add_argument("--json")
    p = sub.add_parser("ptr")
    p.add_argument("results")
    p.add_argument("expected")
    p.add_argument("--label")
    p.add_argument("--json")
    args = ap.parse_args()
    return {"check": check, "rtt": rtt, "ptr": ptr}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
