#!/bin/bash
# The HTML report in a real browser. A results file with geography, ASes,
# PTR names (one of them hostile), twelve harvest inputs and RTTs is generated
# here (documentation addresses only; nothing is probed), `snprobe report`
# turns it into the summary CSV and the HTML report, and headless Chromium
# loads the page, takes a screenshot and dumps the DOM. Checked:
#   - the charts are there with the right number of bars (against the summary);
#   - every headline number (data-metric/data-value) equals the summary's value;
#   - the page loads nothing: a strict CSP meta tag is present, no element or
#     style refers to an http(s) resource, and Chromium's net log of the load
#     holds no http(s) request;
#   - the hostile PTR name is in the page as text, not as markup.
# Usage: bash e2e_html_browser.sh /path/to/snprobe   (exit 77: skipped)
set -u
BIN=${1:?usage: e2e_html_browser.sh SNPROBE}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
    echo "skip: chromium is not installed (apt-get install chromium)"
    exit 77
fi
if ! command -v python3 >/dev/null; then
    echo "skip: python3 is needed to read the DOM"
    exit 77
fi
if ! "$BIN" report --help >/dev/null 2>&1; then
    echo "skip: this snprobe has no report command"
    exit 77
fi

WORK=$(mktemp -d /tmp/sn_e2e_html_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}

# ---- a results file: 400 nodes, deterministic (Park-Miller generator) ----
HOSTILE='"><img src=x onerror=alert(1)><script>alert("ptr")</script>.evil.example'
awk -v N=400 -v hostile="$HOSTILE" '
function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
function csv(s) { if (s ~ /[",\n]/) { gsub(/"/, "\"\"", s); return "\"" s "\"" } return s }
BEGIN {
    seed = 42
    print "address,port,seen_count,sources,first_seen,last_seen,flags,blocked,udp_probe,udp_outcome,udp_rtt_us,udp_attempts,observed_addr,reply_from,tcp_outcome,tcp_rtt_us,tcp_port,tcp_attempts,reach_class,sn_eligible,vantage,rdns_status,ptr,ptr_valid,country,continent,asn,as_org,edu,edu_source,addr_kind,dyn_rule,geo_source"
    nc = split("US US US US US US US US US US US DE DE GB GB FR NL CN CN JP JP KR IN BR AU CA", cc, " ")
    cont["US"] = "NA"; cont["CA"] = "NA"; cont["DE"] = "EU"; cont["GB"] = "EU"; cont["FR"] = "EU"
    cont["NL"] = "EU"; cont["CN"] = "AS"; cont["JP"] = "AS"; cont["KR"] = "AS"; cont["IN"] = "AS"
    cont["BR"] = "SA"; cont["AU"] = "OC"
    base["NA"] = 30000; base["EU"] = 95000; base["AS"] = 180000; base["SA"] = 140000; base["OC"] = 210000
    as["US",1] = "7922|Comcast Cable Communications, LLC"; as["US",2] = "701|Verizon Business"
    as["US",3] = "3|Massachusetts Institute of Technology"; as["US",4] = "64496|<script>alert(\"as\")</script> Evil & Co"
    as["DE",1] = "3320|Deutsche Telekom AG"; as["GB",1] = "2856|British Telecommunications PLC"
    as["GB",2] = "786|Jisc Services Limited"; as["FR",1] = "3215|Orange S.A."; as["NL",1] = "1136|KPN B.V."
    as["CN",1] = "4134|Chinanet"; as["JP",1] = "2516|KDDI CORPORATION"; as["KR",1] = "4766|Korea Telecom"
    as["IN",1] = "9829|National Internet Backbone"; as["BR",1] = "28573|Claro NXT Telecomunicacoes Ltda"
    as["AU",1] = "1221|Telstra Limited"; as["CA",1] = "812|Rogers Communications Canada Inc."
    H = 12
    for (i = 1; i <= N; i++) {
        if (i <= 250) addr = "198.51.100." i
        else if (i <= 375) addr = "203.0.113." (i - 250)
        else addr = sprintf("2001:db8::%x", i)
        port = 1024 + int(rnd() * 64000)
        if (rnd() < 0.03) port = 33033
        seen = int(3000 / (i ^ 1.15)) + 1
        # harvester k lists the first N*(1-exp(-k/3))/(1-exp(-H/3)) nodes first
        for (k = 1; k <= H; k++) if (i <= N * (1 - exp(-k / 3)) / (1 - exp(-H / 3)) + 0.5) break
        src = sprintf("harvest-%02d.xml", k)
        if (k < H && rnd() < 0.5) src = src ";" sprintf("harvest-%02d.xml", k + 1)
        c = cc[1 + int(rnd() * nc)]; if (rnd() < 0.04) c = ""
        co = c != "" ? cont[c] : ""
        na = (c == "US") ? 4 : ((c == "GB") ? 2 : 1)
        asn = ""; org = ""
        if (c != "") { split(as[c, 1 + int(rnd() * na)], a, "|"); asn = a[1]; org = a[2] }
        u = rnd(); udp = u < 0.62 ? "alive" : "filtered"
        t = rnd(); tcpo = "filtered"; tport = port
        if (t < (udp == "alive" ? 0.75 : 0.3)) tcpo = "alive"
        else if (t < 0.85) { tcpo = "alive"; tport = (t < 0.8 ? 443 : 80) }
        b = (co != "" ? base[co] : 120000)
        urtt = udp == "alive" ? int(b * (0.6 + rnd() * rnd() * 3)) : ""
        trtt = tcpo == "alive" ? int(b * (0.5 + rnd() * rnd() * 2.5)) : ""
        cls = (udp == "alive" ? "udp" : "")
        if (tcpo == "alive") {
            tc = (tport == port ? "tcp" : "tcp-" tport)
            cls = (cls == "" ? tc "-only" : "udp+" tc)
        } else cls = (cls == "" ? "none" : "udp-only")
        elig = (udp == "alive" && tcpo == "alive" && tport == port) ? 1 : 0
        p = rnd(); ptr = ""; kind = "unknown"; rule = "no-ptr"; rdns = "nxdomain"
        if (i == 1) { ptr = hostile; kind = "unknown"; rule = "invalid-name" }
        else if (p < 0.3) { ptr = sprintf("host-%d.cs.example.edu", i); kind = "static"; rule = "plain-name" }
        else if (p < 0.75) { ptr = sprintf("c-%d-pool.dsl.example.net", i); kind = "dynamic"; rule = "access-keyword" }
        else if (p < 0.85) { ptr = sprintf("mail%d.example.org", i); kind = "static"; rule = "service-name" }
        if (ptr != "") rdns = "ok"
        edu = ""; esrc = ""
        if (ptr != "" || org != "") edu = 0
        if (ptr ~ /\.edu$/) { edu = 1; esrc = "ptr" }
        else if (org ~ /Institute of Technology|Jisc/) { edu = 1; esrc = "as_org" }
        print addr "," port "," seen "," src ",,,,,skype," udp "," urtt ",1,,," tcpo "," trtt "," tport ",1," cls "," elig ",mapping=none;filtering=none;udp=open;tcp=open," rdns "," csv(ptr) "," (ptr != "" ? (i == 1 ? 0 : 1) : "") "," c "," co "," asn "," csv(org) "," edu "," esrc "," kind "," rule ",dbip-country.mmdb (test)"
    }
}' > "$WORK/results.csv" || fail "cannot generate the results file"

