"""Benchmark: the transparency log (issue 15) beside the plain work it is made of, in one run.

1. Sequencing and tree update: batches of ``--batch`` event hashes get their leaf hashes
   (``SHA-256(0x00 || event hash)``) and are appended to the log in SQLite (tiles, one
   ``synchronous=FULL`` transaction per batch), beside (a) plain ``hashlib`` hashing of the same
   leaves and (b) a plain ``sqlite3`` insert of the leaf hashes, one row each, same settings.
   Target: >= 50,000 leaves/s.
2. Proofs at ``--proof-leaves`` leaves (10 million by default): a log of that size is built in
   SQLite, then inclusion proofs of random leaves (against the whole tree) and consistency
   proofs between random sizes are timed, each from a fresh reader (tiles read from SQLite),
   beside the plain baseline of fetching as many single hashes by primary key from the plain
   table. Target: an inclusion proof < 5 ms.

    python benchmarks/bench_log.py                          # 1M leaves appended, proofs at 10M
    python benchmarks/bench_log.py --leaves 200000 --proof-leaves 1000000   # quicker
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from consent import merkle  # noqa: E402
from consent.tiles import TableTiles, create_tables  # noqa: E402
from consent.tlog import Log, leaf_hash  # noqa: E402


def connect(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "cache_size=-65536"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def batches(total: int, size: int, seed: int = 1):
    """Event hashes (32 random bytes each), ``size`` at a time."""
    rng = random.Random(seed)
    for start in range(0, total, size):
        count = min(size, total - start)
        data = rng.randbytes(32 * count)
        yield [data[i:i + 32] for i in range(0, len(data), 32)]


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} leaves/s"


def bench_append(folder: Path, leaves: int, batch: int) -> None:
    print(f"1. Sequencing + tree update: {leaves:,} leaves in batches of {batch:,}, "
          "one synchronous=FULL commit per batch")
    started = time.perf_counter()
    for events in batches(leaves, batch):
        [hashlib.sha256(b"\x00" + e).digest() for e in events]
    plain_hash = time.perf_counter() - started
    print(f"   baseline  plain hashlib, leaf hashes only          {rate(leaves, plain_hash)}")

    conn = connect(folder / "plain.db")
    conn.execute("CREATE TABLE leaves (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL)")
    started, index = time.perf_counter(), 0
    for events in batches(leaves, batch):
        hashes = [hashlib.sha256(b"\x00" + e).digest() for e in events]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO leaves VALUES (?, ?)", zip(range(index, index + len(hashes)), hashes))
        conn.execute("COMMIT")
        index += len(hashes)
    plain_insert = time.perf_counter() - started
    conn.close()
    print(f"   baseline  plain sqlite3 insert of the leaf hashes  {rate(leaves, plain_insert)}")

    conn = connect(folder / "log.db")
    create_tables(conn)
    log = Log(TableTiles(conn))
    started = time.perf_counter()
    for events in batches(leaves, batch):
        conn.execute("BEGIN")
        log.append([leaf_hash(e) for e in events])
        conn.execute("COMMIT")
    ours = time.perf_counter() - started
    conn.close()
    print(f"   termsledger  leaf hashes + append to the log       {rate(leaves, ours)}"
          f"   ({ours / plain_insert:.2f}x the plain insert's time; target >= 50,000 leaves/s: "
          f"{'met' if leaves / ours >= 50_000 else 'NOT met'})")
    for name in ("plain.db", "log.db"):
        checkpointed = sqlite3.connect(folder / name)
        checkpointed.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        checkpointed.close()
        size = sum(p.stat().st_size for p in folder.glob(name + "*"))
        print(f"   {name:<9} {size / leaves:6.1f} bytes/leaf on disk")


def bench_proofs(folder: Path, leaves: int, samples: int) -> None:
    print(f"2. Proofs at {leaves:,} leaves (log built in SQLite, then {samples:,} proofs of each kind)")
    conn = connect(folder / "big.db", synchronous="OFF")
    create_tables(conn)
    log = Log(TableTiles(conn))
    started = time.perf_counter()
    for events in batches(leaves, 20_000, seed=2):
        conn.execute("BEGIN")
        log.append([leaf_hash(e) for e in events])
        conn.execute("COMMIT")
    print(f"   built in {time.perf_counter() - started:.1f} s")
    root, rng = log.root(), random.Random(3)

    def timed(make) -> list[float]:
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            make()
            times.append((time.perf_counter() - started) * 1000)
        return times

    def report(name, times, target=None):
        times.sort()
        line = (f"   {name:<50} median {statistics.median(times):6.3f} ms, p99 "
                f"{times[int(len(times) * 0.99) - 1]:6.3f} ms, max {times[-1]:6.3f} ms")
        print(line + (f"   (target < {target} ms: {'met' if times[int(len(times) * 0.99) - 1] < target else 'NOT met'})"
                      if target else ""))

    indexes = [rng.randrange(leaves) for _ in range(samples)]
    it = iter(indexes)
    report("inclusion proof (generate)", timed(lambda: log.inclusion_proof(next(it))), target=5)
    proofs = [(i, log.inclusion_proof(i), _leaf(conn, i)) for i in indexes[:samples]]
    it = iter(proofs)
    report("inclusion proof (verify)", timed(lambda: _verify(next(it), leaves, root)))
    pairs = iter(sorted((rng.randrange(1, leaves), leaves) for _ in range(samples)))
    report("consistency proof, random old size to the latest", timed(lambda: log.consistency_proof(*next(pairs))))
    sizes = iter(rng.randrange(1, leaves) for _ in range(samples))
    report("root of a random older size", timed(lambda: log.root(next(sizes))))

    plain = sqlite3.connect(folder / "plain.db")
    (count,) = plain.execute("SELECT count(*) FROM leaves").fetchone()
    depth = leaves.bit_length()

    def lookups():
        for _ in range(depth):
            plain.execute("SELECT hash FROM leaves WHERE idx = ?", (rng.randrange(count),)).fetchone()
    report(f"baseline: {depth} hashes by primary key (plain table)", timed(lookups))
    plain.close()
    conn.close()


def _leaf(conn: sqlite3.Connection, index: int) -> bytes:
    (tile,) = conn.execute("SELECT hashes FROM log_tiles WHERE level = 0 AND idx = ?", (index // 256,)).fetchone()
    offset = index % 256 * 32
    return bytes(tile[offset:offset + 32])


def _verify(item, size, root) -> None:
    index, proof, leaf = item
    merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof, root=root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--proof-leaves", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-log-") as folder:
        bench_append(Path(folder), args.leaves, args.batch)
        bench_proofs(Path(folder), args.proof_leaves, args.samples)


if __name__ == "__main__":
    main()
