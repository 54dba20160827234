"""Run independent pieces of work (comparisons, renderings) on every CPU."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence

Task = tuple[Callable[..., Any], tuple]


def run(here: Sequence[Task], elsewhere: Sequence[Task],
        processes: int | None = None) -> tuple[list[Any], list[Any]]:
    """``function(*args)`` for each ``(function, args)``: the ``here`` tasks in this process
    (whose caches they share) while the ``elsewhere`` tasks run in worker processes on the
    other CPUs. Returns both lists of results, in order.

    :param processes: CPUs to use. Defaults to all of them; with one CPU, or without the
        ``fork`` start method, all the work runs in this process.
    """
    cpus = processes or os.cpu_count() or 1
    workers = min(len(elsewhere), cpus - 1 if here else cpus)
    if workers < (1 if here else 2) or "fork" not in multiprocessing.get_all_start_methods():
        return [_call(task) for task in here], [_call(task) for task in elsewhere]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        results = pool.map(_call, elsewhere, chunksize=1)  # submits every task at once
        return [_call(task) for task in here], list(results)


def _call(task: Task) -> Any:
    function, args = task
    return function(*args)
