#!/usr/bin/env bash
# Journal targets with a time window (issue 15): dgrep over a unit's
# journal of 1,000,000 entries (one per second, ~11.6 days), without and
# with a one-hour --since/--until window. The window becomes journalctl
# --since/--until, so journalctl reads only the window. journalctl is
# bench/jmock (a stand-in that produces the entries of the window its
# index would find and counts them); dgrep runs serverless, which is the
# same session code as dserver.
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
trap '[ -n "${KEEP:-}" ] || rm -rf "$OUT"' EXIT
if [ -z "${BIN:-}" ]; then
	BIN=$OUT/bin
	log "building dgrep into $BIN"
	(cd "$ROOT" && go build -o "$BIN/" ./cmd/dgrep) || die "go build failed"
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

one() { # name cmd...
	local name=$1
	shift
	rm -f "$OUT/count"
	local matches
	matches=$(JMOCK_COUNT=$OUT/count "$@" | wc -l)
	echo "RESULT $name: journalctl produced $(cat "$OUT/count") of $ENTRIES entries, $matches matching lines"
}
one "no window      " $FULL
one "one-hour window" $WIN
hyperfine -N --warmup 1 --runs "${RUNS:-5}" -n "dgrep full journal" "$FULL" -n "dgrep one-hour window" "$WIN"
