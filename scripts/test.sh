#!/usr/bin/env bash
# Every test: the GoogleTest suite through ctest, then pytest. Runs both even
# when the first fails; exits non-zero when either failed.
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

py_rc=0
"$VENV/bin/python" -m pytest "$@" || py_rc=$?

echo "[test] C++ (ctest): $([[ $cpp_rc -eq 0 ]] && echo ok || echo "FAILED (exit $cpp_rc)")"
echo "[test] Python (pytest): $([[ $py_rc -eq 0 ]] && echo ok || echo "FAILED (exit $py_rc)")"
if [[ $cpp_rc -ne 0 || $py_rc -ne 0 ]]; then
  exit 1
fi
