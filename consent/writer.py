"""Appending events: subject ids, the hash chain, personal fields and the status table, all in
the caller's write transaction."""

from __future__ import annotations

import json
import os
import sqlite3
from typing import NamedTuple

from .catalog import Entry
from .chain import GENESIS, SALT_BYTES, chained, common
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
    if len(names) == 1:  # a single record: a plain indexed lookup is several times faster
        ids = dict(conn.execute("SELECT subject, id FROM subjects WHERE subject = ?", (*names,)))
    else:
        ids = dict(conn.execute("SELECT subject, id FROM subjects WHERE subject IN "
                                "(SELECT value FROM json_each(?))", (json.dumps(list(names)),)))
    missing = [name for name in names if name not in ids]
    if missing:
        (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM subjects").fetchone()
        numbers = range(top + 1, top + 1 + len(missing))
        conn.executemany("INSERT INTO subjects (id, subject) VALUES (?, ?)", zip(numbers, missing))
        ids.update(zip(missing, numbers))
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
    # sqlite3 passes bytes and None parameters through its adapter lookup (~0.4 us each), so
    # blobs are bound as bytearray, a missing part_of as 0 and missing evidence as '' (nullif).
    prev = bytearray(prev)
    salts = bytearray(os.urandom(SALT_BYTES * len(rows)))  # one system call for the batch
    events, personal, status, notified, appended = [], [], [], [], []
    kinds: dict[tuple, tuple[bytes, int | None, int | None]] = {}
    seq, end = last, 0
    for at, subject, entry, action, channel, evidence, head in rows:
        seq += 1
        start, end = end, end + SALT_BYTES
        salt = salts[start:end]
        sid = ids[subject]
        part_of = 0 if head is None else last + 1 + head
        key = (entry.rowid if entry else None, action, channel)
        kind = kinds.get(key)
        if kind is None:
            kind = kinds[key] = _kind(entry, action, channel)
        shared, version, document = kind
        hashed = bytearray(chained(prev, seq, at, sid, shared, part_of, salt, subject.encode(),
                                   evidence.encode() if evidence else b""))
        events.append((seq, at, sid, version, action, channel, part_of, prev[:8], hashed))
        personal.append((seq, salt, evidence or ""))
        if action == _ACCEPTED:
            status.append((document, sid, ACCEPTED, version, at))
        elif action == _WITHDRAWN:
            status.append((document, sid, WITHDRAWN, None, at))
        elif action == _NOTIFIED:
            notified.append((document, sid, version))
        if want:
            appended.append(Appended(seq, bytes(prev), bytes(hashed), part_of or None))
        prev = hashed
    conn.executemany("INSERT INTO events (seq, at, subject, version, action, channel, part_of, "
                     "link, hash) VALUES (?, ?, ?, ?, ?, ?, nullif(?, 0), ?, ?)", events)
    conn.executemany("INSERT INTO personal (seq, salt, evidence) VALUES (?, ?, nullif(?, ''))",
                     personal)
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
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (seq,))
    return appended


def _kind(entry: Entry | None, action: int, channel: str | None
          ) -> tuple[bytes, int | None, int | None]:
    """What events of one version, action and channel share: the common header part, the
    version's row id and its document's id."""
    if entry is None:
        return common(None, None, None, action, channel), None, None
    value = entry.value
    return (common(value.document, value.id, value.content_sha256, action, channel), entry.rowid,
            entry.document_id)
