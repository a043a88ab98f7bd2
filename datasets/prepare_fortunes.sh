#!/usr/bin/env bash
# prepare_fortunes.sh — assemble the Debian `fortunes` cookie files into one training text,
# datasets/fortunes/fortunes.txt, for the character-level recurrent models.
#
# What goes in: every regular file directly in the fortunes directory, in byte-wise sorted
# order of names (LC_ALL=C), except the strfile indexes (*.dat), the *.u8 variants, symlinks,
# and the offensive collection (the off/ directory, not installed by default anyway). Each
# file's strings stay as in the source: separated by a line holding only '%'. A file whose last
# line is not '%' gets one, so the last string of one file never runs into the first of the
# next. Bytes are copied as they are (some cookies use backspace overstriking; the byte-level
# vocabulary learns it like any other character).
#
# Installs nothing: scripts/setup.sh installs the `fortunes` package. Override the source
# directory with FORTUNES_DIR. Prints the size and SHA-256 of the result, which is the same on
# every machine with the same package version.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="${FORTUNES_DIR:-/usr/share/games/fortunes}"
out_dir="$here/fortunes"
out="$out_dir/fortunes.txt"

if [ ! -d "$src" ]; then
    echo "prepare_fortunes.sh: $src does not exist: the Debian package 'fortunes' is not installed" >&2
    echo "  install it with scripts/setup.sh (or: apt-get install fortunes)" >&2
    exit 1
fi

mapfile -t files < <(
    cd "$src" &&
    find . -maxdepth 1 -type f ! -name '*.dat' ! -name '*.u8' ! -name '.*' -printf '%f\n' |
    LC_ALL=C sort
)
if [ "${#files[@]}" -eq 0 ]; then
    echo "prepare_fortunes.sh: no fortune files in $src (is the 'fortunes' package installed?)" >&2
    exit 1
fi

mkdir -p "$out_dir"
tmp="$(mktemp "$out_dir/.fortunes.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
for f in "${files[@]}"; do
    path="$src/$f"
    [ -s "$path" ] || continue
    cat -- "$path" >>"$tmp"
    # End with a newline, then with a '%' separator line if the file lacks one.
    if [ "$(tail -c 1 -- "$path" | od -An -tx1 | tr -d ' \n')" != "0a" ]; then
        printf '\n' >>"$tmp"
    fi
    if [ "$(tail -n 1 -- "$tmp")" != "%" ]; then
        printf '%%\n' >>"$tmp"
    fi
done
mv -f "$tmp" "$out"
trap - EXIT

bytes=$(wc -c <"$out")
strings=$(grep -c -x '%' "$out" || true)
sha=$(sha256sum "$out" | cut -d' ' -f1)
echo "wrote $out"
echo "  files:   ${#files[@]} from $src"
echo "  strings: $strings"
echo "  bytes:   $bytes"
echo "  sha256:  $sha"
