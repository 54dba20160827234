"""Appending events: subject ids, the hash chain, personal fields and the status table, all in
the caller's write transaction."""

from __future__ import annotations

import json
import os
import sqlite3
from typing import NamedTuple

from .catalog import Entry
from .chain import GENESIS, SALT_BYTES, common, event_hash, header_with, personal_digest
from .schema import ACCEPTED, ACTION_CODES, WITHDRAWN

_ACCEPTED, _WITHDRAWN, _NOTIFIED = (ACTION_CODES[a] for a in ("accepted", "withdrawn", "notified"))


class Row(NamedTuple):
    """An event to append."""

    at: int
    subject: str
    entry: Entry | None
    action: int
    channel: str | None
    evidence: str | None
    head: int | None = None
    """For a bundle member: the index in the batch of the event it is part of."""


class Appended(NamedTuple):
    seq: int
    prev: bytes
    hash: bytes
    part_of: int | None


def subject_ids(conn: sqlite3.Connection, names: set[str] | list[str]) -> dict[str, int]:
    """The integer id of each subject, creating those not yet known (numbered here: the
    caller's write transaction keeps other writers out)."""
    ids = dict(conn.execute("SELECT subject, id FROM subjects WHERE subject IN "
                            "(SELECT value FROM json_each(?))", (json.dumps(list(names)),)))
    missing = [name for name in names if name not in ids]
    if missing:
        (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM subjects").fetchone()
        new = {name: top + 1 + i for i, name in enumerate(missing)}
        conn.executemany("INSERT INTO subjects (id, subject) VALUES (?, ?)",
                         [(i, name) for name, i in new.items()])
        ids.update(new)
    return ids


def last_event(conn: sqlite3.Connection) -> tuple[int, bytes]:
    row = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def append(conn: sqlite3.Connection, rows: list[Row], want: bool = False) -> list[Appended]:
    """Append ``rows`` in order; returns what was appended when ``want`` is true."""
    if not rows:
        return []
    ids = subject_ids(conn, {r.subject for r in rows})
    last, prev = last_event(conn)
    salts = os.urandom(SALT_BYTES * len(rows))
    events, personal, status, notified, appended = [], [], [], [], []
    shared: dict[tuple, bytes] = {}
    for i, (at, subject, entry, action, channel, evidence, head) in enumerate(rows):
        seq, sid = last + 1 + i, ids[subject]
        salt = salts[SALT_BYTES * i:SALT_BYTES * (i + 1)]
        part_of = None if head is None else last + 1 + head
        key = (entry and entry.rowid, action, channel)
        fixed = shared.get(key)
        if fixed is None:
            value = entry.value if entry else None
            fixed = shared[key] = common(value and value.document, value and value.id,
                                         value and value.content_sha256, action, channel)
        hashed = event_hash(prev, header_with(seq, at, sid, fixed, part_of),
                            personal_digest(salt, subject, evidence))
        events.append((seq, at, sid, entry.rowid if entry else None, action, channel, part_of,
                       prev[:8], hashed))
        personal.append((seq, salt, evidence))
        if action == _ACCEPTED:
            status.append((entry.document_id, sid, ACCEPTED, entry.rowid, at))
        elif action == _WITHDRAWN:
            status.append((entry.document_id, sid, WITHDRAWN, None, at))
        elif action == _NOTIFIED:
            notified.append((entry.document_id, sid, entry.rowid))
        if want:
            appended.append(Appended(seq, prev, hashed, part_of))
        prev = hashed
    conn.executemany("INSERT INTO events (seq, at, subject, version, action, channel, part_of, "
                     "link, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
    conn.executemany("INSERT INTO personal (seq, salt, evidence) VALUES (?, ?, ?)", personal)
    if status:
        conn.executemany(
            "INSERT INTO status (document, subject, state, accepted, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (document, subject) DO UPDATE SET state = excluded.state, "
            "accepted = coalesce(excluded.accepted, accepted), at = excluded.at "
            "WHERE excluded.at >= status.at", status)
    if notified:
        conn.executemany(
            "INSERT INTO status (document, subject, state, notified, at) VALUES (?, ?, 0, ?, 0) "
            "ON CONFLICT (document, subject) DO UPDATE SET notified = excluded.notified", notified)
    conn.execute("INSERT INTO meta (key, value) VALUES ('head', ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (last + len(rows),))
    return appended
