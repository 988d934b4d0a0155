#!/usr/bin/env bash
# checksums.sh DIR VERSION: writes DIR/SHA256SUMS for the archives and
# packages of VERSION directly in DIR (older versions left in DIR are not
# listed).
set -euo pipefail
dir=${1:-dist}
version=${2:?usage: checksums.sh DIR VERSION}
pkg_version=$(echo "$version" | sed -e 's/-/+/' -e 's/-/./g')
cd "$dir"
shopt -s nullglob
files=(dtail-"$version"-*.tar.gz dtail-*_"$pkg_version"-1_*.deb dtail-*-"$pkg_version"-1.*.rpm)
if ((${#files[@]} == 0)); then
    echo "checksums: nothing of version $version in $dir" >&2
    exit 1
fi
sha256sum "${files[@]}" > SHA256SUMS
echo "checksums: $dir/SHA256SUMS (${#files[@]} files)"
