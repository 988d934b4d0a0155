#!/usr/bin/env bash
# Writes DIR/SHA256SUMS for every archive and package directly in DIR.
set -euo pipefail
dir=${1:-dist}
cd "$dir"
shopt -s nullglob
files=(*.tar.gz *.deb *.rpm)
if ((${#files[@]} == 0)); then
    echo "checksums: nothing to sum in $dir" >&2
    exit 1
fi
sha256sum "${files[@]}" > SHA256SUMS
echo "checksums: $dir/SHA256SUMS (${#files[@]} files)"
