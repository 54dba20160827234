"""Seals: one hash that commits to every hash chain of the ledger at once.

A seal is the RFC 9162 Merkle root (:mod:`consent.merkle`) over one leaf per chain,
``chain 0x1f length 0x1f head`` (the chain's number and length in decimal, then its last
event's 32-byte hash), written to ``seals`` with the heads it covers. Chains only grow, so
every later state of the ledger still holds each sealed head at its sealed position:
:mod:`consent.verify` checks that against the latest seal, and a seal's root kept elsewhere
(published, or handed to another party) pins the whole ledger as it was.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from .merkle import leaf_hash, root
from .records import iso, to_micros
from .store import Tx
from .values import Seal

_HEAD = struct.Struct(">Q32s")
"""One chain's head in ``seals.heads``: its length, then its last hash."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Sealed:
    """A seal as stored: when, each chain's ``(length, head)``, and the root."""

    at: int
    heads: tuple[tuple[int, bytes], ...]
    root: bytes

    @property
    def value(self) -> Seal:
        return Seal(at=iso(self.at), chains=len(self.heads),
                    events=sum(length for length, _ in self.heads), root=self.root.hex())


def heads_root(heads: Sequence[tuple[int, bytes]]) -> bytes:
    """The Merkle root over the chains' ``(length, head)``, in the order of their numbers."""
    return root([leaf_hash(b"%d\x1f%d\x1f%s" % (chain, length, head))
                 for chain, (length, head) in enumerate(heads)])


def current_heads(tx: Tx) -> tuple[tuple[int, bytes], ...]:
    """Each chain's ``(length, head)`` as ``chains`` records them, in one snapshot."""
    return tuple((int(length), bytes(head)) for length, head in tx.execute(
        "SELECT length, head FROM chains ORDER BY id"))


def write(tx: Tx, heads: tuple[tuple[int, bytes], ...]) -> Sealed:
    """Record a seal of ``heads`` (read in an earlier snapshot: chains only grow)."""
    sealed = Sealed(at=to_micros(None), heads=heads, root=heads_root(heads))
    tx.execute("INSERT INTO seals (at, heads, root) VALUES (?, ?, ?)",
               (sealed.at, b"".join(_HEAD.pack(length, head) for length, head in heads),
                sealed.root))
    return sealed


def latest(tx: Tx) -> Sealed | None:
    """The last seal written, if any."""
    row = tx.execute("SELECT at, heads, root FROM seals ORDER BY id DESC LIMIT 1").fetchone()
    return _read(row) if row else None


def with_root(tx: Tx, wanted: bytes) -> Sealed | None:
    """The seal whose root is ``wanted``, if any."""
    row = tx.execute("SELECT at, heads, root FROM seals WHERE root = ?", (wanted,)).fetchone()
    return _read(row) if row else None


def _read(row: tuple[int, bytes, bytes]) -> Sealed:
    at, heads, stored = row
    data = bytes(heads)
    return Sealed(at=at, root=bytes(stored), heads=tuple(
        _HEAD.unpack_from(data, offset) for offset in range(0, len(data), _HEAD.size)))
