#!/usr/bin/env bash
# Streaming stdin: latency of `tail -f FILE | dgrep --plain --grep X` and
# throughput of `cat big.log | dgrep` (issue 17).
#
#   bench/stdin-latency.sh                 # ours vs grep --line-buffered
#   BASE=/dir bench/stdin-latency.sh       # also a baseline build (e.g. main before the change)
#   BIN=/dir                               # use existing binaries instead of building
#   N=100                                  # timed lines per command
#   SIZE=small                             # throughput on med.log (100 MB) instead of big.log (1 GB)
#   SKIP_THROUGHPUT=1                      # latency only
#
# Output:
#   LATENCY <cmd>: median X ms, p90 Y ms, max Z ms (N lines)   (or STALLED: ...)
#   RATIO   cat|dgrep throughput: ours/base = X.XX             (one hyperfine run)
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${N:-100}
SIZE=${SIZE:-full}
case $SIZE in
full) F=big.log ;;
small) F=med.log ;;
*) die "SIZE must be 'full' or 'small', got '$SIZE'" ;;
esac
need_tools go tail:coreutils hyperfine

if [ -z "${BIN:-}" ]; then
	BIN=$BENCH/bin
	log "building ./cmd/... into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/...) || die "go build failed"
fi
[ -x "$BIN/dgrep" ] || die "$BIN/dgrep not found"
LAT=$(mktemp -d "${TMPDIR:-/tmp}/stdinlat.XXXXXX")
trap 'rm -rf "$LAT"' EXIT
(cd "$ROOT" && go build -o "$LAT/stdinlat" ./bench/stdinlat) || die "go build stdinlat failed"

log "load: $(uptime)"
cmds=("grep --line-buffered MARK")
[ -n "${BASE:-}" ] && cmds+=("$BASE/dgrep --plain --cfg none --grep MARK")
cmds+=("$BIN/dgrep --plain --cfg none --grep MARK")
"$LAT/stdinlat" -n "$N" "${cmds[@]}"

[ -n "${SKIP_THROUGHPUT:-}" ] && exit 0
[ -f "$DATA/$F" ] || SIZE=$SIZE "$BENCH/mkdata.sh" >&2 || die "mkdata failed"
log "load: $(uptime)"
names=()
hcmds=()
if [ -n "${BASE:-}" ]; then
	names+=(base)
	hcmds+=("cat $DATA/$F | $BASE/dgrep --plain --cfg none --grep status=503 > /dev/null")
fi
names+=(ours)
hcmds+=("cat $DATA/$F | $BIN/dgrep --plain --cfg none --grep status=503 > /dev/null")
hcmds+=("cat $DATA/$F | $BIN/dcat --plain --cfg none > /dev/null")
[ -n "${BASE:-}" ] && hcmds+=("cat $DATA/$F | $BASE/dcat --plain --cfg none > /dev/null")
hyperfine --runs "${RUNS:-5}" --warmup "${WARMUP:-1}" --export-json "$LAT/h.json" "${hcmds[@]}" >&2 || die "hyperfine failed"
if [ -n "${BASE:-}" ]; then
	python3 - "$LAT/h.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
m = [x["median"] for x in r]
print("RATIO   cat|dgrep status=503 throughput: ours/base = %.3f (base %.2f s, ours %.2f s)" % (m[1] / m[0], m[0], m[1]))
print("RATIO   cat|dcat throughput: ours/base = %.3f (base %.2f s, ours %.2f s)" % (m[2] / m[3], m[3], m[2]))
EOF
fi
log "load: $(uptime)"
