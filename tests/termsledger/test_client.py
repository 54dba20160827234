"""``termsledger.client`` against a real ``termsledger serve``: the ledger's values and errors,
cursors followed, and retries under an Idempotency-Key (faults injected in the client's
transport; the server is real)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import httpx
import pytest
from support.api import make_keys, publish, running_server

import consent
from consent import Ledger
from termsledger import client as client_module
from termsledger._http import error_code
from termsledger.client import APIError, AsyncClient, Client, ledger_error_class

pytestmark = pytest.mark.slow  # processes, servers or a browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``(base_url, secrets, ledger_path)`` of a running server, stopped after the module."""
    from support.repo import ContentRepo

    root = tmp_path_factory.mktemp("client")
    ledger_path = publish(ContentRepo(root / "repo"), root / "ledger.db")
    secrets = make_keys(ledger_path)
    with running_server(ledger_path) as base_url:
        yield base_url, secrets, ledger_path


@pytest.fixture
def admin(served):
    base_url, secrets, _ = served
    with Client(base_url, secrets["admin"]) as client:
        yield client


class Faults(httpx.BaseTransport):
    """The real network, but the answers of the first requests are lost or replaced: each
    item of ``plan`` is ``"lost"`` (the request reaches the server, its answer does not come
    back), ``"refused"`` (it never leaves) or an HTTP status sent instead of the server's."""

    def __init__(self, plan: list, retry_after: str = "0"):
        self.plan = list(plan)
        self.retry_after = retry_after
        self.sent: list[httpx.Request] = []
        self.real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        fault = self.plan.pop(0) if self.plan else None
        if fault == "refused":
            raise httpx.ConnectError("connection refused (injected)", request=request)
        if isinstance(fault, int):
            return httpx.Response(fault, headers={"Retry-After": self.retry_after}, json={
                "error": {"status": fault, "code": "storage_unavailable", "fields": [],
                          "message": "the ledger cannot be used now (injected)"}})
        response = self.real.handle_request(request)
        if fault == "lost":
            response.read()
            raise httpx.ReadError("connection reset (injected)", request=request)
        return response


def test_the_client_returns_what_the_ledger_returns(served, admin):
    _, _, ledger_path = served
    events = admin.record("alice", "terms", evidence={"ip": "192.0.2.7", "user_agent": "Web/1"},
                          channel="web")
    ledger = Ledger(ledger_path)
    assert events == tuple(ledger.history("alice"))
    assert isinstance(events[0], consent.Event) and events[0].evidence["ip"] == "192.0.2.7"
    assert admin.status("alice", "terms") == ledger.status("alice", "terms")
    assert admin.status_all("alice") == ledger.status_all("alice")
    assert admin.statuses(["alice", "nobody"], "terms") == ledger.statuses(["alice", "nobody"],
                                                                           "terms")
    assert admin.history("alice") == ledger.history("alice")
    assert admin.catalog() == ledger.catalog()
    then = datetime(2025, 6, 1, tzinfo=timezone.utc)
    assert admin.catalog(then) == ledger.catalog(then)
    assert admin.status("alice", "terms", then) == ledger.status("alice", "terms", then)
    assert admin.status("alice", "terms", "2025-06-01") == ledger.status("alice", "terms", then)
    exported = admin.export("alice")
    assert exported["events"] == [e.to_dict() for e in ledger.history("alice")]
    verification = admin.verify()
    assert isinstance(verification, consent.Verification) and verification.ok
    assert admin.verify(anchor=f"{verification.events}:{verification.head}").ok
    erasure = admin.erase("alice")
    assert isinstance(erasure, consent.Erasure) and erasure.events == 2
    assert admin.status("alice", "terms").status == "never"


