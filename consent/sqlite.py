"""The SQLite engine: a ledger in one file, its schema by named migrations, and the SQL that
only SQLite speaks.

Compact by design (one acceptance costs well under 300 bytes with its indexes): subjects,
documents and versions are integer ids; times are integer microseconds since the epoch (UTC);
hashes are 32-byte BLOBs (``link`` keeps the first 8 bytes of the previous event's hash, so
that ``verify`` can tell a re-hashed event from the one after it); actions and states are
small integers (:class:`~consent.actions.Action`, :class:`~consent.actions.State`).

- ``events`` is append-only (triggers refuse UPDATE and DELETE). Its personal fields live
  apart: ``personal`` holds each event's random salt and evidence, and ``subjects`` the subject
  id. The chain hashes a salted digest of them, so erasure can drop salt and evidence, keep the
  digest in ``erased`` and the chain still verifies.
- ``status`` is derived state, one row per (document, subject), kept in the event's transaction.
- ``meta`` holds the catalog generation (``value``), the chain head and the key of worklist
  cursors (``data``).
- ``api_keys`` holds the HTTP API's keys (see :mod:`consent.keys`).
- ``log_tiles``, ``log_runs`` and ``log_checkpoints`` hold the transparency log (see
  :mod:`consent.sequencer`), ``receipts`` and ``receipt_claims`` the receipts issued (see
  :mod:`consent.issuer`); all append-only.
- ``webhooks``, ``outbox`` and ``in_force_sent``: endpoints and their messages (see
  :mod:`consent.outbox`); the outbox is not the events table: its rows change as deliveries go.

Writers queue on an in-process lock and a file lock (:mod:`consent.locking`) before
``BEGIN IMMEDIATE``; commits wake a background checkpointer (:mod:`consent.checkpoints`).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from . import outbox, readers
from .chain import chain_of
from .checkpoints import Checkpointer
from .errors import (
    CheckpointIncomplete,
    LedgerExists,
    LedgerNotFound,
    NewerLedger,
    NotALedger,
    StorageRefused,
)
from .group import GroupCommit
from .locking import writer_lock
from .storage import storage_error, storage_errors
from .store import Appended, Drafts
from .tiles import TILES_SCHEMA
from .writer import chain

T = TypeVar("T")
ENGINE = "sqlite"
BUSY_MS = 30_000
"""How long a statement waits for a lock held by another connection, in milliseconds."""
CHECKPOINT_POLL = 0.02

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


@migrations()
def m004_one_schema(db: Database) -> None:
    """The schema both engines share: events, personal fields and erased digests are keyed by
    ``(chain, seq)`` (a file made here has one chain, 0; one copied from PostgreSQL keeps its
    chains), each subject has its chain, and ``chains`` holds each chain's length and head
    (instead of ``meta``); ``meta`` keeps bytes in ``data`` (the cursor key) and numbers in
    ``value``; the bundle manifests stored at publication, which nothing read, are dropped
    (the catalog computes them); the API keys' table, which ``termsledger keys`` used to
    create by itself, is part of the ledger."""
    db.executescript("""
    CREATE TABLE events_keyed (
        chain INTEGER NOT NULL DEFAULT 0,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        subject INTEGER NOT NULL,
        version INTEGER,
        action INTEGER NOT NULL,
        channel TEXT,
        part_of INTEGER,
        link BLOB NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (chain, seq)
    ) WITHOUT ROWID;
    INSERT INTO events_keyed SELECT 0, seq, at, subject, version, action, channel, part_of,
        link, hash FROM events ORDER BY seq;
    DROP TABLE events;
    ALTER TABLE events_keyed RENAME TO events;
    CREATE INDEX events_subject ON events (subject);
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TABLE personal_keyed (chain INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL,
        salt BLOB NOT NULL, evidence TEXT, PRIMARY KEY (chain, seq)) WITHOUT ROWID;
    INSERT INTO personal_keyed SELECT 0, seq, salt, evidence FROM personal ORDER BY seq;
    DROP TABLE personal;
    ALTER TABLE personal_keyed RENAME TO personal;
    CREATE TABLE erased_keyed (chain INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL,
        digest BLOB NOT NULL, PRIMARY KEY (chain, seq)) WITHOUT ROWID;
    INSERT INTO erased_keyed SELECT 0, seq, digest FROM erased ORDER BY seq;
    DROP TABLE erased;
    ALTER TABLE erased_keyed RENAME TO erased;
    ALTER TABLE subjects ADD COLUMN chain INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE chains (id INTEGER PRIMARY KEY, length INTEGER NOT NULL, head BLOB NOT NULL);
    INSERT INTO chains (id, length, head) SELECT 0, coalesce(max(seq), 0),
        coalesce((SELECT hash FROM events ORDER BY seq DESC LIMIT 1), zeroblob(32)) FROM events;
    DELETE FROM meta WHERE key = 'head';
    ALTER TABLE meta ADD COLUMN data BLOB;
    UPDATE meta SET data = value, value = NULL WHERE key = 'cursor_key';
    ALTER TABLE versions DROP COLUMN manifest;
    ALTER TABLE versions DROP COLUMN manifest_sha256;
    CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, scope TEXT NOT NULL, salt BLOB NOT NULL,
        hash BLOB NOT NULL, created TEXT NOT NULL, revoked TEXT);
    """)


@migrations()
def m005_seals(db: Database) -> None:
    """Seals: Merkle roots over the chains' heads (see :mod:`consent.seals`)."""
    db.executescript("""
    CREATE TABLE seals (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, heads BLOB NOT NULL,
                        root BLOB NOT NULL);
    CREATE INDEX seals_root ON seals (root);
    """)


