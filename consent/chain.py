"""The hash chain: pure functions over an event's fields.

``hash = sha256(prev_hash || header || personal_digest)`` where the header carries the event's
non-personal fields and ``personal_digest = sha256(salt || subject || 0x00 || evidence)``. Erasure
keeps the digest and drops salt, subject and evidence, so the chain still verifies while the
digest no longer links to anyone (a salted digest of a random 16-byte salt cannot be guessed).
"""

from __future__ import annotations

from hashlib import sha256

GENESIS = bytes(32)
"""The ``prev_hash`` of the first event."""
SALT_BYTES = 16


def personal_digest(salt: bytes, subject: str, evidence: str | None) -> bytes:
    """The salted digest of an event's personal fields (``evidence`` as stored JSON)."""
    return sha256(b"%s%s\x00%s" % (salt, subject.encode("utf-8"),
                                   (evidence or "").encode("utf-8"))).digest()


def header(seq: int, at: int, subject_id: int, document: str | None, version: str | None,
           content_sha256: str | None, action: int, channel: str | None,
           part_of: int | None) -> bytes:
    """The non-personal fields of an event, in a fixed, unambiguous form."""
    return (f"{seq}\x1f{at}\x1f{subject_id}\x1f{document or ''}\x1f{version or ''}\x1f"
            f"{content_sha256 or ''}\x1f{action}\x1f{channel or ''}\x1f{part_of or ''}"
            ).encode("utf-8")


def event_hash(prev: bytes, head: bytes, digest: bytes) -> bytes:
    """The hash of an event chained to ``prev``."""
    return sha256(prev + head + digest).digest()