def test_notifications_follow_the_cursors(served, admin, monkeypatch):
    _, _, ledger_path = served
    waiting = [f"old-{i:02d}" for i in range(23)]
    with Ledger(ledger_path) as ledger:  # accepted while the first Terms were in force
        ledger.record_many({"subject": subject, "document": "terms", "version": "2025-03-01",
                            "at": "2025-06-01"} for subject in waiting)
    expected = list(Ledger(ledger_path).pending_notifications("terms", "2025-09-15"))
    assert set(waiting) <= set(expected)
    monkeypatch.setattr(client_module, "PAGE_SIZE", 5)
    assert list(admin.pending_notifications("terms", "2025-09-15")) == expected
    assert list(admin.pending_notifications("terms", "2025-09-15", limit=12)) == expected[:12]
    page = admin.pending_page("terms", "2025-09-15", limit=4)
    assert isinstance(page, consent.WorklistPage) and list(page.subjects) == expected[:4]
    rest = list(admin.pending_notifications("terms", "2025-09-15", cursor=page.next_cursor))
    assert rest == expected[4:]
    marked = admin.mark_notified(waiting[:3] + ["never-seen"], "terms", "2025-09-15")
    assert (marked, marked.unknown) == (3, ("never-seen",))
    assert isinstance(marked, consent.Marked)
    assert admin.mark_notified(waiting[:3], "terms", "2025-09-15") == 0
    assert not {*waiting[:3]} & set(admin.pending_notifications("terms", "2025-09-15"))


@pytest.mark.parametrize("subject", ["team/alice", "a?b#c", "100%", "sp ace", "..", ".", "é/ü",
                                     "a%2Fb"])
def test_any_subject_id_travels_in_a_path(admin, subject):
    admin.record(subject, "terms")
    assert admin.status(subject, "terms").subject == subject
    assert [e.subject for e in admin.history(subject)] == [subject, subject]
    assert admin.erase(subject).events == 2


@pytest.mark.parametrize("call,error,words", [
    (lambda c: c.record("u1", "nope"), consent.UnpublishedDocument, "nope"),
    (lambda c: c.record("u1", "terms", version="1999-01-01"), consent.UnpublishedVersion,
     "1999-01-01"),
    (lambda c: c.record("a\x1bb", "terms"), consent.InvalidSubject, "control characters"),
    (lambda c: c.status("erased:x\x00", "terms"), consent.InvalidSubject, "control characters"),
    (lambda c: c.erase("nobody-at-all"), consent.UnknownSubject, "nobody-at-all"),
    (lambda c: c.pending_page("terms", "2025-09-15", cursor="forged"), consent.InvalidCursor,
     "forged"),
    (lambda c: c.record("u1", "terms", evidence={"x": "y" * 70_000}), consent.InvalidEvidence,
     "evidence"),
])
def test_errors_are_the_ledgers_own(admin, call, error, words):
    with pytest.raises(error, match=words) as raised:
        call(admin)
    assert isinstance(raised.value.__cause__, APIError)
    assert raised.value.__cause__.code == error_code(error)


def test_errors_that_are_not_the_ledgers_are_api_errors(served):
    base_url, secrets, _ = served
    with Client(base_url, secrets["revoked"]) as revoked, pytest.raises(APIError) as raised:
        revoked.catalog()
    assert (raised.value.status, raised.value.code) == (401, "unauthorized")
    with Client(base_url, secrets["read"]) as reader:
        with pytest.raises(APIError) as raised:
            reader.record("u1", "terms")
        assert (raised.value.status, raised.value.code) == (403, "forbidden")
        with pytest.raises(APIError) as raised:
            reader.statuses(["u1"], "Terms!")
        assert (raised.value.status, raised.value.code) == (422, "invalid")
        assert raised.value.fields[0]["field"] == "document"
        assert reader.history("nobody") == []


def test_every_ledger_error_code_maps_back_to_its_class():
    classes = [getattr(consent, name) for name in consent.__all__]
    errors = [cls for cls in classes if isinstance(cls, type) and issubclass(cls, consent.ConsentError)]
    assert len(errors) > 20
    for cls in errors:
        assert ledger_error_class(error_code(cls)) is cls
    for code in ("unauthorized", "forbidden", "invalid", "not_found", "internal", "ledger"):
        assert ledger_error_class(code) is None


