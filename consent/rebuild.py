"""The ``status`` table recomputed from the events: what ``verify`` compares it with, and what
a repair writes back.

Status answers come from the ``status`` table alone, so an edit to it (a subject who withdrew
shown as ``current``, a row for a subject with no events) would change them unnoticed by the
hash chain. The events determine every row: replaying them in order, as
:func:`consent.writer.append` applied them, gives the table there should be. Events are read
subject by subject (the ``events_subject`` index), so memory stays small however long the
ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .actions import Action, State
from .errors import short
from .records import iso
from .store import Tx

_ACCEPTED, _WITHDRAWN, _NOTIFIED, _ERASED = (
    int(a) for a in (Action.ACCEPTED, Action.WITHDRAWN, Action.NOTIFIED, Action.ERASED))
ACCEPTED, WITHDRAWN, NONE = int(State.ACCEPTED), int(State.WITHDRAWN), int(State.NONE)
_EVENTS = "SELECT subject, version, action, at FROM events ORDER BY subject, seq"
_STATUS = ("SELECT subject, document, state, accepted, notified, at FROM status "
           "ORDER BY subject, document")
Row = tuple[Any, ...]
"""``(state, accepted, notified, at)`` of a status row."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Difference:
    """A status row that is not what the events say (``None``: there should be none, or
    there is none)."""

    subject: object
    document: object
    stored: Row | None
    expected: Row | None


def expected(tx: Tx) -> Iterator[tuple[Any, dict[Any, list[Any]]]]:
    """``(subject id, {document id: [state, accepted, notified, at]})`` for each subject with
    a status, in the order of subject ids. Events with malformed values are skipped (the
    hash chain's check reports them)."""
    documents = dict(tx.execute("SELECT id, document FROM versions"))
    subject: Any = None
    rows: dict[Any, list[Any]] = {}
    for sid, version, action, at in tx.execute(_EVENTS):
        if sid != subject:
            if rows:
                yield subject, rows
            subject, rows = sid, {}
        _replay(rows, documents, version, action, at)
    if rows:
        yield subject, rows


def relations_at(reads: Tx, subject: str, until: int) -> dict[Any, tuple[Any, Any, Any]]:
    """``subject``'s status rows by document id, ``(state, accepted, notified)``, as the events
    up to ``until`` (microseconds) make them: where the subject stood at a past moment, which
    the ``status`` table (where they stand now) cannot tell."""
    documents = dict(reads.execute("SELECT id, document FROM versions"))
    rows: dict[Any, list[Any]] = {}
    for version, action, at in reads.execute(
            "SELECT e.version, e.action, e.at FROM subjects s JOIN events e ON e.subject = s.id "
            "WHERE s.subject = ? AND e.at <= ? ORDER BY e.seq", (subject, until)):
        _replay(rows, documents, version, action, at)
    return {document: (row[0], row[1], row[2]) for document, row in rows.items()}


def _replay(rows: dict[Any, list[Any]], documents: dict[Any, Any], version: Any, action: Any,
            at: Any) -> None:
    """Apply an event to a subject's ``rows`` (``[state, accepted, notified, at]`` by document
    id), as :func:`consent.writer.append` did; ``documents`` are the versions' documents."""
    if type(at) is not int:
        return
    if action == _ERASED:
        rows.clear()
        return
    document = documents.get(version)
    if document is None:
        return
    row = rows.get(document)
    if action == _ACCEPTED:
        if row is None:
            rows[document] = [ACCEPTED, version, None, at]
        elif at >= row[3]:
            row[0], row[1], row[3] = ACCEPTED, version, at
    elif action == _WITHDRAWN:
        if row is None:
            rows[document] = [WITHDRAWN, None, None, at]
        elif at >= row[3]:
            row[0], row[3] = WITHDRAWN, at
    elif action == _NOTIFIED:
        if row is None:
            rows[document] = [NONE, None, version, 0]
        else:
            row[2] = version


