"""Appending events: subject ids, the hash chains, personal fields, the status table and the
webhook messages of the decisions (:func:`consent.outbox.recorded`), all in the caller's write
transaction."""

from __future__ import annotations

import os
from typing import NamedTuple

from . import outbox
from .actions import Action, State
from .catalog import Entry
from .chain import SALT_BYTES, chained, common, place
from .store import Batch, Claim, Tx

_ACCEPTED, _WITHDRAWN, _NOTIFIED = int(Action.ACCEPTED), int(Action.WITHDRAWN), int(Action.NOTIFIED)
_STATE_ACCEPTED, _STATE_WITHDRAWN = int(State.ACCEPTED), int(State.WITHDRAWN)


class Row(NamedTuple):
    """An event to append."""

    at: int
    subject: str
    entry: Entry | None
    action: int
    channel: str | None
    evidence: str | None
    head: int | None = None
    """For a bundle member: the index in the batch of the event it is part of."""


class Appended(NamedTuple):
    """Where an event was appended, its hashes and the salt of its personal fields."""

    chain: int
    seq: int
    prev: bytes
    hash: bytes
    part_of: int | None
    salt: bytes


def append(tx: Tx, rows: list[Row], want: bool = False, claimed: Claim | None = None
           ) -> list[Appended]:
    """Append ``rows`` in order (each subject's events to its chain); returns what was
    appended, in the order of ``rows``, when ``want`` is true. ``claimed`` is what
    :meth:`~consent.store.Tx.claim` returned for their subjects, if the caller claimed them."""
    if not rows:
        return []
    ids, heads, _ = claimed or tx.claim({r.subject for r in rows})
    tips = {chain: (seq, bytearray(prev)) for chain, (seq, prev) in heads.items()}
    # sqlite3 passes bytes and None parameters through its adapter lookup (~0.4 us each), so
    # blobs are bound as bytearray, a missing part_of as 0 and missing evidence as '' (nullif).
    salts = bytearray(os.urandom(SALT_BYTES * len(rows)))  # one system call for the batch
    events, personal, status, notified, appended = [], [], [], [], []
    seqs: list[int] = []
    kinds: dict[tuple[int | None, int, str | None], tuple[bytes, int | None, int | None, int]] = {}
    end = 0
    for at, subject, entry, action, channel, evidence, head in rows:
        start, end = end, end + SALT_BYTES
        salt = salts[start:end]
        sid, chain = ids[subject]
        seq, prev = tips[chain]
        seq += 1
        seqs.append(seq)
        part_of = 0 if head is None else seqs[head]
        key = (entry.rowid if entry else None, action, channel)
        kind = kinds.get(key)
        if kind is None:
            kind = kinds[key] = _kind(entry, action, channel)
        shared, version, document, action = kind
        hashed = bytearray(chained(prev, place(chain, seq), at, sid, shared, part_of, salt,
                                   subject.encode(), evidence.encode() if evidence else b""))
        events.append((chain, seq, at, sid, version, action, channel, part_of, prev[:8], hashed))
        personal.append((chain, seq, salt, evidence or ""))
        if action == _ACCEPTED:
            status.append((document, sid, _STATE_ACCEPTED, version, at))
        elif action == _WITHDRAWN:
            status.append((document, sid, _STATE_WITHDRAWN, None, at))
        elif action == _NOTIFIED:
            notified.append((document, sid, version))
        if want:
            appended.append(Appended(chain, seq, bytes(prev), bytes(hashed), part_of or None,
                                     bytes(salt)))
        tips[chain] = (seq, hashed)
    tx.store(Batch(events=events, personal=personal, status=status, notified=notified,
                   heads=[(chain, seq, hashed) for chain, (seq, hashed) in tips.items()]))
    outbox.recorded(tx, rows, ids)
    return appended


def _kind(entry: Entry | None, action: int, channel: str | None
          ) -> tuple[bytes, int | None, int | None, int]:
    """What events of one version, action and channel share: the common header part, the
    version's row id, its document's id and the action as a plain ``int``."""
    action = int(action)
    if entry is None:
        return common(None, None, None, action, channel), None, None, action
    return (common(entry.document, entry.id, entry.content_sha256, action, channel), entry.rowid,
            entry.document_id, action)
