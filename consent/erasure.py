"""Data rights: export everything about a subject, and erase it.

Erasure replaces the subject id with a random pseudonym (``erased:`` and 32 hex digits, drawn
anew for each erasure, so nothing in the ledger links it back to the id), keeps each event's
personal digest in ``erased`` and deletes its salt and evidence, deletes the subject's status
rows and stored idempotent responses, rewrites the webhook messages waiting about the subject
to name the pseudonym (:func:`consent.outbox.erased`), and records an ``erased`` event. Then
the engine removes what it keeps of the old bytes (:meth:`consent.store.Store.checkpoint`): on
SQLite, ``secure_delete`` zeroes freed space and a ``TRUNCATE`` checkpoint copies the WAL into
the file and empties it, so the id appears nowhere in the file or its WAL; on PostgreSQL, a
``VACUUM`` of the touched tables removes the dead row versions (see the README for what it
cannot reach).

A reader holding an older snapshot keeps the WAL from being emptied: the erasure then raises
:class:`ErasureIncomplete` (naming the reader's process where it can) and leaves a mark,
``erasure_pending`` in ``meta``, that no subject id can be read from. Erasing again (the subject
is unknown by then) or :meth:`Ledger.checkpoint` empties the WAL once the reader is gone.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from typing import Any

from . import outbox
from .actions import Action
from .chain import personal_digest
from .errors import CheckpointIncomplete, ErasureIncomplete, InvalidSubject, UnknownSubject
from .events import history
from .records import PSEUDONYM_PREFIX, RESERVED, to_micros
from .store import Store, Tx
from .values import Erasure, Status
from .writer import Row, append

ERASE_WAIT = 5.0
"""Seconds an erasure waits for readers of older snapshots before it raises
:class:`ErasureIncomplete`."""
PENDING = "erasure_pending"


_ACCEPTED_TEXTS = """
SELECT DISTINCT d.slug, v.version, v.effective, coalesce(e.language, v.language),
       coalesce(t.content_sha256, v.content_sha256), coalesce(t.markdown, v.markdown)
FROM events e JOIN versions v ON v.id = e.version JOIN documents d ON d.id = v.document
LEFT JOIN translations t ON t.version = e.version AND t.language = e.language
WHERE e.subject = (SELECT id FROM subjects WHERE subject = ?) AND e.action = ?
ORDER BY d.slug, v.effective, v.version, 4
"""


def export(tx: Tx, subject: str, statuses: list[Status]) -> dict[str, Any]:
    """Every row about ``subject`` read in ``tx``: its ``statuses`` (computed by the ledger),
    events with evidence, the texts it accepted, stored responses."""
    responses = [_response(key, response) for key, response in tx.execute(
        "SELECT i.key, i.response FROM idempotency_subjects k JOIN idempotency i ON i.key = k.key "
        "WHERE k.subject = (SELECT id FROM subjects WHERE subject = ?) ORDER BY i.at", (subject,))]
    texts = [{"document": slug, "version": version, "language": language, "content_sha256": sha,
              "markdown": markdown}
             for slug, version, _, language, sha, markdown
             in tx.execute(_ACCEPTED_TEXTS, (subject, int(Action.ACCEPTED)))]
    return {"subject": subject,
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "statuses": [s.to_dict() for s in statuses],
            "events": [e.to_dict() for e in history(tx, subject)],
            "texts": texts,
            "responses": responses}


def _response(key: str, response: str) -> dict[str, Any]:
    """A stored response for an export; a damaged one is reported, not fatal."""
    try:
        return {"key": key, "response": json.loads(response)}
    except (TypeError, ValueError):
        return {"key": key, "response": None, "problem": "the stored response is not valid JSON"}


def erase(store: Store, subject: str) -> Erasure:
    """Erase ``subject``; raises :class:`UnknownSubject` when the ledger holds nothing on it
    (once an earlier erasure left incomplete is finished, if there is one) and
    :class:`ErasureIncomplete` when the engine could not remove the old bytes within
    :data:`ERASE_WAIT`."""
    with store.write() as tx:
        row = tx.execute("SELECT id FROM subjects WHERE subject = ?", (subject,)).fetchone()
        if row is None or subject.startswith(PSEUDONYM_PREFIX):
            done = None
            pending = tx.execute("SELECT 1 FROM meta WHERE key = ?", (PENDING,)).fetchone()
        else:
            done = _erase(tx, subject, row[0])
            pending = True
    if pending:
        _finish(store, subject, done is not None)
    if done is not None:
        return done
    if row is not None:
        return Erasure(pseudonym=subject, events=0, responses=0)  # a pseudonym: already erased
    raise UnknownSubject(f"subject {subject!r} is not in the ledger" +
                         ("; the erasure left incomplete is now complete: the ledger holds no "
                          "trace of it" if pending else ""))


def _erase(tx: Tx, subject: str, sid: int) -> Erasure:
    if subject.startswith(RESERVED):
        raise InvalidSubject(f"subject {subject!r} holds the ledger's own events: it is "
                             f"evidence about the ledger, not personal data")
    pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(16)
    personal = tx.execute("SELECT p.chain, p.seq, p.salt, p.evidence FROM events e JOIN personal p "
                          "ON p.chain = e.chain AND p.seq = e.seq WHERE e.subject = ?",
                          (sid,)).fetchall()
    tx.executemany("INSERT INTO erased (chain, seq, digest) VALUES (?, ?, ?)",
                   [(chain, seq, personal_digest(bytes(salt), subject, evidence))
                    for chain, seq, salt, evidence in personal])
    tx.executemany("DELETE FROM personal WHERE chain = ? AND seq = ?",
                   [(chain, seq) for chain, seq, _, _ in personal])
    tx.execute("UPDATE subjects SET subject = ? WHERE id = ?", (pseudonym, sid))
    tx.execute("DELETE FROM status WHERE document IN (SELECT id FROM documents) "
               "AND subject = ?", (sid,))
    keys = [k for (k,) in tx.execute(
        "SELECT key FROM idempotency_subjects WHERE subject = ?", (sid,))]
    tx.executemany("DELETE FROM idempotency WHERE key = ?", [(k,) for k in keys])
    tx.executemany("DELETE FROM idempotency_subjects WHERE key = ?", [(k,) for k in keys])
    append(tx, [Row(to_micros(None), pseudonym, None, Action.ERASED, None, None)])
    outbox.erased(tx, sid, pseudonym)
    tx.execute("INSERT INTO meta (key, value) VALUES (?, 1) "
               "ON CONFLICT (key) DO UPDATE SET value = 1", (PENDING,))
    return Erasure(pseudonym=pseudonym, events=len(personal), responses=len(keys))


def _finish(store: Store, subject: str, erased: bool) -> None:
    """Remove the old bytes, then drop the mark of a pending erasure (``erased``: of
    ``subject`` just now; else of a subject now unknown, perhaps this one)."""
    try:
        store.checkpoint(ERASE_WAIT)
    except CheckpointIncomplete as error:
        what = (f"the erasure of {subject!r} is committed" if erased else
                f"subject {subject!r} is not in the ledger, but an earlier erasure is not "
                f"finished")
        raise ErasureIncomplete(
            f"{what}: {error.remains}; run `termsledger consent checkpoint` (it waits for "
            f"readers) or erase again once it has finished", remains=error.remains) from None
    with store.write() as tx:
        tx.execute("DELETE FROM meta WHERE key = ?", (PENDING,))
