"""``termsledger webhooks``: the ledger's webhook endpoints and their delivery, a thin layer
over :class:`consent.Webhooks`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click

from consent import EVENT_TYPES, ConsentError, Ledger, Webhook

from .cli import format_option, load_config
from .cli_serve import ledger_option, ledger_path


@click.group()
def webhooks() -> None:
    """Tell products of changes without polling: endpoints receive version.published,
    version.in_force, consent.recorded and subject.erased, signed as Standard Webhooks."""


@webhooks.command(name="add")
@click.argument("url")
@click.option("--events", default=",".join(EVENT_TYPES), show_default=True,
              help="The event types the endpoint receives, separated by commas.")
@ledger_option
@format_option
def add(url: str, events: str, ledger: str | None, output_format: str) -> None:
    """Register an endpoint and print its signing secret, once, alone on the last line.

    Hosts on private, loopback or link-local addresses are refused unless termsledger.toml
    has `[webhooks] allow_private = true`.

    Example:

    \b
        termsledger webhooks add https://example.com/hooks/terms \\
            --events version.published,consent.recorded
    """
    settings = load_config(None).delivery_settings()
    with _opened(ledger) as opened:
        webhook, secret = opened.webhooks.add(url, events, allow_private=settings.allow_private)
    if output_format == "json":
        click.echo(json.dumps({**webhook.to_dict(), "secret": secret}, indent=2))
    else:
        click.echo(f"Added webhook {webhook.id} for {', '.join(webhook.events)} at {webhook.url}. "
                   "Store its signing secret now; it is not shown again:")
        click.echo(secret)


@webhooks.command(name="list")
@ledger_option
@format_option
def list_webhooks(ledger: str | None, output_format: str) -> None:
    """List the endpoints, disabled ones included; secrets are never shown.

    Example:

    \b
        termsledger webhooks list --format json
    """
    with _opened(ledger) as opened:
        found = opened.webhooks.list()
    if output_format == "json":
        click.echo(json.dumps([webhook.to_dict() for webhook in found], indent=2))
        return
    for webhook in found:
        click.echo(_line(webhook))
    if not found:
        click.echo("No webhook endpoints (`termsledger webhooks add URL` registers one).")


@webhooks.command(name="status")
@click.argument("webhook_id", required=False)
@ledger_option
@format_option
def status(webhook_id: str | None, ledger: str | None, output_format: str) -> None:
    """Show each endpoint (or WEBHOOK_ID alone) with the messages it failed to receive: what
    went wrong, how often, and when they are tried again.

    Example:

    \b
        termsledger webhooks status wh_3f9a0c21b7de4a65
    """
    with _opened(ledger) as opened:
        ids = [webhook_id] if webhook_id else [w.id for w in opened.webhooks.list()]
        found = [opened.webhooks.status(i) for i in ids]
    if output_format == "json":
        click.echo(json.dumps([s.to_dict() for s in found], indent=2))
        return
    if not found:
        click.echo("No webhook endpoints (`termsledger webhooks add URL` registers one).")
    for item in found:
        click.echo(_line(item.webhook))
        for failure in item.failures:
            then = (f"given up {failure.given_up}" if failure.given_up else
                    f"next try {failure.next_attempt}" if failure.next_attempt else
                    "kept while disabled")
            click.echo(f"  {failure.message}  {failure.type}  {failure.attempts} attempt(s) since "
                       f"{failure.first_failed}, last: {failure.last_error}; {then}")


@webhooks.command(name="remove")
@click.argument("webhook_id")
@ledger_option
def remove(webhook_id: str, ledger: str | None) -> None:
    """Delete an endpoint and the messages waiting for it.

    Example:

    \b
        termsledger webhooks remove wh_3f9a0c21b7de4a65
    """
    with _opened(ledger) as opened:
        webhook = opened.webhooks.remove(webhook_id)
    click.echo(f"Removed webhook {webhook.id} ({webhook.url}) and {webhook.pending} message(s) "
               f"waiting for it.")


@webhooks.command(name="disable")
@click.argument("webhook_id")
@ledger_option
def disable(webhook_id: str, ledger: str | None) -> None:
    """Stop delivering to an endpoint; its messages are kept until it is enabled.

    Example:

    \b
        termsledger webhooks disable wh_3f9a0c21b7de4a65
    """
    with _opened(ledger) as opened:
        click.echo(_line(opened.webhooks.disable(webhook_id)))


@webhooks.command(name="enable")
@click.argument("webhook_id")
@ledger_option
def enable(webhook_id: str, ledger: str | None) -> None:
    """Deliver to an endpoint again (one disabled by hand or after its retries ran out): every
    message kept for it is tried at once, with a new retry period.

    Example:

    \b
        termsledger webhooks enable wh_3f9a0c21b7de4a65
    """
    with _opened(ledger) as opened:
        click.echo(_line(opened.webhooks.enable(webhook_id)))


@webhooks.command(name="deliver")
@click.option("--at", default=None, help="Announce the versions in force at this moment "
              "(ISO-8601; now by default) as version.in_force.")
@ledger_option
@format_option
def deliver(at: str | None, ledger: str | None, output_format: str) -> None:
    """Deliver the messages due now, once each, and announce the versions that came into
    force: for a cron job where `serve --no-deliver` runs, or no server.

    Example:

    \b
        */5 * * * *  termsledger webhooks deliver --ledger /srv/terms/termsledger.db
    """
    settings = load_config(None).delivery_settings()
    with _opened(ledger) as opened:
        run = opened.webhooks.deliver(settings, at=at)
    if output_format == "json":
        click.echo(json.dumps(run.to_dict(), indent=2))
        return
    lines = [f"Delivered {run.delivered}, failed {run.failed} (retried later), deferred "
             f"{run.deferred}."]
    lines += [f"In force: {version}." for version in run.in_force]
    lines += [f"Disabled webhook {endpoint}: every delivery failed for the retry period "
              f"(`termsledger webhooks status {endpoint}`)." for endpoint in run.disabled]
    click.echo("\n".join(lines))


def _line(webhook: Webhook) -> str:
    state = "enabled" if webhook.enabled else f"disabled {webhook.disabled} ({webhook.disabled_reason})"
    last = f", last {webhook.last_delivered}" if webhook.last_delivered else ""
    return (f"{webhook.id}  {webhook.url}  {','.join(webhook.events)}  {state}; delivered "
            f"{webhook.delivered}{last}; {webhook.pending} pending, {webhook.failing} failing")


@contextmanager
def _opened(ledger: str | None) -> Iterator[Ledger]:
    """The ledger of ``--ledger``, with the ledger's errors as click errors."""
    try:
        with Ledger(ledger_path(ledger)) as opened:
            yield opened
    except ConsentError as error:
        raise click.ClickException(str(error)) from None
