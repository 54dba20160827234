"""Benchmark: the consent ledger on PostgreSQL (issue 13) beside plain psycopg doing the same
work with the same connections, and the same operations on SQLite, in one run.

With 16 concurrent writers: ``record`` (one durable transaction each) against a plain one-row
``INSERT`` per transaction; ``record_many`` in batches of 1,000; ``status`` against a plain
``SELECT`` by subject; ``statuses`` of 10,000 subjects in one call; the notification worklist
(``pending_notifications``) over ``--subjects`` subjects. Targets: record >= 3,000 events/s
and >= half the plain inserts; record_many >= 40,000 events/s; status >= 10,000/s and >= half
the plain selects; statuses(10,000) < 0.2 s; pending over 1M subjects < 2 s. After each fill
the database is vacuumed and analyzed (see :func:`settled`). ``record_many``
also reports the CPU milliseconds per 1,000 events of this process, of the ledger's batch threads
and of the server's processes (when the server runs on this host and its processes are readable),
which a loaded machine changes less than the rate.

    TERMSLEDGER_BENCH_POSTGRES=postgresql://user:pw@127.0.0.1/postgres \\
        python benchmarks/bench_postgres.py --subjects 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import psycopg
from bench_ledger import catalog, records, subject

from consent import Ledger

DEFAULT_URL = "postgresql://termsledger_test:termsledger_test@127.0.0.1:5432/postgres"
BATCH = 1000


def in_threads(threads: int, seconds: float, work: Callable[[int, int], int]) -> float:
    """Run ``work(thread, i)`` (returning how many items it did) in a loop on ``threads``
    threads for ``seconds``; returns items per second."""
    done = [0] * threads
    stop = time.monotonic() + seconds
    started = threading.Barrier(threads + 1)

    def loop(t: int) -> None:
        started.wait()
        i = 0
        while time.monotonic() < stop:
            done[t] += work(t, i)
            i += 1

    workers = [threading.Thread(target=loop, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    started.wait()
    began = time.monotonic()
    for worker in workers:
        worker.join()
    return sum(done) / (time.monotonic() - began)


def plain_postgres(url: str, threads: int, seconds: float, subjects: int) -> dict:
    """Plain psycopg with one connection per thread: one-row INSERT per transaction, SELECT by
    subject."""
    conns = [psycopg.connect(url, autocommit=True) for _ in range(threads)]
    conns[0].execute("DROP TABLE IF EXISTS plain")
    conns[0].execute("CREATE TABLE plain (id bigserial PRIMARY KEY, subject text NOT NULL, "
                     "at bigint NOT NULL, data bytea NOT NULL)")
    conns[0].execute("CREATE INDEX plain_subject ON plain (subject)")
    with conns[0].cursor() as cursor:
        cursor.executemany("INSERT INTO plain (subject, at, data) VALUES (%s, 0, %s)",
                           [(subject(i), b"x" * 64) for i in range(min(subjects, 100_000))])
    settled(url)
    for conn in conns:
        conn.execute("SET synchronous_commit = on")
    insert = in_threads(threads, seconds, lambda t, i: conns[t].execute(
        "INSERT INTO plain (subject, at, data) VALUES (%s, %s, %s)",
        (f"p{t}-{i}", i, b"x" * 64)) and 1)
    select = in_threads(threads, seconds, lambda t, i: len(conns[t].execute(
        "SELECT at, data FROM plain WHERE subject = %s",
        (subject((t * 7919 + i * 104729) % min(subjects, 100_000)),)).fetchall()) or 1)
    conns[0].execute("DROP TABLE plain")
    for conn in conns:
        conn.close()
    return {"insert_per_s": round(insert), "select_per_s": round(select)}


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat: str) -> float | None:
    """User and system CPU of the process or thread whose ``/proc/.../stat`` is ``stat``
    (``None`` where it cannot be read: not Linux, or another user's process)."""
    try:
        with open(stat) as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def cpu_of(url: str | None) -> dict[str, float | None]:
    """CPU seconds so far of this process, of its ledger's batch threads and of the server's
    processes serving the database of ``url`` (when on this host and readable)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    batch = [cpu_seconds(f"/proc/self/task/{thread.native_id}/stat")
             for thread in threading.enumerate() if thread.name.startswith("batch-")]
    server: list[float | None] = []
    if url is not None:
        with psycopg.connect(url, autocommit=True) as conn:
            server = [cpu_seconds(f"/proc/{pid}/stat") for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")]
    return {"process": usage.ru_utime + usage.ru_stime,
            "batch_workers": None if not batch or None in batch else sum(batch),
            "server": None if not server or None in server else sum(server)}


def in_threads_cpu(url: str | None, threads: int, seconds: float,
                   work: Callable[[int, int], int]) -> tuple[float, dict[str, float | None]]:
    """:func:`in_threads`, and the CPU milliseconds per 1,000 items of this process, of the
    ledger's batch threads and of the server's processes (see :func:`cpu_of`: a connection
    opened meanwhile counts from its start)."""
    before = cpu_of(url)
    rate = in_threads(threads, seconds, work)
    after = cpu_of(url)
    per = 1000 / (rate * seconds) * 1000
    return rate, {key: None if after[key] is None or before[key] is None
                  else round((after[key] - before[key]) * per, 1)
                  for key in before}


def measure(ledger: Ledger, threads: int, seconds: float, subjects: int, prefix: str,
            url: str | None) -> dict:
    """The ledger's figures; the ledger holds ``subjects`` acceptances already (``url``: its
    database, whose server processes' CPU is reported, when on this host)."""
    record = in_threads(threads, seconds, lambda t, i: len(ledger.record(
        f"{prefix}-r{t}-{i}", "terms", channel="web", evidence={"ip": "192.0.2.1"})))
    many, cpu = in_threads_cpu(url, min(threads, 4), seconds, lambda t, i: ledger.record_many(
        records(subjects + (t * 1000 + i) * BATCH, BATCH, 10**9)))
    status = in_threads(threads, seconds, lambda t, i: ledger.status(
        subject((t * 7919 + i * 104729) % subjects), "terms") and 1)
    names = [subject(i * 97 % subjects) for i in range(10_000)]
    began = time.perf_counter()
    found = ledger.statuses(names, "terms")
    statuses = time.perf_counter() - began
    began = time.perf_counter()
    pending = sum(1 for _ in ledger.pending_notifications("terms", "2026-01-01"))
    worklist = time.perf_counter() - began
    assert len(found) == 10_000
    return {"record_events_per_s": round(record), "record_many_events_per_s": round(many),
            "record_many_cpu_ms_per_1000": cpu,
            "status_per_s": round(status), "statuses_10000_s": round(statuses, 3),
            "pending_s": round(worklist, 3), "pending_subjects": pending}


def fill(ledger: Ledger, subjects: int) -> float:
    """Publish the catalog and record ``subjects`` acceptances; returns events/s."""
    ledger.publish(catalog(), allow_uncommitted=True)
    began = time.perf_counter()
    for start in range(0, subjects, 10_000):
        ledger.record_many(records(start, min(10_000, subjects - start), subjects))
    return subjects / (time.perf_counter() - began)


def settled(url: str) -> None:
    """``VACUUM (ANALYZE)`` the database of ``url`` after a fill, as autovacuum does to a real
    ledger long before it holds a million subjects: without it, autovacuum sets about the
    millions of rows just written while the figures are taken (on 2 cores it took ``pending``
    from 1.2 s to 2.3 s, ``statuses`` from 0.21 s to 0.29 s), and the first reads of each row
    pay for marking it committed."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    admin = os.environ.get("TERMSLEDGER_BENCH_POSTGRES", DEFAULT_URL)
    name = f"bench_engine_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    report: dict = {"threads": args.threads, "subjects": args.subjects}
    try:
        report["plain_psycopg"] = plain_postgres(url, args.threads, args.seconds, args.subjects)
        with Ledger(url, create=True) as ledger:
            report["postgresql_fill_events_per_s"] = round(fill(ledger, args.subjects))
            settled(url)
            report["postgresql"] = measure(ledger, args.threads, args.seconds, args.subjects, "pg",
                                           url)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            try:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except psycopg.errors.InsufficientPrivilege:  # an autovacuum worker in it: only a
                conn.execute(f"DROP DATABASE IF EXISTS {name}")  # plain drop may stop it
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            with Ledger(Path(folder) / "bench.db", create=True) as ledger:
                report["sqlite_fill_events_per_s"] = round(fill(ledger, args.subjects))
                report["sqlite"] = measure(ledger, args.threads, args.seconds, args.subjects, "sq",
                                           None)
    pg, plain = report["postgresql"], report["plain_psycopg"]
    report["ratios"] = {"record_vs_plain_insert": round(pg["record_events_per_s"]
                                                        / plain["insert_per_s"], 2),
                        "status_vs_plain_select": round(pg["status_per_s"]
                                                        / plain["select_per_s"], 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