"$BIN" report --html "$WORK/report.html" --summary "$WORK/summary.csv" "$WORK/results.csv" \
    > "$WORK/report.out" 2>&1 || { cat "$WORK/report.out"; fail "snprobe report failed"; }
[ -s "$WORK/report.html" ] || fail "no report.html"
[ -s "$WORK/summary.csv" ] || fail "no summary.csv"

# ---- the browser ----
# Chromium itself calls home (network time, component updates) even with the
# flags below. Nothing may leave this machine: run it in a network namespace
# of its own when we may (root), and in any case resolve no name and send
# every request to a closed loopback port.
NETNS=()
if unshare -n true 2>/dev/null; then
    NETNS=(unshare -n)
fi
browse() {
    local name=$1
    shift
    timeout 120 "${NETNS[@]}" "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions --user-data-dir="$WORK/profile-$name" \
        --host-resolver-rules="MAP * ~NOTFOUND" --proxy-server=127.0.0.1:9 \
        --hide-scrollbars "$@" "file://$WORK/report.html" 2> "$WORK/chromium-$name.log"
}
browse dom --dump-dom > "$WORK/dom.html" ||
    { tail -5 "$WORK/chromium-dom.log"; fail "chromium --dump-dom failed"; }
browse shot --window-size=1280,8000 --screenshot="$WORK/report.png" \
    --enable-logging --v=1 --log-net-log="$WORK/netlog.json" > /dev/null ||
    { tail -5 "$WORK/chromium-shot.log"; fail "chromium --screenshot failed"; }