def test_a_write_whose_answer_is_lost_is_retried_and_recorded_once(served):
    base_url, secrets, ledger_path = served
    faults = Faults(["lost", "refused", "lost"])
    with Client(base_url, secrets["write"], transport=faults, max_retry_wait=0.05) as client:
        events = client.record("retried-once", "terms")
    assert len(faults.sent) == 4
    keys = {request.headers["idempotency-key"] for request in faults.sent}
    assert len(keys) == 1 and keys.pop().startswith("termsledger-client-")
    assert events == tuple(Ledger(ledger_path).history("retried-once"))  # two events, not six
    faults = Faults(["lost"])
    with Client(base_url, secrets["write"], transport=faults, max_retry_wait=0.05) as client:
        marked = client.mark_notified(["retried-once", "nobody"], "terms", "2025-09-15")
    # The retry replays the first answer: marking again would have answered 0.
    assert (marked, marked.unknown) == (1, ("nobody",)) and len(faults.sent) == 2
    assert [e.action for e in Ledger(ledger_path).history("retried-once")].count("notified") == 1


def test_retries_are_bounded_and_a_503_waits_for_retry_after(served):
    base_url, secrets, _ = served
    faults = Faults(["refused"] * 10)
    with Client(base_url, secrets["read"], transport=faults, retries=2,
                max_retry_wait=0.01) as client, pytest.raises(httpx.ConnectError):
        client.catalog()
    assert len(faults.sent) == 3
    faults = Faults([503, 503])
    with Client(base_url, secrets["read"], transport=faults) as client:
        assert client.status("u1", "terms").status == "never"
    assert len(faults.sent) == 3
    faults = Faults([503], retry_after="60")
    with Client(base_url, secrets["read"], transport=faults) as client:
        with pytest.raises(consent.StorageUnavailable, match="injected") as raised:
            client.catalog()
    assert len(faults.sent) == 1 and raised.value.__cause__.retry_after == 60


def test_an_erasure_is_never_retried(served):
    base_url, secrets, ledger_path = served
    Ledger(ledger_path).record("to-erase", "terms")
    faults = Faults(["lost"])
    with Client(base_url, secrets["admin"], transport=faults) as client:
        with pytest.raises(httpx.ReadError):
            client.erase("to-erase")
        assert len(faults.sent) == 1
        with pytest.raises(consent.UnknownSubject):
            client.erase("to-erase")  # the lost answer's erasure did happen


class AsyncFaults(httpx.AsyncBaseTransport):
    """:class:`Faults` for the async client."""

    def __init__(self, plan: list):
        self.faults = Faults(plan)
        self.real = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.faults.sent.append(request)
        fault = self.faults.plan.pop(0) if self.faults.plan else None
        if fault == "refused":
            raise httpx.ConnectError("connection refused (injected)", request=request)
        response = await self.real.handle_async_request(request)
        if fault == "lost":
            await response.aread()
            raise httpx.ReadError("connection reset (injected)", request=request)
        return response


def test_the_async_client_retries_under_one_idempotency_key(served):
    base_url, secrets, ledger_path = served
    transport = AsyncFaults(["lost", "refused"])

    async def record():
        async with AsyncClient(base_url, secrets["write"], transport=transport,
                               max_retry_wait=0.05) as client:
            return await client.record("async-retried", "terms")

    events = asyncio.run(record())
    assert len(transport.faults.sent) == 3
    assert len({r.headers["idempotency-key"] for r in transport.faults.sent}) == 1
    assert events == tuple(Ledger(ledger_path).history("async-retried"))


def test_the_async_client(served):
    base_url, secrets, ledger_path = served

    async def scenario():
        async with AsyncClient(base_url, secrets["admin"]) as client:
            with pytest.raises(consent.OutdatedVersion, match="version 2025-09-15 is;"):
                await client.record("async-1", "terms", version="2025-03-01")
            with Ledger(ledger_path) as ledger:  # accepted while the first Terms were in force
                events = ledger.record("async-1", "terms", version="2025-03-01", at="2025-06-01")
            status = await client.status("async-1", "terms")
            pending = [s async for s in client.pending_notifications("terms", "2025-09-15")]
            marked = await client.mark_notified(["async-1"], "terms", "2025-09-15")
            catalog = await client.catalog()
            with pytest.raises(consent.UnpublishedDocument):
                await client.status("async-1", "nope")
            erased = await client.erase("async-1")
            return events, status, pending, marked, catalog, erased

    events, status, pending, marked, catalog, erased = asyncio.run(scenario())
    ledger = Ledger(ledger_path)
    assert len(events) == 2 and status.status == "reaccept"
    assert "async-1" in pending and marked == 1
    assert catalog == ledger.catalog() and erased.events == 3
    assert ledger.status("async-1", "terms").status == "never"
