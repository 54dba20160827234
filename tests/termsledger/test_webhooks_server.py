"""Webhooks through a real ``termsledger serve``: a receiver on loopback checks every signature
with ``standardwebhooks``; it goes down, then hangs, while the API goes on writing at its pace,
and nothing is lost; a server killed mid-delivery loses nothing once restarted, and redelivers
with the same ``webhook-id``."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
from support.api import bearer, free_port, make_keys, publish, start_server, stop_server
from support.repo import ContentRepo
from support.webhooks import Receiver, toml

pytestmark = pytest.mark.slow  # processes, servers or a browser

SETTINGS = {"allow_private": True, "timeout": 1, "backoff": 0.1, "max_backoff": 0.4,
            "poll": 0.1}


@pytest.fixture
def setup(tmp_path, where):
    """``(ledger location, secrets, folder of termsledger.toml)``, on each engine in turn."""
    ledger_path = publish(ContentRepo(tmp_path / "repo"), where("ledger.db"))
    (tmp_path / "termsledger.toml").write_text(toml(**SETTINGS))
    return ledger_path, make_keys(ledger_path), tmp_path


def register(client: httpx.Client, receiver: Receiver) -> str:
    """Register ``receiver`` for consent.recorded through the API; returns the endpoint's id."""
    answer = client.post("/v1/webhooks", json={"url": receiver.url, "events": ["consent.recorded"]})
    assert answer.status_code == 201, answer.text
    receiver.secret = answer.json()["secret"]
    return answer.json()["webhook"]["id"]


def write(client: httpx.Client, subjects: list[str]) -> tuple[float, float]:
    """Record an acceptance of each subject, one request after the other; the time they took
    and the longest request."""
    started, longest = time.monotonic(), 0.0
    for subject in subjects:
        before = time.monotonic()
        answer = client.post("/v1/consents", json={"subject": subject, "document": "terms"})
        assert answer.status_code == 201, answer.text
        longest = max(longest, time.monotonic() - before)
    return time.monotonic() - started, longest


def subjects_received(receiver: Receiver) -> set[str]:
    return {d.data["subject"] for d in receiver.of("consent.recorded")}


def test_a_receiver_down_then_hanging_loses_nothing_and_slows_no_write(setup, receiver):
    ledger_path, secrets, folder = setup
    port = free_port()
    server = start_server(ledger_path, port, workers=2, cwd=folder)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=bearer(secrets["admin"]), timeout=30) as admin, \
                httpx.Client(base_url=base, headers=bearer(secrets["write"]), timeout=30) as api:
            assert api.post("/v1/webhooks", json={"url": receiver.url}).status_code == 403
            webhook = register(admin, receiver)
            up, _ = write(api, [f"up-{i}" for i in range(40)])
            receiver.wait_for(40)

            receiver.stop()  # down: connections refused
            down, _ = write(api, [f"down-{i}" for i in range(40)])
            deadline = time.monotonic() + 20
            while not any(f["attempts"] >= 2 for f in
                          admin.get(f"/v1/webhooks/{webhook}").json()["failures"]):
                assert time.monotonic() < deadline, "no delivery was retried"
                time.sleep(0.1)
            status = admin.get(f"/v1/webhooks/{webhook}").json()
            assert status["webhook"]["enabled"] and status["webhook"]["pending"] == 40
            assert all(f["last_error"].startswith("cannot connect") for f in status["failures"])
            receiver.start()
            receiver.wait_for(80)

            receiver.mode = "hang"  # answers nothing until released
            hung, longest = write(api, [f"hung-{i}" for i in range(40)])
            deadline = time.monotonic() + 20
            while admin.get(f"/v1/webhooks/{webhook}").json()["webhook"]["failing"] == 0:
                assert time.monotonic() < deadline, "no delivery timed out"
                time.sleep(0.1)
            receiver.release()
            receiver.wait_for(120)
        assert down < 3 * up + 2 and hung < 3 * up + 2, (up, down, hung)
        assert longest < 2, longest
        assert receiver.forged == 0
        expected = {f"{phase}-{i}" for phase in ("up", "down", "hung") for i in range(40)}
        assert subjects_received(receiver) == expected
    finally:
        stop_server(server)


def test_a_server_killed_mid_delivery_loses_nothing_and_keeps_the_webhook_id(setup, receiver):
    ledger_path, secrets, folder = setup
    port = free_port()
    server = start_server(ledger_path, port, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, headers=bearer(secrets["admin"]), timeout=30) as admin:
            register(admin, receiver)
            receiver.mode = "hang"
            write(admin, [f"user-{i}" for i in range(5)])
            deadline = time.monotonic() + 10
            while not receiver.attempts:
                assert time.monotonic() < deadline, "no delivery started"
                time.sleep(0.05)
        in_flight = set(receiver.attempts)
        os.killpg(server.pid, signal.SIGKILL)  # the server and its workers, mid-delivery
        server.wait(timeout=10)
        receiver.mode = "ok"  # the requests in flight stay unanswered; new ones succeed
        server = start_server(ledger_path, port, cwd=folder)
        receiver.wait_for(5, timeout=30)
        assert subjects_received(receiver) == {f"user-{i}" for i in range(5)}
        assert in_flight <= set(receiver.ids())  # redelivered with the same webhook-id
        assert receiver.forged == 0
        deadline = time.monotonic() + 10
        with httpx.Client(base_url=base, headers=bearer(secrets["admin"])) as admin:
            while admin.get("/v1/webhooks").json()["webhooks"][0]["pending"]:
                assert time.monotonic() < deadline, "the deliveries were not recorded"
                time.sleep(0.05)
            (listed,) = admin.get("/v1/webhooks").json()["webhooks"]
        assert listed["delivered"] == 5
    finally:
        stop_server(server)
