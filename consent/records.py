"""Checking what callers ask to record: subject ids, evidence, channels, actions, times, and
the version (and bundle) a record is about.

Every refusal names the field and the value, in words a legal editor understands.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, NewType

from terms import manifest

from .actions import ACTION_CODES, RECORDABLE
from .catalog import Catalog, DocumentEntries, Entry
from .errors import (
    InvalidEvidence,
    InvalidRecord,
    InvalidSubject,
    OutdatedVersion,
    UnpublishedVersion,
    short,
)
from .jsonobjects import LONE_SURROGATE
from .values import Text

MAX_SUBJECT = 256
MAX_EVIDENCE = 65536
MAX_DEPTH = 32
"""Most levels of objects and arrays in evidence, itself the first: the ledger gives back
what it records, through readers and JSON encoders that stop deeper (orjson at 254 levels)."""
MAX_CHANNEL = 64
MAX_LANGUAGE = 35
PSEUDONYM_PREFIX = "erased:"
LEDGER_SUBJECT = "ledger:repair"
"""The subject of the ledger's own events (a repair of the status table)."""
RESERVED = (PSEUDONYM_PREFIX, "ledger:")
"""Prefixes of subject ids that callers cannot record: erased subjects, the ledger's own."""
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_FIRST = (datetime.min.replace(tzinfo=timezone.utc) - _EPOCH) // _MICROSECOND
_LAST = (datetime.max.replace(tzinfo=timezone.utc) - _EPOCH) // _MICROSECOND
"""Microseconds of the first and last instants of the calendar in UTC (years 1 to 9999)."""
DAY = 86_400_000_000
"""Microseconds in a day."""


def _unserializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json's C encoder built once (JSONEncoder.encode builds one per call): compact, sorted keys,
# no NaN; without circular-reference markers, a cycle raises RecursionError instead.
_encode = c_make_encoder(None, _unserializable, encode_basestring, None, ":", ",", True, False,
                         False)


