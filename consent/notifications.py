"""The notification worklist: who must be told of a version, paged by a stable cursor."""

from __future__ import annotations

import base64
import hmac
import struct
from collections.abc import Iterable, Iterator
from datetime import datetime
from hashlib import blake2b

from .actions import Action, State
from .catalog import Catalog, DocumentEntries, Entry
from .errors import InvalidCursor, InvalidRecord, short
from .records import check_channel, new_subject, to_micros
from .store import Tx
from .values import Marked, WorklistPage
from .writer import Row, append

SPAN = 20_000
"""Subject ids a query of the worklist reads at most; :func:`pending` reads as many subjects
at a time, so that no range is read twice."""
CURSOR_FORMAT = 1
_CURSOR = struct.Struct(">BQQ")
"""A cursor's body: its format, the version's row id, the last subject id of the page."""
TAG_BYTES = 8
MAX_CURSOR = 64


def pending(reads: Tx, catalog: Catalog, document: str, version: str, cursor: str | None,
            limit: int | None) -> Iterator[str]:
    """Yield the pending subjects, reading on ``reads`` in chunks so that writes may
    interleave."""
    doc, entry = _target(catalog, document, version)
    last = _decode(_key(reads), cursor, entry)
    left = limit
    while left is None or left > 0:
        size = SPAN if left is None else min(SPAN, left)
        rows = _select(reads, doc, entry, last, size)
        for _, subject in rows:
            yield subject
        if len(rows) < size:
            return
        last = rows[-1][0]
        left = None if left is None else left - len(rows)


def page(reads: Tx, catalog: Catalog, document: str, version: str, cursor: str | None,
         limit: int) -> WorklistPage:
    """One page of at most ``limit`` pending subjects after ``cursor``."""
    if not isinstance(limit, int) or limit < 1:
        raise InvalidRecord(f"limit must be a positive whole number, not {limit!r}")
    doc, entry = _target(catalog, document, version)
    key = _key(reads)
    rows = _select(reads, doc, entry, _decode(key, cursor, entry), limit)
    following = _encode(key, entry, rows[-1][0]) if len(rows) == limit else None
    return WorklistPage(subjects=tuple(subject for _, subject in rows), next_cursor=following)


def mark(tx: Tx, catalog: Catalog, subjects: Iterable[str], document: str, version: str,
         channel: str, at: datetime | None) -> Marked:
    """Record, in the write transaction ``tx`` (``catalog`` read in it), a ``notified`` event
    for each subject not yet notified of ``version`` or later; subjects without a status for
    the document are not marked but reported as unknown."""
    names = list(dict.fromkeys(new_subject(s) for s in subjects))
    channel, micros = check_channel(channel), to_micros(at)
    doc = catalog.document(document)
    entry = doc.version(version)
    among, param = tx.any_of(names)
    notified = dict(tx.execute(
        f"SELECT s.subject, st.notified FROM subjects s {tx.join} status st "
        f"ON st.document = ? AND st.subject = s.id WHERE s.subject {among}", (doc.id, param)))
    rows = [Row(micros, name, entry, Action.NOTIFIED, channel, None) for name in names
            if name in notified and _before(catalog.by_rowid.get(notified[name]), entry)]
    append(tx, rows)
    return Marked(len(rows), tuple(name for name in names if name not in notified))


def _before(notified: Entry | None, entry: Entry) -> bool:
    """Whether a subject last notified of ``notified`` (``None``: of nothing the catalog
    knows) is still to be notified of ``entry``."""
    return notified is None or notified.ordinal < entry.ordinal


def _target(catalog: Catalog, document: str, version: str) -> tuple[DocumentEntries, Entry]:
    doc = catalog.document(document)
    return doc, doc.version(version)


def _select(reads: Tx, doc: DocumentEntries, entry: Entry, after: int,
            limit: int) -> list[tuple[int, str]]:
    """Up to ``limit`` pending ``(subject id, subject)`` after the subject id ``after``, read
    :data:`SPAN` subject ids at a time: each query reads one range of the status table's key
    and the same range of the subjects' (stated for both, so that the database joins the two
    ranges instead of every subject), whatever plan its statistics suggest (a query ordered
    and limited alone may be sorted over every row left, for each page)."""
    earlier = ",".join(str(e.rowid) for e in doc.versions[:entry.ordinal])
    if not earlier:
        return []
    (last,) = reads.execute("SELECT coalesce(max(id), 0) FROM subjects").fetchone()
    found: list[tuple[int, str]] = []
    while len(found) < limit and after < last:
        found.extend(reads.execute(
            "SELECT st.subject, s.subject FROM status st JOIN subjects s ON s.id = st.subject "
            "WHERE st.document = ? AND st.subject > ? AND st.subject <= ? AND st.state = ? "
            f"AND st.accepted IN ({earlier}) AND (st.notified IS NULL OR st.notified IN "
            f"({earlier})) AND s.id > ? AND s.id <= ? ORDER BY st.subject LIMIT ?",
            (doc.id, after, after + SPAN, int(State.ACCEPTED), after, after + SPAN,
             limit - len(found))).fetchall())
        after += SPAN
    return found


def _key(reads: Tx) -> bytes:
    key: bytes = reads.execute("SELECT data FROM meta WHERE key = 'cursor_key'").fetchone()[0]
    return key


def _tag(key: bytes, body: bytes) -> bytes:
    return blake2b(body, key=key, digest_size=TAG_BYTES).digest()


def _encode(key: bytes, entry: Entry, subject_id: int) -> str:
    """The cursor after ``subject_id`` in the worklist of ``entry``: format version, version
    row id and subject id, signed with the ledger's cursor key, in URL-safe base64."""
    body = _CURSOR.pack(CURSOR_FORMAT, entry.rowid, subject_id)
    return base64.urlsafe_b64encode(body + _tag(key, body)).decode().rstrip("=")


def _decode(key: bytes, cursor: str | None, entry: Entry) -> int:
    """The subject id a cursor stands for; 0 for none. Only cursors this ledger signed pass."""
    if cursor is None:
        return 0
    raw = b""
    if isinstance(cursor, str) and len(cursor) <= MAX_CURSOR:
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_",
                                   validate=True)
        except ValueError:  # not base64 (binascii.Error), or not ASCII
            pass
    body, tag = raw[:_CURSOR.size], raw[_CURSOR.size:]
    if (len(raw) != _CURSOR.size + TAG_BYTES or body[0] != CURSOR_FORMAT
            or not hmac.compare_digest(tag, _tag(key, body))):
        raise InvalidCursor(f"cursor {short(cursor)} is not one this ledger handed out")
    _, version, subject = _CURSOR.unpack(body)
    if version != entry.rowid:
        raise InvalidCursor(f"cursor {short(cursor)} belongs to another document or version")
    return int(subject)
