"""Exported policies of the libtorch scheduler: loading them, running them on
jobs of the simulator and summarising the outcomes, and their ONNX export.

The trainer (``siren-agent``, installed beside ``siren._core`` when torch
was importable at install time) writes a policy as TorchScript with its
metadata (``siren.json``); Python runs it with its own torch, which is
imported only when needed: ``siren`` itself does not need torch.

    policy, metadata = load_policy("runs/siren/policy.pt")
    evaluate_policy(policy, scenario, [HELD_OUT_FIRST_SEED])  # mean_jct_s, ...

Used by ``siren train|export|evaluate|run`` and by both backends of
``siren.backends`` (a Ray task runs `policy_episode` and the driver
`summarise_policy_episodes`).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from siren import _core

__all__ = [
    "AGENT",
    "HELD_OUT_FIRST_SEED",
    "agent_path",
    "evaluate_policy",
    "export_onnx",
    "POLICY_SCENARIO_KEYS",
    "load_policy",
    "policy_episode",
    "policy_scenario_differences",
    "scenario_fingerprint",
    "scenario_identity",
    "summarise_policy_episodes",
]

AGENT = Path(__file__).with_name("siren-agent")
# Held-out evaluation seeds start here: far from the tuning seeds 0..k of
# grid search and from the trainer's hashed episode seeds.
HELD_OUT_FIRST_SEED = 1_000_000


def agent_path() -> Path:
    """The trainer executable; OSError when it was not built."""
    if not AGENT.exists():
        raise OSError(
            f"the trainer {AGENT.name} was not built: torch was not importable when siren "
            "was installed (bash scripts/setup.sh installs torch==2.13.0 first)"
        )
    return AGENT


# ONNX exports (`siren export --onnx`): Siren runs TorchScript only.
_ONNX_SUFFIXES = (".onnx", ".onnx.data")
_EXPECTED_POLICY = "expected the TorchScript policy.pt written by `siren train` or `siren export`"


def load_policy(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Loads an exported policy and its metadata (siren.json). ValueError
    naming the file and what was expected for anything else: a missing,
    empty, truncated or foreign file, an ONNX export, broken metadata."""
    import torch  # Imported here: siren itself does not need torch.

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"--policy: '{path}' not found")
    if path.is_dir():
        raise IsADirectoryError(f"--policy: '{path}' is a folder; {_EXPECTED_POLICY} (e.g. {path / 'policy.pt'})")
    if path.name.endswith(_ONNX_SUFFIXES):
        raise ValueError(f"--policy: '{path}' is an ONNX export, which Siren does not run; {_EXPECTED_POLICY} "
                         "(the .pt file that `siren export --onnx` started from)")
    if path.stat().st_size == 0:
        raise ValueError(f"--policy: '{path}' is empty; {_EXPECTED_POLICY}")
    extra = {"siren.json": ""}
    try:
        with warnings.catch_warnings():
            # torch 2.13 marks torch.jit.load deprecated in favour of torch.export,
            # but TorchScript is the one format that both Python and C++
            # (torch::jit::load, the C++ trainer and runners) load; silence only
            # this message.
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.load.* is deprecated",
                                    category=DeprecationWarning)
            module = torch.jit.load(str(path), _extra_files=extra)
    except (RuntimeError, ValueError, EOFError, UnicodeDecodeError) as error:
        text = str(error).strip()
        reason = text.splitlines()[0].split(". ")[0][:200] if text else type(error).__name__
        raise ValueError(f"--policy: '{path}' is not a TorchScript file (truncated, corrupted or another format: "
                         f"{reason}); {_EXPECTED_POLICY}") from None
    text = extra["siren.json"]
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not text:
        raise ValueError(f"--policy: '{path}' is TorchScript but not a Siren policy: it has no siren.json metadata; "
                         f"{_EXPECTED_POLICY}")
    try:
        metadata = json.loads(text)
    except ValueError as error:
        raise ValueError(f"--policy: '{path}': its siren.json metadata is not valid JSON ({error}); "
                         f"{_EXPECTED_POLICY}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != "siren-policy-1":
        found = metadata.get("format") if isinstance(metadata, dict) else type(metadata).__name__
        raise ValueError(f"--policy: '{path}': its siren.json metadata has format {found!r}, expected "
                         "'siren-policy-1'")
    for key in ("scenario_yaml", "action_encoding"):
        if not isinstance(metadata.get(key), str):
            raise ValueError(f"--policy: '{path}': its siren.json metadata lacks {key!r} (a string); "
                             f"{_EXPECTED_POLICY}")
    return module, metadata


# What makes a policy's scenario its own: the job it learnt to schedule (the
# workload's name, data and model; not its measured sizes, which calibration
# refines, nor its target) and its interface: how its observations are scaled
# and what its actions mean (the Box's function range and scale, the memory
# grid). Budget, epochs, prices and the platform's timings may differ: a
# policy is meant to be run under other budgets and on the real platform.
POLICY_SCENARIO_KEYS = (
    "workload.name", "workload.dataset_samples", "workload.batch_size", "workload.model_params",
    "env.min_functions", "env.max_functions", "env.function_scale", "env.time_scale_s",
    "env.batch_time_scale_s", "env.observation_clip",
)


def scenario_identity(scenario: _core.Scenario) -> dict[str, Any]:
    """The values of POLICY_SCENARIO_KEYS, and the memory grid (its first and
    last size and how many), of ``scenario``."""
    identity: dict[str, Any] = {key: scenario.get(key) for key in POLICY_SCENARIO_KEYS}
    grid = scenario.memory_grid()
    identity["memory grid"] = f"{grid[0]}-{grid[-1]} MB in {len(grid)} sizes"
    return identity


def scenario_fingerprint(scenario: _core.Scenario) -> str:
    """16 hex digits of SHA-256 over scenario_identity: equal for scenarios a
    policy cannot tell apart."""
    text = json.dumps(scenario_identity(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def policy_scenario_differences(trained_on: _core.Scenario, scenario: _core.Scenario) -> list[str]:
    """"key: X (policy) vs Y" for each entry of scenario_identity where the
    scenario a policy was trained on and ``scenario`` differ; [] when none."""
    mine, theirs = scenario_identity(trained_on), scenario_identity(scenario)
    return [f"{key} {mine[key]!r} vs {theirs[key]!r}" for key in mine if mine[key] != theirs[key]]


def policy_episode(policy: Any, scenario: _core.Scenario, seed: int) -> dict[str, Any]:
    """Runs the deterministic policy on one job from `seed`. Keys: seed,
    jct_s, cost_usd, return, success, over_budget (the cost exceeds
    job.budget_usd), as Python numbers."""
    import torch

    names = _core.info_names()
    time_column, cost_column = names.index("cumulative_time_s"), names.index("cumulative_cost_usd")
    status_column = names.index("status")
    env = _core.Env(scenario, "box")
    observation = env.reset(seed)
    total = 0.0
    with torch.no_grad():
        while True:
            action = policy(torch.from_numpy(observation[None]))[0].numpy().astype(np.float64)
            observation, reward, terminated, truncated, info = env.step(action)
            total += reward
            if terminated or truncated:
                break
    cost = float(info[cost_column])
    return {"seed": seed, "jct_s": float(info[time_column]), "cost_usd": cost,
            "return": total, "success": bool(info[status_column] == 1), "over_budget": cost > scenario.budget_usd}


def summarise_policy_episodes(episodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The means of `policy_episode` outcomes, in their order. Keys:
    mean_jct_s, mean_cost_usd, success_rate, successes, over_budget (a
    count), episodes (the count), mean_return."""
    successes = sum(episode["success"] for episode in episodes)
    return {"mean_jct_s": float(np.mean([episode["jct_s"] for episode in episodes])),
            "mean_cost_usd": float(np.mean([episode["cost_usd"] for episode in episodes])),
            "success_rate": successes / len(episodes), "successes": successes,
            "over_budget": sum(episode["over_budget"] for episode in episodes), "episodes": len(episodes),
            "mean_return": float(np.mean([episode["return"] for episode in episodes]))}


def evaluate_policy(policy: Any, scenario: _core.Scenario, seeds: list[int]) -> dict[str, Any]:
    """Runs the deterministic policy on one job per seed. Keys as
    `summarise_policy_episodes`."""
    return summarise_policy_episodes([policy_episode(policy, scenario, seed) for seed in seeds])


def export_onnx(policy_path: str | Path, onnx_path: str | Path) -> list[Path]:
    """Writes the exported policy as ONNX (opset of torch's exporter): the
    TorchScript buffers rebuilt as a plain module with the same arithmetic.
    Returns the files written: `onnx_path` (the graph) and, when torch's
    exporter stores the weights apart, `onnx_path` + ".data" beside it,
    which the graph refers to by name (keep the two together)."""
    try:
        import onnx  # noqa: F401  The exporter needs onnx and onnxscript.
        import onnxscript  # noqa: F401
    except ImportError:
        raise OSError("--onnx needs the onnx and onnxscript packages "
                      "(pip install 'siren[onnx]')") from None
    import torch

    scripted, _ = load_policy(policy_path)
    buffers = dict(scripted.named_buffers())

    class PlainPolicy(torch.nn.Module):
        """The forward of agent/trainer/policy.cc's TorchScript, verbatim."""

        def __init__(self) -> None:
            super().__init__()
            for name, value in buffers.items():
                self.register_buffer(name, value.clone())

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            x = torch.clamp((obs - self.obs_mean) / torch.sqrt(self.obs_var + 1e-8), -10.0, 10.0)
            h = torch.tanh(torch.addmm(self.b1, x, self.w1.t()))
            h = torch.tanh(torch.addmm(self.b2, h, self.w2.t()))
            mean = torch.addmm(self.b3, h, self.w3.t())
            # The anchor table's cell of each observation (agent/trainer/policy.h);
            # files of before the table hold one anchor.
            if hasattr(self, "anchor_table"):
                budget = obs[:, 10:11] * (1.0 + 1e-6)
                row = torch.clamp((budget >= self.anchor_budgets.unsqueeze(0)).sum(1) - 1, min=0)
                column = torch.clamp(torch.round(obs[:, 0] * self.anchor_epochs), 0.0,
                                     float(self.anchor_table.size(1) - 1)).long()
                mean = self.anchor_table[row, column] + mean
            elif hasattr(self, "anchor"):
                mean = self.anchor + mean
            return torch.clamp(mean, -1.0, 1.0)

    data = Path(f"{onnx_path}.data")
    if data.exists():
        data.unlink()  # A previous export's weights, never this graph's.
    batch = torch.export.Dim("batch", min=1)
    torch.onnx.export(PlainPolicy().eval(), (torch.zeros(2, _core.observation_size),), str(onnx_path),
                      input_names=["observation"], output_names=["action"],
                      dynamic_shapes={"obs": {0: batch}}, dynamo=True, verbose=False)
    return [Path(onnx_path)] + ([data] if data.exists() else [])
