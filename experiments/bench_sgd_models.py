#!/usr/bin/env python3
"""Training speed of the simulator's sgd convergence model against PyTorch
eager on the CPU: the same networks, the same SGD steps on the same batch
sizes, one thread each, measured in one run.

For each case, one round is an epoch of the simulator (``Simulation.run_epoch``
with ``convergence.model=sgd``, one function, one local step per push: every
batch is a parameter fetch, a gradient, a step and a push, then the held-out
loss) and the same epoch in PyTorch (forward, backward and
``torch.optim.SGD.step`` per batch, then the held-out loss without
gradients, in chunks of 256 rows as the simulator evaluates). The rounds
alternate which side runs first; the table gives the median over the rounds
of the training samples per second of wall time (an epoch's samples over
its wall time, the held-out pass included) and their ratio.

PyTorch runs with ``torch.set_num_threads(1)`` (``--torch-threads``): one
simulation runs the model on one thread, and sweeps run one simulation per
core. The machine may be shared: compare the columns of one run, not runs.

    .venv/bin/python experiments/bench_sgd_models.py                  # every case, 5 rounds
    .venv/bin/python experiments/bench_sgd_models.py --rounds 1 --only mlp-digits,lenet-digits
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import siren
from siren import _core, data


@dataclass(frozen=True)
class Case:
    name: str
    dataset: str  # "click-through", "digits" or "mnist".
    batch: int
    model: str  # convergence.sgd.model.
    learning_rate: float
    momentum: float
    net: dict = field(default_factory=dict)  # convergence.sgd.* overrides.


# The presets' batches: logreg-click-through 1000, softmax-digits 32,
# lenet-mnist 64; lenet-mnist is the preset's network (MXNet LeNet, 431,080
# parameters).
CASES = (
    Case("logistic-click-through", "click-through", 1000, "linear", 0.1, 0.0),
    Case("softmax-digits", "digits", 32, "linear", 0.5, 0.0),
    Case("mlp-digits", "digits", 32, "mlp", 0.05, 0.9, {"mlp.hidden1": 128}),
    Case("mlp-mnist", "mnist", 64, "mlp", 0.05, 0.9, {"mlp.hidden1": 128}),
    Case("lenet-digits", "digits", 32, "lenet", 0.05, 0.9,
         {"lenet.conv1_channels": 6, "lenet.conv2_channels": 16, "lenet.kernel": 3, "lenet.padding": 1,
          "lenet.dense": 120}),
    Case("lenet-mnist", "mnist", 64, "lenet", 0.05, 0.9,
         {"lenet.conv1_channels": 20, "lenet.conv2_channels": 50, "lenet.kernel": 5, "lenet.padding": 0,
          "lenet.dense": 500}),
)  # fmt: skip

# Held-out rows per dataset (the rest trains).
EVAL_ROWS = {"click-through": 2000, "digits": 360, "mnist": 1000}
EVAL_CHUNK = 256


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="epochs timed per side and case (default: %(default)s)")
    p.add_argument("--only", default="", help="comma-separated case names (default: all: "
                   + ", ".join(c.name for c in CASES) + ")")  # fmt: skip
    p.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads (default: %(default)s)")
    args = p.parse_args()
    if args.rounds < 1 or args.torch_threads < 1:
        p.error("--rounds and --torch-threads must be >= 1")
    known = {c.name for c in CASES}
    wanted = [name for name in args.only.split(",") if name]
    if unknown := [name for name in wanted if name not in known]:
        p.error(f"--only: unknown case(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}")
    args.cases = [c for c in CASES if not wanted or c.name in wanted]
    return args


def write_datasets(names: set[str], folder: Path) -> dict[str, Path]:
    makers = {"click-through": lambda: data.click_through(22000, features=4096, fields=39, seed=1),
              "digits": data.digits, "mnist": data.mnist}  # fmt: skip
    paths = {}
    for name in sorted(names):
        paths[name] = folder / f"{name}.h5"
        data.save(makers[name](), paths[name])
    return paths


def dense_rows(dataset: dict) -> np.ndarray:
    rows = len(dataset["labels"])
    out = np.zeros((rows, int(dataset["features"])), dtype=np.float32)
    indptr = np.asarray(dataset["indptr"])
    row_of = np.repeat(np.arange(rows), np.diff(indptr))
    out[row_of, dataset["indices"]] = dataset["values"]
    return out


# ---- The simulator --------------------------------------------------------


def siren_simulation(case: Case, path: Path, rows: int) -> siren.Simulation:
    train = rows - EVAL_ROWS[case.dataset]
    overrides = [
        "convergence.model=sgd", f"convergence.sgd.dataset={path}",
        f"convergence.sgd.eval_samples={EVAL_ROWS[case.dataset]}", f"convergence.sgd.model={case.model}",
        f"convergence.sgd.learning_rate={case.learning_rate}", f"convergence.sgd.momentum={case.momentum}",
        f"workload.dataset_samples={train}", f"workload.batch_size={case.batch}", "execution.sync_every=1",
        "job.budget_usd=1000000", "job.max_epochs=100000", "workload.target_loss=1e-9",
    ] + [f"convergence.sgd.{key}={value}" for key, value in case.net.items()]  # fmt: skip
    return siren.Simulation(siren.load_scenario("softmax-digits", overrides), seed=0)


def siren_epoch(sim: siren.Simulation) -> tuple[float, int, float]:
    """Wall seconds, training samples and loss of one epoch."""
    start = time.perf_counter()
    result = sim.run_epoch(functions=1, memory_mb=1024)
    wall = time.perf_counter() - start
    if result["timeouts"] or result["updates"] != result["batches"]:
        raise RuntimeError(f"the timed epoch lost work: {result['timeouts']} timeouts, "
                           f"{result['updates']} updates of {result['batches']} batches")  # fmt: skip
    return wall, int(result["batches"]) * sim.scenario.batch_size, float(result["loss"])


# ---- PyTorch --------------------------------------------------------------


class TorchJob:
    """The same network, data split and batches in PyTorch eager."""

    def __init__(self, case: Case, dataset: dict, torch_module) -> None:
        self.torch = torch = torch_module
        nn = torch.nn
        self.case = case
        rows = len(dataset["labels"])
        train = rows - EVAL_ROWS[case.dataset]
        labels = torch.tensor(np.asarray(dataset["labels"], dtype=np.int64))
        features = int(dataset["features"])
        classes = int(dataset["classes"])
        if case.dataset == "click-through":
            # Sparse rows as CSR tensors (faster here than dense rows or an
            # EmbeddingBag); logistic regression has one output.
            indptr = np.asarray(dataset["indptr"], dtype=np.int64)
            indices = torch.tensor(np.asarray(dataset["indices"], dtype=np.int64))
            values = torch.tensor(np.asarray(dataset["values"], dtype=np.float32))

            def rows_of(begin: int, end: int):
                low, high = int(indptr[begin]), int(indptr[end])
                crow = torch.tensor(indptr[begin:end + 1] - low)
                return torch.sparse_csr_tensor(crow, indices[low:high], values[low:high], (end - begin, features))

            self.weight = torch.zeros(features, 1, requires_grad=True)
            self.bias = torch.zeros(1, requires_grad=True)
            self.params = [self.weight, self.bias]
            self.forward = lambda x: (torch.sparse.mm(x, self.weight) + self.bias).squeeze(1)
            self.loss = lambda z, y, reduction="mean": nn.functional.binary_cross_entropy_with_logits(
                z, y.float(), reduction=reduction)  # fmt: skip
        else:
            dense = torch.tensor(dense_rows(dataset))
            if case.model == "lenet":
                side = int(dataset["height"])
                dense = dense.reshape(rows, 1, side, side)
                net = case.net
                k, pad = net["lenet.kernel"], net["lenet.padding"]
                s1 = (side + 2 * pad - k + 1) // 2
                s2 = (s1 + 2 * pad - k + 1) // 2
                model = nn.Sequential(
                    nn.Conv2d(1, net["lenet.conv1_channels"], k, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(net["lenet.conv1_channels"], net["lenet.conv2_channels"], k, padding=pad), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(net["lenet.conv2_channels"] * s2 * s2, net["lenet.dense"]), nn.ReLU(),
                    nn.Linear(net["lenet.dense"], classes))  # fmt: skip
            elif case.model == "mlp":
                model = nn.Sequential(nn.Linear(features, case.net["mlp.hidden1"]), nn.ReLU(),
                                      nn.Linear(case.net["mlp.hidden1"], classes))  # fmt: skip
            else:
                model = nn.Linear(features, classes)
            self.params = list(model.parameters())
            self.forward = model
            self.loss = lambda z, y, reduction="mean": nn.functional.cross_entropy(z, y, reduction=reduction)

            def rows_of(begin: int, end: int):
                return dense[begin:end]

        self.parameter_count = sum(p.numel() for p in self.params)
        self.optimizer = torch.optim.SGD(self.params, lr=case.learning_rate, momentum=case.momentum)
        # The simulator's batches: batch b covers training rows
        # [b * batch, (b + 1) * batch) (the last one wraps; here it is cut).
        self.batches = [(rows_of(b, min(b + case.batch, train)), labels[b:min(b + case.batch, train)])
                        for b in range(0, train, case.batch)]  # fmt: skip
        self.held_out = [(rows_of(b, min(b + EVAL_CHUNK, rows)), labels[b:min(b + EVAL_CHUNK, rows)])
                         for b in range(train, rows, EVAL_CHUNK)]  # fmt: skip
        self.held_out_rows = rows - train
        self.order = np.random.default_rng(0)

    def epoch(self) -> tuple[float, int, float]:
        """Wall seconds, training samples and held-out loss of one epoch."""
        torch = self.torch
        order = self.order.permutation(len(self.batches))
        start = time.perf_counter()
        samples = 0
        for b in order:
            x, y = self.batches[b]
            self.optimizer.zero_grad(set_to_none=True)
            self.loss(self.forward(x), y).backward()
            self.optimizer.step()
            samples += len(y)
        with torch.no_grad():
            total = sum(float(self.loss(self.forward(x), y, reduction="sum")) for x, y in self.held_out)
        return time.perf_counter() - start, samples, total / self.held_out_rows


# ---- The run --------------------------------------------------------------


def main() -> int:
    args = parse_args()
    try:
        import torch
    except ImportError:
        print("bench_sgd_models: needs torch (pip install torch; scripts/setup.sh installs it)", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(0)
    print(f"siren {siren.__version__} (sgd model: one thread per simulation, {_core.sgd_matmul_isa()} matrix "
          f"products), torch {torch.__version__} "
          f"({torch.get_num_threads()} thread(s)), {args.rounds} round(s), median training samples/s "
          "(held-out loss pass included)")  # fmt: skip
    header = (f"{'case':<24} {'batch':>5} {'params':>8} {'siren ms/step':>13} {'torch ms/step':>13} "
              f"{'siren samples/s':>15} {'torch samples/s':>15} {'siren/torch':>11}")  # fmt: skip
    print(header)
    with tempfile.TemporaryDirectory(prefix="siren-bench-sgd-") as folder:
        paths = write_datasets({c.dataset for c in args.cases}, Path(folder))
        for case in args.cases:
            dataset = data.load(paths[case.dataset])
            sim = siren_simulation(case, paths[case.dataset], len(dataset["labels"]))
            job = TorchJob(case, dataset, torch)
            siren_epoch(sim)  # Warm-up: caches, allocations.
            job.epoch()
            rates: dict[str, list[float]] = {"siren": [], "torch": []}
            steps = len(job.batches)
            for r in range(args.rounds):
                sides = [("siren", lambda: siren_epoch(sim)), ("torch", job.epoch)]
                for side, run in sides if r % 2 == 0 else sides[::-1]:
                    wall, samples, loss = run()
                    if not np.isfinite(loss):
                        raise RuntimeError(f"{case.name}: {side} loss {loss}")
                    rates[side].append(samples / wall)
            ours, theirs = statistics.median(rates["siren"]), statistics.median(rates["torch"])
            samples_per_epoch = steps * case.batch
            print(f"{case.name:<24} {case.batch:>5} {job.parameter_count:>8} "
                  f"{1e3 * samples_per_epoch / ours / steps:>13.3f} {1e3 * samples_per_epoch / theirs / steps:>13.3f} "
                  f"{ours:>15,.0f} {theirs:>15,.0f} {ours / theirs:>11.2f}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
