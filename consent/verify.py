"""Checking the hash chains from the first event to the last, each bundle member's link to its
record's event, the catalog's texts, the transparency log, and the status table."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from terms import content_sha256

from . import seals
from .actions import ACTION_LABELS, Action
from .chain import GENESIS, event_hash, header, personal_digest
from .errors import InvalidRecord, short
from .ledger_log import check_log
from .rebuild import describe, differences, version_names
from .records import iso
from .store import Tx
from .values import Verification

_ERASED = int(Action.ERASED)
_ANCHOR = re.compile(r"(\d{1,19}):([0-9a-f]{64})")
MAX_REPORTED = 100
"""Most status rows, and most bundle members, that a verification describes (it counts them
all)."""
_ROWS = """
SELECT e.seq, e.at, e.subject, s.subject, d.slug, v.version,
       CASE WHEN e.language IS NULL THEN v.content_sha256 ELSE t.content_sha256 END, e.action,
       e.channel, e.part_of, e.link, e.hash, p.salt, p.evidence, x.digest, e.language,
       h.subject, h.part_of
FROM events e LEFT JOIN subjects s ON s.id = e.subject
LEFT JOIN versions v ON v.id = e.version LEFT JOIN documents d ON d.id = v.document
LEFT JOIN translations t ON t.version = e.version AND t.language = e.language
LEFT JOIN personal p ON p.chain = e.chain AND p.seq = e.seq
LEFT JOIN erased x ON x.chain = e.chain AND x.seq = e.seq
LEFT JOIN events h ON h.chain = e.chain AND h.seq = e.part_of
WHERE e.chain = ? ORDER BY e.seq
"""
"""Each event of a chain in order, with what the chain's check reads of it; ``h``: the event its
``part_of`` names, if any (a primary-key lookup in the same pass)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Pin:
    """A hash a chain must still hold at a position: from an anchor, or from a seal."""

    seq: int
    hash: bytes
    has: str
    """How a mismatch reads: ``the anchor's hash``."""
    of: str
    """How a shorter chain reads: ``of the anchor``."""


@dataclass(kw_only=True, slots=True)
class Members:
    """The bundle members that :func:`chain` found not part of their own record's event."""

    count: int = 0
    first: tuple[int, int] | None = None
    """``(chain, seq)`` of the first."""
    problems: list[str] = field(default_factory=list)
    """The first :data:`MAX_REPORTED`, in words."""

    def add(self, number: int, seq: int, problem: str) -> None:
        self.count += 1
        if self.first is None:
            self.first = (number, seq)
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)


def verify(tx: Tx, anchor: str | None = None
           ) -> tuple[Verification, tuple[tuple[int, bytes], ...]]:
    """Check every hash chain (:func:`chain`, with its bundle members) against the latest seal
    and ``anchor`` if given, then the status table (see :mod:`consent.rebuild`), in the snapshot
    ``tx``. Returns the verification and the chains' ``(length, head)`` it found."""
    numbers = [number for (number,) in tx.execute("SELECT id FROM chains ORDER BY id")]
    several = len(numbers) > 1
    pins: dict[int, list[Pin]] = {}
    problem = None
    last = seals.latest(tx)
    if last is not None:
        problem = _pin(pins, last, f"sealed on {iso(last.at)}")
    if anchor is not None:
        problem = problem or _anchor(tx, pins, anchor, several)
    problem = problem or _missing(tx, numbers, pins)
    heads: list[tuple[int, bytes]] = []
    total, result, members = 0, None, Members()
    for number in numbers:
        found = chain(tx, number, members, pins.get(number, ()), several)
        total += found.events
        heads.append((found.events, bytes.fromhex(found.head) if found.head else GENESIS))
        if not found.ok and result is None:
            result = found
    stray = tx.execute("SELECT chain, min(seq) FROM events WHERE chain NOT IN "
                       "(SELECT id FROM chains) GROUP BY chain ORDER BY chain").fetchone()
    if result is None and stray is not None:
        result = _bad(0, GENESIS, stray[1], f"event {_label(stray[0], stray[1], True)} is in "
                                            f"chain {stray[0]}, which the ledger does not have",
                      stray[0])
    if result is None and problem is not None:
        result = _bad(0, GENESIS, None, problem)
    if result is None:
        text = _catalog(tx) or check_log(tx)
        result = _bad(0, GENESIS, None, text) if text else None
    head = (heads[0][1].hex() if heads and heads[0][0] else None) if not several else \
        seals.heads_root(heads).hex()
    result = replace(result or Verification(ok=True, events=0, head=None), events=total,
                     head=head, chains=len(numbers),
                     seal=last.root.hex() if last is not None else None,
                     wrong_part_of=members.count, part_of_problems=tuple(members.problems))
    found_rows, names = 0, version_names(tx)
    problems: list[str] = []
    for difference in differences(tx):
        found_rows += 1
        if len(problems) < MAX_REPORTED:
            problems.append(describe(tx, difference, names))
    if found_rows and result.problem is None:
        result = replace(result, problem=status_problem(found_rows))
    if members.first is not None and result.problem is None:
        number, seq = members.first
        result = replace(result, first_bad=seq, chain=number,
                         problem=part_of_problem(members.count))
    return replace(result, ok=result.ok and not found_rows and not members.count,
                   status_differences=found_rows, status_problems=tuple(problems)), tuple(heads)


