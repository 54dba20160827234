"""The HTTP API in process, through httpx (FastAPI's TestClient)."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import urllib.parse

import pytest
from fastapi.testclient import TestClient
from support.api import bearer, make_keys, publish
from support.ledger import version_rowid

from consent import Ledger
from termsledger._http import header_text, validation_message
from termsledger._models import PATTERN_WORDS, SUBJECT_PATTERN
from termsledger.api import create_app


@pytest.fixture
def ledger_path(content_repo, where):
    """A published ledger on each storage engine in turn."""
    return publish(content_repo, where("ledger.db"))


@pytest.fixture
def secrets(ledger_path):
    return make_keys(ledger_path)


@pytest.fixture
def app(ledger_path):
    return create_app(ledger_path)


@pytest.fixture
def client(app, secrets):
    """A client with the admin key; pass ``headers=`` to use another."""
    with TestClient(app, headers=bearer(secrets["admin"]), raise_server_exceptions=False) as client:
        yield client


def accept(client, subject, document="terms", **fields):
    response = client.post("/v1/consents", json={"subject": subject, "document": document, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def accept_earlier(client, subject):
    """An acceptance of the first Terms while they were in force (the API records the present:
    accepting them now is refused, see test_accepting_an_outdated_version_is_a_409)."""
    client.app.state.ledger.record(subject, "terms", version="2025-03-01", at="2025-06-01")


ROUTES = [  # method, path, JSON body, scope needed
    ("GET", "/v1/documents", None, "read"),
    ("GET", "/v1/subjects/u1/status?document=terms", None, "read"),
    ("GET", "/v1/subjects/u1/status", None, "read"),
    ("POST", "/v1/subjects/status", {"subjects": ["u1"]}, "read"),
    ("POST", "/v1/consents", {"subject": "u1", "document": "terms"}, "write"),
    ("GET", "/v1/notifications?document=terms&version=2025-09-15", None, "read"),
    ("POST", "/v1/notifications/ack",
     {"document": "terms", "version": "2025-09-15", "subjects": ["u1"]}, "write"),
    ("GET", "/v1/subjects/u1/history", None, "read"),
    ("GET", "/v1/subjects/u1/export", None, "admin"),
    ("DELETE", "/v1/subjects/u1", None, "admin"),
    ("GET", "/v1/verify", None, "read"),
    ("POST", "/v1/webhooks", {"url": "https://93.184.215.14/hooks"}, "admin"),
    ("GET", "/v1/webhooks", None, "admin"),
]
LEVELS = ["read", "write", "admin"]


@pytest.mark.parametrize("method,path,body,needed", ROUTES)
def test_every_route_checks_key_and_scope(client, secrets, ledger_path, method, path, body, needed):
    with Ledger(ledger_path) as ledger:
        ledger.record("u1", "terms", version="2025-03-01", at="2025-06-01")

    def call(headers):
        return client.request(method, path, json=body, headers=headers)

    for headers in ({"Authorization": ""}, {"Authorization": "Basic dTpw"},
                    bearer("tl_000000000000_nope"), bearer("nonsense"), bearer(secrets["revoked"])):
        response = call(headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"
    for scope in LEVELS:
        response = call(bearer(secrets[scope]))
        if LEVELS.index(scope) < LEVELS.index(needed):
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "forbidden"
        else:
            assert response.status_code in (200, 201), response.text


def test_health_and_docs_need_no_key(app):
    with TestClient(app) as anonymous:
        assert anonymous.get("/healthz").json() == {"ok": True}
        schema = anonymous.get("/openapi.json").json()
        assert "/v1/consents" in schema["paths"]
        assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
        assert anonymous.get("/docs").status_code == 200


def test_authentication_comes_before_the_body(client, secrets):
    for body in (b"{not json", b"x" * (2 * 1024 * 1024)):
        response = client.post("/v1/consents", content=body, headers={
            "Authorization": "", "Content-Type": "application/json"})
        assert response.status_code == 401
        response = client.post("/v1/consents", content=body, headers={
            **bearer(secrets["read"]), "Content-Type": "application/json"})
        assert response.status_code == 403


def test_bodies_over_one_mebibyte_are_refused(client):
    big = json.dumps({"subject": "u1", "document": "terms", "evidence": {"x": "y" * (1024 * 1024)}})
    response = client.post("/v1/consents", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"

    def chunks():  # no Content-Length: the limit counts what arrives
        for _ in range(20):
            yield b" " * (100 * 1024)

    response = client.post("/v1/consents", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert client.get("/v1/subjects/u1/history").json()["events"] == []


@pytest.mark.parametrize("body,field", [
    (b"{not json", "body"),
    (b"[]", "body"),
    (b'{"document": "terms"}', "subject"),
    (b'{"subject": "", "document": "terms"}', "subject"),
    (b'{"subject": "u1", "document": "Terms!"}', "document"),
    (b'{"subject": "u1", "document": "terms", "action": "maybe"}', "action"),
    (b'{"subject": "u1", "document": "terms", "evidence": [1]}', "evidence"),
    (b'{"subject": "u1", "document": "terms", "channel": ""}', "channel"),
    (b'{"subject": "u1", "document": "terms", "colour": "red"}', "colour"),
    (b'{"subject": 7, "document": "terms"}', "subject"),
    pytest.param(b'{"evidence": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "body", id="deep"),
])
def test_malformed_consents_name_the_field(client, body, field):
    response = client.post("/v1/consents", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in [f["field"] for f in error["fields"]]
    assert field in error["message"]


@pytest.mark.parametrize("fields,word", [
    ({"document": "nope"}, "nope"),
    ({"version": "1999-01-01"}, "1999-01-01"),
])
def test_what_the_catalog_lacks_is_refused_by_the_ledger(client, fields, word):
    response = client.post("/v1/consents", json={"subject": "u1", "document": "terms", **fields})
    assert response.status_code == 422
    assert word in response.json()["error"]["message"]


@pytest.mark.parametrize("method,path,body,field", [
    ("GET", "/v1/subjects/u1/status?document=BAD!", None, "document"),
    ("GET", "/v1/notifications?document=terms", None, "version"),
    ("GET", "/v1/notifications?document=terms&version=2025-09-15&limit=0", None, "limit"),
    ("GET", "/v1/notifications?document=terms&version=2025-09-15&limit=10001", None, "limit"),
    ("GET", "/v1/notifications?document=terms&version=2025-09-15&cursor=garbage", None, "cursor"),
    ("POST", "/v1/subjects/status", {"subjects": ["u"] * 10_001}, "subjects"),
    ("POST", "/v1/subjects/status", {"subjects": "u1"}, "subjects"),
    ("POST", "/v1/notifications/ack", {"document": "terms", "version": "2025-09-15", "subjects": []},
     "subjects"),
])
def test_malformed_queries_name_the_field(client, method, path, body, field):
    response = client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]


def test_unknown_routes_methods_and_subjects_are_json_errors(client):
    assert client.get("/v1/nothing").json()["error"]["status"] == 404
    assert client.delete("/v1/subjects/nobody").json()["error"]["code"] == "unknown_subject"
    response = client.put("/v1/consents", json={})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_unknown_subject_is_never(client):
    response = client.get("/v1/subjects/nobody/status?document=terms")
    assert response.status_code == 200
    assert response.json()["status"] == "never"
    every = client.get("/v1/subjects/nobody/status").json()
    assert {s["document"]: s["status"] for s in every["statuses"]} == {"privacy": "never", "terms": "never"}


def test_record_then_read_status_and_history(client):
    recorded = accept(client, "alice@example.com", evidence={"locale": "fr"})
    assert recorded["status"]["status"] == "current"
    status = client.get("/v1/subjects/alice@example.com/status?document=terms").json()
    assert status["accepted_version"] == status["current_version"] == "2025-09-15"
    bundle = client.get("/v1/subjects/alice@example.com/status?document=privacy").json()
    assert bundle["status"] == "current"
    events = client.get("/v1/subjects/alice@example.com/history").json()["events"]
    assert {e["document"] for e in events} == {"terms", "privacy"}
    evidence = events[0]["evidence"]
    assert evidence["locale"] == "fr" and evidence["ip"] == "testclient"
    assert evidence["user_agent"] == "testclient"


def test_caller_supplied_ip_and_user_agent_are_kept(client):
    accept(client, "u1", evidence={"ip": "203.0.113.9", "user_agent": "SignupFlow/2"})
    evidence = client.get("/v1/subjects/u1/history").json()["events"][0]["evidence"]
    assert (evidence["ip"], evidence["user_agent"]) == ("203.0.113.9", "SignupFlow/2")


def test_whole_numbers_beyond_64_bits_in_evidence_are_kept_and_shown(client):
    big = {"order": 140683770075447671390208, "nested": [{"id": -(2 ** 70)}]}
    for headers in ({}, {"Idempotency-Key": "big-numbers"}):  # a 500 before
        recorded = client.post("/v1/consents", headers=headers, json={
            "subject": "big", "document": "terms", "evidence": big})
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["events"][0]["evidence"] == {**big, "ip": "testclient",
                                                            "user_agent": "testclient"}
    events = client.get("/v1/subjects/big/history").json()["events"]
    assert [e["evidence"]["order"] for e in events if e["part_of"] is None] == [big["order"]] * 2


@pytest.mark.parametrize("subject,path", [
    ("team/alice", "team%2Falice"),
    ("team/alice", "team/alice"),
    ("a/b/status", "a%2Fb%2Fstatus"),
    ("ünï cödé & ?#", "%C3%BCn%C3%AF%20c%C3%B6d%C3%A9%20%26%20%3F%23"),
])
def test_subject_ids_travel_percent_encoded(client, subject, path):
    accept(client, subject)
    status = client.get(f"/v1/subjects/{path}/status?document=terms").json()
    assert (status["subject"], status["status"]) == (subject, "current")
    assert client.get(f"/v1/subjects/{path}/history").json()["subject"] == subject
    assert client.get(f"/v1/subjects/{path}/export").status_code == 200
    assert client.delete(f"/v1/subjects/{path}").status_code == 200
    assert client.get(f"/v1/subjects/{path}/status?document=terms").json()["status"] == "never"


def test_bulk_status(client):
    accept(client, "u1")
    accept_earlier(client, "u2")
    response = client.post("/v1/subjects/status", json={"subjects": ["u1", "u2", "u3"], "document": "terms"})
    assert [(s["subject"], s["status"]) for s in response.json()["statuses"]] == [
        ("u1", "current"), ("u2", "reaccept"), ("u3", "never")]
    every = client.post("/v1/subjects/status", json={"subjects": ["u1"]}).json()["statuses"]
    assert {s["document"] for s in every} == {"terms", "privacy"}
    many = client.post("/v1/subjects/status", json={"subjects": [f"s{i}" for i in range(10_000)],
                                                    "document": "terms"})
    assert many.status_code == 200 and len(many.json()["statuses"]) == 10_000


def test_documents(client):
    documents = {d["slug"]: d for d in client.get("/v1/documents").json()["documents"]}
    assert documents["terms"]["in_force"]["id"] == "2025-09-15"
    assert [v["id"] for v in documents["terms"]["versions"]] == ["2025-03-01", "2025-09-15"]


def test_idempotent_retries_record_once(client, secrets, ledger_path):
    body = {"subject": "u1", "document": "terms"}
    first = client.post("/v1/consents", json=body, headers={"Idempotency-Key": "k1"})
    again = client.post("/v1/consents", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    with Ledger(ledger_path) as ledger:
        assert len(ledger.history("u1")) == 2  # the Terms and their bundle
    conflict = client.post("/v1/consents", json={**body, "action": "declined"},
                           headers={"Idempotency-Key": "k1"})
    assert conflict.status_code == 409
    other_key = client.post("/v1/consents", json=body,
                            headers={**bearer(secrets["write"]), "Idempotency-Key": "k1"})
    assert other_key.status_code == 201
    assert other_key.json()["events"][0]["seq"] != first.json()["events"][0]["seq"]
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"


def test_an_idempotent_recording_returns_the_status_after_it(client):
    """On PostgreSQL the status was read before the write committed: ``never`` for a new
    subject, and its replays kept it."""
    for action, key in (("accepted", "s1"), ("withdrawn", "s2")):
        body = {"subject": "u1", "document": "terms", "action": action}
        first = client.post("/v1/consents", json=body, headers={"Idempotency-Key": key})
        again = client.post("/v1/consents", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == again.status_code == 201, first.text
        status = client.get("/v1/subjects/u1/status?document=terms").json()
        assert first.json()["status"] == again.json()["status"] == status
        assert status["status"] == ("current" if action == "accepted" else "withdrawn")


def test_idempotent_ack_and_erasure_of_stored_responses(client):
    accept_earlier(client, "u1")
    ack = {"document": "terms", "version": "2025-09-15", "subjects": ["u1"]}
    first = client.post("/v1/notifications/ack", json=ack, headers={"Idempotency-Key": "a1"})
    again = client.post("/v1/notifications/ack", json=ack, headers={"Idempotency-Key": "a1"})
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    client.post("/v1/consents", json={"subject": "u1", "document": "terms"},
                headers={"Idempotency-Key": "c1"})
    erased = client.delete("/v1/subjects/u1").json()
    assert erased["responses"] == 2
    export = client.get("/v1/subjects/u1/export").json()
    assert export["events"] == [] and export["responses"] == []


def test_notifications_and_ack(client):
    for subject in ("u1", "u2", "u3"):
        accept_earlier(client, subject)
    accept(client, "u4")
    page = client.get("/v1/notifications?document=terms&version=2025-09-15").json()
    assert sorted(page["subjects"]) == ["u1", "u2", "u3"] and page["next_cursor"] is None
    ack = client.post("/v1/notifications/ack", json={"document": "terms", "version": "2025-09-15",
                                                     "subjects": ["u1", "u2", "nobody"]})
    assert ack.status_code == 200
    assert ack.json() == {"document": "terms", "version": "2025-09-15", "marked": 2, "unknown": ["nobody"]}
    page = client.get("/v1/notifications?document=terms&version=2025-09-15").json()
    assert page["subjects"] == ["u3"]


def test_pagination_neither_skips_nor_repeats_while_events_arrive(client):
    waiting = [f"user-{i:03d}" for i in range(40)]
    for subject in waiting:
        accept_earlier(client, subject)
    seen, cursor, round_ = [], None, 0
    while True:
        query = "document=terms&version=2025-09-15&limit=7" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/notifications?{query}").json()
        seen += page["subjects"]
        round_ += 1
        # Meanwhile: newcomers accept the old version, and some waiting subjects act.
        accept_earlier(client, f"late-{round_:03d}")
        accept_earlier(client, f"aaa-{round_:03d}")
        client.post("/v1/consents", json={"subject": waiting[-round_], "document": "terms",
                                          "action": "withdrawn"})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    withdrawn_before_seen = {waiting[-r] for r in range(1, round_ + 1)}
    assert set(waiting) - withdrawn_before_seen <= set(seen)


def test_export_verify_and_erase(client):
    accept(client, "bob", evidence={"email": "bob@example.com"})
    export = client.get("/v1/subjects/bob/export").json()
    assert "bob@example.com" in json.dumps(export)
    assert client.get("/v1/verify").json()["ok"] is True
    erased = client.delete("/v1/subjects/bob")
    assert erased.status_code == 200 and erased.json()["events"] == 2
    assert client.get("/v1/subjects/bob/status?document=terms").json()["status"] == "never"
    assert client.get("/v1/verify").json()["ok"] is True


def test_errors_do_not_leak(app, client):
    def explode(*args, **kwargs):
        raise RuntimeError("secret: carol@example.com is at /srv/ledger.db")

    app.state.ledger.status = explode
    response = client.get("/v1/subjects/u1/status?document=terms")
    assert response.status_code == 500
    assert "carol" not in response.text and "Traceback" not in response.text
    assert response.json()["error"]["code"] == "internal"


@pytest.mark.parametrize("body,field", [
    (b'{"subject": "u\\ud800", "document": "terms"}', "subject"),
    (b'{"subject": "u1", "document": "terms", "evidence": {"note": "x\\udfff"}}', "evidence.note"),
    (b'{"subject": "u1", "document": "terms", "evidence": {"\\ud800": 1}}', "evidence"),
    (b'{"subject": "u1", "document": "terms", "evidence": {"a": ["\\ud800"]}}', "evidence.a[0]"),
    (b'{"subject": "u1", "document": "terms", "channel": "\\ud800"}', "channel"),
    (b'{"subject": "u1", "document": "terms", "version": "\\udbff"}', "version"),
    (b'{"subject": "u1\xed\xa0\x80", "document": "terms"}', "body"),
    (b'{"subject": "u1\xff", "document": "terms"}', "body"),
])
@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "k1"}])
def test_text_that_is_not_valid_unicode_is_a_422_naming_the_field(client, body, field, headers):
    response = client.post("/v1/consents", content=body,
                           headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"].startswith(f"Invalid request: {field}")
    assert error["fields"][0]["field"] == field
    assert client.get("/v1/subjects/u1/history").json()["events"] == []


@pytest.mark.parametrize("body,key", [
    (b'{"subject": "u1", "subject": "u2", "document": "terms"}', "subject"),
    (b'{"subject": "u1", "document": "terms", "evidence": {"ip": "a", "ip": "b"}}', "ip"),
])
def test_duplicate_keys_in_a_json_body_are_a_422_naming_the_key(client, body, key):
    response = client.post("/v1/consents", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"] == f"Invalid request: {key}: duplicate key {key!r} in the JSON body"
    assert error["fields"] == [{"field": key, "in": "body",
                                "message": f"duplicate key {key!r} in the JSON body"}]
    assert client.get("/v1/subjects/u1/history").json()["events"] == []


DEEP = '{"a": ' + "[" * 600 + "]" * 600 + "}"
"""Evidence 602 levels deep: the ledger recorded it, then its readers and encoders failed
(orjson stops at 254 levels, the dict conversion at Python's recursion limit)."""


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "deep"}])
def test_evidence_nested_too_deeply_is_a_422_and_nothing_is_recorded(client, headers):
    body = '{"subject": "u1", "document": "terms", "evidence": ' + DEEP + "}"
    response = client.post("/v1/consents", content=body,
                           headers={"Content-Type": "application/json", **headers})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith("evidence must be nested at most 32 levels deep")
    assert error["fields"] == [{"field": "evidence", "in": "body", "message": error["message"]}]
    assert client.get("/v1/subjects/u1/history").json()["events"] == []
    line = '{"subject": "u1", "document": "terms", "version": "2025-03-01", ' \
           '"at": "2025-06-01T10:00:00Z", "evidence": ' + DEEP + "}"
    imported = client.post("/v1/consents:import", content="[" + line + "]",
                           headers={"Content-Type": "application/json"})
    assert imported.status_code == 422, imported.text
    assert "nested at most 32 levels" in imported.json()["error"]["fields"][0]["message"]
    assert client.get("/v1/subjects/u1/history").json()["events"] == []


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/consents", '{"subject": "u1", "document": "terms", "evidence": {"n": %s}}'),
    ("POST", "/v1/subjects/status", '{"subjects": ["u1"], "n": %s}'),
    ("POST", "/v1/consents:import", '[{"subject": "u1", "document": "terms", "n": %s}]'),
])
def test_an_integer_longer_than_python_reads_is_a_422(client, method, path, body):
    """More than 4,300 digits: json.loads raised ValueError, a 500."""
    response = client.request(method, path, content=body % ("9" * 5000),
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"] == [
        {"field": "body", "in": "body", "message": "a number has more than 4300 digits"}]


