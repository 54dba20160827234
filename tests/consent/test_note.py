"""Signed notes and checkpoints (C2SP signed-note, tlog-checkpoint, tlog-cosignature)."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from consent import InvalidNote
from consent.note import Checkpoint, Note, SigningKey, VerifierKey, key_id, open_checkpoint, sign_checkpoint

WHEN = datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc)
ORIGIN = "terms.example.com"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate(ORIGIN)


def checkpoint(size=42, root=b"\x07" * 32, origin=ORIGIN) -> Checkpoint:
    return Checkpoint(origin=origin, size=size, root_hash=root)


def test_go_signed_note_example_parses_and_its_key_id_and_signature_check_out():
    # The example of golang.org/x/mod/sumdb/note: a note signed with a plain Ed25519 key (0x01).
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    text = ("If you think cryptography is the answer to your problem,\n"
            "then you don't know what your problem is.\n")
    signature = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
    signed = text + f"\n\u2014 PeterNeumann {signature}\n"
    note = Note.parse(signed.encode())
    assert note.text == text and note.encode() == signed
    (signature,) = note.signatures
    public = base64.b64decode(vkey.split("+")[2])
    assert public[0] == 1 and signature.name == "PeterNeumann"
    assert signature.key_id == key_id("PeterNeumann", public[1:], signature_type=1) == 0xc74f20a3
    Ed25519PublicKey.from_public_bytes(public[1:]).verify(signature.signature, text.encode())
    with pytest.raises(InvalidNote, match="not a timestamped Ed25519 key"):
        VerifierKey.parse(vkey)


def test_checkpoint_round_trip_carries_its_time_in_a_timestamped_signature(key):
    note = sign_checkpoint(checkpoint(), key, WHEN)
    lines = note.split("\n")
    assert lines[:4] == [ORIGIN, "42", base64.b64encode(b"\x07" * 32).decode(), ""]
    assert lines[4].startswith(f"\u2014 {ORIGIN} ") and lines[5:] == [""]
    raw = base64.b64decode(lines[4].split(" ")[2])
    assert len(raw) == 4 + 8 + 64 and int.from_bytes(raw[4:12], "big") == int(WHEN.timestamp())
    opened = open_checkpoint(note, [key.verifier], origin=ORIGIN)
    assert opened.checkpoint == checkpoint() and opened.time == WHEN and opened.key == key.verifier
    # the message signed is cosignature/v1's: header, time line, then the note text
    message = b"cosignature/v1\ntime %d\n" % int(WHEN.timestamp()) + Note.parse(note).text.encode()
    Ed25519PublicKey.from_public_bytes(key.verifier.public_key).verify(raw[12:], message)


def test_verifier_and_signing_keys_round_trip(key):
    vkey = str(key.verifier)
    name, hex_id, data = vkey.split("+", 2)
    assert name == ORIGIN and int(hex_id, 16) == key.verifier.key_id
    assert base64.b64decode(data)[0] == 0x04
    assert VerifierKey.parse(vkey) == key.verifier
    assert SigningKey.parse(key.encode()).verifier == key.verifier
    assert key.encode().startswith(f"PRIVATE+KEY+{ORIGIN}+{hex_id}+")
    with pytest.raises(InvalidNote, match="does not match the key"):
        VerifierKey.parse(f"{name}+{(key.verifier.key_id ^ 1):08x}+{data}")
    with pytest.raises(InvalidNote, match="is not <name>"):
        VerifierKey.parse("no-plus-signs")
    with pytest.raises(InvalidNote, match="8 hex digits"):
        VerifierKey.parse(f"{name}+XYZ+{data}")
    assert "PRIVATE" not in repr(key)


def test_tampered_checkpoints_are_refused(key):
    note = sign_checkpoint(checkpoint(), key, WHEN)
    text, signature = note.split("\n\n")
    for changed in (text.replace("42", "43"), text.replace(ORIGIN, "terms.example.org"),
                    text.replace("BwcH", "BwcI", 1), text + "\nextension"):
        with pytest.raises(InvalidNote):
            open_checkpoint(changed + "\n\n" + signature, [key.verifier])
    raw = bytearray(base64.b64decode(signature.split(" ")[2]))
    for position in (5, 11, 20, len(raw) - 1):  # the timestamp, then the signature
        flipped = bytearray(raw)
        flipped[position] ^= 1
        bad = f"{text}\n\n\u2014 {ORIGIN} {base64.b64encode(flipped).decode()}\n"
        with pytest.raises(InvalidNote, match="does not verify"):
            open_checkpoint(bad, [key.verifier])


def test_keys_and_origins_are_checked(key):
    other = SigningKey.generate(ORIGIN)
    note = sign_checkpoint(checkpoint(), key, WHEN)
    with pytest.raises(InvalidNote, match="not signed by any of the known keys"):
        open_checkpoint(note, [other.verifier])
    stranger = SigningKey.generate("another.example")
    foreign = sign_checkpoint(checkpoint(origin="another.example"), stranger, WHEN)
    with pytest.raises(InvalidNote, match="is from the log 'another.example', not 'terms.example.com'"):
        open_checkpoint(foreign, [key.verifier, stranger.verifier], origin=ORIGIN)
    with pytest.raises(InvalidNote, match="origin"):
        sign_checkpoint(checkpoint(origin="another.example"), key, WHEN)
    # signatures by unknown keys are ignored; a known key's bad signature rejects the note
    cosigned = note + sign_checkpoint(checkpoint(), other, WHEN).split("\n\n")[1]
    assert open_checkpoint(cosigned, [key.verifier]).key == key.verifier
    forged = note + sign_checkpoint(checkpoint(size=43), other, WHEN).split("\n\n")[1]
    with pytest.raises(InvalidNote, match="does not verify"):
        open_checkpoint(forged, [key.verifier, other.verifier])


def test_a_signed_time_after_the_year_9999_is_refused(key):
    """The signature verified, then reading its time raised ValueError (OSError past 2^62)."""
    text = checkpoint().text()
    for seconds in (253402300800, 2 ** 62):
        signature = seconds.to_bytes(8, "big") + key.sign(b"cosignature/v1\ntime %d\n%s"
                                                          % (seconds, text.encode()))
        line = base64.b64encode(key.verifier.key_id.to_bytes(4, "big") + signature).decode()
        note = f"{text}\n\u2014 {ORIGIN} {line}\n"
        with pytest.raises(InvalidNote, match=f"the signed time {seconds} is after the year 9999"):
            open_checkpoint(note, [key.verifier])


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe", "not UTF-8"),
    ("a\r\nb\n\n\u2014 k AAAAAAA=\n", "carriage return"),
    ("a\tb\n\n\u2014 k AAAAAAA=\n", "control character 0x09"),
    ("terms.example.com\n1\nAAAA\n", "no signature lines"),
    ("text\n\n- k AAAAAAA=\n", "signature line 1 is not"),
    ("text\n\n\u2014 k+x AAAAAAA=\n", "key name 'k\\+x'"),
    ("text\n\n\u2014 k !!!!\n", "signature line 1 is not valid base64"),
    ("text\n\n\u2014 k AAAA\n", "too short"),
    ("text\n\n" + "\u2014 k AAAAAAA=\n" * 101, "more than 100 signatures"),
    ("x" * 70000 + "\n\n\u2014 k AAAAAAA=\n", "larger than"),
    ("o\ud800\n\n\u2014 k AAAAAAA=\n", "not valid text \\(a lone surrogate\\)"),
])
def test_malformed_notes_are_refused_with_the_reason(data, message):
    with pytest.raises(InvalidNote, match=message):
        Note.parse(data)


@pytest.mark.parametrize("text, message", [
    ("terms.example.com\n42\n", "three lines"),
    ("\n42\nAAAA\n", "origin"),
    ("o\n042\n" + base64.b64encode(bytes(32)).decode() + "\n", "tree size"),
    ("o\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n", "tree size"),
    ("o\n1\n" + base64.b64encode(bytes(31)).decode() + "\n", "31 bytes, not 32"),
    ("o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\nx\n", "empty extension line"),
])
def test_malformed_checkpoints_are_refused_with_the_reason(text, message):
    with pytest.raises(InvalidNote, match=message):
        Checkpoint.parse(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300),
                 st.builds(lambda a, b: a + "\n\n\u2014 " + b, st.text(max_size=80), st.text(max_size=120))))
def test_hostile_notes_raise_invalid_note_or_parse(data):
    key = SigningKey.generate(ORIGIN)
    try:
        open_checkpoint(data, [key.verifier])
    except InvalidNote:
        return
    pytest.fail("an unsigned note was accepted")
