"""``termsledger serve`` and ``termsledger keys``: the HTTP API and its API keys."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from consent import SCOPES, ConsentError, Ledger, check_ledger

from .cli import LEDGER_HELP, format_option, load_config
from .cli_transparency import key_option, receipt_settings, signing

ledger_option = click.option("--ledger", "ledger", default=None, metavar="FILE|URL",
                             help="The ledger: " + LEDGER_HELP)
MAX_WORKERS = 4 * (os.cpu_count() or 1)
"""Most worker processes of ``serve``: a worker waits on the ledger's storage part of the time,
so a few per CPU keep the CPUs busy; more only add memory and connections to the ledger."""


def ledger_path(ledger: str | None) -> Path | str:
    """``--ledger``, else the configured ledger; a file must be a ledger made by ``publish``
    (a database is checked when it is opened)."""
    location = load_config(None).ledger_location(ledger)
    if isinstance(location, Path):
        try:
            check_ledger(location)
        except ConsentError as error:
            raise click.ClickException(str(error)) from None
    return location


def _trusted(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``--trusted-proxies`` as given, once each entry is ``*``, an IP address or a network:
    uvicorn would take anything else (``10.0.0.0/33``, ``10.0.0.1/8``) for a name that no
    peer has, and trust nobody, without a word. Empty, nobody is trusted."""
    if not value.strip():
        return value
    for entry in (e.strip() for e in value.split(",")):
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry)
        except ValueError:
            try:
                hint = f"; write {ipaddress.ip_network(entry, strict=False)} for its network"
            except ValueError:
                hint = " (e.g. 10.0.0.5, 10.0.0.0/8 or *)"
            raise click.BadParameter(f"{entry!r} is not an IP address or network{hint}") from None
    return value


def _root_path(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``--root-path`` as given, once it is empty or a path such as ``/consent``."""
    if value and (not value.startswith("/") or value.endswith("/")
                  or any(c.isspace() or c in "?#" for c in value)):
        raise click.BadParameter(f"{value!r} is not a path prefix: write it as /consent, with a "
                                 "leading / and none at the end")
    return value


def _listenable(host: str, port: int) -> None:
    """Fail now, naming the address, where the server would fail to listen (after starting
    up): bound as uvicorn binds it, then let go."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except socket.gaierror as error:
            raise click.BadParameter(f"{host!r} is neither an address nor a name that resolves "
                                     f"({error.strerror})", param_hint="'--host'") from None
        except OSError as error:
            raise click.ClickException(f"cannot listen on {host} port {port}: {error.strerror}"
                                       ) from None


@click.command()
@ledger_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, type=click.IntRange(0, 65535), show_default=True,
              help="Port to listen on; 0 for any free port (the log says which).")
@click.option("--workers", default=1, type=click.IntRange(1, MAX_WORKERS), show_default=True,
              help="Worker processes; they share the ledger. At most four per CPU.")
@click.option("--root-path", default="", callback=_root_path,
              help="The path prefix a reverse proxy serves the API under (e.g. /consent).")
@click.option("--trusted-proxies", default="127.0.0.1", show_default=True, callback=_trusted,
              help="Addresses of the reverse proxies whose X-Forwarded-For and "
                   "X-Forwarded-Proto are believed (comma-separated, or *): the evidence then "
                   "records the user's address, not the proxy's.")
@click.option("--seal-every", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds between two seals of the ledger's chains (when events were "
                   "added); 0 for none.")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Log every request. Paths carry subject ids, which erasure cannot reach "
                   "in a log file, so this is off by default.")
@key_option
@click.option("--checkpoint-interval", type=click.FloatRange(min=0.1), default=3600.0,
              show_default=True,
              help="Seconds between two signed checkpoints of the transparency log (made only "
                   "when the log has grown).")
@click.option("--deliver/--no-deliver", default=True, show_default=True,
              help="Deliver webhooks from each worker process ([webhooks] of "
                   "termsledger.toml); --no-deliver where `termsledger webhooks deliver` runs "
                   "from cron instead.")
