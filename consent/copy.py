"""Copying a whole ledger, between files and databases of either engine.

Every table is copied row for row, ids, hashes, chains, seals, keys and idempotency records
included, from one read snapshot of the source (a live SQLite ledger too: the snapshot is a
read transaction), into a target that holds no ledger yet and is made with the source's number
of chains. The copy is then verified, and must hold the same chains, heads and events as the
source's snapshot. Bundle members that are not part of their own record's event (which
PostgreSQL ledgers written before 1 December 2026 may hold) are copied as they are: the copy's
verification reports them, as the source's does.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConsentError, LedgerExists
from .ledger import Ledger, open_store
from .seals import current_heads
from .store import Tx, is_url
from .values import Verification
from .verify import part_of_problem

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

    Raises :class:`LedgerExists` when ``target`` holds a ledger already, and
    :class:`CopyFailed` when the copy does not verify or differs from the source.
    """
    if not is_url(target):
        if Path(target).exists():
            raise LedgerExists(f"{target} already exists: name a new file to copy the ledger to")
    source_store = open_store(source)
    try:
        with source_store.read() as read:
            heads = current_heads(read)
            several = len(heads) if is_url(target) else None  # a file is made with one chain
            target_store = open_store(target, create=True, chains=several)
            try:
                with target_store.write() as write:
                    _refuse_filled(write, target_store.name)
                    write.execute("DELETE FROM chains")
                    write.execute("DELETE FROM meta")
                    for table, columns in TABLES:
                        _copy(read, write, table, columns)
                    write.copied([table for table, _ in TABLES])
            finally:
                target_store.close()
    finally:
        source_store.close()
    with Ledger(target) as copied:
        result = copied.verify()
    if not result.ok and result.problem != part_of_problem(result.wrong_part_of):
        raise CopyFailed(f"the copy in {target} does not verify: {result.problem}")
    if result.events != sum(length for length, _ in heads) or result.chains != len(heads):
        raise CopyFailed(f"the copy in {target} holds {result.events} events in {result.chains} "
                         f"chains, not the source's {sum(n for n, _ in heads)} in {len(heads)}")
    return result


def _refuse_filled(tx: Tx, name: str) -> None:
    for table in ("documents", "subjects", "api_keys"):
        if tx.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
            raise LedgerExists(f"{name} already holds a ledger ({table} has rows): copy into a "
                               f"new file or an empty database")


def _copy(read: Tx, write: Tx, table: str, columns: str) -> None:
    marks = ", ".join("?" for _ in columns.split(", "))
    rows = read.rows(f"SELECT {columns} FROM {table}")
    insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    batch = []
    for row in rows:
        batch.append(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
        if len(batch) >= BATCH:
            write.executemany(insert, batch)
            batch = []
    write.executemany(insert, batch)
