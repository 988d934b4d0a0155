#!/usr/bin/env bash
# Multi-core speedup of one read (issue 14): dgrep over the 1 GB plain
# file with Server.MaxReadWorkers 1 and 2 (dtail.json), serverless and
# through one dserver per setting; one hyperfine run per pattern holds all
# four commands, so the ratios come from the same run.
#
#   bench/workers.sh                  # big.log (1 GB); bench/mkdata.sh runs if missing
#   SIZE=small bench/workers.sh       # med.log (100 MB)
#   BIN=/dir RUNS=3 WARMUP=1          # existing binaries; hyperfine settings
#   WORKERS="1 2 4"                   # settings to compare (first is the baseline)
#
# Output lines to look for:
#   SPEEDUP <pattern> serverless|dserver: workers=1 / workers=N = X   [medians s ...]
#   CHECK   <pattern> workers=N serverless|dserver: OK|FAIL  (output equals grep's)
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=${SIZE:-full}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
WORKERS=${WORKERS:-1 2}
case $SIZE in
full) F=big.log ;;
small) F=med.log ;;
*) die "SIZE must be 'full' or 'small', got '$SIZE'" ;;
esac
need_tools hyperfine md5sum:coreutils python3 ssh-keygen:openssh-client setpriv:util-linux
if [ -z "${BIN:-}" ]; then
	need_tools go
	BIN=$BENCH/bin
	log "building ./cmd/... into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/...) || die "go build failed"
fi
[ -s "$DATA/$F" ] || { SIZE=$SIZE DATA=$DATA "$BENCH/mkdata.sh" >&2 || die "mkdata.sh failed"; }
DATA=$(cd "$DATA" && pwd)
TOP=$(mktemp -d "${TMPDIR:-/tmp}/dtail-workers.XXXXXX")
chmod 755 "$TOP"
SUMMARY=$TOP/summary.txt
: >"$SUMMARY"
say() { echo "$*"; echo "$*" >>"$SUMMARY"; }
median() { python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$1" "$2"; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "nan" }'; }
q() { printf "%q" "$1"; }

bench_server_user
PIDS=()
trap 'for p in "${PIDS[@]}"; do stop "$p"; done' EXIT
declare -A SRV
for w in $WORKERS; do
	printf '{"Server":{"MaxReadWorkers":%d}}\n' "$w" >"$TOP/w$w.json"
	chmod 644 "$TOP/w$w.json"
	OUT=$TOP/srv$w
	mkdir -p "$OUT"
	DS_CFG=$TOP/w$w.json start_bench_dserver
	PIDS+=("$DS_PID")
	SRV[$w]="--servers 127.0.0.1:$DS_PORT --user $SRV_USER --auth-key-path $KEY --trustAllHosts --files"
done
export HOME=$TOP/srv${WORKERS%% *}/home

say "# workers.sh SIZE=$SIZE file=$F runs=$RUNS warmup=$WARMUP $(date -u +%FT%TZ) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) dgrep=$BIN/dgrep"
FAILED=0
for pat in '[a-z]+=[0-9]{5}[|]' '(?i)error' 'status=503'; do
	gflags=-E
	[ "${pat#(?i)}" != "$pat" ] && gflags=-Ei
	want=$(grep $gflags -- "${pat#(?i)}" "$DATA/$F" | md5sum | cut -d' ' -f1)
	args=()
	for w in $WORKERS; do
		for mode in serverless dserver; do
			if [ $mode = serverless ]; then
				cmd="$BIN/dgrep --cfg $TOP/w$w.json --plain --regex $(q "$pat") $DATA/$F"
			else
				cmd="$BIN/dgrep --cfg none --plain --regex $(q "$pat") ${SRV[$w]} $DATA/$F"
			fi
			got=$(bash -c "$cmd" 2>/dev/null | md5sum | cut -d' ' -f1)
			if [ "$got" = "$want" ]; then
				say "CHECK $pat workers=$w $mode: OK"
			else
				say "CHECK $pat workers=$w $mode: FAIL (md5 $got, grep $want)"
				FAILED=1
			fi
			args+=(-n "workers=$w $mode" "$cmd")
		done
	done
	json=$TOP/$(echo "$pat" | tr -c 'A-Za-z0-9_.-' '_').json
	hyperfine --runs "$RUNS" --warmup "$WARMUP" --output=pipe --export-json "$json" "${args[@]}" || { FAILED=1; continue; }
	i=0
	declare -A MED=()
	for w in $WORKERS; do
		for mode in serverless dserver; do
			MED[$w$mode]=$(median "$json" $i)
			i=$((i + 1))
		done
	done
	base=${WORKERS%% *}
	for w in $WORKERS; do
		[ "$w" = "$base" ] && continue
		for mode in serverless dserver; do
			say "SPEEDUP $pat $mode: workers=$base / workers=$w = $(div "${MED[$base$mode]}" "${MED[$w$mode]}")   [medians s: ${MED[$base$mode]} ${MED[$w$mode]}]"
		done
	done
done
say "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "==================== summary (also in $SUMMARY) ===================="
cat "$SUMMARY"
exit $FAILED
