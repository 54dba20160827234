"""Reading events back as :class:`~consent.values.Event` values."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterable

from .chain import GENESIS
from .records import iso, short
from .schema import ACTIONS
from .values import Event
from .writer import Appended, Row

_KINDS = {int: "a whole number", str: "text"}

_SELECT = """
SELECT e.seq, e.at, s.subject, d.slug, v.version, v.content_sha256, e.action, e.channel,
       p.evidence, e.part_of, coalesce((SELECT hash FROM events b WHERE b.seq = e.seq - 1), ?),
       e.hash
FROM events e JOIN subjects s ON s.id = e.subject
LEFT JOIN versions v ON v.id = e.version LEFT JOIN documents d ON d.id = v.document
LEFT JOIN personal p ON p.seq = e.seq
"""


def json_list(values: Iterable[str]) -> str:
    return json.dumps(list(values))


def from_row(row: Row, done: Appended) -> Event:
    """The event just appended from ``row``."""
    value = row.entry.value if row.entry else None
    return Event(done.seq, iso(row.at), row.subject, value and value.document, value and value.id,
                 value and value.content_sha256, ACTIONS[row.action], row.channel,
                 json.loads(row.evidence) if row.evidence else None, done.part_of,
                 done.prev.hex(), done.hash.hex())


def history(conn: sqlite3.Connection, subject: str) -> list[Event]:
    """Every event about ``subject``, oldest first; a damaged row is an event whose
    ``problem`` says what is wrong (see :func:`read`)."""
    rows = conn.execute(_SELECT + "WHERE e.subject = (SELECT id FROM subjects WHERE subject = ?) "
                        "ORDER BY e.seq", (GENESIS, subject))
    return [read(row) for row in rows]


def read(row: tuple) -> Event:
    """The event of a row of :data:`_SELECT`. Values the ledger cannot have written (text in
    a number's column, an unknown action, evidence that is not a JSON object...) are left
    out, and the event's ``problem`` names them, so that a reader goes on to the next."""
    seq, at, subject, slug, version, sha, action, channel, evidence, part_of, prev, hashed = row
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
    if type(action) is int and 0 <= action < len(ACTIONS):
        name = ACTIONS[action]
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
    hashes = [value.hex() if type(value) is bytes and len(value) == 32 else
              problems.append(f"{label} is {short(value)}, not 32 bytes") or ""
              for label, value in (("prev_hash", prev), ("hash", hashed))]
    return Event(seq, when or "", check("subject", subject, str) or "",
                 check("document", slug, str), check("version", version, str),
                 check("content_sha256", sha, str), name, check("channel", channel, str),
                 data or None, check("part_of", part_of, int), *hashes,
                 problem="; ".join(problems) or None)
