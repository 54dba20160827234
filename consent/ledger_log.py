"""``Ledger.log``: the ledger's transparency log — sequencing, signed checkpoints and proofs.

The log's leaves are the ledger's events (their chain hashes), placed by the sequencer
(:mod:`consent.sequencer`). A checkpoint signs the tree's size and root hash with the log's
key (a C2SP signed note, :mod:`consent.note`) and is kept in ``log_checkpoints``; before it
signs, the ledger checks that the tree still has the root of the latest checkpoint at its
size, so that it never signs a tree that does not extend what it signed before.
``termsledger build`` publishes the checkpoints with the site and marks them published; proofs
are against the latest published checkpoint unless a size is asked for, since a verifier
needs the checkpoint on the site.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from .chain import parse_place
from .errors import DamagedLog, InvalidRecord, SigningKeyError, UnknownCheckpoint, short
from .note import Checkpoint, SigningKey, seconds_of, sign_checkpoint
from .records import to_micros
from .sequencer import MAX_BATCH, leaf_of, log_size, pending, sequence
from .signing import format_time
from .store import Store, Tx
from .tiles import TableTiles
from .tlog import Log
from .transparency import ConsistencyProof
from .values import Event, Inclusion, LogCheckpoint

_COLUMNS = "SELECT size, root, at, note, published FROM log_checkpoints "


class LedgerLog:
    """The transparency log of a ledger's ``store``; ``signer`` returns the signing key of
    its receipts, if it has one."""

    def __init__(self, store: Store, signer: Callable[[], SigningKey | None]):
        self._store = store
        self._signer = signer

    @property
    def size(self) -> int:
        """The number of leaves (events sequenced so far)."""
        return log_size(self._store.reads())

    def pending(self) -> int:
        """How many events the sequencer has not yet made leaves."""
        return pending(self._store.reads())

    def sequence(self, *, limit: int = MAX_BATCH) -> int:
        """One step of the sequencer, in a transaction of its own: up to ``limit`` events
        become the log's next leaves; returns how many (``0``: none was waiting)."""
        with self._store.write() as tx:
            return sequence(tx, limit)

    def sequence_all(self) -> int:
        """Sequence every event waiting, in steps; returns how many. Writes nothing when none
        waits."""
        total = 0
        while self.pending() and (done := self.sequence()):
            total += done
        return total

    def checkpoint(self, *, key: SigningKey | None = None,
                   at: datetime | None = None) -> LogCheckpoint:
        """Sequence the events waiting, then sign a checkpoint of the whole tree and keep it;
        when the tree has not grown since the latest checkpoint, that one is returned.

        :param key: the signing key. Defaults to the ledger's (see
            :class:`consent.issuer.ReceiptSettings`); :class:`SigningKeyError` without one.
        :param at: the checkpoint's time. Defaults to now.
        """
        key = key or self._signer()
        if key is None:
            raise SigningKeyError("no signing key: create one with `termsledger keys signing "
                                  "create` (checkpoints and receipts are signed with it)")
        self.sequence_all()
        with self._store.write() as tx:
            size = log_size(tx)
            latest = _latest(tx, published=False)
            if latest is not None:
                origin = latest.note.split("\n", 1)[0]
                if origin != key.name:
                    raise SigningKeyError(f"the log's checkpoints are signed as {origin!r}, the "
                                          f"key as {key.name!r}: rotate the log's key (`termsledger "
                                          f"keys signing rotate`) rather than making another")
            log = Log(TableTiles(tx))
            if log.size != size:
                raise DamagedLog(f"the log's tiles hold {log.size} leaves where the ledger counts "
                                 f"{size}: the log was changed outside termsledger")
            if latest is not None and log.root(latest.size) != base64.b64decode(latest.root_hash):
                raise DamagedLog(f"the log's tree of {latest.size} leaves no longer has the root "
                                 f"hash of its checkpoint of {latest.time}: the log was changed "
                                 f"since; no checkpoint is signed over it")
            if latest is not None and latest.size == size:
                return latest
            time = datetime.fromtimestamp(seconds_of(at or datetime.now(timezone.utc)),
                                          timezone.utc)
            root = log.root(size)
            note = sign_checkpoint(Checkpoint(origin=key.name, size=size, root_hash=root), key, time)
            tx.execute("INSERT INTO log_checkpoints (size, root, at, note) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (size) DO NOTHING", (size, root, seconds_of(time), note))
            return _one(tx, size)

    def checkpoints(self) -> list[LogCheckpoint]:
        """Every signed checkpoint, smallest first."""
        return [_value(row) for row in self._store.reads().execute(_COLUMNS + "ORDER BY size")]

    def latest(self, *, published: bool = True) -> LogCheckpoint | None:
        """The latest checkpoint published with the site (``published=False``: the latest
        signed), if any."""
        return _latest(self._store.reads(), published=published)

    def mark_published(self, sizes: Iterable[int], *, at: datetime | None = None) -> int:
        """Record that the checkpoints of ``sizes`` are published with the site (the first time
        counts); returns how many were not marked before."""
        wanted = sorted(set(sizes))
        if not wanted:
            return 0
        with self._store.write() as tx:
            among, param = tx.any_of(wanted)
            before = tx.execute(f"SELECT count(*) FROM log_checkpoints WHERE size {among} AND "
                                "published IS NULL", (param,)).fetchone()[0]
            tx.execute(f"UPDATE log_checkpoints SET published = ? WHERE size {among} AND "
                       "published IS NULL", (to_micros(at), param))
            return int(before)

    def leaf_index(self, event: Event | str) -> int | None:
        """The leaf of ``event`` (an :class:`Event` or its place: ``seq``, or ``chain.seq``);
        ``None`` while the sequencer has not placed it (or there is no such event)."""
        where = parse_place(event) if isinstance(event, str) else (event.chain, event.seq)
        if where is None:
            raise InvalidRecord(f"{short(event)} is not an event's place (its seq, or chain.seq)")
        return leaf_of(self._store.reads(), *where)

    def inclusion(self, leaf_index: int, *, size: int | None = None) -> Inclusion:
        """The proof that leaf ``leaf_index`` is in the tree of the checkpoint of ``size``
        leaves (by default the latest published); :class:`UnknownCheckpoint` when there is no
        such checkpoint, or none published yet that includes the leaf."""
        with self._store.read() as tx:
            return inclusion(tx, leaf_index, size)

    def consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """The proof that the tree of ``new_size`` leaves (by default the latest published
        checkpoint's) extends the tree of ``old_size`` leaves."""
        with self._store.read() as tx:
            if new_size is None:
                latest = _latest(tx, published=True)
                if latest is None:
                    raise UnknownCheckpoint("no checkpoint of the log is published yet: give the "
                                            "new size")
                new_size = latest.size
            hashes = Log(TableTiles(tx)).consistency_proof(old_size, new_size)
        return ConsistencyProof(old_size=old_size, new_size=new_size, hashes=tuple(hashes))


