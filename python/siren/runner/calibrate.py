"""Fitting the simulator to a runner trace (``siren calibrate``) and replaying
a trace's actions in the simulator (``siren compare-sim``).

What ``calibrate`` fits, from which columns of the trace (runner/trace.py):

- cold starts: ``lambda.cold_start.*`` at each memory size seen, mean and sd
  of the cold invocations' ``init_s`` (the package term folded in: 0), all
  of it the INIT phase (``init_share`` 1: the runner bills the traced
  ``init_s`` where the generation bills INIT);
- warm starts: ``lambda.warm_start_median_ms`` / ``_sigma`` from the warm
  invocations' overhead, round trip minus handler time;
- S3: ``s3.get_latency_median_ms``, ``s3.put_latency_median_ms`` and
  ``s3.latency_sigma`` (log-normal: median and sigma of the log) from every
  worker request; ``s3.connection_cap_mb_per_s`` from the slope of GET time
  over bytes (least squares, clamped to [1, 100000] MB/s), with the
  function's bandwidth cap raised to it and reached at any memory size;
- the local stand-in's S3 endpoint: one moto process sharing the machine's
  cores with the workers, so requests queue. ``s3.server_slots`` (1 up to
  the traced machine's cores) and ``s3.server_service_ms``, with the base
  latency (a low percentile of the measured ones minus the service) and its
  spread, are chosen by replaying the trace's actions in the simulator and
  minimising the squared relative errors of epoch duration and cost. An AWS
  trace keeps S3 unlimited (``--server-slots 0``);
- the runner's own S3 requests per epoch (``runner_s3_gets``,
  ``runner_s3_puts``: the PUT that opens the epoch's parameter object and
  the barrier's GET, billed with the epoch): ``execution.coordinator_s3_*``;
- compute: ``lambda.gflops_per_vcpu`` so that the median batch compute time
  at the trace's memory sizes matches the workload's FLOPs, with
  ``lambda.max_vcpus`` 1 (the numpy worker is single-threaded) and
  ``lambda.compute_noise_sigma`` from the log spread;
- workload: rows, batch size, the worker model's parameter count and FLOPs
  per sample from the dataset manifest (softmax, mlp or lenet:
  ``models/``); ``workload.sample_bytes`` from the batch objects' sizes;
- convergence: the Optimus ``b0, b1, b2`` from the per-epoch held-out loss
  against cumulative updates (b1 pinned by the initial loss l0 = 1/b1 + b2;
  b2 on a grid below the lowest loss, b0 by least squares in 1/(l - b2)),
  the staleness harm of the base scenario kept; loss noise 0; the push
  protocol ``cas`` (the runner's), and ``lambda.single_function`` as the
  traced backend ran (always true on AWS).

Every timing of the trace must be finite (a NaN or inf is refused, naming
the column), and a fitted value at the edge of its search range is reported
in ``fit["at_search_limit"]`` (the best fit may lie beyond it). Epoch rows
that the budget guard skipped are left out.

Several traces of the same job (``calibrate([a, b])``, ``siren calibrate
a.h5 b.h5``) are pooled (trace_pool.py): one short run's statistics carry
its own noise (on the digits, 4 functions under compare-and-swap refused
31-60 pushes per epoch, sd / mean 21 %, across warm epochs of one action
in three runs; each refusal is a billed PUT and GET).

One trace at one (n, m) cannot tell how S3 latency grows with concurrency
on the server, nor the CPU share at memory sizes it did not visit: calibrate
on a schedule like the ones you will simulate.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from siren import _core
from siren.runner.protocol import ParameterStore
from siren.runner.trace import check_run_trace
from siren.runner.trace_pool import pool_traces

__all__ = ["calibrate", "check_finite_timings", "compare", "ran_epochs", "replay_caveats"]

# The search tries 1..this many server slots by default (each adds ~1,200
# replays of the trace).
MAX_SERVER_SLOTS = 4
# Search ranges: S3 bandwidth (MB/s), the server's service time (ms), the
# base-latency percentile, the latency spread, the smallest base latency (ms).
BANDWIDTH_RANGE = (1.0, 100000.0)
SERVICE_MS = np.arange(0.5, 12.01, 0.25)
# Beyond 12 ms (a deep model's parameter object of megabytes keeps the local
# server busy longer): steps of 5 % up to the 90th percentile of the
# requests' latencies (_service_grid).
SERVICE_STEP = 1.05
BASE_QUANTILES = (2, 5, 10, 25, 50)
SIGMAS = (0.1, 0.2, 0.3, 0.45, 0.6)
MIN_LATENCY_MS = 0.1
MIN_B2 = 1e-9  # The parameter table's lower bound of convergence.b2.
MAX_BUDGET_USD = 1e9  # Its upper bound of job.budget_usd: a replay never stops on budget.

# Timing columns that must be finite: (group, column, rows to check).
_TIMINGS = (("epochs", "duration_s"), ("epochs", "cost_total_usd"), ("epochs", "loss"),
            ("invocations", "init_s"), ("invocations", "duration_s"), ("invocations", "sent_s"),
            ("invocations", "returned_s"), ("batches", "fetch_s"), ("batches", "compute_s"),
            ("batches", "update_s"), ("requests", "get_s"), ("requests", "put_s"))


def ran_epochs(trace: dict) -> dict:
    """`trace` with only the epochs that ran: a row the budget guard skipped
    (`skipped` true) has no timings."""
    epochs = trace["epochs"]
    if "skipped" not in epochs:
        return trace
    keep = ~np.asarray([bool(v) and v == v for v in epochs["skipped"]], dtype=bool)
    if keep.all():
        return trace
    filtered = {key: ([v for v, k in zip(values, keep) if k] if isinstance(values, list)
                      else np.asarray(values)[keep]) for key, values in epochs.items()}
    return dict(trace, epochs=filtered)


def check_finite_timings(trace: dict) -> None:
    """ValueError naming the first column of `trace` (ran_epochs applied)
    that holds a NaN or infinite timing, with how many and where."""
    for group, column in _TIMINGS:
        values = trace[group].get(column)
        if values is None or isinstance(values, list):
            continue
        values = np.asarray(values, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise ValueError(f"{group}/{column} holds {len(bad)} non-finite value(s) (NaN or inf; first at row "
                             f"{bad[0]}: {values[bad[0]]}); calibration needs finite timings: rerun the job, or "
                             "remove the damaged rows")
    if not len(trace["epochs"]["epoch"]):
        raise ValueError("the trace has no epoch that ran; nothing to calibrate")


def _at_limit(fit: dict, name: str, value: float, low: float, high: float, unit: str) -> None:
    """Notes in fit["at_search_limit"] that `name` = `value` sits at an end
    of its search range [low, high]."""
    if value <= low or value >= high:
        edge = "lower" if value <= low else "upper"
        fit.setdefault("at_search_limit", {})[name] = (
            f"{value:.6g} {unit}".strip() + f" is the {edge} end of the search range [{low:.6g}, {high:.6g}]")


def _lognormal(values: np.ndarray) -> tuple[float, float]:
    """(median, sigma) of a log-normal fit; values must be > 0."""
    logs = np.log(values[values > 0])
    if len(logs) == 0:
        return 0.0, 0.0
    return float(np.exp(np.median(logs))), float(np.std(logs)) if len(logs) > 1 else 0.0


def _list(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"


def _b2_grid(loss: np.ndarray) -> np.ndarray:
    """The values of b2 that _fit_optimus tries: from the smallest the
    scenario accepts (convergence.b2 >= 1e-9) up to 98 % of the lowest loss."""
    return np.linspace(MIN_B2, 0.98 * float(np.min(loss)), 99)


def _fit_optimus(loss: np.ndarray, progress: np.ndarray, initial_loss: float) -> tuple[float, float, float, float]:
    """(b0, b1, b2, rms relative error) of l(k) = 1/(b0 k + b1) + b2 with
    1/b1 + b2 = initial_loss."""
    best = None
    for b2 in _b2_grid(loss):
        b1 = 1.0 / (initial_loss - b2)
        y = 1.0 / (loss - b2) - b1           # = b0 * k
        b0 = float(np.dot(progress, y) / np.dot(progress, progress))
        if b0 <= 0:
            continue
        model = 1.0 / (b0 * progress + b1) + b2
        error = float(np.sqrt(np.mean(((model - loss) / loss) ** 2)))
        if best is None or error < best[3]:
            best = (b0, b1, float(b2), error)
    if best is None:
        raise ValueError("convergence: the trace's loss does not fall; nothing to fit")
    return best


def _progress(trace: dict, scenario: _core.Scenario, b2: float, initial_loss: float) -> np.ndarray:
    """Cumulative effective progress after each epoch: updates x the batch
    gain, divided by the staleness harm at the epoch's mean staleness and the
    closeness reached (the analytic model's accounting, per epoch)."""
    epochs = trace["epochs"]
    batch = scenario.batch_size
    gain = (batch / scenario.get("convergence.reference_batch")) ** scenario.get("convergence.batch_exponent")
    penalty = scenario.get("convergence.staleness_penalty")
    staleness_gain = scenario.get("convergence.staleness_gain")
    total, out = 0.0, []
    previous_loss = initial_loss
    for updates, staleness, loss in zip(epochs["updates"], epochs["mean_staleness"], epochs["loss"]):
        closeness = 0.0
        if b2 > 0 and previous_loss > b2:
            closeness = max(0.0, min(1.0, math.log(initial_loss / previous_loss) / math.log(initial_loss / b2)))
        total += updates * gain / (1.0 + penalty * staleness * (1.0 + staleness_gain * closeness))
        out.append(total)
        previous_loss = loss
    return np.asarray(out)


def calibrate(trace: dict | Sequence[dict], base: _core.Scenario | None = None, server_slots: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Fits the simulator to ``trace`` (read_run_trace), or to several
    traces of the same job (a list: trace_pool.pool_traces; the statistics
    are taken over all their rows, the convergence curve through all their
    epochs, and the server search minimises the replay error over every
    run, each replayed from its own start). ``server_slots``:
    the most requests S3 may serve at once, tried from 1 up (default: the
    traced machine's cores, at most MAX_SERVER_SLOTS, for a local-backend
    trace; 0, unlimited, for AWS). ``progress(done, total)`` is called as
    the server search replays candidates. Returns {"overrides": [...],
    "scenario": _core.Scenario, "yaml": str, "fit": {...}}; fit's
    "at_search_limit" (when present) names the fitted values at an end of
    their search range. ValueError for a non-finite timing, or for traces
    of different jobs."""
    runs = [trace] if isinstance(trace, dict) else list(trace)
    for index, run in enumerate(runs):
        try:
            check_run_trace(run)
            runs[index] = ran_epochs(run)
            check_finite_timings(runs[index])
        except ValueError as error:
            raise ValueError(f"trace {index + 1}: {error}" if len(runs) > 1 else str(error)) from None
    trace = pool_traces(runs)
    if server_slots is None:
        # The local stand-in's server shares the machine's cores with the
        # workers: up to that many requests progress at once.
        local = trace["attrs"]["backend"] == "local"
        cores = int(trace["attrs"].get("host_cpus", os.cpu_count() or 1))
        server_slots = min(cores, MAX_SERVER_SLOTS) if local else 0
    base = base or _core.parse_scenario(trace["attrs"]["scenario"], [], "trace scenario")
    invocations, batches, requests, epochs = (trace["invocations"], trace["batches"], trace["requests"],
                                              trace["epochs"])
    manifest = trace["attrs"]["dataset"]
    fit: dict[str, Any] = {}
    overrides: list[str] = []

    # Cold and warm starts.
    ok = np.asarray([s != "throttled" for s in invocations["status"]])
    cold = np.asarray(invocations["cold"], dtype=bool) & ok
    memory = np.asarray(invocations["memory_mb"])
    init_s = np.asarray(invocations["init_s"])
    if cold.any():
        sizes = sorted(set(int(m) for m in memory[cold]))
        means = [float(np.mean(init_s[cold & (memory == m)])) * 1e3 for m in sizes]
        sds = [float(np.std(init_s[cold & (memory == m)])) * 1e3 for m in sizes]
        overrides += [f"lambda.cold_start.memory_mb={_list(sizes)}", f"lambda.cold_start.mean_ms={_list(means)}",
                      f"lambda.cold_start.sd_ms={_list(sds)}", "lambda.cold_start.ms_per_package_mb=0",
                      # The traced init_s is the INIT phase the runner bills
                      # (the local sandbox's start; Lambda's Init Duration).
                      "lambda.cold_start.init_share=1"]
        fit["cold_start_ms"] = dict(zip(sizes, means))
    # The round trip of a request the backend resent includes its back-off,
    # and one whose outcome is unknown has no duration: neither shows the
    # platform's overhead (columns of AWS traces; older traces lack them).
    rows = len(invocations["status"])
    resent = np.asarray(invocations.get("transient_retries", np.zeros(rows))) > 0
    known = np.asarray(invocations.get("outcome_known", np.ones(rows, dtype=bool)), dtype=bool)
    warm = ~np.asarray(invocations["cold"], dtype=bool) & ok & known & ~resent
    overhead = (np.asarray(invocations["returned_s"]) - np.asarray(invocations["sent_s"])
                - np.asarray(invocations["duration_s"]))[warm]
    if len(overhead):
        median, sigma = _lognormal(np.maximum(overhead, 1e-6))
        overrides += [f"lambda.warm_start_median_ms={median * 1e3:.6g}", f"lambda.warm_start_sigma={sigma:.6g}"]
        fit["warm_start_ms"] = median * 1e3

    # S3 latency and bandwidth.
    get_s, put_s = np.asarray(requests["get_s"]), np.asarray(requests["put_s"])
    get_bytes = np.asarray(requests["get_bytes"], dtype=np.float64)
    get_median, get_sigma = _lognormal(get_s)
    put_median, put_sigma = _lognormal(put_s)
    low_cap, high_cap = BANDWIDTH_RANGE
    cap = high_cap
    if len(get_s) > 2 and np.ptp(get_bytes) > 0:
        slope = np.polyfit(get_bytes / 1e6, get_s, 1)[0]  # Seconds per MB.
        cap = float(np.clip(1.0 / slope, low_cap, high_cap)) if slope > 0 else high_cap
    _at_limit(fit, "s3.connection_cap_mb_per_s", cap, low_cap, high_cap, "MB/s")
    overrides += [f"s3.get_latency_median_ms={get_median * 1e3:.6g}",
                  f"s3.put_latency_median_ms={put_median * 1e3:.6g}",
                  f"s3.latency_sigma={math.sqrt((get_sigma ** 2 + put_sigma ** 2) / 2):.6g}",
                  f"s3.connection_cap_mb_per_s={cap:.6g}", f"lambda.bandwidth_cap_mb_per_s={cap:.6g}",
                  f"lambda.bandwidth_saturation_mb={base.get('lambda.min_memory_mb')}"]
    fit.update(get_ms=get_median * 1e3, put_ms=put_median * 1e3, bandwidth_mb_per_s=cap)

    # Workload, from the dataset the job really used.
    features, classes = int(manifest["features"]), int(manifest["classes"])
    # The worker model's parameter count (older manifests: softmax's).
    parameters = int(manifest.get("parameters", features * classes + classes))
    batch_size = base.batch_size
    sizes_per_batch = get_bytes[get_bytes > 0]
    overrides += [f"workload.dataset_samples={int(manifest['train_rows'])}",
                  f"workload.model_params={parameters}",
                  f"workload.samples_per_object={batch_size}"]
    flops_per_sample = float(base.get("workload.flops_per_sample"))
    if "flops_per_sample" in manifest:  # The worker model's own count.
        flops_per_sample = float(manifest["flops_per_sample"])
        overrides.append(f"workload.flops_per_sample={flops_per_sample:.6g}")
    if len(sizes_per_batch):
        # Batch objects are the GETs other than parameter-sized ones: from
        # 4 B x params (an update of that size) up to the parameter store's
        # object, whose size the encoder fixes (the parameters, counters and
        # the epoch's bitmap).
        store_bytes = len(ParameterStore.encode(np.zeros(parameters, dtype=np.float32), 0, 0,
                                                np.zeros(int(manifest.get("batches", 1)), dtype=bool)))
        parameter_sized = (sizes_per_batch >= 4 * parameters) & (sizes_per_batch <= store_bytes + 256)
        batch_objects = sizes_per_batch[~parameter_sized]
        if len(batch_objects):
            overrides.append(f"workload.sample_bytes={float(np.median(batch_objects)) / batch_size:.6g}")

    # The runner's own requests per epoch (the PUT that opens the epoch's
    # parameter object, the barrier's GET), billed with the epoch: the
    # simulator's coordinator requests (median over epochs; older traces
    # lack the columns).
    for column, name in (("runner_s3_gets", "execution.coordinator_s3_gets"),
                         ("runner_s3_puts", "execution.coordinator_s3_puts")):
        if column in epochs and len(epochs[column]):
            count = int(round(float(np.median(np.asarray(epochs[column], dtype=np.float64)))))
            overrides.append(f"{name}={count}")
            fit[name.split(".")[1]] = count

    # Compute throughput per vCPU (single-threaded numpy: max_vcpus 1).
    skipped = np.asarray(batches["skipped"], dtype=bool)
    compute = np.asarray(batches["compute_s"])[~skipped]
    memory_by_invocation = {(int(e), int(w), int(a)): int(m) for e, w, a, m in zip(
        invocations["epoch"], invocations["worker"], invocations["attempt"], invocations["memory_mb"])}
    batch_memory = np.asarray([memory_by_invocation[(int(e), int(w), int(a))] for e, w, a in
                               zip(np.asarray(batches["epoch"])[~skipped], np.asarray(batches["worker"])[~skipped],
                                   np.asarray(batches["attempt"])[~skipped])], dtype=np.float64)
    mb_per_vcpu = base.get("lambda.mb_per_vcpu")
    vcpus = np.minimum(1.0, batch_memory / mb_per_vcpu)
    flops = float(f"{flops_per_sample:.6g}") * batch_size
    rates = flops / (np.maximum(compute, 1e-9) * vcpus) / 1e9
    gflops, _ = _lognormal(rates)
    _, compute_sigma = _lognormal(compute * vcpus)
    overrides += [f"lambda.gflops_per_vcpu={gflops:.6g}", "lambda.max_vcpus=1",
                  f"lambda.compute_noise_sigma={compute_sigma:.6g}"]
    fit["gflops_per_vcpu"] = gflops

    # Convergence.
    initial_loss = float(trace["attrs"]["initial_loss"])
    loss = np.asarray(epochs["loss"], dtype=np.float64)
    fitted = None
    if len(loss) < 2:
        fit["convergence"] = "not fitted: fewer than 2 epochs"
    else:
        try:
            effective = np.concatenate([_progress(run, base, 0.5 * float(loss.min()), initial_loss) for run in runs])
            b2 = _fit_optimus(loss, effective, initial_loss)[2]
            fitted = _fit_optimus(loss, np.concatenate([_progress(run, base, b2, initial_loss) for run in runs]),
                                  initial_loss)
        except ValueError as error:
            fit["convergence"] = f"not fitted: {error}"
    if fitted is not None:
        b0, b1, b2, error = fitted
        grid = _b2_grid(loss)
        _at_limit(fit, "convergence.b2", b2, float(grid[0]), float(grid[-1]), "")
        # The fit is of the Optimus curve (curve exponent 1).
        overrides += [f"convergence.b0={b0:.6g}", f"convergence.b1={b1:.6g}", f"convergence.b2={b2:.6g}",
                      "convergence.curve_exponent=1", "convergence.loss_noise_sigma=0"]
        fit.update(b0=b0, b1=b1, b2=b2, loss_rms_relative_error=error)
        # The scenario requires b2 < target loss: a target below the fitted
        # floor is unreachable, and is raised just above it (reported).
        target = base.target_loss
        if target <= b2 * 1.001:
            raised = float(f"{b2 * 1.02:.6g}")
            overrides.append(f"workload.target_loss={raised}")
            fit["target_loss_raised_from"] = target
            fit["target_loss"] = raised
    # The protocol the run used (traces from before the option: cas).
    overrides.append(f"execution.push_protocol={trace['attrs'].get('push_protocol', 'cas')}")
    single = trace["attrs"].get("single_function", True)
    overrides.append(f"lambda.single_function={'true' if single in (True, 1, 'True', 'true') else 'false'}")
    if server_slots:
        overrides += _fit_server(runs, base, overrides, server_slots, fit, progress)
    scenario = _core.parse_scenario(base.to_yaml(), overrides, "calibration")
    return {"overrides": overrides, "scenario": scenario, "yaml": scenario.to_yaml(), "fit": fit}


def _service_grid(get_s: np.ndarray, put_s: np.ndarray) -> np.ndarray:
    """The server service times (ms) the search tries: SERVICE_MS, then
    SERVICE_STEP steps up to the 90th percentile of the GET or PUT
    latencies when that is longer."""
    top = 1e3 * max(float(np.percentile(get_s, 90)) if len(get_s) else 0.0,
                    float(np.percentile(put_s, 90)) if len(put_s) else 0.0)
    longer = [float(SERVICE_MS[-1])]
    while longer[-1] * SERVICE_STEP <= top:
        longer.append(longer[-1] * SERVICE_STEP)
    return np.concatenate([SERVICE_MS, np.asarray(longer[1:])])


def _fit_server(runs: list[dict], base: _core.Scenario, overrides: list[str], slots: int, fit: dict,
                progress: Callable[[int, int], None] | None = None) -> list[str]:
    """S3 as a finite-capacity endpoint (the local stand-in's one server
    process): the service time, base latency and spread that make the
    simulator's epoch durations and costs closest to the traces', by
    replaying each run's actions from its start (least squares of the
    relative errors of both over every epoch of every run; 3 seeds per
    candidate). Cost enters because compare-and-swap conflicts, which cost
    requests, depend on these timings."""
    get_s = np.concatenate([np.asarray(run["requests"]["get_s"]) for run in runs])
    put_s = np.concatenate([np.asarray(run["requests"]["put_s"]) for run in runs])
    real_duration = np.concatenate([np.asarray(run["epochs"]["duration_s"], dtype=np.float64) for run in runs])
    real_cost = np.concatenate([np.asarray(run["epochs"]["cost_total_usd"], dtype=np.float64) for run in runs])
    base_yaml = base.to_yaml()
    fixed = overrides + _replay_overrides(_core.parse_scenario(base_yaml, overrides, "calibration"),
                                          max(len(run["epochs"]["epoch"]) for run in runs))
    best = None
    max_slots = slots
    service_grid = _service_grid(get_s, put_s)
    pairs = [(k, s) for k in range(1, max_slots + 1) for s in service_grid]
    total, done = len(pairs) * len(BASE_QUANTILES) * len(SIGMAS), 0
    for slots, service_ms in pairs:
        for base_quantile in BASE_QUANTILES:
            get_ms = max(MIN_LATENCY_MS, np.percentile(get_s, base_quantile) * 1e3 - service_ms)
            put_ms = max(MIN_LATENCY_MS, np.percentile(put_s, base_quantile) * 1e3 - service_ms)
            for sigma in SIGMAS:
                candidate = [f"s3.server_slots={slots}", f"s3.server_service_ms={service_ms:.4g}",
                             f"s3.get_latency_median_ms={get_ms:.4g}", f"s3.put_latency_median_ms={put_ms:.4g}",
                             f"s3.latency_sigma={sigma}"]
                scenario = _core.parse_scenario(base_yaml, fixed + candidate, "calibration")
                simulated = [_simulate(run, scenario, [0, 1, 2]) for run in runs]
                duration = np.concatenate([replay["duration_s"] for replay in simulated])
                cost = np.concatenate([replay["cost_total_usd"] for replay in simulated])
                error = float(np.mean(((duration - real_duration) / real_duration) ** 2)
                              + np.mean(((cost - real_cost) / real_cost) ** 2))
                if best is None or error < best[0]:
                    best = (error, candidate, dict(server_slots=slots, server_service_ms=float(service_ms),
                                                   get_ms=float(get_ms), put_ms=float(put_ms),
                                                   latency_sigma=sigma), base_quantile)
                done += 1
                if progress is not None:
                    progress(done, total)
    # The fitted base latencies replace the plain log-normal estimates.
    fit.update(best[2], replay_rms_relative_error=math.sqrt(best[0] / 2))
    chosen = best[2]
    if max_slots > 1:  # One slot is a choice, not a limit.
        _at_limit(fit, "s3.server_slots", chosen["server_slots"], 1, max_slots, "(raise --server-slots)")
    _at_limit(fit, "s3.server_service_ms", chosen["server_service_ms"], float(service_grid[0]),
              float(service_grid[-1]), "ms")
    _at_limit(fit, "s3.latency_sigma", chosen["latency_sigma"], SIGMAS[0], SIGMAS[-1], "")
    _at_limit(fit, "s3 base latency percentile", best[3], BASE_QUANTILES[0], BASE_QUANTILES[-1], "")
    for key in ("get_ms", "put_ms"):
        if chosen[key] <= MIN_LATENCY_MS:
            fit.setdefault("at_search_limit", {})[f"s3.{key[:3]}_latency_median_ms"] = (
                f"{chosen[key]:.6g} ms is the floor {MIN_LATENCY_MS} ms (the service time took all the latency)")
    return best[1]


def _replay_overrides(scenario: _core.Scenario, epochs: int) -> list[str]:
    """Overrides that let a replay run all ``epochs``: no stop on budget,
    epoch limit or target (a target just above the loss floor is never
    reached)."""
    b2 = scenario.get("convergence.b2")
    initial = scenario.get("convergence.b1") ** -scenario.get("convergence.curve_exponent") + b2
    return [f"job.budget_usd={MAX_BUDGET_USD:g}", f"job.max_epochs={epochs + 1}",
            f"workload.target_loss={b2 + 1e-9 * (initial - b2)!r}"]


def _replay(trace: dict, scenario: _core.Scenario, seeds: list[int]) -> dict[str, np.ndarray]:
    """The simulator's duration, cost and loss per epoch from each of
    ``seeds`` (arrays of seeds x epochs), on the trace's actions, whatever
    the scenario's stopping rule."""
    limits = _replay_overrides(scenario, len(trace["epochs"]["epoch"]))
    return _simulate_seeds(trace, _core.parse_scenario(scenario.to_yaml(), limits, "replay"), seeds)


def _simulate(trace: dict, scenario: _core.Scenario, seeds: list[int]) -> dict[str, np.ndarray]:
    """The mean over ``seeds`` of _simulate_seeds."""
    return {key: values.mean(axis=0) for key, values in _simulate_seeds(trace, scenario, seeds).items()}


def _simulate_seeds(trace: dict, scenario: _core.Scenario, seeds: list[int]) -> dict[str, np.ndarray]:
    """_replay's work on a scenario that already lets every epoch run."""
    epochs = trace["epochs"]
    actions = list(zip(epochs["action_functions"], epochs["action_memory_mb"]))
    out = {key: np.zeros((len(seeds), len(actions))) for key in ("duration_s", "cost_total_usd", "loss")}
    for s, seed in enumerate(seeds):
        simulation = _core.Simulation(scenario, seed)
        for i, (functions, memory_mb) in enumerate(actions):
            result = simulation.run_epoch(int(functions), int(memory_mb))
            for key in out:
                out[key][s, i] = result[key]
    return out


def replay_caveats(trace: dict) -> list[str]:
    """What a replay of ``trace`` (no budget: _replay_overrides) cannot
    reproduce, one line each: epochs whose function timeout the budget guard
    changed, which on one reconfigured function retires the warm sandboxes
    (their invocations start cold)."""
    epochs = trace["epochs"]
    timeouts = np.asarray(epochs.get("function_timeout_s", []), dtype=np.float64)
    single = trace["attrs"].get("single_function", True) in (True, 1, "True", "true")
    changed = [int(e) for e, before, after in zip(np.asarray(epochs["epoch"])[1:], timeouts[:-1], timeouts[1:])
               if after != before]
    if not single or not changed:
        return []
    return [f"the budget guard changed the function's timeout before epoch(s) {', '.join(map(str, changed))}, "
            "which retires the warm sandboxes of the one reconfigured function (cold starts there); a replay "
            "runs without a budget and keeps them warm: calibrate on a run whose job.budget_usd the guard never "
            "approaches"]


def compare(trace: dict, scenario: _core.Scenario, seeds: list[int]) -> dict[str, Any]:
    """Replays the trace's actions in the simulator from each seed. Per epoch:
    real and simulated (mean over seeds) duration, cost and loss, the
    relative errors, and the simulator's spread over the seeds (``spread_*``:
    standard deviation / mean, 0 for one seed: how far one run's epoch may
    lie from the mean by chance alone, by the simulator's account); plus
    the totals, the largest error and spread of any epoch (``max_abs_error``,
    ``max_spread``) and ``caveats`` (replay_caveats). ValueError for a
    non-finite timing."""
    check_run_trace(trace)
    trace = ran_epochs(trace)
    check_finite_timings(trace)
    epochs = trace["epochs"]
    actions = list(zip(epochs["action_functions"], epochs["action_memory_mb"]))
    per_seed = _replay(trace, scenario, seeds)
    simulated = {key: values.mean(axis=0) for key, values in per_seed.items()}
    rows = []
    for i, (functions, memory_mb) in enumerate(actions):
        row = {"epoch": i, "functions": int(functions), "memory_mb": int(memory_mb)}
        for key in simulated:
            real, sim = float(epochs[key][i]), float(simulated[key][i])
            row[f"real_{key}"], row[f"sim_{key}"] = real, sim
            row[f"error_{key}"] = (sim - real) / real if real else float("nan")
            row[f"spread_{key}"] = float(np.std(per_seed[key][:, i]) / sim) if sim else float("nan")
        rows.append(row)
    totals = {}
    for key in ("duration_s", "cost_total_usd"):
        real, sim = float(np.sum(epochs[key])), float(np.sum(simulated[key]))
        totals[key] = {"real": real, "sim": sim, "error": (sim - real) / real if real else float("nan")}
    worst = {key: float(max(abs(r[f"error_{key}"]) for r in rows)) for key in simulated}
    spread = {key: float(max(r[f"spread_{key}"] for r in rows)) for key in simulated}
    return {"rows": rows, "totals": totals, "max_abs_error": worst, "max_spread": spread, "seeds": seeds,
            "caveats": replay_caveats(trace)}
