#!/usr/bin/env bash
# Runs every test of the project: go vet, the race-enabled test suite
# (unit and end-to-end), a short run of every fuzz target and a build of
# every binary. .ci/run calls exactly this script (through `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== go vet"
go vet ./...
echo "== build"
go build -o bin/ ./cmd/...
echo "== cross-build of the clients for darwin (make release ships them)"
GOOS=darwin GOARCH=arm64 go build ./cmd/dcat ./cmd/dgrep ./cmd/dtail ./cmd/dmap ./cmd/dtailhealth
echo "== go test -race"
go test -race -count=1 -timeout 15m ./...
echo "== fuzz (short)"
FUZZTIME="${FUZZTIME:-5s}" bash scripts/fuzz.sh
if [ "$(id -u)" = 0 ] && command -v dpkg >/dev/null; then
  echo "== packages (build, install, run the packaged dserver, purge)"
  bash build/test-packages.sh
else
  echo "== packages: skipped (needs root and dpkg)"
fi
