#!/usr/bin/env bash
# test.sh — the whole test suite, from a fresh machine: installs what is missing, builds, runs
# every CUnit test through CTest in a Release build and again under ASan+UBSan, most of them under
# valgrind memcheck (scripts/valgrind.sh), and runs a short fuzzing pass over the spec reader.
# First it checks that lib/ and runner/ include each other in no circle.
# Exit status non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-build
jobs=$(nproc)

echo "== include graph (no circles: scripts/include_cycles.py)"
python3 scripts/include_cycles.py

echo "== release build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== sanitizer build (ASan+UBSan) and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DEXPRUN_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== valgrind memcheck (scripts/valgrind.sh: every test program but the slow ones it lists)"
bash scripts/valgrind.sh

if [ -x tests/fuzz/build.sh ] || [ -f tests/fuzz/build.sh ]; then
  echo "== short fuzzing pass over the spec reader"
  bash tests/fuzz/build.sh 30
fi
echo "== all tests passed"
