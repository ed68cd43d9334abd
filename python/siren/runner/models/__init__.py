"""The worker's models, one file each, behind one interface (``base.Model``)
and this registry: a new worker model is a file here and a line in MODELS.

The runner chooses the model from the scenario (``spec_from_scenario``: the
simulator's ``convergence.sgd.model`` and its shape parameters; ``linear``
is the softmax model) and writes its spec into the dataset manifest; the
worker rebuilds it from there (``from_manifest``). Free of ``siren._core``:
the Lambda package ships this folder with the worker.
"""

from __future__ import annotations

from typing import Any, Callable

from .base import Model
from .lenet import LeNetModel
from .lr_schedule import LrSchedule
from .mlp import MlpModel
from .softmax import SoftmaxModel

__all__ = ["MODELS", "LeNetModel", "LrSchedule", "MlpModel", "Model", "SoftmaxModel", "build", "from_manifest",
           "spec_from_scenario"]


def _softmax(spec: dict, features: int, classes: int, height: int, width: int) -> Model:
    return SoftmaxModel(features, classes)


def _mlp(spec: dict, features: int, classes: int, height: int, width: int) -> Model:
    return MlpModel(features, classes, list(spec.get("hidden", [128])), int(spec.get("init_seed", 1)))


def _lenet(spec: dict, features: int, classes: int, height: int, width: int) -> Model:
    shape = {key: int(spec[key]) for key in ("conv1_channels", "conv2_channels", "kernel", "padding", "dense",
                                             "init_seed") if key in spec}
    return LeNetModel(features, classes, height, width, **shape)


# Model name -> builder(spec, features, classes, height, width).
MODELS: dict[str, Callable[..., Model]] = {"softmax": _softmax, "mlp": _mlp, "lenet": _lenet}


def build(spec: dict, features: int, classes: int, height: int = 0, width: int = 0) -> Model:
    """The model ``spec`` names (``spec["name"]``, one of MODELS) for data
    of ``features`` columns and ``classes`` classes (images: height x
    width). ValueError naming the model for an unknown name or a shape the
    data does not fit."""
    name = spec.get("name", "softmax")
    if name not in MODELS:
        raise ValueError(f"model: got {name!r}, expected one of {', '.join(MODELS)}")
    return MODELS[name](spec, int(features), int(classes), int(height), int(width))


def from_manifest(manifest: dict) -> Model:
    """The model of a dataset manifest (``datasets.RunnerDataset.manifest``);
    softmax when the manifest names none (manifests that predate models)."""
    return build(manifest.get("model") or {"name": "softmax"}, manifest["features"], manifest["classes"],
                 manifest.get("height", 0), manifest.get("width", 0))


def spec_from_scenario(get: Callable[[str], Any]) -> dict[str, Any]:
    """The worker model of a scenario (``get``: its getter), from the
    simulator's ``convergence.sgd.*`` parameters, so that the runner trains
    the network the ``sgd`` ground truth simulates."""
    name = str(get("convergence.sgd.model"))
    seed = int(get("convergence.sgd.init_seed"))
    if name == "linear":
        return {"name": "softmax"}
    if name == "mlp":
        hidden = [int(get("convergence.sgd.mlp.hidden1"))]
        if int(get("convergence.sgd.mlp.hidden2")) > 0:
            hidden.append(int(get("convergence.sgd.mlp.hidden2")))
        return {"name": "mlp", "hidden": hidden, "init_seed": seed}
    if name == "lenet":
        shape = {key: int(get(f"convergence.sgd.lenet.{key}"))
                 for key in ("conv1_channels", "conv2_channels", "kernel", "padding", "dense")}
        return {"name": "lenet", **shape, "init_seed": seed}
    raise ValueError(f"convergence.sgd.model: got {name!r}, expected linear, mlp or lenet (the runner's models)")
