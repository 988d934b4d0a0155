#!/usr/bin/env bash
# Cost of dserver's path walk (issue 12 part A: every path opened
# component by component with O_PATH descriptors) against a baseline build
# of dserver, side by side in ONE hyperfine run per comparison.
#
#   BASE_BIN=/dir bench/pathwalk.sh  # /dir/dserver is the baseline (e.g. a
#                                    # build of main before the change)
#   BIN=/dir                         # binaries under test (default: build)
#   FILES=1000 RUNS=10 BIG_RUNS=3    # sizes and hyperfine runs
#   ABRUNS=30 BIG_ABRUNS=5           # interleaved pairs (0: skip)
#   DATA=/dir                        # holds big.log (bench/mkdata.sh)
#
# Both dservers run as the unprivileged account SRV_USER (default
# dtremote) holding CAP_DAC_READ_SEARCH as an ambient capability, like the
# packaged unit, and SRV_USER is also the SSH user, so every file goes
# through the full per-user check. Comparisons:
#   dcat --plain of FILES small files (one glob) through each dserver
#   dgrep --plain --regex status=503 over big.log (~1 GB) through each
# Prints CHECK lines (both servers return the same bytes), RATIO lines
# (new median / baseline median; 1.00 = no cost) and, because hyperfine
# runs all of one command before the other and a busy machine drifts,
# ABRATIO lines from interleaved pairs (new, old, new, old, ...).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FILES=${FILES:-1000}
RUNS=${RUNS:-10}
BIG_RUNS=${BIG_RUNS:-3}
F=big.log
need_tools hyperfine ssh-keygen:openssh-client setpriv:util-linux md5sum:coreutils awk python3
[ -n "${BASE_BIN:-}" ] && [ -x "$BASE_BIN/dserver" ] || die "set BASE_BIN to a directory holding the baseline dserver"
[ -s "$DATA/$F" ] || die "$DATA/$F missing: run bench/mkdata.sh (or set DATA)"
[ "$(id -u)" = 0 ] || die "run as root: the servers run as another account with CAP_DAC_READ_SEARCH"
if [ -z "${BIN:-}" ]; then
	need_tools go
	BIN=$BENCH/bin
	log "building ./cmd/... into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/...) || die "go build failed"
fi

OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtail-pathwalk.XXXXXX")
chmod 755 "$OUT"
NEW_PID= OLD_PID=
cleanup() {
	stop "$NEW_PID"
	stop "$OLD_PID"
	rm -rf "$OUT"
}
trap cleanup EXIT
bench_server_user
CAPS=(--inh-caps +dac_read_search --ambient-caps +dac_read_search)

# Server binaries are copied where the server account can execute them.
mkdir -p "$OUT/new" "$OUT/old"
cp "$BIN/dserver" "$OUT/new/dserver"
cp "$BASE_BIN/dserver" "$OUT/old/dserver"
chmod 755 "$OUT/new/dserver" "$OUT/old/dserver"

start_bench_dserver # sets KEY, the server files under $OUT/srv
stop "$DS_PID"
DS_PID=

