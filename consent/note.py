"""Signed notes and checkpoints: the C2SP ``signed-note`` and ``tlog-checkpoint`` formats.

A checkpoint commits to the log's tree at a size::

    terms.example.com/log                       origin: the log's name
    1024                                        tree size
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I= root hash, base64

    — terms.example.com/log <base64(key ID || timestamp || Ed25519 signature)>

The log signs with *timestamped Ed25519* signatures (signature type ``0x04``, c2sp.org/
tlog-cosignature v1): the signed message is ``cosignature/v1\\ntime <seconds>\\n`` followed by
the note text, and the 8-byte big-endian timestamp precedes the signature. That is how a
checkpoint carries its time: signed, yet outside the note text, as tlog-checkpoint advises
(it recommends no extension lines and logs signing with cosignatures). Key IDs are
``SHA-256(name || 0x0A || 0x04 || public key)[:4]``; verifier keys are written
``<name>+<key ID, hex>+<base64(0x04 || public key)>``.

Parsing is strict (notes are hostile input): any malformation raises :class:`InvalidNote`
saying what and where. Following signed-note, signatures by unknown keys are ignored, a
known key's bad signature rejects the note, and a note with no verified signature is rejected.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import InvalidNote
from .jsonobjects import LONE_SURROGATE
from .merkle import HASH_SIZE

SIGNATURE_TYPE = 0x04
"""Timestamped Ed25519 (c2sp.org/tlog-cosignature v1), the only type termsledger signs with."""
MAX_NOTE_BYTES = 64 * 1024
MAX_SIGNATURES = 100
_DASH = "\u2014 "
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
_HEX8 = re.compile(r"[0-9a-f]{8}")
_MAX_U63 = 2 ** 63 - 1


def check_name(name: str, what: str = "key name") -> str:
    """``name`` if it is a valid key name (non-empty, no spaces, no ``+``), else :class:`InvalidNote`."""
    if not isinstance(name, str) or not name or "+" in name or any(c.isspace() for c in name) \
            or any(ord(c) < 0x20 for c in name):
        raise InvalidNote(f"{what} {name!r} must be non-empty text without spaces or '+'")
    return name


def key_id(name: str, public_key: bytes, signature_type: int = SIGNATURE_TYPE) -> int:
    """The signed-note key ID ``SHA-256(name || 0x0A || signature type || public key)[:4]``."""
    digest = sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidNote(f"{what} is not valid base64: {text[:80]!r}") from None


def _time(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (ValueError, OverflowError, OSError):  # after the year 9999
        raise InvalidNote(f"the signed time {seconds} is after the year 9999") from None


def seconds_of(time: datetime) -> int:
    """Whole seconds since the epoch of ``time`` (UTC when naive)."""
    if time.tzinfo is None:
        time = time.replace(tzinfo=timezone.utc)
    return int(time.timestamp())


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifierKey:
    """A log's public key, as signed-note verifiers know it."""

    name: str
    public_key: bytes
    """The 32-byte Ed25519 public key."""

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    def __str__(self) -> str:
        data = base64.b64encode(bytes([SIGNATURE_TYPE]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{data}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read ``<name>+<hex key ID>+<base64(type || public key)>``."""
        parts = text.split("+", 2) if isinstance(text, str) else []
        if len(parts) != 3:
            raise InvalidNote(f"verifier key {str(text)[:80]!r} is not <name>+<key ID>+<key>")
        name, hex_id, data = parts
        check_name(name, "the verifier key's name")
        if not _HEX8.fullmatch(hex_id):
            raise InvalidNote(f"verifier key {name}: key ID {hex_id!r} is not 8 hex digits")
        raw = _b64(data, f"verifier key {name}")
        if len(raw) != 33 or raw[0] != SIGNATURE_TYPE:
            raise InvalidNote(f"verifier key {name}: not a timestamped Ed25519 key (type 0x04 "
                              "and 32 bytes)")
        key = cls(name=name, public_key=raw[1:])
        if key.key_id != int(hex_id, 16):
            raise InvalidNote(f"verifier key {name}: key ID {hex_id} does not match the key")
        return key

    def verify(self, text: str, signature: bytes) -> datetime | None:
        """The time of ``signature`` (timestamp || Ed25519 signature) over note ``text`` when
        it verifies, else ``None``."""
        if len(signature) != 72:
            return None
        (seconds,) = struct.unpack(">Q", signature[:8])
        if seconds > _MAX_U63:
            return None
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                signature[8:], _cosigned(text, seconds))
        except InvalidSignature:
            return None
        return _time(seconds)


def _cosigned(text: str, seconds: int) -> bytes:
    return b"cosignature/v1\ntime %d\n%s" % (seconds, text.encode("utf-8"))


@dataclass(frozen=True, kw_only=True, slots=True)
class SigningKey:
    """A log's private key and name. Written ``PRIVATE+KEY+<name>+<key ID>+<base64(0x04 ||
    seed)>`` (the layout of Go's signed-note signer keys)."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        return cls(name=check_name(name), private_key=Ed25519PrivateKey.generate())

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(name=self.name, public_key=self.private_key.public_key().public_bytes_raw())

    def sign(self, message: bytes) -> bytes:
        """A plain Ed25519 signature of ``message``."""
        return self.private_key.sign(message)

    def encode(self) -> str:
        seed = base64.b64encode(bytes([SIGNATURE_TYPE]) + self.private_key.private_bytes_raw()).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{seed}"

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise InvalidNote("not a signing key (PRIVATE+KEY+<name>+<key ID>+<key>)")
        name, hex_id, data = parts[2:]
        check_name(name)
        raw = _b64(data, f"signing key {name}")
        if len(raw) != 33 or raw[0] != SIGNATURE_TYPE or not _HEX8.fullmatch(hex_id):
            raise InvalidNote(f"signing key {name}: not a timestamped Ed25519 key")
        key = cls(name=name, private_key=Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if key.verifier.key_id != int(hex_id, 16):
            raise InvalidNote(f"signing key {name}: key ID {hex_id} does not match the key")
        return key


@dataclass(frozen=True, kw_only=True, slots=True)
class NoteSignature:
    """One signature line of a note."""

    name: str
    key_id: int
    signature: bytes
    """The bytes after the key ID."""

    def line(self) -> str:
        data = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode()
        return f"{_DASH}{self.name} {data}\n"


@dataclass(frozen=True, kw_only=True, slots=True)
class Note:
    """A signed note: text (ending in a newline) and its signatures."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    @classmethod
    def parse(cls, data: str | bytes) -> Note:
        """Read a signed note strictly."""
        if isinstance(data, bytes):
            if len(data) > MAX_NOTE_BYTES:
                raise InvalidNote(f"the note is larger than {MAX_NOTE_BYTES} bytes")
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InvalidNote(f"the note is not UTF-8 text (byte {error.start})") from None
        if LONE_SURROGATE.search(data):  # a JSON escape such as \ud800: no UTF-8 text holds it
            raise InvalidNote("the note is not valid text (a lone surrogate)")
        if len(data.encode("utf-8")) > MAX_NOTE_BYTES:
            raise InvalidNote(f"the note is larger than {MAX_NOTE_BYTES} bytes")
        for i, c in enumerate(data):
            if ord(c) < 0x20 and c != "\n":
                what = ("a carriage return (Windows line ends?)" if c == "\r"
                        else f"control character {ord(c):#04x}")
                raise InvalidNote(f"the note contains {what} at character {i + 1}")
        split = data.rfind("\n\n")
        if split < 0 or not data.endswith("\n"):
            raise InvalidNote("the note has no signature lines (a blank line, then lines "
                              "'\u2014 <name> <signature>')")
        text, lines = data[:split + 1], data[split + 2:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise InvalidNote(f"the note has more than {MAX_SIGNATURES} signatures")
        signatures = []
        for number, line in enumerate(lines, 1):
            if not line.startswith(_DASH) or line.count(" ") != 2:
                raise InvalidNote(f"signature line {number} is not '\u2014 <name> <signature>': "
                                  f"{line[:80]!r}")
            name, data64 = line[len(_DASH):].split(" ")
            check_name(name, f"signature line {number}: key name")
            raw = _b64(data64, f"signature line {number}")
            if len(raw) < 5:
                raise InvalidNote(f"signature line {number} is too short to hold a key ID and a signature")
            signatures.append(NoteSignature(name=name, key_id=int.from_bytes(raw[:4], "big"),
                                            signature=raw[4:]))
        return cls(text=text, signatures=tuple(signatures))


@dataclass(frozen=True, kw_only=True, slots=True)
class Checkpoint:
    """The note text of a tlog-checkpoint: the log's tree at a size."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()
    """Extension lines (opaque; termsledger writes none)."""

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint's note text strictly."""
        lines = text[:-1].split("\n") if text.endswith("\n") else []
        if len(lines) < 3:
            raise InvalidNote("the checkpoint does not have its three lines: origin, tree size, root hash")
        origin, size, root, *extensions = lines
        if not origin or origin != origin.strip():
            raise InvalidNote(f"checkpoint line 1 (origin) is empty or has surrounding spaces: {origin!r}")
        if not _SIZE.fullmatch(size) or int(size) > _MAX_U63:
            raise InvalidNote(f"checkpoint line 2 (tree size) is not a whole number: {size[:40]!r}")
        root_hash = _b64(root, "checkpoint line 3 (root hash)")
        if len(root_hash) != HASH_SIZE:
            raise InvalidNote(f"checkpoint line 3 (root hash) is {len(root_hash)} bytes, not {HASH_SIZE}")
        if any(not line for line in extensions):
            raise InvalidNote("the checkpoint has an empty extension line")
        return cls(origin=origin, size=int(size), root_hash=root_hash, extensions=tuple(extensions))


@dataclass(frozen=True, kw_only=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose signature verified: by which key, at what time."""

    checkpoint: Checkpoint
    time: datetime
    """When the log signed it (UTC, whole seconds)."""
    key: VerifierKey
    note: str
    """The signed note as read."""


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey, time: datetime) -> str:
    """The signed note of ``checkpoint``, signed by ``key`` at ``time``."""
    if checkpoint.origin != key.name:
        raise InvalidNote(f"the checkpoint's origin {checkpoint.origin!r} is not the key's name {key.name!r}")
    seconds = seconds_of(time)
    text = checkpoint.text()
    signature = struct.pack(">Q", seconds) + key.sign(_cosigned(text, seconds))
    return Note(text=text, signatures=(NoteSignature(name=key.name, key_id=key.verifier.key_id,
                                                     signature=signature),)).encode()


def open_checkpoint(data: str | bytes, keys: list[VerifierKey], *,
                    origin: str | None = None) -> SignedCheckpoint:
    """Read and verify a signed checkpoint: it must be signed by one of ``keys`` (every
    signature by one of them must verify), and come from ``origin`` when given."""
    note = Note.parse(data)
    checkpoint = Checkpoint.parse(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise InvalidNote(f"the checkpoint is from the log {checkpoint.origin!r}, not {origin!r}")
    known = {(k.name, k.key_id): k for k in keys}
    verified = None
    for signature in note.signatures:
        key = known.get((signature.name, signature.key_id))
        if key is None:
            continue
        time = key.verify(note.text, signature.signature)
        if time is None:
            raise InvalidNote(f"the checkpoint's signature by {key.name}+{key.key_id:08x} does not verify")
        verified = verified or SignedCheckpoint(checkpoint=checkpoint, time=time, key=key, note=note.encode())
    if verified is None:
        raise InvalidNote("the checkpoint is not signed by any of the known keys "
                          f"({', '.join(str(k) for k in keys) or 'none'})")
    if checkpoint.origin != verified.key.name:
        raise InvalidNote(f"the checkpoint's origin {checkpoint.origin!r} is not its signer's name")
    return verified
