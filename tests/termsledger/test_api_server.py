"""A real ``termsledger serve`` process with two workers on a free loopback port."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from support.api import bearer, make_keys, publish, running_server

from consent import Ledger

pytestmark = pytest.mark.slow  # processes, servers or a browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``(base_url, secrets, ledger_path)`` of a running server, stopped after the module."""
    from support.repo import ContentRepo

    root = tmp_path_factory.mktemp("served")
    ledger_path = publish(ContentRepo(root / "repo"), root / "ledger.db")
    secrets = make_keys(ledger_path)
    with running_server(ledger_path, workers=2) as base_url:
        yield base_url, secrets, ledger_path


def test_record_and_read_over_http(served):
    base_url, secrets, _ = served
    with httpx.Client(base_url=base_url, headers=bearer(secrets["write"])) as client:
        recorded = client.post("/v1/consents", json={"subject": "web/1", "document": "terms"})
        assert recorded.status_code == 201
        status = client.get("/v1/subjects/web%2F1/status", params={"document": "terms"})
        assert status.json()["status"] == "current"
        assert client.get("/v1/subjects/web%2F1/export").status_code == 403
    assert httpx.post(f"{base_url}/v1/consents", content=b"{").status_code == 401


def test_concurrent_writes_from_several_clients(served):
    base_url, secrets, ledger_path = served

    def client_writes(n: int) -> list[str]:
        subjects = [f"client-{n}-subject-{i}" for i in range(30)]
        with httpx.Client(base_url=base_url, headers=bearer(secrets["write"])) as client:
            for subject in subjects:
                response = client.post("/v1/consents", json={"subject": subject, "document": "terms"})
                assert response.status_code == 201, response.text
        return subjects

    with ThreadPoolExecutor(6) as pool:
        written = [s for batch in pool.map(client_writes, range(6)) for s in batch]
    ledger = Ledger(ledger_path)
    assert {s.status for s in ledger.statuses(written, "terms")} == {"current"}
    assert ledger.verify().ok


