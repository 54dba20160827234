"""``termsledger ledger ...``: copying and backing up a whole ledger."""

from __future__ import annotations

import click

from consent import ConsentError, Ledger

from .cli_consent import echo


@click.group()
def ledger() -> None:
    """Copy a ledger between SQLite and PostgreSQL, or back an SQLite ledger up."""


@ledger.command()
@click.argument("source", metavar="SOURCE")
@click.argument("target", metavar="TARGET")
def copy(source: str, target: str) -> None:
    """Copy the whole ledger SOURCE into TARGET (each a file or a postgresql:// URL), then
    verify the copy. TARGET must be a new file or a database without a ledger. A live SQLite
    ledger is copied from one consistent snapshot. Bundle members that are not part of their
    own record's event are copied as they are (`ok` false, `problem` says how many; `consent
    verify` lists them).

    Example:

    \b
        termsledger ledger copy termsledger.db postgresql://ledger@db.internal/ledger
    """
    from consent.copy import copy_ledger

    try:
        result = copy_ledger(source, target)
    except ConsentError as error:
        raise click.ClickException(str(error)) from None
    echo({"target": Ledger.shown(target), "events": result.events, "chains": result.chains,
          "head": result.head, "ok": result.ok, "problem": result.problem})


@ledger.command()
@click.argument("target", metavar="FILE")
@click.option("--ledger", "ledger_path", default=None, metavar="FILE",
              help="The SQLite ledger to back up. Defaults to $TERMSLEDGER_LEDGER, else the "
                   "one termsledger.toml names, else ./termsledger.db.")
def backup(target: str, ledger_path: str | None) -> None:
    """Back the SQLite ledger up into the new FILE with SQLite's backup API, consistently
    while the server writes (a plain `cp` of a live ledger can miss its last transactions).

    Example:

    \b
        termsledger ledger backup /backups/termsledger-$(date +%F).db
    """
    from .cli_consent import open_ledger

    with open_ledger(ledger_path) as opened:
        try:
            opened.backup(target)
        except ConsentError as error:
            raise click.ClickException(str(error)) from None
        echo({"backup": target})