[ -s "$WORK/report.png" ] || fail "no screenshot"
[ "$(head -c 8 "$WORK/report.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
    fail "the screenshot is not a PNG"
if [ -n "${SN_KEEP_REPORT:-}" ]; then
    cp "$WORK/report.html" "$WORK/report.png" "$WORK/summary.csv" "$SN_KEEP_REPORT"/
fi

# ---- the checks ----
python3 - "$WORK" "$HOSTILE" <<'PY' || fail "the checks above failed"
import csv, json, os, re, sys
from html.parser import HTMLParser

work, hostile = sys.argv[1], sys.argv[2]
errors = []
def check(ok, what):
    if not ok:
        errors.append(what)

summary = {}
with open(os.path.join(work, "summary.csv"), newline="") as f:
    r = csv.reader(f)
    check(next(r) == ["metric", "value", "denominator"], "summary header")
    for row in r:
        summary[row[0]] = (row[1], row[2])

class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.charts, self.metrics, self.tags, self.loads = [], {}, [], [], []
        self.ptr_texts, self.cur_ptr, self.text = [], None, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        for k, v in attrs:
            if v and k in ("src", "href", "srcset", "poster", "data", "action", "xlink:href",
                           "background", "formaction") and not v.startswith("#"):
                self.loads.append((tag, k, v))
            if k == "style" and v and ("url(" in v or "@import" in v):
                self.loads.append((tag, k, v))
        if tag == "svg" and "chart" in a.get("class", ""):
            self.chart = a.get("data-chart")
            self.charts[self.chart] = {"declared": a.get("data-bars"), "bars": 0}
        if tag == "rect" and a.get("class") == "bar":
            self.charts[self.chart]["bars"] += 1
        if "data-metric" in a and "data-value" in a:
            self.metrics.append((a["data-metric"], a["data-value"]))
        if tag == "td" and "ptr" in a.get("class", "").split():
            self.cur_ptr = []
        if tag not in ("meta", "br", "rect", "line", "circle", "polyline", "path"):
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if tag == "td" and self.cur_ptr is not None:
            self.ptr_texts.append("".join(self.cur_ptr))
            self.cur_ptr = None
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
    def handle_data(self, data):
        if self.cur_ptr is not None:
            self.cur_ptr.append(data)
        if self.stack and self.stack[-1] == "style":
            check("url(" not in data and "@import" not in data, "CSS loads something")
        self.text.append(data)

html = open(os.path.join(work, "report.html"), encoding="utf-8").read()
dom_text = open(os.path.join(work, "dom.html"), encoding="utf-8").read()
d = Dom()
d.feed(dom_text)

# charts and bars
def n(metric):
    return int(float(summary[metric][0]))
countries = [k for k in summary if re.fullmatch(r"country\.[A-Z]{2}", k) and n(k) > 0]
unknown_country = 1 if n("country.unknown") > 0 else 0
expect = {
    "reach": len([k for k in summary if re.fullmatch(r"reach_class\.[^.]+(\.[^.]+)?", k)
                  and not k.endswith(".share")]),
    "continents": 8,
    "countries": min(15, len(countries)) + unknown_country,
    "asns": min(10, n("asns")),
    "ports": min(10, n("ports")),
    "addr-kind": 3,
}
for name, want in expect.items():
    c = d.charts.get(name)
    check(c is not None, "chart %s is missing" % name)
    if c:
        check(c["bars"] == want, "chart %s has %d bars, want %d" % (name, c["bars"], want))
        check(c["declared"] == str(want), "chart %s declares %s bars" % (name, c["declared"]))
for name in ("lorenz", "discovery", "rtt", "rtt-continents"):
    check(name in d.charts, "chart %s is missing" % name)
check(d.tags.count("polyline") >= 4, "the line charts have no curves")

# headline numbers equal the summary's
check(len(d.metrics) >= 15, "only %d headline numbers" % len(d.metrics))
for metric, value in d.metrics:
    check(metric in summary, "headline %s is not in the summary" % metric)
    if metric in summary:
        check(summary[metric][0] == value,
              "headline %s shows %s, the summary says %s" % (metric, value, summary[metric][0]))
for metric in ("alive.share", "edu.share", "country.US.share", "seen.top20.share"):
    check(metric in dict(d.metrics), "headline %s is missing" % metric)

# nothing loads
check("default-src 'none'" in html and 'http-equiv="Content-Security-Policy"' in html,
      "no strict CSP meta tag")
check(not d.loads, "elements load resources: %r" % d.loads[:5])
for tag in ("script", "img", "link", "iframe", "object", "embed", "video", "audio", "source"):
    check(tag not in d.tags, "a <%s> element is in the DOM" % tag)
check(not re.search(r"""(?:src|href)\s*=\s*["']?\s*https?:""", html, re.I),
      "an http(s) src/href in the file")
# Chromium's own background requests carry the initiator "not an origin"; a
# request of the page (a file:// document) carries "null" or a file origin.
netlog = json.load(open(os.path.join(work, "netlog.json"), encoding="utf-8"))
types = {v: k for k, v in netlog["constants"]["logEventTypes"].items()}
page_requests = [e["params"].get("url") for e in netlog["events"]
                 if types.get(e["type"]) == "URL_REQUEST_START_JOB"
                 and "url" in e.get("params", {})
                 and e["params"].get("initiator") != "not an origin"
                 and not str(e["params"].get("url", "")).startswith("file:")]
check(not page_requests, "the page requested %r" % page_requests[:5])

# the hostile PTR name is text
check(any(hostile in t for t in d.ptr_texts), "the hostile PTR name is not shown as text")
check("<img src=x" not in html and "<script>" not in html, "the hostile PTR name is markup")

if errors:
    print("\n".join(errors))
    sys.exit(1)
print("ok: %d charts, %d headline numbers, %d PTR cells" % (len(d.charts), len(d.metrics),
                                                          len(d.ptr_texts)))
PY
echo "PASS: HTML report checked in $($CHROMIUM --version 2>/dev/null | head -1)"
