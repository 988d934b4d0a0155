#!/usr/bin/env bash
# dmap group-by count vs the mawk one-liner (perf-anchors §2/§3.12 command
# lines), plain, .gz and .zst, and dmap through one dserver vs serverless;
# plus output correctness, records per second and peak RSS.
#
#   bench/dmap.sh              # big.log (1 GB, 5.5 M lines); runs bench/mkdata.sh if data is missing
#   SIZE=small bench/dmap.sh   # med.log (100 MB), quick
#   BIN=/dir bench/dmap.sh     # use existing binaries in /dir instead of building
#   RUNS=5 WARMUP=1            # hyperfine settings (defaults as in perf-anchors)
#   ONLY='zst'                 # only the comparisons whose name matches this ERE
#
# Every comparison is ONE hyperfine invocation; ratios come from the medians
# of its JSON export. Output lines to look for:
#   CHECK  <what>: OK|FAIL                            dmap table = awk result
#   RATIO  <name>: ours/baseline = X.XX (target ≤ Y)  PASS|MISS
#   RECS   <name>: N M records/s ...                  throughput (lines read and records aggregated)
#   RSS    <cmd>: N MB                                peak RSS (client; dserver's VmHWM for the server run)
# The dserver runs as an unprivileged user (SRV_USER, default dtremote, made
# if missing) on 127.0.0.1 when this script runs as root.
# Exit status: 1 if a correctness check failed, else 0.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=${SIZE:-full}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
ONLY=${ONLY:-}
case $SIZE in
full) F=big.log ;;
small) F=med.log ;;
*) die "SIZE must be 'full' or 'small', got '$SIZE'" ;;
esac

need_tools hyperfine zstd gzip time:time awk ssh-keygen:openssh-client setpriv:util-linux
use_json_tool

build_bins dmap dserver

ensure_data "$SIZE" "$F" "$F.gz" "$F.zst"
cd "$DATA" || die "cannot cd to $DATA"

Q='from STATS select action,count($line) group by action'
AWKP='$1=="INFO" && $10=="MAPREDUCE:STATS"{split($13,a,"=");c[a[2]]++} END{for(k in c) print k","c[k]}'

OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtail-dmap.XXXXXX")
chmod 755 "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*"; echo "$*" >>"$SUMMARY"; }
FAILED=0


# Records: every line is read; the INFO+STATS lines are aggregated.
LINES=$(wc -l <"$F")
RECORDS=$(awk -F'|' '$1=="INFO" && $10=="MAPREDUCE:STATS"{n++} END{print n+0}' "$F")

# compare NAME TARGET -- hyperfine args (first command ours, second baseline)
compare() {
	local name=$1 target=$2; shift 3
	local json=$OUT/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').json
	if [ -n "$ONLY" ] && ! printf '%s' "$name" | grep -Eq -- "$ONLY"; then return; fi
	echo
	echo "=== $name"
	if ! hyperfine --runs "$RUNS" --warmup "$WARMUP" --output=pipe --export-json "$json" "$@"; then
		say "RATIO $name: hyperfine failed (see above) FAIL"
		return
	fi
	local ours base r verdict sp noisy=""
	ours=$(median "$json" 0)
	base=$(median "$json" 1)
	r=$(div "$ours" "$base")
	if leq "$r" "$target"; then verdict="(target ≤ $target) PASS"; else verdict="(target ≤ $target) MISS"; fi
	sp=$(spread "$json" 0)/$(spread "$json" 1)
	awk -v a="${sp%/*}" -v b="${sp#*/}" 'BEGIN{exit !(a > 1.3 || b > 1.3)}' &&
		noisy="  NOISY (max/min ours ${sp%/*}, baseline ${sp#*/})"
	say "RATIO $name: ours/baseline = $r $verdict   [medians s: ours $ours, baseline $base]$noisy"
	say "RECS  $name: $(awk -v n="$LINES" -v r="$RECORDS" -v t="$ours" -v b="$base" 'BEGIN{printf "ours %.2f M lines/s (%.2f M records/s), baseline %.2f M lines/s", n/t/1e6, r/t/1e6, n/b/1e6}')"
}

