"""Consent receipts, verified offline against the published site: every tamper case fails
with its reason."""

from __future__ import annotations

import base64
import functools
import http.server
import json
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from support.transparency import BASE_URL, ORIGIN, World

from consent import InvalidNote, InvalidProof, InvalidReceipt, PublicationError, transparency
from consent.note import Checkpoint, Note, SigningKey, sign_checkpoint
from consent.receipt_checks import site_of, verify_receipt
from consent.receipts import SignedReceipt, commitment, sign_receipt
from consent.signing import rotate_key
from consent.transparency import ConsistencyProof, Site, checkpoint_path, transparency_files, verify_extension


@pytest.fixture
def world(tmp_path, built) -> World:
    world = World(tmp_path, built)
    world.record(5)
    world.checkpoint()
    world.publish()
    return world


def verify(world: World, signed: SignedReceipt, **kwargs):
    return verify_receipt(SignedReceipt.parse(signed.to_json()), Site(world.site), **kwargs)


def test_a_receipt_verifies_against_the_site_folder(world):
    signed = world.receipt(3)
    result = verify(world, signed, subject="user-42")
    assert result.ok, result.problem
    assert [c.split(":")[0] for c in result.checks] == [
        "keys", "signature", "checkpoint", "checkpoint", "inclusion", "version", "subject"]
    data = json.loads(signed.to_json())
    assert data["version"] == "KI-CR-v1.1.0" and data["policyUrl"] == f"{BASE_URL}terms/2026-01-01/"
    assert data["piiPrincipalId"] == commitment("user-42", signed.salt) and "user-42" not in signed.to_json()
    assert data["proof"]["leafIndex"] == 3 and data["log"] == ORIGIN
    assert site_of(signed.receipt) == BASE_URL


def test_the_subject_is_checked_only_with_the_salt(world):
    signed = world.receipt(1)
    assert (verify(world, signed, subject="user-43").problem
            == "subject: the receipt is not about that subject")
    shared = replace(signed, salt=None)  # the copy a holder shows others
    assert verify(world, shared).ok
    assert "has no subjectSalt" in verify(world, shared, subject="user-42").problem


def _other(value):
    if isinstance(value, bool) or value is None:
        return "changed"
    if isinstance(value, int):
        return value + 1
    if isinstance(value, list):
        return [{**value[0], "contact": "someone@example.com"}]
    if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:-1] + ("0" if value[-1] != "0" else "1")
    return {"accepted": "withdrawn", "KI-CR-v1.1.0": value}.get(value, value + "x")


FIELDS = ["consentReceiptID", "consentTimestamp", "collectionMethod", "language", "jurisdiction",
          "piiPrincipalId", "piiControllers", "policyUrl", "action", "document", "versionId",
          "contentSha256", "manifestSha256", "eventHash", "log", "issued"]


@pytest.mark.parametrize("name", FIELDS)
def test_tampering_with_any_field_fails_verification(world, name):
    data = json.loads(world.receipt(2).to_json())
    data[name] = _other(data[name])
    result = verify_receipt(SignedReceipt.parse(json.dumps(data)), Site(world.site))
    assert not result.ok
    if name == "log":
        assert result.problem.startswith("keys: the receipt is from the log 'terms.example.comx'")
    else:
        assert result.problem.startswith("signature: does not match the receipt's fields"), result.problem


