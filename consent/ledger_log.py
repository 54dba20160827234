"""``Ledger.log``: the ledger's transparency log — sequencing, signed checkpoints and proofs.

The log's leaves are the ledger's events (their chain hashes), placed by the sequencer
(:mod:`consent.sequencer`). A checkpoint signs the tree's size and root hash with the log's
key (a C2SP signed note, :mod:`consent.note`) and is kept in ``log_checkpoints``; before it
signs, the ledger checks the whole log against the events (:func:`check_log`: every leaf is
its event's current hash, every checkpoint's root is the tree's at its size) and that the tree
still has the root of the latest checkpoint at its size, so that it never signs a tree that
does not extend what it signed before, nor one whose leaves are not the events'.
``termsledger build`` publishes the checkpoints with the site and marks them published; proofs
are against the latest published checkpoint unless a size is asked for, since a verifier
needs the checkpoint on the site.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from . import merkle
from .chain import parse_place, place_text
from .errors import (
    ConsentError,
    DamagedLog,
    InvalidNote,
    InvalidRecord,
    SigningKeyError,
    UnknownCheckpoint,
    short,
)
from .merkle import EMPTY_ROOT, HASH_SIZE, leaf_hash
from .note import Checkpoint, Note, SigningKey, seconds_of, sign_checkpoint
from .records import to_micros
from .sequencer import MAX_BATCH, event_of, leaf_of, log_size, pending, sequence
from .signing import format_time
from .store import Store, Tx
from .tiles import TILE_HEIGHT, TILE_WIDTH, TableTiles
from .tlog import Log, Pieces, push
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
        when the tree has not grown since the latest checkpoint, that one is returned. Nothing
        is sequenced or signed when the log does not check against the events
        (:func:`check_log`): :class:`DamagedLog` says what is wrong.

        :param key: the signing key. Defaults to the ledger's (see
            :class:`consent.issuer.ReceiptSettings`); :class:`SigningKeyError` without one.
        :param at: the checkpoint's time. Defaults to now.
        """
        key = key or self._signer()
        if key is None:
            raise SigningKeyError("no signing key: create one with `termsledger keys signing "
                                  "create` (checkpoints and receipts are signed with it)")
        with self._store.read() as tx:  # a snapshot: writers go on meanwhile
            problem = check_log(tx)
        if problem is not None:
            raise DamagedLog(problem)
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


_LEAVES = """
SELECT r.start, r.chain, r.seq, r.count, e.seq, e.hash
FROM log_runs r LEFT JOIN events e
  ON e.chain = r.chain AND e.seq >= r.seq AND e.seq < r.seq + r.count
WHERE r.start >= ? AND r.start < ?
ORDER BY r.start, e.seq
"""
"""The runs of the log that start in a window of leaves, in leaf order, with the events each
names (a run without any: one row with ``NULL`` for the event)."""
LEAVES_AT_ONCE = 10_000
"""The window of leaves whose runs :func:`check_log` reads in one statement (a cursor of its
own would keep memory flat too, but PostgreSQL refuses one inside a pipeline, where ``ledger
copy`` verifies its copy)."""
TILES_AT_ONCE = 128
"""Stored tiles of a level that :func:`check_log` reads in one statement (up to 1 MiB)."""


def _leaf_rows(tx: Tx) -> Iterator[tuple[Any, ...]]:
    """The rows of :data:`_LEAVES` for every run, in leaf order, a window at a time."""
    low, high = tx.execute("SELECT min(start), max(start) FROM log_runs").fetchone()
    if low is None:
        return
    if type(low) is not int or type(high) is not int:  # edited: all at once (the check says what)
        low, high = -(1 << 62), 1 << 62
    for window in range(min(low, 0), high + 1, LEAVES_AT_ONCE):
        yield from tx.execute(_LEAVES, (window, min(window + LEAVES_AT_ONCE, high + 1))).fetchall()


class _Found(Exception):
    """What :func:`check_log` found wrong, in words."""


