#!/usr/bin/env bash
# Follow-delivery benchmark for serverless `dtail` (tail -f mode).
#
#   bench/follow.sh                    # 100,000-line burst, 60 s timeout
#   LINES=200000 TIMEOUT=120 bench/follow.sh
#   BIN=/dir bench/follow.sh           # use existing binaries instead of building
#
# Starts `dtail --cfg none --plain <file>` on an empty file with its output
# redirected to a file, waits until it is following (probe lines), then one
# writer (`cat` of a pre-generated file, 128 KiB writes, so lines are split
# across writes) appends LINES sequence-numbered lines at once. It polls the
# output until all burst lines arrived (or TIMEOUT) and reports:
#   FOLLOW delivery: <s> after end of append ...   time from end of append to complete delivery
#   FOLLOW exactly-once: OK|FAIL ...               count == LINES, no duplicates, none missing, lines intact
#   FOLLOW order: ...                              whether lines arrived in write order (info)
#   FOLLOW stop: ...                               time for dtail to exit after SIGTERM (info)
# Exit status 1 if not every line arrived exactly once within TIMEOUT.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LINES=${LINES:-100000}
TIMEOUT=${TIMEOUT:-60}
need_tools awk sort:coreutils

if [ -z "${BIN:-}" ]; then
	need_tools go
	BIN=$BENCH/bin
	log "building ./cmd/... into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/...) || die "go build failed"
fi
[ -x "$BIN/dtail" ] || die "$BIN/dtail not found"

W=$(mktemp -d "${TMPDIR:-/tmp}/dtail-follow.XXXXXX")
FILE=$W/followed.log
OUT=$W/dtail.out
ERR=$W/dtail.err
BURST=$W/burst
PID=

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a-b}'; }
stop_dtail() {
	[ -n "$PID" ] || return 0
	local t0 t1
	t0=$(now)
	kill -TERM "$PID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		STOP_MSG="FOLLOW stop: dtail did not exit within 5 s of SIGTERM, killed (pid $PID) (info)"
	else
		wait "$PID" 2>/dev/null
		t1=$(now)
		STOP_MSG="FOLLOW stop: dtail exited $(sub "$t1" "$t0") s after SIGTERM (info)"
	fi
	PID=
}
STOP_MSG=
trap stop_dtail EXIT

# Burst content: "SEQ 0000001 ..." padded to a log-like ~190 bytes per line.
awk -v n="$LINES" 'BEGIN{
	pad = "|INFO|20211002-000001|5423|handler.go:120|8|47|6|1.53|400h0m1s|MAPREDUCE:STATS|currentConnections=43|lifetimeConnections=51929|action=GET|status=200|user=user5967"
	for (i = 1; i <= n; i++) printf "SEQ %07d%s\n", i, pad
}' >"$BURST"
BYTES=$(wc -c <"$BURST")

: >"$FILE"
"$BIN/dtail" --cfg none --plain "$FILE" >"$OUT" 2>"$ERR" &
PID=$!
log "dtail pid $PID following $FILE (work dir $W)"

# Wait until dtail is actually following: append probe lines until one shows up.
ready=0
t0=$(now)
for i in $(seq 200); do
	echo "PROBE $i" >>"$FILE"
	sleep 0.05
	if grep -q '^PROBE ' "$OUT" 2>/dev/null; then ready=1; break; fi
	kill -0 "$PID" 2>/dev/null || break
done
if [ $ready != 1 ]; then
	echo "FOLLOW ready: FAIL (dtail showed no probe line within 10 s; exited: $(kill -0 "$PID" 2>/dev/null && echo no || echo yes))"
	echo "--- stderr:"; head -n 20 "$ERR"
	exit 1
fi
echo "FOLLOW ready: first probe line seen after $(sub "$(now)" "$t0") s"
sleep 0.2

# The burst: one fast writer.
ta=$(now)
cat "$BURST" >>"$FILE"
tb=$(now)

# Poll until every burst line arrived.
got=0
deadline=$(awk -v t="$tb" -v d="$TIMEOUT" 'BEGIN{printf "%.3f", t+d}')
while :; do
	got=$(grep -c '^SEQ ' "$OUT")
	tc=$(now)
	[ "$got" -ge "$LINES" ] && break
	awk -v a="$tc" -v b="$deadline" 'BEGIN{exit !(a > b)}' && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.01
done
complete=0
[ "$got" -ge "$LINES" ] && complete=1
# Give late duplicates a chance to show up before the exactly-once check.
sleep 0.5
stop_dtail

echo "FOLLOW burst: $LINES lines, $BYTES bytes appended by one writer in $(sub "$tb" "$ta") s"
if [ $complete = 1 ]; then
	d=$(sub "$tc" "$tb")
	echo "FOLLOW delivery: $d s after end of append ($(sub "$tc" "$ta") s after start; $(awk -v n="$LINES" -v t="$(sub "$tc" "$ta")" 'BEGIN{printf "%.0f", (t>0)? n/t : 0}') lines/s end-to-end)"
else
	echo "FOLLOW delivery: INCOMPLETE, $got of $LINES lines after $(sub "$tc" "$tb") s (timeout $TIMEOUT s)"
fi

grep '^SEQ ' "$OUT" >"$W/seq.out"
total=$(wc -l <"$W/seq.out")
dups=$(sort "$W/seq.out" | uniq -d | wc -l)
missing=$(sort "$W/seq.out" | uniq | comm -13 - <(sort "$BURST") | wc -l)
extra=$(sort "$W/seq.out" | uniq | comm -23 - <(sort "$BURST") | wc -l) # mangled lines
other=$(grep -vc -e '^SEQ ' -e '^PROBE ' "$OUT")
if [ "$total" = "$LINES" ] && [ "$dups" = 0 ] && [ "$missing" = 0 ] && [ "$extra" = 0 ]; then
	echo "FOLLOW exactly-once: OK (count $total == $LINES, 0 duplicates, 0 missing, 0 mangled)"
	ok=1
else
	echo "FOLLOW exactly-once: FAIL (count $total, want $LINES; duplicates $dups; missing $missing; mangled/unknown SEQ lines $extra)"
	ok=0
fi
if cmp -s "$W/seq.out" "$BURST"; then
	echo "FOLLOW order: lines arrived in write order (info)"
else
	echo "FOLLOW order: output order differs from write order (info)"
fi
[ "$other" -gt 0 ] && echo "FOLLOW note: $other output line(s) that are neither burst nor probe lines, e.g.: $(grep -v -e '^SEQ ' -e '^PROBE ' "$OUT" | head -n 1)"
echo "$STOP_MSG"
[ -s "$ERR" ] && echo "FOLLOW note: dtail wrote $(wc -l <"$ERR") line(s) to stderr (see $ERR)"
if [ $ok = 1 ] && [ $complete = 1 ]; then
	rm -rf "$W"
	exit 0
fi
echo "FOLLOW kept work dir for inspection: $W"
exit 1
