#!/usr/bin/env bash
# vendor_uplot.sh — fetch uPlot from the npm registry into runner/report/ (the charts of `exprun
# report`, inlined into every report by the build: cmake/embed.cmake). The tarball's SHA-256 is
# checked, so the files in the repository are exactly the published ones; run it only to move to
# another version (then change VERSION and SHA256 below, and report.c's credit line).
set -euo pipefail
VERSION=1.6.32
SHA256=4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "uplot@$VERSION" --silent >/dev/null)
echo "$SHA256  $work/uplot-$VERSION.tgz" | sha256sum --check --quiet
tar -xzf "$work/uplot-$VERSION.tgz" -C "$work"
cp "$work/package/dist/uPlot.iife.min.js" "$work/package/dist/uPlot.min.css" runner/report/
cp "$work/package/LICENSE" runner/report/uPlot.LICENSE
echo "vendor_uplot.sh: uPlot $VERSION in runner/report/ (uPlot.iife.min.js, uPlot.min.css, uPlot.LICENSE)"