def serve(ledger: str | None, host: str, port: int, workers: int, root_path: str,
          trusted_proxies: str, seal_every: float, access_log: bool, key_file: str | None,
          checkpoint_interval: float, deliver: bool) -> None:
    """Serve the HTTP JSON API over the consent ledger, and deliver its webhooks.

    Create an API key first with `termsledger keys create`. With a signing key (`termsledger
    keys signing create`), every decision recorded gets a signed consent receipt, and a
    checkpoint of the transparency log is signed every --checkpoint-interval seconds; without
    one (no file where [receipts] signing_key or the default says), the server says so when it
    starts and records without receipts; a key named with --key or $TERMSLEDGER_SIGNING_KEY
    must exist, and a key file that cannot be used (readable by others, rotated out) stops it.

    Example:

    \b
        termsledger serve --ledger termsledger.db --port 8080 --workers 2
    """
    _listenable(host, port)
    path = ledger_path(ledger)
    config = load_config(None)
    receipts, line = receipt_settings(config, key_file)
    click.echo(line, err=True)
    import uvicorn

    from . import _workers
    from .api import LEDGER_ENV, SEAL_ENV, SETTINGS_ENV

    os.environ[LEDGER_ENV] = str(path.resolve()) if isinstance(path, Path) else path
    os.environ[SEAL_ENV] = str(seal_every)
    os.environ[SETTINGS_ENV] = json.dumps({
        "receipts": {**asdict(receipts), "signing_key": str(receipts.signing_key.resolve())}
        if receipts else None, "checkpoint_interval": checkpoint_interval,
        "webhooks": dict(config.webhooks), "deliver": deliver})
    options: dict[str, Any] = {
        "app": "termsledger.api:app_from_env", "factory": True, "host": host, "port": port,
        "workers": workers, "access_log": access_log, "log_level": "info", "root_path": root_path,
        "proxy_headers": True, "forwarded_allow_ips": trusted_proxies,
        "http": "termsledger._http:HttpProtocol"}
    if workers > 1 and _workers.BALANCED:
        _workers.run(options)
    else:
        uvicorn.run(**options)


@click.group()
def keys() -> None:
    """Create, list and revoke the API keys of `termsledger serve`; `keys signing` manages the
    key that signs receipts and checkpoints."""


keys.add_command(signing)


@keys.command(name="create")
@click.option("--scope", type=click.Choice(SCOPES), required=True,
              help="read: statuses and history; write: also record; admin: also export, "
                   "erase and keys.")
@click.option("--name", required=True, help="Who uses the key, e.g. the mailer.")
@ledger_option
@format_option
def create_key(scope: str, name: str, ledger: str | None, output_format: str) -> None:
    """Create an API key and print its secret, once, alone on the last line.

    Example:

    \b
        termsledger keys create --scope write --name signup
    """
    with _key_errors(), Ledger(ledger_path(ledger)) as opened:
        key, secret = opened.keys.create(name, scope)
    if output_format == "json":
        click.echo(json.dumps({"id": key.id, "name": key.name, "scope": key.scope, "secret": secret}))
    else:
        click.echo(f"Created API key {key.id} ({key.name}, scope {key.scope}). "
                   "Store its secret now; it is not shown again:")
        click.echo(secret)


@keys.command(name="list")
@ledger_option
@format_option
def list_keys(ledger: str | None, output_format: str) -> None:
    """List the API keys, revoked ones included; secrets are never shown.

    Example:

    \b
        termsledger keys list --format json
    """
    with _key_errors(), Ledger(ledger_path(ledger)) as opened:
        found = opened.keys.list()
    if output_format == "json":
        click.echo(json.dumps([key.to_dict() for key in found], indent=2))
        return
    for key in found:
        state = f"revoked {key.revoked}" if key.revoked else "active"
        click.echo(f"{key.id}  {key.scope:<5}  {key.name}  created {key.created}  {state}")


@keys.command(name="revoke")
@click.argument("key_id")
@ledger_option
def revoke_key(key_id: str, ledger: str | None) -> None:
    """Revoke an API key; a running server refuses it (401) from its next request.

    Example:

    \b
        termsledger keys revoke 3f9a0c21b7de
    """
    with _key_errors(), Ledger(ledger_path(ledger)) as opened:
        key = opened.keys.revoke(key_id)
    click.echo(f"Revoked API key {key.id} ({key.name}) at {key.revoked}.")


@contextmanager
def _key_errors() -> Iterator[None]:
    try:
        yield
    except ConsentError as error:
        raise click.ClickException(str(error)) from None