def test_tampering_with_the_signature_proof_or_checkpoint_fails(world):
    world.record(3)
    world.checkpoint()
    world.publish()
    signed = world.receipt(2)
    value = bytearray(signed.signature)
    value[0] ^= 1
    tampered = replace(signed, signature=bytes(value))
    assert verify(world, tampered).problem.startswith("signature: does not match")
    hashes = list(signed.proof.hashes)
    hashes[1] = bytes(32)
    bad = replace(signed, proof=replace(signed.proof, hashes=tuple(hashes)))
    assert verify(world, bad).problem.startswith(
        "inclusion: the inclusion proof of leaf 2 does not lead to the root")
    note = signed.proof.checkpoint
    size_changed = note.replace("\n8\n", "\n7\n", 1)
    resized = replace(signed, proof=replace(signed.proof, checkpoint=size_changed))
    assert "does not verify" in verify(world, resized).problem
    for index in (3, 1, 7):  # the index is not signed: the audit path holds only from leaf 2
        other_leaf = replace(signed, proof=replace(signed.proof, leaf_index=index))
        assert verify(world, other_leaf).problem.startswith(
            f"inclusion: the inclusion proof of leaf {index} ")


def test_a_checkpoint_must_be_published_signed_by_the_log_and_agree_with_the_site(world):
    world.record(2)
    unpublished = world.checkpoint()  # signed, not yet on the site
    signed = world.receipt(6, checkpoint=unpublished)
    problem = verify(world, signed).problem
    assert problem.startswith("checkpoint: the site does not publish the checkpoint of 7 leaves that "
                              "the receipt's proof uses (cannot read ") and checkpoint_path(7) in problem
    # another log's checkpoint, with another key: refused before anything else of it is read
    stranger = SigningKey.generate("another.example")
    foreign = sign_checkpoint(Checkpoint(origin="another.example", size=7, root_hash=world.log.root()),
                              stranger, world.time(8))
    result = verify(world, replace(signed, proof=replace(signed.proof, checkpoint=foreign)))
    assert result.problem == ("checkpoint: the checkpoint is from the log 'another.example', "
                              "not 'terms.example.com'")
    # a fork: the site publishes another root for the receipt's size (signed by the same key)
    forked = sign_checkpoint(Checkpoint(origin=ORIGIN, size=7, root_hash=bytes(32)), world.key, world.time(8))
    (world.site / checkpoint_path(7)).write_text(forked)
    assert "publishes another root hash for 7 leaves" in verify(world, signed).problem


def test_a_receipt_signed_by_an_unpublished_key_fails(world):
    impostor = SigningKey.generate(ORIGIN)
    signed = world.receipt(0, key=impostor)
    assert verify(world, signed).problem == (
        f"signature: made with key {impostor.verifier.key_id:08x}, which {world.site} does not publish")


def test_receipts_keep_verifying_after_the_key_is_rotated(world):
    old_key = world.key
    before = world.receipt(4)
    rotate_key(world.key_path, at=world.time(10))
    world.record(1)
    world.checkpoint(at=world.time(11))
    world.publish()
    assert verify(world, before).ok  # its checkpoint, signed by the old key, is still published
    after = world.receipt(5, issued=world.time(11))
    result = verify(world, after)
    assert result.ok and world.key.verifier.key_id != old_key.verifier.key_id
    assert f"by key {world.key.verifier.key_id:08x}" in result.checks[1]
    # the rotated-out key signing a receipt "issued" after its period ends is refused
    late = world.receipt(5, key=old_key, issued=world.time(12))
    assert "but the receipt says it was issued at" in verify(world, late).problem


def test_the_version_and_its_sha256_must_be_listed_on_the_site(world):
    signed = world.receipt(1)
    versions = json.loads((world.site / "versions.json").read_text())
    versions["documents"][-1]["versions"][-1]["content_sha256"] = "0" * 64
    (world.site / "versions.json").write_text(json.dumps(versions))
    slug = versions["documents"][-1]["slug"]
    if slug == "terms":
        assert "has sha256 000" in verify(world, signed).problem
    (world.site / "versions.json").write_text(json.dumps({"documents": []}))
    assert verify(world, signed).problem.startswith("version: versions.json of")
    (world.site / "versions.json").write_text(json.dumps({"documents": [{"slug": "terms", "versions": 5}]}))
    assert verify(world, signed).problem.startswith("version: versions.json of")  # was a TypeError
    duplicated = json.dumps(versions).replace('"slug": ', '"slug": "terms", "slug": ', 1)
    (world.site / "versions.json").write_text(duplicated)  # the last one was believed
    assert verify(world, signed).problem == (f"version: versions.json of {world.site} is not valid: "
                                             "duplicate key 'slug'")
    (world.site / "versions.json").write_text("{not json")
    assert "versions.json" in verify(world, signed).problem and "not JSON" in verify(world, signed).problem


