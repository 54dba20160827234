"""Receipts and the transparency log over HTTP, in process (FastAPI's TestClient), on both
engines: the receipt a recording returns, the proof that follows it, and the log's routes."""

from __future__ import annotations

import base64
import json
import time

import pytest
from fastapi.testclient import TestClient
from support.api import bearer, make_keys, publish

from consent import Ledger, ReceiptSettings
from consent.merkle import leaf_hash, verify_consistency, verify_inclusion
from consent.note import Checkpoint, Note
from consent.receipts import SignedReceipt, commitment
from consent.signing import create_key
from termsledger.api import create_app

ORIGIN = "terms.example.com"


@pytest.fixture
def ledger_path(content_repo, where):
    return publish(content_repo, where())


@pytest.fixture
def secrets(ledger_path):
    return make_keys(ledger_path)


@pytest.fixture
def receipts(tmp_path):
    key = tmp_path / "signing.key"
    create_key(key, name=ORIGIN)
    return ReceiptSettings(signing_key=key, controller="Quillbridge Learning Ltd.",
                           contact="legal@example.com", base_url=f"https://{ORIGIN}/")


@pytest.fixture
def client(ledger_path, secrets, receipts):
    app = create_app(ledger_path, receipts=receipts, checkpoint_interval=None)
    with TestClient(app, headers=bearer(secrets["write"]), raise_server_exceptions=False) as client:
        yield client


def place(event: dict) -> str:
    """An event's place: ``seq``, or ``chain.seq`` outside chain 0."""
    return str(event["seq"]) if event["chain"] == 0 else f"{event['chain']}.{event['seq']}"


