#!/usr/bin/env bash
# Cost of the fleet-answer features (issue 8) over the plain dgrep path,
# through ONE dserver on 127.0.0.1, on the 1 GB big.log.
#
#   bench/fleet.sh              # big.log; runs bench/mkdata.sh if data is missing
#   SIZE=small bench/fleet.sh   # med.log (100 MB), quick
#   BIN=/dir bench/fleet.sh     # use existing binaries in /dir instead of building
#   RUNS=5 WARMUP=1             # hyperfine settings
#
# 1. CHECK lines: --count = grep -c, --files-with-matches lists the file,
#    --output ndjson has grep -c objects, --coalesce total = grep -c.
# 2. One hyperfine invocation: dgrep --plain --regex status=503 (baseline)
#    vs --count, --files-with-matches, --coalesce, --output ndjson
#    (stdout to /dev/null). COST lines: median / baseline median.
# 3. BYTES lines: bytes moved through SSH per run, measured as the growth
#    of the dserver process's wchar in /proc/PID/io (every byte it writes
#    to its sockets: SSH framing, encryption and MAC included; its log is
#    at WARN and stays empty), plus the client's stdout size. Target for
#    --count and --files-with-matches: ≤ 1 % of the plain dgrep bytes.
# The dserver runs as an unprivileged user (SRV_USER, default dtremote,
# created if missing) when this script runs as root.
# Exit status: 1 if a check failed or a byte target was missed, else 0.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=${SIZE:-full}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
case $SIZE in
full) F=big.log ;;
small) F=med.log ;;
*) die "SIZE must be 'full' or 'small', got '$SIZE'" ;;
esac
RE=status=503

need_tools hyperfine awk ssh-keygen:openssh-client setpriv:util-linux
use_json_tool

build_bins dgrep dserver
ensure_data "$SIZE" "$F"

OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtail-fleet.XXXXXX")
chmod 755 "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*"; echo "$*" >>"$SUMMARY"; }
FAILED=0


# The dserver -----------------------------------------------------------------
bench_server_user
DS_PID=
cleanup() { stop "$DS_PID"; [ -n "${KEEP:-}" ] || rm -rf "$OUT/srv" "$OUT/home" "$OUT/keys" "$OUT"/*.out; }
trap cleanup EXIT
trap 'exit 130' INT TERM
start_bench_dserver
# The PID of the dserver itself (setpriv execs it; the subshell may not).
SRV_PID=$(pgrep -P "$DS_PID" -x dserver 2>/dev/null | head -n 1)
[ -n "$SRV_PID" ] || SRV_PID=$DS_PID
[ -r "/proc/$SRV_PID/io" ] || die "cannot read /proc/$SRV_PID/io (run as root or as the server's user)"
export HOME=$OUT/home
DG="$BIN/dgrep --cfg none --servers 127.0.0.1:$DS_PORT --user $SRV_USER --auth-key-path $KEY --trustAllHosts --noColor --regex $RE --files $DATA/$F"

log "binaries: $BIN  data: $DATA/$F  dserver: 127.0.0.1:$DS_PORT (pid $SRV_PID) as $SRV_USER  out: $OUT"
say "# fleet.sh SIZE=$SIZE file=$F ($(stat -c %s "$DATA/$F") bytes) regex=$RE runs=$RUNS warmup=$WARMUP $(date -u +%FT%TZ) nproc=$(nproc)"

# 1. Correctness ----------------------------------------------------------------
WANT=$(grep -c -- "$RE" "$DATA/$F")
check() { # check LABEL EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then say "CHECK $1: OK ($3)"; else say "CHECK $1: FAIL (want '$2', got '$3')"; FAILED=1; fi
}
$DG --plain >/dev/null 2>&1 # known_hosts
check "--count = grep -c" "127.0.0.1:$DS_PORT:$F:$WANT" "$($DG --plain --count 2>/dev/null)"
check "--files-with-matches" "127.0.0.1:$DS_PORT:$F" "$($DG --plain --files-with-matches 2>/dev/null)"
check "--output ndjson objects = grep -c" "$WANT" "$($DG --plain --output ndjson 2>/dev/null | grep -c '^{"host":')"
check "--coalesce total = grep -c" "$WANT" "$($DG --plain --coalesce 2>/dev/null | awk '/lines in total/{print $1}')"
check "plain lines = grep -c" "$WANT" "$($DG --plain 2>/dev/null | wc -l)"

# 2. Time: one hyperfine invocation -----------------------------------------------
JSON=$OUT/fleet.json
echo
echo "=== dgrep --regex $RE $F through one dserver: feature cost"
if hyperfine --runs "$RUNS" --warmup "$WARMUP" --export-json "$JSON" \
	-n "plain" "$DG --plain" \
	-n "count" "$DG --plain --count" \
	-n "files-with-matches" "$DG --plain --files-with-matches" \
	-n "coalesce" "$DG --plain --coalesce" \
	-n "output-ndjson" "$DG --plain --output ndjson" \
	-n "receipt-json" "$DG --plain --receipt json" \
	-n "merge-by-time" "$DG --plain --merge-by-time" \
	-n "since-until" "$DG --plain --since 2021-10-02T00:00:00Z --until 2021-10-03T00:00:00Z"; then
	base=$(median "$JSON" 0)
	i=1
	for name in --count --files-with-matches --coalesce "--output ndjson" "--receipt json" --merge-by-time "--since/--until (whole day)"; do
		m=$(median "$JSON" $i)
		say "COST  $name: $(div "$m" "$base" 4) × dgrep --plain   [medians s: $m vs $base]"
		i=$((i + 1))
	done
else
	say "COST: hyperfine failed (see above)"
	FAILED=1
fi

# 3. Bytes through SSH ----------------------------------------------------------------
wchar() { awk '/^wchar:/{print $2}' "/proc/$SRV_PID/io"; }
# wire NAME ARGS... : server bytes written for one run, and stdout bytes.
declare -A WIRE OUTB
wire() {
	local name=$1; shift
	local before after
	sleep 0.3
	before=$(wchar)
	$DG "$@" 2>/dev/null >"$OUT/bytes.out"
	sleep 0.3
	after=$(wchar)
	WIRE[$name]=$((after - before))
	OUTB[$name]=$(stat -c %s "$OUT/bytes.out")
}
echo
wire plain --plain
wire count --plain --count
wire fwm --plain --files-with-matches
wire remote # default REMOTE|… framing, what the client counts from on DTail 4.x servers
for n in plain remote count fwm; do
	pct=$(awk -v a="${WIRE[$n]}" -v b="${WIRE[plain]}" 'BEGIN{printf "%.4f", 100*a/b}')
	say "BYTES $n: $(printf '%12d' "${WIRE[$n]}") B written by dserver (${pct} % of dgrep --plain), stdout $(printf '%10d' "${OUTB[$n]}") B"
done
for n in count fwm; do
	if awk -v a="${WIRE[$n]}" -v b="${WIRE[plain]}" 'BEGIN{exit !(a <= b/100)}'; then
		say "TARGET $n ≤ 1 % of dgrep --plain bytes: PASS"
	else
		say "TARGET $n ≤ 1 % of dgrep --plain bytes: MISS"
		FAILED=1
	fi
done

echo
echo "summary ($SUMMARY):"
cat "$SUMMARY"
exit $FAILED
