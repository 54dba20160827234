"""``termsledger init``: set up an existing repository."""

from __future__ import annotations

import sys

import click

from .cli import report_check


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, exists=True), default=".")
def init(folder: str) -> None:
    """Set up FOLDER (the current one by default) for termsledger, then check it.

    Writes a commented termsledger.toml (never over an existing one) naming the documents'
    folder: content/ when there is one, else FOLDER itself when it holds Markdown documents.
    Adds to .gitignore what must never be committed: the built site, the consent ledger's
    files (it holds personal data) and the receipts' signing key. Then runs termsledger check.

    Example:

    \b
        cd my-terms-repository && termsledger init
    """
    from .config import ConfigError, read_config
    from .init import InitError, set_up

    try:
        setup = set_up(folder)
        config = read_config(setup.config)
    except (ConfigError, InitError, OSError) as error:
        raise click.ClickException(str(error)) from None
    if setup.written:
        where = "this folder" if setup.content == "." else f"{setup.content}/"
        click.echo(f"Wrote {setup.config}: the documents are in {where}; its comments show every setting.")
    else:
        click.echo(f"{setup.config} is already there: left as it is (remove it to have a new one written).")
    if setup.ignored:
        click.echo(f"Added to {setup.config.parent / '.gitignore'}: {', '.join(setup.ignored)}")
    for path in setup.committed:
        click.echo(f"warning: {path} is committed to git, but must never be (a ledger holds personal data, a "
                   f"key signs receipts): git rm --cached {path}, and remove it from the history", err=True)
    if setup.written or setup.ignored:
        click.echo("Commit them, so that everyone who edits the documents shares them.")
    click.echo()
    if not config.content.exists():  # a new repository: nothing to check yet
        raise click.ClickException(f"there are no documents yet: put them in {config.content}/ (termsledger."
                                   f"toml names it; set content = \"...\" there for another folder), then "
                                   f"run termsledger check")
    sys.exit(report_check(config, None, "text"))
