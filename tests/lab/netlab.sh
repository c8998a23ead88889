# Network-namespace lab for the NAT-behaviour tests (sourced by tests/e2e_lab.sh).
#
# Three namespaces per case, wired in a line, all addresses in the RFC 5737
# documentation ranges and no route to anything outside the lab:
#
#   scanner 192.0.2.2 --- 192.0.2.1 router 203.0.113.1 --- target 203.0.113.10..29
#          (s0)               (r0)            (r1)               (t0)
#
# The target runs coturn on 203.0.113.10 and .11 (ports 3478 and 3479, so that
# RFC 5780's CHANGE-REQUEST and OTHER-ADDRESS work) and the snprobe swarm on
# the node addresses .20 to .29. The router plays the case:
#   public           plain routing, no NAT, no filter (the target routes back);
#   nat              masquerade with conntrack filtering: a port-restricted cone,
#                    only replies from the exact address and port contacted pass;
#   symmetric        masquerade --random-fully: a new port for every destination;
#   nat-udp-blocked  nat, plus a firewall that drops all UDP and lets TCP out
#                    only to ports 443 and 80.
# Every case builds its namespaces afresh (no conntrack state carries over) and
# lab_down removes them; the caller traps lab_down on EXIT.
#
# Names carry the caller's PID, so parallel runs do not meet. Links are created
# directly inside the namespaces, so no interface ever appears in the host's.
#
# The lab tests report as the other end-to-end tests do, through tests/lib/e2e.sh
# (ok, fail, e2e_traps, e2e_finish), which this file sources; they make their own
# namespaces instead of calling e2e_init, and start with lab_init.

. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib/e2e.sh"

LAB_SCAN="snl-scan-$$"
LAB_RTR="snl-rtr-$$"
LAB_TGT="snl-tgt-$$"
LAB_PIDS=()

LAB_SCANNER_IP=192.0.2.2
LAB_ROUTER_IN=192.0.2.1
LAB_ROUTER_OUT=203.0.113.1
LAB_STUN=203.0.113.10
LAB_STUN_ALT=203.0.113.11

# Prints why the lab cannot run here and exits 77 (skip).
lab_skip() {
    echo "SKIP: $*" >&2
    exit 77
}

# Checks what the lab needs; skips cleanly when something is missing.
lab_require() {
    [ "$(id -u)" -eq 0 ] || lab_skip "the namespace lab needs root"
    for tool in ip iptables ss turnserver turnutils_natdiscovery timeout; do
        command -v "$tool" > /dev/null 2>&1 || lab_skip "'$tool' is not installed (CI installs iproute2, iptables, coturn)"
    done
    local probe="snl-probe-$$"
    ip netns add "$probe" > /dev/null 2>&1 || lab_skip "'ip netns add' is not available here"
    if ! ip netns exec "$probe" iptables -t nat -L > /dev/null 2>&1; then
        ip netns del "$probe"
        lab_skip "iptables nat table is not usable in a network namespace"
    fi
    ip netns del "$probe"
}

# lab_init NAME SNPROBE: the start of a lab test: NAME (for e2e.sh's messages), the lab's
# tools (lab_require, else skipped), SNPROBE made absolute (the lab runs it from other
# directories), and WORK, a scratch directory of the test's own for its cleanup to remove.
lab_init() {
    NAME=$1
    SNPROBE=$2
    lab_require
    [ -x "$SNPROBE" ] || lab_skip "snprobe binary '$SNPROBE' not found"
    SNPROBE=$(cd "$(dirname "$SNPROBE")" && pwd)/$(basename "$SNPROBE")
    WORK=$(mktemp -d "/tmp/snprobe-${NAME#e2e_}.XXXXXX")
}

lab_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# Stops what lab_up started and deletes the namespaces; safe to call twice.
lab_down() {
    local pid
    for pid in "${LAB_PIDS[@]}"; do
        kill "$pid" 2> /dev/null
    done
    for pid in "${LAB_PIDS[@]}"; do
        wait "$pid" 2> /dev/null
    done
    LAB_PIDS=()
    # Anything else still running inside our namespaces was started by us too.
    local ns left
    for ns in "$LAB_SCAN" "$LAB_RTR" "$LAB_TGT"; do
        left=$(ip netns pids "$ns" 2> /dev/null)
        if [ -n "$left" ]; then
            kill $left 2> /dev/null
            sleep 0.2
            kill -KILL $left 2> /dev/null
        fi
        ip netns del "$ns" 2> /dev/null
    done
    return 0
}