@pytest.mark.parametrize("kind", ["application/JSON", "Application/Json; charset=UTF-8"])
def test_a_json_media_type_in_capitals_is_read_as_strictly(client, kind):
    """A key given twice was read as its last value: the decision was recorded for 'u2'."""
    response = client.post("/v1/consents", content=b'{"subject": "u1", "subject": "u2", '
                                                    b'"document": "terms"}',
                           headers={"Content-Type": kind})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == ("Invalid request: subject: duplicate key "
                                                   "'subject' in the JSON body")
    assert client.get("/v1/subjects/u2/history").json()["events"] == []


@pytest.mark.parametrize("path", ["%FF", "u%ED%A0%80", "%C3"])
@pytest.mark.parametrize("route", ["/v1/subjects/{}/status", "/v1/subjects/{}/history",
                                   "/v1/subjects/{}/export", "/v1/subjects/{}"])
def test_a_path_that_is_not_utf_8_is_a_422(client, route, path):
    method = "DELETE" if route == "/v1/subjects/{}" else "GET"
    response = client.request(method, route.format(path))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == ("Invalid request: subject: not valid UTF-8 "
                                                   "once percent-decoded")


@pytest.mark.parametrize("subject", ["a%00b", "a%0Ab", "a%1B%5B31mb", "a%7Fb", "a%C2%85b",
                                     "a%E2%80%AEb", "a%E2%81%A6b"])
