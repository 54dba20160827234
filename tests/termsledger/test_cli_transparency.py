"""`termsledger receipt verify`, `termsledger log verify-consistency` and `termsledger keys
signing`, through click's runner and, for `receipt verify`, a real process."""

from __future__ import annotations

import functools
import http.server
import json
import os
import stat
import subprocess
import sys
import threading
from dataclasses import replace

import pytest
from click.testing import CliRunner
from support.transparency import ORIGIN, World

from consent import receipts
from consent.signing import public_keys_path, read_public_keys
from consent.transparency import ConsistencyProof
from termsledger.cli import cli
from termsledger.config import SIGNING_KEY_ENV, read_config


@pytest.fixture
def world(tmp_path, built) -> World:
    world = World(tmp_path, built)
    world.record(4)
    world.checkpoint()
    world.publish()
    return world


def invoke(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, **kwargs)


def test_receipt_verify_prints_each_check(world, tmp_path):
    path = tmp_path / "receipt.json"
    path.write_text(world.receipt(2).to_json())
    result = invoke("receipt", "verify", path, "--site", world.site, "--subject", "user-42")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith(f"accepted terms version 2026-01-01, checked against {world.site}")
    assert [line.split(":")[0] for line in lines[1:-1]] == [
        "  ok    keys", "  ok    signature", "  ok    checkpoint", "  ok    checkpoint",
        "  ok    inclusion", "  ok    version", "  ok    subject"]
    assert lines[-1] == "Verified."
    as_json = invoke("receipt", "verify", path, "--site", world.site, "--format", "json")
    assert json.loads(as_json.output)["ok"] is True and as_json.exit_code == 0


def test_receipt_verify_fails_with_the_reason(world, tmp_path):
    data = json.loads(world.receipt(2).to_json())
    data["contentSha256"] = "0" * 64
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(data))
    result = invoke("receipt", "verify", path, "--site", world.site)
    assert result.exit_code == 1
    assert "  FAIL  signature: does not match the receipt's fields" in result.output
    assert result.output.endswith("NOT verified.\n")
    path.write_text("{}")
    result = invoke("receipt", "verify", path, "--site", world.site)
    assert result.exit_code == 1 and result.output.startswith(f"Error: {path}: the receipt lacks fields: ")
    result = invoke("receipt", "verify", tmp_path / "none.json", "--site", world.site)
    assert result.exit_code == 1 and "Error: cannot read the receipt" in result.output
    path.write_text(world.receipt(2).to_json())
    result = invoke("receipt", "verify", path, "--site", tmp_path / "no-site")
    assert result.exit_code == 1 and "no such site folder" in result.output


def test_receipt_verify_takes_the_site_from_the_verifier_never_from_the_receipt(world, tmp_path,
                                                                                  built):
    """A forger signs a receipt with a key of their own, named as the log's, and points its
    policyUrl to a site that publishes that key: checked against the site the receipt named,
    it was 'Verified.' (exit 0)."""
    forger = World(tmp_path / "forger", built)
    forger.record(4)
    forger.checkpoint()
    forger.publish()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(forger.site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        theirs = forger.receipt(2)
        url = f"http://127.0.0.1:{server.server_address[1]}/terms/2026-01-01/"
        forged = replace(receipts.sign_receipt(replace(theirs.receipt, url=url), forger.key),
                         proof=theirs.proof)
        path = tmp_path / "forged.json"
        path.write_text(forged.to_json())
        result = invoke("receipt", "verify", path)
        assert result.exit_code == 1 and "Verified." not in result.output
        assert result.output == (
            "Error: give the terms site you trust with --site FOLDER-OR-URL: a receipt cannot vouch "
            f"for the site that publishes its keys. This one points to "
            f"'http://127.0.0.1:{server.server_address[1]}/' (its policyUrl): pass it if you know "
            "it is the company's own site\n")
        server.shutdown()
    result = invoke("receipt", "verify", path, "--site", world.site)  # the company's own site
    assert result.exit_code == 1 and "does not publish\nNOT verified." in result.output, result.output


def test_a_receipts_text_cannot_draw_lines_of_its_own(world, tmp_path):
    """An id holding line breaks printed a fake 'ok ... Verified.' above the real checks."""
    data = json.loads(world.receipt(2).to_json())
    data["consentReceiptID"] = "x\n  ok    all good\nVerified.\x1b[32m"
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(data))
    result = invoke("receipt", "verify", path, "--site", world.site)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("Receipt x\\n  ok    all good\\nVerified.\\x1b[32m: accepted terms")
    assert [line.split()[0] for line in lines[1:]] == ["ok", "FAIL", "NOT"]