@pytest.fixture
def served(world):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(world.site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_site_that_sends_a_file_slowly_is_given_up_on(world, monkeypatch):
    """A byte now and then kept the verifier waiting for ever (the timeout is per read)."""
    monkeypatch.setattr(transparency, "DOWNLOAD_TIME", 1.0)

    class Drip(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started = time.monotonic()
        problem = verify_receipt(world.receipt(1), Site(f"http://127.0.0.1:{server.server_address[1]}/")
                                 ).problem
        assert problem.endswith("keys.json: it takes more than 1 s to download"), problem
        assert time.monotonic() - started < 3
        server.shutdown()


def test_a_receipt_verifies_against_the_site_over_http(world, served):
    signed = world.receipt(2)
    assert verify_receipt(signed, Site(served)).ok
    problem = verify_receipt(signed, Site(served + "nothing-here/")).problem
    assert problem.startswith("keys: cannot read http://127.0.0.1:")
    assert problem.endswith("keys.json: HTTP 404")
    with pytest.raises(PublicationError, match="only http"):
        Site("ftp://example.invalid/")


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(extra=1), "has unknown fields: extra"),
    (lambda d: d.pop("eventHash"), "lacks fields: eventHash"),
    (lambda d: d["proof"].update(leafIndex=-1), "'proof.leafIndex' must be a whole number"),
    (lambda d: d["proof"].update(leafIndex=True), "'proof.leafIndex' must be a whole number"),
    (lambda d: d["proof"].pop("leafIndex"), "'proof' must be {checkpoint, leafIndex, inclusion"),
    (lambda d: d.update(consentTimestamp=2 ** 53), "'consentTimestamp' must be a whole number"),
    (lambda d: d.update(issued=300000000000), "after the year 9999"),
    (lambda d: d.update(eventHash="XYZ"), "'eventHash' must be 64 lowercase hex digits"),
    (lambda d: d.update(action="agreed"), "'action' must be one of accepted, declined, withdrawn"),
    (lambda d: d.update(version="KI-CR-v1.0.0"), "'version' must be 'KI-CR-v1.1.0'"),
    (lambda d: d.update(piiControllers=[]), "'piiControllers' must be a list of one"),
    (lambda d: d.update(language=""), "'language' must be non-empty text"),
    (lambda d: d["signature"].update(algorithm="RSA"), "'signature' must be"),
    (lambda d: d["signature"].update(value="AAAA"), "'signature.value' must be 64 bytes"),
    (lambda d: d["proof"].update(inclusion=["AAAA"]), r"'proof.inclusion\[0\]' must be 32 bytes"),
    (lambda d: d.update(subjectSalt=7), "'subjectSalt' must be 16 bytes"),
    # a JSON escape of a lone surrogate: canonical JSON raised CanonicalizationError, a traceback
    (lambda d: d.update(document="\ud800"), "'document' is not valid text \\(a lone surrogate\\)"),
    (lambda d: d["proof"].update(checkpoint="o\n1\n\ud800\n"), "not valid text \\(a lone surrogate"),
])
def test_malformed_receipts_are_refused_with_the_field(world, change, message):
    data = json.loads(world.receipt(0).to_json())
    change(data)
    with pytest.raises(InvalidReceipt, match=message):
        SignedReceipt.parse(json.dumps(data))


