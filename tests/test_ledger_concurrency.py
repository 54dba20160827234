"""Several processes and threads write at once; a killed writer loses nothing acknowledged."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from consent import Ledger
from ledger_support import example

ROOT = Path(__file__).resolve().parent.parent
WRITER = """
import sys
from consent import Ledger
ledger = Ledger(sys.argv[1])
for i in range(int(sys.argv[3])):
    subject = f"{sys.argv[2]}-{i}"
    ledger.record(subject, "terms", evidence={"writer": sys.argv[2]})
    print(subject, flush=True)
"""


def test_processes_write_concurrently_and_a_killed_one_loses_nothing_acknowledged(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger(path) as ledger:
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
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
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
    with Ledger(tmp_path / "ledger.db") as ledger:
        ledger.publish(example())
        errors = []

        def work(name):
            try:
                for i in range(25):
                    ledger.record(f"{name}-{i}", "terms")
                    ledger.status(f"{name}-{i}", "terms")
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        result = ledger.verify()
        assert result.ok and result.events == 4 * 25 * 2