@migrations()
def m006_transparency_log(db: Database) -> None:
    """The transparency log (see :mod:`consent.sequencer`): its tiles, the runs of events the
    sequencer made leaves, its size (``meta`` row ``log_size``, which sequencer steps lock),
    the signed checkpoints, and the receipts issued (see :mod:`consent.issuer`). All
    append-only; a checkpoint's ``published`` time is set once."""
    db.executescript(TILES_SCHEMA + LOG_SCHEMA)


LOG_SCHEMA = """
INSERT INTO meta (key, value) VALUES ('log_size', 0);
CREATE TABLE log_runs (start INTEGER PRIMARY KEY, chain INTEGER NOT NULL, seq INTEGER NOT NULL,
                       count INTEGER NOT NULL);
CREATE UNIQUE INDEX log_runs_event ON log_runs (chain, seq);
CREATE TABLE log_checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, at INTEGER NOT NULL,
                              note TEXT NOT NULL, published INTEGER);
CREATE TABLE receipt_claims (id INTEGER PRIMARY KEY, claims TEXT NOT NULL);
CREATE TABLE receipts (id BLOB PRIMARY KEY, chain INTEGER NOT NULL, seq INTEGER NOT NULL,
                       claims INTEGER NOT NULL, issued INTEGER NOT NULL, subject BLOB NOT NULL,
                       key_id INTEGER NOT NULL, signature BLOB NOT NULL) WITHOUT ROWID;
CREATE UNIQUE INDEX receipts_event ON receipts (chain, seq);
CREATE TRIGGER log_runs_no_update BEFORE UPDATE ON log_runs
    BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
CREATE TRIGGER log_runs_no_delete BEFORE DELETE ON log_runs
    BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only'); END;
CREATE TRIGGER log_checkpoints_no_delete BEFORE DELETE ON log_checkpoints
    BEGIN SELECT RAISE(ABORT, 'signed checkpoints are kept'); END;
CREATE TRIGGER log_checkpoints_only_published BEFORE UPDATE ON log_checkpoints
    WHEN OLD.published IS NOT NULL OR NEW.size IS NOT OLD.size OR NEW.root IS NOT OLD.root
      OR NEW.at IS NOT OLD.at OR NEW.note IS NOT OLD.note
    BEGIN SELECT RAISE(ABORT, 'signed checkpoints are kept (only their publication is set)');
    END;
CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts
    BEGIN SELECT RAISE(ABORT, 'issued receipts are kept'); END;
CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts
    BEGIN SELECT RAISE(ABORT, 'issued receipts are kept'); END;
CREATE TRIGGER receipt_claims_no_update BEFORE UPDATE ON receipt_claims
    BEGIN SELECT RAISE(ABORT, 'issued receipts are kept'); END;
CREATE TRIGGER receipt_claims_no_delete BEFORE DELETE ON receipt_claims
    BEGIN SELECT RAISE(ABORT, 'issued receipts are kept'); END;
"""


@migrations()
def m007_texts(db: Database) -> None:
    """The texts themselves: each version's Markdown, language and page URL, its
    translations (one row per version and language), the language of the text each event
    records (``NULL``: the version's own), and the documents required at signup."""
    db.executescript("""
    ALTER TABLE documents ADD COLUMN required INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE versions ADD COLUMN language TEXT;
    ALTER TABLE versions ADD COLUMN url TEXT;
    ALTER TABLE versions ADD COLUMN markdown TEXT;
    CREATE TABLE translations (
        version INTEGER NOT NULL REFERENCES versions(id),
        language TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        url TEXT,
        markdown TEXT NOT NULL,
        PRIMARY KEY (version, language)
    ) WITHOUT ROWID;
    ALTER TABLE events ADD COLUMN language TEXT;
    """)


