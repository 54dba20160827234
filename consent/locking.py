"""One writer at a time: an in-process lock, then an OS file lock on ``<db>.lock`` shared by
every process, both taken before ``BEGIN IMMEDIATE``.

SQLite's own busy handler sleeps in steps of up to 100 ms and can still give up with "database
is locked"; waiting on these locks instead is fair, prompt and never surfaces that error. On
POSIX the file lock is a blocking ``flock`` on a descriptor kept open (two system calls per
transaction; the kernel releases it when a process dies); elsewhere filelock's polling lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

try:
    import fcntl
    HAS_FLOCK = True
except ImportError:  # Windows
    HAS_FLOCK = False

POLL = 0.001
"""Seconds between attempts at the file lock where it polls (without ``fcntl``)."""

_locks: dict[str, WriterLock] = {}
_locks_guard = threading.Lock()


class WriterLock:
    """The writer lock of one database file; reentrant within a thread."""

    def __init__(self, path: str):
        self._thread = threading.RLock()
        self._path = path + ".lock"
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0
        if not HAS_FLOCK:
            from filelock import FileLock
            self._file = FileLock(self._path, thread_local=False, poll_interval=POLL)

    @contextmanager
    def hold(self) -> Iterator[bool]:
        """Hold the lock; yields ``True`` for the outermost holder (who runs the transaction)."""
        with self._thread:
            outer = self._depth == 0
            if outer:
                self._acquire()
            self._depth += 1
            try:
                yield outer
            finally:
                self._depth -= 1
                if outer:
                    self._release()

    def _acquire(self) -> None:
        if not HAS_FLOCK:
            self._file.acquire()
            return
        if self._pid != os.getpid():  # a forked child must not share its parent's descriptor
            if self._fd is not None:
                os.close(self._fd)
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._pid = os.getpid()
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def _release(self) -> None:
        if not HAS_FLOCK:
            self._file.release()
        elif self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


def writer_lock(path: str) -> WriterLock:
    """The one :class:`WriterLock` of this process for the database at ``path``."""
    key = os.path.realpath(path)
    with _locks_guard:
        if key not in _locks:
            _locks[key] = WriterLock(key)
        return _locks[key]
