"""The sequencer: the ledger's events become the leaves of its transparency log, in batches.

Writers append events to their hash chains and never touch the log's tree. A sequencer step,
a transaction of its own, takes the events not yet in the log (each chain's, from the first
after its last sequenced one, in order), appends their hashes to the tree as leaves
(:meth:`consent.tlog.Log.append`: the leaf of an event is its 32-byte chain hash) and records
where they went as *runs*: a run ``(start, chain, seq, count)`` says that leaves ``start`` to
``start + count - 1`` are the events ``seq`` to ``seq + count - 1`` of ``chain``, so that a
batch costs one row per chain, not one per event.

Steps exclude each other by locking the ``log_size`` row of ``meta`` (PostgreSQL holds it
until the commit; on SQLite the write transaction holds the whole file), never a chain's row,
which writers lock: writers on PostgreSQL do not wait for the tree, and on SQLite, where one
transaction writes at a time anyway, a step is one short transaction among the writers'. The
events of a chain commit in ``seq`` order (a writer holds its chain's head until it commits),
so the events after a chain's last sequenced one never leave a gap that a later commit fills.
"""

from __future__ import annotations

from .chain import place_text
from .errors import DamagedLog
from .merkle import HASH_SIZE, leaf_hash
from .store import Tx
from .tiles import TableTiles
from .tlog import Log

MAX_BATCH = 4096
"""Most events one step makes leaves (its transaction stays short)."""

CHAINS_AT_ONCE = 100
"""Most chains whose events one statement of a step reads."""
_EVENTS = ("SELECT * FROM (SELECT chain, seq, hash FROM events WHERE chain = ? AND seq > ? "
           "AND seq <= ? ORDER BY seq LIMIT ?) AS r")
"""The events of a chain a step takes: its statement joins one per chain."""

_PROGRESS = """
SELECT c.id, c.length, coalesce((SELECT r.seq + r.count - 1 FROM log_runs r WHERE r.chain = c.id
                                 ORDER BY r.seq DESC LIMIT 1), 0)
FROM chains c ORDER BY c.id
"""


def log_size(tx: Tx) -> int:
    """The number of leaves of the log."""
    row = tx.execute("SELECT value FROM meta WHERE key = 'log_size'").fetchone()
    return int(row[0]) if row else 0


def pending(tx: Tx) -> int:
    """How many events are not yet leaves of the log."""
    return sum(length - done for _, length, done in tx.execute(_PROGRESS))


def sequence(tx: Tx, limit: int = MAX_BATCH) -> int:
    """One step, in the write transaction ``tx``: up to ``limit`` events not yet in the log
    become its next leaves, shared out among the chains that have some; returns how many."""
    tx.execute("UPDATE meta SET value = value WHERE key = 'log_size'")  # the sequencer's lock
    size = log_size(tx)
    last = tx.execute("SELECT start + count FROM log_runs ORDER BY start DESC LIMIT 1").fetchone()
    if (last[0] if last else 0) != size:  # runs deleted: their events would be sequenced again
        raise DamagedLog(f"the log's runs end at leaf {last[0] if last else 0} where the ledger "
                         f"counts {size} leaves: the log was changed outside termsledger; run "
                         f"`termsledger consent verify`")
    behind = [(chain, done, length) for chain, length, done in tx.execute(_PROGRESS).fetchall()
              if length > done]
    if not behind:
        return 0
    runs: list[tuple[int, int, int]] = []
    leaves: list[bytes] = []
    shares = _shares([length - done for _, done, length in behind], limit)
    wanted = [(chain, done, length, share)
              for (chain, done, length), share in zip(behind, shares, strict=True) if share]
    found: dict[int, list[tuple[int, bytes]]] = {chain: [] for chain, _, _, _ in wanted}
    for start in range(0, len(wanted), CHAINS_AT_ONCE):  # a statement for many chains
        some = wanted[start:start + CHAINS_AT_ONCE]
        for chain, seq, hashed in tx.execute(
                " UNION ALL ".join([_EVENTS] * len(some)) + " ORDER BY chain, seq",
                [value for each in some for value in each]).fetchall():
            found[chain].append((seq, hashed))
    for chain, done, _, _ in wanted:
        rows = found[chain]
        for offset, (seq, hashed) in enumerate(rows):
            if seq != done + 1 + offset:
                raise DamagedLog(f"event {place_text(chain, done + 1 + offset)} is missing from the "
                                 f"ledger: the events were changed outside termsledger; run "
                                 f"`termsledger consent verify`")
            if not isinstance(hashed, (bytes, bytearray, memoryview)) or len(hashed) != HASH_SIZE:
                raise DamagedLog(f"event {place_text(chain, seq)} has no valid hash: the events were "
                                 f"changed outside termsledger; run `termsledger consent verify`")
            leaves.append(leaf_hash(bytes(hashed)))
        if rows:
            runs.append((size + len(leaves) - len(rows), chain, done + 1))
    if not leaves:
        return 0
    log = Log(TableTiles(tx))
    if log.size != size:
        raise DamagedLog(f"the log's tiles hold {log.size} leaves where the ledger counts {size}: "
                         "the log was changed outside termsledger")
    log.append(leaves)
    ends = [start for start, _, _ in runs[1:]] + [size + len(leaves)]
    tx.executemany("INSERT INTO log_runs (start, chain, seq, count) VALUES (?, ?, ?, ?)",
                   [(start, chain, seq, end - start)
                    for (start, chain, seq), end in zip(runs, ends, strict=True)])
    tx.execute("UPDATE meta SET value = ? WHERE key = 'log_size'", (size + len(leaves),))
    return len(leaves)


def _shares(waiting: list[int], limit: int) -> list[int]:
    """How many of each chain's ``waiting`` events a step of ``limit`` takes: all of a chain's
    when they are few, else an equal share of what the others leave."""
    shares = [0] * len(waiting)
    left, open_ = limit, [i for i, count in enumerate(waiting) if count]
    while left and open_:
        each = max(left // len(open_), 1)
        for i in list(open_):
            take = min(each, waiting[i] - shares[i], left)
            shares[i] += take
            left -= take
            if shares[i] == waiting[i]:
                open_.remove(i)
            if not left:
                break
    return shares


def leaf_of(tx: Tx, chain: int, seq: int) -> int | None:
    """The leaf index of event ``seq`` of ``chain``, or ``None`` while it is not sequenced."""
    row = tx.execute("SELECT start, seq, count FROM log_runs WHERE chain = ? AND seq <= ? "
                     "ORDER BY seq DESC LIMIT 1", (chain, seq)).fetchone()
    if row is None or seq >= row[1] + row[2]:
        return None
    return int(row[0] + seq - row[1])


def event_of(tx: Tx, index: int) -> tuple[int, int] | None:
    """``(chain, seq)`` of the event at leaf ``index``, or ``None`` past the log's end."""
    row = tx.execute("SELECT start, chain, seq, count FROM log_runs WHERE start <= ? "
                     "ORDER BY start DESC LIMIT 1", (index,)).fetchone()
    if row is None or index >= row[0] + row[3]:
        return None
    return int(row[1]), int(row[2] + index - row[0])
