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
