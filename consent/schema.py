"""The ledger's tables, created by named migrations, and how a connection is opened.

Compact by design (one acceptance costs well under 300 bytes with its indexes): subjects,
documents and versions are integer ids; times are integer microseconds since the epoch (UTC);
hashes are 32-byte BLOBs (``link`` keeps the first 8 bytes of the previous event's hash, so
that ``verify`` can tell a re-hashed event from the one after it); actions are small integers (:data:`ACTIONS`).

- ``events`` is append-only (triggers refuse UPDATE and DELETE). Its personal fields live
  apart: ``personal`` holds each event's random salt and evidence, and ``subjects`` the subject
  id. The chain hashes a salted digest of them, so erasure can drop salt and evidence, keep the
  digest in ``erased`` and the chain still verifies.
- ``status`` is derived state, one row per (document, subject), kept in the event's transaction.
- ``meta`` holds the catalog generation and the chain head.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

ACTIONS = ("accepted", "declined", "withdrawn", "notified", "erased")
ACTION_CODES = {name: code for code, name in enumerate(ACTIONS)}

NONE, ACCEPTED, WITHDRAWN = 0, 1, 2
"""``status.state``: no standing acceptance, accepted, withdrawn."""

migrations = Migrations("consent")


@migrations()
def m001_ledger(db: Database) -> None:
    db.executescript("""
    CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
    CREATE TABLE documents (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE);
    CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        document INTEGER NOT NULL REFERENCES documents(id),
        version TEXT NOT NULL,
        effective TEXT NOT NULL,
        position INTEGER NOT NULL,
        label TEXT,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        flag INTEGER,
        verdict INTEGER,
        content_sha256 TEXT NOT NULL,
        refs TEXT NOT NULL,
        manifest TEXT NOT NULL,
        manifest_sha256 TEXT NOT NULL,
        commit_sha TEXT,
        published_at TEXT NOT NULL,
        UNIQUE (document, version)
    );
    CREATE TABLE subjects (id INTEGER PRIMARY KEY, subject TEXT NOT NULL UNIQUE);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        subject INTEGER NOT NULL,
        version INTEGER,
        action INTEGER NOT NULL,
        channel TEXT,
        part_of INTEGER,
        link BLOB NOT NULL,
        hash BLOB NOT NULL
    );
    CREATE INDEX events_subject ON events (subject);
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TABLE personal (seq INTEGER PRIMARY KEY, salt BLOB NOT NULL, evidence TEXT);
    CREATE TABLE erased (seq INTEGER PRIMARY KEY, digest BLOB NOT NULL);
    CREATE TABLE status (
        document INTEGER NOT NULL,
        subject INTEGER NOT NULL,
        state INTEGER NOT NULL,
        accepted INTEGER,
        notified INTEGER,
        at INTEGER NOT NULL,
        PRIMARY KEY (document, subject)
    ) WITHOUT ROWID;
    CREATE TABLE idempotency (
        key TEXT PRIMARY KEY, fingerprint TEXT, response TEXT NOT NULL, at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE idempotency_subjects (
        subject INTEGER NOT NULL, key TEXT NOT NULL, PRIMARY KEY (subject, key)
    ) WITHOUT ROWID;
    """)


@migrations()
def m002_drop_pseudonym_key(db: Database) -> None:
    """Erasure draws a random pseudonym now: drop the key that let anyone holding the file
    recompute the keyed pseudonyms of earlier erasures from a subject id."""
    db.execute("DELETE FROM meta WHERE key = 'pseudonym_key'")


def connect(path: str | Path) -> Database:
    """Open ``path`` with the ledger's settings: WAL, ``synchronous=FULL`` (an acknowledged
    event survives power loss), a long ``busy_timeout``, ``secure_delete`` on, so that
    freed space never keeps an erased subject's bytes, and no automatic checkpoint in commits
    (see :mod:`consent.checkpoints`)."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    for pragma in ("busy_timeout=30000", "journal_mode=WAL", "synchronous=FULL",
                   "secure_delete=ON", "wal_autocheckpoint=0", "cache_size=-65536",
                   "temp_store=MEMORY"):
        conn.execute(f"PRAGMA {pragma}")
    return Database(conn, execute_plugins=False)
