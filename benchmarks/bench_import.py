"""Benchmark: importing earlier acceptances (``Ledger.import_records``, what ``termsledger consent
import`` runs) against plain ``sqlite3`` reading the same JSON Lines into one indexed table, in
the same run, and beside ``Ledger.record_many`` of the same decisions already parsed (the
ledger's own bulk path, which imports share).

The file holds ``--lines`` acceptances of the Terms (no longer in force) by as many subjects, at
their original times, with evidence, as a product's export would. The ledger checks every line,
resolves the version, chains each event, keeps the personal fields apart and the status table,
in one ``synchronous=FULL`` transaction; the baseline parses each line with ``json`` and
inserts it into one table with an index on the subject, in one transaction too. Target: at
least 50,000 lines/s on SQLite. ``--bundle`` makes the Terms reference a Privacy Policy, so
that each line also records the bundle's second event.

    python benchmarks/bench_import.py [--lines 100000] [--rounds 3] [--bundle]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import terms
from consent import Ledger


def catalog(bundle: bool) -> terms.Content:
    """Terms of 2024 and of 2025 (material), referencing a Privacy Policy with ``bundle``."""
    def version(slug: str, effective: str, material: bool | None, references=()) -> terms.Version:
        body = f"# {slug}\n\nThe {slug} effective {effective}.\n"
        return terms.Version(slug=slug, id=effective, effective=date.fromisoformat(effective),
                             label=None, title=slug.title(), summary=effective, material=material,
                             references=tuple(references), body=body,
                             content_sha256=terms.content_sha256(body), path=f"{slug}.md",
                             commit=None, committed_at=None, announced_at=None)
    refs = ["privacy"] if bundle else []
    documents = {"terms": terms.Document("terms", "terms.md", (
        version("terms", "2024-01-01", None, refs), version("terms", "2025-01-01", True, refs)))}
    if bundle:
        documents["privacy"] = terms.Document("privacy", "privacy.md",
                                              (version("privacy", "2024-01-01", None),))
    return terms.Content("<generated>", documents)


def lines(count: int) -> list[bytes]:
    """JSON Lines as a product would export its acceptances of the 2024 Terms."""
    return [json.dumps({"subject": f"user-{n:08d}", "document": "terms", "version": "2024-01-01",
                        "at": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
                        "channel": "web", "evidence": {"ip": f"198.51.{n % 256}.{n % 199}",
                                                       "user_agent": "Mozilla/5.0 Firefox/125.0"}}
                       ).encode() + b"\n" for n in range(count)]


def ours(folder: Path, data: list[bytes], bundle: bool) -> tuple[float, int]:
    """Seconds to import ``data`` into a new ledger, and the events appended."""
    with Ledger(folder / "ledger.db", create=True) as ledger:
        ledger.publish(catalog(bundle))
        start = time.perf_counter()
        imported = ledger.import_records(data)
        seconds = time.perf_counter() - start
        assert imported.recorded == len(data) and not imported.bad
        return seconds, imported.events


def bulk(folder: Path, data: list[bytes], bundle: bool) -> float:
    """Seconds for ``record_many`` of the decisions of ``data``, parsed beforehand."""
    records = [json.loads(line) for line in data]
    for record in records:
        del record["version"]  # the version in force at their time (the Terms of 2024)
    with Ledger(folder / "bulk.db", create=True) as ledger:
        ledger.publish(catalog(bundle))
        start = time.perf_counter()
        ledger.record_many(records)
        return time.perf_counter() - start


def plain(folder: Path, data: list[bytes]) -> float:
    """Seconds for plain sqlite3 to parse ``data`` and insert it, in one transaction."""
    conn = sqlite3.connect(folder / "plain.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("CREATE TABLE acceptances (id INTEGER PRIMARY KEY, subject TEXT NOT NULL, "
                 "document TEXT NOT NULL, version TEXT NOT NULL, at TEXT NOT NULL, "
                 "channel TEXT, evidence TEXT)")
    conn.execute("CREATE INDEX acceptances_subject ON acceptances (subject)")
    start = time.perf_counter()
    rows = []
    for line in data:
        item = json.loads(line)
        rows.append((item["subject"], item["document"], item["version"], item["at"],
                     item["channel"], json.dumps(item["evidence"], sort_keys=True)))
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO acceptances (subject, document, version, at, channel, evidence)"
                     " VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="the median is reported")
    parser.add_argument("--bundle", action="store_true", help="two events per line")
    args = parser.parse_args()
    data = lines(args.lines)
    load = os.getloadavg()[0]
    figures: dict[str, list[float]] = {"ours": [], "bulk": [], "plain": []}
    events = 0
    for round_ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            order = ("ours", "bulk", "plain") if round_ % 2 == 0 else ("plain", "bulk", "ours")
            for name in order:
                if name == "ours":
                    seconds, events = ours(Path(folder), data, args.bundle)
                elif name == "bulk":
                    seconds = bulk(Path(folder), data, args.bundle)
                else:
                    seconds = plain(Path(folder), data)
                figures[name].append(args.lines / seconds)
    ours_rate, bulk_rate, plain_rate = (statistics.median(figures[n])
                                        for n in ("ours", "bulk", "plain"))
    print(f"{args.lines} lines ({events} events{', bundles of two' if args.bundle else ''}), "
          f"{args.rounds} rounds, medians; load average before {load:.2f}, after "
          f"{os.getloadavg()[0]:.2f} (other work on the machine skews this)")
    print(f"  Ledger.import_records  {ours_rate:9.0f} lines/s  each round: "
          + ", ".join(f"{r:.0f}" for r in figures["ours"]))
    print(f"  Ledger.record_many     {bulk_rate:9.0f} lines/s  each round: "
          + ", ".join(f"{r:.0f}" for r in figures["bulk"]))
    print(f"  plain sqlite3 inserts  {plain_rate:9.0f} lines/s  each round: "
          + ", ".join(f"{r:.0f}" for r in figures["plain"]))
    print(f"  ratio {plain_rate / ours_rate:.2f}x the plain inserts' time")
    ok = ours_rate >= 50_000
    print(f"  {'ok  ' if ok else 'MISS'} import >= 50,000 lines/s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