def inclusion(tx: Tx, leaf_index: int, size: int | None) -> Inclusion:
    """:meth:`LedgerLog.inclusion` in ``tx``."""
    if size is None:
        checkpoint = _latest(tx, published=True)
        if checkpoint is None or checkpoint.size <= leaf_index:
            held = f"the latest has {checkpoint.size} leaves" if checkpoint else "none is yet"
            raise UnknownCheckpoint(f"leaf {leaf_index} is in no published checkpoint yet ({held}): "
                                    "it will be in the next one published with the site")
    else:
        checkpoint = _one(tx, size)
    hashes = Log(TableTiles(tx)).inclusion_proof(leaf_index, checkpoint.size)
    return Inclusion(leaf_index=leaf_index, size=checkpoint.size, checkpoint=checkpoint.note,
                     proof=tuple(base64.b64encode(h).decode() for h in hashes))


def _latest(tx: Tx, *, published: bool) -> LogCheckpoint | None:
    where = "WHERE published IS NOT NULL " if published else ""
    row = tx.execute(_COLUMNS + where + "ORDER BY size DESC LIMIT 1").fetchone()
    return _value(row) if row else None


def _one(tx: Tx, size: int) -> LogCheckpoint:
    row = tx.execute(_COLUMNS + "WHERE size = ?", (size,)).fetchone()
    if row is None:
        sizes = [str(s) for (s,) in tx.execute("SELECT size FROM log_checkpoints ORDER BY size")]
        raise UnknownCheckpoint(f"the log has no checkpoint of {size} leaves; its checkpoints are "
                                f"of {', '.join(sizes) or 'none yet'} leaves")
    return _value(row)


def _value(row: tuple[int, bytes, int, str, int | None]) -> LogCheckpoint:
    size, root, at, note, published = row
    try:
        when = format_time(datetime.fromtimestamp(at, timezone.utc))
        shown = (datetime.fromtimestamp(published / 1e6, timezone.utc).isoformat(timespec="seconds")
                 if published is not None else None)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise DamagedLog(f"the stored checkpoint of {size} leaves is damaged: {error}") from None
    return LogCheckpoint(size=size, root_hash=base64.b64encode(bytes(root)).decode(), time=when,
                         note=note, published=shown)