def test_receipt_verify_reads_only_regular_files(world, tmp_path):
    """A FIFO made it wait for a writer for ever, as a receipt or as a file of the site."""
    fifo = tmp_path / "receipt.json"
    os.mkfifo(fifo)
    result = invoke("receipt", "verify", fifo, "--site", world.site)
    assert result.exit_code == 1
    assert result.output == f"Error: cannot read the receipt {fifo}: not a regular file\n"
    path = tmp_path / "real.json"
    path.write_text(world.receipt(2).to_json())
    (world.site / "transparency" / "keys.json").unlink()
    os.mkfifo(world.site / "transparency" / "keys.json")
    result = invoke("receipt", "verify", path, "--site", world.site)
    assert result.exit_code == 1
    assert f"FAIL  keys: cannot read {world.site / 'transparency' / 'keys.json'}: not a regular file" \
        in result.output


def test_a_subject_that_is_not_utf_8_is_refused(world, tmp_path):
    """Bytes that are not UTF-8 on the command line reach Python as lone surrogates:
    UnicodeEncodeError, a traceback."""
    path = tmp_path / "receipt.json"
    path.write_text(world.receipt(2).to_json())
    result = invoke("receipt", "verify", path, "--site", world.site, "--subject", "user\udcff")
    assert result.exit_code == 2 and "Invalid value for '--subject': not valid UTF-8 text" in result.output


