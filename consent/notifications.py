"""The notification worklist: who must be told of a version, paged by a stable cursor."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING, Iterable, Iterator

from .catalog import DocumentEntries, Entry
from .errors import InvalidCursor, InvalidRecord
from .events import json_list
from .records import check_channel, new_subject, to_micros
from .schema import ACTION_CODES
from .values import Marked, Page
from .writer import Row, append

if TYPE_CHECKING:
    from .ledger import Ledger

CHUNK = 10_000


def pending(ledger: Ledger, document: str, version: str, after: str | None,
            limit: int | None) -> Iterator[str]:
    """Yield the pending subjects, reading in chunks so that writes may interleave."""
    doc, entry = _target(ledger, document, version)
    last = _decode(after, entry)
    left = limit
    while left is None or left > 0:
        size = CHUNK if left is None else min(CHUNK, left)
        rows = _select(ledger, doc, entry, last, size)
        for _, subject in rows:
            yield subject
        if len(rows) < size:
            return
        last = rows[-1][0]
        left = None if left is None else left - len(rows)


def page(ledger: Ledger, document: str, version: str, after: str | None, limit: int) -> Page:
    """One page of at most ``limit`` pending subjects after the cursor ``after``."""
    if not isinstance(limit, int) or limit < 1:
        raise InvalidRecord(f"limit must be a positive whole number, not {limit!r}")
    doc, entry = _target(ledger, document, version)
    rows = _select(ledger, doc, entry, _decode(after, entry), limit)
    cursor = _encode(entry, rows[-1][0]) if len(rows) == limit else None
    return Page(tuple(subject for _, subject in rows), cursor)


def mark(ledger: Ledger, subjects: Iterable[str], document: str, version: str, channel: str,
         at: datetime | None) -> Marked:
    """Record a ``notified`` event for each subject not yet notified of ``version`` or later;
    subjects without a status for the document are not marked but reported as unknown."""
    names = list(dict.fromkeys(new_subject(s) for s in subjects))
    channel, micros = check_channel(channel), to_micros(at)
    with ledger.transaction() as conn:
        catalog = ledger.catalog_snapshot(fresh=True)
        doc = catalog.document(document)
        entry = doc.version(version)
        notified = dict(conn.execute(
            "SELECT s.subject, st.notified FROM subjects s CROSS JOIN status st "
            "ON st.document = ? AND st.subject = s.id WHERE s.subject IN "
            "(SELECT value FROM json_each(?))", (doc.id, json_list(names))))
        rows = [Row(micros, name, entry, ACTION_CODES["notified"], channel, None) for name in names
                if name in notified and (notified[name] is None or
                                         catalog.by_rowid[notified[name]].ordinal < entry.ordinal)]
        append(conn, rows)
    return Marked(len(rows), tuple(name for name in names if name not in notified))


def _target(ledger: Ledger, document: str, version: str) -> tuple[DocumentEntries, Entry]:
    doc = ledger.catalog_snapshot().document(document)
    return doc, doc.version(version)


def _select(ledger: Ledger, doc: DocumentEntries, entry: Entry, after: int,
            limit: int) -> list[tuple[int, str]]:
    earlier = ",".join(str(e.rowid) for e in doc.versions[:entry.ordinal])
    if not earlier:
        return []
    return ledger.conn.execute(
        "SELECT st.subject, s.subject FROM status st JOIN subjects s ON s.id = st.subject "
        f"WHERE st.document = ? AND st.subject > ? AND st.state = 1 AND st.accepted IN ({earlier}) "
        f"AND (st.notified IS NULL OR st.notified IN ({earlier})) ORDER BY st.subject LIMIT ?",
        (doc.id, after, limit)).fetchall()


def _encode(entry: Entry, subject_id: int) -> str:
    return base64.urlsafe_b64encode(f"{entry.rowid}:{subject_id}".encode()).decode().rstrip("=")


def _decode(cursor: str | None, entry: Entry) -> int:
    """The subject id a cursor stands for; 0 for none."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, subject = (int(part) for part in text.split(":"))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise InvalidCursor(f"cursor {cursor!r} is not one this ledger handed out") from None
    if version != entry.rowid:
        raise InvalidCursor(f"cursor {cursor!r} belongs to another document or version")
    return subject
