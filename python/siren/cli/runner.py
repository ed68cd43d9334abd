"""``siren run``, ``siren calibrate``, ``siren compare-sim``, ``siren
deploy`` and ``siren teardown``: the runner from the command line
(DESIGN.md §5).

``run`` drives a real job epoch by epoch on a backend: ``local`` (worker
processes and a moto S3 server on loopback, started and stopped here) or
``aws`` (the deployed function, see docs/runner-aws.md). Actions come from an
exported policy (``--policy``, observation and action codec shared with the
simulator) or a fixed ``--schedule``. ``--out`` writes the HDF5 trace after
every epoch.

Nothing changes silently on real money: a schedule entry the action codec
would change (memory off the platform's grid or below what the workload
needs, as ``siren simulate`` refuses it; a function count outside the env's
action range) is refused by name, and so is a policy trained on another
scenario (``siren.policy.scenario_identity``: the job and the action and
observation interface) unless ``--allow-scenario-mismatch``, which warns.
What remains (the codec clipping a policy's action, the local stand-in's
limits) is printed once and recorded in the trace: the run's in its
``adjustments`` attribute, each epoch's in its ``adjustment`` column.

Faults end a run promptly, with one line on stderr, the trace's status set
and no process left behind: SIGINT and SIGTERM cancel the invocations in
flight (status "interrupted", exit 128 + the signal's number); an epoch that
misses batches after recovery fails the job (status "failed", shown in the
table, exit 1); a lost S3 endpoint is a one-line error (status "failed"), and
so is any AWS refusal (a missing permission, expired credentials: exit 1).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from siren import _core
from siren._argtypes import checked, non_negative_int, positive_float, positive_int
from siren.cli._common import add_overrides, add_quiet, progress_bar
from siren.outputs import check_output_file
from siren.schedule import ScheduleError, parse_schedule

__all__ = ["add_commands", "run_job"]

DEFAULT_SCENARIO = "softmax-digits"
_margin = checked(float, lambda v: 1 <= v < float("inf"), "a number >= 1", "a finite number >= 1")
_learning_rate = checked(float, lambda v: 0 < v <= 100, "a number in (0, 100]", "a number in (0, 100]")
_FAULT_KEYS = {"token", "worker", "epoch", "at_batch", "when"}
_FAULT_HOWS = ("raise", "exit", "hang")


def _fault(text: str) -> dict:
    """--inject-fault: a JSON object with exactly the keys of _FAULT_KEYS,
    and optionally "how"."""
    try:
        fault = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}") from None
    if not isinstance(fault, dict) or not _FAULT_KEYS <= set(fault) <= _FAULT_KEYS | {"how"} or \
            fault["when"] not in ("before_push", "after_push") or fault.get("how", "raise") not in _FAULT_HOWS:
        raise argparse.ArgumentTypeError(
            f"expected a JSON object with keys {sorted(_FAULT_KEYS)}, \"when\" before_push or after_push, "
            f"and optionally \"how\" {' or '.join(_FAULT_HOWS)}, got {text!r}")
    return fault


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM reached `siren run`."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


class _Signals:
    """While entered (in the main thread), SIGINT and SIGTERM raise
    Interrupted there, once: the run stops where it is and cleans up. Inside
    ``deferred()`` (the cleanup itself) a signal is only noted, and raised
    when the cleanup is done; signals after the first are ignored."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: int | None = None
        self._raised = False
        self._deferred = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "_Signals":
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received is not None:
            return  # Already stopping.
        self.received = signum
        if not self._deferred:
            self._raised = True
            raise Interrupted(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
        if not self._deferred and self.received is not None and not self._raised:
            self._raised = True
            raise Interrupted(self.received)


def _one_line(error: BaseException) -> str:
    """The first line of an error, for the trace's ``error`` attribute."""
    if isinstance(error, Interrupted):
        return f"interrupted by {error.name}"
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    from siren.runner.job import RunnerError

    return first if isinstance(error, RunnerError) else f"{type(error).__name__}: {first}"


def _check_schedule(schedule: Any, scenario: _core.Scenario, codec: _core.ActionCodec) -> None:
    """ValueError naming the first schedule entry that would not run as
    written: memory the simulator refuses (``Scenario.memory_error``, the
    wording of `siren simulate`), a function count outside the env's action
    range, or any pair the action codec would not give back unchanged."""
    lowest, highest = scenario.get("env.min_functions"), scenario.get("env.max_functions")
    pairs = schedule.pairs
    for position, (functions, memory_mb) in enumerate(pairs, start=1):
        where = f"schedule token {position} of {len(pairs)} ('{functions}:{memory_mb}')"
        problem = scenario.memory_error(memory_mb)
        if problem:
            raise ValueError(f"{where}: {problem}")
        if not lowest <= functions <= highest:
            raise ValueError(f"{where}: functions: got {functions}, expected an integer in [{lowest}, {highest}] "
                             f"(env.min_functions to env.max_functions of scenario '{scenario.name}', the range "
                             "the runner's actions can express)")
        decoded = codec.decode(codec.encode(functions, memory_mb))
        if (decoded["functions"], decoded["memory_mb"]) != (functions, memory_mb):
            raise ValueError(f"{where}: the action codec gives back {decoded['functions']}:{decoded['memory_mb']}, "
                             f"expected {functions}:{memory_mb}")


class _Actor:
    """Chooses the next action: an exported policy, or a fixed schedule.
    Refuses (ValueError) a schedule that would not run as written and a
    policy trained on another scenario (unless allow_scenario_mismatch);
    ``attrs`` are the trace attributes it adds, ``adjustments`` what the run
    accepts that it must say (a scenario mismatch)."""

    def __init__(self, args: argparse.Namespace, scenario: _core.Scenario, codec: _core.ActionCodec) -> None:
        self.policy = None
        self.schedule = None
        self.codec = codec
        self.description = ""
        self.attrs: dict[str, Any] = {}
        self.adjustments: list[str] = []
        if args.policy:
            from siren.policy import load_policy

            self.policy, metadata = load_policy(args.policy)
            self.description = f"policy {args.policy}"
            self._check_policy_scenario(args, metadata, scenario)
        else:
            try:
                self.schedule = parse_schedule(args.schedule)
            except ScheduleError as error:
                raise ValueError(f"--schedule: {error}") from None
            _check_schedule(self.schedule, scenario, codec)
            self.description = f"schedule {args.schedule}"

    def _check_policy_scenario(self, args: argparse.Namespace, metadata: dict, scenario: _core.Scenario) -> None:
        from siren.policy import policy_scenario_differences, scenario_fingerprint

        where = f"--policy: '{args.policy}'"
        if metadata["action_encoding"] != self.codec.action_encoding:
            raise ValueError(f"{where}: its actions are encoded {metadata['action_encoding']!r}, expected "
                             f"{self.codec.action_encoding!r} (what the runner decodes, as `siren train` exports)")
        try:
            trained = _core.parse_scenario(metadata["scenario_yaml"], [], "policy scenario")
        except ValueError as error:
            trained, unreadable = None, (str(error).strip().splitlines() or [""])[0]
        fingerprint = scenario_fingerprint(scenario)
        if trained is not None:
            differences = policy_scenario_differences(trained, scenario)
            self.attrs = {"policy_scenario": trained.name, "policy_scenario_fingerprint": scenario_fingerprint(trained)}
            trained_on = f"scenario '{trained.name}' ({self.attrs['policy_scenario_fingerprint']})"
        else:
            differences = [f"its scenario does not load here: {unreadable}"]
            self.attrs = {"policy_scenario": "unreadable", "policy_scenario_fingerprint": ""}
            trained_on = "a scenario this siren cannot read"
        if not differences:
            return
        shown = "; ".join(differences[:3]) + (f"; and {len(differences) - 3} more" if len(differences) > 3 else "")
        summary = (f"{where} was trained on {trained_on}, not on this run's '{scenario.name}' ({fingerprint}): "
                   f"{shown}")
        if not args.allow_scenario_mismatch:
            raise ValueError(f"{summary}; expected a policy trained on '{scenario.name}' (siren train --scenario "
                             f"...), or --allow-scenario-mismatch to run it anyway")
        self.attrs["policy_scenario_mismatch"] = differences
        self.adjustments.append(f"{summary}; run anyway (--allow-scenario-mismatch)")
        print(f"warning: {summary}; running it anyway (--allow-scenario-mismatch)", file=sys.stderr)

    def __call__(self, epoch: int, observation: np.ndarray) -> np.ndarray:
        if self.policy is not None:
            import torch

            with torch.no_grad():
                action = self.policy(torch.from_numpy(observation[None].astype(np.float32)))[0]
            return action.numpy().astype(np.float64)
        functions, memory_mb = self.schedule.action(epoch)
        return self.codec.encode(functions, memory_mb)


def _scaling_limit(scenario: _core.Scenario) -> tuple[int | None, float | None]:
    """(burst, refill_per_s) of the scenario's lambda.scaling.* ((None, None)
    for no limit: burst 0, as in the simulator)."""
    burst = int(scenario.get("lambda.scaling.burst"))
    if burst <= 0:
        return None, None
    return burst, float(scenario.get("lambda.scaling.refill_per_s"))


def _run_adjustments(args: argparse.Namespace, scenario: _core.Scenario) -> list[str]:
    """What this run changes of the scenario, or cannot emulate of it, by
    backend and flags: one line each, printed once and kept in the trace."""
    notes: list[str] = []
    if args.backend == "local":
        notes.append("the local stand-in does not enforce memory: a sandbox may use more than its m MB")
        cpus = os.cpu_count() or 1
        notes.append(f"the local sandboxes share this host's {cpus} CPU core{'s' if cpus != 1 else ''}: more than "
                     f"{cpus} concurrent function{'s' if cpus != 1 else ''} compute slower than on Lambda's one "
                     "vCPU each")
        timeout = scenario.get("lambda.timeout_s")
        if args.timeout is not None and args.timeout != timeout:
            notes.append(f"function timeout {args.timeout:g} s (--timeout), not the scenario's lambda.timeout_s="
                         f"{timeout:g} s")
        limit = scenario.get("lambda.concurrency_limit")
        if args.concurrency_limit is not None and args.concurrency_limit != limit:
            notes.append(f"concurrency limit {args.concurrency_limit} (--concurrency-limit), not the scenario's "
                         f"lambda.concurrency_limit={limit}")
        if args.no_cpu_share:
            notes.append(f"sizes below one vCPU ({scenario.get('lambda.mb_per_vcpu'):g} MB) compute at full speed "
                         "(--no-cpu-share: Lambda's CPU share is not emulated)")
        if _scaling_limit(scenario)[0] is None:
            notes.append("no scaling-rate limit on new sandboxes: the scenario's lambda.scaling.burst is 0")
    elif not scenario.get("lambda.single_function") and not args.function_per_memory:
        notes.append("the AWS backend reconfigures one function, so a memory change retires its warm instances; "
                     "the scenario's lambda.single_function=false assumes one function per size "
                     "(--function-per-memory: one alias per size)")
    elif scenario.get("lambda.single_function") and args.function_per_memory:
        notes.append("each memory size has its own alias and warm pool (--function-per-memory); the scenario's "
                     "lambda.single_function=true assumes one function whose memory change retires them")
    return notes


def _make_backend(args: argparse.Namespace, scenario: _core.Scenario) -> tuple[Any, list[Any]]:
    """The backend and what must be closed after the run."""
    if args.backend == "local":
        from siren.runner.local import LocalLambda, S3Server

        if args.function_per_memory:
            raise ValueError("--function-per-memory: only with --backend aws; the local stand-in keeps a warm pool "
                             "per size when the scenario has lambda.single_function=false")
        burst, refill = _scaling_limit(scenario)
        server = S3Server()
        try:
            server.start()
            backend = LocalLambda(
                server, timeout_s=args.timeout or scenario.get("lambda.timeout_s"),
                keep_alive_s=scenario.get("lambda.keep_alive_s"),
                concurrency_limit=args.concurrency_limit or scenario.get("lambda.concurrency_limit"),
                emulate_cpu_share=not args.no_cpu_share, mb_per_vcpu=scenario.get("lambda.mb_per_vcpu"),
                throttle_first=args.inject_throttles, single_function=scenario.get("lambda.single_function"),
                scaling_burst=burst, scaling_refill_per_s=refill)
        except BaseException:
            server.stop()
            raise
        return backend, [backend, server]
    from siren.runner.aws import AwsBackend

    if not args.function or not args.bucket:
        raise ValueError("--backend aws needs --function and --bucket (see docs/runner-aws.md)")
    backend = AwsBackend(args.function, args.bucket, region=args.region, profile=args.profile,
                         function_per_memory=args.function_per_memory)
    try:
        if args.inject_fault:
            _check_test_fields(backend, args.function)
    except BaseException:
        backend.close()
        raise
    return backend, [backend]


def _check_test_fields(backend: Any, function: str) -> None:
    """ValueError unless the deployed function accepts the worker's
    test-only event fields (--inject-fault sends one)."""
    from siren.runner.worker import TEST_FIELDS_ENV

    variables = (backend.configuration().get("Environment") or {}).get("Variables") or {}
    if variables.get(TEST_FIELDS_ENV) != "1":
        raise ValueError(f"--inject-fault: function {function!r} refuses test-only event fields (its environment "
                         f"does not set {TEST_FIELDS_ENV}=1); expected a function deployed with `siren deploy "
                         "--enable-test-fields`, or --backend local")


def run_job(args: argparse.Namespace, out: Callable[[str], None] = print,
            signals: _Signals | None = None) -> dict[str, Any]:
    """Runs the job of ``args`` (the ``siren run`` flags); returns a summary
    (``status`` "failed" with an ``error`` line when an epoch missed
    batches). The trace (``--out``) is written after every epoch, and with
    status "interrupted" or "failed" (attribute ``error``: why) when an
    exception ends the run. ``signals``: the cleanup runs deferred() there."""
    from siren.runner.datasets import load_dataset
    from siren.runner.job import RealJob, resolve_push_protocol
    from siren.runner.trace import write_run_trace

    overrides = list(args.overrides)
    if args.push_protocol is not None:
        resolve_push_protocol(_core.load_scenario(args.scenario, overrides), args.push_protocol)  # Refuses apply.
        overrides.append(f"execution.push_protocol={args.push_protocol}")
    scenario = _core.load_scenario(args.scenario, overrides)
    push_protocol = resolve_push_protocol(scenario)
    if scenario.get("execution.mode") != "hsp" or scenario.get("execution.sync_every") != 1:
        raise ValueError("--scenario: the runner implements HSP with execution.sync_every=1, got "
                         f"{scenario.get('execution.mode')} with sync_every={scenario.get('execution.sync_every')}")
    codec = _core.ActionCodec(scenario, "box")
    actor = _Actor(args, scenario, codec)  # Refusals first: nothing has started yet.
    from siren.runner.models import spec_from_scenario

    # The worker trains the network the scenario's sgd ground truth names
    # (convergence.sgd.model: linear = softmax, mlp or lenet).
    dataset = load_dataset(args.dataset, scenario.batch_size, seed=args.seed,
                           model=spec_from_scenario(scenario.get), rows=getattr(args, "dataset_rows", None))
    notes = []  # Printed below; the actor printed its own warning.
    if dataset.train_rows != scenario.get("workload.dataset_samples"):
        notes.append(f"{args.dataset} has {dataset.train_rows} training rows, the scenario says "
                     f"{scenario.get('workload.dataset_samples')}; the simulator's view differs until calibrated")
    parameters = dataset.model.parameter_count
    if parameters != scenario.get("workload.model_params"):
        notes.append(f"the worker's {dataset.model.name} model has {parameters} parameters, the scenario says "
                     f"{scenario.get('workload.model_params')} (workload.model_params); the simulator's view differs "
                     "until calibrated")
    notes += _run_adjustments(args, scenario)
    adjustments = actor.adjustments + notes
    burst, refill = _scaling_limit(scenario)
    scaling = f"burst {burst}, {refill:g}/s" if burst is not None and args.backend == "local" else "none"
    bucket = args.bucket or "siren-local"
    prefix = args.prefix or f"jobs/{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    deferred = signals.deferred if signals is not None else contextlib.nullcontext
    job = None
    attrs: dict[str, Any] = {}

    def save(status: str, error: str = "") -> None:
        """The trace of every epoch run so far (job.records), if --out."""
        if args.out and job is not None:
            write_run_trace(args.out, epochs=job.records, invocations=job.invocations, batches=job.batch_rows,
                            requests=job.requests,
                            attrs=dict(attrs, initial_loss=job.initial_loss, status=status, error=error))

    backend, closers = _make_backend(args, scenario)
    try:
        job = RealJob(scenario, backend, dataset, bucket=bucket, prefix=prefix,
                      learning_rate=args.learning_rate, max_attempts=args.max_attempts,
                      budget_margin=args.budget_margin, seed=args.seed, fault=args.inject_fault,
                      push_protocol=push_protocol)
        from siren.policy import scenario_fingerprint

        attrs = {"scenario": scenario.to_yaml(), "backend": backend.name, "dataset": dataset.manifest(),
                 "initial_loss": job.initial_loss, "learning_rate": job.learning_rate,
                 "policy": actor.description, "version": _core.__version__, "bucket": bucket, "prefix": prefix,
                 "host_cpus": os.cpu_count() or 1,
                 "single_function": bool(getattr(backend, "single_function", True)),
                 "scenario_fingerprint": scenario_fingerprint(scenario), "scaling_limit": scaling,
                 "adjustments": adjustments, "push_protocol": push_protocol, **actor.attrs}
        observation = job.reset()
        for note in notes:
            out(f"note: {note}")
        out(f"backend={backend.name} scenario={scenario.name} dataset={dataset.name} "
            f"batches/epoch={len(dataset.batches)} lr={job.learning_rate} push_protocol={push_protocol} "
            f"{actor.description} "
            f"initial_loss={job.initial_loss:.4f}")
        out(f"{'epoch':>5} {'n':>4} {'mem_mb':>6} {'dur_s':>7} {'loss':>7} {'cost_usd':>10} {'cold':>4} "
            f"{'thr':>4} {'err':>4} {'stale':>6} status")
        epochs = args.epochs or scenario.max_epochs
        status, error = "running", ""
        noted: set[str] = set()
        for epoch in range(epochs):
            action = actor(epoch, observation)
            observation, _, terminated, truncated, record = job.step(action)
            for at, kind, text in job.adjustments:
                if kind not in noted:  # Once per kind: every epoch's is in the trace.
                    noted.add(kind)
                    out(f"note: epoch {at}: {text} (shown once; each epoch's is in the trace's adjustment column)")
            status = record["status"]
            error = record.get("failure", "")
            if record.get("skipped"):
                left = job.scenario.budget_usd - record["cumulative_cost_usd"]
                out(f"{epoch:>5} budget guard: not run, {record['budget_reason']} (projected "
                    f"~${record['projected_cost_usd']:.6f}, budget left ${left:.6f})")
            else:
                out(f"{epoch:>5} {record['action_functions']:>4} {record['action_memory_mb']:>6} "
                    f"{record['duration_s']:>7.3f} {record['loss']:>7.4f} {record['cost_total_usd']:>10.7f} "
                    f"{record['cold_starts']:>4} {record['throttles']:>4} {record['worker_errors']:>4} "
                    f"{record['mean_staleness']:>6.2f} {status}")
            if terminated or truncated:
                break
            save(status)
        if status == "running":
            status = "epoch_limit"  # --epochs ran out before the job stopped itself.
        save(status, error)
        ran = job.records
        summary = {"status": status, "epochs": len(ran), "time_s": sum(r["duration_s"] for r in ran),
                   "cost_usd": ran[-1]["cumulative_cost_usd"] if ran else 0.0,
                   "final_loss": ran[-1]["loss"] if ran else job.initial_loss, "trace": args.out, "error": error}
        out(f"status={status} epochs={summary['epochs']} time_s={summary['time_s']:.3f} "
            f"cost_usd={summary['cost_usd']:.7f} final_loss={summary['final_loss']:.4f}"
            + (f" trace={args.out}" if args.out else ""))
        if error:
            out(f"failed: {error}")
        return summary
    except BaseException as error:
        # The trace keeps every finished epoch and what the interrupted or
        # failed one's invocations reported, with the status set.
        with deferred():
            try:
                save("interrupted" if isinstance(error, KeyboardInterrupt) else "failed", _one_line(error))
            except Exception as trace_error:  # Reported, not raised over the run's own outcome.
                print(f"siren run: could not write the trace: {_one_line(trace_error)}", file=sys.stderr)
        raise
    finally:
        # The function's timeout as it was before the guard lowered it.
        with deferred():
            try:
                if job is not None:
                    job.restore_timeout()
            except Exception as error:  # Reported, not raised over the run's own outcome.
                print(f"siren run: could not restore the function's timeout: {_one_line(error)}", file=sys.stderr)
        # Each closer on its own, so the S3 server stops even if a backend fails to close.
        with deferred():
            for closer in closers:
                try:
                    closer.close() if hasattr(closer, "close") else closer.stop()
                except Exception as error:  # Reported, not raised over the run's own outcome.
                    print(f"siren run: while closing {type(closer).__name__}: {error}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    if bool(args.policy) == bool(args.schedule):
        raise ValueError("give exactly one of --policy and --schedule")
    if args.out:
        check_output_file(args.out, "--out")
    from siren.runner.job import RunnerError

    try:
        with _Signals() as signals:
            summary = run_job(args, signals=signals)
    except Interrupted as interrupt:
        trace = f" (trace: {args.out})" if args.out and os.path.exists(args.out) else ""
        print(f"siren: error: interrupted by {interrupt.name}: stopped without waiting for the epoch in "
              f"flight{trace}", file=sys.stderr)
        return 128 + interrupt.signum
    except RunnerError as error:
        print(f"siren: run failed: {error}", file=sys.stderr)
        return 1
    except RuntimeError as error:
        # AWS refusals (siren.runner.aws.AwsError) arrive as one line, without
        # credentials; anything else is a bug and keeps its traceback.
        if type(error).__name__ != "AwsError":
            raise
        print(f"siren: AWS error: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        # The runner's own S3 requests (data upload, the barrier, the loss):
        # a refusal (AccessDenied, expired credentials) is one line too.
        text = _botocore_error(error)
        if text is None:
            raise
        print(f"siren: AWS error: {text}", file=sys.stderr)
        return 1
    if summary["status"] == "failed":
        print(f"siren run: {summary['error']}", file=sys.stderr)
        return 1
    return 0


def _botocore_error(error: BaseException) -> str | None:
    """One redacted line for a botocore error (the request that failed,
    the code, the message and what to do), None for other errors."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - boto3 is a runner dependency
        return None
    if not isinstance(error, (BotoCoreError, ClientError)):
        return None
    from siren.runner.aws import describe_aws_error

    return describe_aws_error(error, getattr(error, "operation_name", None) or "S3")


def _about_trace(path: str, call: Callable[[], Any]) -> Any:
    """Runs `call`, naming the trace in a ValueError's message."""
    try:
        return call()
    except ValueError as error:
        raise ValueError(f"trace {path!r}: {error}") from None


def cmd_calibrate(args: argparse.Namespace) -> int:
    from siren.runner.calibrate import calibrate
    from siren.runner.trace import check_run_trace, read_run_trace

    check_output_file(args.output, "--output")
    # The positionals are one or more traces, then key=value overrides
    # (argparse hands them all to `trace`): a word with '=' that is no file
    # is an override.
    paths = [word for word in args.trace if "=" not in word or Path(word).exists()]
    overrides = [word for word in args.trace if word not in paths] + list(args.overrides)
    if not paths:
        raise ValueError("calibrate: expected at least one trace (an HDF5 file of `siren run --out`) before the "
                         f"key=value overrides, got only {' '.join(overrides)}")
    traces = []
    for path in paths:
        trace = read_run_trace(path)
        _about_trace(path, lambda: check_run_trace(trace))
        traces.append(trace)
    base = _core.load_scenario(args.scenario, overrides) if args.scenario else None
    named = paths[0] if len(paths) == 1 else " ".join(paths)
    with progress_bar(None, "calibrate: server search", args.quiet, unit="replay") as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = _about_trace(named, lambda: calibrate(traces if len(traces) > 1 else traces[0], base,
                                                       server_slots=args.server_slots, progress=progress))
    fit = dict(result["fit"])
    limits = fit.pop("at_search_limit", {})
    epochs = sum(len(trace["epochs"]["epoch"]) for trace in traces)
    runs = f"{len(traces)} {traces[0]['attrs']['backend']} runner traces" if len(traces) > 1 else \
        f"a {traces[0]['attrs']['backend']} runner trace"
    header = [f"# Calibrated by `siren calibrate {named}` from {runs}",
              f"# ({epochs} epochs). Fitted: "
              + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in fit.items())]
    header += [f"# At its search limit (the best fit may lie beyond): {name}: {text}" for name, text in limits.items()]
    header += ["# Overrides applied to the trace's scenario:"] + [f"#   {o}" for o in result["overrides"]]
    Path(args.output).write_text("\n".join(header) + "\n" + result["yaml"])
    for key, value in fit.items():
        print(f"{key}={value}")
    for name, text in limits.items():
        print(f"note: {name} sits at its search limit: {text}; the best fit may lie beyond it, so treat it "
              "as a bound", file=sys.stderr)
    print(f"scenario={args.output}")
    return 0


def cmd_compare_sim(args: argparse.Namespace) -> int:
    from siren.runner.calibrate import compare
    from siren.runner.trace import check_run_trace, read_run_trace

    if args.json:
        check_output_file(args.json, "--json")
    trace = read_run_trace(args.trace)
    _about_trace(args.trace, lambda: check_run_trace(trace))
    if args.scenario:
        scenario = _core.load_scenario(args.scenario, list(args.overrides))
    else:
        scenario = _core.parse_scenario(trace["attrs"]["scenario"], list(args.overrides), "trace scenario")
    result = _about_trace(args.trace, lambda: compare(trace, scenario,
                                                      list(range(args.first_seed, args.first_seed + args.seeds))))
    print(f"trace={args.trace} scenario={scenario.name} simulated seeds={args.seeds}")
    print(f"{'epoch':>5} {'n':>4} {'mem_mb':>6} {'real_s':>8} {'sim_s':>8} {'err':>7} {'real_usd':>10} "
          f"{'sim_usd':>10} {'err':>7} {'real_loss':>9} {'sim_loss':>9}")
    for r in result["rows"]:
        print(f"{r['epoch']:>5} {r['functions']:>4} {r['memory_mb']:>6} {r['real_duration_s']:>8.3f} "
              f"{r['sim_duration_s']:>8.3f} {100 * r['error_duration_s']:>+6.1f}% {r['real_cost_total_usd']:>10.7f} "
              f"{r['sim_cost_total_usd']:>10.7f} {100 * r['error_cost_total_usd']:>+6.1f}% {r['real_loss']:>9.4f} "
              f"{r['sim_loss']:>9.4f}")
    for key, total in result["totals"].items():
        print(f"total {key}: real {total['real']:.6g} sim {total['sim']:.6g} error {100 * total['error']:+.1f}%")
    print("max |error| per epoch: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in result["max_abs_error"].items()))
    if args.seeds > 1:
        print("simulator's spread over seeds (sd / mean), largest per epoch: "
              + ", ".join(f"{k} {100 * v:.1f}%" for k, v in result["max_spread"].items())
              + " (one run's epoch lies about this far from the mean by chance alone)")
    for caveat in result.get("caveats", []):
        print(f"note: {caveat}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"json={args.json}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Adds ``run``, ``calibrate``, ``compare-sim`` and ``deploy``."""
    p = sub.add_parser("run", help="run a real training job (local stand-in or AWS Lambda) driven by a "
                                   "policy or a schedule")
    p.add_argument("--policy", default=None, help="an exported policy.pt (siren export)")
    p.add_argument("--schedule", default=None, help="FUNCTIONS:MEMORY_MB[,...] per epoch instead of a policy")
    p.add_argument("--backend", choices=["local", "aws"], default="local", help="(default: %(default)s)")
    p.add_argument("--scenario", default=DEFAULT_SCENARIO,
                   help="preset or YAML the policy was trained on (default: %(default)s)")
    p.add_argument("--allow-scenario-mismatch", action="store_true",
                   help="run a policy trained on another scenario (its job or its action and observation "
                        "scaling differ) with a warning instead of refusing it")
    p.add_argument("--dataset", default="digits", help="digits, click_through or an HDF5 dataset "
                                                       "(`siren data mnist`); the worker trains the scenario's "
                                                       "convergence.sgd.model (default: %(default)s)")
    p.add_argument("--dataset-rows", type=positive_int, default=None,
                   help="use only the dataset's first N rows (default: all; 20 %% of them are held out)")
    p.add_argument("--epochs", type=positive_int, default=None, help="stop after N epochs (default: job.max_epochs)")
    p.add_argument("--out", default=None, help="HDF5 trace path, rewritten after every epoch")
    p.add_argument("--learning-rate", type=_learning_rate, default=None,
                   help="SGD step of epoch 0, in (0, 100], then the scenario's convergence.sgd.lr_schedule "
                        "(default: the scenario's convergence.sgd.learning_rate)")
    p.add_argument("--max-attempts", type=positive_int, default=4,
                   help="invocations per worker share before recovery (default: %(default)s)")
    p.add_argument("--budget-margin", type=_margin, default=None,
                   help="safety factor of the budget guard's projection, >= 1 (default: the scenario's "
                        "job.budget_margin)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of back-off jitter (default: %(default)s)")
    p.add_argument("--push-protocol", default=None, metavar="{cas,overwrite,fold}",
                   help="the parameter store's protocol (sets execution.push_protocol): cas = compare-and-swap "
                        "with jittered back-off, overwrite = last writer wins (lost updates counted), fold = "
                        "updates as objects of their own, folded in by one more function per epoch (default: the "
                        "scenario's; its simulator-only apply is refused)")
    p.add_argument("--bucket", default=None, help="S3 bucket (default: siren-local on the local backend)")
    p.add_argument("--prefix", default=None, help="key prefix of this job (default: jobs/<time>-<random>)")
    p.add_argument("--function", default=None, help="aws: the deployed worker function")
    p.add_argument("--region", default=None, help="aws: region (default: the AWS configuration's)")
    p.add_argument("--profile", default=None, help="aws: named profile")
    p.add_argument("--function-per-memory", action="store_true",
                   help="aws: one published version and alias (siren-<m>mb) per memory size, each with its own "
                        "warm pool (the simulator's lambda.single_function=false), instead of reconfiguring the "
                        "function at each memory change")
    p.add_argument("--timeout", type=positive_float, default=None,
                   help="local: function timeout in s (default: the scenario's lambda.timeout_s)")
    p.add_argument("--concurrency-limit", type=positive_int, default=None,
                   help="local: concurrent invocations before 429 (default: the scenario's)")
    p.add_argument("--no-cpu-share", action="store_true",
                   help="local: do not emulate the CPU share of small memory sizes")
    p.add_argument("--inject-throttles", type=non_negative_int, default=0,
                   help="local, tests: refuse the first K invocations with 429")
    p.add_argument("--inject-fault", type=_fault, default=None,
                   help='tests: JSON {"token", "worker", "epoch", "at_batch", "when": "before_push"|"after_push"'
                        '[, "how": "raise"|"exit"|"hang"]}: that worker\'s first invocation fails once (raises, '
                        "its sandbox dies, or it runs into the timeout); on AWS only with a function deployed "
                        "with --enable-test-fields")
    add_overrides(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("calibrate", help="fit the simulator's platform and convergence parameters to runner traces")
    p.add_argument("trace", nargs="+", help="one or more HDF5 traces of `siren run --out`, runs of the same job "
                                            "(several are pooled: statistics over all their rows, the server "
                                            "search over every run's epochs)")
    p.add_argument("-o", "--output", required=True, help="calibrated scenario YAML to write")
    p.add_argument("--scenario", default=None, help="base scenario (default: the one stored in the trace)")
    p.add_argument("--server-slots", type=non_negative_int, default=None,
                   help="most S3 requests served at once, tried from 1 up; 0 = unlimited like AWS S3 "
                        "(default: the traced machine's cores, at most 4, for a local trace; 0 for AWS)")
    add_quiet(p)
    add_overrides(p)
    p.set_defaults(handler=cmd_calibrate)

    p = sub.add_parser("compare-sim", help="replay a runner trace's actions in the simulator; per-epoch errors")
    p.add_argument("trace", help="an HDF5 trace of `siren run --out`")
    p.add_argument("--scenario", default=None, help="scenario to simulate (default: the trace's; give the "
                                                   "calibrated YAML)")
    p.add_argument("--seeds", type=positive_int, default=5, help="simulated seeds averaged (default: %(default)s)")
    p.add_argument("--first-seed", type=non_negative_int, default=0, help="(default: %(default)s)")
    p.add_argument("--json", default=None, help="write the comparison as JSON here")
    add_overrides(p)
    p.set_defaults(handler=cmd_compare_sim)

    from siren.runner import deploy, teardown

    deploy.add_commands(sub)
    teardown.add_commands(sub)
