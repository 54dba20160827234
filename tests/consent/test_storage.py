"""A full disk: writes are refused with a clear error (503 over HTTP), reads keep working and
nothing recorded is lost. On a real, small tmpfs filesystem (mounting one needs root, which CI
has), and with SQLite's ``max_page_count`` everywhere."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner
from support.api import bearer, free_port, make_keys, publish, wait_until_up
from support.ledger import example
from support.repo import ContentRepo

from consent import ConsentError, Ledger, StorageFull, StorageUnavailable
from termsledger.cli import cli

BIG = {"note": "x" * 60_000}
"""Evidence that needs new pages in the WAL whatever it held."""


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs mounted for the test; ``fill()`` takes all its free space, ``free()``
    gives it back."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as error:
        if os.environ.get("CI"):
            pytest.fail(f"mounting a tmpfs needs root: {error}")
        pytest.skip(f"mounting a tmpfs needs root: {error}")
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


class SmallDisk:
    def __init__(self, path):
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        with open(self.filler, "ab", buffering=0) as file:
            for size in (65536, 4096, 512, 1):
                try:
                    while True:
                        file.write(b"\0" * size)
                except OSError as error:
                    assert error.errno == errno.ENOSPC

    def free(self) -> None:
        self.filler.unlink()


def test_a_full_disk_refuses_writes_keeps_reads_and_loses_nothing(small_disk):
    path = small_disk.path / "ledger.db"
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
        ledger.record("before", "terms", evidence={"ip": "192.0.2.1"})
        ledger.checkpoint()  # an empty WAL: the next writes need new space
        small_disk.fill()
        with pytest.raises(StorageFull, match=r"^the ledger .*ledger.db cannot be written: the "
                                              r"disk is full \(database or disk is full\)"):
            ledger.record("during", "terms", evidence=BIG)
        with pytest.raises(StorageFull):
            ledger.submit(lambda: ledger.record("during", "terms", evidence=BIG)).result()
        with pytest.raises(StorageFull):
            ledger.record_many([{"subject": f"m{i}", "document": "terms", "evidence": BIG}
                                for i in range(5)])
        assert ledger.status("before", "terms").status == "announced"
        assert ledger.history("during") == [] and ledger.verify().ok
        small_disk.free()
        ledger.record("after", "terms", evidence=BIG)
        assert [len(ledger.history(s)) for s in ("before", "during", "after")] == [2, 0, 2]
        assert ledger.verify().ok and ledger.verify().events == 4


def test_the_cli_says_the_disk_is_full_in_one_line(small_disk):
    path = small_disk.path / "ledger.db"
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
        ledger.record("before", "terms")
    with Ledger(path) as server:  # as a running server would, it keeps the WAL's files open
        server.checkpoint()
        small_disk.fill()
        evidence = '{"note": "' + "x" * 60_000 + '"}'
        result = CliRunner().invoke(cli, ["consent", "record", "u", "terms", "--evidence",
                                          evidence, "--ledger", str(path)])
        assert result.exit_code == 1
        assert result.output.startswith(f"Error: the ledger {path} cannot be written: the "
                                        f"disk is full")
        assert result.output.count("\n") == 1 and "Traceback" not in result.output
        status = CliRunner().invoke(cli, ["consent", "status", "before", "terms", "--ledger",
                                          str(path)])
        assert status.exit_code == 0 and '"status": "announced"' in status.output, status.output
        for _ in range(20):  # enough keys to need new pages
            created = CliRunner().invoke(cli, ["keys", "create", "--scope", "read", "--name",
                                               "n" * 3000, "--ledger", str(path)])
            if created.exit_code:
                break
        assert created.exit_code == 1 and created.output.count("\n") == 1
        assert created.output.startswith(f"Error: the ledger {path} cannot be written: the "
                                         f"disk is full")


def test_a_server_on_a_full_disk_answers_503_and_resumes(small_disk):
    path = publish(ContentRepo(small_disk.path / "repo"), small_disk.path / "ledger.db")
    secrets = make_keys(path)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from termsledger.cli import cli; cli()", "serve", "--ledger",
         str(path), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, server)
        with httpx.Client(base_url=base_url, headers=bearer(secrets["write"])) as client:
            body = {"subject": "before", "document": "terms"}
            assert client.post("/v1/consents", json=body).status_code == 201
            Ledger(path).checkpoint()
            small_disk.fill()
            during = {"subject": "during", "document": "terms", "evidence": BIG}
            for headers in ({}, {"Idempotency-Key": "full-1"}):
                response = client.post("/v1/consents", json=during, headers=headers)
                assert response.status_code == 503, response.text
                assert response.json()["error"]["code"] == "storage_full"
                assert int(response.headers["retry-after"]) > 0
            status = client.get("/v1/subjects/before/status", params={"document": "terms"})
            assert status.status_code == 200 and status.json()["status"] == "current"
            assert client.get("/v1/verify").json()["ok"] is True
            small_disk.free()
            retried = client.post("/v1/consents", json=during, headers={"Idempotency-Key": "full-1"})
            assert retried.status_code == 201, retried.text
            assert client.get("/v1/subjects/before/history").json()["events"][0]["subject"] == \
                "before"
    finally:
        server.terminate()
        server.wait(timeout=15)
    with Ledger(path) as ledger:
        assert ledger.verify().ok
        assert [len(ledger.history(s)) for s in ("before", "during")] == [2, 2]


def test_a_database_at_its_size_limit_is_storage_full(tmp_path):
    with Ledger(tmp_path / "ledger.db", create=True) as ledger:
        ledger.publish(example())
        ledger.record("before", "terms")
        (pages,) = ledger._store.reads().execute("PRAGMA page_count").fetchone()
        ledger._store.reads().execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StorageFull) as caught:
            ledger.record("during", "terms", evidence=BIG)
        assert isinstance(caught.value, StorageUnavailable) and isinstance(caught.value,
                                                                          ConsentError)
        assert ledger.history("during") == [] and ledger.status("before", "terms").subject
        ledger._store.reads().execute("PRAGMA max_page_count = 1073741823")
        ledger.record("during", "terms", evidence=BIG)
        assert ledger.verify().ok and ledger.verify().events == 4


def test_a_ledger_that_cannot_be_written_is_storage_unavailable(tmp_path):
    with Ledger(tmp_path / "ledger.db", create=True) as ledger:
        ledger.publish(example())
        ledger.record("before", "terms")
        ledger._store.reads().execute("PRAGMA query_only = 1")  # SQLite's read-only refusal
        with pytest.raises(StorageUnavailable, match=r"^the ledger .*ledger.db cannot be used "
                                                     r"now \(attempt to write a readonly "
                                                     r"database\); nothing was changed") as caught:
            ledger.record("during", "terms")
        assert not isinstance(caught.value, StorageFull)
        assert ledger.status("before", "terms").status == "announced"
        ledger._store.reads().execute("PRAGMA query_only = 0")
        ledger.record("after", "terms")
        assert ledger.verify().ok and ledger.verify().events == 4
