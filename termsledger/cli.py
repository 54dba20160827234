"""The ``termsledger`` command line: a thin layer over ``terms``, ``site_builder`` and ``consent``."""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported where used: `receipt verify` must start fast, without them
    import terms

    from .config import Config

content_option = click.option(
    "--content", "content", type=click.Path(file_okay=False), default=None,
    help="Content folder. Defaults to the one termsledger.toml names, else ./content.")
LEDGER_HELP = ("a file, or a postgresql:// URL. Defaults to $TERMSLEDGER_LEDGER, else the one "
               "termsledger.toml names, else ./termsledger.db.")
ledger_option = click.option("--ledger", "ledger_path", default=None, metavar="FILE|URL",
                             help="The ledger: " + LEDGER_HELP)
compared_ledger_option = click.option(
    "--ledger", "ledger_path", default=None, metavar="FILE|URL",
    help="Ledger whose published versions the content must match, when it exists: " + LEDGER_HELP)
# At exit, the interpreter's last collection would go through every object the command made
# (0.05-0.08 s after a build); frozen, they are freed without it.
atexit.register(gc.freeze)

format_option = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text",
    show_default=True, help="Output format.")


def load_config(content: str | None) -> Config:
    """The configuration for ``--content``, with errors turned into click errors."""
    from .config import ConfigError, find_config

    try:
        return find_config(content)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def published_versions(config: Config, ledger_path: str | None) -> dict[tuple[str, str], terms.Published]:
    """Each version published in the ledger of ``--ledger`` (else the configured one), by
    ``(slug, version id)``; none when there is no ledger there (none is made)."""
    location = config.ledger_location(ledger_path)
    if isinstance(location, Path) and not location.exists():
        return {}
    import terms
    from consent import ConsentError, Ledger, LedgerNotFound

    try:
        with Ledger(location) as ledger:
            return {(v.document, v.id): terms.Published(content_sha256=v.content_sha256, commit=v.commit,
                                                        material=v.flag)
                    for d in ledger.catalog() for v in d.versions}
    except LedgerNotFound:
        return {}
    except ConsentError as error:
        raise click.ClickException(str(error)) from None


def load_content(config: Config) -> terms.Content:
    """The content of ``config``, with errors turned into click errors."""
    import terms

    if not config.content.is_dir():
        raise click.ClickException(no_content(config))
    try:
        return config.load_content()
    except terms.TermsError as error:
        raise click.ClickException(str(error)) from None


def no_content(config: Config) -> str:
    """What to do when the content folder of ``config`` does not exist."""
    from terms import matches

    named = {None: "the default", "--content": "given with --content"}.get(config.content_from,
                                                                         f"named by {config.content_from}")
    toml = config.source or "termsledger.toml"
    if config.content.exists():
        return (f"the content folder {config.content.absolute()} ({named}) is a file: name the folder of "
                f"the documents")
    message = (f"there is no content folder {config.content.absolute()} ({named}). Name the documents' "
               f"folder with --content FOLDER or with content = \"FOLDER\" in {toml}")
    base = config.source.parent if config.source else Path(".")
    found = sorted(p.name for p in base.iterdir()
                   if p.is_file() and matches(p.name, config.include, config.exclude))
    if found and config.content.resolve() != base.resolve():
        shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
        init = "" if config.source else " (termsledger init writes termsledger.toml)"
        message += (f"; {base.absolute()} holds Markdown documents ({shown}): for that folder, give "
                    f"--content {base} or write content = \".\"{init}")
    return message


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when they run, so that a command
    does not pay for the imports of the others (the HTTP server's, the ledger's…)."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            module, attribute = self.lazy_commands[name].rsplit(".", 1)
            command: click.Command = getattr(importlib.import_module(module, __package__), attribute)
            return command
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, lazy_commands={
    "build": ".cli_build.build",
    "consent": ".cli_consent.consent",
    "diff": ".cli_diff.diff",
    "init": ".cli_init.init",
    "keys": ".cli_serve.keys",
    "ledger": ".cli_ledger.ledger",
    "log": ".cli_transparency.log",
    "publish": ".cli_consent.publish",
    "receipt": ".cli_transparency.receipt",
    "serve": ".cli_serve.serve",
    "webhooks": ".cli_webhooks.webhooks",
})
@click.version_option(package_name="termsledger")
def cli() -> None:
    """Terms of Use and policies as Markdown in git: check them, publish a versioned
    site with redline diffs, and keep a ledger of who accepted which version."""


@cli.command()
@content_option
@compared_ledger_option
@format_option
def check(content: str | None, ledger_path: str | None, output_format: str) -> None:
    """Check the documents and their history; exit 1 on any error.

    Reports every problem as path:line: error|warning: message. When a ledger exists, each
    version published in it must still have the text it was published with.

    Example:

    \b
        termsledger check --content content
    """
    sys.exit(report_check(load_config(content), ledger_path, output_format))


def report_check(config: Config, ledger_path: str | None, output_format: str) -> int:
    """Print the problems of the content of ``config`` as ``check`` does; its exit status."""
    loaded = load_content(config)
    problems = check_content(config, loaded, ledger_path)
    errors = sum(p.severity == "error" for p in problems)
    if output_format == "json":
        click.echo(json.dumps({
            "ok": not errors,
            "problems": [{"path": p.path, "line": p.line, "severity": p.severity, "message": p.message}
                         for p in problems],
            "documents": [_document_summary(d) for d in loaded.documents.values()],
        }, indent=2))
    else:
        for problem in problems:
            click.echo(str(problem), err=problem.severity == "error")
        click.echo(_text_summary(loaded, problems))
    return 1 if errors else 0


def check_content(config: Config, content: terms.Content, ledger_path: str | None) -> list[terms.Problem]:
    """The problems of ``content``, compared with the ledger of ``--ledger`` (else the configured
    one) when it exists."""
    import terms

    problems = terms.check(content, notice_days=config.notice_days, watch=config.watch,
                           published=published_versions(config, ledger_path), languages=config.site_languages)
    for slug in dict.fromkeys(config.required):
        if slug not in content.documents:
            known = ", ".join(content.documents) or "none"
            problems.append(terms.Problem(
                str(config.source), _line_of(config.source, "required"), "error",
                f"[consent] required names {slug!r}, which is not a document of the content (its documents "
                f"are: {known}): publish would refuse it"))
    return problems


def _line_of(path: Path | None, key: str) -> int:
    """The line of ``path`` (a TOML file) that sets ``key``; 1 when none does."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path else []
    except (OSError, UnicodeDecodeError):
        lines = []
    return next((n for n, line in enumerate(lines, 1) if line.split("=")[0].strip() == key), 1)


def plural(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _document_summary(document: terms.Document) -> dict[str, object]:
    current, announced = document.in_force(), document.announced()
    return {"slug": document.slug, "title": document.title, "path": document.path,
            "versions": len(document.versions),
            "current": current.id if current else None,
            "announced": announced.id if announced else None}


def _text_summary(content: terms.Content, problems: list[terms.Problem]) -> str:
    documents = list(content.documents.values())
    counts = Counter(p.severity for p in problems)
    versions = sum(len(d.versions) for d in documents)
    lines = [f"{plural(len(documents), 'document')}, {plural(versions, 'version')} in {content.root}; "
             f"{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}."]
    for document in documents:
        current, announced = document.in_force(), document.announced()
        line = f"  {document.slug}: {plural(len(document.versions), 'version')}, "
        line += f"in force {current.id}" if current else "nothing in force yet"
        if announced:
            line += f", announced {announced.id}" + (" (material)" if announced.material else "")
        lines.append(line)
    return "\n".join(lines)