def test_subject_ids_with_control_characters_are_a_422(client, subject):
    for method, route in [("GET", "/v1/subjects/{}/status?document=terms"),
                          ("GET", "/v1/subjects/{}/status"), ("GET", "/v1/subjects/{}/history"),
                          ("GET", "/v1/subjects/{}/export"), ("DELETE", "/v1/subjects/{}")]:
        response = client.request(method, route.format(subject))
        assert response.status_code == 422, (route, response.text)
        error = response.json()["error"]
        assert error["message"].startswith("subject must not contain control")
        assert error["fields"] == [{"field": "subject", "in": "path", "message": error["message"]}]
    decoded = urllib.parse.unquote(subject)
    for path, body, field in [
            ("/v1/consents", {"subject": decoded, "document": "terms"}, "subject"),
            ("/v1/subjects/status", {"subjects": ["u1", decoded]}, "subjects"),
            ("/v1/notifications/ack", {"document": "terms", "version": "2025-09-15",
                                       "subjects": [decoded]}, "subjects")]:
        response = client.post(path, json=body)
        assert response.status_code == 422, (path, response.text)
        error = response.json()["error"]
        assert "subject must not contain control" in error["message"]
        assert error["fields"] == [{"field": field, "in": "body", "message": error["message"]}]


def test_one_subject_whatever_its_unicode_form(client):
    composed, decomposed = "jos\u00e9", "jose\u0301"
    accept(client, decomposed, evidence={"ip": "192.0.2.44"})
    quoted = urllib.parse.quote(composed)
    status = client.get(f"/v1/subjects/{quoted}/status?document=terms").json()
    assert (status["subject"], status["status"]) == (composed, "current")
    statuses = client.post("/v1/subjects/status", json={"subjects": [decomposed]}).json()
    assert {s["subject"] for s in statuses["statuses"]} == {composed}
    history = client.get(f"/v1/subjects/{urllib.parse.quote(decomposed)}/history").json()
    assert history["subject"] == composed and len(history["events"]) == 2
    assert client.get(f"/v1/subjects/{urllib.parse.quote(decomposed)}/status").json()[
        "subject"] == composed
    assert client.delete(f"/v1/subjects/{quoted}").json()["events"] == 2
    assert client.get(f"/v1/subjects/{urllib.parse.quote(decomposed)}/history").json()[
        "events"] == []


