"""One writer at a time: an in-process lock, then a file lock on ``<db>.lock`` shared by every
process, both taken before ``BEGIN IMMEDIATE``.

SQLite's own busy handler sleeps in steps of up to 100 ms and can still give up with "database
is locked"; waiting on these locks instead is fair, prompt and never surfaces that error.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator

from filelock import FileLock

POLL = 0.001
"""Seconds between attempts at the file lock (filelock polls): short, for tail latency."""

_locks: dict[str, "WriterLock"] = {}
_locks_guard = threading.Lock()


class WriterLock:
    """The writer lock of one database file; reentrant within a thread."""

    def __init__(self, path: str):
        self._thread = threading.RLock()
        self._file = FileLock(path + ".lock", thread_local=False, poll_interval=POLL)
        self._depth = 0

    @contextmanager
    def hold(self) -> Iterator[bool]:
        """Hold the lock; yields ``True`` for the outermost holder (who runs the transaction)."""
        with self._thread:
            outer = self._depth == 0
            if outer:
                self._file.acquire()
            self._depth += 1
            try:
                yield outer
            finally:
                self._depth -= 1
                if outer:
                    self._file.release()


def writer_lock(path: str) -> WriterLock:
    """The one :class:`WriterLock` of this process for the database at ``path``."""
    key = os.path.realpath(path)
    with _locks_guard:
        if key not in _locks:
            _locks[key] = WriterLock(key)
        return _locks[key]
