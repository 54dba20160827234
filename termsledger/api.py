"""The HTTP JSON API over the consent ledger, built by :func:`create_app`.

Every route under ``/v1`` needs ``Authorization: Bearer <key>`` (see :mod:`consent.keys`);
every consent rule lives in :mod:`consent`, this module only translates HTTP.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.exceptions import HTTPException

import consent

from ._http import JSON, BodyLimit, ScopedRoute, log, render_error, scoped

LEDGER_ENV = "TERMSLEDGER_LEDGER"
"""Names the ledger for :func:`app_from_env` in each uvicorn worker."""
SEAL_ENV = "TERMSLEDGER_SEAL_EVERY"
SEAL_EVERY = 60.0
"""Seconds between two seals a server writes, by default."""
MAX_SUBJECTS = 10_000

Subject = Annotated[str, Field(min_length=1, max_length=256)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9-]+$", max_length=100)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentIn(_In):
    """A consent decision to record."""

    subject: Subject
    document: Slug
    action: Literal["accepted", "declined", "withdrawn"] = "accepted"
    version: str | None = Field(None, description="Defaults to the version in force.")
    sha256: str | None = Field(None, description="The content_sha256 or bundle manifest_sha256 "
                                                 "of the text shown, checked by the ledger.")
    channel: str = Field("api", min_length=1, max_length=64)
    evidence: dict[str, Any] = Field(
        default_factory=dict,
        description="ip and user_agent default to the client's address and User-Agent.")


class StatusesIn(_In):
    """Subjects whose status to look up, for one document or all."""

    subjects: list[Subject] = Field(max_length=MAX_SUBJECTS)
    document: Slug | None = None


class AckIn(_In):
    """Subjects who were told of a version."""

    document: Slug
    version: str
    subjects: list[Subject] = Field(min_length=1, max_length=MAX_SUBJECTS)
    channel: str = Field("email", min_length=1, max_length=64)


class SubjectConvertor(PathConvertor):
    """A subject id in a path: anything, ``/`` and line breaks included (``path`` would not
    match a line break, making it a 404 instead of the ledger's refusal)."""

    regex = "(?s:.*)"


register_url_convertor("subject", SubjectConvertor())
router = APIRouter(prefix="/v1", route_class=ScopedRoute, default_response_class=JSON)


def _ledger(request: Request) -> consent.Ledger:
    return request.app.state.ledger


@router.get("/documents", **scoped("read"))
async def documents(request: Request):
    """The published catalog: each document, its version in force and announced versions."""
    catalog = _ledger(request).catalog()
    return JSON({"documents": [document.to_dict() for document in catalog]})


@router.get("/subjects/{subject:subject}/status", **scoped("read"))
async def subject_status(request: Request, subject: str, document: Slug | None = None):
    """Status of one subject for ``document``, or for every published document.
    An unknown subject is ``never``, not an error."""
    ledger = _ledger(request)
    subject = consent.canonical_subject(subject)
    if document is not None:
        return JSON(ledger.status(subject, document))
    return JSON({"subject": subject, "statuses": ledger.status_all(subject)})


@router.post("/subjects/status", **scoped("read"))
def subjects_status(request: Request, body: StatusesIn):
    """Status of up to 10,000 subjects at once, for one document or every published one."""
    ledger = _ledger(request)
    slugs = [body.document] if body.document else [d.slug for d in ledger.catalog()]
    statuses = [status for slug in slugs for status in ledger.statuses(body.subjects, slug)]
    return JSON({"statuses": statuses})


@router.post("/consents", status_code=201, **scoped("write"))
async def record_consent(request: Request, body: ConsentIn, idempotency_key: IdempotencyKey = None):
    """Record an acceptance, decline or withdrawal. The client's address and User-Agent
    join the evidence unless it already has ``ip`` and ``user_agent``."""
    seen = {"ip": request.client.host if request.client else None,
            "user_agent": request.headers.get("user-agent")}
    evidence = {**{k: v for k, v in seen.items() if v is not None}, **body.evidence}
    ledger = _ledger(request)

    def record() -> dict:
        events = ledger.record(body.subject, body.document, action=body.action,
                               version=body.version, channel=body.channel, evidence=evidence,
                               sha256=body.sha256)
        status = ledger.status(body.subject, body.document)
        return orjson.loads(orjson.dumps({"events": events, "status": status}))  # fast to_dict

    return await _write(request, idempotency_key, body.subject, body, record, status=201)


@router.get("/notifications", **scoped("read"))
def notifications(request: Request, document: Slug, version: str,
                  cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=MAX_SUBJECTS)] = 1000):
    """One page of the subjects to notify of ``version``; pass ``next_cursor`` back as
    ``cursor`` for the next page. Subjects who act meanwhile are neither skipped nor repeated."""
    page = _ledger(request).pending_page(document, version, cursor=cursor, limit=limit)
    return JSON({"document": document, "version": version, **page.to_dict()})