def record(client, subject, **fields):
    response = client.post("/v1/consents", json={"subject": subject, "document": "terms",
                                                 "evidence": {"ip": "203.0.113.9"}, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def checkpoint_and_publish(ledger_path, receipts) -> int:
    """What `termsledger log checkpoint` and `termsledger build` do to the ledger."""
    with Ledger(ledger_path, receipts=receipts) as ledger:
        size = ledger.log.checkpoint().size
        ledger.log.mark_published([size])
    return size


def test_a_recording_returns_the_subjects_signed_receipt(client):
    recorded = record(client, "ada")
    own = SignedReceipt.parse(json.dumps(recorded["receipt"]))
    assert own.proof is None and own.salt is not None
    assert own.receipt.subject == commitment("ada", own.salt)
    assert own.receipt.event_hash == recorded["events"][0]["hash"]
    assert own.receipt.manifest_sha256 is not None and own.receipt.url.startswith(f"https://{ORIGIN}/terms/")


def test_the_proof_follows_once_a_checkpoint_is_published(client, ledger_path, receipts, secrets):
    recorded = [record(client, f"user-{i}") for i in range(3)]
    receipt_id = recorded[1]["receipt"]["consentReceiptID"]
    first = client.get(f"/v1/receipts/{receipt_id}").json()
    assert first["pending"] is True and "proof" not in first["receipt"]
    assert "subjectSalt" not in first["receipt"]
    size = checkpoint_and_publish(ledger_path, receipts)
    assert size == 6  # each acceptance of the terms accepts the privacy policy with it
    proved = client.get(f"/v1/receipts/{receipt_id}").json()
    assert proved["pending"] is False
    proof = proved["receipt"]["proof"]
    signed = Checkpoint.parse(Note.parse(proof["checkpoint"]).text)
    verify_inclusion(index=proof["leafIndex"], size=signed.size,
                     leaf=leaf_hash(bytes.fromhex(proved["receipt"]["eventHash"])),
                     proof=[base64.b64decode(h) for h in proof["inclusion"]], root=signed.root_hash)
    by_event = client.get("/v1/log/inclusion", params={"event": place(recorded[1]["events"][0])})
    assert proof["leafIndex"] == by_event.json()["leaf_index"]
    # the subject's salt: personal data, for admin keys only
    refused = client.get(f"/v1/receipts/{receipt_id}?with_salt=true")
    assert refused.status_code == 403 and "admin" in refused.json()["error"]["message"]
    salted = client.get(f"/v1/receipts/{receipt_id}?with_salt=true", headers=bearer(secrets["admin"]))
    assert salted.json()["receipt"]["subjectSalt"] == recorded[1]["receipt"]["subjectSalt"]


def test_the_log_routes(client, ledger_path, receipts):
    assert client.get("/v1/log/checkpoint").status_code == 404
    for i in range(2):
        record(client, f"user-{i}")
    old = checkpoint_and_publish(ledger_path, receipts)
    late = record(client, "late")["events"][1]
    new = checkpoint_and_publish(ledger_path, receipts)
    latest = client.get("/v1/log/checkpoint").json()
    assert latest["size"] == new == 6 and latest["published"] is not None
    listed = client.get("/v1/log/checkpoints").json()
    assert listed["size"] == 6 and [c["size"] for c in listed["checkpoints"]] == [old, new]
    by_event = client.get("/v1/log/inclusion", params={"event": place(late)}).json()
    by_leaf = client.get("/v1/log/inclusion", params={"leaf_index": by_event["leaf_index"]}).json()
    assert by_leaf == by_event and by_leaf["size"] == 6 and by_leaf["checkpoint"] == latest["note"]
    assert by_leaf["leaf_index"] >= old  # sequenced after the first checkpoint
    older = client.get("/v1/log/inclusion", params={"leaf_index": 1, "size": old}).json()
    assert older["size"] == old
    proof = client.get("/v1/log/consistency", params={"old": old}).json()
    roots = {c["size"]: base64.b64decode(c["root_hash"]) for c in listed["checkpoints"]}
    verify_consistency(old_size=old, new_size=new, old_root=roots[old], new_root=roots[new],
                       proof=[base64.b64decode(h) for h in proof["proof"]])
    assert (proof["old_size"], proof["new_size"]) == (old, new)


@pytest.mark.parametrize("path, status, code, words", [
    ("/v1/receipts/0b7c1c2e-3f3e-4c55-9d1e-1f2a3b4c5d6e", 404, "unknown_receipt", "no receipt"),
    ("/v1/receipts/nonsense", 404, "unknown_receipt", "is not a receipt id"),
    ("/v1/receipts/999", 404, "unknown_receipt", "no event 999"),
    ("/v1/log/inclusion", 422, "invalid", "either leaf_index or event"),
    ("/v1/log/inclusion?leaf_index=0&event=1", 422, "invalid", "either leaf_index or event"),
    ("/v1/log/inclusion?leaf_index=0", 404, "unknown_checkpoint", "no published checkpoint yet"),
    ("/v1/log/inclusion?event=1&size=5", 404, "unknown_checkpoint", "event 1 is not in the log"),
    ("/v1/log/inclusion?event=x", 422, "invalid_record", "is not an event's place"),
    ("/v1/log/consistency?old=1", 404, "unknown_checkpoint", "no checkpoint of the log is published"),
    ("/v1/log/consistency?old=9&new=1", 422, "invalid_proof", "the log has 0 leaves, not 1"),
    ("/v1/log/inclusion?leaf_index=0&size=99999999999999999999", 422, "invalid", "size"),
])
def test_log_errors_are_clear(client, path, status, code, words):
    response = client.get(path)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"], error


def test_the_server_sequences_soon_after_a_write(client, ledger_path):
    record(client, "ada")
    deadline = time.monotonic() + 10
    while client.get("/v1/log/checkpoints").json()["size"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get("/v1/log/checkpoints").json()["size"] == 2


def test_a_replayed_recording_returns_the_same_receipt(client):
    headers = {"Idempotency-Key": "signup-1"}
    first = client.post("/v1/consents", json={"subject": "ada", "document": "terms"}, headers=headers)
    again = client.post("/v1/consents", json={"subject": "ada", "document": "terms"}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["receipt"] == first.json()["receipt"]


def test_without_a_signing_key_there_is_no_receipt(ledger_path, secrets):
    app = create_app(ledger_path)
    with TestClient(app, headers=bearer(secrets["write"])) as client:
        recorded = record(client, "ada")
        assert "receipt" not in recorded
        missing = client.get(f"/v1/receipts/{place(recorded['events'][0])}")
        assert missing.status_code == 404 and "no receipt was issued" in missing.json()["error"]["message"]
