"""Failures of the storage under the ledger (a full disk, an I/O error, a lock held too long,
a read-only file) as :class:`StorageFull` and :class:`StorageUnavailable`, which say what
happened and that nothing was changed, and a damaged file as :class:`StorageRefused`, which
says to restore it. Programming errors (bad SQL, a refused constraint) pass through
unchanged."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ConsentError, StorageFull, StorageRefused, StorageUnavailable

_FULL = 13  # SQLITE_FULL
_UNAVAILABLE = {5: "busy", 6: "locked", 7: "out of memory", 8: "read-only", 10: "I/O error",
                11: "damaged", 14: "cannot open", 15: "locking protocol", 26: "not a database"}
"""SQLite's primary result codes of storage failures (the rest are programming errors)."""
_MESSAGES = {"database or disk is full": _FULL, "disk I/O error": 10, "database is locked": 5,
             "unable to open database file": 14, "attempt to write a readonly database": 8,
             "database disk image is malformed": 11, "file is not a database": 26}
"""Where Python has no ``sqlite_errorcode`` (before 3.11): the codes by message."""
_DAMAGED = {11, 26}
"""The codes of a damaged file, which waiting does not mend."""
LOW_SPACE = 256 * 1024
"""Free bytes under which an I/O error on write is taken for a full disk (SQLite reports a
failed write of its WAL as an I/O error, without the system's reason)."""


@contextmanager
def storage_errors(path: str) -> Iterator[None]:
    """Raise storage failures of SQLite or the file system inside as :class:`StorageFull` or
    :class:`StorageUnavailable` naming the ledger at ``path``."""
    try:
        yield
    except ConsentError:
        raise
    except sqlite3.Error as error:
        translated = storage_error(error, path)
        if translated is None:
            raise
        raise translated from error
    except OSError as error:
        full = error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        raise _error(full, path, error.strerror or str(error)) from error


def storage_error(error: sqlite3.Error, path: str) -> ConsentError | None:
    """``error`` as a storage failure, or ``None`` if it is not one."""
    code = getattr(error, "sqlite_errorcode", None)
    code = _MESSAGES.get(str(error)) if code is None else code & 0xFF
    if code != _FULL and code not in _UNAVAILABLE:
        return None
    if code in _DAMAGED:
        return StorageRefused(f"the ledger {path} is damaged ({error}): restore it from a "
                              f"backup (`termsledger ledger backup` makes them); nothing was "
                              f"changed")
    return _error(code == _FULL or (code == 10 and _low_space(path)), path, str(error))


def _low_space(path: str) -> bool:
    try:
        stats = os.statvfs(Path(path).resolve().parent)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
    return stats.f_bavail * stats.f_frsize < LOW_SPACE


def _error(full: bool, path: str, reason: str) -> StorageUnavailable:
    if full:
        return StorageFull(f"the ledger {path} cannot be written: the disk is full ({reason}); "
                           f"nothing was changed: free some space and try again")
    return StorageUnavailable(f"the ledger {path} cannot be used now ({reason}); nothing was "
                              f"changed: try again later")
