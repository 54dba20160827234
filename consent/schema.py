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
- ``meta`` holds the catalog generation, the chain head and the key of worklist cursors.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .errors import LedgerNotFound, NotALedger
from .storage import storage_error

ACTIONS = ("accepted", "declined", "withdrawn", "notified", "erased", "repaired")
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


@migrations()
def m003_cursor_key(db: Database) -> None:
    """A random key that signs the notification worklist's cursors, so that the ledger takes
    back only cursors it handed out."""
    db.execute("INSERT INTO meta (key, value) VALUES ('cursor_key', ?)", (os.urandom(32),))


SQLITE_HEADER = b"SQLite format 3\x00"
_FOREIGN = re.compile("not a database|malformed")
LEDGER_TABLES = frozenset({"meta", "subjects", "events", "personal", "status"})


def check_ledger(path: str | Path, *, create: bool = False) -> None:
    """Raise :class:`LedgerNotFound` when ``path`` does not exist (unless ``create``) and
    :class:`NotALedger` when it is not a ledger: not an SQLite database, or (unless ``create``
    and it has no tables yet) one without the ledger's tables. Reads only: creates nothing."""
    path = Path(path)
    if not path.exists():
        if create:
            return
        raise LedgerNotFound(f"no ledger at {path}: the file does not exist "
                             f"(`termsledger publish` creates one)")
    if not path.is_file():
        raise NotALedger(f"{path} is not a termsledger ledger: not a file")
    with path.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if create and not header:
        return  # an empty file: a new database
    if header != SQLITE_HEADER:
        raise NotALedger(f"{path} is not a termsledger ledger: not an SQLite database")
    tables = _tables(path)
    if not LEDGER_TABLES <= tables and not (create and not tables):
        raise NotALedger(f"{path} is not a termsledger ledger: an SQLite database without the "
                         f"ledger's tables")


def _tables(path: Path) -> set[str]:
    """The tables of the SQLite database at ``path``, read without writing to it: through its
    WAL when it has one, else as an immutable file (which takes no lock and creates nothing)."""
    wal = path.with_name(path.name + "-wal").exists()
    uri = path.resolve().as_uri() + ("?mode=ro" if wal else "?mode=ro&immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            return {name for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        unavailable = storage_error(error, str(path))
        if unavailable is not None and not _FOREIGN.search(str(error)):
            raise unavailable from error
        raise NotALedger(f"{path} is not a termsledger ledger: {error}") from None


BUSY_MS = 30_000
"""How long a statement waits for a lock held by another connection, in milliseconds."""


def connect(path: str | Path) -> Database:
    """Open ``path`` with the ledger's settings: WAL, ``synchronous=FULL`` (an acknowledged
    event survives power loss), a long ``busy_timeout``, ``secure_delete`` on, so that
    freed space never keeps an erased subject's bytes, and no automatic checkpoint in commits
    (see :mod:`consent.checkpoints`)."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    for pragma in (f"busy_timeout={BUSY_MS}", "journal_mode=WAL", "synchronous=FULL",
                   "secure_delete=ON", "wal_autocheckpoint=0", "cache_size=-65536",
                   "temp_store=MEMORY"):
        conn.execute(f"PRAGMA {pragma}")
    return Database(conn, execute_plugins=False)