def to_seal(result: Verification) -> bool:
    """Whether what ``result`` verified is to be sealed: a ledger of several chains whose
    chains verify (bundle members wrong or not) and whose latest seal is of other heads."""
    sound = result.problem in (None, part_of_problem(result.wrong_part_of))
    return result.chains > 1 and sound and result.head != result.seal


def _pin(pins: dict[int, list[Pin]], sealed: seals.Sealed, when: str) -> str | None:
    """Pin each chain's head of ``sealed``; a problem if the seal does not match its heads."""
    if seals.heads_root(sealed.heads) != sealed.root:
        return f"the seal {when} does not match the heads it records: the seals were edited"
    for number, (length, head) in enumerate(sealed.heads):
        if length:
            pins.setdefault(number, []).append(Pin(seq=length, hash=head,
                                                   has=f"the hash {when}", of=when))
    return None


def _missing(tx: Tx, numbers: Sequence[int], pins: dict[int, list[Pin]]) -> str | None:
    """A chain that a seal or the anchor pins, or that subjects are in, and that the ledger
    no longer has: deleted whole, with its events."""
    gone = sorted(set(pins) - set(numbers))
    if gone:
        pin = max(pins[gone[0]], key=lambda pin: pin.seq)
        return f"chain {gone[0]} is missing, with the {pin.seq} events {pin.of}: it was deleted"
    row = tx.execute("SELECT chain FROM subjects WHERE chain NOT IN (SELECT id FROM chains) "
                     "LIMIT 1").fetchone()
    if row is not None:
        return f"chain {row[0]} is missing, though subjects are in it: it was deleted"
    return None if numbers else "the ledger has no hash chain: its chains were deleted"


def _catalog(tx: Tx) -> str | None:
    """The first text of the catalog (a version's, or a translation's) that no longer has its
    SHA-256: the text a receipt or a status names must be the one users were shown."""
    for slug, version, language, markdown, recorded in tx.execute(
            "SELECT d.slug, v.version, NULL, v.markdown, v.content_sha256 FROM versions v "
            "JOIN documents d ON d.id = v.document UNION ALL "
            "SELECT d.slug, v.version, t.language, t.markdown, t.content_sha256 FROM translations t "
            "JOIN versions v ON v.id = t.version JOIN documents d ON d.id = v.document"):
        if markdown is not None and content_sha256(markdown) != recorded:  # as publishing checked
            text = f"the {language} text" if language else "the text"
            return (f"{text} of {slug} version {version} no longer has its SHA-256 {short(recorded)}: "
                    f"the catalog was edited")
    return None


def _anchor(tx: Tx, pins: dict[int, list[Pin]], anchor: str, several: bool) -> str | None:
    """Pin what ``anchor`` names: on a ledger of one chain, ``EVENTS:HEAD`` (the chain's
    length and last hash); on several, ``EVENTS:ROOT`` (the root of a seal)."""
    events, digest = parse_anchor(anchor)
    if not several:
        pins.setdefault(0, []).append(Pin(seq=events, hash=digest, has="the anchor's hash",
                                          of="of the anchor"))
        return None
    sealed = seals.with_root(tx, digest)
    if sealed is None or sum(length for length, _ in sealed.heads) != events:
        return (f"no seal of {events} events has the anchor's root {digest.hex()}: the seals "
                f"were rewritten, or the anchor is not one of this ledger")
    return _pin(pins, sealed, "of the anchor")


def status_problem(found: int) -> str:
    """The problem of a verification whose chains are sound but whose status table is not."""
    return f"{found} status row{'s' * (found != 1)} differ{'s' * (found == 1)} from what the " \
           f"events say"


