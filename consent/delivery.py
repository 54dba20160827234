"""Delivering the outbox's messages to webhook endpoints, as the Standard Webhooks
specification has it.

An attempt is an HTTP POST of the message's body with ``webhook-id`` (the message's id, the
same on every attempt), ``webhook-timestamp`` (the attempt's time, in seconds) and
``webhook-signature`` (``v1,`` and the HMAC-SHA256 over ``id.timestamp.body`` with the
endpoint's secret), signed by the ``standardwebhooks`` package. A 2xx answer delivers the
message; anything else is a failure: another status (redirects are not followed), or a
connection refused, failed or timed out. A failed message is retried after an exponential
backoff with jitter until :attr:`DeliverySettings.retry_for` has passed since its first
failure; then it is given up if its endpoint received other messages meanwhile, and otherwise
the endpoint is disabled (its messages are kept for when it is enabled again).

Attempts run on a bounded pool of threads, outside any transaction, each with a timeout: a slow
or dead receiver holds up no write of the ledger. When a connection to an endpoint fails, its
other messages of the batch wait for the failed one's retry instead of trying too. Connections
go through :class:`GuardedBackend`, which resolves the host at each connection and refuses
private addresses unless allowed, and through no proxy.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any

import httpcore
from standardwebhooks import Webhook as Signer

from . import outbox
from .addresses import RefusedAddress, public_addresses
from .outbox import Claimed, Outcomes
from .records import day_of, iso, to_micros
from .store import Store
from .values import DeliveryRun

log = logging.getLogger("consent.webhooks")
USER_AGENT = b"termsledger-webhooks/1"
MAX_ANSWER = 64 * 1024
"""Bytes of an answer's body read at most (the rest is not waited for)."""
SECOND = 1_000_000
_DEFERRED = "deferred"


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliverySettings:
    """How webhooks are delivered: ``[webhooks]`` of ``termsledger.toml``, where every key
    has the name of a field here. Times are in seconds."""

    allow_private: bool = False
    """Send to hosts on private, loopback or link-local addresses (tests, internal
    networks); refused by default, when endpoints are added and at each connection."""
    timeout: float = 10.0
    """Most seconds an attempt waits to connect, and for each part of the answer."""
    backoff: float = 5.0
    """Seconds before the first retry. Each retry waits twice as long as the one before, up
    to ``max_backoff``, less a random part of up to half of it (jitter)."""
    max_backoff: float = 3600.0
    retry_for: float = 86400.0
    """How long after its first failure a message is retried (24 hours by default)."""
    concurrency: int = 16
    """Most attempts in flight at once, in each process that delivers."""
    poll: float = 1.0
    """Seconds between two runs of the background delivery (:class:`DeliveryWorker`)."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "allow_private":
                if not isinstance(value, bool):
                    raise ValueError(f"allow_private must be true or false, not {value!r}")
            elif field.name == "concurrency":
                if not (type(value) is int and 1 <= value <= 256):
                    raise ValueError(f"concurrency must be a whole number from 1 to 256, "
                                     f"not {value!r}")
            elif not (isinstance(value, (int, float)) and not isinstance(value, bool)
                      and 0 < value < 10**9):
                raise ValueError(f"{field.name} must be a positive number of seconds, "
                                 f"not {value!r}")

    @property
    def batch(self) -> int:
        """Messages claimed at once: four rounds of the attempts in flight."""
        return 4 * self.concurrency

    @property
    def lease(self) -> float:
        """Seconds a claim keeps messages from other deliveries: the timeouts of a batch's
        four rounds and one more, and a second."""
        return 5 * self.timeout + 1

    def delay(self, attempts: int) -> int:
        """Microseconds to wait before the next attempt after ``attempts`` failed ones."""
        longest = min(self.max_backoff, self.backoff * 2.0 ** min(attempts - 1, 64))
        return int(longest * random.uniform(0.5, 1.0) * SECOND)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, resolving the host at each connection and refusing private
    addresses unless ``allow_private``: a name public when its endpoint was added may point
    elsewhere since (DNS rebinding)."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None
                    ) -> httpcore.NetworkStream:
        try:
            addresses = public_addresses(host, port, allow_private=self.allow_private)
        except OSError as error:
            raise httpcore.ConnectError(f"{host} cannot be resolved ({error})") from None
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error
        raise failure or httpcore.ConnectError(f"{host} has no address")


class Delivery:
    """Sends the due messages of the outbox of the ledger stored in ``store``; :meth:`close`
    it after use."""

    def __init__(self, store: Store, settings: DeliverySettings):
        self._store = store
        self.settings = settings
        self._http = httpcore.ConnectionPool(
            max_connections=settings.concurrency, keepalive_expiry=30.0, retries=0,
            network_backend=GuardedBackend(settings.allow_private))
        self._threads = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="webhook")
        self._signers: dict[str, Signer] = {}
        seconds = settings.timeout
        self._timeouts = {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}

    def run(self, *, at: datetime | str | None = None,
            stop: threading.Event | None = None) -> DeliveryRun:
        """Send ``version.in_force`` for the versions whose effective date came by ``at`` (now
        by default), then try each message due at the start of the run once, a batch at a
        time (until ``stop`` is set)."""
        in_force = self._in_force(at)
        start = to_micros(None)
        lease = int(self.settings.lease * SECOND)
        delivered = failed = deferred = 0
        disabled: list[str] = []
        while (stop is None or not stop.is_set()) and outbox.anything_due(self._store, start):
            token = secrets.token_hex(8)
            claimed = outbox.claim(self._store, token, start, to_micros(None) + lease,
                                   self.settings.batch)
            if not claimed:
                break
            outcomes = self._attempt(claimed)
            outbox.settle(self._store, token, to_micros(None), outcomes)
            delivered += len(outcomes.delivered)
            failed += len(outcomes.retried) + len(outcomes.given_up)
            deferred += len(outcomes.deferred)
            for endpoint, reason in outcomes.disabled.items():
                log.warning("webhook endpoint %s disabled: %s", endpoint, reason)
                disabled.append(endpoint)
        return DeliveryRun(delivered=delivered, failed=failed, deferred=deferred,
                           in_force=in_force, disabled=tuple(disabled))

    def close(self) -> None:
        """Stop the attempts' threads and close the connections."""
        self._threads.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    def _in_force(self, at: datetime | str | None) -> tuple[str, ...]:
        today = day_of(to_micros(at))
        if not outbox.in_force_due(self._store.reads(), today):
            return ()
        with self._store.write() as tx:
            return tuple(outbox.in_force(tx, today))

    def _attempt(self, claimed: list[Claimed]) -> Outcomes:
        """Try each claimed message (those of an endpoint that could not be reached meanwhile
        are deferred) and decide what becomes of it."""
        unreachable: set[str] = set()

        def attempt(message: Claimed) -> str | None:
            if message.endpoint in unreachable:
                return _DEFERRED
            error, down = self._post(message)
            if down:
                unreachable.add(message.endpoint)
            return error

        results = list(self._threads.map(attempt, claimed))
        now = to_micros(None)
        reached = {m.endpoint for m, result in zip(claimed, results, strict=True) if result is None}
        outcomes = Outcomes(delivered=[], retried=[], given_up=[], deferred=[], disabled={})
        next_due: dict[str, int] = {}
        for message, result in zip(claimed, results, strict=True):
            if result is None:
                outcomes.delivered.append((message.endpoint, message.id))
            elif result != _DEFERRED:
                due = self._failed(message, result, now, reached, outcomes)
                next_due[message.endpoint] = min(due, next_due.get(message.endpoint, due))
        outcomes.deferred.extend((next_due.get(m.endpoint, now), m.id)
                                 for m, result in zip(claimed, results, strict=True)
                                 if result == _DEFERRED)
        return outcomes

    def _failed(self, message: Claimed, error: str, now: int, reached: set[str],
                outcomes: Outcomes) -> int:
        """Record the failed attempt of ``message`` in ``outcomes``; returns when it is due
        again."""
        first = message.first_failed if message.first_failed is not None else now
        if now - first < self.settings.retry_for * SECOND:
            due = now + self.settings.delay(message.attempts + 1)
            outcomes.retried.append((due, error, message.id))
            return due
        if message.endpoint in reached or (message.last_delivered or 0) >= first:
            outcomes.given_up.append((error, message.id))
            return now
        outcomes.disabled.setdefault(
            message.endpoint, f"no delivery succeeded since {iso(first)}, for "
                              f"{self.settings.retry_for:g} s of retries; last error: {error}")
        outcomes.retried.append((now, error, message.id))
        return now

    def _post(self, message: Claimed) -> tuple[str | None, bool]:
        """One attempt: ``(None, False)`` when delivered, else ``(what went wrong, whether the
        endpoint could not be reached at all)``."""
        signer = self._signers.get(message.secret)
        if signer is None:
            signer = self._signers[message.secret] = Signer(message.secret)
        seconds = int(time.time())
        signature = signer.sign(message.msg, datetime.fromtimestamp(seconds, timezone.utc),
                                message.body)
        headers = [(b"content-type", b"application/json"), (b"user-agent", USER_AGENT),
                   (b"webhook-id", message.msg.encode()),
                   (b"webhook-timestamp", str(seconds).encode()),
                   (b"webhook-signature", signature.encode())]
        timeout = self.settings.timeout
        try:
            with self._http.stream("POST", message.url, headers=headers,
                                   content=message.body.encode(),
                                   extensions={"timeout": self._timeouts}) as answer:
                status = answer.status
                deadline, read = time.monotonic() + timeout, 0
                for chunk in answer.iter_stream():
                    read += len(chunk)
                    if read > MAX_ANSWER or time.monotonic() > deadline:
                        break
        except RefusedAddress as error:
            return f"refused: {error}", True
        except httpcore.TimeoutException:
            return f"no answer within {timeout:g} s", True
        except httpcore.ConnectError as error:
            return f"cannot connect: {error}", True
        except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as error:
            return f"the connection failed: {error or type(error).__name__}", True
        if 200 <= status < 300:
            return None, False
        moved = " (redirects are not followed)" if 300 <= status < 400 else ""
        return f"HTTP {status}{moved}", False


class DeliveryWorker:
    """Runs a :class:`Delivery` every :attr:`DeliverySettings.poll` seconds in a background
    thread, until :meth:`stop`."""

    def __init__(self, delivery: Delivery):
        self.delivery = delivery
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="webhook-delivery", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                self.delivery.run(stop=self._stop)
            except Exception:  # the storage is unavailable, say: try again at the next poll
                log.exception("webhook delivery failed; it runs again in %g s",
                              self.delivery.settings.poll)
            self._stop.wait(self.delivery.settings.poll)

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the batch in flight (waiting up to ``timeout`` seconds), then close
        the connections."""
        self._stop.set()
        self._thread.join(timeout)
        self.delivery.close()
