#!/usr/bin/env bash
# Serverless dcat/dgrep vs cat/zcat/zstdcat/grep/rg, the command lines of
# perf-anchors §3, plus peak RSS and output correctness.
#
#   bench/serverless.sh              # big.log (1 GB); run bench/mkdata.sh first (done automatically if missing)
#   SIZE=small bench/serverless.sh   # med.log (100 MB), quick
#   BIN=/dir bench/serverless.sh     # use existing binaries in /dir instead of building
#   RUNS=5 WARMUP=1                  # hyperfine settings (defaults as in perf-anchors)
#   ONLY='status=503 big.log vs'     # only the comparisons whose name matches this
#                                    # extended regex; skips the CHECK and RSS parts
#   BASE=/dir                        # also time the same command of the binaries in
#                                    # /dir (a baseline build) in the SAME hyperfine
#                                    # run: a COST line gives ours/before (target ≤ 1.02)
#
# Every comparison is ONE hyperfine invocation; ratios are taken from the
# medians in its JSON export, so they are comparable on a noisy machine,
# absolute seconds are not. Output lines to look for:
#   CHECK  <what>: OK|FAIL ...                        correctness
#   RATIO  <name>: ours/baseline = X.XX (target ≤ Y)  PASS|MISS|info
#   RSS    <cmd>: N MB (target < 64)                  PASS|MISS
# A RATIO line ends with "NOISY" when a command's slowest run took over 1.3x
# its fastest in that invocation; rerun such a comparison with ONLY=... .
# Exit status: 1 if a correctness check failed, else 0 (ratio misses are reported, not fatal).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE=${SIZE:-full}
RUNS=${RUNS:-5}
ONLY=${ONLY:-}
WARMUP=${WARMUP:-1}
case $SIZE in
full) F=big.log ;;
small) F=med.log ;;
*) die "SIZE must be 'full' or 'small', got '$SIZE'" ;;
esac

need_tools hyperfine zstd gzip time:time md5sum:coreutils
HAVE_RG=0
optional_tool rg:ripgrep && HAVE_RG=1
HAVE_PIGZ=0
optional_tool pigz && HAVE_PIGZ=1
use_json_tool

# Binaries under test ------------------------------------------------------
build_bins dcat dgrep

# Data ---------------------------------------------------------------------
ensure_data "$SIZE" "$F" "$F.gz" "$F.zst"
cd "$DATA" || die "cannot cd to $DATA"

OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtail-bench.XXXXXX")
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*"; echo "$*" >>"$SUMMARY"; }
FAILED=0


# compare NAME TARGET SINK NATIVE -- hyperfine args...
#   Runs one hyperfine invocation; the FIRST command is ours, the SECOND the
#   baseline; further commands are context (their ratio is printed as info).
#   TARGET "-" = no target. NATIVE=1 adds -N (no shell; only for commands
#   without pipes).
compare() {
	local name=$1 target=$2 sink=$3 native=$4; shift 5
	local json=$OUT/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').json
	local n=()
	[ "$native" = 1 ] && n=(-N)
	if [ -n "$ONLY" ] && ! printf '%s' "$name" | grep -Eq -- "$ONLY"; then return; fi
	echo
	echo "=== $name"
	local before=()
	if [ -n "${BASE:-}" ]; then
		# The baseline build's run of our command, last: it is context
		# for the baseline ratio and gives the COST line.
		before=(-n before "${3//"$BIN"/"$BASE"}")
	fi
	if ! hyperfine "${n[@]}" --runs "$RUNS" --warmup "$WARMUP" --output="$sink" \
		--export-json "$json" "$@" "${before[@]}"; then
		say "RATIO $name: hyperfine failed (see above) FAIL"
		return
	fi
	local ours base r verdict i cnt label
	ours=$(median "$json" 0)
	base=$(median "$json" 1)
	r=$(div "$ours" "$base")
	if [ "$target" = - ]; then
		verdict="(no target) info"
	elif leq "$r" "$target"; then
		verdict="(target ≤ $target) PASS"
	else
		verdict="(target ≤ $target) MISS"
	fi
	local spread noisy=""
	spread=$(spread "$json" 0)/$(spread "$json" 1)
	awk -v a="${spread%/*}" -v b="${spread#*/}" 'BEGIN{exit !(a > 1.3 || b > 1.3)}' &&
		noisy="  NOISY (max/min ours ${spread%/*}, baseline ${spread#*/})"
	say "RATIO $name: ours/baseline = $r $verdict   [medians s: ours $ours, baseline $base]$noisy"
	# context commands (index ≥ 2)
	cnt=$(grep -c '"command"' "$json")
	for ((i = 2; i < cnt; i++)); do
		label=$(if [ $JSONTOOL = python3 ]; then
			python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["command"])' "$json" $i
		else jq -r ".results[$i].command" "$json"; fi)
		say "      $name: ours/$label = $(div "$ours" "$(median "$json" $i)") (info)   [median s: $(median "$json" $i)]"
	done
	if [ -n "${BASE:-}" ]; then
		cost "$name" "$ours" "$(median "$json" $((cnt - 1)))"
	fi
}

if [ -n "${BASE:-}" ]; then
	for b in dcat dgrep; do [ -x "$BASE/$b" ] || die "BASE: $BASE/$b not found"; done
fi
log "binaries: $BIN   data: $DATA/$F   json: $OUT"
say "# serverless.sh BASE=${BASE:-none} SIZE=$SIZE file=$F runs=$RUNS warmup=$WARMUP $(date -u +%FT%TZ) nproc=$(nproc)"