def part_of_problem(found: int) -> str:
    """The problem of a verification whose chains are sound but for ``found`` bundle members
    that are not part of their own record's event (and whose status table is)."""
    its = "s are" if found != 1 else " is"
    return (f"{found} bundle member{its} recorded as part of another event than "
            f"{'their' if found != 1 else 'its'} record's (PostgreSQL ledgers written before "
            f"1 December 2026 may hold such members: see the README)")


def parse_anchor(anchor: str) -> tuple[int, bytes]:
    """``EVENTS:HEAD`` (an earlier verification's ``events`` and ``head``) as numbers."""
    found = _ANCHOR.fullmatch(anchor) if isinstance(anchor, str) else None
    if not found or not 0 < int(found[1]) < 1 << 63:
        raise InvalidRecord(f"anchor must be EVENTS:HEAD, the events and head of an earlier "
                            f"verification, not {short(anchor)}")
    return int(found[1]), bytes.fromhex(found[2])


def _label(number: int, seq: int, several: bool) -> str:
    """An event's name in messages: its ``seq``, after its chain's number on a ledger of
    several chains (``3.17``)."""
    return f"{number}.{seq}" if several else str(seq)


def chain(tx: Tx, number: int, members: Members, pins: Sequence[Pin] = (),
          several: bool = False) -> Verification:
    """Recompute the hash of every event of chain ``number``. The first mismatch is reported
    as the event that was edited, re-hashed, deleted or moved; personal fields removed without
    an ``erased`` event, rows that the ledger cannot have written (text in a number's column,
    an unknown action) and events missing at the end (``chains.length``) are reported too.
    Each of ``pins`` (from an anchor or a seal) must still be in the chain at its position.

    Each event that verifies and is a bundle member (has a ``part_of``) must be part of its
    own record's event: an earlier event of its chain and subject, itself no member. Those that
    are not are added to ``members``: the hash covers ``part_of`` (but hashes ``0`` as none),
    and so finds one edited, not one the writer was given wrong and hashed (see the README's
    *PostgreSQL ledgers written before 1 December 2026*)."""
    prev, count = GENESIS, 0
    stripped: dict[Any, int] = {}
    erased: set[Any] = set()
    pinned = {pin.seq: pin for pin in pins}

    def bad(seq: int | None, problem: str) -> Verification:
        return _bad(count, prev, seq, problem, number)

    def name(seq: int) -> str:
        return _label(number, seq, several)

    for row in tx.execute(_ROWS, (number,)):
        (seq, at, sid, subject, slug, version, sha, action, channel, part_of, link, stored,
         salt, evidence, kept, language, owner, owner_part_of) = row
        count += 1
        if seq != count:
            return bad(count, f"event {name(count)} is missing: it was deleted or renumbered")
        if type(action) is not int or not 0 <= action < len(ACTION_LABELS):
            return bad(seq, f"event {name(seq)} is malformed: action code {short(action)} is "
                            f"not one the ledger writes")
        try:
            if salt is not None:
                digest = personal_digest(bytes(salt), subject or "", evidence)
            elif kept is not None:
                digest = bytes(kept)
                stripped.setdefault(sid, seq)
            else:
                return bad(seq, f"event {name(seq)} lost its personal fields")
            computed = event_hash(prev, header(number, seq, at, sid, slug, version, sha, action,
                                               channel, part_of, language), digest)
        except (TypeError, ValueError, AttributeError):  # a malformed value, named below
            computed = None
        if action == _ERASED:
            erased.add(sid)
        if isinstance(stored, memoryview):
            stored, link = bytes(stored), bytes(link)
        if computed != stored or link != prev[:8]:
            damage = malformed(row)
            if damage:
                return bad(seq, f"event {name(seq)} is malformed: {damage}")
            if computed == stored:
                return bad(seq, f"event {name(seq)} was edited: its link does not match the "
                                f"event before it")
            blamed, problem = _blame(tx, number, seq, link, prev, name)
            return bad(blamed, problem)
        if action == _ERASED and salt is None:
            return bad(seq, f"event {name(seq)}, an erasure, lost its personal fields: they bind the "
                            f"erased subject's pseudonym to its events, and the ledger never removes them")
        pin = pinned.get(seq)
        if pin is not None and stored != pin.hash:
            return bad(seq, f"event {name(seq)} does not have {pin.has}: the chain was "
                            f"rewritten")
        if part_of is not None and (owner != sid or part_of >= seq or owner_part_of is not None):
            members.add(number, seq, f"event {name(seq)} is recorded as part of "
                                     f"{_record(seq, sid, part_of, owner, owner_part_of, name)}")
        prev = stored
    for pin in pins:
        if count < pin.seq:
            what = "the chain" if not several else f"chain {number}"
            return bad(count + 1, f"{what} holds {count} events, fewer than the {pin.seq} "
                                  f"{pin.of}: events were cut from its end")
    unerased = sorted(seq for sid, seq in stripped.items() if sid not in erased)
    if unerased:
        return bad(unerased[0], f"event {name(unerased[0])} lost its personal fields without "
                                f"an erasure")
    row = tx.execute("SELECT length, head FROM chains WHERE id = ?", (number,)).fetchone()
    length, recorded = row if row else (count, prev)
    its = "the chain's" if not several else f"chain {number}'s"
    if type(length) is not int:
        return bad(None, f"{its} recorded length is {short(length)}, not a whole number: the "
                         f"ledger's metadata was edited")
    if length > count:
        return bad(count + 1, f"events {name(count + 1)} to {name(length)} are missing: they "
                              f"were deleted")
    if length < count:
        return bad(None, f"{its} recorded length is {length}, but it holds {count} events: the "
                         f"ledger's metadata was edited")
    if not isinstance(recorded, (bytes, memoryview)) or bytes(recorded) != prev:
        return bad(None, f"{its} recorded head is not the hash of its last event: the ledger's "
                         f"metadata was edited")
    return Verification(ok=True, events=count, head=prev.hex() if count else None)