def test_receipt_json_itself_is_checked():
    with pytest.raises(InvalidReceipt, match="not JSON"):
        SignedReceipt.parse(b"\xff")
    with pytest.raises(InvalidReceipt, match="must be a JSON object"):
        SignedReceipt.parse("[]")
    with pytest.raises(InvalidReceipt, match="'action' appears twice"):
        SignedReceipt.parse('{"action": "accepted", "action": "withdrawn"}')
    with pytest.raises(InvalidReceipt, match="larger than"):
        SignedReceipt.parse(" " * (1024 * 1024 + 1))
    with pytest.raises(InvalidReceipt, match="not JSON: nested too deeply$"):
        SignedReceipt.parse("[" * 100_000)
    with pytest.raises(InvalidReceipt, match="not JSON: a number has more than 4300 digits$"):
        SignedReceipt.parse('{"issued": ' + "9" * 5000 + "}")  # Python's words, with its advice
    with pytest.raises(InvalidProof, match="not JSON: duplicate key 'old_size'$"):
        ConsistencyProof.parse('{"old_size": 1, "old_size": 2, "new_size": 3, "proof": []}')


def test_published_layout_keeps_one_checkpoint_per_size_and_refuses_forks(world):
    first = world.checkpoints[0]
    again = world.checkpoint(at=world.time(20))  # the same tree, signed later
    files = transparency_files(world.public_keys, [again, first])
    assert files[checkpoint_path(5)].decode() == first  # the earliest signature is kept
    assert files["transparency/checkpoint"].decode() == first
    index = json.loads(files["transparency/checkpoints.json"])
    assert index == {"origin": ORIGIN, "checkpoints": [{
        "size": 5, "root_hash": base64.b64encode(world.log.root()).decode(), "time": "2026-01-01T06:00:00Z"}]}
    assert files["transparency/keys.json"] == world.public_keys.to_json()
    fork = sign_checkpoint(Checkpoint(origin=ORIGIN, size=5, root_hash=bytes(32)), world.key, world.time(21))
    with pytest.raises(PublicationError, match="the log forked"):
        transparency_files(world.public_keys, [first, fork])
    with pytest.raises(InvalidNote):
        transparency_files(world.public_keys, [sign_checkpoint(
            Checkpoint(origin=ORIGIN, size=5, root_hash=world.log.root()), SigningKey.generate(ORIGIN),
            world.time(3))])


def test_a_later_checkpoint_extends_an_earlier_one(world):
    old = world.checkpoints[-1]
    world.record(300)
    new = world.checkpoint()
    proof = ConsistencyProof(old_size=5, new_size=305, hashes=tuple(world.log.consistency_proof(5)))
    assert ConsistencyProof.parse(proof.to_json()) == proof
    first, second = verify_extension(old, new, proof, world.public_keys)
    assert (first.checkpoint.size, second.checkpoint.size) == (5, 305)
    with pytest.raises(InvalidProof, match="the checkpoints are of 305 and 5"):
        verify_extension(new, old, proof, world.public_keys)
    forged = sign_checkpoint(Checkpoint(origin=ORIGIN, size=305, root_hash=bytes(32)), world.key,
                             world.time(400))
    with pytest.raises(InvalidProof, match="does not lead to the new root"):
        verify_extension(old, forged, proof, world.public_keys)
    with pytest.raises(InvalidNote, match="the old checkpoint: "):
        verify_extension(Note.parse(old).text + "\n\u2014 x AAAAAAA=\n", new, proof, world.public_keys)
    with pytest.raises(InvalidProof, match="whole sizes"):
        ConsistencyProof.parse('{"old_size": "5", "new_size": 305, "proof": []}')
    with pytest.raises(InvalidProof, match="not JSON"):
        ConsistencyProof.parse("[" * 100_000)


def test_receipts_are_signed_for_their_log_only(world):
    signed = world.receipt(0)
    with pytest.raises(InvalidReceipt, match="is not the key's name"):
        sign_receipt(replace(signed.receipt, log="another.example"), world.key)
    assert signed.receipt.issued - signed.receipt.consent_time == timedelta(seconds=1)
