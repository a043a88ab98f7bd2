#!/usr/bin/env bash
# Build the libFuzzer targets and run each over its seed corpus:
#   fuzz_spec  the spec tree (lib/spec/cfg*.c, with the project's schema table)
#   fuzz_data  the data readers (lib/data: IDX plain and gzip, CSV, text and its token stream)
#
#   tests/fuzz/build.sh [SECONDS]      (per target; default 60; 0 = build only)
#
# Needs clang with libFuzzer (Debian: clang-14, libclang-rt-14-dev). Compiles the targets
# directly against the sources with ASan + UBSan + libFuzzer; CMake does not see them (its test
# glob is tests/test_*.c). Output goes to $FUZZ_OUT (default build-fuzz/, git-ignored): the
# binaries, the growing working corpora, and crash-* / leak-* / timeout-* / oom-* artifacts. A
# spec crash input belongs in tests/fuzz/regressions/ once fixed: test_cfg replays every file
# there. The data target runs with a 1 GiB malloc limit: an allocation the file does not justify
# (a header promising more than it holds) is a finding.
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

mkdir -p "$out/corpus" "$out/corpus_data" "$out/artifacts"
flags=(-std=c11 -g -O1 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I "$root/lib" -I "$root/lib/core")
"$cc" "${flags[@]}" $(pkg-config --cflags yaml-0.1) \
    "$here/fuzz_spec.c" "$root"/lib/spec/cfg*.c "$root/lib/core/strbuf.c" "$root/lib/core/error.c" "${extra[@]}" \
    $(pkg-config --libs yaml-0.1) -o "$out/fuzz_spec"
"$cc" "${flags[@]}" "$here/fuzz_data.c" "$root"/lib/data/{idx,csv,text,dataset}.c "$root/lib/core/error.c" \
    "$root/lib/core/rng.c" "$root/lib/core/parallel.c" -lz -lm -lpthread -o "$out/fuzz_data"
echo "built $out/fuzz_spec $out/fuzz_data"
[ "$secs" -gt 0 ] || exit 0

# The first corpus directory receives new interesting inputs; the seeds stay untouched.
"$out/fuzz_spec" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -dict="$here/spec.dict" -artifact_prefix="$out/artifacts/" -print_final_stats=1 \
    "$out/corpus" "$here/corpus"
exec "$out/fuzz_data" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -artifact_prefix="$out/artifacts/data-" -print_final_stats=1 \
    "$out/corpus_data" "$here/corpus_data"
