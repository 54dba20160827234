"""The outbox: webhook messages, written in the transaction of what caused them.

An event (:data:`EVENT_TYPES`) becomes one message for each enabled endpoint subscribed to its
type, in the same transaction as the change it reports: versions published (:func:`published`),
decisions recorded (:func:`recorded`, called by the writer), a subject erased (:func:`erased`),
versions whose effective date came (:func:`in_force`, run by the delivery). A message keeps its
id (its ``webhook-id``) and its body on every attempt; once delivered, its row is deleted. The
outbox is not the events table: its rows change as deliveries go; events never change.

Bodies have the shape the Standard Webhooks specification recommends, ``{"type", "timestamp",
"data"}``, and hold no personal evidence (IP, user agent...). ``consent.recorded`` names the
subject, the product's own id for its user; ``subject.erased`` names only the pseudonym, and an
erasure rewrites the messages still waiting about the subject to name the pseudonym too.

Delivery state (:func:`claim`, :func:`settle`): ``due`` is when a message may be tried next. A
delivery claims the messages due by moving ``due`` past the lease it takes on them, so that
another process (a second worker, a second host, a cron job) does not send them meanwhile; a
delivery that dies leaves them due again once its lease ends. A failure sets ``due`` to the
next retry; a message whose retries ran out is ``given_up``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from .actions import ACTION_LABELS, Action
from .entropy import random_bytes
from .records import compact_json, iso, to_micros
from .store import Store, Tx

EVENT_TYPES = ("version.published", "version.in_force", "consent.recorded", "subject.erased")
"""The events an endpoint can subscribe to."""
BITS = {kind: 1 << number for number, kind in enumerate(EVENT_TYPES)}
"""Each type's bit in ``webhooks.events``."""
FEW = 8
"""Up to this many rows, an append writes its messages without first asking whether anyone
listens (the insert writes nothing then): a single record pays one statement, not two."""

_ENQUEUE = ("INSERT INTO outbox (endpoint, msg, type, at, subject, data, created, due) "
            "SELECT id, ?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT), ?, CAST(? AS BIGINT), "
            "CAST(? AS BIGINT) FROM webhooks WHERE disabled IS NULL AND events & ? <> 0")
_LISTENING = "SELECT 1 FROM webhooks WHERE disabled IS NULL AND events & ? <> 0 LIMIT 1"
_DECISIONS = frozenset({int(Action.ACCEPTED), int(Action.DECLINED), int(Action.WITHDRAWN)})
_DUE = ("FROM outbox o JOIN webhooks w ON w.id = o.endpoint "
        "WHERE o.given_up IS NULL AND o.due <= ? AND w.disabled IS NULL")
_VERSION = ("SELECT v.id, d.slug, v.version, v.effective, v.title, v.summary, v.flag, v.verdict, "
            "v.content_sha256 FROM versions v JOIN documents d ON d.id = v.document ")


def message_id() -> str:
    """A new ``webhook-id``: ``msg_`` and 24 random hex digits."""
    return "msg_" + random_bytes(12).hex()


def body(kind: str, at: int, data: str) -> str:
    """A message's body, the same on every attempt: compact JSON of ``{"type", "timestamp",
    "data"}`` from its type, time and ``data`` (JSON) as the outbox keeps them."""
    return f'{{"type":"{kind}","timestamp":"{timestamp(at)}","data":{data}}}'



def timestamp(micros: int) -> str:
    """Integer microseconds as UTC ISO-8601 ending in ``Z``."""
    return iso(micros).replace("+00:00", "Z")


def enqueue(tx: Tx, kind: str, items: Sequence[tuple[int, dict[str, Any], int | None]]) -> None:
    """Write a message of type ``kind`` for each ``(at, data, subject row id)`` of ``items``,
    to every enabled endpoint subscribed to ``kind``."""
    if not items:
        return
    bit = BITS[kind]
    now = to_micros(None)
    tx.executemany(_ENQUEUE, [(message_id(), kind, at, subject, compact_json(data), now, now, bit)
                              for at, data, subject in items])


def listening(tx: Tx, kind: str) -> bool:
    """Whether an enabled endpoint subscribes to ``kind``."""
    return tx.execute(_LISTENING, (BITS[kind],)).fetchone() is not None


