"""Several processes and threads write at once; a killed writer loses nothing acknowledged."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from support.ledger import example
from support.repo import ROOT

from consent import Ledger, UnpublishedVersion, checkpoints

pytestmark = pytest.mark.slow  # processes, servers or a browser
WRITER = """
import sys
from consent import Ledger, UnpublishedVersion, checkpoints
ledger = Ledger(sys.argv[1])
for i in range(int(sys.argv[3])):
    subject = f"{sys.argv[2]}-{i}"
    ledger.record(subject, "terms", evidence={"writer": sys.argv[2]})
    print(subject, flush=True)
"""


def test_processes_write_concurrently_and_a_killed_one_loses_nothing_acknowledged(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def start(name, count):
        return subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(count)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    # The victim writes first; once every writer has acknowledged an event and the victim
    # another, all four are writing, and the writers have many events left to write.
    victim = start("victim", 100_000)
    acknowledged = [victim.stdout.readline().strip()]
    writers = [start(f"w{i}", 300) for i in range(3)]
    acknowledged += [writer.stdout.readline().strip() for writer in writers]
    acknowledged += [victim.stdout.readline().strip() for _ in range(15)]
    victim.send_signal(signal.SIGKILL)
    assert all(writer.poll() is None for writer in writers)  # killed during concurrent writes
    victim.wait()
    for writer in writers:
        # Read through the same buffered file as readline() above: communicate() reads the
        # pipe itself and would miss lines already buffered, counting them as lost.
        out, err = writer.stdout.read(), writer.stderr.read()
        assert writer.wait(timeout=120) == 0, err
        acknowledged += out.split()
    acknowledged += [line.strip() for line in victim.stdout if line.endswith("\n")]

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    with Ledger(path) as ledger:
        assert ledger.verify().ok
        statuses = ledger.statuses(acknowledged, "terms")
        assert all(s.accepted_version is not None for s in statuses)
        assert len(acknowledged) >= 16 + 3 * 300


def test_threads_share_one_ledger(tmp_path):
    with Ledger(tmp_path / "ledger.db", create=True) as ledger:
        ledger.publish(example())
        errors = []

        def work(name):
            try:
                for i in range(25):
                    ledger.record(f"{name}-{i}", "terms")
                    ledger.status(f"{name}-{i}", "terms")
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        result = ledger.verify()
        assert result.ok and result.events == 4 * 25 * 2


def test_group_commit_rolls_back_a_refused_write_alone(tmp_path):
    with Ledger(tmp_path / "ledger.db", create=True) as ledger:
        ledger.publish(example())
        futures = [ledger.submit(lambda s=s: ledger.record(s, "terms")) for s in ("g1", "g2", "g3")]
        futures.insert(1, ledger.submit(lambda: ledger.record("bad", "terms", version="1999-01-01")))
        assert isinstance(futures[1].exception(timeout=30), UnpublishedVersion)
        assert all(f.result(timeout=30)[0].subject == s
                   for f, s in zip(futures[::2], ("g1", "g2"), strict=True))
        assert [s.status == "never" for s in ledger.statuses(["g1", "bad", "g2", "g3"], "terms")
                ] == [False, True, False, False]
        assert ledger.verify().ok


def test_commits_leave_checkpoints_to_a_background_thread(tmp_path):
    path = tmp_path / "ledger.db"
    threads = set(threading.enumerate())
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
        assert ledger._store.reads().execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        size = path.stat().st_size
        ledger.record_many({"subject": f"s{i}", "document": "terms"} for i in range(2000))
        deadline = time.monotonic() + 10
        while path.stat().st_size == size and time.monotonic() < deadline:
            time.sleep(0.02)
        assert path.stat().st_size > size  # the checkpoint thread copied the WAL into the file
    assert set(threading.enumerate()) <= threads  # close() stopped the ledger's threads


def test_the_wal_stays_bounded_while_writers_keep_appending(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
        for i in range(3000):  # over 100 MB of WAL if it never started over
            ledger.record_many({"subject": f"s{i}-{j}", "document": "terms",
                                "evidence": {"ip": "192.0.2.1"}} for j in range(8))
        wal = path.with_name("ledger.db-wal").stat().st_size
        page = ledger._store.reads().execute("PRAGMA page_size").fetchone()[0]
        assert wal < 10 * checkpoints.RESTART * page


def test_small_batches_run_one_at_a_time_in_order_and_a_large_one_overlaps():
    """The batcher of PostgreSQL appends: items run in the order submitted; while a batch
    runs, the small items queued wait for it (they make the next batch), and items adding up
    to ``overlap`` go to a second worker at once."""
    from consent.group import Batcher

    running: list[list[str]] = []
    overlapped: list[tuple[list[str], list[str]]] = []
    taken: list[list[str]] = []
    done: list[str] = []
    guard = threading.Lock()
    release = threading.Event()

    def run(batch):
        names = [name for name, _ in batch]
        with guard:
            overlapped.extend((other, names) for other in running)
            running.append(names)
            taken.append(names)
        if "first" in names:
            release.wait(timeout=30)
        with guard:
            running.remove(names)
            done.extend(names)
        return [(True, name) for name in names]

    batcher = Batcher(run, lambda item: item[1], 100, 2, 10)
    first = batcher.submit(("first", 1))
    deadline = time.monotonic() + 10
    while not running and time.monotonic() < deadline:
        time.sleep(0.001)
    small = [batcher.submit((f"small-{i}", 1)) for i in range(5)]
    time.sleep(0.1)
    assert overlapped == []  # five items of size 1: they wait for the running batch
    large = batcher.submit(("large", 5))  # ten queued now: a second batch starts
    assert large.result(timeout=10) == "large"
    assert overlapped == [(["first"], [f"small-{i}" for i in range(5)] + ["large"])]
    release.set()
    assert [outcome.result(timeout=10) for outcome in (first, *small)] == [
        "first", *(f"small-{i}" for i in range(5))]
    later = [batcher.submit((f"later-{i}", 40)) for i in range(6)]  # over the limit of 100
    assert [outcome.result(timeout=10) for outcome in later] == [f"later-{i}" for i in range(6)]
    batcher.close()
    assert done.index("large") < done.index("first")
    order = ["first", *(f"small-{i}" for i in range(5)), "large", *(f"later-{i}" for i in range(6))]
    assert sorted(sum(taken, []), key=order.index) == order  # each item once
    assert sum(sorted(taken, key=lambda names: order.index(names[0])), []) == order  # slices