# The dserver -----------------------------------------------------------------
bench_server_user
DS_PID=
cleanup() { stop "$DS_PID"; [ -n "${KEEP:-}" ] || rm -rf "$OUT/srv" "$OUT/home" "$OUT/keys"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
start_bench_dserver
export HOME=$OUT/home
S="--cfg none --plain --servers 127.0.0.1:$DS_PORT --user $SRV_USER --auth-key-path $KEY --trustAllHosts"
SL="--cfg none --plain"

log "binaries: $BIN  data: $DATA/$F  dserver: 127.0.0.1:$DS_PORT (pid $DS_PID) as $SRV_USER  out: $OUT"
say "# dmap.sh SIZE=$SIZE file=$F lines=$LINES records=$RECORDS runs=$RUNS warmup=$WARMUP $(date -u +%FT%TZ) nproc=$(nproc)"

# 1. Correctness: the CSV outfile equals the awk result ---------------------
want=$(awk -F'|' "$AWKP" "$F" | sort)
check() { # check LABEL CSVFILE cmd...
	local label=$1 csv=$2; shift 2
	rm -f "$csv"
	timeout 600 "$@" >/dev/null 2>"$OUT/check.err"
	local rc=$? got
	got=$(tail -n +2 "$csv" 2>/dev/null | sort)
	if [ "$rc" = 0 ] && [ -n "$got" ] && [ "$got" = "$want" ]; then
		say "CHECK $label: = awk ($(echo "$want" | wc -l) groups) OK"
	else
		say "CHECK $label: FAIL (exit $rc; got: $(echo $got) want: $(echo $want); stderr: $(head -c 300 "$OUT/check.err"))"
		FAILED=1
	fi
}
if [ -z "$ONLY" ]; then
	for f in "$F" "$F.gz" "$F.zst"; do
		check "dmap serverless $f" "$OUT/c.csv" "$BIN/dmap" $SL --query "$Q outfile $OUT/c.csv" "$f"
	done
	chmod 777 "$OUT"
	check "dmap via dserver $F" "$OUT/s.csv" "$BIN/dmap" $S --query "$Q outfile $OUT/s.csv" --files "$DATA/$F"

	# 2. Peak RSS --------------------------------------------------------------
	echo
	for f in "$F" "$F.gz" "$F.zst"; do
		/usr/bin/time -f %M -o "$OUT/rss" "$BIN/dmap" $SL --query "$Q" "$f" | cat >/dev/null
		say "RSS dmap serverless $f: $(($(tail -n 1 "$OUT/rss") / 1024)) MB"
	done
	/usr/bin/time -f %M -o "$OUT/rss" awk -F'|' "$AWKP" "$F" | cat >/dev/null
	say "RSS awk $F: $(($(tail -n 1 "$OUT/rss") / 1024)) MB"
	/usr/bin/time -f %M -o "$OUT/rss" "$BIN/dmap" $S --query "$Q" --files "$DATA/$F" | cat >/dev/null
	say "RSS dmap via dserver $F (client): $(($(tail -n 1 "$OUT/rss") / 1024)) MB"
	say "RSS dserver after the runs above (VmHWM, whole process): $(awk '/VmHWM/{print int($2/1024)}' /proc/$DS_PID/status) MB"
fi

# 3. Timing ------------------------------------------------------------------
D="$BIN/dmap $SL --query '$Q'"
compare "dmap $F vs awk" 1.0 -- \
	-n dmap "$D $F" -n awk "awk -F'|' '$AWKP' $F"
compare "dmap $F.zst vs zstdcat|awk" 1.0 -- \
	-n dmap "$D $F.zst" -n "zstdcat|awk" "zstdcat $F.zst | awk -F'|' '$AWKP'"
compare "dmap $F.gz vs zcat|awk" 1.0 -- \
	-n dmap "$D $F.gz" -n "zcat|awk" "zcat $F.gz | awk -F'|' '$AWKP'"
compare "dmap $F via dserver vs serverless" 1.1 -- \
	-n "dmap server" "$BIN/dmap $S --query '$Q' --files $DATA/$F" -n "dmap serverless" "$D $DATA/$F"

echo
echo "summary ($SUMMARY):"
cat "$SUMMARY"
exit $FAILED
