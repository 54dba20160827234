"""Data rights: export everything about a subject, and erase it.

Erasure replaces the subject id with a random pseudonym (``erased:`` and 32 hex digits, drawn
anew for each erasure, so nothing in the file links it back to the id), keeps each event's personal
digest in ``erased`` and deletes its salt and evidence, deletes the subject's status rows and
stored idempotent responses, and records an ``erased`` event. ``secure_delete`` is on for every
connection, so freed space is zeroed; after the commit a ``TRUNCATE`` checkpoint copies the WAL
into the file and empties it, so the id appears nowhere in the file or its WAL.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .chain import personal_digest
from .errors import ErasureIncomplete, InvalidSubject, UnknownSubject
from .events import history
from .records import PSEUDONYM_PREFIX, RESERVED, to_micros
from .schema import ACTION_CODES
from .values import Erasure
from .writer import Row, append

if TYPE_CHECKING:
    from .ledger import Ledger

CHECKPOINT_ATTEMPTS = 50


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
    """Erase ``subject``; raises :class:`UnknownSubject` when the ledger holds nothing on it."""
    with ledger.transaction() as conn:
        row = conn.execute("SELECT id FROM subjects WHERE subject = ?", (subject,)).fetchone()
        if row is None:
            raise UnknownSubject(f"subject {subject!r} is not in the ledger")
        if subject.startswith(PSEUDONYM_PREFIX):
            return Erasure(subject, 0, 0)
        if subject.startswith(RESERVED):
            raise InvalidSubject(f"subject {subject!r} holds the ledger's own events: it is "
                                 f"evidence about the ledger, not personal data")
        (sid,) = row
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
    ledger.checkpoint()
    return Erasure(pseudonym, len(personal), len(keys))


def empty_wal(conn: sqlite3.Connection) -> None:
    """Checkpoint the WAL into the file and truncate it, waiting for readers to move on."""
    for _ in range(CHECKPOINT_ATTEMPTS):
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return
        time.sleep(0.02)
    raise ErasureIncomplete("the erasure is committed but the write-ahead log is still in use "
                            "by a reader; run `termsledger consent erase` again to empty it")