def test_concurrent_retries_with_one_idempotency_key_record_once(served):
    base_url, secrets, ledger_path = served

    def send(_):
        with httpx.Client(base_url=base_url, headers={**bearer(secrets["write"]),
                                                      "Idempotency-Key": "same-retry"}) as client:
            return client.post("/v1/consents", json={"subject": "retried", "document": "terms"})

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(send, range(12)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert len(Ledger(ledger_path).history("retried")) == 2  # the Terms and their bundle


def test_pipelined_requests_and_a_closing_connection_get_whole_responses(served):
    """The server sends each response's head and body in one write: two requests sent
    together get both answers whole, and a response before the server closes the connection
    is not cut."""
    base_url, secrets, _ = served
    host, port = base_url.removeprefix("http://").split(":")
    request = ("GET /v1/subjects/nobody/status?document=terms HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {secrets['read']}\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request + b"\r\n" + request + b"Connection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    answers = received.split(b"HTTP/1.1 ")[1:]
    assert len(answers) == 2
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"200 OK")
        assert json.loads(body)["status"] == "never"


def test_refused_text_is_a_422_and_the_connection_stays_open(served):
    base_url, secrets, ledger_path = served
    connection = http.client.HTTPConnection(*base_url.removeprefix("http://").split(":"), timeout=10)
    connection.auto_open = 0  # a closed connection must raise, not silently reconnect
    connection.connect()
    bodies = [b'{"subject": "s\\ud800", "document": "terms"}',
              b'{"subject": "s1", "document": "terms", "evidence": {"k": "\\udfff"}}',
              b'{"subject": "s1", "subject": "s2", "document": "terms"}']
    try:
        for headers in ({}, {"Idempotency-Key": "surrogates"}):
            for body in bodies:
                connection.request("POST", "/v1/consents", body=body, headers={
                    **bearer(secrets["write"]), **headers, "Content-Type": "application/json"})
                response = connection.getresponse()
                assert response.status == 422, response.read()
                assert json.loads(response.read())["error"]["code"] == "invalid"
        connection.request("GET", "/v1/subjects/s1/history", headers=bearer(secrets["read"]))
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["events"] == []
    finally:
        connection.close()


def test_head_answers_with_the_head_of_get_and_the_connection_stays_usable(served):
    """``curl -I /healthz`` was a 405: load balancers check health with HEAD."""
    base_url, secrets, _ = served
    connection = http.client.HTTPConnection(*base_url.removeprefix("http://").split(":"), timeout=10)
    connection.auto_open = 0
    connection.connect()
    try:
        for path in ("/healthz", "/v1/subjects/nobody/status?document=terms"):
            connection.request("GET", path, headers=bearer(secrets["read"]))
            got = connection.getresponse()
            body = got.read()
            connection.request("HEAD", path, headers=bearer(secrets["read"]))
            head = connection.getresponse()
            assert (head.status, head.read()) == (200, b""), path
            assert head.getheader("content-length") == str(len(body)) == got.getheader(
                "content-length")
            assert head.getheader("content-type") == got.getheader("content-type")
        connection.request("GET", "/healthz")
        after = connection.getresponse()  # a body sent after the HEAD's head would be read here
        assert (after.status, json.loads(after.read())) == (200, {"ok": True})
    finally:
        connection.close()


def test_the_evidence_records_the_address_a_trusted_proxy_forwards(served):
    base_url, secrets, ledger_path = served
    with httpx.Client(base_url=base_url, headers=bearer(secrets["write"])) as client:
        forwarded = client.post("/v1/consents", json={"subject": "proxied", "document": "terms"},
                                headers={"X-Forwarded-For": "203.0.113.77"})
        assert forwarded.status_code == 201
    with Ledger(ledger_path) as ledger:  # serve trusts 127.0.0.1, the proxy's address here
        assert ledger.history("proxied")[0].evidence["ip"] == "203.0.113.77"


def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(served):
    _, secrets, ledger_path = served
    options = ("--trusted-proxies", "10.9.9.9", "--root-path", "/consent")
    with running_server(ledger_path, options=options) as base_url:
        recorded = httpx.post(f"{base_url}/v1/consents",
                              json={"subject": "direct", "document": "terms"},
                              headers={**bearer(secrets["write"]),
                                       "X-Forwarded-For": "203.0.113.77"})
        assert recorded.status_code == 201
        docs = httpx.get(f"{base_url}/openapi.json").json()
        assert docs["servers"] == [{"url": "/consent"}]
    with Ledger(ledger_path) as ledger:
        assert ledger.history("direct")[0].evidence["ip"] == "127.0.0.1"


def test_a_revoked_key_is_refused_by_every_worker_from_the_next_request(where, tmp_path):
    """On PostgreSQL each worker remembers the keys it verified until the server notifies it
    of a change: the revocation holds all the same."""
    from click.testing import CliRunner
    from support.repo import ContentRepo

    from termsledger.cli import cli
    ledger_path = publish(ContentRepo(tmp_path / "repo"), where())
    with Ledger(ledger_path) as ledger:
        key, secret = ledger.keys.create("soon revoked", "read")

    with running_server(ledger_path, workers=2) as base_url:
        def burst(_) -> list[int]:  # a new connection each time: both workers answer some
            return [httpx.get(f"{base_url}/v1/documents", headers=bearer(secret)).status_code
                    for _ in range(25)]

        with ThreadPoolExecutor(8) as pool:
            assert {code for codes in pool.map(burst, range(8)) for code in codes} == {200}
            result = CliRunner().invoke(cli, ["keys", "revoke", key.id, "--ledger",
                                              str(ledger_path)])
            assert result.exit_code == 0, result.output
            after = [code for codes in pool.map(burst, range(8)) for code in codes]
    assert after == [401] * 200


def _sockets(pid: int) -> set[int]:
    """The inodes of the sockets process ``pid`` holds (none once it is gone)."""
    found = set()
    try:
        for fd in (Path("/proc") / str(pid) / "fd").iterdir():
            with contextlib.suppress(OSError):
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    found.add(int(link[8:-1]))
    except OSError:
        pass
    return found


def _tcp(port: int, state: str) -> set[int]:
    """The inodes of the IPv4 TCP sockets in ``state`` (``0A`` listening, ``01`` connected)
    whose local port is ``port``."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return {int(fields[9]) for fields in map(str.split, rows)
            if int(fields[1].split(":")[1], 16) == port and fields[3] == state}


def _workers(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(pid) for pid in children]


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="the kernel shares connections out among sockets on Linux only")
def test_each_worker_listens_on_a_socket_of_its_own_and_takes_its_share(tmp_path):
    """Sixteen keep-alive connections opened together go to both workers (on the one socket
    uvicorn shares, the first worker to wake often took them all, and kept them)."""
    from click.testing import CliRunner
    from support.api import free_port, start_server, stop_server
    from support.repo import ContentRepo

    from termsledger.cli import cli

    ledger_path = publish(ContentRepo(tmp_path / "repo"), tmp_path / "ledger.db")
    port = free_port()
    process = start_server(ledger_path, port, workers=2)
    connections: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 15
        while True:  # until both workers listen
            listening = {pid: _sockets(pid) & _tcp(port, "0A") for pid in _workers(process.pid)}
            listening = {pid: inodes for pid, inodes in listening.items() if inodes}
            if len(listening) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        first, second = listening.values()
        assert first.isdisjoint(second)  # a socket each, not one shared
        # Another server cannot join them on that port (only sockets bound with SO_REUSEPORT may).
        again = CliRunner().invoke(cli, ["serve", "--ledger", str(ledger_path), "--port", str(port),
                                         "--workers", "2"])
        assert again.exit_code == 1
        assert f"cannot listen on 127.0.0.1 port {port}: Address already in use" in again.output
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
        for connection in connections:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        for connection in connections:
            assert connection.recv(4096).startswith(b"HTTP/1.1 200")
        connected = _tcp(port, "01")
        held = {pid: len(_sockets(pid) & connected) for pid in listening}
        assert sum(held.values()) == 16 and all(held.values()), held
    finally:
        for connection in connections:
            connection.close()
        stop_server(process)
