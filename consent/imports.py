"""Importing the decisions a product already holds: one JSON object per line (JSON Lines),

``{"subject": "user-42", "document": "terms", "version": "2024-03-01", "at":
"2024-05-02T10:00:00Z", "evidence": {"ip": "203.0.113.9"}}``

``subject``, ``document`` and ``at`` (the original time, ISO-8601, UTC when naive, not in the
future) are required, and ``version`` (id, label or date) or ``sha256`` (the hash of the text
accepted, in any of its languages); optional are ``evidence`` (an object), ``action``
(``accepted`` by default, ``declined`` or ``withdrawn``), ``channel`` (where the decision was
made) and ``language`` (of the text shown). Any other key is refused, and a key given twice.

Lines are recorded at their original time, as of any version (history is not refused as
outdated), each acceptance with its bundle as in force then, on the channel ``import`` (or
``import:<channel>``), which only imports write: the chain tells an imported decision from
one recorded live. A malformed line is reported by its number; unless the caller skips bad
lines, nothing of the import is recorded then.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from .catalog import Catalog
from .errors import ConsentError, InvalidImport, InvalidRecord, cut, short
from .jsonobjects import unique_keys
from .records import imported_channel, latest_decision, to_micros
from .rows import Rows
from .values import BadLine

FIELDS = ("subject", "document", "version", "sha256", "at", "evidence", "action", "channel",
          "language")
REQUIRED = ("subject", "document", "at")
TEXTS = ("document", "version", "sha256", "language", "at")
"""Fields whose value must be text."""
_FIELDS = frozenset(FIELDS)
MAX_REPORTED = 1000
"""Most bad lines an import lists, in its error or among those it skipped (it counts them all:
each line that is read and not recorded is a bad one)."""
TABLES = ("subjects", "events", "personal", "status", "outbox", "receipts")
"""The tables an import writes rows to for each line."""
ANALYZE_FROM = 10_000
"""Events from which an import has the storage gather the planner's statistics of
:data:`TABLES` (:meth:`consent.store.Tx.filled`). On PostgreSQL ``ANALYZE`` reads a sample of
at most 30,000 rows of each table whatever its size (0.1 to 0.5 s on a loaded 2-core machine),
while 10,000 events take about 0.8 s to import; fewer events change the plans little, and
autovacuum analyzes a table within a minute once a tenth of it changed."""


def read(catalog: Catalog, lines: Iterable[str | bytes | Mapping[str, Any]]
         ) -> tuple[Rows, int, int, list[BadLine]]:
    """Check and resolve ``lines`` (JSON text, or objects already parsed) against
    ``catalog``: the rows to append, how many lines were read and recorded, and the first
    :data:`MAX_REPORTED` bad ones."""
    found = Rows(catalog, live=False)
    now = latest_decision()
    channels: dict[Any, str] = {}
    count = recorded = 0
    bad: list[BadLine] = []
    for number, line in enumerate(lines, 1):
        if isinstance(line, (bytes, str)) and not line.strip():
            continue
        count += 1
        try:
            found.add(_record(line, now, channels))
        except ConsentError as error:
            if len(bad) < MAX_REPORTED:
                bad.append(BadLine(line=number, message=str(error)))
            continue
        recorded += 1
    return found, count, recorded, bad


def refusal(bad: Sequence[BadLine], count: int, *, skip: str = "--skip-bad") -> InvalidImport:
    """The error of an import of ``count`` bad lines, ``bad`` the first of them, naming the first.

    :param skip: how the caller skips bad lines. Defaults to the CLI's ``--skip-bad``.
    """
    shown = "; ".join(f"line {b.line}: {b.message}" for b in bad[:3])
    more = f" (and {count - 3} more)" if count > 3 else ""
    return InvalidImport(f"nothing imported: {count} line{'s' * (count != 1)} "
                         f"cannot be recorded: {shown}{more}; fix them, or skip them "
                         f"({skip})", tuple(bad), count)


def _json(value: Any) -> str:
    """``value`` as JSON (``null``, not ``None``; ``NaN`` or ``Infinity``, which orjson would
    show as ``null``, for a number that is not finite), cut to 80 characters for an error
    message."""
    try:
        text = (json.dumps(value, ensure_ascii=False, separators=(",", ":")) if _has_float(value)
                else orjson.dumps(value).decode())
    except (TypeError, ValueError, RecursionError):  # no JSON value, or nested too deeply
        return short(value)  # as Python shows it
    if type(value) is float and not math.isfinite(value):
        text += " (a number that is not finite)"
    return cut(text)


def _has_float(value: Any) -> bool:
    """Whether ``value`` holds a float (or a number orjson read as one)."""
    kind = type(value)
    if kind is dict:
        value = value.values()
    elif kind is not list:
        return kind is float
    kinds = set(map(type, value))
    return not kinds <= _SCALARS and (float in kinds or any(
        _has_float(item) for item in value if type(item) in (dict, list)))


_SCALARS = frozenset({str, int, bool, type(None)})
def _texts(value: Any) -> int:
    """The number of keys and texts in ``value``."""
    if type(value) is dict:
        count, value = len(value), value.values()
    elif type(value) is list:
        count = 0
    else:
        return 0
    for item in value:
        kind = type(item)
        if kind is str:
            count += 1
        elif kind is dict or kind is list:
            count += _texts(item)
    return count


def _record(line: str | bytes | Mapping[str, Any], now: int,
            channels: dict[Any, str]) -> dict[str, Any]:
    """The record of one line, checked (its ``at`` as microseconds, its channel marked as
    imported, each channel checked once in ``channels``); raises :class:`InvalidRecord`
    naming what is wrong."""
    if isinstance(line, (bytes, str)):
        try:
            data = orjson.loads(line.rstrip())  # without its line break: columns count on it
            quotes = line.count(b'"') if isinstance(line, bytes) else line.count('"')
            if type(data) is dict and (_has_float(data.get("evidence"))
                                       or quotes != 2 * _texts(data)):
                # orjson reads integers beyond 64 bits as floats, and keeps the last value of a
                # key given twice, whose quotes the count of the keys and texts read misses
                # (escaped quotes also make it differ): then read exactly, refusing the key
                data = json.loads(line, object_pairs_hook=unique_keys)
        except orjson.JSONDecodeError as error:
            raise InvalidRecord(f"not valid JSON ({error})") from None
        except RecursionError:
            raise InvalidRecord("not valid JSON (nested too deeply)") from None
    else:
        data = dict(line) if isinstance(line, Mapping) else line
    if type(data) is not dict:
        raise InvalidRecord(f"must be a JSON object, not {_json(data)}")
    if not _FIELDS.issuperset(data):
        unknown = next(key for key in data if key not in _FIELDS)
        raise InvalidRecord(f"unknown field {short(unknown)}; the fields are: {', '.join(FIELDS)}")
    get = data.get
    if get("subject") is None or get("document") is None or get("at") is None:
        key = next(key for key in REQUIRED if get(key) is None)
        raise InvalidRecord(f"{key} is missing" + (
            " (the original time of the decision, ISO-8601)" if key == "at" else ""))
    if get("version") is None and get("sha256") is None:
        raise InvalidRecord("version or sha256 is missing: name the version accepted, or give "
                            "the hash of its text")
    for key in TEXTS:
        value = get(key)
        if value is not None and type(value) is not str:
            raise InvalidRecord(f"{key} must be text, not {short(value)}")
    at = to_micros(data["at"])
    if at > now:
        raise InvalidRecord(f"at {data['at']!r} is in the future: an import records decisions "
                            f"already made, at their original time")
    channel = get("channel")
    marked = channels.get(channel) if type(channel) is str or channel is None else None
    if marked is None:
        marked = channels[channel] = imported_channel(channel)
    data["at"] = at
    data["channel"] = marked
    return data