@migrations()
def m008_webhooks(db: Database) -> None:
    """Webhook endpoints (:mod:`consent.webhooks`), the outbox of their messages
    (:mod:`consent.outbox`), and the versions whose coming into force was sent; those in force
    already are marked as sent, so that an upgrade sends none of them."""
    db.executescript(WEBHOOKS_SCHEMA + """
    INSERT INTO in_force_sent (version) SELECT id FROM versions WHERE effective <= date('now');
    """)


WEBHOOKS_SCHEMA = """
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events INTEGER NOT NULL,
    secret TEXT NOT NULL,
    created INTEGER NOT NULL,
    disabled INTEGER,
    reason TEXT,
    delivered INTEGER NOT NULL DEFAULT 0,
    last_delivered INTEGER
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    endpoint TEXT NOT NULL,
    msg TEXT NOT NULL,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    subject INTEGER,
    data TEXT NOT NULL,
    created INTEGER NOT NULL,
    due INTEGER NOT NULL,
    claim TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_failed INTEGER,
    last_error TEXT,
    given_up INTEGER
);
CREATE INDEX outbox_due ON outbox (due) WHERE given_up IS NULL;
CREATE INDEX outbox_subject ON outbox (subject) WHERE subject IS NOT NULL;
CREATE TABLE in_force_sent (version INTEGER PRIMARY KEY);
"""
"""The tables of webhooks: times are integer microseconds since the epoch, ``webhooks.events``
a bit set of event types; ``outbox.at`` is the event's time and ``data`` its JSON, from which
each attempt's body is made the same (:func:`consent.outbox.body`); ``outbox.subject`` is the
subject's row id (never its id), so that an erasure finds the messages about it."""


SQLITE_HEADER = b"SQLite format 3\x00"
_FOREIGN = re.compile("not a database|malformed")
LEDGER_TABLES = frozenset({"meta", "subjects", "events", "personal", "status"})
MIGRATIONS = "_sqlite_migrations"
"""The table of the migrations applied to a ledger (sqlite-utils' own name), which every ledger has."""


def check_ledger(path: str | Path, *, create: bool = False) -> None:
    """Raise :class:`LedgerNotFound` when ``path`` does not exist (unless ``create``) and
    :class:`NotALedger` when it is not a ledger: not an SQLite database, or (unless ``create``
    and it has no tables yet) one without the ledger's tables. Reads only: creates nothing."""
    path = Path(path)
    if not path.exists():
        if create and not path.parent.is_dir():
            raise LedgerNotFound(f"no folder {path.parent} for the ledger {path}: create the folder first (a "
                                 f"ledger is made only in a folder that exists, so that a mistyped path "
                                 f"does not start another)")
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
    if tables and MIGRATIONS not in tables:  # migrating would write to it, and fail
        raise StorageRefused(f"the ledger {path} is damaged (its table {MIGRATIONS} is missing): "
                             f"restore it from a backup (`termsledger ledger backup` makes them); "
                             f"nothing was changed")


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


_STATUS_UPSERT = (
    "INSERT INTO status (document, subject, state, accepted, at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (document, subject) DO UPDATE SET state = excluded.state, "
    "accepted = coalesce(excluded.accepted, status.accepted), at = excluded.at "
    "WHERE excluded.at >= status.at")
_NOTIFIED_UPSERT = (
    "INSERT INTO status (document, subject, state, notified, at) VALUES (?, ?, 0, ?, 0) "
    "ON CONFLICT (document, subject) DO UPDATE SET notified = excluded.notified")


