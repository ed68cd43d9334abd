"""The epoch field table (sim/core/epoch_fields.h) and everything listed from
it: the run_epoch dict, the HDF5 traces (simulated and runner), the Gym
info, the .pyi stub."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import h5py
import pytest

import siren
from siren import _core
from siren.envs import INFO_NAMES, INT_INFO_NAMES, STATUS_NAMES
from siren.epoch_fields import EPOCH_FIELD_NAMES, EPOCH_FIELDS, dataset_attributes, in_table_order
from siren.runner.protocol import S3Counter
from siren.runner.trace import RUNNER_EPOCH_FIELDS, read_run_trace, write_run_trace
from siren.trace import read_field_attributes

REPO = Path(__file__).resolve().parents[2]
UNITS = {"s", "usd", "gb_s", "MB", "count", "updates", "index", "1", ""}
# Units of the other outputs (runner trace requests, training log), beside those.
OTHER_UNITS = {"bytes", "1/s", "nats"}


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_epoch_fields_pyi", REPO / "scripts" / "gen_epoch_fields_pyi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results() -> list[dict]:
    scenario = siren.load_scenario("default", ["job.max_epochs=3"])
    simulation = siren.Simulation(scenario, 5)
    return [simulation.run_epoch(20, 1024) for _ in range(3)]


def test_table_rows_are_complete() -> None:
    assert len(EPOCH_FIELDS) == len(set(EPOCH_FIELD_NAMES)) > 30
    for field in EPOCH_FIELDS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", field["name"]), field
        assert field["type"] in ("int", "float", "string"), field
        assert field["unit"] in UNITS, field
        assert field["description"].endswith(".") and "\n" not in field["description"], field
        assert field["labels"] == [] or field["type"] == "string", field


def test_renamed_cost_columns() -> None:
    # README "Changelog": the platform-neutral names replace the Lambda ones.
    assert {"cost_function_duration_usd", "cost_function_request_usd"} <= set(EPOCH_FIELD_NAMES)
    assert not [name for name in EPOCH_FIELD_NAMES if "lambda" in name]
    assert {"function_duration_usd", "function_request_usd"} <= set(INFO_NAMES)
    assert not [name for name in INFO_NAMES if "lambda" in name]


def test_run_epoch_dict_is_the_table(results: list[dict]) -> None:
    python_types = {"int": int, "float": float, "string": str}
    for result in results:
        assert list(result) == list(EPOCH_FIELD_NAMES)
        for field in EPOCH_FIELDS:
            assert type(result[field["name"]]) is python_types[field["type"]], field["name"]
            if field["labels"]:
                assert result[field["name"]] in field["labels"]


def test_bill_epoch_cost_keys_are_the_table_cost_fields() -> None:
    scenario = siren.load_scenario("default")
    bill = _core.bill_epoch(scenario, [0.5, 1.0], 1024, 10, 2)
    cost_fields = [name for name in EPOCH_FIELD_NAMES if name.startswith("cost_")]
    assert [key for key in bill if key.startswith("cost_")] == cost_fields
    assert bill["cost_total_usd"] == pytest.approx(
        bill["cost_function_duration_usd"] + bill["cost_function_request_usd"] + bill["cost_s3_request_usd"])


def test_trace_columns_and_attributes_are_the_table(tmp_path: Path, results: list[dict]) -> None:
    path = tmp_path / "trace.h5"
    siren.write_trace(path, results, scenario_yaml="x: 1", seed=5, version=siren.__version__, schedule="20:1024",
                      status=results[-1]["status"])
    fields, attrs = siren.read_trace(path)
    assert list(fields) == list(EPOCH_FIELD_NAMES)
    assert attrs["seed"] == 5 and attrs["epochs"] == 3
    attributes = read_field_attributes(path)
    for field in EPOCH_FIELDS:
        assert attributes[field["name"]] == {"units": field["unit"], "description": field["description"]}
        kind = fields[field["name"]].dtype.kind
        assert kind == {"int": "i", "float": "f", "string": "U"}[field["type"]], field["name"]
    with h5py.File(path, "r") as f:  # stored as strings, not bytes arrays
        assert isinstance(f["loss"].attrs["units"], str)


def test_runner_trace_epoch_columns_carry_units(tmp_path: Path, results: list[dict]) -> None:
    records = [in_table_order(dict(reversed(list(r.items())), worker_errors=0, reconfigure_s=0.25)) for r in results]
    assert list(records[0])[:len(EPOCH_FIELD_NAMES)] == list(EPOCH_FIELD_NAMES)
    invocation = {"epoch": 0, "duration_s": 1.5, "status": "ok"}
    path = tmp_path / "run.h5"
    write_run_trace(path, epochs=records, invocations=[invocation], batches=[{"epoch": 0, "fetch_s": 0.1}],
                    requests=S3Counter(), attrs={"backend": "local", "initial_loss": 2.5})
    trace = read_run_trace(path)
    assert list(trace["epochs"])[:len(EPOCH_FIELD_NAMES)] == list(EPOCH_FIELD_NAMES)
    assert trace["attrs"]["initial_loss"] == 2.5
    epochs = read_field_attributes(path, "epochs")
    for name in EPOCH_FIELD_NAMES:
        assert epochs[name] == dataset_attributes(name), name
    assert epochs["reconfigure_s"] == {"units": "s", "description": RUNNER_EPOCH_FIELDS["reconfigure_s"][1]}
    assert epochs["worker_errors"]["units"] == "count"
    # Same-named columns of other groups are described by their own tables.
    assert read_field_attributes(path, "invocations")["duration_s"]["units"] == "s"
    assert read_field_attributes(path, "invocations")["duration_s"] != epochs["duration_s"]
    with pytest.raises(KeyError, match="loss"):
        in_table_order({"epoch": 0})


def test_runner_fields_do_not_shadow_the_table() -> None:
    assert not set(RUNNER_EPOCH_FIELDS) & set(EPOCH_FIELD_NAMES)
    assert all(unit in UNITS for unit, _ in RUNNER_EPOCH_FIELDS.values())


def test_info_carries_the_table_fields_with_an_info_column() -> None:
    carried = [field for field in EPOCH_FIELDS if field["info"] is not None]
    names = list(INFO_NAMES)
    assert names[:6] == ["functions", "memory_mb", "requested_memory_mb", "memory_clamped", "requested_functions",
                         "budget_clamped"]
    assert names[6:-2] == [field["info"] for field in carried]
    assert names[-2:] == ["episode_return", "episode_length"]
    assert STATUS_NAMES == ("running", "converged", "budget_exhausted", "epoch_limit")
    assert {field["info"] for field in carried if field["type"] == "int"} <= INT_INFO_NAMES


def test_info_dict_has_the_table_types() -> None:
    env = siren.SirenEnv(scenario="default")
    env.reset(seed=3)
    *_, info = env.step(env.encode(20, 1024))
    python_types = {"int": int, "float": float, "string": str}
    for field in EPOCH_FIELDS:
        if field["info"] is not None:
            assert type(info[field["info"]]) is python_types[field["type"]], field["name"]
    assert info["status"] in STATUS_NAMES
    assert info["epoch_cost_usd"] == pytest.approx(
        info["function_duration_usd"] + info["function_request_usd"] + info["s3_request_usd"])


def test_stub_lists_exactly_the_table() -> None:
    generator = _load_generator()
    want = generator.block_lines(EPOCH_FIELDS)
    have = generator.stub_block((REPO / "python" / "siren" / "_core.pyi").read_text())
    assert have == want, (
        "python/siren/_core.pyi is stale: run `.venv/bin/python scripts/gen_epoch_fields_pyi.py`, or paste "
        "between its markers:\n" + "\n".join(want))
    stub_names = [line.split(":")[0].strip() for line in have]
    assert stub_names == list(EPOCH_FIELD_NAMES)


def test_stub_parses_and_names_every_public_function_and_method() -> None:
    """_core.pyi is valid Python and lists every public name of the module
    and every public method of its classes (exceptions' inherited methods
    aside), so editors and type checkers see the whole API."""
    import ast

    from siren import _core

    tree = ast.parse((REPO / "python" / "siren" / "_core.pyi").read_text())
    stubbed = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    constants = {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)
                 and isinstance(node.target, ast.Name)}
    missing = sorted(name for name in dir(_core)
                     if not name.startswith("_") and name not in stubbed and name not in constants)
    assert not missing, f"_core.pyi lacks {missing}"
    for name, node in stubbed.items():
        if not isinstance(node, ast.ClassDef) or not hasattr(_core, name) or issubclass(getattr(_core, name),
                                                                                       Exception):
            continue
        members = {m.name for m in node.body if isinstance(m, ast.FunctionDef)}
        members |= {m.target.id for m in node.body if isinstance(m, ast.AnnAssign) and isinstance(m.target, ast.Name)}
        lacking = sorted(m for m in dir(getattr(_core, name)) if not m.startswith("_") and m not in members)
        assert not lacking, f"_core.pyi: class {name} lacks {lacking}"
