#!/usr/bin/env bash
# Prints the release version: $VERSION if set; else the nearest git tag
# without its leading "v" as `git describe --tags --dirty` gives it
# (4.4.0, 4.4.0-3-gabc1234, 4.4.0-dirty); else, with no tag at all, the
# source default of internal/version with the commit appended
# (4.3.2-go-gabc1234). The result is one word, so the §1.1 version line
# "DTail <version> Protocol 4.1 Have a lot of fun!" keeps its format.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${VERSION:-}" ]]; then
    v="$VERSION"
elif d=$(git describe --tags --dirty 2>/dev/null); then
    v="${d#v}"
else
    base=$(sed -n 's/^var Version = "\(.*\)"$/\1/p' internal/version/version.go)
    sha=$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
    dirty=""
    if ! git diff --quiet HEAD -- 2>/dev/null; then dirty="-dirty"; fi
    v="${base:-0.0.0}-g${sha}${dirty}"
fi
if [[ ! "$v" =~ ^[0-9A-Za-z][0-9A-Za-z.+~_-]*$ ]]; then
    echo "version.sh: unusable version '$v' (one word of [0-9A-Za-z.+~_-] expected)" >&2
    exit 1
fi
echo "$v"
