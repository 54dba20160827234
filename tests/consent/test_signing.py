"""Signing keys: created private, rotated with every old public key kept for its period."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest

from consent import InvalidNote, SigningKeyError
from consent.note import Checkpoint, sign_checkpoint
from consent.signing import PublicKeys, create_key, load_key, public_keys_path, read_public_keys, rotate_key
from consent.transparency import open_published

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T1 = T0 + timedelta(days=30)


def test_create_writes_a_private_key_and_a_public_record(tmp_path):
    path = tmp_path / "termsledger-signing.key"
    public = create_key(path, name="terms.example.com", at=T0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_keys_path(path) == tmp_path / "termsledger-signing.keys.json"
    record = json.loads(public_keys_path(path).read_text())
    assert record == {"origin": "terms.example.com", "keys": [{
        "key_id": f"{public.key.key_id:08x}", "vkey": str(public.key),
        "not_before": "2026-01-01T00:00:00Z", "not_after": None}]}
    assert "PRIVATE" not in public_keys_path(path).read_text()
    assert load_key(path).verifier == public.key
    with pytest.raises(SigningKeyError, match="already exists; use `termsledger keys signing rotate`"):
        create_key(path, name="terms.example.com")
    with pytest.raises(SigningKeyError, match="the log's name"):
        create_key(tmp_path / "other.key", name="has space")


def test_a_key_others_can_read_is_refused(tmp_path):
    path = tmp_path / "k.key"
    create_key(path, name="terms.example.com", at=T0)
    os.chmod(path, 0o644)
    with pytest.raises(SigningKeyError, match=r"can be read by other users \(mode 644\).*chmod 600"):
        load_key(path)


def test_what_is_not_a_key_file_is_refused_before_its_mode(tmp_path):
    other = tmp_path / "passwd"
    other.write_text("root:x:0:0:root:/root:/bin/bash\n")
    os.chmod(other, 0o644)
    with pytest.raises(SigningKeyError) as refused:
        load_key(other)
    assert str(refused.value) == (f"{other}: not a signing key "
                                  f"(PRIVATE+KEY+<name>+<key ID>+<key>)")
    os.chmod(tmp_path, 0o755)
    with pytest.raises(SigningKeyError) as refused:
        load_key(tmp_path)
    assert str(refused.value) == f"{tmp_path} is not a signing key: it is a directory"
    with pytest.raises(SigningKeyError, match="/dev/null is not a signing key: it is not a regular"):
        load_key("/dev/null")


def test_rotation_keeps_old_keys_verifying_for_their_period(tmp_path):
    path = tmp_path / "k.key"
    first = create_key(path, name="terms.example.com", at=T0)
    old_key = load_key(path)
    before = sign_checkpoint(Checkpoint(origin="terms.example.com", size=1, root_hash=bytes(32)),
                             old_key, T1 - timedelta(hours=1))
    second = rotate_key(path, at=T1)
    assert second.key != first.key and second.not_before == T1
    record = read_public_keys(public_keys_path(path))
    assert [k.key for k in record.keys] == [first.key, second.key]
    assert record.keys[0].not_after == T1 and record.current == record.keys[1]
    assert load_key(path).verifier == second.key
    assert open_published(before, record).key == first.key  # signed within the old key's period
    late = sign_checkpoint(Checkpoint(origin="terms.example.com", size=2, root_hash=bytes(32)),
                           old_key, T1 + timedelta(seconds=1))
    with pytest.raises(InvalidNote, match="outside the validity of key"):
        open_published(late, record)
    (tmp_path / "old.key").write_text(old_key.encode())
    os.chmod(tmp_path / "old.key", 0o600)
    public_keys_path(tmp_path / "old.key").write_bytes(record.to_json())
    with pytest.raises(SigningKeyError, match="is not the current key"):
        load_key(tmp_path / "old.key")
    with pytest.raises(SigningKeyError, match="cannot rotate at"):
        rotate_key(path, at=T0)


def test_rotation_needs_no_old_private_key(tmp_path):
    path = tmp_path / "k.key"
    create_key(path, name="terms.example.com", at=T0)
    path.unlink()  # lost
    new = rotate_key(path, at=T1)
    assert load_key(path).verifier == new.key


@pytest.mark.parametrize("data, message", [
    (b"{", "is not JSON"),
    (b"[" * 100_000, "is not JSON: nested too deeply$"),
    (b'{"origin": ' + b"9" * 5000 + b"}", "is not JSON: a number has more than 4300 digits$"),
    (b'{"origin": "\xff"}', r"is not JSON: not UTF-8 text \(byte 12\)$"),
    (b"[]", "must be an object with 'origin' and a list 'keys'"),
    (b'{"origin": "o", "origin": "p", "keys": []}', "is not valid: duplicate key 'origin'"),
    (b'{"origin": "a b", "keys": []}', "origin 'a b' must be non-empty text"),
    (b'{"origin": "o", "keys": [{"vkey": "x"}]}', "key 1 must have exactly"),
    (b'{"origin": "o", "keys": [{"key_id": "0", "vkey": "x", "not_before": "", "not_after": null}]}',
     "key 1: verifier key"),
])
def test_malformed_public_key_records_are_refused(data, message):
    with pytest.raises(SigningKeyError, match=message):
        PublicKeys.parse(data)


def test_record_times_and_current_keys_are_checked(tmp_path):
    path = tmp_path / "k.key"
    create_key(path, name="terms.example.com", at=T0)
    rotate_key(path, at=T1)
    record = json.loads(public_keys_path(path).read_text())
    for change, message in ((lambda r: r["keys"][0].update(not_after=None), "more than one current key"),
                            (lambda r: r["keys"][0].update(not_before="2026-13-01T00:00:00Z"),
                             "not a UTC time"),
                            (lambda r: r["keys"][0].update(not_before="2027-01-01T00:00:00Z"),
                             "not_after is before not_before"),
                            (lambda r: r.update(origin="another.example"), "does not match")):
        changed = json.loads(json.dumps(record))
        change(changed)
        with pytest.raises(SigningKeyError, match=message):
            PublicKeys.parse(json.dumps(changed).encode())


def test_missing_files_are_reported(tmp_path):
    with pytest.raises(SigningKeyError,
                       match="cannot read the signing key .*termsledger keys signing create"):
        load_key(tmp_path / "none.key")
    with pytest.raises(SigningKeyError, match="cannot read the public keys record"):
        rotate_key(tmp_path / "none.key")
    (tmp_path / "bad.key").write_text("not a key")
    os.chmod(tmp_path / "bad.key", 0o600)
    with pytest.raises(SigningKeyError, match="not a signing key"):
        load_key(tmp_path / "bad.key")