def _depth(value: Any) -> int:
    """The levels of objects and arrays in ``value`` (JSON values), counted up to one more
    than :data:`MAX_DEPTH`."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_DEPTH:
        item, level = stack.pop()
        if isinstance(item, (Mapping, list, tuple)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, Mapping)
                                                          else item))
    return deepest


def compact_json(value: Any) -> str:
    """``value`` as compact JSON, its keys sorted (the ledger's one encoder)."""
    return "".join(_encode(value, 0))


SubjectId = NewType("SubjectId", str)
"""A subject id as the ledger keeps it: see :func:`canonical_subject`."""
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Control characters (C0, DEL, C1), line and paragraph separators, bidi embeddings,
overrides and isolates: they hide or disguise what a subject id shows."""


def canonical_subject(subject: Any) -> SubjectId:
    """``subject`` in Unicode NFC, so that one id typed in two forms is one subject.

    It must be text of 1 to 256 characters, valid Unicode, without control characters (C0,
    DEL, C1, line separators, bidi embeddings, overrides and isolates); raises
    :class:`InvalidSubject` otherwise.

    >>> canonical_subject("jose\u0301") == "jos\u00e9"
    True
    """
    if type(subject) is str and subject.isascii() and subject.isprintable() and (
            0 < len(subject) <= MAX_SUBJECT):
        return SubjectId(subject)  # printable ASCII: already NFC, no control characters
    if not isinstance(subject, str):
        raise InvalidSubject(f"subject must be text, not {short(subject)}")
    if not subject:
        raise InvalidSubject("subject must not be empty")
    check_unicode(subject, "subject", InvalidSubject)
    refused = _REFUSED.search(subject)
    if refused:
        raise InvalidSubject(f"subject must not contain control characters: {short(subject)} "
                             f"has {refused.group()!r} at position {refused.start()}")
    subject = unicodedata.normalize("NFC", subject)
    if len(subject) > MAX_SUBJECT:
        raise InvalidSubject(f"subject must be at most {MAX_SUBJECT} characters, not "
                             f"{len(subject)}: {subject[:32]!r}...")
    return SubjectId(subject)


def new_subject(subject: Any) -> SubjectId:
    """Like :func:`canonical_subject`, refusing the prefixes reserved for erased subjects
    and the ledger's own events."""
    name = canonical_subject(subject)
    if name.startswith(RESERVED):
        raise InvalidSubject(f"subject must not start with {name.split(':')[0] + ':'!r} "
                             f"(reserved for erased subjects and the ledger's own events): "
                             f"{name!r}")
    return name


def check_unicode(text: str, field: str, error: type[Exception]) -> None:
    """Raise ``error`` naming ``field`` when ``text`` holds a lone surrogate (it cannot be
    stored as UTF-8: Python lets such strings in from JSON escapes and undecodable bytes)."""
    surrogate = LONE_SURROGATE.search(text)
    if surrogate:
        raise error(f"{field} is not valid Unicode: a lone surrogate {surrogate.group()!r} at "
                    f"position {surrogate.start()}")


def evidence_json(evidence: Any) -> str | None:
    """The evidence as stored: compact JSON of an object, or ``None`` for none."""
    if evidence is None:
        return None
    if type(evidence) is not dict and not isinstance(evidence, Mapping):
        raise InvalidEvidence(f"evidence must be a JSON object, not {type(evidence).__name__}: "
                              f"{short(evidence)}")
    try:
        text = "".join(_encode(evidence, 0))
    except (TypeError, ValueError, RecursionError) as error:
        raise InvalidEvidence(f"evidence must be a JSON object: {error}") from None
    if len(text) > MAX_EVIDENCE:
        raise InvalidEvidence(f"evidence must be at most {MAX_EVIDENCE} characters of JSON, "
                              f"not {len(text)}")
    if text.count("{") + text.count("[") > MAX_DEPTH and _depth(evidence) > MAX_DEPTH:
        raise InvalidEvidence(f"evidence must be nested at most {MAX_DEPTH} levels deep (objects "
                              f"and arrays, the evidence itself the first)")
    if not text.isascii() and LONE_SURROGATE.search(text):
        try:
            _check_texts(evidence, "evidence")
        except RecursionError:
            raise InvalidEvidence("evidence is not valid Unicode: a lone surrogate") from None
    return text


def _check_texts(value: Any, where: str) -> None:
    """Raise :class:`InvalidEvidence` for the first key or text in ``value`` that is not
    valid Unicode, naming where it is (``evidence.a[0].b``)."""
    if isinstance(value, str):
        check_unicode(value, where, InvalidEvidence)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_unicode(str(key), f"{where} key {key!r}", InvalidEvidence)
            _check_texts(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_texts(item, f"{where}[{index}]")


def check_languages(language: Any) -> tuple[str, ...]:
    """A language (a BCP 47 tag), several (the reader's preference first) or ``None``, as a
    tuple of tags; raises :class:`InvalidRecord` for anything else."""
    tags = () if language is None else (language,) if isinstance(language, str) else language
    if not (isinstance(tags, (list, tuple)) and all(
            isinstance(tag, str) and 0 < len(tag) <= MAX_LANGUAGE for tag in tags)):
        raise InvalidRecord(f"language must be a BCP 47 tag (such as fr or pt-BR), or a list "
                            f"of them, not {short(language)}")
    return tuple(tags)


def check_channel(channel: Any) -> str:
    """``channel`` if it is printable text of 1 to 64 characters, not marked as imported;
    raises :class:`InvalidRecord`."""
    if (not isinstance(channel, str) or not channel or len(channel) > MAX_CHANNEL
            or not channel.isprintable()):
        raise InvalidRecord(f"channel must be printable text of 1 to {MAX_CHANNEL} characters, "
                            f"not {short(channel)}")
    if is_imported(channel):
        raise InvalidRecord(f"channel {channel!r} is reserved for imports (termsledger consent "
                            f"import): name where the decision was made (web, app, api...)")
    return channel


IMPORTED = "import"
"""The channel of imported events: ``import``, or ``import:<channel>`` with the channel the
import names (where the decision was originally made). Only imports record it, so that the
chain tells an imported acceptance from one recorded live."""


def imported_channel(channel: Any) -> str:
    """The channel an import records for a line whose channel is ``channel`` (``None``: none)."""
    if channel is None:
        return IMPORTED
    return f"{IMPORTED}:{check_channel(channel)}"


def is_imported(channel: str | None) -> bool:
    """Whether an event of ``channel`` was imported."""
    return channel is not None and (channel == IMPORTED or channel.startswith(IMPORTED + ":"))


def check_action(action: Any) -> int:
    """The code of a recordable ``action``; raises :class:`InvalidRecord` for any other."""
    if action not in RECORDABLE:
        raise InvalidRecord(f"action must be one of {', '.join(RECORDABLE)}, not {short(action)}")
    return ACTION_CODES[action]


def possible_id(text: str) -> bool:
    """Whether ``text`` can be an id the ledger issued (an API key's, a webhook endpoint's): all
    are printable ASCII. Other text (a NUL, a command line's undecodable byte) names none, and
    PostgreSQL would refuse it."""
    return text.isascii() and text.isprintable()


CLOCK_SKEW = 60_000_000
"""How far ahead of this host's clock (in microseconds) a decision's time may be: another
host's clock may run ahead a little, but a decision cannot be recorded before it is made (one
dated later than the next would decide the subject's status after it)."""


def latest_decision() -> int:
    """The latest time (microseconds) a decision recorded or imported now may be dated."""
    return to_micros(None) + CLOCK_SKEW


def to_micros(at: Any) -> int:
    """``at`` (a datetime, naive meaning UTC, or ISO-8601 text; ``None`` for now) as integer
    microseconds since the epoch."""
    given = at
    if at is None:
        at = datetime.now(timezone.utc)
    elif isinstance(at, str):
        try:
            at = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidRecord(f"at must be an ISO-8601 date and time, not {at!r}") from None
    elif not isinstance(at, datetime):
        raise InvalidRecord(f"at must be a date and time, not {short(at)}")
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    micros: int = (at - _EPOCH) // _MICROSECOND
    if not _FIRST <= micros <= _LAST:
        given = given if isinstance(given, str) else at.isoformat()
        raise InvalidRecord(f"at {given!r} is {'before year 1' if micros < 0 else 'after year 9999'}"
                            f" in UTC")
    return micros


def iso(micros: int) -> str:
    """Integer microseconds as UTC ISO-8601."""
    return datetime.fromtimestamp(micros / 1e6, timezone.utc).isoformat(timespec="microseconds")


def day_of(micros: int) -> date:
    """The UTC day of integer microseconds since the epoch."""
    return date.fromordinal(719163 + micros // DAY)


def resolve(catalog: Catalog, document: Any, version: Any, day: date, accepted: bool,
            sha256: Any = None, language: Any = None, *, live: bool = True, decided: bool = True
            ) -> tuple[Entry, list[Entry], str | None]:
    """The version to record, the other versions of its bundle for an acceptance (as accepted
    on ``day``, see :meth:`Catalog.bundle`) and the language of the text shown (``None``: the
    version's own).

    The version is the one named (id, label or date); else the one whose text (in any
    language) has the hash ``sha256``; else the one in force on ``day``. ``sha256``, when
    given, must be the hash of the version's text in ``language`` (any language when
    ``language`` is ``None``) or the manifest hash of its bundle (which
    :meth:`Catalog.listing` reports for the same day). ``language`` must be one the version
    has a text in.

    :param live: refuse with :class:`OutdatedVersion` a ``decided`` record (an acceptance or
        a decline) of a version neither in force nor announced on ``day``; an import of
        history (``live=False``) takes any version.
    """
    doc = catalog.document(document)
    if sha256 is not None and not isinstance(sha256, str):
        raise InvalidRecord(f"sha256 must be text (64 hex digits), not {short(sha256)}")
    if language is not None and not isinstance(language, str):
        raise InvalidRecord(f"language must be a BCP 47 tag (such as fr), not {short(language)}")
    if version is not None:
        if not isinstance(version, str):
            raise InvalidRecord(f"version must be text, not {short(version)}")
        entry = doc.version(version)
    elif sha256 is not None and (found := _by_hash(doc, sha256)) is not None:
        entry = found
    else:
        current = doc.in_force(day)
        if current is None:
            raise UnpublishedVersion(f"no published version of {document!r} is in force on {day}")
        entry = current
    if live and decided and entry.effective <= day and entry is not doc.in_force(day):
        current = doc.in_force(day)
        raise OutdatedVersion(
            f"version {entry.id} of {doc.slug} is no longer in force on {day}: version "
            f"{current.id if current else '?'} is; show the text in force and record that one "
            f"(the required call gives it with its sha256)")
    members = catalog.bundle(entry, day) if accepted else []
    text = _shown(entry, language)
    if sha256 is not None and sha256 != text.content_sha256:
        bundle = manifest((e.document, e.id, e.content_sha256) for e in (entry, *members))[1]
        match = None if language is not None else next(
            (t for t in entry.texts if t.content_sha256 == sha256), None)
        if match is not None:
            text = match
        elif sha256 != bundle:
            which = f"the {language} text" if language is not None else "any text"
            raise UnpublishedVersion(f"sha256 {short(sha256)} is neither {which} of {doc.slug} "
                                     f"{entry.id} nor the manifest of its bundle")
    return entry, members, None if text is entry.texts[0] else text.language


def _by_hash(doc: DocumentEntries, sha256: str) -> Entry | None:
    """The version of ``doc`` whose text in some language has the hash ``sha256``, if any."""
    return next((e for e in doc.versions if any(t.content_sha256 == sha256 for t in e.texts)),
                None)


def _shown(entry: Entry, language: str | None) -> Text:
    """The text of ``entry`` in ``language`` (its own for ``None``); refuses a language it
    has no text in."""
    text = entry.text(language)
    if text is None:
        raise UnpublishedVersion(
            f"version {entry.id} of {entry.document} has no text in language {short(language)}; "
            f"its languages are: {', '.join(entry.languages) or 'its own only'}")
    return text
