"""WAL checkpoints on a background thread, so that commits pay for little of them.

SQLite's automatic checkpoint runs inside the ``COMMIT`` that crosses its threshold: that
writer, and every writer queued behind it, waits while pages are copied into the database file
and it is synced. Ledger connections turn it off (``wal_autocheckpoint=0``); instead a
:class:`Checkpointer`, woken by commits, runs a ``PASSIVE`` checkpoint on its own connection at
most every :data:`INTERVAL` seconds, alongside writers.

The WAL starts over from its beginning only when a write finds all of it copied, which never
happens while writers keep appending during the copy. So once the WAL holds more than
:data:`RESTART` frames, the next writer, still holding the writer lock after its commit, copies
the few frames appended since the background copy, and the write after it starts the WAL over.
The WAL stays within about :data:`RESTART` frames plus what an interval writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

INTERVAL = 0.2
"""Least seconds between two checkpoints."""
RESTART = 1000
"""WAL frames (pages) beyond which the next writer finishes the checkpoint."""


class Checkpointer:
    """Checkpoints a database after commits, on its own thread, on a connection from
    ``connect``."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]):
        self._connect = connect
        self._restart = False
        self._due = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def committed(self, conn: sqlite3.Connection) -> None:
        """Note a commit on ``conn``, whose writer still holds the writer lock: a checkpoint
        follows within :data:`INTERVAL` seconds, and the WAL's rest is copied now if it is long."""
        if self._restart:
            self._restart = False
            _checkpoint(conn)
        if self._thread is None:
            with self._guard:
                if self._thread is None:
                    self._stop.clear()
                    self._thread = threading.Thread(target=self._run, name="checkpoint",
                                                    daemon=True)
                    self._thread.start()
        self._due.set()

    def close(self) -> None:
        """Stop the thread."""
        with self._guard:
            if self._thread is not None:
                self._stop.set()
                self._due.set()
                self._thread.join()
                self._thread = None

    def _run(self) -> None:
        conn = self._connect()
        try:
            while True:
                self._due.wait()
                self._due.clear()
                self._restart = _checkpoint(conn) > RESTART
                if self._stop.wait(INTERVAL):
                    return
        finally:
            conn.close()


def _checkpoint(conn: sqlite3.Connection) -> int:
    """Copy what it can of the WAL into the database file; returns the WAL's length in frames.
    A failure is left to the next checkpoint: it must not fail the commit before it."""
    try:
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.Error:
        return 0
    return int(frames)
