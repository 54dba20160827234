"""``/v1/webhooks``: the webhook endpoints over HTTP (admin scope), their bodies and routes.

The rules live in :class:`consent.Webhooks`; ``[webhooks] allow_private`` of the server's
``termsledger.toml`` reaches the routes as ``app.state.webhooks`` (a
:class:`consent.DeliverySettings`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Path, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

import consent

from ._http import JSON, ScopedRoute, scoped
from ._models import error_responses

EventType = Literal["version.published", "version.in_force", "consent.recorded",
                    "subject.erased"]
WebhookId = Annotated[str, Path(description="A webhook endpoint's id.", examples=["wh_3f9a0c21b7de4a65"],
                                max_length=64)]
_WHEN = "2026-04-02T09:30:00.000000+00:00"
_WEBHOOK: dict[str, Any] = {"id": "wh_3f9a0c21b7de4a65", "url": "https://example.com/hooks/terms",
            "events": ["version.published", "consent.recorded"], "created": _WHEN,
            "enabled": True, "disabled": None, "disabled_reason": None, "delivered": 12,
            "last_delivered": _WHEN, "pending": 0, "failing": 0}


def _operation_id(route: APIRoute) -> str:
    return route.name


router = APIRouter(prefix="/v1", route_class=ScopedRoute, default_response_class=JSON,
                   tags=["webhooks"], generate_unique_id_function=_operation_id)


class WebhookIn(BaseModel):
    """An endpoint to register."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"url": "https://example.com/hooks/terms",
         "events": ["version.published", "consent.recorded"]}]})

    url: str = Field(min_length=1, max_length=2048, description="An http(s) URL on a public "
                     "address (private, loopback and link-local ones are refused unless the "
                     "server's termsledger.toml has [webhooks] allow_private = true).")
    events: list[EventType] = Field(default_factory=lambda: list(get_args(EventType)),
                                    min_length=1, max_length=4,
                                    description="The event types it receives; all by default.")


class WebhookChange(BaseModel):
    """Disable an endpoint, or enable it again."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": False}]})

    enabled: bool = Field(description="false: deliveries stop, messages are kept; true: every "
                                      "message kept is tried at once, with a new retry period.")


class Webhook(BaseModel):
    """A webhook endpoint (never its secret)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_WEBHOOK]})

    id: str
    url: str
    events: list[EventType]
    created: str
    enabled: bool
    disabled: str | None = Field(description="When it was disabled, by hand or because "
                                             "deliveries failed for the whole retry period.")
    disabled_reason: str | None
    delivered: int
    last_delivered: str | None
    pending: int = Field(description="Messages waiting for it (retries included).")
    failing: int = Field(description="Of those, the ones whose last attempt failed.")


class WebhookCreated(BaseModel):
    """The endpoint registered, and its signing secret: shown only now."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"webhook": _WEBHOOK, "secret": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" + "A" * 12}]})

    webhook: Webhook
    secret: str = Field(description="whsec_ and base64: verify each delivery's "
                                    "webhook-signature with it (standardwebhooks).")


class Webhooks(BaseModel):
    """Every endpoint, oldest first."""

    webhooks: list[Webhook]


class WebhookFailure(BaseModel):
    """A message whose delivery failed."""

    message: str = Field(description="Its webhook-id, the same on every attempt.")
    type: EventType
    attempts: int
    first_failed: str
    last_error: str
    next_attempt: str | None = Field(description="Null once given up or while the endpoint "
                                                 "is disabled.")
    given_up: str | None


class WebhookStatus(BaseModel):
    """An endpoint and the messages it failed to receive, oldest first."""

    webhook: Webhook
    failures: list[WebhookFailure]


ADMIN_READ = (401, 403, 404, 422)
ADMIN_WRITE = (401, 403, 404, 413, 422, 503)


def _webhooks(request: Request) -> consent.Webhooks:
    webhooks: consent.Webhooks = request.app.state.ledger.webhooks
    return webhooks


@router.post("/webhooks", status_code=201, summary="Register a webhook endpoint",
             response_model=WebhookCreated,
             responses=error_responses(401, 403, 413, 422, 503), **scoped("admin"))
def add_webhook(request: Request, body: WebhookIn) -> JSON:
    """Register an endpoint for some event types; the answer carries its signing secret,
    which is never shown again."""
    allow = request.app.state.webhooks.allow_private
    webhook, secret = _webhooks(request).add(body.url, body.events, allow_private=allow)
    return JSON({"webhook": webhook, "secret": secret}, status_code=201)


@router.get("/webhooks", summary="The webhook endpoints", response_model=Webhooks,
            responses=error_responses(401, 403, 422), **scoped("admin"))
def list_webhooks(request: Request) -> JSON:
    """Every endpoint, disabled ones included, with its counts of messages."""
    return JSON({"webhooks": _webhooks(request).list()})


@router.get("/webhooks/{webhook_id}", summary="A webhook endpoint and its failures",
            response_model=WebhookStatus, responses=error_responses(*ADMIN_READ),
            **scoped("admin"))
def webhook_status(request: Request, webhook_id: WebhookId) -> JSON:
    """The endpoint and the messages whose delivery failed: retried, given up, or kept while
    it is disabled."""
    return JSON(_webhooks(request).status(webhook_id))


@router.patch("/webhooks/{webhook_id}", summary="Disable or enable a webhook endpoint",
              response_model=Webhook, responses=error_responses(*ADMIN_WRITE),
              **scoped("admin"))
def change_webhook(request: Request, webhook_id: WebhookId, body: WebhookChange) -> JSON:
    """``{"enabled": false}`` stops deliveries and keeps the messages; ``{"enabled": true}``
    tries every message kept at once."""
    webhooks = _webhooks(request)
    change = webhooks.enable if body.enabled else webhooks.disable
    return JSON(change(webhook_id))


@router.delete("/webhooks/{webhook_id}", summary="Remove a webhook endpoint",
               response_model=Webhook, responses=error_responses(*ADMIN_WRITE),
               **scoped("admin"))
def remove_webhook(request: Request, webhook_id: WebhookId) -> JSON:
    """Delete the endpoint and the messages waiting for it; answers it as it was."""
    return JSON(_webhooks(request).remove(webhook_id))
