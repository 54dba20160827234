"""Records (what callers ask to record) checked and resolved into the rows the writer appends,
outside the write lock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .actions import ACTION_CODES, RECORDABLE, Action
from .catalog import Catalog, Entry
from .errors import InvalidRecord
from .records import (
    DAY,
    MAX_SUBJECT,
    RESERVED,
    check_action,
    check_channel,
    day_of,
    evidence_json,
    latest_decision,
    new_subject,
    resolve,
    to_micros,
)
from .writer import Row

ACCEPTED, WITHDRAWN = int(Action.ACCEPTED), int(Action.WITHDRAWN)


class Rows:
    """The rows of records added one by one, resolved against ``catalog``.

    :param live: records made now (refusing outdated versions, see
        :func:`consent.records.resolve`); an import's records of history are not live: their
        channels are the import's own and their times microseconds (both checked).
    """

    def __init__(self, catalog: Catalog, *, live: bool = True):
        self.catalog = catalog
        self.live = live
        self.rows: list[Row] = []
        self._resolved: dict[tuple[Any, ...], tuple[Entry, list[Entry], str | None]] = {}
        self._channels: set[str] = set()
        self._latest = latest_decision()
        """The latest time a live record may be dated."""

    def add(self, record: Mapping[str, Any]) -> None:
        """Check ``record`` (a mapping of :meth:`consent.Ledger.record`'s arguments) and add its
        rows: its event, then its bundle's. Nothing is added if it is refused."""
        get = record.get
        subject = get("subject")
        if not (type(subject) is str and subject.isascii() and subject.isprintable()
                and 0 < len(subject) <= MAX_SUBJECT and not subject.startswith(RESERVED)):
            subject = new_subject(subject)
        action = get("action", "accepted")
        code = ACTION_CODES[action] if action in RECORDABLE else check_action(action)
        channel = get("channel", "api")
        if self.live and (type(channel) is not str or channel not in self._channels):
            self._channels.add(check_channel(channel))
        evidence = get("evidence")
        if evidence is not None:
            evidence = evidence_json(evidence)
        at = get("at")
        if type(at) is not int or self.live:  # an import's lines come with microseconds
            given, at = at, to_micros(at)
            if given is not None and self.live and at > self._latest:
                shown = given if isinstance(given, str) else given.isoformat()
                raise InvalidRecord(f"at {shown!r} is in the future: a decision is recorded once "
                                    f"made (at defaults to now)")
        key = (get("document"), get("version"), at // DAY, code, get("sha256"), get("language"))
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = resolve(
                self.catalog, key[0], key[1], day_of(at), code == ACCEPTED, key[4], key[5],
                live=self.live, decided=code != WITHDRAWN)
        entry, members, language = found
        rows = self.rows
        head = len(rows)
        rows.append(Row(at, subject, entry, code, channel, evidence, None, language))
        for member in members:
            rows.append(Row(at, subject, member, code, channel, None, head))
