"""Run independent pieces of work (comparisons, renderings, pages) on every CPU."""

from __future__ import annotations

import gc
import os
import pickle
import signal
import tempfile
from collections.abc import Callable, Sequence
from typing import IO, TypeVar, cast

Result = TypeVar("Result")
Task = Callable[[], Result]

TASKS_PER_WORKER = 3
"""The fewest tasks per process worth starting workers for, unless told (pages to render)."""
SHORTEST_PIECE = 6
"""The fewest tasks of a piece cut from a run: a piece's first tasks redo what the run's tasks share."""
_NUMBER = 4
"""The bytes of a number in the pipe :func:`run` deals the runs through."""
_NUMBERS = 1024
"""The most numbers dealt (4 KiB: a pipe holds them all, wherever it is)."""

_runs: list[Sequence[Callable[[], object]]] = []
"""The runs of the :func:`run` in progress, which forked workers find in their copy of memory."""
_order: list[list[int]] = []
"""The runs of :data:`_runs` in the order they are taken, the longest first, in groups (of
one run unless there are more than :data:`_NUMBERS`)."""
_dealt: int | None = None
"""The pipe (its reading end) from which the processes of the :func:`run` in progress take
the numbers of the groups of :data:`_order`: each number is read by one process."""


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
        one CPU, where processes cannot be forked or no file can be made for their results,
        or when there are fewer than ``worth`` per process.
    :param worth: The fewest tasks per process worth starting workers for (starting one takes
        longer than rendering a few pages).
    """
    global _runs, _order, _dealt
    total = sum(len(r) for r in runs)
    workers = min(processes or os.cpu_count() or 1, total // worth)
    files = _files(workers - 1) if workers >= 2 and hasattr(os, "fork") else None
    if files is None:
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
    _runs = [runs[n][start:end] for n, start, end in pieces]
    order = sorted(range(len(pieces)), key=lambda i: pieces[i][1] - pieces[i][2])
    group = -(-len(order) // _NUMBERS)
    _order = [order[start:start + group] for start in range(0, len(order), group)]
    _dealt, deal = os.pipe()  # written whole before any is read: each read takes one number whole
    os.write(deal, b"".join(n.to_bytes(_NUMBER, "little") for n in range(len(_order))))
    os.close(deal)
    frozen = gc.get_freeze_count()  # by the caller, who unfreezes them
    gc.freeze()  # the workers' collections leave this process's objects alone: no copying them
    children: dict[int, IO[bytes]] = {}  # the file of each worker's results, by process id
    try:
        for results in files:
            pid = os.fork()
            if pid == 0:
                _work(results.fileno())
            children[pid] = results
        meanwhile()
        done = _take()
        for pid in list(children):
            os.waitpid(pid, 0)
            with children.pop(pid) as file:
                file.seek(0)
                data = file.read()
            found = pickle.loads(data) if data else RuntimeError("a worker process ended before sending "
                                                                 "its results")
            if isinstance(found, Exception):
                raise found
            done.update(found)
    finally:
        for pid in children:  # on an error here: the workers are stopped
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
        for file in files:
            file.close()
        os.close(_dealt)
        if not frozen:
            gc.unfreeze()
        _runs, _order, _dealt = [], [], None
    collected: list[list[Result]] = [[] for _ in runs]
    for index, (n, _, _) in enumerate(pieces):
        finished, error = done[index]
        if error is not None:
            raise error
        collected[n].extend(cast("list[Result]", finished))
    return collected


def _files(count: int) -> list[IO[bytes]] | None:
    """``count`` unnamed files, one for each worker's results, written whole at once by a
    worker done before this process (a pipe would hold it up until this process is done, then
    take a round trip between them for each of its 64 KiB): in memory where the system makes
    such files (Linux), else temporary files; ``None`` when there is no folder to make them in."""
    files: list[IO[bytes]] = []
    try:
        for _ in range(count):
            files.append(os.fdopen(os.memfd_create("termsledger-results"), "w+b")
                         if hasattr(os, "memfd_create") else tempfile.TemporaryFile())
    except OSError:
        for file in files:
            file.close()
        return None
    return files


def _work(results: int) -> None:
    """A worker's life: :func:`_take`, its results pickled into the file ``results``, then the
    end of the process (without the exit handlers of the process it was forked from)."""
    status = 1
    try:
        try:
            data = pickle.dumps(_take())
        except Exception as error:  # a result or an error that cannot be pickled
            data = pickle.dumps(RuntimeError(f"a worker's results cannot be sent: {error!r}"))
        with open(results, "wb", closefd=False) as file:
            file.write(data)
        status = 0
    finally:
        os._exit(status)


def _take() -> dict[int, tuple[list[object], Exception | None]]:
    """Run the runs of :data:`_runs` not taken yet, one at a time, until none is left: for
    each, the results of its tasks up to the first that fails, and its error."""
    assert _dealt is not None
    done: dict[int, tuple[list[object], Exception | None]] = {}
    while number := os.read(_dealt, _NUMBER):
        for index in _order[int.from_bytes(number, "little")]:
            results: list[object] = []
            try:
                for task in _runs[index]:
                    results.append(task())
            except Exception as error:  # raised by the process that shared out the work, in order
                done[index] = (results, error)
            else:
                done[index] = (results, None)
    return done
