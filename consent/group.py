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
                settle(future, outcome)
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


def settle(future: Future[Any], outcome: tuple[bool, Any]) -> None:
    """Resolve ``future`` with ``outcome``, ``(True, result)`` or ``(False, error)``, unless
    it was cancelled."""
    ok, value = outcome
    try:
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
    except InvalidStateError:  # cancelled: nobody waits for this answer
        pass


class Outcome:
    """The outcome to come of an item given to :meth:`Batcher.submit`: a lock held until a
    worker settles it (one wake-up of the waiting thread, where a ``Future`` takes several
    lock operations and a condition); or, with ``then``, a call of ``then(outcome)`` on the
    worker's thread instead, for callers that do not wait in a thread of their own."""

    __slots__ = ("_done", "_outcome", "_then")

    def __init__(self, then: Callable[[tuple[bool, Any]], None] | None = None) -> None:
        self._done = threading.Lock()
        self._done.acquire()
        self._outcome: tuple[bool, Any] = (False, None)
        self._then = then

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the outcome (at most ``timeout`` seconds, else :class:`TimeoutError`);
        returns its result or raises its error."""
        if not self._done.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError(f"no outcome after {timeout} seconds")
        self._done.release()
        ok, value = self._outcome
        if ok:
            return value
        raise value

    def settle(self, outcome: tuple[bool, Any]) -> None:
        """Set the outcome, ``(True, result)`` or ``(False, error)``, and wake the waiter (or
        call ``then``)."""
        self._outcome = outcome
        self._done.release()
        if self._then is not None:
            self._then(outcome)


class Batcher:
    """Runs items submitted from many threads in batches, in the order submitted, on up to
    ``workers`` threads: when no batch runs, a free worker takes every item queued by then (up
    to ``limit`` of ``size(item)``); while batches run, another takes the items queued only
    once they add up to ``overlap`` or more. ``run(batch)`` returns one outcome per item,
    ``(True, result)`` or ``(False, error)``; an error of ``run`` itself fails the batch.

    The PostgreSQL engine appends events this way: the calls waiting together share one
    statement and one commit instead of a transaction each (whose statements cost the server
    and the calling threads' shared interpreter more than its commit). Small batches run one
    at a time, the next filling while one commits: more in flight would make more, smaller
    ones. A large batch goes to the server while another runs: its statement looks its
    subjects up and waits there for the chains they share (the server's locks order the two),
    so that between two large batches the server waits neither for this process nor for its
    threads' turns at the interpreter."""

    def __init__(self, run: Callable[[list[Any]], list[tuple[bool, Any]]],
                 size: Callable[[Any], int], limit: int, workers: int, overlap: int):
        self._run, self._size, self._limit = run, size, limit
        self._workers, self._overlap = workers, overlap
        self._pending: list[tuple[Any, Outcome]] = []
        self._queued = 0
        """The sum of ``size(item)`` of the items pending."""
        self._running = 0
        self._threads: list[threading.Thread] = []
        self._ready = threading.Condition()
        self._closing = False

    def submit(self, item: Any, then: Callable[[tuple[bool, Any]], None] | None = None
               ) -> Outcome:
        """``item``'s outcome to come; ``then(outcome)`` is called with it, on the worker's
        thread, when given (it must not raise)."""
        waiting = Outcome(then)
        with self._ready:
            if not self._threads:
                self._threads = [threading.Thread(target=self._serve, name=f"batch-{n}",
                                                  daemon=True) for n in range(self._workers)]
                for thread in self._threads:
                    thread.start()
            self._pending.append((item, waiting))
            self._queued += self._size(item)
            if not self._running or self._queued >= self._overlap:  # else none can take it
                self._ready.notify()
        return waiting

    def close(self) -> None:
        """Run what is queued, then stop the threads."""
        with self._ready:
            self._closing = True
            self._ready.notify_all()
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join()
        self._closing = False

    def _take(self) -> list[tuple[Any, Outcome]] | None:
        """The next batch (``None``: closing and nothing left), holding the lock."""
        while True:
            count = total = 0
            for item, _ in self._pending:
                if total >= self._limit:
                    break
                count += 1
                total += self._size(item)
            if count and (not self._running or total >= self._overlap):
                batch, self._pending = self._pending[:count], self._pending[count:]
                self._queued -= total
                self._running += 1
                if self._pending:
                    self._ready.notify()  # perhaps another worker can take some
                return batch
            if self._closing and not self._pending:
                return None
            self._ready.wait()

    def _serve(self) -> None:
        while True:
            with self._ready:
                batch = self._take()
            if batch is None:
                return
            try:
                outcomes = self._run([item for item, _ in batch])
            except Exception as error:  # the batch failed: nothing was written
                outcomes = [(False, error)] * len(batch)
            with self._ready:
                self._running -= 1
                if self._closing:
                    self._ready.notify_all()
            for (_, waiting), outcome in zip(batch, outcomes, strict=True):
                waiting.settle(outcome)
