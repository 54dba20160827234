"""Erasure that a reader keeps from finishing: it says so and who the reader is, and erasing
again (or ``termsledger consent checkpoint``) finishes it, leaving no byte of the subject in the
file, its WAL or its shared-memory index."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner
from support.ledger import example

from consent import CheckpointIncomplete, ErasureIncomplete, Ledger, UnknownSubject, erasure
from termsledger.cli import cli

pytestmark = pytest.mark.slow  # processes, servers or a browser
VICTIM, IP = "victim.person@example.com", "198.51.100.77"
READER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN")
conn.execute("SELECT count(*) FROM events").fetchone()
print("reading", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def path(tmp_path, monkeypatch):
    monkeypatch.setattr(erasure, "ERASE_WAIT", 0.5)
    path = tmp_path / "ledger.db"
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
        ledger.record_many({"subject": f"user-{i}@example.com", "document": "terms",
                            "evidence": {"ip": f"10.0.0.{i}"}} for i in range(200))
        ledger.record(VICTIM, "terms", evidence={"ip": IP, "ua": "Firefox"})
    return path


class Reader:
    """Another process holding a read snapshot of the ledger until :meth:`stop`."""

    def __init__(self, path):
        self.process = subprocess.Popen([sys.executable, "-c", READER, str(path)], text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout.readline() == "reading\n"
        self.pid = self.process.pid

    def stop(self):
        """End the read and wait for the process to end; again (another thread stopped it, and
        it is ending or ended) the write finds no reader, which is no error."""
        try:
            self.process.stdin.write("\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            with contextlib.suppress(BrokenPipeError):  # closed even so, its "\n" left unsent
                self.process.stdin.close()
        self.process.wait(timeout=10)


def raw(path):
    """The bytes of the ledger's file, its WAL and its shared-memory index."""
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"),
                                             path.with_name(path.name + "-shm")) if p.exists())


def test_erasing_again_finishes_what_a_reader_kept_from_finishing(path):
    with Ledger(path) as ledger:
        reader = Reader(path)
        try:
            started = time.monotonic()
            with pytest.raises(ErasureIncomplete) as caught:
                ledger.erase(VICTIM)
            assert time.monotonic() - started < 5  # waited for the reader, not forever
            message = str(caught.value)
            assert message.startswith(f"the erasure of {VICTIM!r} is committed: its bytes "
                                      f"remain in the write-ahead log {path}-wal while a "
                                      f"reader holds an older snapshot: process {reader.pid} (")
            assert "run `termsledger consent checkpoint`" in message
            assert VICTIM.encode() in raw(path)  # the promise is not kept yet
            assert ledger.history(VICTIM) == [] and ledger.verify().ok
            with pytest.raises(ErasureIncomplete, match=f"^subject {VICTIM!r} is not in the "
                                                        f"ledger, but an earlier erasure is not "
                                                        f"finished: its bytes remain"):
                ledger.erase(VICTIM)  # still held: still incomplete
        finally:
            reader.stop()
        with pytest.raises(UnknownSubject, match=f"subject {VICTIM!r} is not in the ledger; "
                                                 f"the erasure left incomplete is now complete"):
            ledger.erase(VICTIM)
        data = raw(path)
        assert VICTIM.encode() not in data and IP.encode() not in data
        assert b"Firefox" not in data
        assert ledger.verify().ok
        with pytest.raises(UnknownSubject, match=f"^subject {VICTIM!r} is not in the ledger$"):
            ledger.erase(VICTIM)
        assert ledger.erase("user-7@example.com").events == 2


def test_the_checkpoint_command_waits_for_readers_or_names_them(path):
    reader = Reader(path)
    try:
        with Ledger(path) as ledger, pytest.raises(ErasureIncomplete):
            ledger.erase(VICTIM)
        result = CliRunner().invoke(cli, ["consent", "checkpoint", "--timeout", "0.3", "--ledger",
                                          str(path)])
        assert result.exit_code == 1 and result.output.count("\n") == 1
        assert result.output.startswith(f"Error: the write-ahead log {path}-wal could not be "
                                        f"emptied within 0.3 s: a reader holds an older "
                                        f"snapshot: process {reader.pid} (")
        with Ledger(path) as ledger, pytest.raises(CheckpointIncomplete):
            ledger.checkpoint(timeout=0.2)
        threading.Timer(0.5, reader.stop).start()  # the reader finishes while the command waits
        result = CliRunner().invoke(cli, ["consent", "checkpoint", "--ledger", str(path)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == {"wal": f"{path}-wal", "wal_bytes": 0}
    finally:
        if reader.process.poll() is None:
            reader.stop()
    data = raw(path)
    assert VICTIM.encode() not in data and IP.encode() not in data


def test_an_erasure_kept_incomplete_is_a_503_over_http(path, tmp_path):
    from fastapi.testclient import TestClient
    from support.api import bearer

    from termsledger.api import create_app
    with Ledger(path) as ledger:
        _, secret = ledger.keys.create("admin", "admin")
    reader = Reader(path)
    try:
        with TestClient(create_app(path), headers=bearer(secret)) as client:
            response = client.delete(f"/v1/subjects/{VICTIM}")
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "erasure_incomplete"
            assert response.headers["retry-after"] == "5"
            assert "termsledger consent checkpoint" in response.json()["error"]["message"]
            reader.stop()
            again = client.delete(f"/v1/subjects/{VICTIM}")
            assert again.status_code == 404
            assert "now complete" in again.json()["error"]["message"]
    finally:
        if reader.process.poll() is None:
            reader.stop()
    assert VICTIM.encode() not in raw(path) and IP.encode() not in raw(path)