def recorded(tx: Tx, rows: Sequence[Any], ids: dict[str, tuple[int, int]]) -> None:
    """``consent.recorded`` for each decision (accepted, declined, withdrawn) among the rows
    just appended (:class:`consent.writer.Row`; ``ids``: each subject's row id and chain): see
    :func:`decisions`."""
    if len(rows) > FEW and not listening(tx, "consent.recorded"):
        return
    enqueue(tx, "consent.recorded", [(rows[index].at, data, ids[rows[index].subject][0])
                                     for index, data in decisions(rows)])


def decisions(rows: Sequence[Any]) -> list[tuple[int, dict[str, Any]]]:
    """The data of the ``consent.recorded`` message of each decision among ``rows``
    (:class:`consent.writer.Row`), after the index of its row: the language and hash of the
    text shown, and the other documents its acceptance accepted in ``bundle``."""
    found: list[tuple[int, dict[str, Any]]] = []
    heads: dict[int, dict[str, Any]] = {}
    for index, row in enumerate(rows):
        entry = row.entry
        if row.action not in _DECISIONS or entry is None:
            continue
        if row.head is not None:
            head = heads.get(row.head)
            if head is not None:
                head.setdefault("bundle", []).append({"document": entry.document,
                                                      "version": entry.id})
            continue
        shown = entry.text(row.language) or entry.texts[0]
        data = heads[index] = {"subject": row.subject, "document": entry.document,
                               "version": entry.id, "action": ACTION_LABELS[row.action],
                               "channel": row.channel, "language": shown.language,
                               "content_sha256": shown.content_sha256}
        found.append((index, data))
    return found


def published(tx: Tx, added: Iterable[tuple[str, str]], today: date) -> None:
    """``version.published`` for the versions ``added`` (``(slug, version id)``) just now;
    those already in force on ``today`` are marked as come into force (they are when
    published: no ``version.in_force`` follows)."""
    rows = [tx.execute(_VERSION + "WHERE d.slug = ? AND v.version = ?", key).fetchone()
            for key in added]
    now = to_micros(None)
    enqueue(tx, "version.published", [(now, _version(row), None) for row in rows])
    tx.executemany("INSERT INTO in_force_sent (version) VALUES (?) ON CONFLICT DO NOTHING",
                   [(row[0],) for row in rows if row[3] <= today.isoformat()])


def in_force_due(tx: Tx, today: date) -> bool:
    """Whether a version took effect by ``today`` without its ``version.in_force`` yet."""
    return tx.execute("SELECT 1 FROM versions WHERE effective <= ? AND id NOT IN "
                      "(SELECT version FROM in_force_sent) LIMIT 1",
                      (today.isoformat(),)).fetchone() is not None


def in_force(tx: Tx, today: date) -> list[str]:
    """``version.in_force`` for each version whose effective date came by ``today`` and was not
    sent yet, once each (marked in the same transaction); returns them as ``slug version``."""
    marked = [version for (version,) in tx.execute(
        "INSERT INTO in_force_sent (version) SELECT id FROM versions WHERE effective <= ? "
        "AND id NOT IN (SELECT version FROM in_force_sent) ON CONFLICT DO NOTHING "
        "RETURNING version", (today.isoformat(),)).fetchall()]
    if not marked:
        return []
    among, param = tx.any_of(marked)
    rows = tx.execute(_VERSION + f"WHERE v.id {among} ORDER BY v.effective, v.position",
                      (param,)).fetchall()
    enqueue(tx, "version.in_force", [(to_micros(row[3]), _version(row), None) for row in rows])
    return [f"{row[1]} {row[2]}" for row in rows]


def _version(row: tuple[Any, ...]) -> dict[str, Any]:
    _, slug, version, effective, title, summary, flag, verdict, sha = row
    return {"document": slug, "version": version, "effective": effective, "title": title,
            "summary": summary, "material": bool(flag if flag is not None else verdict),
            "content_sha256": sha}


def erased(tx: Tx, subject: int, pseudonym: str) -> None:
    """In an erasure's transaction: the messages waiting about the subject (row id
    ``subject``) name ``pseudonym`` instead of its id, and ``subject.erased`` names the
    pseudonym only."""
    rewritten = []
    for row_id, data in tx.execute("SELECT id, data FROM outbox WHERE subject = ?",
                                   (subject,)).fetchall():
        rewritten.append((compact_json({**json.loads(data), "subject": pseudonym}), row_id))
    tx.executemany("UPDATE outbox SET data = ? WHERE id = ?", rewritten)
    enqueue(tx, "subject.erased", [(to_micros(None), {"pseudonym": pseudonym}, None)])