def test_idempotency_keys_of_up_to_255_printable_ascii_characters(client, secrets, app):
    body = {"subject": "u1", "document": "terms"}
    longest = "k" * 255
    for key in (longest, " ~!", "a" * 200 + ":" + "b" * 54):
        first = client.post("/v1/consents", json=body, headers={"Idempotency-Key": key})
        again = client.post("/v1/consents", json=body, headers={"Idempotency-Key": key})
        assert (first.status_code, again.status_code) == (201, 201), first.text
        assert again.headers["idempotent-replayed"] == "true"
    key_id = app.state.keys.authenticate(secrets["admin"]).id
    for key in ("", "k" * 256, "tab\there", "caf\xe9".encode("latin-1"), "del\x7f"):
        response = client.post("/v1/consents", json=body, headers={"Idempotency-Key": key})
        assert response.status_code == 422, (key, response.text)
        message = response.json()["error"]["message"]
        assert message.startswith("idempotency key must be 1 to 255 printable ASCII characters")
        assert key_id not in message
    conflict = client.post("/v1/consents", json={**body, "action": "declined"},
                           headers={"Idempotency-Key": longest})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["message"] == (f"idempotency key {longest!r} was used for "
                                                   f"another request")


def test_cursors_the_server_did_not_issue_are_a_422(client, app):
    for subject in ("u1", "u2", "u3"):
        accept_earlier(client, subject)
    rowid = version_rowid(app.state.ledger, "terms", "2025-09-15")
    for text in (f"{rowid}:{2 ** 64}", f"{rowid}:-1", f"{rowid}:0", "x" * 5000):
        cursor = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        response = client.get("/v1/notifications", params={
            "document": "terms", "version": "2025-09-15", "cursor": cursor})
        assert response.status_code == 422, response.text
        assert "is not one this ledger handed out" in response.json()["error"]["message"]
    page = client.get("/v1/notifications?document=terms&version=2025-09-15&limit=2").json()
    rest = client.get("/v1/notifications", params={"document": "terms", "version": "2025-09-15",
                                                   "cursor": page["next_cursor"]}).json()
    assert sorted(page["subjects"] + rest["subjects"]) == ["u1", "u2", "u3"]


@pytest.mark.parametrize("engine", ["sqlite"])  # PostgreSQL's column types refuse such rows
def test_damaged_rows_are_reported_over_http(client, ledger_path):
    accept(client, "u1", evidence={"ip": "192.0.2.1"})
    client.post("/v1/notifications/ack", json={"document": "terms", "version": "2025-09-15",
                                               "subjects": ["u1"]}, headers={"Idempotency-Key": "a"})
    conn = sqlite3.connect(ledger_path)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET part_of = 'x', channel = x'ff' WHERE seq = 2")
    conn.execute("UPDATE idempotency SET response = '{oops'")
    conn.commit()
    conn.close()
    history = client.get("/v1/subjects/u1/history")
    assert history.status_code == 200
    assert [e["problem"] for e in history.json()["events"]] == [
        None, "channel is b'\\xff', not text; part_of is 'x', not a whole number", None]
    export = client.get("/v1/subjects/u1/export")
    assert export.status_code == 200
    (response,) = export.json()["responses"]
    assert response["key"].endswith(":a") and response["response"] is None
    assert response["problem"] == "the stored response is not valid JSON"
    verified = client.get("/v1/verify").json()
    assert (verified["ok"], verified["first_bad"]) == (False, 2)


