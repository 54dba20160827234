"""Appending events: the drafts of the rows to append (salts, personal digests, status
changes), which the storage engine chains and writes in the caller's write transaction with the
webhook messages of the decisions (:func:`consent.outbox.decisions`), and the chaining itself in
Python, which the SQLite engine runs (PostgreSQL runs the same in the database, in the statement
that locks the chains and writes the messages)."""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from operator import itemgetter
from typing import Any, NamedTuple

from .actions import Action, State
from .catalog import Entry
from .chain import SALT_BYTES, common, link, place
from .entropy import random_bytes
from .store import Appended, Drafts, Kind, Tx

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
    language: str | None = None
    """The language of the text shown, when it is not the version's own."""


_AT, _SUBJECT, _EVIDENCE, _HEAD = itemgetter(0), itemgetter(1), itemgetter(5), itemgetter(6)


def append(tx: Tx, rows: list[Row], want: bool = False, generation: int | None = None
           ) -> list[Appended] | None:
    """Append ``rows`` in order (each subject's events to its chain) with the webhook messages
    of their decisions; returns what was appended, in the order of ``rows``, when ``want`` is
    true. With a ``generation``: nothing is appended and ``None`` returned when the catalog is
    no longer of that generation."""
    if not rows:
        return []
    return tx.append(draft(rows), generation, rows, want)


def draft(rows: list[Row]) -> Drafts:
    """The drafts of ``rows``: a random salt and the salted digest of each event's personal
    fields, and the kinds of events among them (see :class:`consent.store.Kind`)."""
    count = len(rows)
    random = random_bytes(SALT_BYTES * count)
    salts = [random[start:start + SALT_BYTES] for start in range(0, SALT_BYTES * count,
                                                                   SALT_BYTES)]
    numbers: dict[tuple[int | None, int, str | None, str | None], int] = {}
    kinds: list[Kind] = []
    kind: list[int] = []
    digests: list[bytes] = []
    for (_, subject, entry, action, channel, evidence, _, language), salt in zip(
            rows, salts, strict=True):
        key = (entry.rowid if entry else None, action, channel, language)
        number = numbers.get(key)
        if number is None:
            number = numbers[key] = len(kinds)
            kinds.append(_kind(entry, action, channel, language))
        kind.append(number)
        digests.append(sha256(b"%s%s\x00%s" % (
            salt, subject.encode(), evidence.encode() if evidence else b"")).digest())
    return Drafts(subjects=list(map(_SUBJECT, rows)), at=list(map(_AT, rows)), kind=kind,
                  heads=list(map(_HEAD, rows)), digests=digests, salts=salts,
                  evidence=list(map(_EVIDENCE, rows)), kinds=kinds)


@dataclass(frozen=True, kw_only=True, slots=True)
class Batch:
    """Rows of chained events for the SQLite engine's tables, in order."""

    events: list[tuple[Any, ...]]
    """``(chain, seq, at, subject id, version id, action, channel, part_of or 0, link, hash,
    language or "")`` (``language``: of the text shown when it is not the version's own)."""
    personal: list[tuple[Any, ...]]
    """``(chain, seq, salt, evidence or "")``."""
    status: list[tuple[Any, ...]]
    """``(document id, subject id, state, accepted version id, at)``: a later ``at`` wins."""
    notified: list[tuple[Any, ...]]
    """``(document id, subject id, notified version id)``."""
    heads: list[tuple[int, int, bytes | bytearray]]
    """``(chain, length, head)`` of each chain written."""


def chain(drafts: Drafts, ids: dict[str, tuple[int, int]], heads: dict[int, tuple[int, bytes]]
          ) -> tuple[Batch, list[Appended]]:
    """Chain ``drafts`` after ``heads`` (each chain's ``(length, head)``), their subjects
    numbered by ``ids`` (``(id, chain)``); returns the rows to write and what was appended."""
    # sqlite3 passes bytes and None parameters through its adapter lookup (~0.4 us each), so
    # blobs are bound as bytearray, a missing part_of as 0 and missing evidence and language
    # as '' (nullif).
    tips = {chain: (seq, bytearray(prev)) for chain, (seq, prev) in heads.items()}
    kinds = [(k.shared, k.version, k.action, k.channel, k.language or "", k.document, k.state,
              k.accepted, k.notified) for k in drafts.kinds]
    events, personal, status, notified, appended = [], [], [], [], []
    seqs: list[int] = []
    for subject, at, kind, head, digest, salt, evidence in zip(
            drafts.subjects, drafts.at, drafts.kind, drafts.heads, drafts.digests, drafts.salts,
            drafts.evidence, strict=True):
        shared, version, action, channel, language, document, state, accepted, marked = \
            kinds[kind]
        sid, number = ids[subject]
        seq, prev = tips[number]
        seq += 1
        seqs.append(seq)
        part_of = 0 if head is None else seqs[head]
        hashed = bytearray(link(prev, place(number, seq), at, sid, shared, part_of, digest))
        events.append((number, seq, at, sid, version, action, channel, part_of, prev[:8], hashed,
                       language))
        personal.append((number, seq, bytearray(salt), evidence or ""))
        if state is not None:
            status.append((document, sid, state, accepted, at))
        if marked is not None:
            notified.append((document, sid, marked))
        appended.append(Appended(number, seq, bytes(prev), bytes(hashed), part_of or None, salt,
                                 sid))
        tips[number] = (seq, hashed)
    return Batch(events=events, personal=personal, status=status, notified=notified,
                 heads=[(number, seq, hashed) for number, (seq, hashed) in tips.items()]), appended


def _kind(entry: Entry | None, action: int, channel: str | None, language: str | None) -> Kind:
    """What events of one version, action, channel and language share."""
    action = int(action)
    if entry is None:
        shared, version, document = common(None, None, None, action, channel), None, None
    else:
        text = entry.text(language) or entry.texts[0]
        shared = common(entry.document, entry.id, text.content_sha256, action, channel, language)
        version, document = entry.rowid, entry.document_id
    state = {_ACCEPTED: _STATE_ACCEPTED, _WITHDRAWN: _STATE_WITHDRAWN}.get(action)
    return Kind(shared=shared, version=version, document=document, action=action, channel=channel,
                language=language, state=state, accepted=version if action == _ACCEPTED else None,
                notified=version if action == _NOTIFIED else None)