# Waits (at most about 5 s) until command "$@" succeeds.
lab_wait() {
    local i
    for i in $(seq 1 50); do
        "$@" > /dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# Builds the namespaces and links of one case; the services come from lab_services.
lab_up() {
    local case=$1
    lab_down
    ip netns add "$LAB_SCAN" && ip netns add "$LAB_RTR" && ip netns add "$LAB_TGT" || return 1
    ip link add s0 netns "$LAB_SCAN" type veth peer name r0 netns "$LAB_RTR" || return 1
    ip link add r1 netns "$LAB_RTR" type veth peer name t0 netns "$LAB_TGT" || return 1
    local ns
    for ns in "$LAB_SCAN" "$LAB_RTR" "$LAB_TGT"; do
        ip -n "$ns" link set lo up
    done
    ip -n "$LAB_SCAN" addr add "$LAB_SCANNER_IP/24" dev s0
    ip -n "$LAB_SCAN" link set s0 up
    ip -n "$LAB_SCAN" route add 203.0.113.0/24 via "$LAB_ROUTER_IN"

    ip -n "$LAB_RTR" addr add "$LAB_ROUTER_IN/24" dev r0
    ip -n "$LAB_RTR" addr add "$LAB_ROUTER_OUT/24" dev r1
    ip -n "$LAB_RTR" link set r0 up
    ip -n "$LAB_RTR" link set r1 up
    lab_ns "$LAB_RTR" sysctl -qw net.ipv4.ip_forward=1

    local i
    for i in 10 11 $(seq 20 29); do
        ip -n "$LAB_TGT" addr add "203.0.113.$i/24" dev t0
    done
    ip -n "$LAB_TGT" link set t0 up

    local ipt="lab_ns $LAB_RTR iptables"
    case "$case" in
    public)
        # Routed, no NAT: the target knows the way back to the scanner.
        ip -n "$LAB_TGT" route add 192.0.2.0/24 via "$LAB_ROUTER_OUT"
        ;;
    nat | symmetric | nat-udp-blocked)
        if [ "$case" = symmetric ]; then
            $ipt -t nat -A POSTROUTING -o r1 -j MASQUERADE --random-fully
        else
            $ipt -t nat -A POSTROUTING -o r1 -j MASQUERADE
        fi
        # Conntrack filtering: only what answers a connection of ours comes in.
        $ipt -P FORWARD DROP
        $ipt -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
        if [ "$case" = nat-udp-blocked ]; then
            $ipt -A FORWARD -i r0 -o r1 -p tcp -m multiport --dports 443,80 -j ACCEPT
        else
            $ipt -A FORWARD -i r0 -o r1 -j ACCEPT
        fi
        ;;
    *)
        echo "lab_up: unknown case '$case'" >&2
        return 1
        ;;
    esac

    # The target forwards TCP 443 and 80 of the STUN address to coturn's TCP
    # listener, and of two nodes to the node's own port: real hosts that serve
    # their service on the fallback ports too.
    local tipt="lab_ns $LAB_TGT iptables -t nat -A PREROUTING -p tcp"
    $tipt -d "$LAB_STUN" -m multiport --dports 443,80 -j DNAT --to-destination "$LAB_STUN:3478"
    $tipt -d 203.0.113.20 -m multiport --dports 443,80 -j DNAT --to-destination 203.0.113.20:4010
    $tipt -d 203.0.113.21 --dport 80 -j DNAT --to-destination 203.0.113.21:4010
}

# Starts coturn and the swarm in the target namespace; $1 snprobe, $2 population, $3 work dir.
lab_services() {
    local snprobe=$1 pop=$2 dir=$3
    # Started by `ip netns exec` itself, not through a shell function, so that
    # $! is the server's own PID (ip execs it) and lab_down can stop it.
    ip netns exec "$LAB_TGT" turnserver -n --listening-ip="$LAB_STUN" --listening-ip="$LAB_STUN_ALT" \
        --listening-port=3478 --alt-listening-port=3479 --no-tls --no-dtls --stun-only \
        --no-cli --no-stdout-log --log-file="$dir/turnserver.log" --simple-log \
        > /dev/null 2>&1 &
    LAB_PIDS+=($!)
    SN_SWARM_ALLOW_DOC=1 ip netns exec "$LAB_TGT" "$snprobe" swarm --population "$pop" \
        > "$dir/swarm.out" 2> "$dir/swarm.err" &
    LAB_PIDS+=($!)
    lab_wait grep -q "swarm: ready" "$dir/swarm.out" || {
        echo "swarm did not start:" >&2
        cat "$dir/swarm.err" >&2
        return 1
    }
    local want
    for want in "$LAB_STUN:3478" "$LAB_STUN:3479" "$LAB_STUN_ALT:3478" "$LAB_STUN_ALT:3479"; do
        lab_wait sh -c "ip netns exec $LAB_TGT ss -Hlun | grep -q ' $want '" || {
            echo "coturn is not listening on UDP $want:" >&2
            tail -20 "$dir/turnserver.log"* >&2 2> /dev/null
            return 1
        }
    done
    lab_wait sh -c "ip netns exec $LAB_TGT ss -Hltn | grep -q ' $LAB_STUN:3478 '" || {
        echo "coturn is not listening on TCP $LAB_STUN:3478" >&2
        return 1
    }
}

# Runs turnutils_natdiscovery in the scanner namespace and prints
# "mapping filtering" in snprobe's words.
lab_turnutils_verdict() {
    local out=$1
    lab_ns "$LAB_SCAN" turnutils_natdiscovery -m -f -L "$LAB_SCANNER_IP" "$LAB_STUN" > "$out" 2>&1
    awk '
        /-= Mapping Behavior Discovery =-/   { sec = "m" }
        /-= Filtering Behavior Discovery =-/ { sec = "f" }
        sec == "m" && /No NAT!/                                   { m_nonat = 1 }
        sec == "m" && /NAT with Endpoint Independent Mapping!/    { m = "endpoint-independent" }
        sec == "m" && /NAT with Address Dependent Mapping!/       { m = "address-dependent" }
        sec == "m" && /NAT with Address and Port Dependent Mapping!/ { m = "address-and-port-dependent" }
        sec == "f" && /No NAT!/                                   { f_nonat = 1 }
        sec == "f" && /NAT with Endpoint Independent Filtering!/  { f = "endpoint-independent" }
        sec == "f" && /NAT with Address Dependent Filtering!/     { f = "address-dependent" }
        sec == "f" && /NAT with Address and Port Dependent Filtering!/ { f = "address-and-port-dependent" }
        END {
            # turnutils says "No NAT!" and then goes on with the RFC 5780 tests;
            # with no NAT, an answer to change-IP-and-port means nothing filters.
            if (m_nonat) m = "none"
            if (f_nonat && f == "endpoint-independent") f = "none"
            if (m == "") m = "unknown"
            if (f == "") f = "unknown"
            print m, f
        }' "$out"
}
