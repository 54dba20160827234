"""Group commit: writes submitted from many threads share one transaction, and so one fsync.

With ``synchronous=FULL`` every commit waits for the disk, so one transaction per write caps a
server far below what its clients send. A :class:`GroupCommit` runs submitted writes on one
thread: once it holds the writer lock (which queues it behind other processes' writers), it
takes every write queued by then, runs each in its own savepoint inside one transaction and
resolves their futures after the commit. An acknowledged write is durable; a refused one rolls
back alone.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
Item = tuple[Callable[[], Any], "Future[Any]"]


class Writable(Protocol):
    """What a group commit writes through: the SQLite engine's write transactions."""

    def write(self) -> AbstractContextManager[sqlite3.Connection]: ...

MAX_GROUP = 512
"""Most writes committed together."""


class GroupCommit:
    """Runs writes on one thread, committing them in groups through ``store``."""

    def __init__(self, store: Writable):
        self._store = store
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def submit(self, write: Callable[[], T]) -> Future[T]:
        """A future of ``write()``'s result (or error), resolved once its transaction committed."""
        future: Future[T] = Future()
        with self._guard:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="group-commit",
                                                daemon=True)
                self._thread.start()
            self._queue.put((write, future))
        return future

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self._guard:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None

    def _serve(self) -> None:
        while True:
            group: list[Item | None] = [self._queue.get()]
            if group[0] is None:
                return
            outcomes: list[tuple[bool, Any]]
            try:
                with self._store.write() as conn:
                    while len(group) < MAX_GROUP and not self._queue.empty():
                        group.append(self._queue.get())  # arrived while waiting for the lock
                    outcomes = [_attempt(conn, item[0]) for item in group if item is not None]
            except Exception as error:  # the commit failed: nothing was written
                outcomes = [(False, error)] * len(group)
            for (_, future), outcome in zip(filter(None, group), outcomes, strict=True):
                _settle(future, outcome)
            if None in group:
                return


def _attempt(conn: sqlite3.Connection, write: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``write`` in a savepoint: its error rolls back its writes alone, unless SQLite
    rolled back the whole transaction (a full disk, an I/O error): then the group fails."""
    conn.execute("SAVEPOINT write")
    try:
        result = write()
    except Exception as error:
        if not conn.in_transaction:
            raise
        conn.execute("ROLLBACK TO write")
        conn.execute("RELEASE write")
        return False, error
    conn.execute("RELEASE write")
    return True, result


def _settle(future: Future[Any], outcome: tuple[bool, Any]) -> None:
    ok, value = outcome
    try:
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
    except InvalidStateError:  # cancelled: nobody waits for this answer
        pass


class Batcher:
    """Runs items submitted from many threads in batches on ``workers`` threads: ``run(batch)``
    gets every item queued when a worker is free (up to ``limit`` of ``size(item)``) and
    returns one outcome per item, ``(True, result)`` or ``(False, error)``; an error of ``run``
    itself fails the batch. Several workers keep batches going while others wait for their
    commit.

    The PostgreSQL engine appends events this way: the events of the calls waiting together
    share one claim of their chains, one statement per table and one commit, instead of a
    transaction each (whose statements cost the calling threads' shared interpreter more
    than the server its commit)."""

    def __init__(self, run: Callable[[list[Any]], list[tuple[bool, Any]]],
                 size: Callable[[Any], int], limit: int, workers: int = 1):
        self._run, self._size, self._limit, self._workers = run, size, limit, workers
        self._queue: queue.SimpleQueue[tuple[Any, Future[Any]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._guard = threading.Lock()

    def submit(self, item: Any) -> Future[Any]:
        """A future of ``item``'s outcome."""
        future: Future[Any] = Future()
        with self._guard:
            if not self._threads:
                self._threads = [threading.Thread(target=self._serve, name="batch", daemon=True)
                                 for _ in range(self._workers)]
                for thread in self._threads:
                    thread.start()
            self._queue.put((item, future))
        return future

    def close(self) -> None:
        """Run what is queued, then stop the threads."""
        with self._guard:
            for _ in self._threads:
                self._queue.put(None)
            for thread in self._threads:
                thread.join()
            self._threads = []

    def _serve(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                return
            batch, total = [first], self._size(first[0])
            while total < self._limit and not self._queue.empty():
                queued = self._queue.get()
                if queued is None:
                    stop = True
                    break
                batch.append(queued)
                total += self._size(queued[0])
            try:
                outcomes = self._run([item for item, _ in batch])
            except Exception as error:  # the batch failed: nothing was written
                outcomes = [(False, error)] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                _settle(future, outcome)
