"""Benchmark: the consent ledger (issue 5) against plain ``sqlite3`` doing the same work.

Builds a ledger of ``--subjects`` subjects and ``--events`` acceptances with ``record_many``
(hash chain, personal digests and the status table kept), then measures ``record`` (one
``synchronous=FULL`` transaction each), ``status``, ``statuses`` for 10,000 subjects and the
notification worklist of a material version over every subject, and the bytes per event on
disk. The same operations run with plain ``sqlite3`` on one indexed table in the same run, and
the ratios are printed. Targets: record_many >= 60,000 events/s, record >= 2,000/s, status
>= 75,000/s, statuses(10,000) < 0.2 s, worklist first < 0.1 s and all < 1 s, < 300 bytes/event,
verify (hash chain and status table) >= 1,000,000 events/min.

    python benchmarks/bench_ledger.py                       # 1M subjects, 1M events
    python benchmarks/bench_ledger.py --events 10000000     # the issue's scale (slower)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import terms
from consent import Ledger

BATCH = 50_000
EVIDENCE_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/125.0"
AT = datetime(2026, 3, 1, tzinfo=timezone.utc)


def catalog() -> terms.Content:
    """Terms in three versions; the last (2026-01-01) is material."""
    def version(effective: str, material: bool | None) -> terms.Version:
        body = f"# Terms\n\nThe terms effective {effective}.\n"
        return terms.Version(slug="terms", id=effective, effective=date.fromisoformat(effective),
                             label=None, title="Terms", summary=effective, material=material,
                             references=(), body=body, content_sha256=terms.content_sha256(body),
                             path="terms.md", commit=None, committed_at=None, announced_at=None)
    versions = (version("2024-01-01", None), version("2025-01-01", False), version("2026-01-01", True))
    # not a folder, hence not in git: publish takes the uncommitted versions
    return terms.Content("<generated>", {"terms": terms.Document("terms", "terms.md", versions)})


def subject(n: int) -> str:
    return f"user-{n:08d}"


def records(start: int, count: int, subjects: int) -> list[dict]:
    """Acceptances of the versions before the material one, dated 2024 and 2025."""
    return [{"subject": subject(i % subjects), "document": "terms", "channel": "web",
             "at": f"{2024 + (i // subjects) % 2}-0{1 + i % 9}-1{i % 10}T10:{i % 60:02d}:00+00:00",
             "evidence": {"ip": f"198.51.{i % 256}.{i % 199}", "locale": "en-GB",
                          "user_agent": EVIDENCE_UA}}
            for i in range(start, start + count)]


def plain_rows(batch: list[dict]) -> list[tuple]:
    return [(r["at"], r["subject"], "terms", "2024-01-01", "accepted", r["channel"],
             json.dumps(r["evidence"])) for r in batch]


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def build(ledger: Ledger, plain: sqlite3.Connection, events: int, subjects: int) -> dict:
    """Fill both databases; time only the writes."""
    ours = theirs = 0.0
    for start in range(0, events, BATCH):
        batch = records(start, min(BATCH, events - start), subjects)
        ours += timed(ledger.record_many, batch)[0]
        rows = plain_rows(batch)
        seconds, _ = timed(_plain_insert, plain, rows)
        theirs += seconds
        print(f"  built {start + len(batch):,} events", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return {"record_many events/s": events / ours, "plain insert rows/s": events / theirs}


def _plain_insert(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    with conn:
        conn.executemany("INSERT INTO events (at, subject, document, version, action, channel, "
                         "evidence) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT OR REPLACE INTO status VALUES (?, 'terms', ?)",
                         [(r[1], r[3]) for r in rows])


def plain_database(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript("""
        CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT, subject TEXT, document TEXT,
                             version TEXT, action TEXT, channel TEXT, evidence TEXT);
        CREATE INDEX events_subject ON events (subject);
        CREATE TABLE status (subject TEXT, document TEXT, version TEXT,
                             PRIMARY KEY (subject, document)) WITHOUT ROWID;
    """)
    return conn


def measure(ledger: Ledger, plain: sqlite3.Connection, subjects: int, rng: random.Random) -> dict:
    figures = {}
    count = 2000
    t, _ = timed(lambda: [ledger.record(f"new-{i}", "terms", channel="web",
                                        evidence={"ip": "203.0.113.9", "locale": "en-GB"})
                          for i in range(count)])
    figures["record /s"] = count / t
    t, _ = timed(lambda: [_plain_one(plain, f"new-{i}") for i in range(count)])
    figures["plain single-insert txn /s"] = count / t

    lookups = [subject(rng.randrange(subjects)) for _ in range(100_000)]
    t, _ = timed(lambda: [ledger.status(s, "terms", AT) for s in lookups])
    figures["status /s"] = len(lookups) / t
    query = "SELECT version FROM status WHERE subject = ? AND document = ?"
    t, _ = timed(lambda: [plain.execute(query, (s, "terms")).fetchone() for s in lookups])
    figures["plain status select /s"] = len(lookups) / t

    many = [subject(rng.randrange(subjects)) for _ in range(10_000)]
    figures["statuses(10,000) s"], _ = timed(ledger.statuses, many, "terms", AT)
    figures["plain statuses(10,000) s"], _ = timed(lambda: plain.execute(
        "SELECT subject, version FROM status WHERE document = 'terms' AND subject IN "
        "(SELECT value FROM json_each(?))", (json.dumps(many),)).fetchall())

    start = time.perf_counter()
    worklist = ledger.pending_notifications("terms", "2026-01-01")
    next(worklist)
    figures["pending first s"] = time.perf_counter() - start
    rest = sum(1 for _ in worklist)
    figures["pending all s"] = time.perf_counter() - start
    figures["pending subjects"] = rest + 1
    start = time.perf_counter()
    cursor = plain.execute("SELECT subject FROM status WHERE document = 'terms' AND "
                           "version < '2026-01-01' ORDER BY subject")
    cursor.fetchone()
    figures["plain pending first s"] = time.perf_counter() - start
    sum(1 for _ in cursor)
    figures["plain pending all s"] = time.perf_counter() - start
    return figures


def _plain_one(conn: sqlite3.Connection, name: str) -> None:
    with conn:
        conn.execute("INSERT INTO events (at, subject, document, version, action, channel, "
                     "evidence) VALUES (?, ?, 'terms', '2026-01-01', 'accepted', 'web', ?)",
                     (datetime.now(timezone.utc).isoformat(), name,
                      '{"ip":"203.0.113.9","locale":"en-GB"}'))


def sizes(path: Path, events: int) -> dict:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    tables = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name "
                               "ORDER BY 2 DESC"))
    conn.close()
    return {"bytes/event": os.path.getsize(path) / events,
            "bytes by table": {name: round(size / events, 1) for name, size in tables.items()}}


def verification(ledger: Ledger, plain_path: Path) -> dict:
    """``verify`` (every hash recomputed, every status recomputed from the events) against
    plain sqlite3 reading every row of its events table once."""
    seconds, result = timed(ledger.verify)
    plain = sqlite3.connect(plain_path)
    plain_seconds, rows = timed(lambda: sum(1 for _ in plain.execute("SELECT * FROM events")))
    plain.close()
    return {"verify ok": result.ok, "verify events/min": result.events / seconds * 60,
            "plain read every event rows/min": rows / plain_seconds * 60}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir", default=None, help="Where to put the databases (default: a temp dir).")
    args = parser.parse_args()
    folder = Path(args.dir or tempfile.mkdtemp(prefix="bench-ledger-"))
    ledger = Ledger(folder / "ledger.db", create=True)
    ledger.publish(catalog())
    plain = plain_database(folder / "plain.db")
    print(f"{args.subjects:,} subjects, {args.events:,} events in {folder}", file=sys.stderr)
    figures = build(ledger, plain, args.events, args.subjects)
    total = args.events + 2000
    figures.update(measure(ledger, plain, args.subjects, random.Random(5)))
    figures.update(sizes(folder / "ledger.db", total))
    figures["plain bytes/event"] = sizes(folder / "plain.db", total)["bytes/event"]
    figures.update(verification(ledger, folder / "plain.db"))
    figures["ratios (ledger / plain)"] = {
        "record_many": figures["record_many events/s"] / figures["plain insert rows/s"],
        "record": figures["record /s"] / figures["plain single-insert txn /s"],
        "status": figures["status /s"] / figures["plain status select /s"],
        "statuses": figures["statuses(10,000) s"] / figures["plain statuses(10,000) s"],
        "pending all": figures["pending all s"] / figures["plain pending all s"],
        "bytes": figures["bytes/event"] / figures["plain bytes/event"],
        "verify": figures["verify events/min"] / figures["plain read every event rows/min"]}
    ledger.close()
    print(json.dumps(figures, indent=2, default=lambda v: round(v, 4)))


if __name__ == "__main__":
    main()
