"""Data rights: export everything about a subject, and erase it.

Erasure replaces the subject id with a random pseudonym (``erased:`` and 32 hex digits, drawn
anew for each erasure, so nothing in the file links it back to the id), keeps each event's personal
digest in ``erased`` and deletes its salt and evidence, deletes the subject's status rows and
stored idempotent responses, and records an ``erased`` event. ``secure_delete`` is on for every
connection, so freed space is zeroed; after the commit a ``TRUNCATE`` checkpoint copies the WAL
into the file and empties it, so the id appears nowhere in the file or its WAL.

A reader holding an older snapshot keeps the WAL from being emptied: the erasure then raises
:class:`ErasureIncomplete` (naming the reader's process where it can) and leaves a mark,
``erasure_pending`` in ``meta``, that no subject id can be read from. Erasing again (the subject
is unknown by then) or :meth:`Ledger.checkpoint` empties the WAL once the reader is gone.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import readers
from .chain import personal_digest
from .errors import CheckpointIncomplete, ErasureIncomplete, InvalidSubject, UnknownSubject
from .events import history
from .records import PSEUDONYM_PREFIX, RESERVED, to_micros
from .schema import ACTION_CODES, BUSY_MS
from .values import Erasure
from .writer import Row, append

if TYPE_CHECKING:
    from .ledger import Ledger

ERASE_WAIT = 5.0
"""Seconds an erasure waits for readers of older snapshots before it raises
:class:`ErasureIncomplete`."""
PENDING = "erasure_pending"


def export(ledger: Ledger, subject: str) -> dict[str, Any]:
    """Every row about ``subject``: statuses, events with evidence, stored responses."""
    conn = ledger.conn
    responses = [_response(key, response) for key, response in conn.execute(
        "SELECT i.key, i.response FROM idempotency_subjects k JOIN idempotency i ON i.key = k.key "
        "WHERE k.subject = (SELECT id FROM subjects WHERE subject = ?) ORDER BY i.at", (subject,))]
    return {"subject": subject,
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "statuses": [s.to_dict() for s in ledger.status_all(subject)],
            "events": [e.to_dict() for e in history(conn, subject)],
            "responses": responses}


def _response(key: str, response: str) -> dict[str, Any]:
    """A stored response for an export; a damaged one is reported, not fatal."""
    try:
        return {"key": key, "response": json.loads(response)}
    except (TypeError, ValueError):
        return {"key": key, "response": None, "problem": "the stored response is not valid JSON"}


def erase(ledger: Ledger, subject: str) -> Erasure:
    """Erase ``subject``; raises :class:`UnknownSubject` when the ledger holds nothing on it
    (once an earlier erasure left incomplete is finished, if there is one) and
    :class:`ErasureIncomplete` when the WAL could not be emptied within :data:`ERASE_WAIT`."""
    with ledger.transaction() as conn:
        row = conn.execute("SELECT id FROM subjects WHERE subject = ?", (subject,)).fetchone()
        if row is None or subject.startswith(PSEUDONYM_PREFIX):
            done = None
            pending = conn.execute(f"SELECT 1 FROM meta WHERE key = '{PENDING}'").fetchone()
        else:
            done = _erase(conn, subject, row[0])
            pending = True
    if pending:
        _finish(ledger, subject, done is not None)
    if done is not None:
        return done
    if row is not None:
        return Erasure(subject, 0, 0)  # a pseudonym: already erased
    raise UnknownSubject(f"subject {subject!r} is not in the ledger" +
                         ("; the erasure left incomplete is now complete: the file and its "
                          "write-ahead log hold no trace of it" if pending else ""))


def _erase(conn: sqlite3.Connection, subject: str, sid: int) -> Erasure:
    if subject.startswith(RESERVED):
        raise InvalidSubject(f"subject {subject!r} holds the ledger's own events: it is "
                             f"evidence about the ledger, not personal data")
    pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(16)
    personal = conn.execute("SELECT p.seq, p.salt, p.evidence FROM events e JOIN personal p "
                            "ON p.seq = e.seq WHERE e.subject = ?", (sid,)).fetchall()
    conn.executemany("INSERT INTO erased (seq, digest) VALUES (?, ?)",
                     [(seq, personal_digest(salt, subject, evidence))
                      for seq, salt, evidence in personal])
    conn.executemany("DELETE FROM personal WHERE seq = ?", [(seq,) for seq, _, _ in personal])
    conn.execute("UPDATE subjects SET subject = ? WHERE id = ?", (pseudonym, sid))
    conn.execute("DELETE FROM status WHERE document IN (SELECT id FROM documents) "
                 "AND subject = ?", (sid,))
    keys = [k for (k,) in conn.execute(
        "SELECT key FROM idempotency_subjects WHERE subject = ?", (sid,))]
    conn.executemany("DELETE FROM idempotency WHERE key = ?", [(k,) for k in keys])
    conn.executemany("DELETE FROM idempotency_subjects WHERE key = ?", [(k,) for k in keys])
    append(conn, [Row(to_micros(None), pseudonym, None, ACTION_CODES["erased"], None, None)])
    conn.execute(f"INSERT OR REPLACE INTO meta (key, value) VALUES ('{PENDING}', 1)")
    return Erasure(pseudonym, len(personal), len(keys))


def _finish(ledger: Ledger, subject: str, erased: bool) -> None:
    """Empty the WAL, then drop the mark of a pending erasure (``erased``: of ``subject``
    just now; else of a subject now unknown, perhaps this one)."""
    try:
        ledger.checkpoint(timeout=ERASE_WAIT)
    except CheckpointIncomplete:
        what = (f"the erasure of {subject!r} is committed" if erased else
                f"subject {subject!r} is not in the ledger, but an earlier erasure is not "
                f"finished")
        raise ErasureIncomplete(
            f"{what}: its bytes remain in the write-ahead log {ledger.path}-wal while "
            f"{readers.describe(ledger.path)}; run `termsledger consent checkpoint` (it waits "
            f"for readers) or erase again once it has finished") from None
    with ledger.transaction() as conn:
        conn.execute(f"DELETE FROM meta WHERE key = '{PENDING}'")


def truncate_wal(conn: sqlite3.Connection) -> bool:
    """Copy the WAL into the file and truncate it, without waiting; ``False`` when a reader
    of an older snapshot (or a writer) kept it from finishing."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    return not busy