# run_server DIR: a dserver from DIR on a free port; sets PORT and PID.
run_server() {
	local bin=$1 p
	PORT=
	for _ in $(seq 100); do
		p=$(awk -v s="$RANDOM$$" 'BEGIN{srand(s); print 20000 + int(rand()*30000)}')
		(: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { PORT=$p; break; }
	done
	[ -n "$PORT" ] || die "no free port"
	(cd "$OUT/srv" && exec "${AS_SRV[@]}" "${CAPS[@]}" "$bin" --cfg none --logger stdout --logLevel warn \
		--bindAddress 127.0.0.1 --port "$PORT" >"$OUT/$(basename "$(dirname "$bin")").log" 2>&1) &
	PID=$!
	for _ in $(seq 200); do
		(: >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		kill -0 "$PID" 2>/dev/null || die "dserver $bin did not start"
		sleep 0.05
	done
	die "dserver $bin did not listen"
}
run_server "$OUT/new/dserver"
NEW_PID=$PID NEW_PORT=$PORT
run_server "$OUT/old/dserver"
OLD_PID=$PID OLD_PORT=$PORT
for p in "$NEW_PID" "$OLD_PID"; do
	cap=$(awk '/^CapEff/{print $2}' "/proc/$p/status")
	(( 0x${cap:-0} & 4 )) || die "dserver $p lacks CAP_DAC_READ_SEARCH (CapEff $cap)"
done

mkdir -p "$OUT/files"
awk -v n="$FILES" -v dir="$OUT/files" 'BEGIN{
	for (f = 0; f < n; f++) {
		p = sprintf("%s/f%04d.log", dir, f)
		for (l = 1; l <= 10; l++) printf "file %04d line %02d some small log payload status=200\n", f, l > p
		close(p)
	}}'
chmod 644 "$OUT"/files/*.log
GLOB="$OUT/files/*.log"

client() { # PORT ARGS...
	local port=$1
	shift
	echo "env HOME=$OUT/home $BIN/$1 --cfg none --plain --noColor --trustAllHosts --servers 127.0.0.1:$port --user $SRV_USER --auth-key-path $KEY ${*:2}"
}
FAIL=0
check() { # NAME CMD_NEW CMD_OLD
	local a b
	a=$(bash -c "$2" 2>/dev/null | sort | md5sum)
	b=$(bash -c "$3" 2>/dev/null | sort | md5sum)
	if [ "$a" = "$b" ]; then echo "CHECK $1: same output from both servers: OK"; else echo "CHECK $1: outputs differ: FAIL"; FAIL=1; fi
}
# compare NAME RUNS CMD_NEW CMD_OLD
compare() {
	local json=$OUT/$1.json
	hyperfine -N --runs "$2" --warmup 1 --export-json "$json" \
		-n "$1 (path walk)" "bash -c \"$3 >/dev/null 2>&1\"" \
		-n "$1 (baseline)" "bash -c \"$4 >/dev/null 2>&1\"" >&2 || { echo "RATIO $1: hyperfine failed FAIL"; FAIL=1; return; }
	python3 - "$json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
new, old = r[0]["median"], r[1]["median"]
print("RATIO %s: path walk median %.3f s (min %.3f), baseline median %.3f s (min %.3f): %.2fx"
      % (sys.argv[2], new, r[0]["min"], old, r[1]["min"], new / old))
PY
}

DCAT_NEW=$(client "$NEW_PORT" dcat --files "'$GLOB'")
DCAT_OLD=$(client "$OLD_PORT" dcat --files "'$GLOB'")
GREP_NEW=$(client "$NEW_PORT" dgrep --regex status=503 --files "$DATA/$F")
GREP_OLD=$(client "$OLD_PORT" dgrep --regex status=503 --files "$DATA/$F")
check "dcat $FILES files" "$DCAT_NEW" "$DCAT_OLD"
check "dgrep $F" "$GREP_NEW" "$GREP_OLD"
log "hyperfine: dcat of $FILES files ..."
compare "dcat-${FILES}-files" "$RUNS" "$DCAT_NEW" "$DCAT_OLD"
log "hyperfine: dgrep over $F ..."
compare "dgrep-$F" "$BIG_RUNS" "$GREP_NEW" "$GREP_OLD"

# interleave NAME PAIRS CMD_NEW CMD_OLD
interleave() {
	[ "$2" -gt 0 ] || return 0
	python3 - "$@" <<'PY'
import statistics, subprocess, sys, time
name, n, new_cmd, old_cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def t(cmd):
    s = time.perf_counter()
    subprocess.run(["bash", "-c", cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - s
new, old = [], []
for _ in range(n):
    new.append(t(new_cmd)); old.append(t(old_cmd))
mn, mo = statistics.median(new), statistics.median(old)
print("ABRATIO %s (%d interleaved pairs): path walk median %.3f s (min %.3f), baseline median %.3f s (min %.3f): %.2fx (min/min %.2fx)"
      % (name, n, mn, min(new), mo, min(old), mn / mo, min(new) / min(old)))
PY
}
log "interleaved pairs ..."
interleave "dcat-${FILES}-files" "${ABRUNS:-30}" "$DCAT_NEW" "$DCAT_OLD"
interleave "dgrep-$F" "${BIG_ABRUNS:-5}" "$GREP_NEW" "$GREP_OLD"
exit $FAIL
