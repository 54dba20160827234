"""Run independent pieces of work (comparisons, renderings) on every CPU."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence


def run(tasks: Sequence[tuple[Callable[..., Any], tuple]], processes: int | None = None) -> list[Any]:
    """``function(*args)`` for each ``(function, args)`` of ``tasks``, results in order.

    :param processes: worker processes. Defaults to the number of CPUs; with one CPU, one
        task or no ``fork`` start method, the work runs in this process.
    """
    workers = min(len(tasks), processes or os.cpu_count() or 1)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(*args) for function, args in tasks]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_call, tasks, chunksize=1))


def _call(task: tuple[Callable[..., Any], tuple]) -> Any:
    function, args = task
    return function(*args)
