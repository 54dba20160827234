"""Run independent pieces of work (comparisons, renderings, pages) on every CPU."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

Result = TypeVar("Result")
Task = Callable[[], Result]

TASKS_PER_WORKER = 3
"""The fewest tasks per process worth starting workers for, unless told (pages to render)."""
SHORTEST_PIECE = 12
"""The fewest tasks of a piece cut from a run: a piece's first tasks redo what the run's tasks share."""

_runs: list[Sequence[Callable[[], object]]] = []
"""The runs of the :func:`run` in progress, which forked workers find in their copy of memory."""
_order: list[int] = []
"""The runs of :data:`_runs` in the order they are taken: the longest first."""
_taken: Synchronized[int] | None = None
"""How many of :data:`_order` were taken, shared by the processes of the :func:`run` in progress."""


def run(runs: Sequence[Sequence[Task[Result]]], processes: int | None = None,
        meanwhile: Callable[[], object] = lambda: None, worth: int = TASKS_PER_WORKER) -> list[list[Result]]:
    """``[[task() for task in run] for run in runs]``: the runs shared out among this process
    and worker processes forked from it, each run's tasks in order in one process, where they
    share its caches (consecutive versions share most of their sections). Each process takes
    the longest run left; the longest runs are cut in two until none is longer than a
    process's share and there are twice as many as processes.

    Workers see this process's memory as it is when they start: the tasks are not sent to
    them (only their results come back, pickled), and what a task changes in memory stays in
    its worker. When tasks fail, the error raised is that of the first in order, as it would
    be in one process. ``meanwhile`` is called in this process while the workers run, before
    it takes runs itself (after the tasks when they all run here); an error it raises is
    raised at once.

    :param processes: CPUs to use. Defaults to all of them. The tasks run in this process with
        one CPU, without the ``fork`` start method, or when there are fewer than ``worth`` per
        process.
    :param worth: The fewest tasks per process worth starting workers for (starting one takes
        longer than rendering a few pages).
    """
    global _runs, _order, _taken
    total = sum(len(r) for r in runs)
    workers = min(processes or os.cpu_count() or 1, total // worth)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        here = [[task() for task in tasks] for tasks in runs]
        meanwhile()
        return here
    pieces = [(n, 0, len(tasks)) for n, tasks in enumerate(runs) if tasks]  # (run, start, end)
    while True:  # no piece longer than a process's share, and enough for idle ones to even out the load
        longest = max(pieces, key=lambda p: p[2] - p[1])
        n, start, end = longest
        if end - start < 2 * SHORTEST_PIECE or (len(pieces) >= 2 * workers
                                                 and (end - start) * workers <= total):
            break
        middle = (start + end) // 2
        pieces[pieces.index(longest):pieces.index(longest) + 1] = [(n, start, middle), (n, middle, end)]
    context = multiprocessing.get_context("fork")
    _runs = [runs[n][start:end] for n, start, end in pieces]
    _order = sorted(range(len(pieces)), key=lambda i: pieces[i][1] - pieces[i][2])
    _taken = context.Value("i", 0)
    frozen = gc.get_freeze_count()  # by the caller, who unfreezes them
    gc.freeze()  # the workers' collections leave this process's objects alone: no copying them
    try:
        with context.Pool(workers - 1) as pool:
            theirs = [pool.apply_async(_take) for _ in range(workers - 1)]
            meanwhile()
            done = _take()
            for share in theirs:
                done.update(share.get())
    finally:
        if not frozen:
            gc.unfreeze()
        _runs, _order, _taken = [], [], None
    results: list[list[Result]] = [[] for _ in runs]
    for index, (n, _, _) in enumerate(pieces):
        finished, error = done[index]
        if error is not None:
            raise error
        results[n].extend(cast("list[Result]", finished))
    return results


def _take() -> dict[int, tuple[list[object], Exception | None]]:
    """Run the runs of :data:`_runs` not taken yet, one at a time, until none is left: for
    each, the results of its tasks up to the first that fails, and its error."""
    assert _taken is not None
    done: dict[int, tuple[list[object], Exception | None]] = {}
    while True:
        with _taken.get_lock():
            taken = _taken.value
            _taken.value += 1
        if taken >= len(_order):
            return done
        index = _order[taken]
        results: list[object] = []
        try:
            for task in _runs[index]:
                results.append(task())
        except Exception as error:  # raised by the process that shared out the work, in order
            done[index] = (results, error)
        else:
            done[index] = (results, None)
