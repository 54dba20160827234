"""The HTTP API of ``termsledger serve`` from Python, with :class:`consent.Ledger`'s names.

>>> from termsledger.client import Client
>>> with Client("http://127.0.0.1:8080", "tl_...") as ledger:       # doctest: +SKIP
...     ledger.record("user-42", "terms", evidence={"ip": "203.0.113.9"})
...     ledger.status("user-42", "terms").status
'current'

:class:`Client` (httpx, synchronous) and :class:`AsyncClient` (the same methods, awaited)
return the ledger's own values (:class:`consent.Status`, :class:`consent.Event`...) and raise
its own errors (:class:`consent.UnpublishedDocument`, :class:`consent.InvalidSubject`,
:class:`consent.StorageUnavailable`...), found by the error body's ``code``; an error that is
not the ledger's (a wrong key, a malformed request) is an :class:`APIError`. Either way the
answer's ``status``, ``code``, ``message``, ``fields`` and ``retry_after`` are on the
:class:`APIError` (for a ledger error: its ``__cause__``).

Calls that can be repeated safely are retried, a bounded number of times, after a connection
error or a 503 whose ``Retry-After`` is short enough: reads, and the writes ``record`` and
``mark_notified``, which send an ``Idempotency-Key`` the client makes (the same one on every
try, so a write is recorded once). ``erase`` is not retried: a second erasure of a subject
answers that it is unknown.

Each method builds a :class:`Call` (what to send, whether it may be retried, how to read the
answer) that both classes send; a new route needs one builder and a line in each class.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

import consent
from consent import (
    CatalogDocument,
    CatalogVersion,
    ConsentError,
    Erasure,
    Event,
    Marked,
    Required,
    Requirement,
    Status,
    Text,
    Verification,
    VersionText,
    WorklistPage,
)
from consent.receipts import SignedReceipt

__all__ = ["APIError", "AsyncClient", "Call", "Client", "ledger_error_class"]

RETRIES = 3
"""Retries of a call that can be repeated, after its first try."""
MAX_RETRY_WAIT = 10.0
"""Longest wait before a retry, in seconds: a 503 asking for more is raised at once."""
PAGE_SIZE = 1000
"""Subjects per request of :meth:`Client.pending_notifications`."""
_RETRYABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
T = TypeVar("T")
"""What a call's answer is read as."""


