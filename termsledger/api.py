"""The HTTP JSON API over the consent ledger, built by :func:`create_app`.

Every route under ``/v1`` needs ``Authorization: Bearer <key>`` (see :mod:`consent.keys`);
every consent rule lives in :mod:`consent`, this module only translates HTTP.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import os
import re
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path as FilePath
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, TypeAdapter
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

import consent
from consent.imports import refusal
from consent.keeper import CHECKPOINT_INTERVAL, LogKeeper

from . import _models as models
from ._http import (
    IMPORT_PATH,
    JSON,
    APIError,
    BodyLimit,
    HeadAsGet,
    ScopedRoute,
    error_code,
    header_text,
    json_bytes,
    log,
    plain,
    query_parameter,
    query_value,
    render_error,
    scoped,
    strict_json,
)
from ._models import (
    MAX_SUBJECTS,
    SUBJECT_DOC,
    SUBJECT_PATTERN,
    AckIn,
    ConsentIn,
    Slug,
    StatusesIn,
    When,
    error_responses,
)
from .api_webhooks import router as webhooks_router

LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
LEDGER_ENV = "TERMSLEDGER_LEDGER"
"""Names the ledger for :func:`app_from_env` in each uvicorn worker."""
SEAL_ENV = "TERMSLEDGER_SEAL_EVERY"
SEAL_EVERY = 60.0
"""Seconds between two seals a server writes, by default."""
SETTINGS_ENV = "TERMSLEDGER_SERVE_SETTINGS"
"""JSON of :func:`create_app`'s settings, for :func:`app_from_env`: ``receipts`` (the
fields of :class:`consent.ReceiptSettings`, or ``null``), ``checkpoint_interval``, ``webhooks``
(the fields of :class:`consent.DeliverySettings`) and ``deliver``."""

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", description="1 to 255 printable ASCII characters: a retry with the "
    "same key and body returns the first response (Idempotent-Replayed: true) and records "
    "nothing twice.")]
AT = TypeAdapter(When)
SLUG = TypeAdapter(Slug)
AT_PARAMETER = query_parameter("at", AT)
LANG = TypeAdapter(models.Language)
LANG_PARAMETER = query_parameter("lang", LANG)
ACCEPT_LANGUAGE = {"name": "Accept-Language", "in": "header", "required": False,
                   "schema": {"type": "string"},
                   "description": "The reader's languages, when ``lang`` is not given."}
BOOL = TypeAdapter(bool)
SKIP_BAD = {**query_parameter("skip_bad", BOOL),
            "description": "Record the good lines and list the bad ones (default: nothing is "
                           "recorded when a line is bad)."}
IMPORT_BODY = {"required": True, "description": (
    "A JSON array of the decisions; or the same objects as JSON Lines, one per line (send them "
    "as application/x-ndjson: a body that does not start with [ is read as JSON Lines)."),
    "content": {"application/json": {"schema": {
        "type": "array", "items": models.ImportLine.model_json_schema()}}}}
SubjectPath = Annotated[str, Path(description=f"Percent-encoded. {SUBJECT_DOC}", json_schema_extra={
    "minLength": 1, "maxLength": 256, "pattern": SUBJECT_PATTERN})]


class SubjectConvertor(PathConvertor):
    """A subject id in a path: anything, ``/`` and line breaks included (``path`` would not
    match a line break, making it a 404 instead of the ledger's refusal)."""

    regex = "(?s:.*)"


register_url_convertor("subject", SubjectConvertor())


def _operation_id(route: APIRoute) -> str:
    """A route's ``operationId``: its function's name, that of the Python client's method."""
    return route.name


router = APIRouter(prefix="/v1", route_class=ScopedRoute, default_response_class=JSON,
                   tags=["ledger"], generate_unique_id_function=_operation_id)
READ = (401, 403, 422)
WRITE = (401, 403, 409, 413, 422, 503)


def _ledger(request: Request) -> consent.Ledger:
    ledger: consent.Ledger = request.app.state.ledger
    return ledger


@router.get("/documents", summary="The published catalog", response_model=models.Catalog,
            responses=error_responses(*READ),
            **scoped("read", parameters=(AT_PARAMETER, query_parameter("document", SLUG))))
async def catalog(request: Request) -> JSON:
    """The published catalog: each document (or only ``document``), its version in force and
    those announced at ``at`` (now by default), and every version with its text in each
    language (hash and page URL)."""
    documents = _ledger(request).catalog(query_value(request, "at", AT),
                                         document=query_value(request, "document", SLUG))
    return JSON({"documents": [document.to_dict() for document in documents]})


@router.get("/documents/{document}/versions/{version}", summary="The exact text of a version",
            response_model=models.VersionText, responses=error_responses(*READ, 404),
            **scoped("read", parameters=(LANG_PARAMETER, ACCEPT_LANGUAGE)))
def text(request: Request, document: Slug,
         version: Annotated[str, Path(description="A published version's id, label or date.",
                                      examples=["2026-04-01"], max_length=100)]) -> JSON:
    """The text of ``version`` as published: its Markdown, the same rendered and sanitized
    as on the site, its hash and its page. In the language of ``lang`` (else of
    ``Accept-Language``) where the version has one; else its own text, with ``fallback``
    true."""
    try:
        found = _ledger(request).text(document, version, _languages(request))
    except (consent.UnpublishedDocument, consent.UnpublishedVersion) as error:
        raise APIError(404, error_code(type(error)), str(error)) from None
    return JSON({**found.to_dict(), "html": _html(found.sha256, found.markdown)})


@router.get("/subjects/{subject:subject}/required", summary="What the product must do now",
            response_model=models.Required, responses=error_responses(*READ),
            **scoped("read", parameters=(AT_PARAMETER, LANG_PARAMETER, ACCEPT_LANGUAGE)))
async def required(request: Request, subject: SubjectPath) -> JSON:
    """The gate of a signup or a login: for each document the subject must act on now,
    ``accept``, ``notify`` or ``announce`` a version, with its title, summary, hash and page
    (in the language of ``lang``, else of ``Accept-Language``, where the version has one). An
    empty ``required`` lets them in. Unknown subjects must accept the documents required at
    signup."""
    found = _ledger(request).required(subject, query_value(request, "at", AT),
                                      language=_languages(request))
    return JSON(found)


@router.get("/subjects/{subject:subject}/status", summary="A subject's status",
            response_model=models.Status | models.SubjectStatuses,
            responses=error_responses(*READ),
            **scoped("read", parameters=(query_parameter("document", SLUG), AT_PARAMETER)))
async def status(request: Request, subject: SubjectPath) -> JSON:
    """Status of one subject for ``document`` (a Status), or for every published document
    (a SubjectStatuses), at ``at`` (now by default). An unknown subject is ``never``."""
    ledger = _ledger(request)
    subject = consent.canonical_subject(subject)
    document = query_value(request, "document", SLUG)
    at = query_value(request, "at", AT)
    if document is not None:
        return JSON(ledger.status(subject, document, at))
    return JSON({"subject": subject, "statuses": ledger.status_all(subject, at)})


@router.post("/subjects/status", summary="Many subjects' statuses",
             response_model=models.Statuses, responses=error_responses(*READ, 413),
             **scoped("read"))
def statuses(request: Request, body: StatusesIn) -> JSON:
    """Status of up to 10,000 subjects at once, for one document or every published one."""
    ledger = _ledger(request)
    slugs = [body.document] if body.document else [d.slug for d in ledger.catalog(body.at)]
    statuses = [status for slug in slugs
                for status in ledger.statuses(body.subjects, slug, body.at)]
    return JSON({"statuses": statuses})


_RECORDED_LINKS = {name: {"operationId": name, "parameters": {
    "subject": "$response.body#/status/subject",
    **({"document": "$response.body#/status/document"} if name == "status" else {})}}
    for name in ("status", "history", "export", "erase")}
"""Where a recorded subject can be looked up next (OpenAPI links, for clients and tests)."""


@router.post("/consents", status_code=201, summary="Record a decision",
             response_model=models.Recorded,
             responses={201: {"links": _RECORDED_LINKS}, **error_responses(*WRITE)},
             **scoped("write"))
async def record(request: Request, body: ConsentIn, idempotency_key: IdempotencyKey = None) -> JSON:
    """Record an acceptance, decline or withdrawal. The client's address and User-Agent
    join the evidence unless it already has ``ip`` and ``user_agent``. Accepting (or
    declining) a version neither in force nor announced is a 409 ``outdated_version`` naming
    the one in force. When the server has a signing key, ``receipt`` is the subject's own copy
    of the decision's signed receipt (with the salt that links it to them): hand it to the
    subject."""
    seen = {"ip": request.client.host if request.client else None,
            "user_agent": request.headers.get("user-agent")}
    evidence = {**{k: v for k, v in seen.items() if v is not None}, **body.evidence}
    ledger = _ledger(request)
    decision: dict[str, Any] = dict(action=body.action, version=body.version, channel=body.channel,
                                    evidence=evidence, sha256=body.sha256, language=body.language)
    if idempotency_key is None and ledger.receipt_settings is None:  # the common case, leanest
        events, status = await asyncio.wrap_future(ledger.submit_record(
            body.subject, body.document, **decision))
        request.app.state.keeper.wake()
        return JSON({"events": events, "status": status}, status_code=201)

    def record() -> dict[str, Any]:
        events = ledger.record(body.subject, body.document, **decision)
        status = ledger.status(body.subject, body.document)
        response: dict[str, Any] = plain({"events": events, "status": status})
        if ledger.receipt_settings is not None:
            response["receipt"] = ledger.receipt(events[0], with_salt=True).to_dict()
        return response

    return await _write(request, idempotency_key, body.subject, body, record, status=201)


@router.post(IMPORT_PATH.removeprefix("/v1"), summary="Import earlier decisions",
             response_model=models.Imported, responses=error_responses(401, 403, 413, 422, 503),
             **scoped("admin", parameters=(SKIP_BAD,), body=IMPORT_BODY))
async def import_records(request: Request) -> JSON:
    """Record decisions a product already holds, at their original time, marked as imported
    (channel ``import``): JSON Lines (one object per line), or a JSON array of the same
    objects, up to 64 MiB. Each has ``subject``, ``document``, ``at`` and ``version`` or
    ``sha256``; optionally ``evidence``, ``action``, ``channel`` and ``language``. A bad line
    is a 422 ``invalid_import`` whose ``fields`` name each line (``line 7``), and nothing is
    recorded; with ``skip_bad=true`` the others are, and the bad ones are listed."""
    skip_bad = query_value(request, "skip_bad", BOOL) or False
    body = json_bytes(await request.body())
    if not body.strip():
        raise APIError(422, "invalid", "Invalid request: body: empty: send JSON Lines, or a JSON "
                       "array, of the decisions to import",
                       fields=[{"field": "body", "in": "body", "message": "empty"}])
    lines: list[Any]
    if body.lstrip()[:1] == b"[":
        lines = strict_json(body)
        if not isinstance(lines, list):
            lines = [lines]
    else:
        lines = body.split(b"\n")
    try:
        imported = await run_in_threadpool(_ledger(request).import_records, lines,
                                           skip_bad=skip_bad)
    except consent.InvalidImport as error:  # told how to skip them over HTTP, not in the CLI
        raise refusal(error.bad, error.count, skip="?skip_bad=true") from None
    return JSON(imported)


@router.get("/notifications", summary="Who must be told of a version",
            response_model=models.Page, responses=error_responses(*READ), **scoped("read"))
def pending_page(request: Request, document: Slug,
                 version: Annotated[str, Query(description="A published version's id.",
                                               examples=["2026-04-01"])],
                 cursor: Annotated[str | None, Query(
                     description="The next_cursor of the previous page.")] = None,
                 limit: Annotated[int, Query(ge=1, le=MAX_SUBJECTS)] = 1000) -> JSON:
    """One page of the subjects to notify of ``version``; pass ``next_cursor`` back as
    ``cursor`` for the next page. Subjects who act meanwhile are neither skipped nor repeated."""
    page = _ledger(request).pending_page(document, version, cursor=cursor, limit=limit)
    return JSON({"document": document, "version": version, **page.to_dict()})


@router.post("/notifications/ack", summary="Mark subjects notified",
             response_model=models.Marked, responses=error_responses(*WRITE),
             **scoped("write"))
async def mark_notified(request: Request, body: AckIn,
                        idempotency_key: IdempotencyKey = None) -> JSON:
    """Mark subjects notified of a version; doing it twice records nothing more."""

    def mark() -> dict[str, Any]:
        marked = _ledger(request).mark_notified(body.subjects, body.document, body.version,
                                                channel=body.channel)
        return {"document": body.document, "version": body.version, **marked.to_dict()}

    return await _write(request, idempotency_key, body.subjects, body, mark, status=200)


@router.get("/subjects/{subject:subject}/history", summary="A subject's events",
            response_model=models.History, responses=error_responses(*READ), **scoped("read"))
def history(request: Request, subject: SubjectPath) -> JSON:
    """The subject's events, oldest first: what they accepted, declined or withdrew, and when.
    Their personal evidence (IP, user agent...) only for keys with the admin scope."""
    subject = consent.canonical_subject(subject)
    evidence = request.state.api_key.allows("admin")
    events = [e.to_dict() for e in _ledger(request).history(subject)]
    if not evidence:
        events = [{**event, "evidence": None} for event in events]
    return JSON({"subject": subject, "events": events, "evidence_shown": evidence})


@router.get("/subjects/{subject:subject}/export", summary="Everything held about a subject",
            response_model=models.Export, responses=error_responses(*READ), **scoped("admin"))
def export(request: Request, subject: SubjectPath) -> JSON:
    """Everything the ledger holds about the subject, for a data-access request."""
    return JSON(_ledger(request).export(subject))


@router.delete("/subjects/{subject:subject}", summary="Erase a subject",
               response_model=models.Erasure,
               responses=error_responses(401, 403, 404, 422, 503), **scoped("admin"))
def erase(request: Request, subject: SubjectPath) -> JSON:
    """Erase the subject: their id and personal evidence are replaced by a pseudonym. An
    erasure a reader keeps from finishing is a 503 ``erasure_incomplete``: retry it. Receipts
    issued before keep verifying; none links to the subject any more but the subject's own."""
    erased = _ledger(request).erase(subject)
    request.app.state.keeper.wake()
    return JSON(erased.to_dict())


MAX_SIZE = 2**63 - 1
"""The largest size or index of the log that a query may name."""
Size = Annotated[int | None, Query(ge=0, le=MAX_SIZE, description="The size of a signed checkpoint "
                                   "to prove against; defaults to the latest published.")]
LeafIndex = Annotated[int | None, Query(ge=0, le=MAX_SIZE, description="A leaf of the log.")]
EventPlace = Annotated[str | None, Query(description="Or an event's place: seq, or chain.seq.",
                                         examples=["42"])]
OldSize = Annotated[int, Query(ge=0, le=MAX_SIZE, description="The older size.")]
NewSize = Annotated[int | None, Query(ge=0, le=MAX_SIZE, description="The newer size; defaults to "
                                      "the latest published checkpoint's.")]


@router.get("/receipts/{receipt_id}", summary="A consent receipt with its proof",
            response_model=models.Receipt, responses=error_responses(*READ, 404),
            **scoped("read"))
def receipt(request: Request, receipt_id: Annotated[str, Path(
        description="The receipt's id (consentReceiptID), or its event's place (seq, or "
                    "chain.seq).", examples=["0b7c1c2e-3f3e-4c55-9d1e-1f2a3b4c5d6e"])],
            size: Size = None,
            with_salt: Annotated[bool, Query(description="The subject's own copy, with the salt "
                                                         "that links it to them (admin keys "
                                                         "only; none once they are erased).")] = False
            ) -> JSON:
    """The consent receipt as it was signed, with the proof that its event is in the
    transparency log against the latest checkpoint published with the site, or the checkpoint
    of ``size`` leaves; ``pending`` while no published checkpoint includes the event yet. The
    subject's salt only with ``with_salt``, for keys with the admin scope (as their evidence)."""
    if with_salt and not request.state.api_key.allows("admin"):
        raise APIError(403, "forbidden", "The subject's salt is personal data: with_salt needs a "
                                         "key with the 'admin' scope.")
    signed = _ledger(request).receipt(receipt_id, size=size, with_salt=with_salt)
    return JSON({"receipt": signed.to_dict(), "pending": signed.proof is None})


@router.get("/log/checkpoint", summary="The latest published checkpoint",
            response_model=models.LogCheckpoint, responses=error_responses(*READ, 404),
            **scoped("read"))
def log_checkpoint(request: Request) -> JSON:
    """The latest checkpoint of the transparency log published with the site: the one proofs
    are against by default."""
    latest = _ledger(request).log.latest()
    if latest is None:
        raise consent.UnknownCheckpoint("no checkpoint of the log is published yet")
    return JSON(latest)


@router.get("/log/checkpoints", summary="Every signed checkpoint",
            response_model=models.LogCheckpoints, responses=error_responses(*READ),
            **scoped("read"))
def log_checkpoints(request: Request) -> JSON:
    """The log's size and every signed checkpoint, smallest first, each with when it was first
    published with the site (null while it is not)."""
    ledger = _ledger(request)
    return JSON({"size": ledger.log.size, "checkpoints": ledger.log.checkpoints()})


@router.get("/log/inclusion", summary="An inclusion proof", response_model=models.Inclusion,
            responses=error_responses(*READ, 404), **scoped("read"))
def log_inclusion(request: Request, leaf_index: LeafIndex = None, event: EventPlace = None,
                  size: Size = None) -> JSON:
    """The proof that a leaf of the log (``leaf_index``, or the leaf of ``event``) is in the
    tree of the latest published checkpoint, or of the checkpoint of ``size`` leaves."""
    ledger = _ledger(request)
    if (leaf_index is None) == (event is None):
        raise APIError(422, "invalid", "Invalid request: give either leaf_index or event.",
                       fields=[{"field": "leaf_index", "in": "query",
                                "message": "give either leaf_index or event"}])
    leaf = ledger.log.leaf_index(event) if event is not None else leaf_index
    if leaf is None:
        raise consent.UnknownCheckpoint(f"event {event} is not in the log (yet: the sequencer "
                                        f"places an event within seconds)")
    return JSON(ledger.log.inclusion(leaf, size=size))


@router.get("/log/consistency", summary="A consistency proof", response_model=models.Consistency,
            responses=error_responses(*READ, 404), **scoped("read"))
def log_consistency(request: Request, old: OldSize, new: NewSize = None) -> JSON:
    """The proof that the log's tree of ``new`` leaves extends its tree of ``old`` leaves, as
    ``termsledger log verify-consistency --proof`` reads it."""
    return JSON(json.loads(_ledger(request).log.consistency(old, new).to_json()))


@router.get("/verify", summary="Verify the ledger", response_model=models.Verification,
            responses=error_responses(*READ, 503), **scoped("read"))
def verify(request: Request, anchor: Annotated[str | None, Query(
        description="EVENTS:HEAD of an earlier verification, kept elsewhere.",
        json_schema_extra={"pattern": "^[0-9]+:[0-9a-f]{64}$"})] = None) -> JSON:
    """Check the ledger's hash chain and its status table; ``ok`` is false with the first bad
    event or the status rows that differ otherwise. ``anchor``: ``EVENTS:HEAD`` of an earlier
    verification kept elsewhere; ``limits`` says what no check of the file alone can detect."""
    return JSON(_ledger(request).verify(anchor=anchor).to_dict())


def _languages(request: Request) -> tuple[str, ...] | None:
    """The reader's languages: ``lang``, else ``Accept-Language`` (by quality), else none."""
    lang = query_value(request, "lang", LANG)
    if lang is not None:
        return (lang,)
    header = request.headers.get("accept-language")
    return accepted_languages(header) if header else None


def accepted_languages(header: str) -> tuple[str, ...]:
    """The tags of an ``Accept-Language`` header, preferred first (``*`` and malformed ones
    left out).

    >>> accepted_languages("fr-CA, fr;q=0.9, en;q=0.8, *;q=0.1")
    ('fr-CA', 'fr', 'en')
    """
    found = []
    for position, part in enumerate(header[:500].split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if LANGUAGE_TAG.fullmatch(tag.strip()) and quality > 0:
            found.append((-quality, position, tag.strip()))
    return tuple(tag for _, _, tag in sorted(found))


@lru_cache(maxsize=256)
def _html(sha256: str, markdown: str) -> str:
    """``markdown`` rendered and sanitized as on the site (cached by its hash)."""
    from site_builder.render import render_html

    return render_html(markdown)


async def _write(request: Request, key: str | None, subjects: str | list[str], body: BaseModel,
                 make: Callable[[], dict[str, Any]], *, status: int) -> JSON:
    """``make()``'s response, written in the ledger's group commit (answered once durable).
    With an ``Idempotency-Key``, the response first stored for it instead (marked
    ``Idempotent-Replayed: true``); keys are per API key, and reusing one for another request
    is a 409."""
    ledger = _ledger(request)
    if key is None:
        done = await asyncio.wrap_future(ledger.submit(make))
        request.app.state.keeper.wake()
        return JSON(done, status_code=status)
    key = header_text(key)  # as sent, should the ledger refuse it for not being ASCII
    try:
        sent = [request.url.path, body.model_dump(mode="json")]
    except ValueError:  # nested deeper than pydantic writes: the ledger refuses it, naming why
        request_json = await request.body()
    else:
        try:
            request_json = orjson.dumps(sent, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # a whole number beyond 64 bits, which orjson cannot encode
            request_json = json.dumps(sent, sort_keys=True).encode()
    stored, replayed = await asyncio.wrap_future(ledger.submit(lambda: ledger.idempotent(
        key, subjects, lambda: {"status": status, "body": make()}, owner=request.state.api_key.id,
        fingerprint=hashlib.sha256(request_json).hexdigest())))
    request.app.state.keeper.wake()
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSON(stored["body"], status_code=stored["status"], headers=headers)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    gc.freeze()  # full collections skip what startup made: scanning it paused requests ~80 ms
    stop = threading.Event()
    sealer = threading.Thread(target=_seal, args=(app.state.ledger, app.state.seal_every, stop),
                              name="seal", daemon=True)
    if app.state.seal_every:
        sealer.start()
    app.state.keeper.start()
    worker = app.state.ledger.webhooks.start(app.state.webhooks) if app.state.deliver else None
    yield
    stop.set()
    if worker is not None:
        await run_in_threadpool(worker.stop, app.state.webhooks.timeout + 1)
    if sealer.is_alive():
        await run_in_threadpool(sealer.join)
    await run_in_threadpool(app.state.keeper.stop)
    await run_in_threadpool(app.state.ledger.close)


def _seal(ledger: consent.Ledger, every: float, stop: threading.Event) -> None:
    """Seal the ledger every ``every`` seconds when events were added (see
    :meth:`consent.Ledger.seal`); a failure is logged and tried again next time."""
    while not stop.wait(every):
        try:
            ledger.seal(if_changed=True)
        except consent.ConsentError as error:
            log.warning("sealing the ledger failed: %s", error)


DESCRIPTION = """The consent ledger of termsledger over HTTP.

Every route under `/v1` needs `Authorization: Bearer <key>` (`termsledger keys create`). Errors
are `{"error": {"status", "code", "message", "fields"}}`; `code` is stable, `message` says what
to fix and `fields` names the request's fields at fault."""


def create_app(ledger_path: str | FilePath, *, seal_every: float = SEAL_EVERY,
               receipts: consent.ReceiptSettings | None = None,
               checkpoint_interval: float | None = CHECKPOINT_INTERVAL,
               webhooks: consent.DeliverySettings | None = None, deliver: bool = False) -> FastAPI:
    """The API app over the ledger at ``ledger_path``. While it runs, background threads seal
    the chains and keep the transparency log: they sequence it after writes and sign a
    checkpoint every ``checkpoint_interval`` seconds when it has grown (see
    :mod:`consent.keeper`), and (with ``deliver``) one delivers webhooks.

    :param ledger_path: a ledger made by ``termsledger publish``: a file, or a
        ``postgresql://`` URL.
    :param seal_every: seconds between two seals of the ledger's chains (when events were
        added), 0 for none. Defaults to :data:`SEAL_EVERY`.
    :param receipts: the settings of the receipts every decision recorded gets, and of the key
        that signs them and the checkpoints. Defaults to none: no receipts, no checkpoints.
    :param checkpoint_interval: seconds between two checkpoints; ``None`` for none. Defaults
        to :data:`consent.keeper.CHECKPOINT_INTERVAL`.
    :param webhooks: how webhooks are added and delivered (``[webhooks]``). Defaults to
        :class:`consent.DeliverySettings`' defaults.
    :param deliver: run the webhook delivery in a background thread while the app runs.
        Defaults to not.
    """
    # The routes go in directly: include_router's nesting costs time on every request.
    app = FastAPI(title="termsledger", version="1", default_response_class=JSON,
                  description=DESCRIPTION, routes=[*router.routes, *webhooks_router.routes],
                  lifespan=_lifespan, docs_url=None, redoc_url=None,
                  generate_unique_id_function=_operation_id)
    app.state.ledger = consent.Ledger(ledger_path, receipts=receipts)
    app.state.seal_every = seal_every
    app.state.keys = app.state.ledger.keys
    app.state.keeper = LogKeeper(app.state.ledger, checkpoint_interval=checkpoint_interval)
    app.state.webhooks = webhooks or consent.DeliverySettings()
    app.state.deliver = deliver
    app.add_middleware(BodyLimit)
    app.add_middleware(HeadAsGet)
    for error in (HTTPException, RequestValidationError, consent.ConsentError, Exception):
        app.add_exception_handler(error, render_error)

    @app.get("/healthz", summary="Liveness", response_model=models.Health, tags=["server"])
    async def healthz() -> JSON:
        """The server is up (no key needed)."""
        return JSON({"ok": True})

    _add_docs(app)
    schemes = app.openapi()["components"].setdefault("securitySchemes", {})
    schemes["bearer"] = {"type": "http", "scheme": "bearer", "description": "termsledger keys create"}
    return app


DOCS_ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})
"""The files of Swagger UI's folder that ``/docs`` uses: the others (a demo page that loads an
example from another host, an OAuth2 redirect page) are not served."""


class _DocsAssets(StaticFiles):
    """The files of :data:`DOCS_ASSETS` in Swagger UI's folder; any other is a 404."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in DOCS_ASSETS:
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def _add_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI served from the installed ``swagger_ui_bundle`` package, so that
    it reaches no other host."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/assets", _DocsAssets(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title="termsledger API",
            swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs/assets/favicon-32x32.png",
            oauth2_redirect_url=None, swagger_ui_parameters={"validatorUrl": None})


def app_from_env() -> FastAPI:
    """The app for the ledger named by ``$TERMSLEDGER_LEDGER``: uvicorn's factory in each
    worker (sealing every ``$TERMSLEDGER_SEAL_EVERY`` seconds, with the receipt and webhook
    settings of ``$TERMSLEDGER_SERVE_SETTINGS``)."""
    settings = json.loads(os.environ.get(SETTINGS_ENV) or "{}")
    receipts = settings.get("receipts")
    if receipts:
        receipts = consent.ReceiptSettings(**{**receipts,
                                              "signing_key": FilePath(receipts["signing_key"])})
    return create_app(os.environ[LEDGER_ENV], seal_every=float(os.environ.get(SEAL_ENV, SEAL_EVERY)),
                      receipts=receipts,
                      checkpoint_interval=settings.get("checkpoint_interval", CHECKPOINT_INTERVAL),
                      webhooks=consent.DeliverySettings(**settings.get("webhooks", {})),
                      deliver=settings.get("deliver", False))
