#!/usr/bin/env bash
# Journal targets with a time window (issue 15): dgrep over a unit's
# journal of 1,000,000 entries (one per second, ~11.6 days), without and
# with a one-hour --since/--until window. The window becomes journalctl
# --since/--until, so journalctl reads only the window. journalctl is
# bench/jmock (a stand-in that produces the entries of the window its
# index would find and counts them). dgrep runs serverless and against a
# loopback dserver (as an unprivileged account when run as root).
#
#   bench/journal.sh                   # 1,000,000 entries
#   ENTRIES=100000 bench/journal.sh    # quick
#   BIN=/dir bench/journal.sh          # use existing binaries
#
# Output: RESULT lines with entries read by journalctl and matches, then
# hyperfine's side-by-side timing of both runs (one hyperfine run).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ENTRIES=${ENTRIES:-1000000}
need_tools go hyperfine

OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtail-journal.XXXXXX")
chmod 755 "$OUT"
DS_PID=
trap 'stop "$DS_PID"; [ -n "${KEEP:-}" ] || rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM
if [ -z "${BIN:-}" ]; then
	BIN=$OUT/bin
	log "building ./cmd/... into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/...) || die "go build failed"
fi
mkdir -p "$OUT/mock"
(cd "$ROOT" && go build -o "$OUT/mock/journalctl" ./bench/jmock) || die "go build jmock failed"

END=$(( $(date +%s) / 3600 * 3600 ))
export JMOCK_ENTRIES=$ENTRIES JMOCK_END=$END PATH="$OUT/mock:$PATH"
# A one-hour window five days before the end of the journal.
SINCE=$(date -u -d "@$((END - 5*86400))" +%Y-%m-%dT%H:%M:%SZ)
UNTIL=$(date -u -d "@$((END - 5*86400 + 3600))" +%Y-%m-%dT%H:%M:%SZ)
FULL="$BIN/dgrep --plain --cfg none --files journal:app.service --grep status=500"
WIN="$FULL --since $SINCE --until $UNTIL"

# The dserver: journal:app.service allowed, the mock first in its PATH
# (inherited), its entry counts in $OUT/cnt.
if [ "$(id -u)" = 0 ]; then
	SRV_USER=${SRV_USER:-dtremote}
	id "$SRV_USER" >/dev/null 2>&1 || useradd -m -U -s /bin/bash "$SRV_USER" || die "useradd $SRV_USER failed"
	AS_SRV=(setpriv "--reuid=$SRV_USER" "--regid=$(id -gn "$SRV_USER")" --init-groups)
else
	SRV_USER=$(id -un)
	AS_SRV=()
fi
mkdir -p "$OUT/cnt" && chmod 777 "$OUT/cnt"
cat >"$OUT/dtail.json" <<'JSON'
{"Server":{"Permissions":{"Default":["readfiles:^journal:app\\.service$"]}}}
JSON
chmod 644 "$OUT/dtail.json"
export JMOCK_COUNT=$OUT/cnt/count
DS_CFG=$OUT/dtail.json start_bench_dserver
RFULL="$BIN/dgrep --plain --cfg none --servers 127.0.0.1:$DS_PORT --trustAllHosts --noColor --auth-key-path $KEY --user $SRV_USER --files journal:app.service --grep status=500"
RWIN="$RFULL --since $SINCE --until $UNTIL"
export HOME=$OUT/home

one() { # name cmd...
	local name=$1
	shift
	rm -f "$JMOCK_COUNT"
	local matches
	matches=$("$@" | wc -l)
	echo "RESULT $name: journalctl produced $(cat "$JMOCK_COUNT") of $ENTRIES entries, $matches matching lines"
}
one "serverless, no window      " $FULL
one "serverless, one-hour window" $WIN
one "dserver, no window         " $RFULL
one "dserver, one-hour window   " $RWIN
hyperfine -N --warmup 1 --runs "${RUNS:-5}" \
	-n "serverless full journal" "$FULL" -n "serverless one-hour window" "$WIN" \
	-n "dserver full journal" "$RFULL" -n "dserver one-hour window" "$RWIN"
