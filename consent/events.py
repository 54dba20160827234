"""Reading events back as :class:`~consent.values.Event` values."""

from __future__ import annotations

import json
import sqlite3
from typing import Iterable

from .chain import GENESIS
from .records import iso
from .schema import ACTIONS
from .values import Event
from .writer import Appended, Row

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
    """Every event about ``subject``, oldest first."""
    rows = conn.execute(_SELECT + "WHERE e.subject = (SELECT id FROM subjects WHERE subject = ?) "
                        "ORDER BY e.seq", (GENESIS, subject))
    return [Event(seq, iso(at), subj, slug, version, sha, ACTIONS[action], channel,
                  json.loads(evidence) if evidence else None, part_of, prev.hex(), hashed.hex())
            for seq, at, subj, slug, version, sha, action, channel, evidence, part_of, prev, hashed
            in rows]
