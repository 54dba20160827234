"""Copying a whole ledger, between files and databases of either engine.

Every table is copied row for row, ids, hashes, chains, seals, keys and idempotency records
included, from one read snapshot of the source (a live SQLite ledger too: the snapshot is a
read transaction), into a target that holds no ledger yet and is made with the source's number
of chains. The copy is then verified in the transaction that writes it, and must hold the same
chains, heads and events as the source's snapshot. Bundle members that are not part of their
own record's event (which PostgreSQL ledgers written before 1 December 2026 may hold) are
copied as they are: the copy's verification reports them, as the source's does.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import closing
from dataclasses import replace
from pathlib import Path

from . import seals, verify
from .errors import ConsentError, LedgerExists
from .ledger import CHECKPOINT_WAIT, open_store
from .seals import current_heads
from .store import Tx, check_location, is_url, shown
from .values import Verification

TABLES: tuple[tuple[str, str], ...] = (
    ("documents", "id, slug, required"),
    ("versions", "id, document, version, effective, position, label, title, summary, flag, "
                 "verdict, content_sha256, refs, commit_sha, published_at, language, url, "
                 "markdown"),
    ("translations", "version, language, title, summary, content_sha256, url, markdown"),
    ("subjects", "id, subject, chain"),
    ("chains", "id, length, head"),
    ("events", "chain, seq, at, subject, version, action, channel, part_of, link, hash, "
               "language"),
    ("personal", "chain, seq, salt, evidence"),
    ("erased", "chain, seq, digest"),
    ("status", "document, subject, state, accepted, notified, at"),
    ("idempotency", "key, fingerprint, response, at"),
    ("idempotency_subjects", "subject, key"),
    ("api_keys", "id, name, scope, salt, hash, created, revoked"),
    ("seals", "id, at, heads, root"),
    ("log_tiles", "level, idx, hashes"),
    ("log_runs", "start, chain, seq, count"),
    ("log_checkpoints", "size, root, at, note, published"),
    ("receipt_claims", "id, claims"),
    ("receipts", "id, chain, seq, claims, issued, subject, key_id, signature"),
    ("webhooks", "id, url, events, secret, created, disabled, reason, delivered, last_delivered"),
    ("outbox", "id, endpoint, msg, type, at, subject, data, created, due, claim, attempts, "
               "first_failed, last_error, given_up"),
    ("in_force_sent", "version"),
    ("meta", "key, value, data"),
)
"""Each table and its columns, in an order that keeps references to rows already copied."""
BATCH = 10_000


class CopyFailed(ConsentError):
    """The copy does not verify, or differs from its source."""


def copy_ledger(source: str | Path, target: str | Path) -> Verification:
    """Copy the ledger at ``source`` into ``target`` (a new file, or a database without a
    ledger), both a path or a ``postgresql://`` URL; returns the target's verification (not
    ``ok`` when the only problem is bundle members the source held already).

    The target never looks like a usable ledger before the copy verified: a file is written
    beside it under a hidden name and renamed into place only then (removed on any failure or
    interrupt); a database is marked an incomplete copy with its tables (every command refuses
    it, :class:`~consent.errors.IncompleteCopy`), and its rows are copied, verified and the
    mark removed in one transaction. A copy into a marked database starts again.

    Raises :class:`LedgerExists` when ``target`` holds a ledger already, and
    :class:`CopyFailed` when the copy does not verify or differs from the source.
    """
    check_location(source)
    check_location(target)
    if is_url(target):
        return _copy_into(source, target, shown(target))
    target = Path(target)
    if target.exists():
        raise LedgerExists(f"{target} already exists: name a new file to copy the ledger to")
    try:
        handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                           dir=target.parent)
    except OSError as error:
        raise CopyFailed(f"the copy cannot be written beside {target}: "
                         f"{error.strerror or error}") from None
    os.close(handle)
    try:
        result = _copy_into(source, partial, str(target))
        try:
            os.link(partial, target)  # unlike a rename, never replaces a file made meanwhile
        except FileExistsError:
            raise LedgerExists(f"{target} was made while the ledger was copied: name a new "
                               f"file to copy the ledger to") from None
    finally:
        for leftover in (partial, f"{partial}-wal", f"{partial}-shm", f"{partial}.lock"):
            Path(leftover).unlink(missing_ok=True)
    return result


def _copy_into(source: str | Path, target: str, name: str) -> Verification:
    """Copy ``source`` into ``target`` (``name`` in messages) and verify it, in one
    transaction of the target."""
    source_store = open_store(source)
    try:
        with source_store.read() as read:
            heads = current_heads(read)
            several = len(heads) if is_url(target) else None  # a file is made with one chain
            target_store = open_store(target, create=True, chains=several, copying=True)
            try:
                with target_store.write() as write:
                    _refuse_filled(write, name)
                    write.execute("DELETE FROM chains")
                    write.execute("DELETE FROM meta")
                    for table, columns in TABLES:
                        _copy(read, write, table, columns)
                    write.copied([table for table, _ in TABLES])
                    result = _verified(write, heads, name)
                if not is_url(target):  # the file holds every row before it is renamed
                    target_store.checkpoint(CHECKPOINT_WAIT)
            finally:
                target_store.close()
    finally:
        source_store.close()
    return result


def _verified(tx: Tx, heads: tuple[tuple[int, bytes], ...], name: str) -> Verification:
    """The copy's verification in ``tx``, sealed as :meth:`Ledger.verify` seals; raises
    :class:`CopyFailed` unless it holds the source's ``heads``."""
    result, found = verify.verify(tx)
    if verify.to_seal(result):
        result = replace(result, seal=seals.write(tx, found).root.hex())
    if not result.ok and result.problem != verify.part_of_problem(result.wrong_part_of):
        raise CopyFailed(f"the copy in {name} does not verify: {result.problem}")
    if result.events != sum(length for length, _ in heads) or result.chains != len(heads):
        raise CopyFailed(f"the copy in {name} holds {result.events} events in {result.chains} "
                         f"chains, not the source's {sum(n for n, _ in heads)} in {len(heads)}")
    return result


def _refuse_filled(tx: Tx, name: str) -> None:
    for table in ("documents", "subjects", "api_keys"):
        if tx.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
            raise LedgerExists(f"{name} already holds a ledger ({table} has rows): copy into a "
                               f"new file or an empty database")


def _copy(read: Tx, write: Tx, table: str, columns: str) -> None:
    marks = ", ".join("?" for _ in columns.split(", "))
    insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    batch = []
    with closing(read.rows(f"SELECT {columns} FROM {table}")) as rows:  # closed before the store
        for row in rows:
            batch.append(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
            if len(batch) >= BATCH:
                write.executemany(insert, batch)
                batch = []
    write.executemany(insert, batch)
