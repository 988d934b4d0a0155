#!/usr/bin/env bash
# Load tests with larger parameters than CI (NOT run in CI):
#
#   bench/load.sh                                  # the CI sizes, once
#   SECONDS_=60 FOLLOWERS=50 RATE=50000 DGREP=400 bench/load.sh
#
# Runs TestLoad* of internal/e2e:
#   TestLoadFollowers50   FOLLOWERS remote dtail clients follow one file that
#                         grows at RATE lines/s for SECONDS_ s; every follower
#                         must print every line exactly once.
#   TestLoadDgrep200      DGREP concurrent dgrep sessions against one server
#                         with MaxConcurrentCats 2: all queue, none fails.
#   TestLoadHealthUnderMaxConnections
#                         dtailhealth while followers hold MaxConnections
#                         slots (documents that no slot is reserved for health).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools go
export DTAIL_LOAD_SECONDS=${SECONDS_:-10}
export DTAIL_LOAD_FOLLOWERS=${FOLLOWERS:-50}
export DTAIL_LOAD_RATE=${RATE:-50000}
export DTAIL_LOAD_DGREP=${DGREP:-200}
cd "$ROOT" || exit 1
go test -count=1 -timeout 60m -run "${ONLY:-^TestLoad}" -v ./internal/e2e/ 2>&1 | grep -E '^(--- |ok|FAIL|PASS)|^\s+(--- |faults)'
exit "${PIPESTATUS[0]}"
