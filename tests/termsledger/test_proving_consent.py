"""Proving consent end to end: a receipt from a real ``termsledger serve`` verifies offline, in
a real ``termsledger receipt verify`` process, against the site ``termsledger build`` wrote;
every tampered field, checkpoint or event fails; a rotated key and an erased subject leave it
verifying, and nothing published names the subject."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from support.api import PRIVACY, TERMS_V1, TERMS_V2, bearer, make_keys, running_server
from support.engines import ENGINES

import terms
from consent import Ledger
from consent.merkle import leaf_hash
from consent.tiles import TableTiles
from consent.tlog import Log
from termsledger.cli import cli

pytestmark = pytest.mark.slow  # processes, servers or a browser

ORIGIN = "terms.example.com"
SUBJECT, IP, AGENT = "ada.lovelace@example.com", "198.51.100.23", "Mozilla/5.0 (X11) Firefox/140.0"
CONFIG = f"""ledger = "{{ledger}}"

[site]
base_url = "https://{ORIGIN}/"
organisation = "Quillbridge Learning Ltd."
contact = "legal@example.com"

[receipts]
signing_key = "../signing.key"
"""


def termsledger(*args, cwd: Path, code: int = 0) -> str:
    """Run ``termsledger`` as its own process in ``cwd``; its output."""
    done = subprocess.run([sys.executable, "-c", "from termsledger.cli import cli; cli()",
                           *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert done.returncode == code, done.stdout + done.stderr
    return done.stdout + done.stderr


def verify(receipt: dict, site: Path, *args) -> tuple[int, str]:
    """``termsledger receipt verify`` through click's runner; exit code and output."""
    path = site.parent / "receipt-check.json"
    path.write_text(json.dumps(receipt))
    result = CliRunner().invoke(cli, ["receipt", "verify", str(path), "--site", str(site), *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module", params=ENGINES)
def world(request, tmp_path_factory):
    """A content repository with its termsledger.toml, its published ledger (a file, or a
    PostgreSQL database whose many chains feed one log), a signing key, and a server that
    signs a checkpoint every second."""
    from support.repo import ContentRepo

    root = tmp_path_factory.mktemp("proving")
    location = (str(root / "ledger.db") if request.param == "sqlite"
                else request.getfixturevalue("postgres").location())
    repo = ContentRepo(root / "repo")
    repo.commit("2025-01-10T10:00", **{"privacy.md": PRIVACY, "terms.md": TERMS_V1})
    repo.commit("2025-08-01T10:00", **{"terms.md": TERMS_V2})
    (repo.path / "termsledger.toml").write_text(CONFIG.format(ledger=location))
    with Ledger(location, create=True) as ledger:
        ledger.publish(terms.load(repo.path))
    secrets = make_keys(location)
    termsledger("keys", "signing", "create", cwd=repo.path)
    with running_server(location, options=("--checkpoint-interval", "1"), cwd=repo.path) as url:
        yield {"root": root, "repo": repo.path, "site": root / "site", "url": url,
               "write": bearer(secrets["write"]), "admin": bearer(secrets["admin"])}


def record(world, subject: str, **evidence) -> dict:
    response = httpx.post(f"{world['url']}/v1/consents", headers=world["write"], json={
        "subject": subject, "document": "terms", "channel": "web", "evidence": evidence})
    assert response.status_code == 201, response.text
    return response.json()


def proved(world, receipt_id: str) -> dict:
    """Wait for a checkpoint of the server to include the receipt's event, build the site
    (which publishes it), and return the receipt with its proof (the event may be sequenced
    only after a checkpoint taken meanwhile: then wait for the next one and build again)."""
    url, deadline = world["url"], time.monotonic() + 60
    while True:
        listed = httpx.get(f"{url}/v1/log/checkpoints", headers=world["write"]).json()
        wanted = listed["size"]
        if listed["checkpoints"] and listed["checkpoints"][-1]["size"] >= wanted and wanted:
            built = termsledger("build", "--content", world["repo"], "--out", world["site"],
                                cwd=world["repo"])
            assert "Published the transparency log" in built
            answer = httpx.get(f"{url}/v1/receipts/{receipt_id}", headers=world["write"]).json()
            if answer["pending"] is False:
                return answer["receipt"]
        assert time.monotonic() < deadline, listed
        time.sleep(0.2)


def own_copy(recorded: dict, with_proof: dict) -> dict:
    """The subject's copy (from the recording: it has the salt) with the proof that followed."""
    return {**recorded["receipt"], "proof": with_proof["proof"]}


def test_a_receipt_from_the_api_verifies_offline_against_the_built_site(world):
    recorded = record(world, SUBJECT, ip=IP, user_agent=AGENT)
    receipt = recorded["receipt"]
    assert "proof" not in receipt and receipt["subjectSalt"]
    full = own_copy(recorded, proved(world, receipt["consentReceiptID"]))
    path = world["root"] / "ada-receipt.json"
    path.write_text(json.dumps(full, indent=2))
    out = termsledger("receipt", "verify", path, "--site", world["site"], "--subject", SUBJECT,
                      cwd=world["root"])
    assert out.endswith("Verified.\n") and "ok    subject" in out and "ok    inclusion" in out
    assert (world["site"] / "transparency" / "index.html").is_file()
    page = (world["site"] / "transparency" / "index.html").read_text()
    assert "How to check a receipt" in page and "termsledger receipt verify receipt.json --site " \
        f"https://{ORIGIN}/" in page
    from termsledger.client import Client

    with Client(world["url"], world["admin"]["Authorization"].split()[1]) as client:
        fetched = client.receipt(receipt["consentReceiptID"], with_salt=True)
    assert fetched.to_dict() == full


def test_the_api_answer_saved_as_it_is_verifies(world):
    """``curl .../v1/receipts/ID > receipt.json``, as the README shows, then verify that file."""
    receipt_id = record(world, "bea-api-answer", ip=IP, user_agent=AGENT)["receipt"]["consentReceiptID"]
    proved(world, receipt_id)
    answer = httpx.get(f"{world['url']}/v1/receipts/{receipt_id}", headers=world["write"])
    path = world["root"] / "answer.json"
    path.write_bytes(answer.content)
    out = termsledger("receipt", "verify", path, "--site", world["site"], cwd=world["root"])
    assert out.endswith("Verified.\n") and "ok    inclusion" in out


def test_every_tampered_field_checkpoint_or_proof_fails(world):
    recorded = record(world, "grace@example.com")
    full = own_copy(recorded, proved(world, recorded["receipt"]["consentReceiptID"]))
    site = world["site"]
    assert verify(full, site)[0] == 0
    changes = {
        "consentReceiptID": "00000000-0000-4000-8000-000000000000", "consentTimestamp": 1,
        "collectionMethod": "email", "language": "fr", "jurisdiction": "FR",
        "piiPrincipalId": "0" * 64, "piiControllers": [{"piiController": "Someone Else Ltd.",
                                                         "contact": "legal@example.com"}],
        "policyUrl": f"https://{ORIGIN}/terms/2025-03-01/", "action": "withdrawn",
        "document": "privacy", "versionId": "2025-03-01", "contentSha256": "1" * 64,
        "manifestSha256": "2" * 64, "eventHash": "3" * 64, "log": "another.example",
        "issued": full["issued"] + 1}
    assert set(changes) | {"version", "signature", "proof", "subjectSalt"} == set(full)
    for name, value in changes.items():
        code, output = verify({**full, name: value}, site)
        assert code == 1 and "NOT verified." in output and "FAIL  " in output, (name, output)
    proof = full["proof"]
    for name, value in (("leafIndex", proof["leafIndex"] + 1),
                        ("inclusion", ["A" * 43 + "="] + proof["inclusion"][1:]),
                        ("checkpoint", proof["checkpoint"].replace("\n", "\n\n", 1))):
        code, output = verify({**full, "proof": {**proof, name: value}}, site)
        assert code == 1 and "FAIL  " in output, (name, output)
    value = full["signature"]["value"]
    signature = {**full["signature"], "value": ("B" if value[0] == "A" else "A") + value[1:]}
    assert "FAIL  signature" in verify({**full, "signature": signature}, site)[1]
    # the checkpoint on the site itself, rewritten: the receipt's no longer matches it
    published = site / "transparency" / "checkpoints" / proof["checkpoint"].split("\n")[1]
    kept = published.read_text()
    try:
        lines = kept.split("\n")
        lines[2] = "A" * 43 + "="
        published.write_text("\n".join(lines))
        code, output = verify(full, site)
        assert code == 1 and "publishes another root hash" in output
    finally:
        published.write_text(kept)
    assert verify(full, site)[0] == 0


def test_a_rotated_key_signs_what_follows_and_old_receipts_still_verify(world):
    before = record(world, "hopper@example.com")
    old = own_copy(before, proved(world, before["receipt"]["consentReceiptID"]))
    out = termsledger("keys", "signing", "rotate", cwd=world["repo"])
    assert out.startswith("Rotated:")
    after = record(world, "lamarr@example.com")  # the server took up the new key at once
    assert after["receipt"]["signature"]["keyId"] != old["signature"]["keyId"]
    new = own_copy(after, proved(world, after["receipt"]["consentReceiptID"]))
    keys = json.loads((world["site"] / "transparency" / "keys.json").read_text())
    assert [k["key_id"] for k in keys["keys"]] == [old["signature"]["keyId"], new["signature"]["keyId"]]
    for receipt in (old, new):
        code, output = verify(receipt, world["site"])
        assert code == 0, output


def test_erasing_the_subject_leaves_the_receipt_verifying_and_nothing_naming_them(world):
    recorded = record(world, "erin@example.com", ip="192.0.2.99", user_agent="Erin's Browser/1.0")
    full = own_copy(recorded, proved(world, recorded["receipt"]["consentReceiptID"]))
    erased = httpx.delete(f"{world['url']}/v1/subjects/erin@example.com", headers=world["admin"])
    assert erased.status_code == 200, erased.text
    path = world["root"] / "erin-receipt.json"
    path.write_text(json.dumps(full))
    time.sleep(1.5)  # the erasure's own event: in the next checkpoint
    termsledger("build", "--content", world["repo"], "--out", world["site"], cwd=world["repo"])
    out = termsledger("receipt", "verify", path, "--site", world["site"], "--subject",
                      "erin@example.com", cwd=world["root"])
    assert out.endswith("Verified.\n")
    url, headers = world["url"], world["admin"]
    after = httpx.get(f"{url}/v1/receipts/{full['consentReceiptID']}?with_salt=true", headers=headers)
    assert "subjectSalt" not in after.json()["receipt"]  # it went with the subject's data
    proofs = [after.text, httpx.get(f"{url}/v1/log/checkpoints", headers=headers).text,
              httpx.get(f"{url}/v1/log/inclusion", params={"leaf_index": full["proof"]["leafIndex"]},
                        headers=headers).text,
              httpx.get(f"{url}/v1/log/consistency", params={"old": 1}, headers=headers).text]
    published = [p.read_bytes().decode("utf-8", "replace") for p in world["site"].rglob("*")
                 if p.is_file()]
    for secret in ("erin@example.com", "erin%40example.com", "192.0.2.99", "Erin's Browser"):
        assert not any(secret in text for text in proofs + published), secret


def test_a_tampered_event_is_caught_by_the_receipt_and_the_next_checkpoint(tmp_path):
    from support.repo import ContentRepo

    repo = ContentRepo(tmp_path / "repo")
    repo.commit("2025-01-10T10:00", **{"privacy.md": PRIVACY, "terms.md": TERMS_V1})
    (repo.path / "termsledger.toml").write_text(CONFIG.format(ledger="../ledger.db"))
    cwd, db, site = repo.path, tmp_path / "ledger.db", tmp_path / "site"
    termsledger("publish", "--content", cwd, "--allow-uncommitted", cwd=cwd)
    termsledger("keys", "signing", "create", cwd=cwd)
    for subject in ("a", "b", "c"):
        termsledger("consent", "record", subject, "privacy", cwd=cwd)
    termsledger("log", "checkpoint", cwd=cwd)
    termsledger("build", "--content", cwd, "--out", site, cwd=cwd)
    archived = tmp_path / "archived.checkpoint"  # what a watcher kept of the published log
    shutil.copy(site / "transparency" / "checkpoint", archived)
    receipt = tmp_path / "b.json"
    receipt.write_text(termsledger("consent", "receipt", "2", cwd=cwd))
    termsledger("receipt", "verify", receipt, "--site", site, cwd=cwd)

    conn = sqlite3.connect(db)  # someone rewrites event 2, then the log to match it
    for trigger in ("events_no_update", "log_tiles_no_delete", "log_runs_no_delete",
                    "log_checkpoints_no_delete"):
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("UPDATE events SET hash = ? WHERE seq = 2", (b"\x42" * 32,))
    conn.commit()
    tampered = tmp_path / "b-again.json"
    tampered.write_text(termsledger("consent", "receipt", "2", cwd=cwd))
    out = termsledger("receipt", "verify", tampered, "--site", site, cwd=cwd, code=1)
    assert "FAIL  signature: does not match the receipt's fields" in out

    hashes = [bytes(h) for (h,) in conn.execute("SELECT hash FROM events ORDER BY seq")]
    conn.execute("DELETE FROM log_tiles")
    Log(TableTiles(conn)).append([leaf_hash(h) for h in hashes])
    conn.commit()
    out = termsledger("log", "checkpoint", cwd=cwd, code=1)
    assert "no longer has the root hash of its checkpoint" in out  # the ledger will not sign it
    conn.execute("DELETE FROM log_checkpoints")  # nor keep what it signed: a new history
    conn.commit()
    conn.close()
    termsledger("consent", "record", "d", "privacy", cwd=cwd)
    termsledger("log", "checkpoint", cwd=cwd)
    termsledger("build", "--content", cwd, "--out", site, cwd=cwd)
    proof = tmp_path / "proof.json"
    proof.write_text(termsledger("log", "consistency", "3", cwd=cwd))
    out = termsledger("log", "verify-consistency", archived, site / "transparency" / "checkpoint",
                      "--proof", proof, "--site", site, cwd=cwd, code=1)
    assert "NOT consistent: the consistency proof does not lead to the old root hash (3 leaves)" in out
    out = termsledger("receipt", "verify", receipt, "--site", site, cwd=cwd, code=1)
    assert "FAIL  checkpoint: the site does not publish the checkpoint of 3 leaves" in out
