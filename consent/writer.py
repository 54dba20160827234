"""Appending events: the drafts of the rows to append (salts, personal digests, status
changes), which the storage engine chains and writes in the caller's write transaction with the
webhook messages of the decisions (:func:`consent.outbox.decisions`), and the chaining itself in
Python, which the SQLite engine runs (PostgreSQL runs the same in the database, in the statement
that locks the chains and writes the messages)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, NamedTuple

from .actions import Action, State
from .catalog import Entry
from .chain import SALT_BYTES, common, link, place
from .store import Appended, Drafts, Tx

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


def append(tx: Tx, rows: list[Row], want: bool = False, generation: int | None = None
           ) -> list[Appended] | None:
    """Append ``rows`` in order (each subject's events to its chain) with the webhook messages
    of their decisions; returns what was appended, in the order of ``rows``, when ``want`` is
    true. With a ``generation``: nothing is appended and ``None`` returned when the catalog is
    no longer of that generation."""
    if not rows:
        return []
    appended = tx.append(draft(rows), generation, rows)
    if appended is None:
        return None
    return appended if want else []


def draft(rows: list[Row]) -> Drafts:
    """The drafts of ``rows``: a random salt and the salted digest of each event's personal
    fields, the header part events of one version, action, channel and language share, and
    what each event changes in the status table."""
    salts = os.urandom(SALT_BYTES * len(rows))  # one system call for the batch
    drafts = Drafts(subjects=[], at=[], versions=[], actions=[], channels=[], heads=[],
                    shared=[], digests=[], salts=[], evidence=[], documents=[], states=[],
                    accepted=[], notified=[], languages=[])
    kinds: dict[tuple[int | None, int, str | None, str | None],
                tuple[bytes, int | None, int | None, int]] = {}
    end = 0
    for at, subject, entry, action, channel, evidence, head, language in rows:
        start, end = end, end + SALT_BYTES
        salt = salts[start:end]
        key = (entry.rowid if entry else None, action, channel, language)
        kind = kinds.get(key)
        if kind is None:
            kind = kinds[key] = _kind(entry, action, channel, language)
        shared, version, document, action = kind
        drafts.subjects.append(subject)
        drafts.at.append(at)
        drafts.versions.append(version)
        drafts.actions.append(action)
        drafts.channels.append(channel)
        drafts.heads.append(head)
        drafts.shared.append(shared)
        drafts.digests.append(sha256(b"%s%s\x00%s" % (
            salt, subject.encode(), evidence.encode() if evidence else b"")).digest())
        drafts.salts.append(salt)
        drafts.evidence.append(evidence)
        drafts.documents.append(document)
        drafts.languages.append(language)
        if action == _ACCEPTED:
            state, accepted, notified = _STATE_ACCEPTED, version, None
        elif action == _WITHDRAWN:
            state, accepted, notified = _STATE_WITHDRAWN, None, None
        elif action == _NOTIFIED:
            state, accepted, notified = None, None, version
        else:
            state, accepted, notified = None, None, None
        drafts.states.append(state)
        drafts.accepted.append(accepted)
        drafts.notified.append(notified)
    return drafts


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
    events, personal, status, notified, appended = [], [], [], [], []
    seqs: list[int] = []
    for (subject, at, version, action, channel, head, shared, digest, salt, evidence, document,
         state, accepted, marked, language) in zip(
            drafts.subjects, drafts.at, drafts.versions, drafts.actions, drafts.channels,
            drafts.heads, drafts.shared, drafts.digests, drafts.salts, drafts.evidence,
            drafts.documents, drafts.states, drafts.accepted, drafts.notified, drafts.languages,
            strict=True):
        sid, number = ids[subject]
        seq, prev = tips[number]
        seq += 1
        seqs.append(seq)
        part_of = 0 if head is None else seqs[head]
        hashed = bytearray(link(prev, place(number, seq), at, sid, shared, part_of, digest))
        events.append((number, seq, at, sid, version, action, channel, part_of, prev[:8], hashed,
                       language or ""))
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


def _kind(entry: Entry | None, action: int, channel: str | None, language: str | None
          ) -> tuple[bytes, int | None, int | None, int]:
    """What events of one version, action, channel and language share: the common header
    part, the version's row id, its document's id and the action as a plain ``int``."""
    action = int(action)
    if entry is None:
        return common(None, None, None, action, channel), None, None, action
    text = entry.text(language) or entry.texts[0]
    return (common(entry.document, entry.id, text.content_sha256, action, channel, language),
            entry.rowid, entry.document_id, action)