class SqliteTx(sqlite3.Connection):
    """A connection to a ledger file: the :class:`~consent.store.Tx` of the SQLite engine
    (``execute`` and ``executemany`` are sqlite3's own)."""

    engine = ENGINE
    join = "CROSS JOIN"

    def rows(self, sql: str, /) -> Generator[tuple[Any, ...], None, None]:
        yield from self.execute(sql)  # sqlite3 reads a cursor's rows as they are asked for

    def any_of(self, values: Sequence[Any]) -> tuple[str, Any]:
        return "IN (SELECT value FROM json_each(?))", json.dumps(list(values))

    def status_rows(self, document: int, names: Sequence[str]
                    ) -> dict[str, tuple[int, int | None, int | None]]:
        return {subject: (state, accepted, notified) for subject, state, accepted, notified
                in self.execute("SELECT s.subject, st.state, st.accepted, st.notified "
                                "FROM subjects s CROSS JOIN status st ON st.document = ? "
                                "AND st.subject = s.id WHERE s.subject IN "
                                "(SELECT value FROM json_each(?))", (document, json.dumps(names)))}

    def subject_ids(self, names: Iterable[str]) -> dict[str, tuple[int, int]]:
        """Subjects are numbered here (the write transaction keeps other writers out); a new
        subject's chain is a hash of its id (0 in a ledger of one chain, as a file made here
        is)."""
        names = list(names)
        if len(names) == 1:  # a single record: a plain indexed lookup is several times faster
            found = self.execute("SELECT subject, id, chain FROM subjects WHERE subject = ?",
                                 names)
        else:
            found = self.execute("SELECT subject, id, chain FROM subjects WHERE subject IN "
                                 "(SELECT value FROM json_each(?))", (json.dumps(names),))
        ids = {name: (sid, chain) for name, sid, chain in found}
        missing = [name for name in names if name not in ids]
        if missing:
            (top,) = self.execute("SELECT coalesce(max(id), 0) FROM subjects").fetchone()
            (chains,) = self.execute("SELECT count(*) FROM chains").fetchone()
            new = [(top + 1 + i, name, chain_of(name, chains)) for i, name in enumerate(missing)]
            self.executemany("INSERT INTO subjects (id, subject, chain) VALUES (?, ?, ?)", new)
            ids.update((name, (sid, chain)) for sid, name, chain in new)
        return ids

    def append(self, drafts: Drafts, generation: int | None, rows: Sequence[Any], want: bool
               ) -> list[Appended] | None:
        """The write transaction holds the file: nothing else to lock; the chaining is
        :func:`consent.writer.chain`'s."""
        if generation is not None:
            row = self.execute("SELECT value FROM meta WHERE key = 'catalog'").fetchone()
            if (row[0] if row else 0) != generation:
                return None
        ids = self.subject_ids(dict.fromkeys(drafts.subjects))
        batch, appended = chain(drafts, ids, self._heads(sorted({c for _, c in ids.values()})))
        self.executemany("INSERT INTO events (chain, seq, at, subject, version, action, channel, "
                         "part_of, link, hash, language) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, nullif(?, 0), ?, ?, nullif(?, ''))",
                         batch.events)
        self.executemany("INSERT INTO personal (chain, seq, salt, evidence) "
                         "VALUES (?, ?, ?, nullif(?, ''))", batch.personal)
        if batch.status:
            self.executemany(_STATUS_UPSERT, batch.status)
        if batch.notified:
            self.executemany(_NOTIFIED_UPSERT, batch.notified)
        self.executemany("UPDATE chains SET length = ?, head = ? WHERE id = ?",
                         [(length, head, number) for number, length, head in batch.heads])
        outbox.recorded(self, rows, ids)
        return appended if want else []

    def _heads(self, chains: list[int]) -> dict[int, tuple[int, bytes]]:
        """The chains' lengths and last hashes (the write transaction holds the file)."""
        wanted = chains
        if wanted == [0]:
            length, head = self.execute("SELECT length, head FROM chains WHERE id = 0").fetchone()
            return {0: (length, head)}
        return {chain: (length, head) for chain, length, head in self.execute(
            "SELECT id, length, head FROM chains WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted),))}

    def filled(self, tables: Sequence[str]) -> None:
        """Nothing to do: SQLite plans the ledger's queries by its indexes alone (the ledger
        never gathers statistics)."""

    def copied(self, tables: Sequence[str]) -> None:
        """After rows were copied in with their ids: nothing to do (SQLite numbers a new row
        after the largest id, and see :meth:`filled`)."""


def connect(path: str | Path) -> SqliteTx:
    """Open ``path`` with the ledger's settings: WAL, ``synchronous=FULL`` (an acknowledged
    event survives power loss), a long ``busy_timeout``, ``secure_delete`` on, so that
    freed space never keeps an erased subject's bytes, and no automatic checkpoint in commits
    (see :mod:`consent.checkpoints`)."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                           timeout=30, factory=SqliteTx)
    for pragma in (f"busy_timeout={BUSY_MS}", "journal_mode=WAL", "synchronous=FULL",
                   "secure_delete=ON", "wal_autocheckpoint=0", "cache_size=-65536",
                   "temp_store=MEMORY"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


class SqliteStore:
    """The :class:`~consent.store.Store` of a ledger file at ``path``.

    Safe to share between threads (each thread gets its own connection) and processes
    (writers queue on a lock of this process and a file lock on ``<path>.lock``).
    """

    engine = ENGINE
    batches = False
    """Appends need no batching: one writer at a time, and :meth:`submit` groups commits."""

    def __init__(self, path: str | Path, *, create: bool = False):
        check_ledger(path, create=create)
        self.path = self.name = str(path)
        self._local = threading.local()
        self._connections: list[SqliteTx] = []
        self._guard = threading.Lock()
        self._lock = writer_lock(self.path)
        self._checkpoints = Checkpointer(lambda: connect(self.path))
        self._group = GroupCommit(self)
        try:
            with storage_errors(self.path), self._lock.hold():
                _refuse_newer(self.reads(), self.path)
                migrations.apply(Database(self.reads(), execute_plugins=False))
                (self.chains,) = self.reads().execute("SELECT count(*) FROM chains").fetchone()
        except BaseException:
            self.close()
            raise

    def keys_generation(self) -> None:
        """None: reading a key from the file costs less than telling when it changed."""
        return None

    def reads(self) -> SqliteTx:
        conn: SqliteTx | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(self.path)
            with self._guard:
                self._connections.append(conn)
        return conn

    def in_write(self) -> bool:
        conn: SqliteTx | None = getattr(self._local, "conn", None)
        return conn is not None and conn.in_transaction

    @contextmanager
    def write(self, *, single: bool = False) -> Iterator[SqliteTx]:
        """``BEGIN IMMEDIATE`` under the writer lock; nested uses join the outer transaction
        (``single`` changes nothing: an append writes several tables)."""
        with storage_errors(self.path), self._lock.hold() as outer:
            conn = self.reads()
            if not outer:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self._checkpoints.committed(conn)

    @contextmanager
    def read(self) -> Iterator[SqliteTx]:
        """A deferred transaction: one snapshot of the file for its whole length."""
        with storage_errors(self.path):
            conn = self.reads()
            if conn.in_transaction:  # inside a write: its snapshot
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def submit(self, write: Callable[[], T]) -> Future[T]:
        """Run ``write()`` in a group commit; see :mod:`consent.group`."""
        return self._group.submit(write)

    def checkpoint(self, timeout: float) -> None:
        """Copy the WAL into the file and truncate it to nothing, so that no byte of an erased
        subject stays in it; waits up to ``timeout`` seconds for readers of older snapshots,
        then raises :class:`CheckpointIncomplete` naming the reader's process where it can."""
        deadline = time.monotonic() + timeout
        while True:
            with storage_errors(self.path), self._lock.hold():
                if _truncate_wal(self.reads()):
                    return
            if time.monotonic() >= deadline:
                holder = readers.describe(self.path)
                raise CheckpointIncomplete(
                    f"the write-ahead log {self.path}-wal could not be emptied within "
                    f"{timeout:g} s: {holder}",
                    remains=f"its bytes remain in the write-ahead log {self.path}-wal while "
                            f"{holder}")
            time.sleep(CHECKPOINT_POLL)

    def backup(self, target: str | Path) -> None:
        """Copy the ledger into a new file at ``target`` with SQLite's backup API: a consistent
        copy of the last commit, while writers go on (a file copy of a live WAL database
        misses the transactions still in its WAL)."""
        target = Path(target)
        if target.exists():
            raise LedgerExists(f"{target} already exists: name a new file for the backup")
        try:
            copy = sqlite3.connect(target)
        except sqlite3.Error as error:
            raise StorageRefused(f"the backup {target} cannot be written ({error}): name a new "
                                 f"file in a folder you may write to") from None
        try:
            with storage_errors(self.path), closing(copy):
                self.reads().backup(copy)
        except BaseException:
            target.unlink(missing_ok=True)  # no partial backup left to be taken for one
            raise

    def close(self) -> None:
        """Commit what :meth:`submit` queued, stop the background threads and close every
        connection."""
        self._group.close()
        self._checkpoints.close()
        with self._guard:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


def _refuse_newer(conn: sqlite3.Connection, path: str) -> None:
    """Raise :class:`NewerLedger` when the file has migrations this code does not know."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (MIGRATIONS,)).fetchone():
        return
    known = {migration.name for migration in migrations._migrations}
    applied = {name for (name,) in conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = 'consent'")}
    newer = sorted(applied - known)
    if newer:
        raise NewerLedger(f"the ledger {path} was written by a newer termsledger (its schema "
                          f"has {', '.join(newer)}): upgrade termsledger to use it")


def _truncate_wal(conn: sqlite3.Connection) -> bool:
    """Copy the WAL into the file and truncate it, without waiting; ``False`` when a reader
    of an older snapshot (or a writer) kept it from finishing."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    return not busy
