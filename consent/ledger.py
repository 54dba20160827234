"""The :class:`Ledger`: the one object callers use."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import terms

from . import erasure, events, idempotency, imports, notifications, outbox, rebuild, seals, verify
from .actions import Action
from .catalog import Catalog, Urls, catalog_generation, load_catalog, publish
from .errors import ConsentError, InvalidContent, UnpublishedDocument, UnpublishedVersion
from .group import Batcher, settle
from .issuer import Issuer, ReceiptSettings, find_receipt, subject_receipts
from .keys import Keys
from .ledger_log import LedgerLog
from .receipts import SignedReceipt
from .records import (
    DAY,
    LEDGER_SUBJECT,
    canonical_subject,
    check_languages,
    day_of,
    to_micros,
)
from .required import requirements
from .rows import Rows
from .sqlite import SqliteStore
from .status import DocumentStatuses, StatusRow, statuses_on
from .store import Appended, Store, Tx, check_location, is_url, shown
from .values import (
    CatalogDocument,
    Erasure,
    Event,
    Imported,
    Marked,
    Published,
    Required,
    Seal,
    Status,
    Verification,
    VersionText,
    WorklistPage,
)
from .webhooks import Webhooks
from .writer import Row, append

T = TypeVar("T")
ACCEPTED, WITHDRAWN = int(Action.ACCEPTED), int(Action.WITHDRAWN)
CATALOG_TTL = 1.0
"""Seconds a reader trusts its cached catalog before checking for a newer publication."""
CHECKPOINT_WAIT = 30.0
"""Seconds :meth:`Ledger.checkpoint` waits for readers of older snapshots by default."""
BATCH_WORKERS = 2
"""Transactions of batched appends in flight at most (on PostgreSQL): one of any size, the next
batch filling while it commits, and one more of at least :data:`OVERLAP_BATCH` records (see
:class:`consent.group.Batcher`). More small ones in flight make smaller batches, whose commits
(a WAL flush each) cost the server and this process more per event: 16 writers on 2 cores made
batches of 8 with one, of 5 with two, of 3 with four, the CPU per event growing by a sixth,
then by half."""
OVERLAP_BATCH = 500
"""Records queued from which a second batch goes to the server while one runs (at 1,000
records a batch, 4 threads of ``record_many`` on 2 cores appended half as many events again
per second as with one batch at a time)."""
MAX_BATCH = 5000
"""Most records that appends batched together (on PostgreSQL) write in one transaction."""
_STATUS = ("SELECT st.state, st.accepted, st.notified FROM subjects s {join} status st "
           "ON st.document = ? AND st.subject = s.id WHERE s.subject = ?")


@dataclass(kw_only=True, slots=True)
class _Job:
    """Records waiting for the batcher, resolved against the catalog of ``generation``."""

    records: list[Mapping[str, Any]]
    rows: list[Row]
    generation: int
    want: bool
    """Whether the caller reads what was appended (its events)."""
    status_of: str | None = None
    """A document whose status for the subject of the first record is read after the commit."""
    status: Status | None = None


_CHANGING = "the catalog changed several times while recording; try again"


def open_store(location: str | Path, *, create: bool = False, chains: int | None = None,
               copying: bool = False) -> Store:
    """The storage engine of the ledger at ``location``: a ``postgresql://`` URL (PostgreSQL,
    with ``chains`` hash chains if it is created now; ``copying``: see
    :class:`~consent.postgres.PostgresStore`) or a file path (SQLite, one chain)."""
    check_location(location)
    if is_url(location):
        from .postgres import PostgresStore  # here: SQLite users need no PostgreSQL driver

        return PostgresStore(location, create=create, chains=chains, copying=copying)
    if chains not in (None, 1):
        raise ValueError(f"an SQLite ledger has one hash chain, not {chains}")
    return SqliteStore(location, create=create)


class Ledger:
    """The consent ledger at ``location``: an SQLite file's path, or a PostgreSQL database's
    ``postgresql://`` URL.

    Opening needs an existing ledger (:class:`LedgerNotFound` for a missing file or a database
    without the ledger's tables, :class:`NotALedger` for any other file,
    :class:`NewerLedger` for one a newer termsledger wrote); ``create=True`` also makes a new
    one where there is none yet (with ``chains`` hash chains on PostgreSQL, by default
    :data:`consent.postgres.DEFAULT_CHAINS`).

    With ``receipts`` (:class:`~consent.issuer.ReceiptSettings`), every decision recorded gets
    a signed consent receipt (see :meth:`receipt`), and :attr:`log` can sign checkpoints; the
    key is loaded now (:class:`SigningKeyError` when it cannot be).

    Safe to share between threads and processes. :meth:`submit` commits writes in groups;
    :meth:`close` finishes them and closes the storage.
    """

    def __init__(self, location: str | Path, *, create: bool = False,
                 chains: int | None = None, receipts: ReceiptSettings | None = None):
        self._store = open_store(location, create=create, chains=chains)
        self.path = str(location)
        """Where the ledger is, as given: a file's path, or a server's URL (messages show it
        without its password)."""
        try:
            self._issuer = Issuer(receipts) if receipts is not None else None
        except BaseException:
            self._store.close()
            raise
        self.keys = Keys(self._store)
        """The API keys of ``termsledger serve`` (see :class:`consent.keys.Keys`)."""
        self.log = LedgerLog(self._store, lambda: self._issuer.signer.key() if self._issuer else None)
        """The transparency log of the ledger's events (see :class:`consent.ledger_log.LedgerLog`)."""
        self.webhooks = Webhooks(self._store)
        """The webhook endpoints and their delivery (see :class:`consent.webhooks.Webhooks`)."""
        self._catalog: Catalog | None = None
        self._checked = 0.0
        self._batcher = Batcher(self._append_jobs, lambda job: len(job.rows), MAX_BATCH,
                                BATCH_WORKERS, OVERLAP_BATCH) if self._store.batches else None

    @staticmethod
    def shown(location: str | Path) -> str:
        """``location`` as messages show it: a URL without its password."""
        return shown(location) if isinstance(location, str) else str(location)

    @property
    def receipt_settings(self) -> ReceiptSettings | None:
        """The settings receipts are issued with; ``None`` when the ledger issues none."""
        return self._issuer.settings if self._issuer else None

    def checkpoint(self, *, timeout: float = CHECKPOINT_WAIT) -> None:
        """Make sure no byte of an erased subject stays in the engine's logs: SQLite copies
        the WAL into the database file and truncates it. Readers of older snapshots keep it
        from finishing: it tries again until ``timeout`` seconds have passed (writers go on
        meanwhile), then raises :class:`CheckpointIncomplete` naming the reader's process
        where it can.

        :param timeout: seconds to wait for readers. Defaults to :data:`CHECKPOINT_WAIT`.
        """
        self._store.checkpoint(timeout)

    def submit(self, write: Callable[[], T]) -> Future[T]:
        """Run ``write()`` (calls of the writing methods) and resolve the future with its
        result, or its error, once its transaction committed. For servers: on SQLite the
        writes waiting together share one transaction, each in its own savepoint (see
        :mod:`consent.group`), so that many concurrent writes share each fsync."""
        return self._store.submit(write)

    def backup(self, target: str | Path) -> None:
        """Copy an SQLite ledger into the new file ``target``, consistently while writers go
        on (SQLite's backup API; a plain file copy of a live ledger can miss its last
        transactions). A PostgreSQL ledger is backed up with the server's tools."""
        self._store.backup(str(target))

    def close(self) -> None:
        """Commit what :meth:`submit` queued and close the storage."""
        if self._batcher is not None:
            self._batcher.close()
        self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _snapshot(self, fresh: bool = False) -> Catalog:
        """The cached catalog, re-read when another publication happened (checked at most
        every :data:`CATALOG_TTL` seconds unless ``fresh``)."""
        now = time.monotonic()
        if fresh or self._catalog is None or now - self._checked > CATALOG_TTL:
            reads = self._store.reads()
            generation = catalog_generation(reads)
            if self._catalog is None or generation != self._catalog.generation:
                self._catalog = load_catalog(reads)
            self._checked = now
        return self._catalog

    # The catalog

    def publish(self, content: terms.Content, *, watch: Iterable[str] = (),
                allow_uncommitted: bool = False, required: Iterable[str] | None = None,
                languages: Iterable[str] | None = None, urls: Urls | None = None) -> Published:
        """Sync the catalog from ``content``: every version, its Markdown and its
        translations; see :func:`consent.catalog.publish`. Content with errors
        (:func:`terms.check`) is refused with :class:`InvalidContent`; versions without a
        ``material:`` flag take the change analysis' verdict (:func:`terms.assess_versions`).

        :param watch: extra watch-list terms for the analysis. Defaults to none.
        :param allow_uncommitted: also publish new versions read from uncommitted text of a
            git repository. Defaults to refusing them.
        :param required: the slugs of the documents every subject must accept at signup (see
            :meth:`required`), the others then not. Defaults to keeping the marks stored.
        :param languages: the languages whose translations are published (the site's).
            Defaults to every language of the content.
        :param urls: a function giving each text's page on the public site (a
            :class:`terms.Version` or one of its translations to a URL or ``None``); the
            application layer makes it from the site's layout. Defaults to keeping the URLs
            stored.
        """
        errors = tuple(p for p in terms.check(content, watch=watch) if p.severity == "error")
        if errors:
            shown = "; ".join(str(p) for p in errors[:3]) + ("; ..." if len(errors) > 3 else "")
            raise InvalidContent(f"nothing published: the content has {len(errors)} error(s) "
                                 f"({shown}); fix them and run termsledger check", errors)
        verdicts = {key: found.material
                    for key, found in terms.assess_versions(content, watch=watch).items()}
        with self._store.write() as tx:
            published = publish(tx, content, verdicts, allow_uncommitted, required=required,
                                languages=languages, urls=urls)
            outbox.published(tx, published.added, day_of(to_micros(None)))
        self._snapshot(fresh=True)
        return published

    def catalog(self, at: datetime | None = None, *,
                document: str | None = None) -> list[CatalogDocument]:
        """Every published document (or only ``document``) with its versions, the one in
        force and those announced at ``at`` (now by default)."""
        return self._snapshot().listing(day_of(to_micros(at)), document)

    def text(self, document: str, version: str,
             language: str | Sequence[str] | None = None) -> VersionText:
        """The exact text of ``version`` (id, label or date) of ``document``, as published.

        :param language: a BCP 47 tag, or several in the reader's order of preference: the
            version's text in the first it has (``fr`` also serves ``fr-CA``), else its own
            text with ``fallback`` set. Defaults to its own text.
        """
        entry = self._snapshot().document(document).version(version)
        languages = check_languages(language)
        text = entry.preferred(languages)
        if text is None or text is entry.texts[0]:
            row = self._store.reads().execute("SELECT markdown FROM versions WHERE id = ?",
                                              (entry.rowid,)).fetchone()
        else:
            row = self._store.reads().execute(
                "SELECT markdown FROM translations WHERE version = ? AND language = ?",
                (entry.rowid, text.language)).fetchone()
        if row is None or row[0] is None:
            raise UnpublishedVersion(
                f"the text of {document} version {entry.id} is not in the ledger: it was "
                f"published before the ledger kept texts; run termsledger publish to add it")
        shown = text or entry.texts[0]
        return VersionText(document=entry.document, version=entry.id,
                           effective=entry.effective.isoformat(), language=shown.language,
                           fallback=bool(languages) and text is None, languages=entry.languages,
                           title=shown.title, summary=shown.summary, sha256=shown.content_sha256,
                           url=shown.url, markdown=row[0])

    # Recording

    def record(self, subject: str, document: str, action: str = "accepted",
               version: str | None = None, *, channel: str = "api",
               evidence: Mapping[str, Any] | None = None, at: datetime | str | None = None,
               sha256: str | None = None, language: str | None = None) -> tuple[Event, ...]:
        """Record one decision in its own transaction; returns its events, the head first.

        Accepting (or declining) a version that is neither in force nor announced at ``at``
        is refused with :class:`OutdatedVersion`, which names the version in force.

        :param version: id, label or effective date of a published version; ``None`` (the
            default) means the version whose text has the hash ``sha256``, else the version
            in force at ``at``.
        :param action: ``accepted`` (the default), ``declined`` or ``withdrawn``. Accepting a
            document accepts its bundle: the referenced documents' versions in force are
            recorded in the same transaction.
        :param evidence: a JSON object (IP, user agent, locale, request id...).
        :param at: when it happened; defaults to now.
        :param sha256: optional; the ``content_sha256`` of the text shown (in any language
            of the version) or its bundle's manifest hash, so that a client proves which text
            it showed; one that matches none is refused.
        :param language: the language of the text shown (the event records it and that
            text's hash); the version must have a text in it. Defaults to the language of
            the text whose hash is ``sha256``, else the version's own. Acceptance in any
            language counts alike for :meth:`status`.
        """
        item = dict(subject=subject, document=document, action=action, version=version,
                    channel=channel, evidence=evidence, at=at, sha256=sha256,
                    language=language)
        return _events(*self._append([item], want=True))

    def submit_record(self, subject: str, document: str, action: str = "accepted",
                      version: str | None = None, *, channel: str = "api",
                      evidence: Mapping[str, Any] | None = None, sha256: str | None = None,
                      language: str | None = None) -> Future[tuple[tuple[Event, ...], Status]]:
        """:meth:`record` for servers: a future of its events and of the subject's status for
        ``document`` read just after, resolved once they are durable. On PostgreSQL the
        decision joins the next batched append without a thread waiting for it, and the
        statuses of a batch are read in one query; elsewhere it runs in :meth:`submit`. A
        refusal found before writing (a bad subject, an outdated version...) is raised here."""
        item = dict(subject=subject, document=document, action=action, version=version,
                    channel=channel, evidence=evidence, at=None, sha256=sha256,
                    language=language)
        batcher = None if self._store.in_write() else self._batcher
        catalog, rows = self._resolve([item]) if batcher is not None else (None, None)
        if batcher is None or catalog is None or not rows:
            return self.submit(lambda: (self.record(**item),  # type: ignore[arg-type]
                                        self.status(subject, document)))
        future: Future[tuple[tuple[Event, ...], Status]] = Future()
        job = _Job(records=[item], rows=rows, generation=catalog.generation, want=True,
                   status_of=document)

        def then(outcome: tuple[bool, Any]) -> None:
            ok, value = outcome
            if ok:
                try:
                    value = (_events(*value), job.status)
                except Exception as error:  # the caller gets it, not the batcher
                    ok, value = False, error
            settle(future, (ok, value))

        batcher.submit(job, then)
        return future

    def record_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Record many decisions in one transaction; returns how many events were appended.

        Each record is a mapping of :meth:`record`'s arguments (``subject`` and ``document``
        required). Nothing is recorded if any record is refused.
        """
        rows, _ = self._append(list(records))
        return len(rows)

    def _append(self, records: list[Mapping[str, Any]], want: bool = False
                ) -> tuple[list[Row], list[Appended]]:
        """Check and resolve ``records`` outside the write transaction, then append them in
        one, resolved again if the catalog changed since. Where the engine batches appends
        (PostgreSQL), outside a caller's transaction, the records join those of other threads in
        one transaction (see :meth:`_append_jobs`)."""
        catalog, rows = self._resolve(records)
        if self._batcher is not None and rows and not self._store.in_write():
            job = _Job(records=records, rows=rows, generation=catalog.generation, want=want)
            done: tuple[list[Row], list[Appended]] = self._batcher.submit(job).result()
            return done
        with self._store.write() as tx:
            for _ in range(3):
                if rows is not None:
                    appended = append(tx, rows, want or self._issuer is not None,
                                      catalog.generation)
                    if appended is not None:
                        if self._issuer is not None:
                            self._issuer.issue(tx, rows, appended)
                        return rows, appended
                catalog = self._snapshot(fresh=True)  # published since: resolve again
                rows = self._rows(records, catalog)
        raise UnpublishedVersion(_CHANGING)

    def _resolve(self, records: list[Mapping[str, Any]]) -> tuple[Catalog, list[Row] | None]:
        """The catalog's snapshot and ``records`` resolved against it, or ``None`` for rows
        that name a document or version it lacks (perhaps published since: decided in the
        write transaction)."""
        catalog = self._snapshot()
        try:
            return catalog, self._rows(records, catalog)
        except (UnpublishedDocument, UnpublishedVersion):
            return catalog, None

    def _append_jobs(self, jobs: list[_Job]) -> list[tuple[bool, Any]]:
        """Append the rows of ``jobs`` in one transaction (on a thread of the batcher), with
        their receipts; a job whose records the latest catalog refuses fails alone."""
        outcomes: dict[int, tuple[bool, Any]] = {}
        catalog: Catalog | None = None
        for attempt in range(3):
            if attempt:
                catalog = self._snapshot(fresh=True)  # published meanwhile: resolve again
            elif len({job.generation for job in jobs}) > 1:
                catalog = self._snapshot()
            if catalog is not None:
                for index, job in enumerate(jobs):
                    if index not in outcomes and job.generation != catalog.generation:
                        try:
                            job.rows = self._rows(job.records, catalog)
                            job.generation = catalog.generation
                        except ConsentError as error:
                            outcomes[index] = (False, error)
            live = [(i, job) for i, job in enumerate(jobs) if i not in outcomes]
            if not live:
                break
            rows: list[Row] = []
            for _, job in live:  # a bundle member's head: its index in the batch, not the job
                start = len(rows)
                rows.extend(job.rows if not start else (
                    row if row.head is None else row._replace(head=row.head + start)
                    for row in job.rows))
            appended = self._append_batch(rows, live[0][1].generation,
                                          any(job.want for _, job in live))
            if appended is None:  # nothing written
                continue
            start = 0
            for index, job in live:
                count = len(job.rows)
                outcomes[index] = (True, (job.rows, appended[start:start + count]))
                start += count
            self._read_statuses([(i, job) for i, job in live if job.status_of], outcomes)
            break
        return [outcomes.get(i, (False, UnpublishedVersion(_CHANGING))) for i in range(len(jobs))]

    def _read_statuses(self, jobs: list[tuple[int, _Job]],
                       outcomes: dict[int, tuple[bool, Any]]) -> None:
        """Set the ``status`` of ``jobs`` (numbered as in ``outcomes``), read after their
        commit: one query per document; a job whose read fails gets the error as its outcome
        (as a caller reading the status after recording would)."""
        documents: dict[str, list[tuple[int, _Job]]] = {}
        for index, job in jobs:
            documents.setdefault(str(job.status_of), []).append((index, job))
        for document, asking in documents.items():
            try:
                statuses = self._statuses(document, None)
                names = [job.rows[0].subject for _, job in asking]
                found = self._store.reads().status_rows(statuses.doc.id, names)
            except Exception as error:  # written, but the status is not known
                for index, _ in asking:
                    outcomes[index] = (False, error)
                continue
            for _, job in asking:
                job.status = statuses.of(job.rows[0].subject, found.get(job.rows[0].subject))

    def _append_batch(self, rows: list[Row], generation: int, want: bool
                      ) -> list[Appended] | None:
        """Append ``rows`` in a transaction of their own, with their webhook messages and
        receipts (signed over the events' hashes the append made); without receipts, the
        append is the transaction's one statement. Returns what was appended when ``want``
        (or receipts need it), else an empty list."""
        with self._store.write(single=self._issuer is None) as tx:
            appended = append(tx, rows, want or self._issuer is not None, generation)
            if appended is not None and self._issuer is not None:
                self._issuer.issue(tx, rows, appended)
            return appended

    def import_records(self, lines: Iterable[str | bytes | Mapping[str, Any]], *,
                       skip_bad: bool = False) -> Imported:
        """Record decisions made before, at their original time, marked as imported; see
        :mod:`consent.imports` for the fields of each line. All in one transaction; with
        receipts, each decision gets its receipt as :meth:`record`'s do. From
        :data:`~consent.imports.ANALYZE_FROM` events on, the tables filled get the planner's
        statistics (on PostgreSQL) in the same transaction.

        :param lines: JSON Lines (text or bytes, blank lines skipped) or objects already
            parsed; numbered from 1 in messages.
        :param skip_bad: record the good lines and list the bad ones in the result. Defaults
            to recording nothing when a line is bad: :class:`InvalidImport` lists them.
        """
        lines = lines if isinstance(lines, list) else list(lines)
        catalog = self._snapshot(fresh=True)
        found, count, recorded, bad = imports.read(catalog, lines)
        if bad and not skip_bad:
            raise imports.refusal(bad, count - recorded)
        with self._store.write() as tx:
            for _ in range(3):
                appended = append(tx, found.rows, self._issuer is not None, catalog.generation)
                if appended is not None:
                    if self._issuer is not None:
                        self._issuer.issue(tx, found.rows, appended)
                    if len(found.rows) >= imports.ANALYZE_FROM:
                        tx.filled(imports.TABLES)
                    return Imported(lines=count, recorded=recorded, events=len(found.rows),
                                    bad=tuple(bad))
                catalog = self._snapshot(fresh=True)  # published since: read again
                found, count, recorded, bad = imports.read(catalog, lines)
                if bad and not skip_bad:
                    raise imports.refusal(bad, count - recorded)
        raise UnpublishedVersion(_CHANGING)

    @staticmethod
    def _rows(records: Iterable[Mapping[str, Any]], catalog: Catalog) -> list[Row]:
        """Check ``records`` and resolve their versions and bundles (outside the write lock)."""
        found = Rows(catalog)
        for record in records:
            found.add(record)
        return found.rows

    # Reading status

    def status(self, subject: str, document: str, at: datetime | None = None) -> Status:
        """Where ``subject`` stands with ``document`` at ``at`` (now by default): at a past
        moment, by the decisions made up to it. An unknown subject is ``never``, not an error."""
        statuses = self._statuses(document, at)
        subject = canonical_subject(subject)
        if (until := _past(at)) is not None:
            return statuses.of(subject, self._read(
                lambda reads: rebuild.relations_at(reads, subject, until)).get(statuses.doc.id))
        row = self._read(lambda reads: reads.execute(_STATUS.format(join=reads.join), (
            statuses.doc.id, subject)).fetchone())
        return statuses.of(subject, row)

    def status_all(self, subject: str, at: datetime | None = None) -> list[Status]:
        """The status of ``subject`` for every published document."""
        subject = canonical_subject(subject)
        return [self.status(subject, slug, at) for slug in self._snapshot().documents]

    def statuses(self, subjects: Iterable[str], document: str,
                 at: datetime | None = None) -> list[Status]:
        """The status of each of ``subjects`` for ``document``, in the order given."""
        statuses = self._statuses(document, at)
        names = [canonical_subject(s) for s in subjects]
        if (until := _past(at)) is not None:
            return self._read(lambda reads: [statuses.of(s, rebuild.relations_at(
                reads, s, until).get(statuses.doc.id)) for s in names])
        rows: dict[str, StatusRow] = self._read(
            lambda reads: reads.status_rows(statuses.doc.id, names))
        return [statuses.of(s, rows.get(s)) for s in names]

    def _read(self, query: Callable[[Tx], T]) -> T:
        """``query(tx)`` on this thread's write transaction when it is in one (so that it sees
        what the transaction wrote: on PostgreSQL :meth:`Store.reads` is another connection),
        else on :meth:`Store.reads`."""
        if self._store.in_write():
            with self._store.read() as tx:
                return query(tx)
        return query(self._store.reads())

    def _statuses(self, document: str, at: datetime | None) -> DocumentStatuses:
        """The statuses of ``document`` on the day of ``at``, cached with the catalog."""
        catalog = self._snapshot()
        return statuses_on(catalog, catalog.document(document), to_micros(at) // DAY)

    # The gate

    def required(self, subject: str, at: datetime | str | None = None, *,
                 language: str | Sequence[str] | None = None) -> Required:
        """What the product must do now about ``subject``: for each published document they
        have a relation to (accepted, declined, withdrew, were notified) or that is required
        at signup, ``accept``, ``notify`` or ``announce`` a version, or nothing (left out);
        see :mod:`consent.required`. An unknown subject must accept the required documents.

        :param at: the moment asked about (a past one: by the decisions made up to it).
            Defaults to now.
        :param language: the reader's language (or languages, preferred first): each item's
            title, summary, ``sha256`` and URL are those of the version's text in it where it
            has one. Defaults to the version's own language.
        """
        return requirements(self._store.reads(), self._snapshot(), canonical_subject(subject),
                            to_micros(at) // DAY, check_languages(language), until=_past(at))

    # Notifications

    def pending_notifications(self, document: str, version: str, *, cursor: str | None = None,
                              limit: int | None = None) -> Iterator[str]:
        """The subjects who accepted a version before ``version`` of ``document`` and were not
        notified of it (nor of a later one), ordered by a stable key; withdrawn subjects are
        left out. Material versions call for re-acceptance, others for notice.

        :param cursor: a page's ``next_cursor`` (see :meth:`pending_page`): start after it.
            Defaults to the start.
        :param limit: yield at most this many. Defaults to all.
        """
        return notifications.pending(self._store.reads(), self._snapshot(), document, version,
                                     cursor, limit)

    def pending_page(self, document: str, version: str, *, cursor: str | None = None,
                     limit: int = 100) -> WorklistPage:
        """One page of :meth:`pending_notifications`; pass ``page.next_cursor`` as ``cursor``
        for the next (a cursor the ledger did not hand out raises :class:`InvalidCursor`).
        Pages neither skip nor repeat subjects while events arrive."""
        return notifications.page(self._store.reads(), self._snapshot(), document, version,
                                  cursor, limit)

    def mark_notified(self, subjects: Iterable[str], document: str, version: str, *,
                      channel: str = "email", at: datetime | None = None) -> Marked:
        """Record that ``subjects`` were notified of ``version``; idempotent: subjects already
        notified of it (or of a later version) are skipped. Returns a :class:`Marked`: how
        many were recorded, and the subjects left out as ``unknown`` (no status for the
        document)."""
        with self._store.write() as tx:
            return notifications.mark(tx, self._snapshot(fresh=True), subjects, document,
                                      version, channel, at)

    # Receipts

    def receipt(self, event: Event | str, *, with_salt: bool = False,
                size: int | None = None) -> SignedReceipt:
        """The consent receipt issued for ``event`` (an :class:`Event`, its place in the
        ledger: ``seq``, or ``chain.seq`` on a ledger of several chains, or the receipt's id),
        as it was signed, with the proof that its event is in the log against the latest
        checkpoint published with the site (none while no published checkpoint includes it:
        ask again after the next one). A bundle's member event gives its head's receipt.
        Raises :class:`UnknownReceipt` when none was issued.

        :param with_salt: the subject's own copy, with the salt that shows the receipt is
            about them (until they are erased). Defaults to the copy anyone may see.
        :param size: prove inclusion against the checkpoint of this size instead
            (:class:`UnknownCheckpoint` if there is none).
        """
        with self._store.read() as tx:
            return find_receipt(tx, event, with_salt=with_salt, size=size)

    # Rights

    def history(self, subject: str) -> list[Event]:
        """Every event about ``subject``, oldest first (empty for an unknown subject)."""
        return events.history(self._store.reads(), canonical_subject(subject))

    def export(self, subject: str) -> dict[str, Any]:
        """Everything the ledger holds about ``subject``, as JSON-ready data: with the
        subject's own copy of each receipt issued for their decisions (salt included)."""
        subject = canonical_subject(subject)
        statuses = self.status_all(subject)
        with self._store.read() as tx:
            exported = erasure.export(tx, subject, statuses)
            exported["receipts"] = subject_receipts(tx, exported["events"])
        return exported

    def erase(self, subject: str) -> Erasure:
        """Replace ``subject`` with a random pseudonym and drop its personal evidence and
        stored responses, from the storage and its logs; see :mod:`consent.erasure`."""
        return erasure.erase(self._store, canonical_subject(subject))

    def verify(self, *, repair: bool = False, anchor: str | None = None) -> Verification:
        """Check the hash chain (reports the first event edited, deleted, reordered or
        malformed), that each bundle member is part of its own record's event (reports each
        that is not), and recompute the status table from the events (reports each row that
        differs). On a ledger of several chains, each chain is checked against the latest seal
        and what was verified is sealed (its ``head`` is the seal's root), bundle members
        wrong or not (the ledger keeps them). What it cannot detect is in the result's
        ``limits``.

        :param repair: rewrite the rows that differ from the events, and record a
            ``repaired`` event (subject ``ledger:repair``) saying how many and which, when the
            chain verifies (the events are then trusted). Defaults to only reporting.
        :param anchor: ``EVENTS:HEAD`` of an earlier verification, kept elsewhere: the chain
            must still hold that head at that position (nothing cut from its end or rewritten).
            Defaults to none.
        """
        with self._store.read() as tx:
            result, heads = verify.verify(tx, anchor)
        if verify.to_seal(result):
            with self._store.write() as tx:  # what was verified, sealed: its head anchors it
                result = replace(result, seal=seals.write(tx, heads).root.hex())
        only_status = result.problem == verify.status_problem(result.status_differences)
        if not (repair and result.status_differences and only_status):
            return result  # nothing to repair, or the events themselves are in doubt
        with self._store.write() as tx:
            found = list(rebuild.differences(tx))
            evidence = rebuild.repair(tx, found)
            append(tx, [Row(to_micros(None), LEDGER_SUBJECT, None, Action.REPAIRED, "verify",
                            evidence)])
        with self._store.read() as tx:
            after, _ = verify.verify(tx, anchor)
        return replace(after, repaired=len(found), status_problems=result.status_problems)

    def seal(self, *, if_changed: bool = False) -> Seal | None:
        """Write a seal: the Merkle root over every chain's head, which :meth:`verify` checks
        later chains against (see :mod:`consent.seals`). Returns it; with ``if_changed``,
        ``None`` instead of a seal that would repeat the latest."""
        with self._store.read() as tx:
            heads = seals.current_heads(tx)
            last = seals.latest(tx)
        if if_changed and last is not None and last.heads == heads:
            return None
        with self._store.write() as tx:
            return seals.write(tx, heads).value

    # Idempotency for the HTTP API

    def idempotent(self, key: str, subjects: str | Iterable[str] | None,
                   make_response: Callable[[], dict[str, Any]], *, fingerprint: str | None = None,
                   owner: str | None = None) -> tuple[dict[str, Any], bool]:
        """Run ``make_response`` once per ``key`` (of ``owner``); see
        :func:`consent.idempotency.idempotent`."""
        return idempotency.idempotent(self._store, key, subjects, make_response, fingerprint,
                                      owner)


def _past(at: datetime | str | None) -> int | None:
    """``at`` in microseconds when it is a past moment, where the events up to it tell what a
    subject had decided; else ``None``: now or later, which the ``status`` table tells."""
    if at is None:
        return None
    moment = to_micros(at)
    return moment if moment < to_micros(None) else None


def _events(rows: list[Row], appended: list[Appended]) -> tuple[Event, ...]:
    """The events that appending ``rows`` made, the head first."""
    return tuple(events.from_row(row, done) for row, done in zip(rows, appended, strict=True))