def differences(tx: Tx) -> Iterator[Difference]:
    """Every status row that differs from what the events say, missing and extra rows
    included, in the order of subject ids (damaged rows, whose subject is not a number, last)."""
    stored = iter(tx.execute(_STATUS))
    pending = next(stored, None)
    for sid, rows in expected(tx):
        while pending is not None and _before(pending[0], sid):
            yield Difference(subject=pending[0], document=pending[1], stored=tuple(pending[2:]),
                             expected=None)
            pending = next(stored, None)
        have: dict[Any, Row] = {}
        while pending is not None and pending[0] == sid and type(pending[0]) is int:
            have[pending[1]] = tuple(pending[2:])
            pending = next(stored, None)
        for document, values in rows.items():
            row, stored_row = tuple(values), have.pop(document, None)
            if stored_row != row:
                yield Difference(subject=sid, document=document, stored=stored_row,
                                 expected=row)
        for document, kept in have.items():
            yield Difference(subject=sid, document=document, stored=kept, expected=None)
    while pending is not None:
        yield Difference(subject=pending[0], document=pending[1], stored=tuple(pending[2:]),
                         expected=None)
        pending = next(stored, None)


def _before(stored_subject: object, sid: int) -> bool:
    """Whether a stored row's subject sorts before ``sid`` (SQLite puts numbers first)."""
    return type(stored_subject) is int and stored_subject < sid


def describe(tx: Tx, difference: Difference, names: dict[int, str]) -> str:
    """The difference in words: whose status, what the table says, what the events say;
    ``names`` are the versions' ids by row id (:func:`version_names`)."""
    subject = tx.execute("SELECT subject FROM subjects WHERE id = ?",
                         (difference.subject,)).fetchone()
    slug = tx.execute("SELECT slug FROM documents WHERE id = ?",
                      (difference.document,)).fetchone()
    who = (f"subject {short(subject[0])}" if subject
           else f"subject id {short(difference.subject)}, who has no events,")
    what = slug[0] if slug else f"document id {short(difference.document)}"
    return (f"the status of {who} for {what} says {_words(difference.stored, names)}; the "
            f"events say {_words(difference.expected, names)}")


def version_names(tx: Tx) -> dict[int, str]:
    """Each version's id (``2026-01-01``) by its row id."""
    return dict(tx.execute("SELECT id, version FROM versions"))


def _words(row: Row | None, names: dict[int, str]) -> str:
    if row is None:
        return "nothing (no row)"
    state, accepted, notified, at = row

    def version(rowid: object) -> str:
        return names.get(rowid, f"version id {short(rowid)}") if type(rowid) is int else short(rowid)

    if state == ACCEPTED:
        words = f"accepted {version(accepted)}"
    elif state == WITHDRAWN:
        words = "withdrawn" + (f" after accepting {version(accepted)}" if accepted else "")
    elif state == NONE:
        words = "never accepted"
    else:
        words = f"state {short(state)}"
    if notified is not None:
        words += f", notified of {version(notified)}"
    if state in (ACCEPTED, WITHDRAWN):
        try:
            words += f" on {iso(at)}"
        except (TypeError, ValueError, OverflowError, OSError):
            words += f" at {short(at)}"
    return words


def repair(tx: Tx, found: list[Difference]) -> str:
    """Write the expected rows of ``found`` into the status table (in the caller's write
    transaction); returns the evidence of the repair, as JSON: how many rows were added,
    changed and removed, and which (document, subject id) pairs."""
    counts = {"added": 0, "changed": 0, "removed": 0}
    for difference in found:
        key = (difference.document, difference.subject)
        if difference.expected is None:
            counts["removed"] += 1
            tx.execute("DELETE FROM status WHERE document = ? AND subject = ?", key)
        else:
            counts["added" if difference.stored is None else "changed"] += 1
            tx.execute("INSERT INTO status (document, subject, state, accepted, notified, at) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (document, subject) DO UPDATE SET "
                       "state = excluded.state, accepted = excluded.accepted, "
                       "notified = excluded.notified, at = excluded.at",
                       (*key, *difference.expected))
    rows = [[short(d.document) if type(d.document) is not int else d.document,
             short(d.subject) if type(d.subject) is not int else d.subject] for d in found[:1000]]
    return json.dumps({"status_rows": counts, "rows": rows}, separators=(",", ":"))
