# End-to-end NAT lab: `snprobe vantage` and `snprobe scan` behind real Linux NAT.
#
# Usage: bash tests/e2e_lab.sh /path/to/snprobe   (root; exit 77 = skipped)
#
# For each case of tests/lab/netlab.sh (public, nat, symmetric,
# nat-udp-blocked) it builds the namespaces afresh, starts coturn and the
# swarm in the target namespace, and asserts:
#   - the vantage verdict (text and JSON) is the expected one for the case;
#   - coturn's own turnutils_natdiscovery -m -f, run from the same place, gives
#     the same mapping and filtering verdict as snprobe;
#   - a scan of the swarm with --vantage-from records that vantage in every row
#     and reports every node as tests/lab/expect.tsv says (reach_class,
#     outcomes, the TCP port that answered, super-node eligibility, replies
#     from another port).
# It also checks that the swarm refuses the lab's documentation addresses
# without SN_SWARM_ALLOW_DOC=1, and outside a named namespace.
# Everything stays inside the namespaces, which have no route out; the EXIT
# trap removes them (and the processes in them) whatever happens.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
LAB="$HERE/lab"
. "$LAB/netlab.sh"
lab_init e2e_lab "${1:?usage: e2e_lab.sh /path/to/snprobe}"
cleanup() {
    lab_down
    rm -rf "$WORK"
}
e2e_traps cleanup

# The expected vantage per case: mapping filtering udp tcp.
expect_vantage() {
    case "$1" in
    public) echo "none none open open" ;;
    nat) echo "endpoint-independent address-and-port-dependent open open" ;;
    symmetric) echo "address-and-port-dependent address-and-port-dependent open open" ;;
    nat-udp-blocked) echo "unknown unknown blocked 443-80-only" ;;
    esac
}

# Value of "key: value" in a vantage text file.
text_value() {
    sed -n "s/^$2: //p" "$1" | head -n 1
}