def test_verify_over_http_says_its_limits_and_takes_an_anchor(client):
    accept(client, "u1")
    kept = client.get("/v1/verify").json()
    assert "cannot tell events cut from the end" in kept["limits"]
    assert client.get("/v1/verify", params={"anchor": f"{kept['events']}:{kept['head']}"}).json()[
        "ok"] is True
    wrong = client.get("/v1/verify", params={"anchor": f"1:{'f' * 64}"}).json()
    assert wrong["ok"] is False
    if kept["chains"] == 1:
        assert wrong["first_bad"] == 1
    else:
        assert wrong["problem"].startswith("no seal of 1 events has the anchor's root")
    bad = client.get("/v1/verify", params={"anchor": "x"})
    assert bad.status_code == 422 and "anchor must be EVENTS:HEAD" in bad.json()["error"]["message"]


def test_status_and_catalog_at_a_moment(client):
    accept_earlier(client, "u1")
    path = "/v1/subjects/u1/status"
    assert client.get(path, params={"document": "terms"}).json()["status"] == "reaccept"
    then = client.get(path, params={"document": "terms", "at": "2025-06-01T12:00:00Z"}).json()
    assert (then["status"], then["current_version"]) == ("announced", "2025-03-01")
    assert then["announced_version"] == "2025-09-15"
    assert client.get(path, params={"document": "terms", "at": "2025-02-01"}).json()[
        "current_version"] is None
    every = client.get(path, params={"at": "2025-06-01T14:00:00+02:00"}).json()["statuses"]
    assert {s["document"]: s["status"] for s in every} == {"privacy": "current", "terms": "announced"}
    bulk = client.post("/v1/subjects/status", json={"subjects": ["u1"], "document": "terms",
                                                    "at": "2025-06-01T00:00:00"}).json()
    assert bulk["statuses"][0]["status"] == "announced"
    catalog = client.get("/v1/documents", params={"at": "2025-06-01"}).json()["documents"]
    terms_then = next(d for d in catalog if d["slug"] == "terms")
    assert terms_then["in_force"]["id"] == "2025-03-01"
    assert [v["id"] for v in terms_then["announced"]] == ["2025-09-15"]


@pytest.mark.parametrize("at", ["0", "1700000000", "yesterday", "2025-13-01",
                                "0001-01-01T00:00:00+01:00"])
def test_a_moment_that_is_not_an_iso_date_and_time_is_a_422(client, at):
    for method, path, body in [("GET", f"/v1/subjects/u1/status?document=terms&at={at}", None),
                               ("GET", f"/v1/documents?at={at}", None),
                               ("POST", "/v1/subjects/status", {"subjects": ["u1"], "at": at})]:
        response = client.request(method, path.replace("+", "%2B"), json=body)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["fields"][0]["field"] == "at"
    number = client.post("/v1/subjects/status", json={"subjects": ["u1"], "at": 0})
    assert number.status_code == 422


def test_history_shows_personal_evidence_to_admin_keys_only(client, secrets):
    accept(client, "u1", evidence={"ip": "203.0.113.9", "user_agent": "Signup/1", "locale": "fr"})
    full = client.get("/v1/subjects/u1/history").json()
    assert full["evidence_shown"] is True
    assert full["events"][0]["evidence"] == {"ip": "203.0.113.9", "user_agent": "Signup/1",
                                             "locale": "fr"}
    for scope in ("read", "write"):
        redacted = client.get("/v1/subjects/u1/history", headers=bearer(secrets[scope])).json()
        assert redacted["evidence_shown"] is False
        assert [e["evidence"] for e in redacted["events"]] == [None, None]
        assert "203.0.113.9" not in json.dumps(redacted) and "Signup/1" not in json.dumps(redacted)
        assert [e["hash"] for e in redacted["events"]] == [e["hash"] for e in full["events"]]


def test_an_import_of_a_time_before_year_1_in_utc_is_a_422(client):
    line = {"subject": "a", "document": "terms", "version": "2025-03-01",
            "at": "0001-01-01T00:00:00+05:00"}
    refused = client.post("/v1/consents:import", json=[line])
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["fields"] == [{
        "field": "line 1", "in": "body",
        "message": "at '0001-01-01T00:00:00+05:00' is before year 1 in UTC"}]


