#!/usr/bin/env bash
# The main job: set up (idempotent), then simulate the default scenario with a
# fixed schedule and write its HDF5 trace to build/default_trace.h5.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# The schedule: 20 functions of 2048 MB every epoch (FUNCTIONS:MEMORY_MB, or a per-epoch list
# n:m,n:m,... whose last pair repeats). Overridable with SIREN_SCHEDULE.
SCHEDULE="${SIREN_SCHEDULE:-20:2048}"
SEED="${SIREN_SEED:-0}"

bash scripts/setup.sh
mkdir -p build
exec "$ROOT/.venv/bin/siren" simulate --scenario default --schedule "$SCHEDULE" \
  --seed "$SEED" --out build/default_trace.h5 "$@"
