"""The PostgreSQL ledger under processes that die, a server that restarts, and two API
servers standing in for two hosts: no acknowledged event is lost, and verify passes."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from support.api import bearer, free_port, make_keys, publish, stop_server, wait_until_up
from support.repo import ContentRepo

from consent import Ledger

pytestmark = pytest.mark.slow  # processes, servers or a browser
WRITER = """
import sys
from consent import Ledger
with Ledger(sys.argv[1]) as ledger:
    for i in range(100_000):
        subject = f"{sys.argv[2]}-{i}"
        ledger.record(subject, "terms", evidence={"ip": "192.0.2.1"})
        print(subject, flush=True)  # acknowledged: durable before it returns
"""


def acknowledged(path: Path) -> list[str]:
    """The subjects a writer printed in full (a line cut by SIGKILL is not one)."""
    return [line for line in path.read_text().split("\n")[:-1] if line]


def test_eight_writers_one_killed_lose_no_acknowledged_event(postgres, tmp_path):
    url = publish(ContentRepo(tmp_path / "repo"), postgres.location())
    outputs = [tmp_path / f"writer-{n}.txt" for n in range(8)]
    writers = []
    for n, output in enumerate(outputs):
        with output.open("wb") as file:
            writers.append(subprocess.Popen([sys.executable, "-c", WRITER, url, f"w{n}"],
                                            stdout=file, stderr=subprocess.DEVNULL))
    deadline = time.monotonic() + 120  # every writer under way, however loaded the machine
    while (min(len(acknowledged(o)) for o in outputs) < 10 or len(acknowledged(outputs[3])) < 20) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    writers[3].send_signal(signal.SIGKILL)  # mid-run: its next record is in flight
    time.sleep(1.0)
    for writer in writers:
        if writer.poll() is None:
            writer.send_signal(signal.SIGTERM)
    for writer in writers:
        writer.wait(timeout=30)
    assert writers[3].returncode == -signal.SIGKILL
    done = [subject for output in outputs for subject in acknowledged(output)]
    assert len(acknowledged(outputs[3])) >= 20 and len(done) >= 80
    with Ledger(url) as ledger:
        statuses = ledger.statuses(done, "terms")
        assert [s.subject for s in statuses if s.status == "never"] == []
        result = ledger.verify()
        assert result.ok, result.problem
        assert result.events >= 2 * len(done)


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from termsledger.cli import cli; cli()", "serve", "--ledger", url,
         "--port", str(port), "--workers", "2", "--seal-every", "0.5"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)




def test_two_servers_write_to_one_database(postgres, tmp_path):
    url = publish(ContentRepo(tmp_path / "repo"), postgres.location())
    secrets = make_keys(url)
    ports = [free_port(), free_port()]
    servers = [serve(url, port) for port in ports]
    try:
        for port, server in zip(ports, servers, strict=True):
            wait_until_up(f"http://127.0.0.1:{port}", server)
        written = []
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}",
                                headers=bearer(secrets["write"])) for port in ports]
        for i in range(60):
            subject = f"host-{i % 2}-{i}"
            response = clients[i % 2].post("/v1/consents",
                                           json={"subject": subject, "document": "terms"})
            assert response.status_code == 201, response.text
            written.append(subject)
        for client in clients:
            assert client.get(f"/v1/subjects/{written[-1]}/status",
                              params={"document": "terms"}).json()["status"] == "current"
            client.close()
        time.sleep(1.0)  # a seal by each server
    finally:
        for server in servers:
            stop_server(server)
    with Ledger(url) as ledger:
        assert all(s.status == "current" for s in ledger.statuses(written, "terms"))
        result = ledger.verify()
        assert result.ok and result.seal is not None and result.events == 2 * len(written)


def cluster() -> tuple[str, str]:
    """The version and name of the PostgreSQL cluster the tests use (Debian's tools)."""
    listed = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                            check=True).stdout.split()
    return listed[0], listed[1]


def test_a_server_restart_fails_requests_in_flight_with_503_and_the_api_recovers(
        postgres, tmp_path):
    if not Path("/usr/bin/pg_ctlcluster").exists():
        pytest.fail("pg_ctlcluster (Debian's postgresql-common) is needed to restart the server")
    url = publish(ContentRepo(tmp_path / "repo"), postgres.location())
    secrets = make_keys(url)
    port = free_port()
    server = serve(url, port)
    outcomes: list[tuple[str, int, dict]] = []
    stopping = threading.Event()

    def write(n: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=bearer(secrets["write"]),
                          timeout=30) as client:
            i = 0
            while not stopping.is_set():
                subject = f"restart-{n}-{i}"
                try:
                    response = client.post("/v1/consents",
                                           json={"subject": subject, "document": "terms"})
                    outcomes.append((subject, response.status_code, response.json()))
                except httpx.HTTPError:
                    outcomes.append((subject, 0, {}))
                i += 1

    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for writer in writers:
            writer.start()
        time.sleep(1.0)
        version, name = cluster()
        subprocess.run(["pg_ctlcluster", version, name, "restart", "-m", "fast"], check=True,
                       timeout=60)
        restarted = len(outcomes)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                code == 201 for _, code, _ in outcomes[restarted:]):
            time.sleep(0.2)
        time.sleep(0.5)
        stopping.set()
        for writer in writers:
            writer.join(timeout=60)
    finally:
        stopping.set()
        stop_server(server)
    codes = {code for _, code, _ in outcomes}
    assert codes <= {201, 503}, codes  # no 500, no dropped connection
    failed = [body for _, code, body in outcomes if code == 503]
    assert failed, "no request was in flight during the restart"
    assert all(body["error"]["code"] == "storage_unavailable" and "try again later"
               in body["error"]["message"] for body in failed)
    assert any(code == 201 for _, code, _ in outcomes[restarted:])  # recovered by itself
    done = [subject for subject, code, _ in outcomes if code == 201]
    with Ledger(url) as ledger:
        assert all(s.status == "current" for s in ledger.statuses(done, "terms"))
        assert ledger.verify().ok