def test_an_import_line_with_a_key_given_twice_is_a_422(client):
    line = (b'{"subject":"a","subject":"b","document":"terms","version":"2025-03-01",'
            b'"at":"2025-06-01T10:00:00Z"}\n')
    refused = client.post("/v1/consents:import", content=line,
                          headers={"Content-Type": "application/x-ndjson"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["fields"] == [
        {"field": "line 1", "in": "body", "message": "duplicate key 'subject'"}]


def test_an_import_of_many_bad_lines_lists_the_first_thousand_and_counts_them_all(client):
    """A body of 2 MB of bad lines was answered with every one of them (579 MB for 20 MB)."""
    good = ('{"subject": "u1", "document": "terms", "version": "2025-03-01", '
            '"at": "2025-06-01T10:00:00Z"}')
    body = "\n".join([good] + ["1"] * 200_000)
    refused = client.post("/v1/consents:import", content=body,
                          headers={"Content-Type": "application/x-ndjson"})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert "200000 lines cannot be recorded" in error["message"]
    assert len(error["fields"]) == 1000 and error["fields"][-1]["field"] == "line 1001"
    done = client.post("/v1/consents:import", params={"skip_bad": "true"}, content=body,
                       headers={"Content-Type": "application/x-ndjson"})
    assert done.status_code == 200, done.text
    imported = done.json()
    assert (imported["lines"], imported["recorded"]) == (200_001, 1)
    assert [bad["line"] for bad in imported["bad"]] == list(range(2, 1002))
    assert len(done.content) < 100_000


@pytest.mark.parametrize(("method", "url", "body"), [
    ("POST", "/v1/consents", {"subject": "u1", "document": "terms", "version": "v" * 60_000}),
    ("GET", "/v1/notifications?document=terms&version=" + "v" * 60_000, None),
    ("GET", "/v1/receipts/" + "r" * 60_000, None),
    ("GET", "/v1/log/inclusion?event=" + "e" * 60_000, None),
])
def test_a_refused_value_is_shown_cut_short(client, method, url, body):
    """Messages echoed the whole value: 900 KB of error for a 900 KB version name."""
    response = client.request(method, url, json=body)
    assert 400 <= response.status_code < 500, response.text
    message = response.json()["error"]["message"]
    assert len(message) < 400 and "..." in message, message


@pytest.mark.parametrize(("headers", "said"), [
    ({}, "it has none"), ({"Content-Type": "text/plain"}, "not 'text/plain'"),
    ({"Content-Type": "application/x-www-form-urlencoded"},
     "not 'application/x-www-form-urlencoded'"),
    ({"Content-Type": "text/plé".encode()}, "not 'text/plé'")])  # was 'text/plÃ©
def test_a_body_not_sent_as_json_is_told_how_to_send_it(client, headers, said):
    """It was 'Input should be a valid dictionary or object to extract fields from'."""
    response = client.post("/v1/consents", content=b'{"subject": "u1", "document": "terms"}',
                           headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"] == [{
        "field": "body", "in": "body",
        "message": f"send JSON, with the header Content-Type: application/json ({said})"}]


def test_an_import_line_that_is_not_an_object_is_shown_as_json(client):
    refused = client.post("/v1/consents:import", content=b"null\n[1, true]\n",
                          headers={"Content-Type": "application/x-ndjson"})
    assert refused.status_code == 422, refused.text
    assert [f["message"] for f in refused.json()["error"]["fields"]] == [
        "must be a JSON object, not null", "must be a JSON object, not [1,true]"]


@pytest.mark.parametrize("webhook_id", ["%00", "wh_%00", "wh_0123456789abcdef%00"])
def test_a_webhook_id_no_endpoint_can_have_is_a_404_on_each_engine(client, webhook_id):
    """A NUL, which PostgreSQL's text cannot hold, was a 500 there."""
    for method, body in [("GET", None), ("PATCH", {"enabled": False}), ("DELETE", None)]:
        response = client.request(method, f"/v1/webhooks/{webhook_id}", json=body)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["error"]["code"] == "unknown_webhook"


DUPLICATED = '{"subject": "first", "document": "terms", "subject": "second"}'


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be",
                                      "utf-16", "utf-32"])
