"""Which processes hold a read snapshot in a ledger's WAL, and so keep a checkpoint from
emptying it.

A reader of a WAL database holds, while its read transaction lasts, a shared POSIX lock on
one of the "read marks" of the ``-shm`` file, bytes 123 to 127 (``WALINDEX_LOCK_OFFSET`` 120
plus ``WAL_READ_LOCK(0..4)``): mark 0 while it reads the database file alone (a checkpoint
cannot copy pages under it), marks 1 to 4 while it reads frames of the WAL (a checkpoint
cannot start the WAL over). On Linux, ``/proc/locks`` lists those locks with the holder's
process id. Elsewhere nothing is known.
"""

from __future__ import annotations

import os
from pathlib import Path

READ_MARKS = (123, 127)
"""The bytes of the ``-shm`` file locked by readers that use the WAL."""


def wal_readers(path: str) -> list[tuple[int, str]]:
    """``(process id, command line)`` of each process holding a read snapshot in the WAL of
    the database at ``path``; empty when none is known (or ``/proc/locks`` is unavailable)."""
    try:
        shm = os.stat(path + "-shm")
        locks = Path("/proc/locks").read_text()
    except OSError:
        return []
    where = f"{os.major(shm.st_dev):02x}:{os.minor(shm.st_dev):02x}:{shm.st_ino}"
    pids = set()
    for line in locks.splitlines():
        fields = line.split()
        # "12: POSIX  ADVISORY  READ 4242 fe:00:2148561 124 124"; "->" marks a waiting lock
        if len(fields) != 8 or fields[1] != "POSIX" or fields[5] != where:
            continue
        start, end = int(fields[6]), (1 << 63) if fields[7] == "EOF" else int(fields[7])
        if start <= READ_MARKS[1] and end >= READ_MARKS[0] and fields[4].isdigit():
            pids.add(int(fields[4]))
    return [(pid, _command(pid)) for pid in sorted(pids)]


def describe(path: str) -> str:
    """Who holds the WAL of ``path``, in words for an error message."""
    readers = wal_readers(path)
    if not readers:
        return "a reader holds an older snapshot (which one could not be found)"
    names = [f"process {pid} ({'this process' if pid == os.getpid() else command})"
             for pid, command in readers]
    return f"a reader holds an older snapshot: {', '.join(names)}"


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "unknown command"
    command = " ".join(raw.replace(b"\0", b" ").decode("utf-8", "replace").split())
    return command if len(command) <= 80 else command[:77] + "..."
