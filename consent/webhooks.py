"""The webhook endpoints of a ledger (``Ledger.webhooks``): add, list, disable, enable and
remove them, see what failed, and deliver (see :mod:`consent.delivery`).

An endpoint's signing secret is ``whsec_`` and 32 random bytes in base64, as the Standard
Webhooks specification has it. It is shown once, when the endpoint is added, and kept in the
ledger's ``webhooks`` table: each delivery's HMAC is computed with the secret itself, so a
hash of it (as for API keys) cannot sign, and an encryption key would have to sit beside the
ledger wherever it is served from, protected no better than the ledger. Whoever can read the
ledger can therefore sign as it: protect the ledger's file or database as the personal data it
holds already requires, and replace an endpoint (remove it, add it again) if it leaked.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .addresses import check_url
from .errors import InvalidWebhook, UnknownWebhook, short
from .outbox import BITS, EVENT_TYPES
from .records import iso, possible_id, to_micros
from .store import Store
from .values import DeliveryRun, Webhook, WebhookFailure, WebhookStatus

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
_COLUMNS = ("w.id, w.url, w.events, w.created, w.disabled, w.reason, w.delivered, "
            "w.last_delivered, (SELECT count(*) FROM outbox o WHERE o.endpoint = w.id), "
            "(SELECT count(*) FROM outbox o WHERE o.endpoint = w.id AND o.attempts > 0)")
MAX_FAILURES = 1000
"""Most failed messages :meth:`Webhooks.status` lists (the oldest first)."""


def event_bits(events: Iterable[str] | str) -> int:
    """The bit set of ``events`` (names of :data:`EVENT_TYPES`, or one text of names separated
    by commas); raises :class:`InvalidWebhook` naming an unknown one."""
    names = [e.strip() for e in events.split(",")] if isinstance(events, str) else list(events)
    if not names or names == [""]:
        raise InvalidWebhook(f"a webhook needs at least one event type: "
                             f"{', '.join(EVENT_TYPES)}")
    bits = 0
    for name in names:
        if name not in BITS:
            raise InvalidWebhook(f"unknown event type {short(name)}; the types are: "
                                 f"{', '.join(EVENT_TYPES)}")
        bits |= BITS[name]
    return bits


class Webhooks:
    """The webhook endpoints of the ledger whose storage is ``store``."""

    def __init__(self, store: Store):
        self._store = store

    def add(self, url: str, events: Iterable[str] | str = EVENT_TYPES, *,
            allow_private: bool = False) -> tuple[Webhook, str]:
        """Register an endpoint for ``events`` (all types by default); returns it and its
        signing secret, which is shown only now. Raises :class:`InvalidWebhook` for a URL
        that is not ``http(s)``, holds credentials or a fragment, or whose host is on a
        private, loopback or link-local address (unless ``allow_private``), and for an
        unknown event type.

        :param allow_private: accept hosts on private addresses (tests, internal networks).
            Defaults to refusing them.
        """
        bits = event_bits(events)
        url = check_url(url, allow_private=allow_private)
        webhook_id = "wh_" + secrets.token_hex(8)
        secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
        with self._store.write() as tx:
            tx.execute("INSERT INTO webhooks (id, url, events, secret, created) "
                       "VALUES (?, ?, ?, ?, ?)", (webhook_id, url, bits, secret, to_micros(None)))
        return self.get(webhook_id), secret

    def list(self) -> list[Webhook]:
        """Every endpoint, disabled ones included, oldest first."""
        rows = self._store.reads().execute(
            f"SELECT {_COLUMNS} FROM webhooks w ORDER BY w.created, w.id").fetchall()
        return [_webhook(row) for row in rows]

    def get(self, webhook_id: str) -> Webhook:
        """The endpoint ``webhook_id``; raises :class:`UnknownWebhook`."""
        return self._in(self._store.reads(), webhook_id)

    def status(self, webhook_id: str) -> WebhookStatus:
        """The endpoint and the messages whose delivery to it failed (up to
        :data:`MAX_FAILURES`, oldest first): being retried, given up, or kept while it is
        disabled."""
        with self._store.read() as tx:
            webhook = self._in(tx, webhook_id)
            rows = tx.execute("SELECT msg, type, attempts, first_failed, last_error, due, given_up "
                              "FROM outbox WHERE endpoint = ? AND attempts > 0 "
                              "ORDER BY first_failed, id LIMIT ?",
                              (webhook_id, MAX_FAILURES)).fetchall()
        return WebhookStatus(webhook=webhook, failures=tuple(
            WebhookFailure(message=msg, type=kind, attempts=attempts, first_failed=iso(first),
                           last_error=error or "",
                           next_attempt=None if given_up or not webhook.enabled else iso(due),
                           given_up=iso(given_up) if given_up else None)
            for msg, kind, attempts, first, error, due, given_up in rows))

    def disable(self, webhook_id: str) -> Webhook:
        """Stop delivering to the endpoint; its waiting messages are kept, and events that
        happen meanwhile are not queued for it. Disabling twice is harmless."""
        with self._store.write() as tx:
            self._in(tx, webhook_id)
            tx.execute("UPDATE webhooks SET disabled = ?, reason = ? "
                       "WHERE id = ? AND disabled IS NULL",
                       (to_micros(None), "disabled by hand", webhook_id))
        return self.get(webhook_id)

    def enable(self, webhook_id: str) -> Webhook:
        """Deliver to the endpoint again: every message kept for it, given-up ones included,
        is tried at once and has a new retry period."""
        with self._store.write() as tx:
            self._in(tx, webhook_id)
            tx.execute("UPDATE webhooks SET disabled = NULL, reason = NULL WHERE id = ?",
                       (webhook_id,))
            tx.execute("UPDATE outbox SET due = ?, given_up = NULL, first_failed = NULL, "
                       "claim = NULL WHERE endpoint = ?", (to_micros(None), webhook_id))
        return self.get(webhook_id)

    def remove(self, webhook_id: str) -> Webhook:
        """Delete the endpoint and the messages waiting for it; returns it as it was."""
        with self._store.write() as tx:
            webhook = self._in(tx, webhook_id)
            tx.execute("DELETE FROM outbox WHERE endpoint = ?", (webhook_id,))
            tx.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))
        return webhook

    def deliver(self, settings: Any = None, *, at: datetime | str | None = None) -> DeliveryRun:
        """Run the delivery once, as a cron job would: send ``version.in_force`` for the
        versions whose effective date came by ``at`` (now by default), then try every message
        due now, once. See :class:`consent.delivery.Delivery`.

        :param settings: a :class:`consent.delivery.DeliverySettings`. Defaults to its
            defaults.
        """
        from .delivery import Delivery, DeliverySettings

        delivery = Delivery(self._store, settings or DeliverySettings())
        try:
            return delivery.run(at=at)
        finally:
            delivery.close()

    def start(self, settings: Any = None) -> Any:
        """Start delivering in a background thread of this process, until the returned
        :class:`consent.delivery.DeliveryWorker` is stopped (``termsledger serve`` runs one in
        each worker process; claims keep two of them from sending one message at once)."""
        from .delivery import Delivery, DeliverySettings, DeliveryWorker

        return DeliveryWorker(Delivery(self._store, settings or DeliverySettings()))

    def _in(self, tx: Any, webhook_id: str) -> Webhook:
        """The endpoint ``webhook_id``, read in ``tx``; raises :class:`UnknownWebhook`."""
        row = None
        if possible_id(webhook_id):
            row = tx.execute(f"SELECT {_COLUMNS} FROM webhooks w WHERE w.id = ?",
                             (webhook_id,)).fetchone()
        if row is None:
            raise UnknownWebhook(f"no webhook endpoint has the id {short(webhook_id)} "
                                 f"(`termsledger webhooks list` shows them)")
        return _webhook(row)


def _webhook(row: tuple[Any, ...]) -> Webhook:
    (webhook_id, url, bits, created, disabled, reason, delivered, last_delivered, pending,
     failing) = row
    return Webhook(id=webhook_id, url=url,
                   events=tuple(kind for kind in EVENT_TYPES if bits & BITS[kind]),
                   created=iso(created), enabled=disabled is None,
                   disabled=iso(disabled) if disabled is not None else None,
                   disabled_reason=reason, delivered=delivered,
                   last_delivered=iso(last_delivered) if last_delivered is not None else None,
                   pending=pending, failing=failing)
