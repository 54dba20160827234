"""HTTP plumbing of the API: the one error type and where it is rendered, fast JSON,
the request body limit, HEAD, and routes that check their API key before reading the body."""

from __future__ import annotations

import asyncio
import codecs
import difflib
import inspect
import json
import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, cast
from urllib.parse import unquote_to_bytes

import orjson
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

import consent
from consent.errors import cut

from ._models import PATTERN_WORDS

MAX_BODY = 1024 * 1024
"""Largest request body accepted, in bytes (1 MiB)..."""
MAX_IMPORT = 64 * 1024 * 1024
"""... but for an import (64 MiB)."""
IMPORT_PATH = "/v1/consents:import"

log = logging.getLogger("termsledger.api")


class APIError(HTTPException):
    """An error the API reports to its caller: an HTTP status, a stable ``code`` and a
    message that says what to fix. Subclasses Starlette's so that FastAPI lets it through."""

    def __init__(self, status: int, code: str, message: str, *,
                 fields: list[dict[str, str]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code = code
        self.fields = fields


class JSON(JSONResponse):
    """A JSON response encoded with orjson, much faster than FastAPI's default encoder;
    it encodes the ledger's frozen dataclasses as they are. (A ``JSONResponse``, so that
    OpenAPI documents each route's response model.)"""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:  # evidence may hold any JSON number, orjson only 64-bit integers
            return json.dumps(content, default=_value, ensure_ascii=False,
                              separators=(",", ":")).encode()


def plain(content: Any) -> Any:
    """``content`` (the ledger's values within lists and dicts) as plain JSON data."""
    try:
        return orjson.loads(orjson.dumps(content))  # fast
    except TypeError:
        return json.loads(json.dumps(content, default=_value))


def _value(value: Any) -> Any:
    """A ledger value as JSON data, for :mod:`json` (orjson encodes dataclasses itself)."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_STATUS = {consent.UnknownSubject: 404, consent.UnknownReceipt: 404,
           consent.UnknownCheckpoint: 404, consent.UnknownWebhook: 404,
           consent.IdempotencyConflict: 409, consent.ChangedVersion: 409,
           consent.OutdatedVersion: 409, consent.StorageUnavailable: 503,
           consent.CheckpointIncomplete: 503, consent.SigningKeyError: 503,
           consent.DamagedLog: 500, consent.StorageRefused: 503}
"""Statuses of the ledger's errors other than 422: the refusals of bad input."""
_RETRY_AFTER = {consent.StorageFull: "60", consent.StorageUnavailable: "5",
                consent.CheckpointIncomplete: "5", consent.SigningKeyError: "60"}
"""Seconds a client should wait before retrying, per error (``Retry-After``)."""
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 413: "too_large", 422: "invalid"}
_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")


def error_code(error: type[consent.ConsentError]) -> str:
    """The API's ``code`` of a ledger error: its name in snake case.

    >>> error_code(consent.UnpublishedDocument)
    'unpublished_document'
    """
    return _CAPITAL.sub("_", error.__name__).lower()


def as_api_error(error: Exception) -> APIError:
    """``error`` as an :class:`APIError`; unexpected errors become a 500 that tells nothing."""
    if isinstance(error, APIError):
        return error
    if isinstance(error, RequestValidationError):
        fields = [_field(e) for e in error.errors()]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return APIError(422, "invalid", f"Invalid request: {message}", fields=fields)
    if isinstance(error, consent.ConsentError):
        status = next((s for cls, s in _STATUS.items() if isinstance(error, cls)), 422)
        retry = next((r for cls, r in _RETRY_AFTER.items() if isinstance(error, cls)), None)
        lines = [{"field": f"line {bad.line}", "in": "body", "message": bad.message}
                 for bad in error.bad] if isinstance(error, consent.InvalidImport) else None
        return APIError(status, error_code(type(error)), str(error), fields=lines,
                        headers={"Retry-After": retry} if retry else None)
    if isinstance(error, HTTPException):
        return APIError(error.status_code, _CODES.get(error.status_code, "error"),
                        str(error.detail), headers=error.headers)
    log.exception("Unexpected error", exc_info=error)
    return APIError(500, "internal", "Internal error; the server's log has the details.")


async def render_error(request: Request, error: Exception) -> Response:
    """The one place errors become responses: ``{"error": {"status", "code", "message",
    "fields"}}``, ``fields`` empty unless the error is about fields of the request."""
    if isinstance(error, RequestValidationError) and any(e["loc"] == ("body",) for e in error.errors()):
        kind = request.headers.get("content-type")
        if kind is None or not _is_json(request):  # FastAPI read the body as bytes
            sent = f"not {header_text(kind)[:80]!r})" if kind else "it has none)"
            error = _invalid("body", "body", "send JSON, with the header Content-Type: "
                             "application/json (" + sent)
    fields = _blamed(request, error)
    error = as_api_error(error)
    body = {"status": error.status_code, "code": error.code, "message": error.detail,
            "fields": error.fields or fields}
    headers = error.headers
    if error.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    return JSON({"error": body}, status_code=error.status_code, headers=headers)


_FIELD_OF: tuple[tuple[type[Exception], str], ...] = (
    (consent.InvalidEvidence, "evidence"), (consent.UnpublishedDocument, "document"),
    (consent.UnpublishedVersion, "version"), (consent.InvalidCursor, "cursor"),
    (consent.InvalidWebhook, "url"))
"""The field of the request that a refusal of each kind is about."""
_NO_TEXT_IN = " has no text in language "
"""What the message of a :class:`consent.UnpublishedVersion` says when the version has no text
in the language asked for: ``language`` is at fault, not the version the message starts with."""


def _blamed(request: Request, error: Exception) -> list[dict[str, str]]:
    """The field of the request that a refusal of the ledger is about: the one its kind says
    (a subject id: in the path, or the body's ``subject`` or ``subjects``; the
    ``Idempotency-Key`` header; ``language`` for a version without a text in it), else the
    one its message starts with (``sha256 …``, ``channel must be …``), where the request has
    it."""
    message = str(error)
    if isinstance(error, consent.InvalidSubject):
        sent = getattr(request, "_json", None)  # the body, when it was JSON (see strict_json)
        field = "subjects" if isinstance(sent, dict) and "subjects" in sent else "subject"
    elif isinstance(error, consent.InvalidRecord | consent.IdempotencyConflict) and \
            message.startswith("idempotency key"):
        return [{"field": "Idempotency-Key", "in": "header", "message": message}]
    elif isinstance(error, consent.UnpublishedVersion) and _NO_TEXT_IN in message:
        field = "language"
    elif isinstance(error, consent.ConsentError):
        first = message.split(" ", 1)[0]  # "sha256 'ab…' is neither …", "channel must be …"
        kinds = [name for kind, name in _FIELD_OF if isinstance(error, kind)]
        field = first if _located(request, first) or not kinds else kinds[0]
    else:
        return []
    where = _located(request, field)
    return [{"field": field, "in": where, "message": message}] if where else []


def _located(request: Request, field: str) -> str | None:
    """Where the request has ``field``: ``path``, ``query`` or ``body``; ``None`` if nowhere."""
    if field in request.path_params:
        return "path"
    if field in request.query_params:
        return "query"
    sent = getattr(request, "_json", None)
    return "body" if isinstance(sent, dict) and field in sent else None


def allowed_methods(request: Request) -> str:
    """For a 405's ``Allow``: the methods of the path the request matched, as OpenAPI lists
    them (Starlette names only those of its first route), and HEAD with GET (see
    :class:`HeadAsGet`)."""
    routes = [route for route in request.app.routes if isinstance(route, APIRoute)]
    path = next((route.path for route in routes
                 if route.matches(request.scope)[0] != Match.NONE), None)
    methods = {method for route in routes if route.path == path for method in route.methods or ()}
    return ", ".join(sorted((methods | {"HEAD"}) if "GET" in methods else methods))


def _field(error: Mapping[str, Any]) -> dict[str, str]:
    """A validation error as ``{"field", "in", "message"}``, without echoing the input."""
    where, *path = error["loc"] or ("body",)
    return {"field": ".".join(str(p) for p in path) or where, "in": where,
            "message": validation_message(error)}


_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
"""What pydantic puts before the message of a validator's ``ValueError`` or ``assert``."""


def validation_message(error: Mapping[str, Any]) -> str:
    """The message of one of pydantic's validation errors in our words: a validator's own
    message without pydantic's ``Value error, `` before it, and what a field's pattern asks
    for instead of its regular expression (see :data:`PATTERN_WORDS`)."""
    if error["type"] == "string_pattern_mismatch":
        pattern = str((error.get("ctx") or {}).get("pattern", ""))
        return PATTERN_WORDS.get(pattern, "is not in the form this field takes (its description "
                                          "in /openapi.json says which)")
    message = str(error["msg"])
    for prefix in _PYDANTIC_PREFIXES:
        message = message.removeprefix(prefix)
    return message


def header_text(value: str) -> str:
    """A header's ``value`` as sent, to show in a message: Starlette reads a header's bytes as
    Latin-1, so that ``é`` sent in UTF-8 would show as ``Ã©``; read as UTF-8 instead (each
    byte that is not UTF-8 shown as U+FFFD)."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:  # not read from the bytes of a header
        return value


class BodyLimit:
    """ASGI middleware: a body over ``limit`` bytes (``larger`` for an import) fails with 413
    when the app reads it, so that a route can still refuse an unauthenticated request first."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY, larger: int = MAX_IMPORT) -> None:
        self.app = app
        self.limit = limit
        self.larger = larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = _content_length(scope)
        limit = self.larger if scope["path"].endswith(IMPORT_PATH) else self.limit
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            if declared > limit:
                raise _too_large(limit)
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large(limit)
            return message

        await self.app(scope, limited_receive, send)


class HeadAsGet:
    """ASGI middleware: a HEAD request is answered as its GET would be, without the body
    (RFC 9110 requires HEAD wherever GET is). FastAPI's routes answer only the methods they
    name, and naming HEAD would add an operation to OpenAPI for each."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def head_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, head_only)


def _content_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _too_large(limit: int) -> APIError:
    return APIError(413, "too_large", f"The request body is over {limit} bytes.")


class ScopedRoute(APIRoute):
    """A route that needs an API key with the scope in ``openapi_extra["x-scope"]``, checked
    before FastAPI reads the body: 401 for a missing or unknown key, 403 for a wrong scope.
    Then its path must be UTF-8 and its JSON body strict (see :func:`strict_json`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        scope = (self.openapi_extra or {}).get("x-scope")
        if scope is None:
            return handler
        field = next(iter(self.param_convertors), "path")
        names = self._query_names()
        handler = self._direct_handler(handler) or handler

        async def authorized(request: Request) -> Response:
            request.state.api_key = authorize(request, scope)
            check_path(request, field)
            if request.scope["query_string"]:
                check_query(request, names)
            if request.method in ("POST", "PATCH") and _is_json(request) and not \
                    request.scope["path"].endswith(IMPORT_PATH):  # an import parses its own lines
                body = await request.body()
                if body:  # cached for FastAPI's request.json(): its own lenient parse never runs
                    request._json = strict_json(body)
            return await handler(request)

        return authorized

    def _query_names(self) -> frozenset[str]:
        """The query parameters the route takes: FastAPI's, and those it reads itself (see
        :func:`scoped`)."""
        extra = (self.openapi_extra or {}).get("parameters", ())
        return frozenset([*(param.alias for param in self.dependant.query_params),
                          *(param["name"] for param in extra if param["in"] == "query")])

    def _direct_handler(self, resolved: Callable[[Request], Coroutine[Any, Any, Response]]
                        ) -> Callable[[Request], Coroutine[Any, Any, Response]] | None:
        """For an endpoint that is a coroutine returning a response, taking the request, path
        parameters of any text, optional text headers and at most one body (a model, sent as
        JSON), nothing else: a handler that calls it with them itself (FastAPI's costs ~100 us
        more). A body its model refuses goes to FastAPI's ``resolved`` handler, which reports
        why. ``None`` for other endpoints."""
        dependant = self.dependant
        bodies = dependant.body_params
        model = bodies[0].field_info.annotation if len(bodies) == 1 and not getattr(
            bodies[0].field_info, "embed", False) else None
        if not (inspect.iscoroutinefunction(self.endpoint)
                and dependant.request_param_name is not None
                and not (dependant.query_params or dependant.cookie_params
                         or dependant.dependencies or dependant.background_tasks_param_name
                         or dependant.response_param_name or dependant.websocket_param_name
                         or dependant.http_connection_param_name
                         or dependant.security_scopes_param_name)
                and all(param.field_info.annotation is str and not param.field_info.metadata
                        for param in dependant.path_params)
                and all(param.field_info.annotation == str | None and param.default is None
                        and not param.field_info.metadata for param in dependant.header_params)
                and (not bodies or isinstance(model, type) and issubclass(model, BaseModel))):
            return None
        endpoint, name = self.endpoint, str(dependant.request_param_name)
        headers = {param.name: param.alias for param in dependant.header_params}
        body = bodies[0].name if bodies else None

        async def handler(request: Request) -> Response:
            values: dict[str, Any] = {name: request, **request.path_params}
            for param, header in headers.items():
                values[param] = request.headers.get(header)
            if body is not None:
                if request.headers.get("content-type") != "application/json" or \
                        not hasattr(request, "_json"):  # not parsed by strict_json
                    return await resolved(request)
                try:
                    values[body] = cast(type[BaseModel], model).model_validate(request._json)
                except ValidationError:
                    return await resolved(request)
            response: Response = await endpoint(**values)
            return response

        return handler


def check_query(request: Request, names: frozenset[str]) -> None:
    """Refuse a query parameter the route does not take (``names``), naming the one meant
    where one is close: a typo would otherwise be ignored, as if the parameter was not given.
    Refuse one given twice too: which value wins is not for two layers in front of the API to
    disagree on (the last one, for Starlette)."""
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name not in names:
            meant = difflib.get_close_matches(name, names, n=1)
            raise _invalid(cut(name), "query", f"unknown parameter: did you mean {meant[0]}?"
                           if meant else "unknown parameter: this route takes "
                           + (", ".join(sorted(names)) or "none"))
        if name in seen:
            raise _invalid(name, "query", "given more than once: give it once")
        seen.add(name)


def check_path(request: Request, field: str) -> None:
    """Refuse a path that is not UTF-8 once percent-decoded (Starlette would read each bad
    byte as U+FFFD, so that another subject id than the one sent would be looked up)."""
    raw = request.scope.get("raw_path") or b""
    if b"%" in raw:
        try:
            unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:  # the parameter Starlette read a bad byte in as U+FFFD
            bad = next((name for name, value in request.path_params.items() if "\ufffd" in str(value)), field)
            raise _invalid(bad, "path", "not valid UTF-8 once percent-decoded") from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def json_bytes(body: bytes) -> bytes:
    """``body`` without a leading UTF-8 byte order mark (RFC 8259 lets a parser ignore it),
    refusing with a 422 a body with a NUL byte: JSON in UTF-8 has none, JSON in UTF-16 or
    UTF-32 has many, and JSON must be UTF-8 (RFC 8259 §8.1; :func:`json.loads` would guess)."""
    nul = body.find(b"\x00")
    if nul >= 0:
        raise _invalid("body", "body", f"must be UTF-8 (byte {nul} is NUL, as in UTF-16 or "
                                       f"UTF-32)")
    return body.removeprefix(codecs.BOM_UTF8)


def strict_json(body: bytes) -> Any:
    """The JSON ``body`` (see :func:`json_bytes`), refusing with a 422 malformed JSON and what
    :func:`json.loads` would let through: bytes that are not UTF-8, duplicate keys, escaped
    lone surrogates (text that is not valid Unicode), nesting deeper than Python's recursion
    limit and integers longer than Python converts."""
    try:
        text = json_bytes(body).decode("utf-8")
    except UnicodeDecodeError as error:
        raise _invalid("body", "body", f"must be UTF-8 (byte {error.start} is not)") from None
    try:
        data = json.loads(text, object_pairs_hook=consent.unique_keys)
    except consent.DuplicateKey as duplicate:
        raise _invalid(duplicate.key, "body", f"duplicate key {duplicate.key!r} in the JSON body"
                       ) from None
    except json.JSONDecodeError as error:
        raise _invalid("body", "body", f"not valid JSON ({error})") from None
    except (ValueError, RecursionError) as error:  # nested too deeply, a number too long
        raise _invalid("body", "body", consent.json_problem(error)) from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            where = _lone_surrogate(data, "")
        except RecursionError:
            where = "body"
        if where is not None:
            raise _invalid(where or "body", "body", "not valid Unicode (a lone surrogate)")
    return data


def _lone_surrogate(value: Any, where: str) -> str | None:
    """Where in ``value`` a key or text holds a lone surrogate (``evidence.a[0]``), if any."""
    if isinstance(value, str):
        return where if _has_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else key
            if _has_surrogate(key):
                return where or "body"
            found = _lone_surrogate(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _lone_surrogate(item, f"{where}[{index}]")
            if found is not None:
                return found
    return None


def _has_surrogate(text: str) -> bool:
    return not text.isascii() and any("\ud800" <= c <= "\udfff" for c in text)


def _is_json(request: Request) -> bool:
    kind = request.headers.get("content-type")
    return kind is None or "json" in kind.lower()  # media types are case-insensitive


def _invalid(field: str, where: str, message: str) -> APIError:
    return APIError(422, "invalid", f"Invalid request: {field}: {message}",
                    fields=[{"field": field, "in": where, "message": message}])


def authorize(request: Request, scope: str) -> consent.ApiKey:
    """The API key of ``request`` if it has ``scope``, else an :class:`APIError`."""
    kind, _, secret = request.headers.get("authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": "Bearer"}
    if kind.lower() != "bearer" or not secret.strip():
        raise APIError(401, "unauthorized", "Send an API key: Authorization: Bearer <key>.",
                       headers=challenge)
    key: consent.ApiKey | None = request.app.state.keys.authenticate(secret.strip())
    if key is None:
        raise APIError(401, "unauthorized", "Unknown or revoked API key.", headers=challenge)
    if not key.allows(scope):
        raise APIError(403, "forbidden", f"This API key has the {key.scope!r} scope; "
                                         f"this call needs {scope!r}.")
    return key


def scoped(scope: str, *, parameters: tuple[dict[str, Any], ...] = (),
           body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Route keyword arguments for a route that needs ``scope``, documented in OpenAPI, with
    ``parameters`` (and a request ``body``) that the route reads itself (see
    :func:`query_value`)."""
    extra: dict[str, Any] = {"x-scope": scope, "security": [{"bearer": []}]}
    if parameters:
        extra["parameters"] = list(parameters)
    if body:
        extra["requestBody"] = body
    return {"openapi_extra": extra}


def query_parameter(name: str, adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """The OpenAPI description of an optional query parameter validated by ``adapter``."""
    schema = adapter.json_schema()
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": schema.get("description", "")}


def query_value(request: Request, name: str, adapter: TypeAdapter[Any]) -> Any:
    """The query parameter ``name`` validated by ``adapter``, ``None`` when absent; a 422
    naming it when invalid. (FastAPI's own parameters cost about 10 us a request each, even
    when absent: the hot routes read their optional ones themselves.)"""
    text = request.query_params.get(name)
    if text is None:
        return None
    try:
        return adapter.validate_python(text)
    except ValidationError as error:
        raise _invalid(name, "query", validation_message(error.errors()[0])) from None


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (``serve`` names it as ``http``) sending each response in
    one write: uvicorn writes a response's head and body apart, two system calls and two TCP
    segments, which cost a request for the status ~30 us more."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, _Joined(transport, self.loop)))


class _Joined:
    """A transport whose writes wait for the end of the event loop's turn, sent together."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._waiting: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._waiting:
            self._loop.call_soon(self._flush)
        self._waiting.append(data)

    def _flush(self) -> None:
        if self._waiting:
            data = b"".join(self._waiting)
            self._waiting.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
