#!/usr/bin/env bash
# prepare_stocks.sh — the monthly stock prices of vega-datasets, for series forecasting.
#
# Fetches the npm package vega-datasets (version pinned below, tarball checked against its
# pinned SHA-1, the `shasum` the npm registry publishes) with `npm pack` into
# datasets/stocks/cache/, then copies two files out of it into datasets/stocks/:
#   stocks.csv  symbol,date,price  — AAPL, AMZN, GOOG, IBM, MSFT, monthly, 2000–2010
#   sp500.csv   date,price         — the S&P 500 index, monthly, 2000–2010
# Both are git-ignored; the cache directory ignores itself (it gets a .gitignore of '*').
# A second run reuses the cached tarball. Needs npm and the npm registry.
set -euo pipefail

VERSION="3.2.1"
SHA1="0357a23aa33e9e2cfba939c9efddbb757bf61888"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/stocks"
cache="$dest/cache"
tgz="$cache/vega-datasets-$VERSION.tgz"

mkdir -p "$cache"
[ -f "$cache/.gitignore" ] || printf '*\n' >"$cache/.gitignore"

have_good_tgz() { [ -f "$tgz" ] && [ "$(sha1sum "$tgz" | cut -d' ' -f1)" = "$SHA1" ]; }

if ! have_good_tgz; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "prepare_stocks.sh: npm is not installed (apt-get install npm)" >&2
        exit 1
    fi
    rm -f "$tgz"
    echo "fetching vega-datasets@$VERSION with npm pack ..."
    (cd "$cache" && npm pack --silent "vega-datasets@$VERSION" >/dev/null)
    if ! have_good_tgz; then
        echo "prepare_stocks.sh: $tgz is missing or its SHA-1 is not $SHA1" >&2
        exit 1
    fi
fi

work="$(mktemp -d "$cache/.extract.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tar -xzf "$tgz" -C "$work" package/data/stocks.csv package/data/sp500.csv
for f in stocks.csv sp500.csv; do
    cp -f "$work/package/data/$f" "$dest/$f"
    rows=$(($(wc -l <"$dest/$f") - 1))
    echo "wrote $dest/$f: $rows rows, sha256 $(sha256sum "$dest/$f" | cut -d' ' -f1)"
done
