#!/usr/bin/env bash
# The sanitizer job (issue 17): two extra CMake trees beside build/cpp, each
# building only siren_tests (no Python module, no torch trainer):
#   build/asan  AddressSanitizer + UndefinedBehaviorSanitizer, the whole
#               GoogleTest suite;
#   build/tsan  ThreadSanitizer, the tests that run threads: the vector env,
#               the thread pool and the baselines evaluated on a pool.
# Every finding is fatal (halt_on_error, -fno-sanitize-recover=undefined):
# the script prints a summary and exits non-zero when either job failed.
# Environment: JOBS (build jobs, default nproc), SANITIZE_ONLY=asan|tsan
# (run one job), CMAKE (default: cmake from PATH, then .venv/bin).
# Uses the compilers' own runtimes: on Debian 12 libasan8, libubsan1 and
# libtsan2 come with g++ (build-essential -> g++-12 -> libgcc-12-dev).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -d "$ROOT/.venv/bin" ]]; then export PATH="$PATH:$ROOT/.venv/bin"; fi
JOBS="${JOBS:-$(nproc)}"
ONLY="${SANITIZE_ONLY:-}"

log() { echo "[sanitize] $*" >&2; }

# The threaded tests: the vector env, the thread pool, and the baselines
# (policy evaluation, grid search, CEM, the oracle static search) that fan
# out over a pool, and sgd simulations with deep nets on parallel threads.
TSAN_FILTER='VectorEnv*:ThreadPool*:EvaluationTest.*:GridSearchTest.*:CemTest.*:OracleStaticTest.ResultsDoNotDependOn*:SgdDeepTest.ThreadsDoNotChangeLosses'

# build_tree <dir> <sanitizers>: configures (afresh when the generator or the
# sanitizers differ) and builds siren_tests only.
build_tree() {
  local dir="$1" sanitizers="$2"
  if [[ -f "$dir/CMakeCache.txt" ]] &&
     { ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$dir/CMakeCache.txt" ||
       ! grep -q "^SIREN_SANITIZE:STRING=$sanitizers\$" "$dir/CMakeCache.txt"; }; then
    rm -rf "$dir"
  fi
  # RelWithDebInfo at -O1: line numbers in the reports, assertions kept (no
  # NDEBUG), and fast enough to run every test.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
      -DSIREN_SANITIZE="$sanitizers" -DSIREN_BUILD_TESTS=ON \
      -DSIREN_BUILD_PYTHON=OFF -DSIREN_BUILD_AGENT=OFF >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log" >&2; return 1; }
  cmake --build "$dir" --target siren_tests -j "$JOBS"
}

declare -A RESULT SECONDS_TAKEN

run_asan() {
  local start=$SECONDS rc=0
  log "ASan + UBSan: building build/asan (-j $JOBS)"
  if build_tree build/asan address,undefined; then
    log "ASan + UBSan: running every test of siren_tests"
    ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:detect_odr_violation=2" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
      build/asan/tests/siren_tests --gtest_brief=1 || rc=$?
  else
    rc=$?
  fi
  RESULT[asan]=$rc
  SECONDS_TAKEN[asan]=$((SECONDS - start))
}

run_tsan() {
  local start=$SECONDS rc=0
  # GCC 12's TSan cannot lay out its shadow memory when the kernel randomizes
  # mmap with more than 28 bits (vm.mmap_rnd_bits on newer host kernels):
  # run it without address randomization where setarch may do so.
  local no_aslr=()
  if setarch "$(uname -m)" -R true 2>/dev/null; then no_aslr=(setarch "$(uname -m)" -R); fi
  log "TSan: building build/tsan (-j $JOBS)"
  if build_tree build/tsan thread; then
    log "TSan: running $TSAN_FILTER"
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" "${no_aslr[@]}" \
      build/tsan/tests/siren_tests --gtest_brief=1 --gtest_filter="$TSAN_FILTER" || rc=$?
  else
    rc=$?
  fi
  RESULT[tsan]=$rc
  SECONDS_TAKEN[tsan]=$((SECONDS - start))
}

mkdir -p build
case "$ONLY" in
  "") run_asan; run_tsan ;;
  asan) run_asan ;;
  tsan) run_tsan ;;
  *) log "SANITIZE_ONLY=$ONLY: expected asan or tsan"; exit 2 ;;
esac

failed=0
for job in asan tsan; do
  [[ -v "RESULT[$job]" ]] || continue
  name=$([[ $job == asan ]] && echo "ASan + UBSan (all tests)" || echo "TSan (threaded tests)")
  if [[ ${RESULT[$job]} -eq 0 ]]; then
    echo "[sanitize] $name: ok (${SECONDS_TAKEN[$job]} s)"
  else
    echo "[sanitize] $name: FAILED (exit ${RESULT[$job]}, ${SECONDS_TAKEN[$job]} s)"
    failed=1
  fi
done
exit $failed
