#!/usr/bin/env bash
# Every test: the GoogleTest suite through ctest, the sanitizer job
# (scripts/sanitize.sh: ASan + UBSan over every C++ test, TSan over the
# threaded ones), then pytest (the property tests included). Runs all three
# even when one fails; exits non-zero when any failed.
# Environment: JOBS (build jobs, default nproc), SIREN_SKIP_SANITIZE=1 (leave
# the sanitizer job out of a quick local run; CI never sets it).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh || { echo "[test] setup failed" >&2; exit 1; }

VENV="$ROOT/.venv"
export PATH="$VENV/bin:$PATH"
JOBS="${JOBS:-$(nproc)}"

# A tree configured with another generator cannot be reused: start it afresh.
if [[ -f build/cpp/CMakeCache.txt ]] &&
   ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' build/cpp/CMakeCache.txt; then
  rm -rf build/cpp
fi

cpp_rc=0
{
  cmake -S . -B build/cpp -G Ninja -DSIREN_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release \
    -DPython3_EXECUTABLE="$VENV/bin/python" &&
  cmake --build build/cpp -j "$JOBS" &&
  ctest --test-dir build/cpp --output-on-failure -j "$JOBS"
} || cpp_rc=$?

san_rc=0
if [[ "${SIREN_SKIP_SANITIZE:-0}" == "1" ]]; then
  san_rc=skipped
else
  JOBS="$JOBS" bash scripts/sanitize.sh || san_rc=$?
fi

py_rc=0
"$VENV/bin/python" -m pytest "$@" || py_rc=$?

status() {
  case $1 in
    0) echo ok ;;
    skipped) echo "skipped (SIREN_SKIP_SANITIZE=1)" ;;
    *) echo "FAILED (exit $1)" ;;
  esac
}
echo "[test] C++ (ctest): $(status $cpp_rc)"
echo "[test] C++ sanitizers (scripts/sanitize.sh): $(status $san_rc)"
echo "[test] Python (pytest): $(status $py_rc)"
if [[ $cpp_rc != 0 || ($san_rc != 0 && $san_rc != skipped) || $py_rc != 0 ]]; then
  exit 1
fi