@router.post("/notifications/ack", **scoped("write"))
async def acknowledge(request: Request, body: AckIn, idempotency_key: IdempotencyKey = None):
    """Mark subjects notified of a version; doing it twice records nothing more."""

    def mark() -> dict:
        marked = _ledger(request).mark_notified(body.subjects, body.document, body.version,
                                                channel=body.channel)
        return {"document": body.document, "version": body.version, **marked.to_dict()}

    return await _write(request, idempotency_key, body.subjects, body, mark, status=200)


@router.get("/subjects/{subject:subject}/history", **scoped("read"))
def history(request: Request, subject: str):
    """The subject's events, oldest first: what they accepted, declined or withdrew, and when."""
    subject = consent.canonical_subject(subject)
    return JSON({"subject": subject,
                 "events": [e.to_dict() for e in _ledger(request).history(subject)]})


@router.get("/subjects/{subject:subject}/export", **scoped("admin"))
def export(request: Request, subject: str):
    """Everything the ledger holds about the subject, for a data-access request."""
    return JSON(_ledger(request).export(subject))


@router.delete("/subjects/{subject:subject}", **scoped("admin"))
def erase(request: Request, subject: str):
    """Erase the subject: their id and personal evidence are replaced by a pseudonym."""
    return JSON(_ledger(request).erase(subject).to_dict())


@router.get("/verify", **scoped("read"))
def verify(request: Request, anchor: str | None = None):
    """Check the ledger's hash chain and its status table; ``ok`` is false with the first bad
    event or the status rows that differ otherwise. ``anchor``: ``EVENTS:HEAD`` of an earlier
    verification kept elsewhere; ``limits`` says what no check of the file alone can detect."""
    return JSON(_ledger(request).verify(anchor=anchor).to_dict())


async def _write(request: Request, key: str | None, subjects, body: BaseModel, make, *, status: int):
    """``make()``'s response, written in the ledger's group commit (answered once durable).
    With an ``Idempotency-Key``, the response first stored for it instead (marked
    ``Idempotent-Replayed: true``); keys are per API key, and reusing one for another request
    is a 409."""
    ledger = _ledger(request)
    if key is None:
        return JSON(await asyncio.wrap_future(ledger.submit(make)), status_code=status)
    request_json = orjson.dumps([request.url.path, body.model_dump(mode="json")],
                                option=orjson.OPT_SORT_KEYS)
    stored, replayed = await asyncio.wrap_future(ledger.submit(lambda: ledger.idempotent(
        key, subjects, lambda: {"status": status, "body": make()}, owner=request.state.api_key.id,
        fingerprint=hashlib.sha256(request_json).hexdigest())))
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSON(stored["body"], status_code=stored["status"], headers=headers)


@asynccontextmanager
async def _lifespan(app: FastAPI):
    gc.freeze()  # full collections skip what startup made: scanning it paused requests ~80 ms
    stop = threading.Event()
    sealer = threading.Thread(target=_seal, args=(app.state.ledger, app.state.seal_every, stop),
                              name="seal", daemon=True)
    if app.state.seal_every:
        sealer.start()
    yield
    stop.set()
    if sealer.is_alive():
        await run_in_threadpool(sealer.join)
    await run_in_threadpool(app.state.ledger.close)


def _seal(ledger: consent.Ledger, every: float, stop: threading.Event) -> None:
    """Seal the ledger every ``every`` seconds when events were added (see
    :meth:`consent.Ledger.seal`); a failure is logged and tried again next time."""
    while not stop.wait(every):
        try:
            ledger.seal(if_changed=True)
        except consent.ConsentError as error:
            log.warning("sealing the ledger failed: %s", error)


def create_app(ledger_path: str | Path, *, seal_every: float = SEAL_EVERY) -> FastAPI:
    """The API app over the ledger at ``ledger_path``.

    :param ledger_path: a ledger made by ``termsledger publish``: a file, or a
        ``postgresql://`` URL.
    :param seal_every: seconds between two seals of the ledger's chains (when events were
        added), 0 for none. Defaults to :data:`SEAL_EVERY`.
    """
    # The routes go in directly: include_router's nesting costs time on every request.
    app = FastAPI(title="termsledger", version="1", default_response_class=JSON,
                  description="The consent ledger of termsledger over HTTP.",
                  routes=list(router.routes), lifespan=_lifespan)
    app.state.ledger = consent.Ledger(ledger_path)
    app.state.seal_every = seal_every
    app.state.keys = app.state.ledger.keys
    app.add_middleware(BodyLimit)
    for error in (HTTPException, RequestValidationError, consent.ConsentError, Exception):
        app.add_exception_handler(error, render_error)

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return JSON({"ok": True})

    schemes = app.openapi()["components"].setdefault("securitySchemes", {})
    schemes["bearer"] = {"type": "http", "scheme": "bearer", "description": "termsledger keys create"}
    return app


def app_from_env() -> FastAPI:
    """The app for the ledger named by ``$TERMSLEDGER_LEDGER``: uvicorn's factory in each
    worker (sealing every ``$TERMSLEDGER_SEAL_EVERY`` seconds)."""
    return create_app(os.environ[LEDGER_ENV],
                      seal_every=float(os.environ.get(SEAL_ENV, SEAL_EVERY)))