class APIError(Exception):
    """An error answer of the API: its HTTP ``status``, stable ``code``, ``message`` and the
    request's ``fields`` at fault; ``retry_after``: the seconds a 503 asked to wait."""

    def __init__(self, status: int, code: str, message: str, *,
                 fields: tuple[dict[str, str], ...] = (), retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.retry_after = retry_after


@dataclass(frozen=True, kw_only=True, slots=True)
class Call(Generic[T]):
    """One API call: the request, whether it may be repeated, and how to read the answer."""

    method: str
    path: str
    read: Callable[[Any], T]
    """The JSON body of a 2xx answer to the value returned."""
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    repeatable: bool = True
    """Whether sending it again is harmless (reads, and writes under an Idempotency-Key)."""
    idempotency_key: str | None = None


class _Calls:
    """The calls of the API, built from :class:`consent.Ledger`'s arguments."""

    def catalog(self, at: datetime | str | None = None, *,
                document: str | None = None) -> Call[list[CatalogDocument]]:
        return Call(method="GET", path="/v1/documents", params=_params(at=at, document=document),
                    read=lambda data: [_document(d) for d in data["documents"]])

    def text(self, document: str, version: str,
             language: str | None = None) -> Call[VersionText]:
        return Call(method="GET", path=f"/v1/documents/{_segment(document)}/versions/"
                                       f"{_segment(version)}", params=_params(lang=language),
                    read=lambda data: _value(VersionText, data))

    def required(self, subject: str, at: datetime | str | None = None, *,
                 language: str | None = None) -> Call[Required]:
        return Call(method="GET", path=f"/v1/subjects/{_segment(subject)}/required",
                    params=_params(at=at, lang=language), read=_required)

    def record(self, subject: str, document: str, action: str = "accepted",
               version: str | None = None, *, channel: str = "api",
               evidence: dict[str, Any] | None = None, sha256: str | None = None,
               language: str | None = None,
               idempotency_key: str | None = None) -> Call[tuple[Event, ...]]:
        body = {"subject": subject, "document": document, "action": action, "channel": channel,
                "evidence": evidence or {}}
        body |= {k: v for k, v in (("version", version), ("sha256", sha256),
                                   ("language", language)) if v is not None}
        return Call(method="POST", path="/v1/consents", body=body,
                    idempotency_key=idempotency_key or _new_key(),
                    read=lambda data: tuple(_value(Event, e) for e in data["events"]))

    def status(self, subject: str, document: str, at: datetime | str | None = None) -> Call[Status]:
        return Call(method="GET", path=f"/v1/subjects/{_segment(subject)}/status",
                    params=_params(document=document, at=at),
                    read=lambda data: _value(Status, data))

    def status_all(self, subject: str, at: datetime | str | None = None) -> Call[list[Status]]:
        return Call(method="GET", path=f"/v1/subjects/{_segment(subject)}/status",
                    params=_params(at=at),
                    read=lambda data: [_value(Status, s) for s in data["statuses"]])

    def statuses(self, subjects: Iterable[str], document: str,
                 at: datetime | str | None = None) -> Call[list[Status]]:
        body = {"subjects": list(subjects), "document": document} | _params(at=at)
        return Call(method="POST", path="/v1/subjects/status", body=body,
                    read=lambda data: [_value(Status, s) for s in data["statuses"]])

    def pending_page(self, document: str, version: str, *, cursor: str | None = None,
                     limit: int = 100) -> Call[WorklistPage]:
        return Call(method="GET", path="/v1/notifications",
                    params=_params(document=document, version=version, cursor=cursor,
                                   limit=limit),
                    read=lambda data: WorklistPage(subjects=tuple(data["subjects"]),
                                                   next_cursor=data["next_cursor"]))

    def mark_notified(self, subjects: Iterable[str], document: str, version: str, *,
                      channel: str = "email", idempotency_key: str | None = None) -> Call[Marked]:
        body = {"subjects": list(subjects), "document": document, "version": version,
                "channel": channel}
        return Call(method="POST", path="/v1/notifications/ack", body=body,
                    idempotency_key=idempotency_key or _new_key(),
                    read=lambda data: Marked(data["marked"], tuple(data["unknown"])))

    def history(self, subject: str) -> Call[list[Event]]:
        return Call(method="GET", path=f"/v1/subjects/{_segment(subject)}/history",
                    read=lambda data: [_value(Event, e) for e in data["events"]])

    def export(self, subject: str) -> Call[dict[str, Any]]:
        return Call(method="GET", path=f"/v1/subjects/{_segment(subject)}/export",
                    read=lambda data: data)

    def erase(self, subject: str) -> Call[Erasure]:
        return Call(method="DELETE", path=f"/v1/subjects/{_segment(subject)}",
                    repeatable=False, read=lambda data: _value(Erasure, data))

    def verify(self, *, anchor: str | None = None) -> Call[Verification]:
        return Call(method="GET", path="/v1/verify", params=_params(anchor=anchor),
                    read=lambda data: _value(Verification, data))

    def receipt(self, event: Event | str, *, with_salt: bool = False,
                size: int | None = None) -> Call[SignedReceipt]:
        where = event if isinstance(event, str) else (
            f"{event.seq}" if event.chain == 0 else f"{event.chain}.{event.seq}")
        return Call(method="GET", path=f"/v1/receipts/{_segment(where)}",
                    params=_params(size=size, with_salt="true" if with_salt else None),
                    read=lambda data: SignedReceipt.parse(json.dumps(data["receipt"])))


_CALLS = _Calls()


class _Base:
    def __init__(self, base_url: str, key: str, *, timeout: float = 10.0,
                 retries: int = RETRIES, max_retry_wait: float = MAX_RETRY_WAIT,
                 transport: Any = None):
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.max_retry_wait = max_retry_wait
        self._http = self._open({
            "base_url": self.base_url, "timeout": timeout, "transport": transport,
            "headers": {"Authorization": f"Bearer {key}",
                        "User-Agent": f"termsledger-client httpx/{httpx.__version__}"}})

    def _open(self, options: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _wait(self, call: Call[Any], attempt: int, answer: httpx.Response | None) -> float | None:
        """Seconds to wait before trying ``call`` again, or ``None`` not to."""
        if not call.repeatable or attempt >= self.retries:
            return None
        if answer is None:  # a connection error
            return min(self.max_retry_wait, 0.1 * 2.0 ** attempt * (1 + random.random()))
        if answer.status_code != 503:
            return None
        asked = _retry_after(answer)
        wait = asked if asked is not None else 0.5 * 2.0 ** attempt
        return wait if wait <= self.max_retry_wait else None


class Client(_Base):
    """The API at ``base_url`` with the API key ``key``; one connection pool, thread-safe.

    :param timeout: seconds to wait for each answer. Defaults to 10.
    :param retries: retries of a repeatable call. Defaults to :data:`RETRIES`.
    :param max_retry_wait: longest wait before a retry, in seconds. Defaults to
        :data:`MAX_RETRY_WAIT`.
    :param transport: an ``httpx.BaseTransport`` (``AsyncBaseTransport`` for
        :class:`AsyncClient`) to send requests through. Defaults to httpx's.
    """

    def _open(self, options: dict[str, Any]) -> httpx.Client:
        return httpx.Client(**options)

    def send(self, call: Call[T]) -> T:
        """Send ``call``, retrying it as it allows; its answer read, or the error raised."""
        headers = {"Idempotency-Key": call.idempotency_key} if call.idempotency_key else None
        for attempt in range(self.retries + 1):
            try:
                answer = self._http.request(call.method, call.path, params=call.params,
                                            json=call.body, headers=headers)
            except _RETRYABLE:
                wait = self._wait(call, attempt, None)
                if wait is None:
                    raise
            else:
                wait = self._wait(call, attempt, answer)
                if wait is None:
                    return _answer(call, answer)
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def catalog(self, at: datetime | str | None = None, *,
                document: str | None = None) -> list[CatalogDocument]:
        """Every published document (or only ``document``), with what is in force and
        announced at ``at``."""
        return self.send(_CALLS.catalog(at, document=document))

    def text(self, document: str, version: str, language: str | None = None) -> VersionText:
        """The exact text of ``version`` of ``document``, in ``language`` where it has one;
        see :meth:`consent.Ledger.text`."""
        return self.send(_CALLS.text(document, version, language))

    def required(self, subject: str, at: datetime | str | None = None, *,
                 language: str | None = None) -> Required:
        """What the product must do now about ``subject`` (an empty ``required`` lets them
        in); see :meth:`consent.Ledger.required`."""
        return self.send(_CALLS.required(subject, at, language=language))

    def record(self, subject: str, document: str, action: str = "accepted",
               version: str | None = None, *, channel: str = "api",
               evidence: dict[str, Any] | None = None, sha256: str | None = None,
               language: str | None = None, idempotency_key: str | None = None
               ) -> tuple[Event, ...]:
        """Record a decision, as :meth:`consent.Ledger.record`; retried under one
        ``idempotency_key`` (a new one by default). Pass the end user's ``ip`` and
        ``user_agent`` in ``evidence``: else the server records this client's."""
        return self.send(_CALLS.record(subject, document, action, version, channel=channel,
                                       evidence=evidence, sha256=sha256, language=language,
                                       idempotency_key=idempotency_key))

    def status(self, subject: str, document: str, at: datetime | str | None = None) -> Status:
        """Where ``subject`` stands with ``document`` at ``at`` (now by default)."""
        return self.send(_CALLS.status(subject, document, at))

    def status_all(self, subject: str, at: datetime | str | None = None) -> list[Status]:
        """The status of ``subject`` for every published document."""
        return self.send(_CALLS.status_all(subject, at))

    def statuses(self, subjects: Iterable[str], document: str,
                 at: datetime | str | None = None) -> list[Status]:
        """The status of each of ``subjects`` (up to 10,000) for ``document``, in order."""
        return self.send(_CALLS.statuses(subjects, document, at))

    def pending_page(self, document: str, version: str, *, cursor: str | None = None,
                     limit: int = 100) -> WorklistPage:
        """One page of the subjects to notify of ``version``; pass its ``next_cursor`` as
        ``cursor`` for the next."""
        return self.send(_CALLS.pending_page(document, version, cursor=cursor, limit=limit))

    def pending_notifications(self, document: str, version: str, *, cursor: str | None = None,
                              limit: int | None = None) -> Iterator[str]:
        """Every subject to notify of ``version`` (at most ``limit``), page after page."""
        left = limit
        while left is None or left > 0:
            size = PAGE_SIZE if left is None else min(PAGE_SIZE, left)
            page = self.pending_page(document, version, cursor=cursor, limit=size)
            yield from page.subjects
            left = None if left is None else left - len(page.subjects)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def mark_notified(self, subjects: Iterable[str], document: str, version: str, *,
                      channel: str = "email", idempotency_key: str | None = None) -> Marked:
        """Record that ``subjects`` were notified of ``version``; see
        :meth:`consent.Ledger.mark_notified`."""
        return self.send(_CALLS.mark_notified(subjects, document, version, channel=channel,
                                              idempotency_key=idempotency_key))

    def history(self, subject: str) -> list[Event]:
        """The subject's events, oldest first (evidence only with an admin key)."""
        return self.send(_CALLS.history(subject))

    def export(self, subject: str) -> dict[str, Any]:
        """Everything held about ``subject`` (admin key)."""
        return self.send(_CALLS.export(subject))

    def erase(self, subject: str) -> Erasure:
        """Erase ``subject`` (admin key); never retried."""
        return self.send(_CALLS.erase(subject))

    def verify(self, *, anchor: str | None = None) -> Verification:
        """The server's verification of the ledger."""
        return self.send(_CALLS.verify(anchor=anchor))

    def receipt(self, event: Event | str, *, with_salt: bool = False,
                size: int | None = None) -> SignedReceipt:
        """The receipt of ``event`` (an event, its place or the receipt's id) with its proof,
        as :meth:`consent.Ledger.receipt` (``with_salt`` needs an admin key)."""
        return self.send(_CALLS.receipt(event, with_salt=with_salt, size=size))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Base):
    """:class:`Client`'s methods, awaited (``async for`` over :meth:`pending_notifications`)."""

    def _open(self, options: dict[str, Any]) -> httpx.AsyncClient:
        return httpx.AsyncClient(**options)

    async def send(self, call: Call[T]) -> T:
        """Send ``call``, retrying it as it allows; its answer read, or the error raised."""
        headers = {"Idempotency-Key": call.idempotency_key} if call.idempotency_key else None
        for attempt in range(self.retries + 1):
            try:
                answer = await self._http.request(call.method, call.path, params=call.params,
                                                  json=call.body, headers=headers)
            except _RETRYABLE:
                wait = self._wait(call, attempt, None)
                if wait is None:
                    raise
            else:
                wait = self._wait(call, attempt, answer)
                if wait is None:
                    return _answer(call, answer)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def catalog(self, at: datetime | str | None = None, *,
                      document: str | None = None) -> list[CatalogDocument]:
        return await self.send(_CALLS.catalog(at, document=document))

    async def text(self, document: str, version: str,
                   language: str | None = None) -> VersionText:
        return await self.send(_CALLS.text(document, version, language))

    async def required(self, subject: str, at: datetime | str | None = None, *,
                       language: str | None = None) -> Required:
        return await self.send(_CALLS.required(subject, at, language=language))

    async def record(self, subject: str, document: str, action: str = "accepted",
                     version: str | None = None, *, channel: str = "api",
                     evidence: dict[str, Any] | None = None, sha256: str | None = None,
                     language: str | None = None,
                     idempotency_key: str | None = None) -> tuple[Event, ...]:
        return await self.send(_CALLS.record(subject, document, action, version, channel=channel,
                                             evidence=evidence, sha256=sha256, language=language,
                                             idempotency_key=idempotency_key))

    async def status(self, subject: str, document: str,
                     at: datetime | str | None = None) -> Status:
        return await self.send(_CALLS.status(subject, document, at))

    async def status_all(self, subject: str, at: datetime | str | None = None) -> list[Status]:
        return await self.send(_CALLS.status_all(subject, at))

    async def statuses(self, subjects: Iterable[str], document: str,
                       at: datetime | str | None = None) -> list[Status]:
        return await self.send(_CALLS.statuses(subjects, document, at))

    async def pending_page(self, document: str, version: str, *, cursor: str | None = None,
                           limit: int = 100) -> WorklistPage:
        return await self.send(_CALLS.pending_page(document, version, cursor=cursor,
                                                   limit=limit))

    async def pending_notifications(self, document: str, version: str, *,
                                    cursor: str | None = None,
                                    limit: int | None = None) -> AsyncIterator[str]:
        left = limit
        while left is None or left > 0:
            size = PAGE_SIZE if left is None else min(PAGE_SIZE, left)
            page = await self.pending_page(document, version, cursor=cursor, limit=size)
            for subject in page.subjects:
                yield subject
            left = None if left is None else left - len(page.subjects)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def mark_notified(self, subjects: Iterable[str], document: str, version: str, *,
                            channel: str = "email", idempotency_key: str | None = None) -> Marked:
        return await self.send(_CALLS.mark_notified(subjects, document, version, channel=channel,
                                                    idempotency_key=idempotency_key))

    async def history(self, subject: str) -> list[Event]:
        return await self.send(_CALLS.history(subject))

    async def export(self, subject: str) -> dict[str, Any]:
        return await self.send(_CALLS.export(subject))

    async def erase(self, subject: str) -> Erasure:
        return await self.send(_CALLS.erase(subject))

    async def verify(self, *, anchor: str | None = None) -> Verification:
        return await self.send(_CALLS.verify(anchor=anchor))

    async def receipt(self, event: Event | str, *, with_salt: bool = False,
                      size: int | None = None) -> SignedReceipt:
        return await self.send(_CALLS.receipt(event, with_salt=with_salt, size=size))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters (or body fields) of the values given, ``None`` left out; times as
    ISO-8601 text."""
    return {name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in values.items() if value is not None}


def _segment(subject: str) -> str:
    """``subject`` as one path segment: every reserved character percent-encoded, and the
    dots of ``.`` and ``..`` too (URL normalization would drop such a segment)."""
    if subject in (".", ".."):
        return subject.replace(".", "%2E")
    return quote(subject, safe="")


def _new_key() -> str:
    return f"termsledger-client-{uuid.uuid4()}"


def _value(cls: type[T], data: dict[str, Any]) -> T:
    """An instance of the frozen dataclass ``cls`` from its JSON: lists become tuples, and
    fields a newer server adds are left out."""
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{name: tuple(value) if isinstance(value, list) else value
                  for name, value in data.items() if name in known})


def _texts(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with its ``texts`` as :class:`consent.Text` values."""
    return {**data, "texts": tuple(_value(Text, t) for t in data.get("texts", ()))}


def _required(data: dict[str, Any]) -> Required:
    return Required(subject=data["subject"], required=tuple(
        _value(Requirement, _texts(item)) for item in data["required"]))


def _document(data: dict[str, Any]) -> CatalogDocument:
    def version(item: dict[str, Any]) -> CatalogVersion:
        return _value(CatalogVersion, _texts(item))

    return CatalogDocument(
        slug=data["slug"], title=data["title"], required=data.get("required", False),
        in_force=version(data["in_force"]) if data["in_force"] else None,
        announced=tuple(version(v) for v in data["announced"]),
        versions=tuple(version(v) for v in data["versions"]))


def _retry_after(answer: httpx.Response) -> float | None:
    try:
        return max(0.0, float(answer.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _answer(call: Call[T], answer: httpx.Response) -> T:
    """The value of a 2xx answer to ``call``; an error answer raised."""
    if answer.is_success:
        return call.read(answer.json())
    try:
        error = answer.json()["error"]
        found = APIError(int(error["status"]), str(error["code"]), str(error["message"]),
                         fields=tuple(error.get("fields") or ()),
                         retry_after=_retry_after(answer))
    except (ValueError, KeyError, TypeError):  # not the API's error body (a proxy's page...)
        found = APIError(answer.status_code, "http_error",
                         f"HTTP {answer.status_code} from {answer.request.url}: "
                         f"{answer.text[:200]}", retry_after=_retry_after(answer))
    ledger_error = ledger_error_class(found.code)
    if ledger_error is not None:
        raise ledger_error(found.message) from found
    raise found


def ledger_error_class(code: str) -> type[ConsentError] | None:
    """The ledger error whose name is ``code`` in snake case (the API's rule), if any.

    >>> ledger_error_class("unpublished_document")
    <class 'consent.errors.UnpublishedDocument'>
    >>> ledger_error_class("unauthorized") is None
    True
    """
    name = "".join(part.capitalize() for part in code.split("_"))
    found = getattr(consent, name, None) if name in consent.__all__ else None
    return found if isinstance(found, type) and issubclass(found, ConsentError) else None
