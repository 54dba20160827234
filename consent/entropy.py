"""Random bytes for the salts and ids written with events, read from the system many at a time.

Each ``os.urandom`` call lets the other threads take the interpreter, and the thread that
appends a batch of events then waits for its turn to take it back: with 16 threads recording on
PostgreSQL, one call per batch cost a tenth of the events per second. The bytes are the system's
own, read ahead by each thread; a forked process reads its own.
"""

from __future__ import annotations

import os
import threading

AHEAD = 4096
"""The bytes each thread reads from the system at a time."""

_ahead = threading.local()


def random_bytes(count: int) -> bytes:
    """``count`` bytes from ``os.urandom``, taken from those this thread read ahead."""
    held: bytes = getattr(_ahead, "held", b"")
    if len(held) < count:
        if count > AHEAD:
            return os.urandom(count)
        held = os.urandom(AHEAD)
    _ahead.held = held[count:]
    return held[:count]


def _forget() -> None:
    """In a forked process: none of the bytes its parent read ahead (they would repeat)."""
    global _ahead
    _ahead = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)
