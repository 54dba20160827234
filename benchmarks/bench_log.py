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
3. ``record``'s durable rate on SQLite with receipts (each decision's receipt signed and
   stored in its transaction) beside the same ledger without, ``--records`` each, in
   alternating rounds; and, for the decision not taken, with the sequencer run synchronously
   after each record (a second transaction per request). Target: receipts cost <= 10 %.
4. The ledger's own sequencer (``Ledger.log.sequence_all``: reading the events, the tree, the
   runs) over ``--sequenced`` events recorded with ``record_many``, beside reading the same
   events' hashes. Target: >= 50,000 leaves/s.
   (``--postgres URL``: on a PostgreSQL database of 32 chains too.)
5. ``termsledger receipt verify`` as a whole process against a site folder, beside a bare
   ``python -c pass``. Target: < 100 ms.

    python benchmarks/bench_log.py                          # 1M leaves appended, proofs at 10M
    python benchmarks/bench_log.py --leaves 200000 --proof-leaves 1000000   # quicker
    python benchmarks/bench_log.py --only 3 4 5             # the ledger's cases
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_ledger import catalog

import site_builder
from consent import Ledger, ReceiptSettings, merkle
from consent.signing import create_key, public_keys_path, read_public_keys
from consent.tiles import TableTiles, create_tables
from consent.tlog import Log, leaf_hash
from consent.transparency import write_transparency


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
        conn.executemany("INSERT INTO leaves VALUES (?, ?)", enumerate(hashes, index))
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
        p99 = times[int(len(times) * 0.99) - 1]
        line = (f"   {name:<50} median {statistics.median(times):6.3f} ms, p99 "
                f"{p99:6.3f} ms, max {times[-1]:6.3f} ms")
        if target:
            line += f"   (target < {target} ms: {'met' if p99 < target else 'NOT met'})"
        print(line)

    indexes = [rng.randrange(leaves) for _ in range(samples)]
    it = iter(indexes)
    report("inclusion proof (generate)", timed(lambda: log.inclusion_proof(next(it))), target=5)
    proofs = [(i, log.inclusion_proof(i), _leaf(conn, i)) for i in indexes[:samples]]
    it = iter(proofs)
    report("inclusion proof (verify)", timed(lambda: _verify(next(it), leaves, root)))
    pairs = iter(sorted((rng.randrange(1, leaves), leaves) for _ in range(samples)))
    report("consistency proof, random old size to the latest",
           timed(lambda: log.consistency_proof(*next(pairs))))
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
    (tile,) = conn.execute("SELECT hashes FROM log_tiles WHERE level = 0 AND idx = ?",
                           (index // 256,)).fetchone()
    offset = index % 256 * 32
    return bytes(tile[offset:offset + 32])


def _verify(item, size, root) -> None:
    index, proof, leaf = item
    merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof, root=root)


def _ledger(folder: Path, name: str, receipts: ReceiptSettings | None) -> Ledger:
    ledger = Ledger(folder / name, create=True, receipts=receipts)
    ledger.publish(catalog(), allow_uncommitted=True)
    return ledger


def _settings(folder: Path) -> ReceiptSettings:
    key = folder / "signing.key"
    if not key.exists():
        create_key(key, name="terms.example.com")
    return ReceiptSettings(signing_key=key, controller="Quillbridge Learning Ltd.",
                           contact="legal@example.com", base_url="https://terms.example.com/")


def bench_record(folder: Path, records: int, rounds: int) -> None:
    print(f"3. record, one synchronous=FULL transaction each: {records:,} per case in {rounds} "
          "alternating rounds (median of the rounds' rates; CPU time of this process per record)")
    cases = {"without receipts (baseline)": (_ledger(folder, "plain.ledger", None), False),
             "with receipts": (_ledger(folder, "receipts.ledger", _settings(folder)), False),
             "with receipts + synchronous sequencing": (
                 _ledger(folder, "sync.ledger", _settings(folder)), True)}
    rates: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, float] = dict.fromkeys(cases, 0.0)
    per_round = max(records // rounds, 1)
    for round_ in range(rounds):
        for name, (ledger, sync) in cases.items():
            started, used = time.perf_counter(), time.process_time()
            for i in range(per_round):
                ledger.record(f"user-{round_}-{i}", "terms", channel="web",
                              evidence={"ip": "203.0.113.9", "locale": "en-GB"})
                if sync:
                    ledger.log.sequence()
            rates[name].append(per_round / (time.perf_counter() - started))
            cpu[name] += time.process_time() - used
    base = statistics.median(rates["without receipts (baseline)"])
    for name, found in rates.items():
        rate = statistics.median(found)
        line = (f"   {name:<40} {rate:>7,.0f} records/s ({rate / base:6.1%} of the baseline), "
                f"{cpu[name] / (per_round * rounds) * 1e6:5.0f} us CPU each")
        if name == "with receipts":
            line += f"   target >= 90 %: {'met' if rate >= 0.9 * base else 'NOT met'}"
        print(line)
    for ledger, _ in cases.values():
        ledger.close()


def bench_sequencer(folder: Path, events: int, postgres: str | None) -> None:
    print(f"4. The ledger's sequencer over {events:,} events recorded with record_many")
    places = [("SQLite", str(folder / "sequenced.ledger"))]
    if postgres:
        places.append(("PostgreSQL, 32 chains", postgres))
    for engine, location in places:
        ledger = Ledger(location, create=True)
        ledger.publish(catalog(), allow_uncommitted=True)
        for start in range(0, events, 50_000):
            ledger.record_many({"subject": f"user-{i}", "document": "terms", "channel": "web"}
                               for i in range(start, min(start + 50_000, events)))
        ledger.log.sequence()  # the first step pays for the connection; not counted
        started = time.perf_counter()
        done = ledger.log.sequence_all() + 1
        ours = time.perf_counter() - started
        started = time.perf_counter()
        with ledger._store.read() as tx:  # the plain work: read the hashes, hash the leaves
            rows = tx.execute("SELECT hash FROM events").fetchall()
        [hashlib.sha256(b"\x00" + bytes(h)).digest() for (h,) in rows]
        plain = time.perf_counter() - started
        ledger.close()
        print(f"   {engine}")
        print(f"     baseline  read the events' hashes and hash the leaves  {rate(len(rows), plain)}")
        print(f"     termsledger  sequence_all (steps of 4,096 leaves)     {rate(done, ours)}"
              f"   target >= 50,000 leaves/s: {'met' if done / ours >= 50_000 else 'NOT met'}")


def bench_verify(folder: Path, runs: int) -> None:
    print(f"5. termsledger receipt verify as a whole process, {runs} runs (median)")
    settings = _settings(folder)
    ledger = _ledger(folder, "verify.ledger", settings)
    events = ledger.record("user-1", "terms", channel="web", version="2026-01-01")  # the one in force
    checkpoint = ledger.log.checkpoint()
    site = folder / "site"
    site_builder.build(catalog(), site, site_builder.SiteSettings(base_url=settings.base_url),
                       now=date(2026, 3, 1), processes=1)
    write_transparency(site, read_public_keys(public_keys_path(settings.signing_key)), [checkpoint.note])
    ledger.log.mark_published([checkpoint.size])
    receipt = folder / "receipt.json"
    receipt.write_text(ledger.receipt(events[0]).to_json())
    ledger.close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def median_ms(command: list[str]) -> tuple[float, float]:
        """Median wall time and CPU time (user + system) of a run of ``command``, in ms."""
        times, cpu = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env)
            times.append((time.perf_counter() - started) * 1000)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
            assert done.returncode == 0, done.stdout + done.stderr
        return statistics.median(times), statistics.median(cpu)

    commands = {"bare": [sys.executable, "-c", "pass"],
                "verify": [sys.executable, "-c", "from termsledger.cli import cli; cli()", "receipt",
                           "verify", str(receipt), "--site", str(site)]}
    (bare, bare_cpu), (verify, verify_cpu) = (median_ms(c) for c in commands.values())
    print(f"   baseline  python -c pass                     {bare:8.1f} ms ({bare_cpu:5.1f} ms CPU)")
    print(f"   termsledger receipt verify (site folder)      {verify:8.1f} ms ({verify_cpu:5.1f} ms CPU)"
          f"   target < 100 ms: {'met' if verify < 100 else 'NOT met'}")
    print(f"   ({json.loads(receipt.read_text())['proof']['leafIndex'] + 1} leaf, all checks)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--proof-leaves", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=1_000)
    parser.add_argument("--records", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--sequenced", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", type=int, nargs="*", default=[1, 2, 3, 4, 5])
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="Also run case 4 on this new (empty) PostgreSQL database.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-log-") as folder:
        cases = {1: lambda: bench_append(Path(folder), args.leaves, args.batch),
                 2: lambda: bench_proofs(Path(folder), args.proof_leaves, args.samples),
                 3: lambda: bench_record(Path(folder), args.records, args.rounds),
                 4: lambda: bench_sequencer(Path(folder), args.sequenced, args.postgres),
                 5: lambda: bench_verify(Path(folder), args.runs)}
        for number in args.only:
            cases[number]()


if __name__ == "__main__":
    main()
