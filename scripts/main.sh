#!/usr/bin/env bash
# The main job: set up (idempotent), train the libtorch scheduler on the
# default scenario, then compare the exported policy with the baselines (grid
# search, the hand schedule, the CEM bound, EC2) on held-out seeds. A few
# minutes on 2 cores. Outputs: build/main_run/ (log.h5, checkpoint.pt,
# policy.pt) and build/main_run/evaluation.json.
# Environment: SIREN_ITERATIONS (default 300), SIREN_SEED (default 0).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ITERATIONS="${SIREN_ITERATIONS:-300}"
SEED="${SIREN_SEED:-0}"
RUN=build/main_run

bash scripts/setup.sh
mkdir -p "$RUN"
# --force: each run of the main job replaces the previous one (siren train
# refuses to overwrite a run folder otherwise).
"$ROOT/.venv/bin/siren" train --scenario default --iterations "$ITERATIONS" --seed "$SEED" \
  --out "$RUN" --force "$@"
"$ROOT/.venv/bin/siren" evaluate --policy "$RUN/policy.pt" --cem --json "$RUN/evaluation.json"
