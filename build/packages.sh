#!/usr/bin/env bash
# .deb and .rpm packages of the server (dtail-server) and of the clients
# (dtail-clients) for linux amd64 and arm64 into dist/ (make packages),
# built by nfpm from packaging/nfpm-{server,clients}.yaml. Uses the linux
# builds of build/release.sh (built here if missing) and refreshes
# dist/SHA256SUMS.
#
# nfpm runs as a tool through `go run module@version`: it is not a
# dependency of our module. v2.45.2 is the newest release whose
# dependencies the Go module proxy serves here (v2.46+ need
# go.digitalxero.dev modules that it refuses).
#
# Environment: VERSION, ARCHES (default "amd64 arm64"), FORMATS (default
# "deb rpm"), DIST (default dist), NFPM_VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=$(bash build/version.sh)
export VERSION
DIST=${DIST:-dist}
ARCHES=${ARCHES:-amd64 arm64}
FORMATS=${FORMATS:-deb rpm}
NFPM_VERSION=${NFPM_VERSION:-v2.45.2}
# Package versions: the first "-" becomes "+" and the others "." (4.3.2-go-gabc
# -> 4.3.2+go.gabc), valid for dpkg and rpm alike and still sorting by the
# release number first.
PKG_VERSION=$(echo "$VERSION" | sed -e 's/-/+/' -e 's/-/./g')
export PKG_VERSION

nfpm() { GOFLAGS='' go run "github.com/goreleaser/nfpm/v2/cmd/nfpm@${NFPM_VERSION}" "$@"; }

docs="$DIST/pkgstage/docs"
rm -rf "$DIST/pkgstage"
go run ./build/gendocs -out "$docs" >/dev/null

# stage PKG ARCH BINARIES...: bin/, gzipped man pages, completions.
stage() {
    local pkg=$1 arch=$2
    shift 2
    local dir="$DIST/pkgstage/$pkg-$arch" rel="$DIST/release/dtail-${VERSION}-linux-${arch}"
    mkdir -p "$dir/bin" "$dir/man/man1" "$dir/man/man5" "$dir/man/man8" "$dir/bash" "$dir/zsh" "$dir/fish"
    for b in "$@"; do
        [[ -f $rel/$b ]] || continue
        cp "$rel/$b" "$dir/bin/"
        for m in "$docs"/man/man*/"$b".[158]; do
            [[ -f $m ]] || continue
            local sec
            sec=$(basename "$(dirname "$m")")
            gzip -9n < "$m" > "$dir/man/$sec/$(basename "$m").gz"
        done
        cp "$docs/completions/bash/$b" "$dir/bash/"
        cp "$docs/completions/zsh/_$b" "$dir/zsh/"
        cp "$docs/completions/fish/$b.fish" "$dir/fish/"
    done
    if [[ $pkg == server ]]; then
        gzip -9n < "$docs/man/man5/dtail.json.5" > "$dir/man/man5/dtail.json.5.gz"
    fi
    echo "$dir"
}

for arch in $ARCHES; do
    if [[ ! -x $DIST/release/dtail-${VERSION}-linux-${arch}/dserver ]]; then
        TARGETS="linux/$arch" DIST="$DIST" bash build/release.sh
    fi
    for pkg in server clients; do
        if [[ $pkg == server ]]; then
            STAGE=$(stage server "$arch" dserver dtail-keycache)
        else
            STAGE=$(stage clients "$arch" dtail dcat dgrep dmap dtailhealth)
        fi
        export STAGE ARCH=$arch
        for fmt in $FORMATS; do
            nfpm package --config "packaging/nfpm-$pkg.yaml" --packager "$fmt" --target "$DIST/" |
                sed "s/^/packages: /"
        done
    done
done
rm -rf "$DIST/pkgstage"
shopt -s nullglob
for f in "$DIST"/*.deb "$DIST"/*.rpm; do
    printf 'packages: %10d  %s\n' "$(stat -c %s "$f")" "$f"
done
bash build/checksums.sh "$DIST" "$VERSION"