def check_log(tx: Tx) -> str | None:
    """Check the transparency log against the events, in the read transaction (or snapshot)
    ``tx``; ``None`` when it is sound, else what is wrong, in one sentence naming the leaf,
    the event or the checkpoint (the first found: the checkpoints against their notes and the
    sizes first, then in leaf order).

    The runs (``log_runs``) must cover the leaves ``0`` to the log's size (``meta``
    ``log_size``) once each, without gaps, and name each event at most once, each chain's
    from its first in order; each leaf must be the leaf hash of the *current* hash of the
    event its run names (an event edited and re-hashed after it was logged is found here);
    the tree recomputed from those leaves must be what the stored tiles hold, at every level,
    and have, at each signed checkpoint's size, that checkpoint's root hash (which its signed
    note must say too). A checkpoint deleted with every trace of it cannot be seen here: an
    archived one (``log verify-consistency``) finds it.

    One pass over the events in leaf order, in O(events) time; what it keeps in memory is
    bounded by the tiles' width and the number of checkpoints, not by the log's size."""
    try:
        _LogCheck(tx).run()
    except _Found as found:
        return str(found)
    return None


class _LogCheck:
    """The state of one :func:`check_log`: the tree recomputed so far, level by level, as the
    leaves stream in."""

    def __init__(self, tx: Tx):
        self.tx = tx
        self.size = 0
        self.leaves: list[bytes] = []
        """The leaf hashes of the level-0 tile being filled."""
        self.rows: list[list[bytes]] = [[]]
        """Per level from 1: the hashes of its tile being filled."""
        self.pieces: list[Pieces] = [[]]
        """Per level from 1: the complete subtrees of those hashes."""
        self.done: list[int] = [0]
        """Per level: how many of its tiles are complete (checked)."""
        self.cache: dict[int, tuple[int, dict[int, bytes]]] = {}
        """Per level: the first tile index read ahead and the tiles read."""
        self.signed: list[tuple[int, bytes, str]] = []
        """``(size, root, when)`` of each signed checkpoint, smallest first."""
        self.checkpoints: list[tuple[int, bytes, str]] = []
        """Those not yet checked against the tree, largest first."""

    def run(self) -> None:
        tx = self.tx
        row = tx.execute("SELECT value FROM meta WHERE key = 'log_size'").fetchone()
        if row is None or type(row[0]) is not int or row[0] < 0:
            raise _Found(f"the log's size (meta 'log_size') is {short(row[0]) if row else 'missing'},"
                         f" not a whole number: the ledger's metadata was edited")
        self.size = size = row[0]
        self._read_checkpoints()
        stored = TableTiles(tx).tree_size()
        if stored != size:
            raise _Found(f"the log's tiles hold {stored} leaves where the ledger counts {size}: "
                         f"the log was changed outside termsledger")
        index = 0  # leaves checked so far
        run: tuple[int, int, int, int] | None = None
        got = 0  # events of ``run`` seen
        following: dict[int, int] = {}  # per chain: the seq its next run must start at
        cut = self.checkpoints[-1][0] if self.checkpoints else -1
        if cut == 0:
            self._checkpoint(0)
            cut = self.checkpoints[-1][0] if self.checkpoints else -1
        for start, chain, seq, count, found, hashed in _leaf_rows(tx):
            if run is None or start != run[0]:
                if run is not None:
                    _ran(run, got)
                for value in (start, chain, seq, count):
                    if type(value) is not int:
                        raise _Found(f"the log's run at leaf {short(start)} is malformed "
                                     f"({short(value)} where a whole number belongs): log_runs "
                                     f"was edited")
                if start != index:
                    raise _Found(self._gap(index, start))
                if count < 1 or seq < 1:
                    raise _Found(f"the log's run at leaf {start} names {count} events from "
                                 f"{place_text(chain, seq)}: log_runs was edited")
                expected = following.get(chain, 1)
                if seq < expected:
                    raise _Found(f"event {place_text(chain, seq)} is in the log twice (again at leaf "
                                 f"{start}): log_runs was edited, or the events were sequenced "
                                 f"again after it was")
                if seq > expected:
                    raise _Found(f"the log's run at leaf {start} starts at event "
                                 f"{place_text(chain, seq)} where {place_text(chain, expected)} was next: "
                                 f"log_runs was edited")
                following[chain] = seq + count
                run, got = (start, chain, seq, count), 0
            if found is None:
                continue  # a run that finds none of its events: _ran says so
            if found != seq + got:
                raise _Found(_missing(run, got))
            if isinstance(hashed, memoryview):
                hashed = bytes(hashed)
            if not isinstance(hashed, bytes) or len(hashed) != HASH_SIZE:
                raise _Found(f"event {place_text(chain, found)} (leaf {index}) has no valid hash: the "
                             f"events were changed outside termsledger")
            if index >= size:
                raise _Found(f"the log's runs name more leaves than the {size} the ledger counts "
                             f"(meta 'log_size'): the log was changed outside termsledger")
            self.leaves.append(leaf_hash(hashed))
            got += 1
            index += 1
            if len(self.leaves) == TILE_WIDTH:
                self._leaf_tile()
            if index == cut:
                self._checkpoint(index)
                cut = self.checkpoints[-1][0] if self.checkpoints else -1
        if run is not None:
            _ran(run, got)
        if index < size:
            raise _Found(self._gap(index, size))
        self._finish()

    def _read_checkpoints(self) -> None:
        """Read the signed checkpoints, checking each against its note and the log's size."""
        found = []
        for size, root, at, note in self.tx.execute(
                "SELECT size, root, at, note FROM log_checkpoints ORDER BY size"):
            try:
                when = format_time(datetime.fromtimestamp(at, timezone.utc))
            except (TypeError, ValueError, OverflowError, OSError):
                when = f"time {short(at)}"
            name = f"the checkpoint of {short(size)} leaves signed {when}"
            root = bytes(root) if isinstance(root, (bytes, memoryview)) else root
            try:
                signed = Checkpoint.parse(Note.parse(note).text)
            except (InvalidNote, TypeError, ValueError) as error:
                raise _Found(f"{name} is not a signed checkpoint: {error}") from None
            if (signed.size, signed.root_hash) != (size, root):
                raise _Found(f"{name} does not match its signed note (of {signed.size} leaves, "
                             f"root hash {base64.b64encode(signed.root_hash).decode()}): "
                             f"log_checkpoints was edited")
            if size > self.size:
                raise _Found(f"{name} is of more leaves than the log holds ({self.size}): the log "
                             f"was cut, or its size (meta 'log_size') edited")
            found.append((size, root, when))
        self.signed = found
        self.checkpoints = found[::-1]

    def _checkpoint(self, size: int) -> None:
        """The tree of the first ``size`` leaves (all read so far) must have the root of the
        checkpoint of that size (the next one, largest last in the list)."""
        _, root, when = self.checkpoints.pop()
        if self._root() != root:
            if self.leaves:  # a leaf of the tile being filled may be what differs
                self._compare(0, self.leaves, prefix=True)
            raise _Found(f"the log's tree of {size} leaves no longer has the root hash of its "
                         f"checkpoint signed {when}: the checkpoint, or the log and its events "
                         f"before it, were changed since it was signed")

    def _root(self) -> bytes:
        """The root of the tree of the leaves read so far."""
        parts = [h for level in range(len(self.pieces) - 1, 0, -1) for _, h in self.pieces[level]]
        if self.leaves:
            parts.append(merkle.root(self.leaves))
        return merkle.fold(parts) if parts else EMPTY_ROOT

    def _leaf_tile(self) -> None:
        """A level-0 tile is complete: check the stored one, and go up with its root."""
        leaves, self.leaves = self.leaves, []
        self._compare(0, leaves)
        self._up(1, merkle.root(leaves))

    def _up(self, level: int, h: bytes) -> None:
        """``h`` is the next hash of ``level`` (a complete subtree of ``256**level`` leaves)."""
        if level == len(self.rows):
            self.rows.append([])
            self.pieces.append([])
            self.done.append(0)
        self.rows[level].append(h)
        self.pieces[level], up = push(self.pieces[level], [h])
        if up:
            row, self.rows[level] = self.rows[level], []
            self._compare(level, row)
            self._up(level + 1, up[0])

    def _compare(self, level: int, hashes: list[bytes], *, prefix: bool = False) -> None:
        """The stored tile of ``level`` being filled must hold ``hashes`` (complete, or the
        last; with ``prefix``, the first of it), and the next one of the level is the next to
        compare (a complete tile)."""
        tile = self.done[level]
        if len(hashes) == TILE_WIDTH and not prefix:
            self.done[level] += 1
        data = self._stored(level, tile)
        wanted = b"".join(hashes)
        if data is not None and (data.startswith(wanted) if prefix else data == wanted):
            return
        if data is None:
            raise _Found(f"the log's tile {level}/{tile} is missing: the log was changed outside "
                         f"termsledger")
        if level > 0:
            raise _Found(f"the log's tile {level}/{tile} does not hold the hashes of the leaves "
                         f"below it: the log's tiles were changed outside termsledger")
        k = next((i for i in range(len(hashes))
                  if data[i * HASH_SIZE:(i + 1) * HASH_SIZE] != hashes[i]), len(hashes))
        if k == len(hashes):
            raise _Found(f"the log's tile 0/{tile} holds {len(data) // HASH_SIZE} leaves where "
                         f"{len(hashes)} were expected: the log's tiles were changed outside "
                         f"termsledger")
        raise _Found(self._leaf_problem(tile * TILE_WIDTH + k, data[k * HASH_SIZE:(k + 1) * HASH_SIZE],
                                        hashes[k]))

    def _stored(self, level: int, tile: int) -> bytes | None:
        """The stored tile ``level``/``tile``, read a batch ahead."""
        first, tiles = self.cache.get(level, (-TILES_AT_ONCE, {}))
        if not first <= tile < first + TILES_AT_ONCE:
            tiles = {idx: bytes(data) for idx, data in self.tx.execute(
                "SELECT idx, hashes FROM log_tiles WHERE level = ? AND idx >= ? AND idx < ?",
                (level, tile, tile + TILES_AT_ONCE))}
            self.cache[level] = (tile, tiles)
        return tiles.get(tile)

    def _leaf_problem(self, index: int, stored: bytes, current: bytes) -> str:
        """Why leaf ``index`` holds ``stored``, not ``current`` (its event's leaf hash): the
        event was changed after it was logged when a signed checkpoint includes ``stored``, the
        leaf was when one includes ``current`` (proved from the stored tiles either way)."""
        where = event_of(self.tx, index)
        event = f"event {place_text(*where)}" if where else "its event"
        for size, root, when in self.signed:
            if size <= index:
                continue
            signed = f"the checkpoint of {size} leaves signed {when}"
            for leaf in (stored, current):
                try:
                    proof = Log(TableTiles(self.tx)).inclusion_proof(index, size)
                    merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof,
                                            root=root)
                except ConsentError:
                    continue
                if leaf == stored:
                    return (f"{event} was changed after it entered the log: its hash is no "
                            f"longer the one leaf {index} holds, which {signed} includes")
                return (f"leaf {index} of the log was changed: it no longer holds the hash of "
                        f"{event}, which {signed} includes")
        return (f"leaf {index} of the log does not hold the hash of {event}: the event, or the "
                f"log's tiles, were changed outside termsledger")

    def _gap(self, index: int, start: int) -> str:
        """The runs go on at leaf ``start`` (or end there) where leaf ``index`` was next."""
        if start < index:
            return (f"the log's run at leaf {start} overlaps the one before it, which ends at "
                    f"leaf {index - 1}: log_runs was edited")
        leaves = (f"leaf {index} names" if start == index + 1
                  else f"leaves {index} to {start - 1} name")
        return (f"the log's {leaves} no event (no run of log_runs holds them): the log was "
                f"changed outside termsledger")

    def _finish(self) -> None:
        """After the last leaf: the last (partial) tile of every level, and no tile beyond."""
        if self.leaves:
            self._compare(0, self.leaves)
        for level in range(1, len(self.rows)):
            if self.rows[level]:
                self._compare(level, self.rows[level])
        for level, tiles, last in self.tx.execute(
                "SELECT level, count(*), max(idx) FROM log_tiles GROUP BY level ORDER BY level"):
            hashes = self.size >> TILE_HEIGHT * level if type(level) is int and level >= 0 else 0
            wanted = -(-hashes // TILE_WIDTH)
            if (tiles, last) != (wanted, wanted - 1):
                raise _Found(f"the log's level {short(level)} has {tiles} tiles where its "
                             f"{self.size} leaves make {wanted}: the log was changed outside "
                             f"termsledger")


def _missing(run: tuple[int, int, int, int], got: int) -> str:
    start, chain, seq, _ = run
    return (f"event {place_text(chain, seq + got)}, leaf {start + got} of the log, is missing from the "
            f"ledger: it was deleted")


def _ran(run: tuple[int, int, int, int], got: int) -> None:
    """The run ended after ``got`` of its events: it must have found all of them."""
    if got < run[3]:
        raise _Found(_missing(run, got))