def test_a_json_body_not_in_utf_8_is_a_422_saying_it_must_be(client, encoding):
    """JSON in UTF-16 or UTF-32 skipped the strict checks: FastAPI's parser guessed its
    encoding and kept the last of a key given twice (RFC 8259: JSON is UTF-8)."""
    for method, path in [("POST", "/v1/consents"), ("POST", "/v1/subjects/status"),
                         ("POST", "/v1/notifications/ack"), ("POST", "/v1/webhooks"),
                         ("PATCH", "/v1/webhooks/wh_0123456789abcdef"),
                         ("POST", "/v1/consents:import")]:
        body = ("[" + DUPLICATED + "]" if path.endswith(":import") else DUPLICATED)
        response = client.request(method, path, content=body.encode(encoding),
                                  headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (path, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid" and error["message"].startswith(
            "Invalid request: body: must be UTF-8"), (path, error)
        assert [(f["field"], f["in"]) for f in error["fields"]] == [("body", "body")]
    for subject in ("first", "second"):
        assert client.get(f"/v1/subjects/{subject}/history").json()["events"] == []


def test_a_utf_8_byte_order_mark_is_ignored_and_the_body_still_read_strictly(client):
    bom = b"\xef\xbb\xbf"
    twice = client.post("/v1/consents", content=bom + DUPLICATED.encode(),
                        headers={"Content-Type": "application/json"})
    assert twice.status_code == 422, twice.text
    assert twice.json()["error"]["message"] == ("Invalid request: subject: duplicate key "
                                                "'subject' in the JSON body")
    assert client.get("/v1/subjects/second/history").json()["events"] == []
    recorded = client.post("/v1/consents", content=bom + b'{"subject": "bom", "document": "terms"}',
                           headers={"Content-Type": "application/json"})
    assert recorded.status_code == 201, recorded.text
    line = {"subject": "bom2", "document": "terms", "version": "2025-03-01",
            "at": "2025-06-01T10:00:00Z"}
    for kind, body in [("application/json", json.dumps([line])),
                       ("application/x-ndjson", json.dumps(line) + "\n")]:
        imported = client.post("/v1/consents:import", content=bom + body.encode(),
                               headers={"Content-Type": kind})
        assert imported.status_code == 200, imported.text
        assert imported.json()["recorded"] == 1


NFD = "e\u0301" * 150
"""A subject of 300 code points, 150 once normalized to NFC."""


def test_a_subject_is_normalized_to_nfc_before_its_length_is_checked(client):
    """Bodies checked the 256 characters before normalizing: the subject was refused there,
    and taken in a path."""
    nfc = "\u00e9" * 150
    recorded = client.post("/v1/consents", json={"subject": NFD, "document": "terms"})
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["status"]["subject"] == nfc
    statuses = client.post("/v1/subjects/status", json={"subjects": [NFD], "document": "terms"})
    assert statuses.status_code == 200, statuses.text
    assert [(s["subject"], s["status"]) for s in statuses.json()["statuses"]] == [(nfc, "current")]
    marked = client.post("/v1/notifications/ack", json={"document": "terms", "version": "2025-09-15",
                                                        "subjects": [NFD]})
    assert marked.status_code == 200, marked.text
    quoted = urllib.parse.quote(NFD)
    assert client.get(f"/v1/subjects/{quoted}/status?document=terms").json()["subject"] == nfc
    for longer in ("x" * 257, "e\u0301" * 257):
        for method, path, body, field in [
                ("POST", "/v1/consents", {"subject": longer, "document": "terms"}, "subject"),
                ("POST", "/v1/subjects/status", {"subjects": [longer]}, "subjects"),
                ("POST", "/v1/notifications/ack", {"document": "terms", "version": "2025-09-15",
                                                   "subjects": [longer]}, "subjects"),
                ("GET", f"/v1/subjects/{urllib.parse.quote(longer)}/status", None, "subject")]:
            refused = client.request(method, path, json=body)
            assert refused.status_code == 422, (path, refused.text)
            error = refused.json()["error"]
            assert error["code"] == "invalid_subject"
            assert error["message"].startswith("subject must be at most 256 characters, not 257")
            assert [f["field"] for f in error["fields"]] == [field]


@pytest.mark.parametrize("engine", ["sqlite"])  # the same on each engine
@pytest.mark.parametrize(("item", "shown"), [
    ("1e400", "Infinity"), ("-1e400", "-Infinity"), ("NaN", "NaN"), ("Infinity", "Infinity")])
def test_an_import_line_that_is_a_number_that_is_not_finite_says_so(client, item, shown):
    """It was 'must be a JSON object, not null'."""
    refused = client.post("/v1/consents:import", content=f"[{item}]",
                          headers={"Content-Type": "application/json"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["fields"] == [{
        "field": "line 1", "in": "body",
        "message": f"must be a JSON object, not {shown} (a number that is not finite)"}]


@pytest.mark.parametrize("engine", ["sqlite"])  # the same on each engine
def test_an_import_line_nested_too_deeply_to_show_is_a_422(client):
    """It was a 500: showing the line in the message exceeded Python's recursion limit."""
    good = ('{"subject": "u1", "document": "terms", "version": "2025-03-01", '
            '"at": "2025-06-01T10:00:00Z"}')
    body = good + "\n" + "[" * 1000 + "]" * 1000 + "\n"
    refused = client.post("/v1/consents:import", content=body,
                          headers={"Content-Type": "application/x-ndjson"})
    assert refused.status_code == 422, refused.text
    (field,) = refused.json()["error"]["fields"]
    assert field == {"field": "line 2", "in": "body",
                     "message": "must be a JSON object, not [[[[[[[...]]]]]]]"}
    assert client.get("/v1/subjects/u1/history").json()["events"] == []


@pytest.mark.parametrize("engine", ["sqlite"])  # the same on each engine
def test_docs_serve_only_the_files_they_use(app):
    """The whole swagger-ui folder was served: its demo page loads petstore.swagger.io."""
    with TestClient(app) as anonymous:
        page = anonymous.get("/docs")
        assert page.status_code == 200
        used = re.findall(r'(?:href|src)="([^"]+)"', page.text)
        assert sorted(url.rpartition("/")[2] for url in used) == [
            "favicon-32x32.png", "swagger-ui-bundle.js", "swagger-ui.css"]
        for url in used:
            assert anonymous.get(url).status_code == 200, url
        for name in ("index.html", "swagger-initializer.js", "oauth2-redirect.html",
                     "oauth2-redirect.js", "swagger-ui.js", "swagger-ui-bundle.js.map",
                     "index.css", "nothing.js", ""):
            response = anonymous.get(f"/docs/assets/{name}")
            assert response.status_code == 404, name
            assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("engine", ["sqlite"])  # the same on each engine
def test_head_is_answered_as_get_without_the_body(client, secrets, app):
    """HEAD was a 405 (RFC 9110 requires it wherever GET is answered)."""
    accept(client, "u1")
    with TestClient(app) as anonymous:
        for path in ("/healthz", "/openapi.json", "/docs", "/docs/assets/swagger-ui.css"):
            got, head = anonymous.get(path), anonymous.head(path)
            assert (head.status_code, head.content) == (200, b""), path
            assert head.headers["content-type"] == got.headers["content-type"]
            assert head.headers["content-length"] == got.headers["content-length"], path
        assert anonymous.head("/v1/subjects/u1/status").status_code == 401
    read = bearer(secrets["read"])
    for path in ("/v1/subjects/u1/status?document=terms", "/v1/subjects/u1/required",
                 "/v1/documents", "/v1/documents/terms/versions/2025-09-15",
                 "/v1/subjects/u1/history", "/v1/verify"):
        got, head = client.get(path, headers=read), client.head(path, headers=read)
        assert (head.status_code, head.content) == (200, b""), path
        assert head.headers["content-length"] == got.headers["content-length"], path
    assert client.head("/v1/subjects/u1/export", headers=read).status_code == 403
    assert client.head("/v1/nothing").status_code == 404
    refused = client.head("/v1/consents")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    assert client.put("/v1/subjects/u1/history").headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/v1/subjects/u1/status?document=terms&document=privacy",
                                  "/v1/subjects/u1/required?lang=fr&lang=de",
                                  "/v1/notifications?document=terms&version=2099-01-01&limit=5&limit=6"])
def test_a_query_parameter_given_twice_is_refused_not_resolved_to_one(client, path):
    """Two layers in front of the API may disagree on which of two values wins: neither does."""
    name = path.rsplit("&", 1)[1].split("=")[0]
    response = client.get(path)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["fields"] == [{"field": name, "in": "query",
                                "message": "given more than once: give it once"}]


@pytest.mark.parametrize("method, path, body, headers, field, located", [
    ("POST", "/v1/consents", {"subject": "u1", "document": "nope"}, {}, "document", "body"),
    ("POST", "/v1/consents", {"subject": "u1", "document": "terms", "version": "1999-01-01"}, {},
     "version", "body"),
    ("POST", "/v1/consents", {"subject": "u1", "document": "terms", "sha256": "ab" * 32}, {},
     "sha256", "body"),
    ("POST", "/v1/consents", {"subject": "u1", "document": "terms", "channel": "a\nb"}, {},
     "channel", "body"),
    ("POST", "/v1/consents", {"subject": "u1", "document": "terms"}, {"Idempotency-Key": "k" * 256},
     "Idempotency-Key", "header"),
    ("GET", "/v1/notifications?document=terms&version=2025-09-15&cursor=garbage", None, {},
     "cursor", "query"),
    ("GET", "/v1/subjects/u1/status?document=nope", None, {}, "document", "query"),
    ("GET", "/v1/documents/terms/versions/%FF", None, {}, "version", "path"),
])
def test_a_refusal_about_a_field_of_the_request_names_it_in_fields(client, method, path, body, headers, field,
                                                                  located):
    """``fields`` lists the request's fields at fault, whichever layer refused them (the README)."""
    response = client.request(method, path, json=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert [(f["field"], f["in"]) for f in error["fields"]] == [(field, located)], error


@pytest.mark.parametrize("body", [
    {"subject": "u1", "document": "terms", "language": "fr"},
    {"subject": "u1", "document": "terms", "version": "2025-09-15", "language": "fr"},
])
@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "k1"}])
def test_a_language_the_version_has_no_text_in_is_named_in_fields(client, body, headers):
    """``fields`` was empty (or named the version)."""
    response = client.post("/v1/consents", json=body, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "unpublished_version"
    assert error["fields"] == [{"field": "language", "in": "body", "message": error["message"]}]


def test_an_idempotency_conflict_names_the_header_in_fields(client):
    """``fields`` was empty."""
    body = {"subject": "u1", "document": "terms"}
    assert client.post("/v1/consents", json=body, headers={"Idempotency-Key": "k1"}).status_code == 201
    conflict = client.post("/v1/consents", json={**body, "action": "declined"},
                           headers={"Idempotency-Key": "k1"})
    assert conflict.status_code == 409, conflict.text
    error = conflict.json()["error"]
    assert error["code"] == "idempotency_conflict"
    assert error["fields"] == [{"field": "Idempotency-Key", "in": "header",
                                "message": error["message"]}]


def test_a_bad_import_line_is_told_how_to_skip_it_over_http(client):
    """The message named the CLI's --skip-bad."""
    refused = client.post("/v1/consents:import", content=b"1\n",
                          headers={"Content-Type": "application/x-ndjson"})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_import"
    assert error["message"].endswith("; fix them, or skip them (?skip_bad=true)"), error
    assert error["fields"] == [{"field": "line 1", "in": "body",
                                "message": "must be a JSON object, not 1"}]


@pytest.mark.parametrize("method, path, name, message", [
    ("GET", "/v1/subjects/user-42/status?documnet=terms", "documnet",
     "unknown parameter: did you mean document?"),
    ("HEAD", "/v1/subjects/user-42/status?document=terms&att=2026-01-01", "att",
     "unknown parameter: did you mean at?"),
    ("GET", "/v1/notifications?document=terms&version=2025-09-15&limt=5", "limt",
     "unknown parameter: did you mean limit?"),
    ("GET", "/v1/documents/terms/versions/2025-09-15?language=fr", "language",
     "unknown parameter: did you mean lang?"),
    ("GET", "/v1/receipts/1?proof=1", "proof", "unknown parameter: this route takes size, with_salt"),
    ("GET", "/v1/subjects/user-42/history?document=terms", "document",
     "unknown parameter: this route takes none"),
    ("POST", "/v1/consents:import?skipbad=true", "skipbad",
     "unknown parameter: did you mean skip_bad?"),
    ("GET", "/v1/webhooks?x", "x", "unknown parameter: this route takes none"),
])
def test_an_unknown_query_parameter_is_a_422_naming_it(client, method, path, name, message):
    """It was ignored: a typo of ``document`` answered the status for every document."""
    response = client.request(method, path)
    assert response.status_code == 422, response.text
    if method != "HEAD":
        assert response.json()["error"] == {
            "status": 422, "code": "invalid", "message": f"Invalid request: {name}: {message}",
            "fields": [{"field": name, "in": "query", "message": message}]}


def test_the_query_parameters_a_route_takes_are_accepted(client, app):
    accept(client, "u1")
    for path in ("/v1/subjects/u1/status?document=terms&at=2026-01-01",
                 "/v1/subjects/u1/required?at=2026-01-01&lang=fr",
                 "/v1/documents?document=terms&at=2026-01-01",
                 "/v1/documents/terms/versions/2025-09-15?lang=fr",
                 "/v1/notifications?document=terms&version=2025-09-15&limit=5"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
    with TestClient(app) as anonymous:
        for path in ("/healthz?x=1", "/openapi.json?x=1", "/docs?x=1"):
            assert anonymous.get(path).status_code == 200, path
            assert anonymous.head(path).status_code == 200, path


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/v1/subjects/status", {"subjects": ["u1"], "at": "yesterday"}),
    ("GET", "/v1/documents?at=yesterday", None),
    ("GET", "/v1/subjects/u1/status?document=terms&at=yesterday", None),
])
def test_a_validator_s_message_is_shown_without_pydantic_s_prefix(client, method, path, body):
    """A bad ``at`` in a body was 'at: Value error, must be an ISO-8601 date and time, ...'."""
    response = client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    said = "must be an ISO-8601 date and time, such as 2026-05-01T00:00:00Z"
    assert error["message"] == f"Invalid request: at: {said}"
    assert [f["message"] for f in error["fields"]] == [said]


