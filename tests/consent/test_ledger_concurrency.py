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


def test_batches_never_share_a_key_and_an_item_waiting_for_one_keeps_its_place():
    """The batcher of PostgreSQL appends (keys: chains): batches running at once hold
    different keys, and later items of a key never pass an earlier one waiting for it."""
    from consent.group import Batcher

    running: set[int] = set()
    overlaps: list[set[int]] = []
    done: list[str] = []
    guard = threading.Lock()

    def run(batch):
        keys = set().union(*(wanted for wanted, _ in batch))
        with guard:
            overlaps.extend([running & keys] if running & keys else [])
            running.update(keys)
        time.sleep(0.005)
        with guard:
            running.difference_update(keys)
            done.extend(name for _, name in batch)
        return [(True, name) for _, name in batch]

    batcher = Batcher(run, lambda item: 1, lambda item: frozenset(item[0]), 3, 4)
    futures = [batcher.submit(({i % 5}, f"small-{i}")) for i in range(40)]
    futures.append(batcher.submit((set(range(5)), "wide")))
    futures += [batcher.submit(({i % 5}, f"after-{i}")) for i in range(10)]
    assert [future.result(timeout=30) for future in futures][40] == "wide"
    batcher.close()
    assert overlaps == [] and len(done) == 51
    assert all(done.index("wide") < done.index(f"after-{i}") for i in range(10))
