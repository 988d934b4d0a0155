#!/usr/bin/env bash
# Generate the benchmark data set of perf-anchors §1 into $DATA (default
# bench/data/). Idempotent: files that already exist are kept.
#
#   bench/mkdata.sh              # full set: big.log (5.5 M lines, ~1 GB) + .gz/.zst,
#                                # med.log (550k) + .gz/.zst, m50k.log, tiny.log
#   SIZE=small bench/mkdata.sh   # only med/m50k/tiny (+ med .gz/.zst)
#
# Check values (verified at the end): grep -c status=503 big.log = 54931,
# med.log = first 550,000 lines of big.log.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=${SIZE:-full}
case $SIZE in full|small) ;; *) die "SIZE must be 'full' or 'small', got '$SIZE'" ;; esac

need_tools go zstd gzip
GZ="gzip -6"
if optional_tool pigz; then GZ="pigz -6"; fi

mkdir -p "$DATA"
GEN=$DATA/.gen
if [ ! -x "$GEN" ] || [ "$BENCH/gen/main.go" -nt "$GEN" ]; then
	log "building generator"
	(cd "$ROOT" && go build -o "$GEN" ./bench/gen)
fi

BIG_LINES=5500000
MED_LINES=550000

# make_plain NAME LINES: write NAME with the first LINES lines of the stream.
# Smaller files are cut from big.log when it exists (identical content).
make_plain() {
	local f=$DATA/$1 n=$2
	[ -s "$f" ] && { log "exists: $f"; return; }
	log "generating $f ($n lines)"
	if [ "$1" != big.log ] && [ -s "$DATA/big.log" ]; then
		head -n "$n" "$DATA/big.log" >"$f.tmp"
	else
		"$GEN" -n "$n" >"$f.tmp"
	fi
	mv "$f.tmp" "$f"
}

make_compressed() {
	local f=$DATA/$1
	if [ ! -s "$f.gz" ]; then
		log "compressing $f.gz ($GZ)"
		$GZ -c "$f" >"$f.gz.tmp" && mv "$f.gz.tmp" "$f.gz"
	fi
	if [ ! -s "$f.zst" ]; then
		log "compressing $f.zst (zstd -3)"
		zstd -q -3 -T1 -c "$f" >"$f.zst.tmp" && mv "$f.zst.tmp" "$f.zst"
	fi
}

if [ "$SIZE" = full ]; then
	make_plain big.log $BIG_LINES
	make_compressed big.log
fi
make_plain med.log $MED_LINES
make_compressed med.log
make_plain m50k.log 50000
make_plain tiny.log 10

# Verification -------------------------------------------------------------
fail=0
check() { # check LABEL GOT WANT
	if [ "$2" = "$3" ]; then echo "CHECK $1: $2 OK"; else echo "CHECK $1: got $2, want $3 FAIL"; fail=1; fi
}
check "lines med.log" "$(wc -l <"$DATA/med.log")" $MED_LINES
check "bytes med.log" "$(wc -c <"$DATA/med.log")" 105149295
check "lines m50k.log" "$(wc -l <"$DATA/m50k.log")" 50000
check "lines tiny.log" "$(wc -l <"$DATA/tiny.log")" 10
if [ -s "$DATA/big.log" ]; then
	check "lines big.log" "$(wc -l <"$DATA/big.log")" $BIG_LINES
	check "bytes big.log" "$(wc -c <"$DATA/big.log")" 1051729729
	check "grep -c status=503 big.log" "$(grep -c status=503 "$DATA/big.log")" 54931
	check "med.log is a prefix of big.log" \
		"$(head -n $MED_LINES "$DATA/big.log" | cmp -s - "$DATA/med.log" && echo yes || echo no)" yes
else
	# Without big.log, check med.log against a fresh generator stream.
	check "med.log equals generator output" \
		"$("$GEN" -n $MED_LINES | cmp -s - "$DATA/med.log" && echo yes || echo no)" yes
fi
check "first line" "$(head -n 1 "$DATA/tiny.log" | cut -d"|" -f1-9)" "INFO|20211002-000001|5423|handler.go:120|8|47|6|1.53|400h0m1s"
ls -l "$DATA" | grep -v ' \.gen$' >&2
[ $fail = 0 ] && echo "mkdata: all checks OK" || echo "mkdata: CHECKS FAILED"
exit $fail