def test_pydantic_s_prefixes_are_left_out_of_every_validation_message():
    for prefix in ("Value error, ", "Assertion failed, "):
        error = {"type": "value_error", "loc": ("body", "at"), "msg": f"{prefix}must be later"}
        assert validation_message(error) == "must be later"


LANGUAGE_WORDS = ("must be a language tag such as en, fr or pt-BR: 2 to 8 letters, then optionally more "
                  "parts of 1 to 8 letters or digits, each after a hyphen")
SLUG_WORDS = ("must be a document's slug: lowercase letters a to z, digits and hyphens, such as terms "
              "or privacy-policy")


@pytest.mark.parametrize("method, path, body, field, located, said", [
    ("GET", "/v1/subjects/u1/required?lang=fr_FR", None, "lang", "query", LANGUAGE_WORDS),
    ("GET", "/v1/documents/terms/versions/2025-03-01?lang=fr_FR", None, "lang", "query", LANGUAGE_WORDS),
    ("POST", "/v1/consents", {"subject": "u1", "document": "terms", "language": "fr_FR"}, "language",
     "body", LANGUAGE_WORDS),
    ("POST", "/v1/consents", {"subject": "u1", "document": "Terms"}, "document", "body", SLUG_WORDS),
    ("GET", "/v1/documents/Terms/versions/2025-03-01", None, "document", "path", SLUG_WORDS),
    ("GET", "/v1/documents?document=Terms", None, "document", "query", SLUG_WORDS),
])
def test_a_value_not_in_a_field_s_form_is_told_the_form_in_words(client, method, path, body, field, located,
                                                                 said):
    """A bad lang was "String should match pattern '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$'"."""
    response = client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"] == f"Invalid request: {field}: {said}"
    assert error["fields"] == [{"field": field, "in": located, "message": said}]


def test_every_pattern_a_request_is_validated_against_has_words(app):
    """A pattern is shown to no one: each the API validates has plain words instead (the subject
    id's and the anchor's, only documented, are checked by the ledger in its own words)."""

    def patterns(schema):
        if isinstance(schema, dict):
            if isinstance(schema.get("pattern"), str):
                yield schema["pattern"]
            for value in schema.values():
                yield from patterns(value)
        elif isinstance(schema, list):
            for value in schema:
                yield from patterns(value)

    documented_only = {SUBJECT_PATTERN, "^[0-9]+:[0-9a-f]{64}$"}
    found = set(patterns(app.openapi())) - documented_only
    assert found and found <= PATTERN_WORDS.keys(), found - PATTERN_WORDS.keys()


def test_an_idempotency_key_that_is_not_ascii_is_shown_as_sent(client):
    """Its UTF-8 bytes were shown read as Latin-1: 'cafÃ©'."""
    response = client.post("/v1/consents", json={"subject": "u1", "document": "terms"},
                           headers={"Idempotency-Key": "café".encode()})
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert message == "idempotency key must be 1 to 255 printable ASCII characters, not 'café'"
    # bytes that are not UTF-8 (the test client sends text as UTF-8: a server gets them as sent)
    assert header_text(b"caf\xe9".decode("latin-1")) == "caf\ufffd"
