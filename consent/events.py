"""Reading events back as :class:`~consent.values.Event` values."""

from __future__ import annotations

import json
from typing import Any

from .actions import ACTION_LABELS
from .chain import GENESIS
from .errors import short
from .records import is_imported, iso
from .store import Appended, Tx
from .values import Event
from .writer import Row

_KINDS = {int: "a whole number", str: "text"}

_SELECT = """
SELECT e.chain, e.seq, e.at, s.subject, d.slug, v.version,
       CASE WHEN e.language IS NULL THEN v.content_sha256 ELSE t.content_sha256 END, e.action,
       e.channel, p.evidence, e.part_of,
       coalesce((SELECT hash FROM events b WHERE b.chain = e.chain AND b.seq = e.seq - 1), ?),
       e.hash, coalesce(e.language, v.language)
FROM events e JOIN subjects s ON s.id = e.subject
LEFT JOIN versions v ON v.id = e.version LEFT JOIN documents d ON d.id = v.document
LEFT JOIN translations t ON t.version = e.version AND t.language = e.language
LEFT JOIN personal p ON p.chain = e.chain AND p.seq = e.seq
"""


def from_row(row: Row, done: Appended) -> Event:
    """The event just appended from ``row``."""
    entry = row.entry
    text = (entry.text(row.language) or entry.texts[0]) if entry else None
    return Event(chain=done.chain, seq=done.seq, at=iso(row.at), subject=row.subject,
                 document=entry.document if entry else None, version=entry.id if entry else None,
                 content_sha256=text.content_sha256 if text else None,
                 language=text.language if text else None,
                 action=ACTION_LABELS[row.action], channel=row.channel,
                 imported=is_imported(row.channel),
                 evidence=json.loads(row.evidence) if row.evidence else None,
                 part_of=done.part_of, prev_hash=done.prev.hex(), hash=done.hash.hex())


def history(tx: Tx, subject: str) -> list[Event]:
    """Every event about ``subject``, oldest first; a damaged row is an event whose
    ``problem`` says what is wrong (see :func:`read`)."""
    rows = tx.execute(_SELECT + "WHERE e.subject = (SELECT id FROM subjects WHERE subject = ?) "
                      "ORDER BY e.seq", (GENESIS, subject))
    return [read(row) for row in rows]


def read(row: tuple[Any, ...]) -> Event:
    """The event of a row of :data:`_SELECT`. Values the ledger cannot have written (text in
    a number's column, an unknown action, evidence that is not a JSON object...) are left
    out, and the event's ``problem`` names them, so that a reader goes on to the next."""
    chain, seq, at, subject, slug, version, sha, action, channel, evidence, part_of, prev, \
        hashed, language = row
    problems: list[str] = []

    def check(name: str, value: Any, kind: type) -> Any:
        if value is None or type(value) is kind:
            return value
        problems.append(f"{name} is {short(value)}, not {_KINDS[kind]}")
        return None

    when = check("at", at, int)
    if when is not None:
        try:
            when = iso(when)
        except (OverflowError, ValueError, OSError):
            problems.append(f"at is {at}, out of range")
            when = None
    if type(action) is int and 0 <= action < len(ACTION_LABELS):
        name = ACTION_LABELS[action]
    else:
        problems.append(f"action code {short(action)} is not one the ledger writes")
        name = "unknown"
    data = check("evidence", evidence, str)
    if data:
        try:
            data = json.loads(data)
        except ValueError:
            data = None
        if type(data) is not dict:
            problems.append("evidence is not a JSON object")
            data = None
    hashes = []
    for label, value in (("prev_hash", prev), ("hash", hashed)):
        if type(value) is bytes and len(value) == 32:
            hashes.append(value.hex())
        else:
            problems.append(f"{label} is {short(value)}, not 32 bytes")
            hashes.append("")
    return Event(chain=chain, seq=seq, at=when or "",
                 subject=check("subject", subject, str) or "",
                 document=check("document", slug, str), version=check("version", version, str),
                 content_sha256=check("content_sha256", sha, str), action=name,
                 language=check("language", language, str),
                 channel=check("channel", channel, str), evidence=data or None,
                 imported=type(channel) is str and is_imported(channel),
                 part_of=check("part_of", part_of, int), prev_hash=hashes[0], hash=hashes[1],
                 problem="; ".join(problems) or None)
