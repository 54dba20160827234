"""The :class:`Ledger`: the one object callers use."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import terms
from sqlite_utils import Database

from . import erasure, events, idempotency, notifications, readers, rebuild, verify
from .catalog import Catalog, Verdicts, catalog_generation, load_catalog, publish
from .checkpoints import Checkpointer
from .errors import CheckpointIncomplete, UnknownDocument, UnknownVersion
from .group import GroupCommit
from .records import (DAY, LEDGER_SUBJECT, MAX_SUBJECT, RECORDABLE, RESERVED, canonical_subject,
                      check_action, check_channel, day_of, evidence_json, new_subject, resolve,
                      to_micros)
from .schema import ACTION_CODES, check_ledger, connect, migrations
from .locking import writer_lock
from .status import Standing
from .storage import storage_errors
from .values import CatalogDocument, Erasure, Event, Page, Published, Status, Verification
from .writer import Appended, Row, append

ACCEPTED = ACTION_CODES["accepted"]
CATALOG_TTL = 1.0
"""Seconds a reader trusts its cached catalog before checking for a newer publication."""
CHECKPOINT_WAIT = 30.0
"""Seconds :meth:`Ledger.checkpoint` waits for readers of older snapshots by default."""
CHECKPOINT_POLL = 0.02
MAX_STANDINGS = 1024
"""Most (document, day) status computations a catalog snapshot caches."""
_STATUS = ("SELECT st.state, st.accepted, st.notified FROM subjects s CROSS JOIN status st "
           "ON st.document = ? AND st.subject = s.id WHERE s.subject = ?")


class Ledger:
    """The consent ledger in the SQLite file at ``path``.

    Opening needs an existing ledger (:class:`LedgerNotFound` for a missing file,
    :class:`NotALedger` for any other file); ``create=True`` also makes a new one at a path
    where there is no file yet (or an empty one).

    Safe to share between threads (each thread gets its own connection) and processes
    (writers queue on a lock of this process and a file lock on ``<path>.lock``). Commits wake
    a background thread that checkpoints the WAL; :meth:`submit` starts another that commits
    writes in groups. :meth:`close` stops both.
    """

    def __init__(self, path: str | Path, *, create: bool = False):
        check_ledger(path, create=create)
        self.path = str(path)
        self._local = threading.local()
        self._connections: list[Database] = []
        self._guard = threading.Lock()
        self._lock = writer_lock(self.path)
        self._checkpoints = Checkpointer(self.path)
        self._group = GroupCommit(self)
        self._catalog: Catalog | None = None
        self._checked = 0.0
        try:
            with storage_errors(self.path), self._lock.hold():
                migrations.apply(self.db)
        except BaseException:
            self.close()
            raise

    # Connections and transactions

    @property
    def db(self) -> Database:
        """This thread's ``sqlite_utils.Database`` on the ledger."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path)
            with self._guard:
                self._connections.append(db)
        return db

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's raw ``sqlite3`` connection."""
        return self.db.conn

    def _lookup(self, *params: Any) -> list[tuple]:
        """The rows of :data:`_STATUS` on this thread's reusable cursor (saves a cursor per
        call); ``fetchall`` resets the statement, so no read snapshot stays open."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self.conn.cursor()
        return cursor.execute(_STATUS, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` under the writer lock). Nested uses join
        the outer transaction, so several writes can commit as one. A full disk or another
        storage failure rolls it back and raises :class:`StorageFull` or
        :class:`StorageUnavailable`."""
        with storage_errors(self.path), self._lock.hold() as outer:
            conn = self.conn
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

    def checkpoint(self, *, timeout: float = CHECKPOINT_WAIT) -> None:
        """Copy the WAL into the database file and truncate it to nothing, so that no byte of
        an erased subject stays in it. Readers of older snapshots keep it from finishing: it
        tries again until ``timeout`` seconds have passed (writers go on meanwhile), then
        raises :class:`CheckpointIncomplete` naming the reader's process where it can.

        :param timeout: seconds to wait for readers. Defaults to :data:`CHECKPOINT_WAIT`.
        """
        deadline = time.monotonic() + timeout
        while True:
            with storage_errors(self.path), self._lock.hold():
                if erasure.truncate_wal(self.conn):
                    return
            if time.monotonic() >= deadline:
                raise CheckpointIncomplete(
                    f"the write-ahead log {self.path}-wal could not be emptied within "
                    f"{timeout:g} s: {readers.describe(self.path)}")
            time.sleep(CHECKPOINT_POLL)

    def submit(self, write: Callable[[], Any]) -> Future:
        """Run ``write()`` (ledger writes) in a group commit; see :mod:`consent.group`.
        Returns a future of its result or error, resolved once its transaction committed."""
        return self._group.submit(write)

    def close(self) -> None:
        """Commit what :meth:`submit` queued, stop the background threads and close every
        connection this ledger opened."""
        self._group.close()
        self._checkpoints.close()
        with self._guard:
            for db in self._connections:
                db.conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def catalog_snapshot(self, fresh: bool = False) -> Catalog:
        """The cached catalog, re-read when another publication happened (checked at most
        every :data:`CATALOG_TTL` seconds unless ``fresh``)."""
        now = time.monotonic()
        if fresh or self._catalog is None or now - self._checked > CATALOG_TTL:
            generation = catalog_generation(self.conn)
            if self._catalog is None or generation != self._catalog.generation:
                self._catalog = load_catalog(self.conn)
            self._checked = now
        return self._catalog

    # The catalog

    def publish(self, content: terms.Content, verdicts: Verdicts | None = None, *,
                allow_uncommitted: bool = False) -> Published:
        """Sync the catalog from ``content``; see :func:`consent.catalog.publish`.

        :param verdicts: the change analysis' materiality per ``(slug, version id)``, used
            where the editor set no ``material:`` flag. Defaults to none (not material).
        :param allow_uncommitted: also publish new versions read from uncommitted text of a
            git repository. Defaults to refusing them.
        """
        with self.transaction() as conn:
            published = publish(conn, content, verdicts, allow_uncommitted)
        self.catalog_snapshot(fresh=True)
        return published

    def catalog(self, at: datetime | None = None) -> list[CatalogDocument]:
        """Every published document with its versions, the one in force and those announced
        at ``at`` (now by default)."""
        return self.catalog_snapshot().listing(day_of(to_micros(at)))

    # Recording

    def record(self, subject: str, document: str, action: str = "accepted",
               version: str | None = None, *, channel: str = "api",
               evidence: Mapping[str, Any] | None = None, at: datetime | str | None = None,
               sha256: str | None = None) -> tuple[Event, ...]:
        """Record one decision in its own transaction; returns its events, the head first.

        :param version: id, label or effective date of a published version; ``None`` (the
            default) means the version in force at ``at``.
        :param action: ``accepted`` (the default), ``declined`` or ``withdrawn``. Accepting a
            document accepts its bundle: the referenced documents' versions in force are
            recorded in the same transaction.
        :param evidence: a JSON object (IP, user agent, locale, request id...).
        :param at: when it happened; defaults to now.
        :param sha256: optional; must be the version's ``content_sha256`` or its bundle's
            manifest hash, so that a client proves which text it showed.
        """
        item = dict(subject=subject, document=document, action=action, version=version,
                    channel=channel, evidence=evidence, at=at, sha256=sha256)
        rows, appended = self._append([item], want=True)
        return tuple(events.from_row(row, done) for row, done in zip(rows, appended))

    def record_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Record many decisions in one transaction; returns how many events were appended.

        Each record is a mapping of :meth:`record`'s arguments (``subject`` and ``document``
        required). Nothing is recorded if any record is refused.
        """
        rows, _ = self._append(list(records))
        return len(rows)

    def _append(self, records: list[Mapping[str, Any]], want: bool = False
                ) -> tuple[list[Row], list[Appended]]:
        """Check and resolve ``records`` outside the write lock, then append them in one
        transaction, resolved again under the lock if the cached catalog was not the latest."""
        catalog = self.catalog_snapshot()
        try:
            rows = self._rows(records, catalog)
        except (UnknownDocument, UnknownVersion):
            rows = None  # perhaps published since the snapshot: decided under the lock
        with self.transaction() as conn:
            if rows is None or catalog_generation(conn) != catalog.generation:
                rows = self._rows(records, self.catalog_snapshot(fresh=True))
            return rows, append(conn, rows, want)

    def _rows(self, records: Iterable[Mapping[str, Any]], catalog: Catalog) -> list[Row]:
        """Check ``records`` and resolve their versions and bundles (outside the write lock)."""
        rows: list[Row] = []
        resolved: dict[tuple, tuple] = {}
        channels: set[str] = set()
        for record in records:
            get = record.get
            subject = get("subject")
            if not (type(subject) is str and subject.isascii() and subject.isprintable()
                    and 0 < len(subject) <= MAX_SUBJECT
                    and not subject.startswith(RESERVED)):
                subject = new_subject(subject)
            action = get("action", "accepted")
            code = ACTION_CODES.get(action) if action in RECORDABLE else check_action(action)
            channel = get("channel", "api")
            if type(channel) is not str or channel not in channels:
                channels.add(check_channel(channel))
            evidence = get("evidence")
            if evidence is not None:
                evidence = evidence_json(evidence)
            at = to_micros(get("at"))
            key = (get("document"), get("version"), at // DAY, code, get("sha256"))
            found = resolved.get(key)
            if found is None:
                found = resolved[key] = resolve(catalog, key[0], key[1], day_of(at),
                                                code == ACCEPTED, key[4])
            entry, members = found
            head = len(rows)
            rows.append(Row(at, subject, entry, code, channel, evidence))
            for member in members:
                rows.append(Row(at, subject, member, code, channel, None, head))
        return rows

    # Reading status

    def status(self, subject: str, document: str, at: datetime | None = None) -> Status:
        """Where ``subject`` stands with ``document`` at ``at`` (now by default). An unknown
        subject is ``never``, not an error."""
        standing = self._standing(document, at)
        subject = canonical_subject(subject)
        rows = self._lookup(standing.doc.id, subject)
        return standing.of(subject, rows[0] if rows else None)

    def status_all(self, subject: str, at: datetime | None = None) -> list[Status]:
        """The status of ``subject`` for every published document."""
        subject = canonical_subject(subject)
        return [self.status(subject, slug, at) for slug in self.catalog_snapshot().documents]

    def statuses(self, subjects: Iterable[str], document: str,
                 at: datetime | None = None) -> list[Status]:
        """The status of each of ``subjects`` for ``document``, in the order given."""
        standing = self._standing(document, at)
        subjects = [canonical_subject(s) for s in subjects]
        rows = {subject: (state, accepted, notified) for subject, state, accepted, notified
                in self.conn.execute(
                    "SELECT s.subject, st.state, st.accepted, st.notified FROM subjects s "
                    "CROSS JOIN status st ON st.document = ? AND st.subject = s.id "
                    "WHERE s.subject IN (SELECT value FROM json_each(?))",
                    (standing.doc.id, events.json_list(subjects)))}
        return [standing.of(s, rows.get(s)) for s in subjects]

    def _standing(self, document: str, at: datetime | None) -> Standing:
        """The statuses of ``document`` on the day of ``at``, cached with the catalog."""
        catalog = self.catalog_snapshot()
        doc = catalog.document(document)
        key = (doc.id, to_micros(at) // DAY)
        standing = catalog.standings.get(key)
        if standing is None:
            if len(catalog.standings) >= MAX_STANDINGS:
                catalog.standings.clear()
            standing = catalog.standings[key] = Standing(catalog, doc, day_of(key[1] * DAY))
        return standing

    # Notifications

    def pending_notifications(self, document: str, version: str, *, after: str | None = None,
                              limit: int | None = None) -> Iterator[str]:
        """The subjects who accepted a version before ``version`` of ``document`` and were not
        notified of it (nor of a later one), ordered by a stable key; withdrawn subjects are
        left out. Material versions call for re-acceptance, others for notice."""
        return notifications.pending(self, document, version, after, limit)

    def pending_page(self, document: str, version: str, *, after: str | None = None,
                     limit: int = 100) -> Page:
        """One page of :meth:`pending_notifications`; pass ``page.next_cursor`` as ``after``
        for the next. Pages neither skip nor repeat subjects while events arrive."""
        return notifications.page(self, document, version, after, limit)

    def mark_notified(self, subjects: Iterable[str], document: str, version: str, *,
                      channel: str = "email", at: datetime | None = None) -> int:
        """Record that ``subjects`` were notified of ``version``; idempotent: subjects already
        notified of it (or of a later version) are skipped. Returns how many were recorded."""
        return notifications.mark(self, subjects, document, version, channel, at)

    # Rights

    def history(self, subject: str) -> list[Event]:
        """Every event about ``subject``, oldest first (empty for an unknown subject)."""
        return events.history(self.conn, canonical_subject(subject))

    def export(self, subject: str) -> dict[str, Any]:
        """Everything the ledger holds about ``subject``, as JSON-ready data."""
        return erasure.export(self, canonical_subject(subject))

    def erase(self, subject: str) -> Erasure:
        """Replace ``subject`` with a random pseudonym and drop its personal evidence and
        stored responses, from the file and its WAL; see :mod:`consent.erasure`."""
        return erasure.erase(self, canonical_subject(subject))

    def verify(self, *, repair: bool = False, anchor: str | None = None) -> Verification:
        """Check the hash chain (reports the first event edited, deleted, reordered or
        malformed) and recompute the status table from the events (reports each row that
        differs). What it cannot detect is in the result's ``limits``.

        :param repair: rewrite the rows that differ from the events, and record a
            ``repaired`` event (subject ``ledger:repair``) saying how many and which, when the
            chain verifies (the events are then trusted). Defaults to only reporting.
        :param anchor: ``EVENTS:HEAD`` of an earlier verification, kept elsewhere: the chain
            must still hold that head at that position (nothing cut from its end or rewritten).
            Defaults to none.
        """
        with storage_errors(self.path):
            result = verify.verify(self.conn, anchor)
        only_status = result.problem == verify.status_problem(result.status_differences)
        if not (repair and result.status_differences and only_status):
            return result  # nothing to repair, or the events themselves are in doubt
        with self.transaction() as conn:
            found = list(rebuild.differences(conn))
            evidence = rebuild.repair(conn, found)
            append(conn, [Row(to_micros(None), LEDGER_SUBJECT, None, ACTION_CODES["repaired"],
                              "verify", evidence)])
        with storage_errors(self.path):
            after = verify.verify(self.conn, anchor)
        return replace(after, repaired=len(found), status_problems=result.status_problems)

    # Idempotency for the HTTP API

    def idempotent(self, key: str, subjects: str | Iterable[str] | None,
                   make_response: Callable[[], dict], *, fingerprint: str | None = None,
                   owner: str | None = None) -> tuple[dict, bool]:
        """Run ``make_response`` once per ``key`` (of ``owner``); see
        :func:`consent.idempotency.idempotent`."""
        return idempotency.idempotent(self, key, subjects, make_response, fingerprint, owner)