if [ -n "$ONLY" ]; then log "ONLY='$ONLY': skipping correctness and RSS"; else
# 1. Correctness (first: also warms the page cache, and a hanging binary is
#    caught by timeout before hyperfine would wait on it forever) -----------
TO=600
want_md5=$(md5sum <"$F" | cut -d' ' -f1)
for f in "$F" "$F.gz" "$F.zst"; do
	got=$(timeout $TO "$BIN/dcat" --cfg none --plain "$f" | md5sum | cut -d' ' -f1)
	rc=${PIPESTATUS[0]}
	if [ "$got" = "$want_md5" ] && [ "$rc" = 0 ]; then
		say "CHECK dcat --plain $f: md5 = md5($F) OK"
	else
		say "CHECK dcat --plain $f: FAIL (command: $BIN/dcat --cfg none --plain $f; expected md5 $want_md5 exit 0, got md5 $got exit $rc)"
		FAILED=1
	fi
done
for p in 'status=503' 'status=5[0-9][0-9]' 'action=GET'; do
	want=$(grep "$p" "$F" | md5sum | cut -d' ' -f1)
	wantn=$(grep -c "$p" "$F")
	for f in "$F" "$F.gz" "$F.zst"; do
		got=$(timeout $TO "$BIN/dgrep" --cfg none --plain --regex "$p" "$f" | tee >(wc -l >"$OUT/n") | md5sum | cut -d' ' -f1)
		rc=${PIPESTATUS[0]}
		for _ in $(seq 50); do [ -s "$OUT/n" ] && break; sleep 0.1; done # tee's >(wc) may lag
		gotn=$(tr -d ' ' <"$OUT/n" 2>/dev/null)
		rm -f "$OUT/n"
		if [ "$got" = "$want" ] && [ "$rc" = 0 ]; then
			say "CHECK dgrep --plain --regex '$p' $f: = grep ($wantn lines) OK"
		else
			say "CHECK dgrep --plain --regex '$p' $f: FAIL (expected grep output: $wantn lines md5 $want exit 0; got $gotn lines md5 $got exit $rc)"
			FAILED=1
		fi
	done
done

# 2. Peak RSS ----------------------------------------------------------------
rss() { # rss LABEL cmd...
	local label=$1; shift
	local kb
	/usr/bin/time -f %M -o "$OUT/rss" timeout $TO "$@" | cat >/dev/null
	kb=$(tail -n 1 "$OUT/rss")
	local mb=$((kb / 1024))
	if [ "$mb" -lt 64 ]; then v=PASS; else v=MISS; fi
	say "RSS $label: $mb MB (target < 64) $v   [${kb} KB, output into a pipe]"
}
echo
rss "dcat --plain $F" "$BIN/dcat" --cfg none --plain "$F"
rss "dcat --plain $F.zst" "$BIN/dcat" --cfg none --plain "$F.zst"
rss "dcat --plain $F.gz" "$BIN/dcat" --cfg none --plain "$F.gz"
rss "dgrep --plain --regex status=503 $F" "$BIN/dgrep" --cfg none --plain --regex status=503 "$F"
rss "dgrep --plain --regex action=GET $F" "$BIN/dgrep" --cfg none --plain --regex action=GET "$F"

fi # ONLY

# 3. Timing (perf-anchors §3 command lines) --------------------------------
D="$BIN/dcat --cfg none --plain"
G="$BIN/dgrep --cfg none --plain --regex"

compare "dcat --plain $F into pipe vs cat" 1.3 pipe 1 -- \
	-n dcat "$D $F" -n cat "cat $F"
compare "dcat --plain $F to /dev/null vs cat" - null 1 -- \
	-n dcat "$D $F" -n cat "cat $F"
compare "dcat $F.zst vs zstdcat" - null 1 -- \
	-n dcat "$D $F.zst" -n zstdcat "zstdcat $F.zst"
gzextra=()
[ $HAVE_PIGZ = 1 ] && gzextra=(-n "pigz -dc" "pigz -dc $F.gz")
compare "dcat $F.gz vs zcat" - null 1 -- \
	-n dcat "$D $F.gz" -n zcat "zcat $F.gz" "${gzextra[@]}"

for p in 'status=503' 'status=5[0-9][0-9]' 'action=GET'; do
	t=-
	[ "$p" = status=503 ] && t=1.0
	extra=()
	[ $HAVE_RG = 1 ] && extra=(-n rg "rg $p $F")
	compare "dgrep $p $F vs grep" $t pipe 1 -- \
		-n dgrep "$G $p $F" -n grep "grep $p $F" "${extra[@]}"
done
for p in 'status=503' 'action=GET'; do
	tz=- tg=-
	[ "$p" = status=503 ] && tz=1.0 tg=0.8
	extra=()
	[ $HAVE_RG = 1 ] && extra=(-n "rg -z" "rg -z '$p' $F.zst")
	compare "dgrep $p $F.zst vs zstdcat|grep" $tz pipe 0 -- \
		-n dgrep "$G '$p' $F.zst" -n "zstdcat|grep" "zstdcat $F.zst | grep '$p'" "${extra[@]}"
	extra=()
	[ $HAVE_RG = 1 ] && extra=(-n "rg -z" "rg -z '$p' $F.gz")
	compare "dgrep $p $F.gz vs zcat|grep" $tg pipe 0 -- \
		-n dgrep "$G '$p' $F.gz" -n "zcat|grep" "zcat $F.gz | grep '$p'" "${extra[@]}"
done

echo
echo "==================== summary (also in $SUMMARY; hyperfine JSON in $OUT) ===================="
cat "$SUMMARY"
exit $FAILED