# Delivery state


@dataclass(frozen=True, kw_only=True, slots=True)
class Claimed:
    """A message claimed for delivery, with what its endpoint needs."""

    id: int
    endpoint: str
    msg: str
    type: str
    body: str
    """What is sent (see :func:`body`)."""
    attempts: int
    first_failed: int | None
    url: str
    secret: str
    last_delivered: int | None


def anything_due(store: Store, now: int) -> bool:
    """Whether a message of an enabled endpoint is due by ``now`` (a read: no lock taken)."""
    return store.reads().execute(f"SELECT 1 {_DUE} LIMIT 1", (now,)).fetchone() is not None


def claim(store: Store, token: str, due_by: int, until: int, limit: int) -> list[Claimed]:
    """Claim up to ``limit`` messages due by ``due_by`` (the soonest due first), marked with
    ``token``, until ``until``: other deliveries leave them alone till then."""
    with store.write() as tx:
        rows = tx.execute(
            "UPDATE outbox SET due = ?, claim = ? WHERE given_up IS NULL AND due <= ? AND "
            f"id IN (SELECT o.id {_DUE} ORDER BY o.due LIMIT ?) "
            "RETURNING id, endpoint, msg, type, at, data, attempts, first_failed",
            (until, token, due_by, due_by, limit)).fetchall()
        if not rows:
            return []
        among, param = tx.any_of(sorted({row[1] for row in rows}))
        endpoints = {id_: (url, secret, last) for id_, url, secret, last in tx.execute(
            f"SELECT id, url, secret, last_delivered FROM webhooks WHERE id {among}", (param,))}
    return sorted((Claimed(id=row_id, endpoint=endpoint, msg=msg, type=kind,
                           body=body(kind, at, data), attempts=attempts, first_failed=first,
                           url=endpoints[endpoint][0], secret=endpoints[endpoint][1],
                           last_delivered=endpoints[endpoint][2])
                   for row_id, endpoint, msg, kind, at, data, attempts, first in rows
                   if endpoint in endpoints), key=lambda claimed: claimed.id)


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcomes:
    """What became of claimed messages, for :func:`settle`."""

    delivered: list[tuple[str, int]]
    """``(endpoint, row id)`` of each message delivered."""
    retried: list[tuple[int, str, int]]
    """``(due, error, row id)`` of each failed attempt to retry at ``due``."""
    given_up: list[tuple[str, int]]
    """``(error, row id)`` of each message whose retries ran out."""
    deferred: list[tuple[int, int]]
    """``(due, row id)`` of each message not tried (its endpoint had just failed)."""
    disabled: dict[str, str]
    """Endpoints to disable, with the reason."""


def settle(store: Store, token: str, now: int, outcomes: Outcomes) -> None:
    """Record what the delivery of the messages claimed with ``token`` did, in one
    transaction. A message claimed since by another delivery (its lease ran out) is left to
    it, unless delivered: then it is deleted."""
    counts: dict[str, int] = {}
    for endpoint, _ in outcomes.delivered:
        counts[endpoint] = counts.get(endpoint, 0) + 1
    with store.write() as tx:
        tx.executemany("DELETE FROM outbox WHERE id = ?",
                       [(row_id,) for _, row_id in outcomes.delivered])
        tx.executemany("UPDATE webhooks SET delivered = delivered + ?, last_delivered = ? "
                       "WHERE id = ?", [(count, now, endpoint) for endpoint, count in counts.items()])
        tx.executemany("UPDATE outbox SET due = ?, claim = NULL, attempts = attempts + 1, "
                       "first_failed = coalesce(first_failed, ?), last_error = ? "
                       "WHERE id = ? AND claim = ?",
                       [(due, now, error, row_id, token) for due, error, row_id in outcomes.retried])
        tx.executemany("UPDATE outbox SET given_up = ?, claim = NULL, attempts = attempts + 1, "
                       "last_error = ? WHERE id = ? AND claim = ?",
                       [(now, error, row_id, token) for error, row_id in outcomes.given_up])
        tx.executemany("UPDATE outbox SET due = ?, claim = NULL WHERE id = ? AND claim = ?",
                       [(due, row_id, token) for due, row_id in outcomes.deferred])
        tx.executemany("UPDATE webhooks SET disabled = ?, reason = ? "
                       "WHERE id = ? AND disabled IS NULL",
                       [(now, reason, endpoint) for endpoint, reason in outcomes.disabled.items()])
