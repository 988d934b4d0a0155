#!/usr/bin/env bash
# Soak test (NOT run in CI): one dserver, 20 remote `dtail` followers of a
# log written at a steady rate and rotated (rename) every 30 s; every
# ~10 s one of the 10 "killable" followers is SIGKILLed and replaced; one
# dcat client is SIGSTOPped to exercise the server's 60 s stall timeout.
#
#   bench/soak.sh                  # 30 minutes
#   DURATION=180 bench/soak.sh     # seconds
#   FOLLOWERS=20 ROTATE=30 KILL=10 RATE=2000 bench/soak.sh
#
# It runs TestSoak of internal/e2e (the e2e harness: binaries built once,
# dserver and clients as the unprivileged user dte2e when run as root) and
# prints its SOAK lines:
#   SOAK t=…            progress every 30 s (lines written, rotations, kills,
#                       server goroutines, fds, RSS)
#   SOAK stall: …       when the server closed the stalled session
#   SOAK followers: …   lines expected / received / missing / duplicated
#                       (survivors: from their first line to the end; killed
#                       followers: from their first to their last line)
#   SOAK server: …      leaked goroutines and fds after all clients left,
#                       RSS at start and end, peak RSS
# Exit status 0 only when nothing was lost, duplicated or leaked.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools go

DURATION=${DURATION:-1800}
export DTAIL_SOAK_SECONDS=$DURATION
export DTAIL_SOAK_FOLLOWERS=${FOLLOWERS:-20}
export DTAIL_SOAK_ROTATE_SECONDS=${ROTATE:-30}
export DTAIL_SOAK_KILL_SECONDS=${KILL:-10}
export DTAIL_SOAK_RATE=${RATE:-2000}
log "soak for $DURATION s: $DTAIL_SOAK_FOLLOWERS followers, rotation every $DTAIL_SOAK_ROTATE_SECONDS s, a kill every ~$DTAIL_SOAK_KILL_SECONDS s, $DTAIL_SOAK_RATE lines/s"
cd "$ROOT" || exit 1
out=$(mktemp "${TMPDIR:-/tmp}/dtail-soak.XXXXXX")
go test -count=1 -timeout "$((DURATION + 600))s" -run '^TestSoak$' -v ./internal/e2e/ >"$out" 2>&1
rc=$?
grep -E '^SOAK |^--- |^\s+faults.*_test.go' "$out"
[ $rc = 0 ] && echo "SOAK result: PASS" || echo "SOAK result: FAIL (full log: $out)"
[ $rc = 0 ] && rm -f "$out"
exit $rc
