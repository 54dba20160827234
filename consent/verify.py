"""Checking the hash chains from the first event to the last, and the status table."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, cast

from .actions import ACTION_LABELS, Action
from .chain import GENESIS, event_hash, header, personal_digest
from .errors import InvalidRecord
from .rebuild import describe, differences, version_names
from .records import short
from .store import Tx
from .values import Verification

_ERASED = int(Action.ERASED)
_ANCHOR = re.compile(r"(\d{1,19}):([0-9a-f]{64})")
MAX_REPORTED = 100
"""Most status rows that a verification describes (it counts them all)."""
_ROWS = """
SELECT e.seq, e.at, e.subject, s.subject, d.slug, v.version, v.content_sha256, e.action,
       e.channel, e.part_of, e.link, e.hash, p.salt, p.evidence, x.digest
FROM events e LEFT JOIN subjects s ON s.id = e.subject
LEFT JOIN versions v ON v.id = e.version LEFT JOIN documents d ON d.id = v.document
LEFT JOIN personal p ON p.chain = e.chain AND p.seq = e.seq
LEFT JOIN erased x ON x.chain = e.chain AND x.seq = e.seq
WHERE e.chain = ? ORDER BY e.seq
"""


def verify(tx: Tx, anchor: str | None = None) -> Verification:
    """Check the hash chain (:func:`chain`, against ``anchor`` if given) and the status table
    (see :mod:`consent.rebuild`) in the snapshot ``tx``."""
    kept = parse_anchor(anchor) if anchor is not None else None
    result = chain(tx, 0, kept)
    found, names = 0, version_names(tx)
    problems: list[str] = []
    for difference in differences(tx):
        found += 1
        if len(problems) < MAX_REPORTED:
            problems.append(describe(tx, difference, names))
    if found and result.problem is None:
        result = replace(result, problem=status_problem(found))
    return replace(result, ok=result.ok and not found, status_differences=found,
                   status_problems=tuple(problems))


def status_problem(found: int) -> str:
    """The problem of a verification whose chain is sound but whose status table is not."""
    return f"{found} status row{'s' * (found != 1)} differ{'s' * (found == 1)} from what the " \
           f"events say"


def parse_anchor(anchor: str) -> tuple[int, bytes]:
    """``EVENTS:HEAD`` (an earlier verification's ``events`` and ``head``) as numbers."""
    found = _ANCHOR.fullmatch(anchor) if isinstance(anchor, str) else None
    if not found or not 0 < int(found[1]) < 1 << 63:
        raise InvalidRecord(f"anchor must be EVENTS:HEAD, the events and head of an earlier "
                            f"verification, not {short(anchor)}")
    return int(found[1]), bytes.fromhex(found[2])


def chain(tx: Tx, number: int, anchor: tuple[int, bytes] | None = None) -> Verification:
    """Recompute the hash of every event of chain ``number``. The first mismatch is reported
    as the event that was edited, re-hashed, deleted or moved; personal fields removed without
    an ``erased`` event, rows that the ledger cannot have written (text in a number's column,
    an unknown action) and events missing at the end (``chains.length``) are reported too.
    With an ``anchor`` ``(events, head)`` kept elsewhere, the chain must still hold that head
    at that position."""
    prev, count = GENESIS, 0
    stripped: dict[Any, int] = {}
    erased: set[Any] = set()
    anchored, anchor_hash = anchor or (0, b"")
    for row in tx.execute(_ROWS, (number,)):
        (seq, at, sid, subject, slug, version, sha, action, channel, part_of, link, stored,
         salt, evidence, kept) = row
        count += 1
        if seq != count:
            return _bad(count, prev, count, f"event {count} is missing: it was deleted or "
                                             f"renumbered")
        if type(action) is not int or not 0 <= action < len(ACTION_LABELS):
            return _bad(count, prev, seq, f"event {seq} is malformed: action code "
                                          f"{short(action)} is not one the ledger writes")
        try:
            if salt is not None:
                digest = personal_digest(salt, subject or "", evidence)
            elif kept is not None:
                digest = kept
                stripped.setdefault(sid, seq)
            else:
                return _bad(count, prev, seq, f"event {seq} lost its personal fields")
            computed = event_hash(prev, header(number, seq, at, sid, slug, version, sha, action,
                                               channel, part_of), digest)
        except (TypeError, ValueError, AttributeError):  # a malformed value, named below
            computed = None
        if action == _ERASED:
            erased.add(sid)
        if computed != stored or link != prev[:8]:
            damage = malformed(row)
            if damage:
                return _bad(count, prev, seq, f"event {seq} is malformed: {damage}")
            if computed == stored:
                return _bad(count, prev, seq, f"event {seq} was edited: its link does not match "
                                              f"the event before it")
            return _bad(count, prev, *_blame(tx, number, seq, link, prev))
        if seq == anchored and stored != anchor_hash:
            return _bad(count, prev, seq, f"event {seq} does not have the anchor's hash: the "
                                          f"chain was rewritten")
        prev = stored
    if count < anchored:
        return _bad(count, prev, count + 1, f"the chain holds {count} events, fewer than the "
                                            f"{anchored} of the anchor: events were cut from "
                                            f"its end")
    unerased = sorted(seq for sid, seq in stripped.items() if sid not in erased)
    if unerased:
        return _bad(count, prev, unerased[0], f"event {unerased[0]} lost its personal "
                                              f"fields without an erasure")
    head = tx.execute("SELECT length FROM chains WHERE id = ?", (number,)).fetchone()
    if head and type(head[0]) is not int:
        return _bad(count, prev, None, f"the chain's recorded length is {short(head[0])}, "
                                       f"not a whole number: the ledger's metadata was edited")
    if head and head[0] > count:
        return _bad(count, prev, count + 1, f"events {count + 1} to {head[0]} are missing: "
                                            f"they were deleted")
    return Verification(ok=True, events=count, head=prev.hex() if count else None)


_COLUMNS: tuple[tuple[str, type, int | None, bool], ...] = (  # name, type, length, may be NULL
    ("subject", int, None, False), ("at", int, None, False), ("part_of", int, None, True),
    ("channel", str, None, True), ("link", bytes, 8, False), ("hash", bytes, 32, False),
    ("salt", bytes, None, True), ("evidence", str, None, True),
    ("erased digest", bytes, 32, True), ("subject", str, None, True),
    ("document", str, None, True), ("version", str, None, True),
    ("content_sha256", str, None, True))
"""What the columns of an event's row hold, from the subject's id on (see :data:`_ROWS`)."""
_KINDS = {int: "a whole number", str: "text", bytes: "bytes"}


def malformed(row: tuple[Any, ...]) -> str | None:
    """What in an event's row (as :data:`_ROWS` selects it) the ledger cannot have written,
    a value of the wrong type or length, named for the reader; ``None`` when all fit."""
    seq, at, sid, subject, slug, version, sha, action, channel, part_of, link, stored, salt, \
        evidence, kept = row
    values = (sid, at, part_of, channel, link, stored, salt, evidence, kept, subject, slug,
              version, sha)
    for (name, kind, length, nullable), value in zip(_COLUMNS, values, strict=True):
        if value is None and nullable:
            continue
        if type(value) is not kind or (length is not None and len(cast(bytes, value)) != length):
            wanted = _KINDS[kind] if length is None else f"{length} bytes"
            return f"{name} is {short(value)}, not {wanted}"
    return None


def _blame(tx: Tx, number: int, seq: int, link: bytes, prev: bytes) -> tuple[int, str]:
    """Which event to blame when ``seq`` does not match its hash: ``link`` (the start of the
    hash it was chained to) tells an edited event from a re-hashed or a moved one."""
    if seq == 1 or link == prev[:8]:
        return seq, f"event {seq} was edited: it no longer matches its hash"
    moved = tx.execute("SELECT 1 FROM events WHERE chain = ? AND substr(hash, 1, 8) = ?",
                       (number, link)).fetchone()
    if moved:
        return seq, f"event {seq} is out of order: events were reordered"
    return seq - 1, (f"the chain breaks after event {seq - 1}: it was edited and re-hashed, "
                     f"or the event after it was deleted")


def _bad(count: int, prev: bytes, seq: int | None, problem: str) -> Verification:
    return Verification(ok=False, events=count, head=prev.hex() if count else None,
                        first_bad=seq, problem=problem)
