"""The hash chain: pure functions over an event's fields.

``hash = sha256(prev_hash || header || personal_digest)`` where the header carries the event's
non-personal fields and ``personal_digest = sha256(salt || subject || 0x00 || evidence)``. Erasure
keeps the digest and drops salt, subject and evidence, so the chain still verifies while the
digest no longer links to anyone (a salted digest of a random 16-byte salt cannot be guessed).
"""

from __future__ import annotations

import re
from hashlib import sha256

GENESIS = bytes(32)
"""The ``prev_hash`` of the first event."""
SALT_BYTES = 16


def personal_digest(salt: bytes, subject: str, evidence: str | None) -> bytes:
    """The salted digest of an event's personal fields (``evidence`` as stored JSON)."""
    return sha256(b"%s%s\x00%s" % (salt, subject.encode("utf-8"),
                                   (evidence or "").encode("utf-8"))).digest()


def chain_of(subject: str, chains: int) -> int:
    """The chain of a new subject: a hash of its id, modulo the number of chains (so that all
    its events are in one chain, in order)."""
    if chains == 1:
        return 0
    return int.from_bytes(sha256(subject.encode("utf-8")).digest()[:8], "big") % chains


def place(chain: int, seq: int) -> bytes:
    """Where an event is, as its header says: its ``seq`` in its chain, after the chain's
    number for every chain but the first (so that a ledger of one chain hashes as before)."""
    return b"%d" % seq if chain == 0 else b"%d.%d" % (chain, seq)


def place_text(chain: int, seq: int) -> str:
    """:func:`place` as text, for messages: ``42``, ``3.42``."""
    return place(chain, seq).decode()


_PLACE = re.compile(r"(?:([0-9]{1,9})\.)?([0-9]{1,18})")


def parse_place(text: str) -> tuple[int, int] | None:
    """``(chain, seq)`` of an event's place as :func:`place` writes it (``42``, ``3.42``), or
    ``None`` when ``text`` is not one."""
    found = _PLACE.fullmatch(text)
    return (int(found[1] or 0), int(found[2])) if found else None


def header(chain: int, seq: int, at: int, subject_id: int, document: str | None,
           version: str | None, content_sha256: str | None, action: int, channel: str | None,
           part_of: int | None, language: str | None = None) -> bytes:
    """The non-personal fields of an event, in a fixed, unambiguous form."""
    return header_with(place(chain, seq), at, subject_id, common(
        document, version, content_sha256, action, channel, language), part_of)


def common(document: str | None, version: str | None, content_sha256: str | None, action: int,
           channel: str | None, language: str | None = None) -> bytes:
    """The part of the header that many events share (a writer caches it). ``language`` is
    that of a text shown in another language than the version's own (its hash is then
    ``content_sha256``): it adds a field, which no other field can hold (none holds a
    ``\x1f``), so that events of a version's own text hash as they always did."""
    shared = (f"{document or ''}\x1f{version or ''}\x1f{content_sha256 or ''}\x1f{action}\x1f"
              f"{channel or ''}")
    return (shared if language is None else f"{shared}\x1f{language}").encode()


def header_with(where: bytes, at: int, subject_id: int, shared: bytes, part_of: int | None
                ) -> bytes:
    """:func:`header` from the :func:`place` and :func:`common` parts."""
    return b"%s\x1f%d\x1f%d\x1f%s\x1f%d" % (where, at, subject_id, shared, part_of or 0)


def event_hash(prev: bytes, head: bytes, digest: bytes) -> bytes:
    """The hash of an event chained to ``prev``."""
    return sha256(prev + head + digest).digest()


def link(prev: bytes | bytearray, where: bytes, at: int, subject_id: int, shared: bytes,
         part_of: int, digest: bytes) -> bytes:
    """``event_hash(prev, header_with(...), digest)`` in one step, for the writer's hot path.
    (The PostgreSQL engine computes the same in the database: ``ledger_append`` in
    :mod:`consent.postgres`.)"""
    return sha256(b"%s%s\x1f%d\x1f%d\x1f%s\x1f%d%s" % (
        prev, where, at, subject_id, shared, part_of, digest)).digest()
