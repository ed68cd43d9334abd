"""The baselines a scheduler is judged against, from Python (the C++ of
``agent/baselines/`` through ``siren._core``; ``siren sweep`` and ``siren
evaluate`` print them).

The oracle static baseline is the best static configuration, one (n
functions, m MB) for every epoch, on the platform's full grid: every n in
[env.min_functions, env.max_functions] times every feasible memory size of
the era's grid (64 MB steps in the 2018 era, 1 MB since 2020), ranked like
grid search (the most successes on the seeds, then the lowest mean JCT).
That grid is too large to run in full, so ``oracle_static`` searches it:
a coarse stage (a geometric ladder of n x a subsampled memory axis, plus
`include`), then pattern searches from the best coarse memory rows down to
`function_step` functions and `memory_step` memory steps
(``agent/baselines/oracle_static.h`` states the algorithm). Its result is
never worse, on the seeds it is tuned on, than any configuration it
evaluated (every coarse and included one), and no configuration one final
step away from it (8 neighbours) is better when ``local_optimum`` is true.

    import siren
    from siren.baselines import oracle_static

    result = oracle_static(siren.load_scenario("default"), seeds=range(8), budget=0.25)
    result["best"]["functions"], result["best"]["memory_mb"], result["best"]["mean_jct_s"]
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from siren import _core

__all__ = ["ORACLE_DEFAULTS", "oracle_static"]

# The search's options and their defaults (as ``_core.oracle_static``'s).
ORACLE_DEFAULTS = {
    "function_ratio": 1.25,  # Coarse n ladder: each n at most this times the previous.
    "coarse_memory": 12,  # Coarse memory sizes (grid search's default axis).
    "starts": 4,  # Pattern searches, from the best coarse memory rows.
    "function_step": 1,  # Final resolution in n.
    "memory_step": 1,  # Final resolution in steps of the feasible memory grid.
}


def oracle_static(scenario: _core.Scenario, seeds: Iterable[int], budget: float | None = None, *,
                  include: Iterable[tuple[int, int]] = (), num_threads: int | None = None,
                  **options: float) -> dict:
    """The oracle static configuration of `scenario` at `budget` (default:
    its job.budget_usd), tuned on `seeds`.

    Args:
        scenario: the scenario (its budget is replaced by `budget`).
        seeds: the seeds every configuration runs from; the ranking is on
            their mean.
        budget: the budget in USD.
        include: (functions, memory_mb) configurations to evaluate in the
            coarse stage too (e.g. grid search's optimum: the result is then
            never worse than it on these seeds).
        num_threads: simulation threads (default: every CPU); the result does
            not depend on it.
        **options: any of ``ORACLE_DEFAULTS`` (and ``max_rounds``).

    Returns:
        budget_usd; best: functions, memory_mb, mean_jct_s, mean_cost_usd,
        success_rate, successes, over_budget and per-seed episodes;
        coarse_points, evaluated (distinct configurations run), rounds and
        local_optimum.

    Raises:
        ValueError: naming a bad option, budget, seed list or included
            configuration.
    """
    unknown = sorted(set(options) - set(ORACLE_DEFAULTS) - {"max_rounds"})
    if unknown:
        raise ValueError(f"oracle_static: unknown option {unknown[0]!r}, expected one of "
                         f"{', '.join(sorted(ORACLE_DEFAULTS))}, max_rounds")
    budget = scenario.budget_usd if budget is None else budget
    [result] = _core.oracle_static(scenario, [budget], list(seeds), include=list(include),
                                   num_threads=num_threads or os.cpu_count() or 1, **options)
    return result
