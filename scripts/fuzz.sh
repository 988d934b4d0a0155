#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 5s).
# The committed corpora under testdata/fuzz are replayed by plain
# `go test` as well.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-5s}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for name in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $name ($t)"
    ok=0
    for attempt in 1 2; do
      if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$pkg" >/tmp/fuzz.$$.log 2>&1; then ok=1; break; fi
      # The fuzzing engine itself sometimes ends with "context deadline
      # exceeded" when -fuzztime runs out mid-input (no failing input is
      # written then); only a written failing input is a finding.
      grep -q "Failing input written to" /tmp/fuzz.$$.log && break
      grep -q "context deadline exceeded" /tmp/fuzz.$$.log || break
      echo "  (fuzzing engine timed out without a finding; once more)"
    done
    [ "$ok" = 1 ] || { cat /tmp/fuzz.$$.log; rm -f /tmp/fuzz.$$.log; exit 1; }
  done
done
rm -f /tmp/fuzz.$$.log
