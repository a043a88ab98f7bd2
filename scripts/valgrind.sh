#!/usr/bin/env bash
# valgrind.sh — the CUnit test programs under valgrind memcheck; for the DEEP ones (and with
# --all) the exprun processes they start too (EXPRUN_BIN points at a wrapper), so training,
# resume, signals and the bad-input paths of the program are checked as well as the library.
#
# A memcheck error or a definitely lost block fails the pass (--error-exitcode=1,
# --leak-check=full --errors-for-leak-kinds=definite). Blocks that OpenBLAS and HDF5 keep until
# exit (thread pools, library state) are "still reachable" and not errors.
#
#   usage: scripts/valgrind.sh [--all] [test_NAME ...]
#     (none)   every tests/test_*.c program except the SLOW ones below — what CI runs
#              (scripts/test.sh); 2 to 5 minutes on 2 cores
#     --all    the SLOW ones too, and every exprun the tests start under valgrind (over 30 min)
#     names    only these programs
# Two programs run at a time (nproc). Logs: build-valgrind/valgrind/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Not in the default pass: test_exploding trains a 100-step RNN in-process, over 15 minutes
# under valgrind (run it with --all).
SLOW=(test_exploding)
# Programs whose exprun processes run under valgrind in the default pass (with --all: every
# program's, but NATIVE's). The others start the plain exprun, and only the test program (with
# the library code it calls: loading checkpoints, reading results) is checked.
DEEP=(test_e2e)
# Never wrapped: test_kill SIGKILLs its runs, and a killed process gets no memcheck report.
NATIVE=(test_kill)

all=0
picked=()
for a in "$@"; do
  case "$a" in
    --all) all=1 ;;
    test_*) picked+=("$a") ;;
    *) echo "usage: scripts/valgrind.sh [--all] [test_NAME ...]" >&2; exit 2 ;;
  esac
done

command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (scripts/setup.sh)" >&2; exit 2; }

build=build-valgrind
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXPRUN_SANITIZE=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

logs="$root/$build/valgrind"
rm -rf "$logs"
mkdir -p "$logs"
VG=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
    --error-markers=VGERR-BEGIN,VGERR-END --suppressions="$root/tests/valgrind.supp")

# The wrapper the tests start instead of exprun: one log per process, non-empty on any error.
wrapper="$root/$build/exprun-valgrind"
cat > "$wrapper" <<EOF
#!/bin/sh
exec ${VG[*]} --log-file="$logs/exprun.%p.log" "$root/$build/exprun" "\$@"
EOF
chmod +x "$wrapper"

if [ ${#picked[@]} -eq 0 ]; then
  for src in tests/test_*.c; do
    name=$(basename "$src" .c)
    if [ $all -eq 0 ] && [[ " ${SLOW[*]} " == *" $name "* ]]; then continue; fi
    picked+=("$name")
  done
fi

run_one() {
  local name=$1 start=$SECONDS rc=0 bin="$root/$build/exprun"
  if [ $all -eq 1 ] || [[ " ${DEEP[*]} " == *" $name "* ]]; then bin="$wrapper"; fi
  if [[ " ${NATIVE[*]} " == *" $name "* ]]; then bin="$root/$build/exprun"; fi
  ( cd "$root/$build" &&
    EXPRUN_BIN="$bin" EXPRUN_SOURCE_DIR="$root" OPENBLAS_NUM_THREADS=1 EXPRUN_TEST_SLOW=1 \
      timeout 1800 "${VG[@]}" "./$name" >"$logs/$name.log" 2>&1 ) || rc=$?
  local status=ok
  [ $rc -eq 0 ] || status="FAILED (exit $rc)"
  printf '%-22s %4d s  %s\n' "$name" $((SECONDS - start)) "$status"
  return $rc
}

echo "valgrind memcheck: ${#picked[@]} programs, $(nproc) at a time"
failed=0
running=0
for name in "${picked[@]}"; do
  run_one "$name" &
  running=$((running + 1))
  if [ $running -ge "$(nproc)" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ $running -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done

# Errors in exprun processes whose exit status a test did not check closely enough, and in
# forked children of test programs: every memcheck error is wrapped in VGERR markers (warnings,
# e.g. about an unknown ioctl, are not).
for f in "$logs"/*.log; do
  if grep -q "VGERR-BEGIN" "$f"; then
    echo "valgrind.sh: memcheck errors in $f:" >&2
    sed -n '/VGERR-BEGIN/,/VGERR-END/p' "$f" | head -60 >&2
    failed=1
  fi
done
if [ $failed -ne 0 ]; then
  echo "valgrind.sh: FAILED (logs in $logs)" >&2
  exit 1
fi
echo "valgrind.sh: no memcheck errors, no definite leaks"