def test_receipt_verify_runs_as_a_real_process(world, tmp_path):
    path = tmp_path / "receipt.json"
    path.write_text(world.receipt(3).to_json())
    command = [sys.executable, "-c", "from termsledger.cli import cli; cli()", "receipt", "verify",
               str(path), "--site", str(world.site)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("Verified.\n") and "inclusion: event" in done.stdout
    data = json.loads(path.read_text())
    data["eventHash"] = data["eventHash"][::-1]
    path.write_text(json.dumps(data))
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "FAIL  signature" in done.stdout and not done.stderr


def test_log_verify_consistency(world, tmp_path):
    old = tmp_path / "old.checkpoint"
    old.write_text(world.checkpoints[-1])
    world.record(100)
    new = tmp_path / "new.checkpoint"
    new.write_text(world.checkpoint())
    world.publish()
    proof = tmp_path / "proof.json"
    hashes = tuple(world.log.consistency_proof(4))
    proof.write_text(ConsistencyProof(old_size=4, new_size=104, hashes=hashes).to_json())
    result = invoke("log", "verify-consistency", old, new, "--proof", proof, "--site", world.site)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Consistent: the log {ORIGIN} of 104 leaves")
    keys = tmp_path / "keys.json"
    keys.write_bytes(world.public_keys.to_json())
    assert invoke("log", "verify-consistency", old, new, "--proof", proof, "--keys", keys).exit_code == 0
    result = invoke("log", "verify-consistency", new, old, "--proof", proof, "--keys", keys)
    assert result.exit_code == 1
    assert "Error: NOT consistent: the proof is from 4 to 104 leaves" in result.output
    proof.write_text(ConsistencyProof(old_size=4, new_size=104, hashes=(bytes(32),) * len(hashes)).to_json())
    result = invoke("log", "verify-consistency", old, new, "--proof", proof, "--keys", keys)
    assert result.exit_code == 1 and "NOT consistent" in result.output
    result = invoke("log", "verify-consistency", old, new, "--proof", proof)
    assert result.exit_code == 1 and "either --site or --keys" in result.output


def test_keys_signing_create_rotate_list(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    (tmp_path / "termsledger.toml").write_text('[site]\nbase_url = "https://terms.example.com/legal/"\n')
    result = invoke("keys", "signing", "create")
    assert result.exit_code == 0, result.output
    key = tmp_path / "termsledger-signing.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "of the log terms.example.com/legal" in result.output
    assert "PRIVATE" not in result.output
    result = invoke("keys", "signing", "create")
    assert result.exit_code == 1 and "already exists" in result.output
    result = invoke("keys", "signing", "rotate")
    assert result.exit_code == 0 and result.output.startswith(f"Rotated: {key.name} now holds key ")
    listed = invoke("keys", "signing", "list")
    assert listed.output.count("terms.example.com/legal+") == 2 and "now (current)" in listed.output
    as_json = json.loads(invoke("keys", "signing", "list", "--format", "json").output)
    assert as_json == json.loads(public_keys_path(key).read_text())
    assert len(read_public_keys(public_keys_path(key)).keys) == 2


def test_the_key_file_comes_from_the_option_the_environment_or_the_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "termsledger.toml").write_text('[receipts]\nsigning_key = "secrets/log.key"\n')
    (tmp_path / "secrets").mkdir()
    assert read_config(tmp_path / "termsledger.toml").signing_key == tmp_path / "secrets" / "log.key"
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    assert invoke("keys", "signing", "create", "--name", ORIGIN).exit_code == 0
    assert (tmp_path / "secrets" / "log.key").is_file()
    monkeypatch.setenv(SIGNING_KEY_ENV, str(tmp_path / "env.key"))
    assert invoke("keys", "signing", "create", "--name", ORIGIN).exit_code == 0
    assert (tmp_path / "env.key").is_file()
    assert invoke("keys", "signing", "create", "--name", ORIGIN, "--key", tmp_path / "opt.key").exit_code == 0
    assert (tmp_path / "opt.key").is_file()


def test_signing_key_errors_are_clear(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    result = invoke("keys", "signing", "create")
    assert result.exit_code == 1 and "give the log a name with --name" in result.output
    result = invoke("keys", "signing", "rotate")
    assert result.exit_code == 1 and "cannot read the public keys record" in result.output
    result = invoke("keys", "signing", "list")
    assert result.exit_code == 1 and "Error: cannot read the public keys record" in result.output
    (tmp_path / "termsledger.toml").write_text('[receipts]\nsigning = "x"\n')
    result = invoke("keys", "signing", "list")
    assert result.exit_code == 1
    assert "unknown key [receipts] 'signing'; known keys: signing_key" in result.output


def test_default_signing_key_is_beside_the_configuration(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "termsledger.toml").write_text("")
    config = read_config(tmp_path / "conf" / "termsledger.toml")
    assert config.signing_key == tmp_path / "conf" / "termsledger-signing.key"


@pytest.mark.parametrize("command", [["receipt", "verify"], ["log", "verify-consistency"],
                                     ["keys", "signing", "create"], ["keys", "signing", "rotate"],
                                     ["keys", "signing", "list"]])
def test_commands_have_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output


@pytest.fixture
def configured(tmp_path, monkeypatch):
    """A folder with a termsledger.toml, a published ledger and a signing key, as the cwd."""
    from support.ledger import content, version

    from consent import Ledger

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    (tmp_path / "termsledger.toml").write_text(
        '[site]\nbase_url = "https://terms.example.com/"\norganisation = "Quillbridge"\n')
    with Ledger(tmp_path / "termsledger.db", create=True) as ledger:
        ledger.publish(content(version("privacy", "2025-01-01")))
    assert invoke("keys", "signing", "create").exit_code == 0
    return tmp_path


def test_log_commands_sequence_sign_list_and_prove(configured):
    for subject in ("a", "b", "c"):
        assert invoke("consent", "record", subject, "privacy").exit_code == 0
    assert invoke("log", "sequence").output == "Sequenced 3 events; the log has 3 leaves.\n"
    assert invoke("log", "sequence").output == "Sequenced 0 events; the log has 3 leaves.\n"
    signed = invoke("log", "checkpoint")
    assert signed.output.startswith("Signed a checkpoint of 3 leaves at ")
    assert "\nterms.example.com\n3\n" in signed.output
    again = invoke("log", "checkpoint")
    assert again.output.startswith("The log has not grown since its checkpoint of 3 leaves")
    assert invoke("consent", "record", "d", "privacy").exit_code == 0
    made = json.loads(invoke("log", "checkpoint", "--format", "json").output)
    assert made["size"] == 4 and made["published"] is None
    listed = invoke("log", "checkpoints").output.splitlines()
    assert listed[0] == "The log has 4 leaves; 2 signed checkpoints:" and "not published" in listed[1]
    assert [c["size"] for c in json.loads(invoke("log", "checkpoints", "--format", "json").output)[
        "checkpoints"]] == [3, 4]
    proof = json.loads(invoke("log", "inclusion", "2", "--size", "4").output)
    assert (proof["leaf_index"], proof["size"]) == (1, 4)
    result = invoke("log", "inclusion", "2")
    assert result.exit_code == 1 and "leaf 1 is in no published checkpoint yet" in result.output
    result = invoke("log", "inclusion", "99")
    assert result.exit_code == 1 and "event 99 is not in the log" in result.output
    consistency = ConsistencyProof.parse(invoke("log", "consistency", "3", "4").output)
    assert (consistency.old_size, consistency.new_size) == (3, 4)
    receipt = json.loads(invoke("consent", "receipt", "2", "--size", "4").output)
    assert receipt["proof"]["leafIndex"] == 1 and "subjectSalt" not in receipt
    assert "subjectSalt" in json.loads(invoke("consent", "receipt", "2", "--with-salt").output)


def test_build_publishes_the_log_and_says_so(configured, tmp_path):
    import shutil

    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "privacy.md").write_text("---\ntitle: Privacy\nslug: privacy\neffective: 2025-01-01\n---\n"
                                       "# privacy\n\nText of privacy.\n\n<!-- 2025-01-01 -->\n")
    assert invoke("consent", "record", "a", "privacy").exit_code == 0
    built = invoke("build", "--content", folder, "--out", tmp_path / "site")
    assert "No transparency log to publish: the ledger has no signed checkpoint yet (1 event; " \
           "`termsledger log checkpoint` signs one)." in built.output
    assert not (tmp_path / "site" / "transparency").exists()
    invoke("log", "checkpoint")
    assert invoke("consent", "record", "b", "privacy").exit_code == 0
    built = invoke("build", "--content", folder, "--out", tmp_path / "site")
    assert built.exit_code == 0, built.output
    assert ("Published the transparency log: 1 checkpoint (the latest of 1 event) and 1 public "
            "key; 1 event in no checkpoint yet") in built.output
    files = sorted(p.relative_to(tmp_path / "site").as_posix()
                   for p in (tmp_path / "site" / "transparency").rglob("*") if p.is_file())
    assert files == ["transparency/checkpoint", "transparency/checkpoints.json",
                     "transparency/checkpoints/1", "transparency/index.html", "transparency/keys.json"]
    assert "Proof of consent" in (tmp_path / "site" / "index.html").read_text()  # the footer's link
    assert json.loads(invoke("log", "checkpoints", "--format", "json").output)[
        "checkpoints"][0]["published"] is not None
    again = invoke("build", "--content", folder, "--out", tmp_path / "site")
    assert "0 files written" in again.output  # deterministic and incremental
    shutil.move("termsledger-signing.keys.json", "elsewhere.json")
    failed = invoke("build", "--content", folder, "--out", tmp_path / "site")
    assert failed.exit_code == 1 and "the transparency log cannot be published: cannot read the " \
        "public keys record" in failed.output


def test_build_without_receipts_says_nothing_of_the_log_unless_a_key_is_named(configured, tmp_path):
    """A site that never set up receipts expects no transparency log: no line on every build.
    A key named but missing (here in termsledger.toml) is told."""
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "privacy.md").write_text("---\ntitle: Privacy\nslug: privacy\neffective: 2025-01-01\n---\n"
                                       "# privacy\n\nText of privacy.\n\n<!-- 2025-01-01 -->\n")
    os.remove("termsledger-signing.key")
    assert invoke("consent", "record", "a", "privacy").exit_code == 0
    built = invoke("build", "--content", folder, "--out", tmp_path / "site")
    assert built.exit_code == 0, built.output
    assert "transparency" not in built.output
    with open("termsledger.toml", "a") as toml:
        toml.write('[receipts]\nsigning_key = "keys/signing.key"\n')
    built = invoke("build", "--content", folder, "--out", tmp_path / "site")
    key = os.path.join("keys", "signing.key")
    assert (f"No transparency log to publish: there is no signing key at {key} (`termsledger keys signing "
            "create` makes one).") in built.output

