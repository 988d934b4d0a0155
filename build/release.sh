#!/usr/bin/env bash
# Static release builds into dist/ (make release):
#   dist/release/dtail-<version>-<os>-<arch>/  binaries, man/, completions/
#   dist/dtail-<version>-<os>-<arch>.tar.gz
#   dist/SHA256SUMS                            sha256 of every archive and package in dist/
# Linux amd64 and arm64 get every binary; darwin amd64 and arm64 only the
# clients (dtail, dcat, dgrep, dmap, dtailhealth). Builds are pure Go
# (CGO_ENABLED=0), -trimpath, stripped, with the version of build/version.sh
# stamped into internal/version.Version.
#
# Environment: VERSION (override), TARGETS (default
# "linux/amd64 linux/arm64 darwin/amd64 darwin/arm64"), DIST (default dist).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=$(bash build/version.sh)
DIST=${DIST:-dist}
TARGETS=${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
CLIENTS="dtail dcat dgrep dmap dtailhealth"
SERVER="dserver dtail-keycache"
LDFLAGS="-s -w -X github.com/dtail-go/dtail/internal/version.Version=${VERSION}"
# Reproducible archives: file times from the commit.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

echo "release: version ${VERSION}"
mkdir -p "$DIST/release"

docs="$DIST/release/.docs"
rm -rf "$docs"
go run ./build/gendocs -out "$docs" >/dev/null

for target in $TARGETS; do
    os=${target%/*}
    arch=${target#*/}
    bins="$CLIENTS"
    if [[ $os == linux ]]; then bins="$SERVER $CLIENTS"; fi
    name="dtail-${VERSION}-${os}-${arch}"
    out="$DIST/release/$name"
    rm -rf "$out"
    mkdir -p "$out"
    for b in $bins; do
        if [[ ! -f cmd/$b/main.go ]]; then
            echo "release: cmd/$b does not exist yet; skipped" >&2
            continue
        fi
        CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=false \
            -ldflags "$LDFLAGS" -o "$out/$b" "./cmd/$b"
    done
    # Man pages and completions of the binaries in this archive.
    for b in "$out"/*; do
        b=$(basename "$b")
        for f in "$docs"/man/man*/"$b".[158] "$docs/completions/bash/$b" "$docs/completions/zsh/_$b" "$docs/completions/fish/$b.fish"; do
            [[ -f $f ]] || continue
            rel=${f#"$docs"/}
            mkdir -p "$out/$(dirname "$rel")"
            cp "$f" "$out/$rel"
        done
    done
    if [[ $os == linux ]]; then
        mkdir -p "$out/man/man5" "$out/packaging"
        cp "$docs/man/man5/dtail.json.5" "$out/man/man5/"
        cp packaging/dserver.service packaging/dtail-keycache.service packaging/dtail-keycache.timer packaging/dtail.json "$out/packaging/"
    fi
    tar --sort=name --mtime="@${SOURCE_DATE_EPOCH}" --owner=0 --group=0 --numeric-owner \
        -C "$DIST/release" -czf "$DIST/$name.tar.gz" "$name"
    built=""
    for b in $bins; do [[ -f $out/$b ]] && built+=" $b"; done
    echo "release: $DIST/$name.tar.gz (${built# })"
done
rm -rf "$docs"

bash build/checksums.sh "$DIST" "$VERSION"
