"""Group commit: the writes of concurrent requests share one ledger transaction.

Each committed transaction costs an fsync (``synchronous=FULL``), a millisecond or more on
most disks, so one transaction per request caps a server far below what its clients send.
A :class:`GroupCommit` runs queued writes on one thread, as many as are waiting, each in its
own savepoint inside one :meth:`consent.Ledger.transaction`, and answers every request only
after that transaction committed: an acknowledged write is durable, and a refused one
(``ConsentError``) rolls back alone.

Server workers queue for the ledger on a blocking OS lock (``<ledger>.commit-lock``) first:
the ledger's own cross-process file lock polls every 50 ms when contended, which a worker
waiting behind another would pay in latency; a blocking ``flock`` wakes it at once.
"""

from __future__ import annotations

import asyncio
import fcntl
import queue
import threading
from typing import Any, Callable

import consent

MAX_BATCH = 512
"""Most writes committed together."""


class GroupCommit:
    """Runs writes for :attr:`ledger` on one thread, committing them in groups."""

    def __init__(self, ledger: consent.Ledger):
        self.ledger = ledger
        self._lock_path = ledger.path + ".commit-lock"
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    async def run(self, write: Callable[[], Any]) -> Any:
        """``write()``'s result once its transaction committed; raises what it raised."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._ensure_thread()
        self._queue.put((write, loop, future))
        return await future

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self._start:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None

    def _ensure_thread(self) -> None:
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="group-commit", daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        with open(self._lock_path, "a") as lock:
            while True:
                first = self._queue.get()
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:  # drain once the lock is ours: what arrived while waiting joins in
                    batch = [first] + self._drain()
                    writes = [item for item in batch if item is not None]
                    outcomes = self._commit([write for write, _, _ in writes])
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
                self._answer(writes, outcomes)
                if len(writes) < len(batch):
                    return

    def _drain(self) -> list:
        items = []
        while len(items) < MAX_BATCH and not self._queue.empty():
            items.append(self._queue.get())
        return items

    @staticmethod
    def _answer(writes: list, outcomes: list[tuple[bool, Any]]) -> None:
        for (_, loop, future), outcome in zip(writes, outcomes):
            try:
                loop.call_soon_threadsafe(_settle, future, outcome)
            except RuntimeError:  # the loop closed: nobody waits for this answer
                pass

    def _commit(self, writes: list[Callable[[], Any]]) -> list[tuple[bool, Any]]:
        """Each write's ``(ok, result or error)``, all in one transaction."""
        if not writes:
            return []
        outcomes = []
        try:
            with self.ledger.transaction() as conn:
                for write in writes:
                    conn.execute("SAVEPOINT request")
                    try:
                        outcomes.append((True, write()))
                    except Exception as error:
                        conn.execute("ROLLBACK TO request")
                        outcomes.append((False, error))
                    conn.execute("RELEASE request")
        except Exception as error:  # the commit failed: nothing was written
            return [(False, error)] * len(writes)
        return outcomes


def _settle(future: asyncio.Future, outcome: tuple[bool, Any]) -> None:
    if future.cancelled():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