def test_serve_says_whether_receipts_are_on_and_refuses_a_key_it_cannot_use(tmp_path, monkeypatch):
    from termsledger.cli_transparency import receipt_settings
    from termsledger.config import find_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    settings, line = receipt_settings(find_config(None), None)
    assert settings is None and line.startswith("Receipts are off: there is no signing key at "
                                                "termsledger-signing.key")
    from click import ClickException

    with pytest.raises(ClickException, match="cannot read the signing key missing.key"):
        receipt_settings(find_config(None), "missing.key")
    monkeypatch.setenv(SIGNING_KEY_ENV, str(tmp_path / "env.key"))
    with pytest.raises(ClickException, match="env.key"):
        receipt_settings(find_config(None), None)
    monkeypatch.delenv(SIGNING_KEY_ENV)
    assert invoke("keys", "signing", "create", "--name", ORIGIN).exit_code == 0
    settings, line = receipt_settings(find_config(None), None)
    assert settings is not None and line.startswith("Receipts are signed with key ")
    (tmp_path / "termsledger-signing.key").chmod(0o644)
    with pytest.raises(ClickException, match="can be read by other users"):
        receipt_settings(find_config(None), None)


@pytest.mark.parametrize("command", [["log", "sequence"], ["log", "checkpoint"],
                                     ["log", "checkpoints"], ["log", "inclusion"],
                                     ["log", "consistency"], ["consent", "receipt"]])
def test_the_new_commands_have_help(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output