_COLUMNS: tuple[tuple[str, type, int | None, bool], ...] = (  # name, type, length, may be NULL
    ("subject", int, None, False), ("at", int, None, False), ("part_of", int, None, True),
    ("channel", str, None, True), ("link", bytes, 8, False), ("hash", bytes, 32, False),
    ("salt", bytes, None, True), ("evidence", str, None, True),
    ("erased digest", bytes, 32, True), ("subject", str, None, True),
    ("document", str, None, True), ("version", str, None, True),
    ("content_sha256", str, None, True), ("language", str, None, True))
"""What the columns of an event's row hold, from the subject's id on (see :data:`_ROWS`)."""
_KINDS = {int: "a whole number", str: "text", bytes: "bytes"}


def malformed(row: tuple[Any, ...]) -> str | None:
    """What in an event's row (as :data:`_ROWS` selects it) the ledger cannot have written,
    a value of the wrong type or length, named for the reader; ``None`` when all fit."""
    seq, at, sid, subject, slug, version, sha, action, channel, part_of, link, stored, salt, \
        evidence, kept, language, *_ = row
    values = (sid, at, part_of, channel, link, stored, salt, evidence, kept, subject, slug,
              version, sha, language)
    for (name, kind, length, nullable), value in zip(_COLUMNS, values, strict=True):
        if value is None and nullable:
            continue
        if type(value) is not kind or (length is not None and len(cast(bytes, value)) != length):
            wanted = _KINDS[kind] if length is None else f"{length} bytes"
            return f"{name} is {short(value)}, not {wanted}"
    return None


def _record(seq: int, sid: int, part_of: int, owner: int | None, owner_part_of: int | None,
            name: Callable[[int], str]) -> str:
    """What the ``part_of`` of the bundle member ``seq`` of subject ``sid`` names instead of its
    own record's event (``owner``: the subject of the event at ``part_of``, ``None`` when there
    is none; ``owner_part_of``: that event's), in words; for members found wrong only."""
    if part_of == seq:
        return "itself"
    named = f"event {name(part_of)}"
    if owner is None:
        return f"{named}, which its chain does not have"
    if part_of > seq:
        return f"{named}, which comes after it"
    if owner != sid:
        return f"{named}, another subject's"
    return f"{named}, itself part of event {name(cast(int, owner_part_of))}"


def _blame(tx: Tx, number: int, seq: int, link: bytes, prev: bytes,
           name: Callable[[int], str]) -> tuple[int, str]:
    """Which event to blame when ``seq`` does not match its hash: ``link`` (the start of the
    hash it was chained to) tells an edited event from a re-hashed or a moved one."""
    if seq == 1 or link == prev[:8]:
        return seq, f"event {name(seq)} was edited: it no longer matches its hash"
    moved = tx.execute("SELECT 1 FROM events WHERE chain = ? AND substr(hash, 1, 8) = ?",
                       (number, link)).fetchone()
    if moved:
        return seq, f"event {name(seq)} is out of order: events were reordered"
    return seq - 1, (f"the chain breaks after event {name(seq - 1)}: it was edited and "
                     f"re-hashed, or the event after it was deleted")


def _bad(count: int, prev: bytes, seq: int | None, problem: str, number: int = 0
         ) -> Verification:
    return Verification(ok=False, events=count, head=prev.hex() if count else None,
                        first_bad=seq, chain=number if seq is not None else None,
                        problem=problem)
