#!/usr/bin/env bash
# Build the libFuzzer target for the spec tree and run it over the seed corpus.
#
#   tests/fuzz/build.sh [SECONDS]      (default 60; 0 = build only)
#
# Needs clang with libFuzzer (Debian: clang-14, libclang-rt-14-dev). Compiles
# tests/fuzz/fuzz_spec.c directly against the spec tree (lib/spec/cfg*.c) and lib/error.c
# with ASan + UBSan + libFuzzer, plus the project's schema table (lib/spec/schema.c, which
# needs nothing but cfg.h) when it exists, so inputs are validated against the real schema
# too. CMake does not see this target (its test glob is tests/test_*.c).
# Output goes to $FUZZ_OUT (default build-fuzz/, git-ignored): the binary, the growing
# working corpus, and crash-* / leak-* / timeout-* artifacts. A crash input belongs in
# tests/fuzz/regressions/ once fixed: test_cfg replays every file there.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-60}
out=${FUZZ_OUT:-$root/build-fuzz}
cc=${FUZZ_CC:-$(command -v clang-14 || command -v clang)}

extra=()
if [ -f "$root/lib/spec/schema.c" ]; then
    extra=("$root/lib/spec/schema.c" -DFUZZ_WITH_SPEC_SCHEMA)
fi

mkdir -p "$out/corpus" "$out/artifacts"
"$cc" -std=c11 -g -O1 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I "$root/lib" $(pkg-config --cflags yaml-0.1) \
    "$here/fuzz_spec.c" "$root"/lib/spec/cfg*.c "$root/lib/error.c" "${extra[@]}" \
    $(pkg-config --libs yaml-0.1) -o "$out/fuzz_spec"
echo "built $out/fuzz_spec"
[ "$secs" -gt 0 ] || exit 0

# The first corpus directory receives new interesting inputs; the seeds stay untouched.
exec "$out/fuzz_spec" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -dict="$here/spec.dict" -artifact_prefix="$out/artifacts/" -print_final_stats=1 \
    "$out/corpus" "$here/corpus"