# Value of a key in one NDJSON line (strings without quotes; null as null).
json_value() {
    printf '%s\n' "$1" | sed -n "s/.*\"$2\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}

POP="$LAB/population.csv"
NODES="$WORK/nodes.txt"
tail -n +2 "$POP" | cut -d, -f1,2 | tr , : > "$NODES"

# ---- the swarm's guard on documentation addresses ----
lab_up public || { fail "cannot build the lab"; exit 1; }
out=$(lab_ns "$LAB_TGT" timeout 5 "$SNPROBE" swarm --population "$POP" 2>&1)
echo "$out" | grep -q "documentation range" ||
    fail "swarm without SN_SWARM_ALLOW_DOC=1 should refuse documentation addresses, said: $out"
out=$(SN_SWARM_ALLOW_DOC=1 timeout 5 "$SNPROBE" swarm --population "$POP" 2>&1)
echo "$out" | grep -q "documentation range" ||
    fail "swarm outside a named namespace should refuse documentation addresses, said: $out"

for case in public nat symmetric nat-udp-blocked; do
    echo "--- case $case"
    dir="$WORK/$case"
    mkdir -p "$dir"
    if ! lab_up "$case" || ! lab_services "$SNPROBE" "$POP" "$dir"; then
        fail "$case: lab did not come up"
        continue
    fi
    read -r want_m want_f want_u want_t <<< "$(expect_vantage "$case")"

    # snprobe vantage, text form.
    vt="$dir/vantage.txt"
    if ! lab_ns "$LAB_SCAN" "$SNPROBE" vantage --stun "$LAB_STUN" --timeout 300 --retries 1 \
        > "$vt" 2> "$dir/vantage.err"; then
        fail "$case: snprobe vantage failed: $(cat "$dir/vantage.err")"
        continue
    fi
    sed 's/^/    /' "$vt"
    if ! grep -q '^mapping: ' "$vt"; then
        fail "$case: snprobe vantage printed no verdict (exit 0, empty output)"
        continue
    fi
    got_m=$(text_value "$vt" mapping)
    got_f=$(text_value "$vt" filtering)
    got="$got_m $got_f $(text_value "$vt" udp) $(text_value "$vt" tcp)"
    [ "$got" = "$want_m $want_f $want_u $want_t" ] ||
        fail "$case: vantage is '$got', expected '$want_m $want_f $want_u $want_t'"
    case "$(text_value "$vt" local)" in
    "$LAB_SCANNER_IP":*) ;;
    *) fail "$case: local is '$(text_value "$vt" local)', expected $LAB_SCANNER_IP:port" ;;
    esac
    grep -q "^map-test1: $LAB_STUN:3478 -> " "$vt" || fail "$case: no map-test1 evidence line"
    grep -q "^tcp-443: $LAB_STUN:443 -> connected" "$vt" ||
        fail "$case: TCP 443 to the STUN address should connect in every case"

    # The same as one JSON object.
    js=$(lab_ns "$LAB_SCAN" "$SNPROBE" vantage --stun "$LAB_STUN" --timeout 300 --retries 1 \
        --output-format ndjson)
    [ "$(printf '%s\n' "$js" | wc -l)" -eq 1 ] || fail "$case: JSON vantage is not one line"
    got="$(json_value "$js" mapping) $(json_value "$js" filtering) $(json_value "$js" udp) $(json_value "$js" tcp)"
    [ "$got" = "$want_m $want_f $want_u $want_t" ] ||
        fail "$case: JSON vantage is '$got', expected '$want_m $want_f $want_u $want_t'"

    # coturn's own client must agree on mapping and filtering.
    read -r tu_m tu_f <<< "$(lab_turnutils_verdict "$dir/turnutils.txt")"
    echo "    turnutils_natdiscovery: mapping $tu_m, filtering $tu_f"
    [ "$tu_m $tu_f" = "$got_m $got_f" ] ||
        fail "$case: turnutils_natdiscovery says '$tu_m $tu_f', snprobe '$got_m $got_f' (see $dir/turnutils.txt)"

    # A scan of the swarm from here, with the vantage recorded.
    res="$dir/scan.ndjson"
    if ! lab_ns "$LAB_SCAN" "$SNPROBE" scan --allow 203.0.113.0/24 --timeout 300 --retries 1 \
        --no-rdns --no-geo -q --output-format ndjson -o "$res" --vantage-from "$vt" \
        "$NODES" 2> "$dir/scan.err"; then
        fail "$case: scan failed: $(cat "$dir/scan.err")"
        continue
    fi
    want_v="mapping=$want_m;filtering=$want_f;udp=$want_u;tcp=$want_t"
    rows=0
    bad_v=
    while IFS=$'\t' read -r c node reach udp tcp tport elig rfrom; do
        [ "$c" = "$case" ] || continue
        rows=$((rows + 1))
        line=$(grep "\"address\":\"${node%:*}\",\"port\":${node##*:}[,}]" "$res")
        if [ -z "$line" ]; then
            fail "$case: no result row for $node"
            continue
        fi
        rf=other
        case "$(json_value "$line" reply_from)" in null | "") rf=- ;; esac
        got="$(json_value "$line" reach_class) $(json_value "$line" udp_outcome) $(json_value "$line" tcp_outcome) $(json_value "$line" tcp_port) $(json_value "$line" sn_eligible) $rf"
        [ "$got" = "$reach $udp $tcp $tport $elig $rfrom" ] ||
            fail "$case: $node is '$got', expected '$reach $udp $tcp $tport $elig $rfrom'"
        got_v=$(json_value "$line" vantage)
        [ "$got_v" = "$want_v" ] || bad_v="$node records vantage '$got_v'"
    done < <(grep -v '^#' "$LAB/expect.tsv")
    [ -z "$bad_v" ] || fail "$case: $bad_v, expected '$want_v' (scan --vantage-from)"
    [ "$rows" -eq "$(wc -l < "$NODES")" ] || fail "$case: expect.tsv has $rows rows for this case"
    echo "    scan: $rows nodes checked"
done

lab_down
left=$(ip netns list | grep -c -- "-$$\b")
[ "$left" -eq 0 ] || fail "$left lab namespaces left after teardown"

e2e_finish
