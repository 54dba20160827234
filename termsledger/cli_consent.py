"""``termsledger publish`` and ``termsledger consent ...``: the consent ledger from the shell.

Every command prints JSON and is a thin layer over :class:`consent.Ledger`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from consent import (
    ConsentError,
    DuplicateKey,
    InvalidContent,
    InvalidImport,
    Ledger,
    ReceiptSettings,
    json_problem,
    unique_keys,
)

from .cli import content_option, ledger_option, load_config, load_content
from .cli_transparency import key_option, receipt_settings

if TYPE_CHECKING:
    import terms

    from .config import Config


@contextmanager
def open_ledger(ledger_path: str | None, content: str | None = None, *,
                create: bool = False, receipts: ReceiptSettings | None = None) -> Iterator[Ledger]:
    """The ledger of ``--ledger`` (else the configured one), issuing ``receipts``, with its
    errors as click errors; only with ``create`` is a missing one made (and removed again if
    the command fails)."""
    path = load_config(content).ledger_location(ledger_path)
    made = create and isinstance(path, Path) and not path.exists()
    try:
        with Ledger(path, create=create, receipts=receipts) as ledger:
            yield ledger
    except BaseException as error:
        if made:
            for leftover in (Path(f"{path}{end}") for end in ("", "-wal", "-shm", ".lock")):
                leftover.unlink(missing_ok=True)
        if isinstance(error, ConsentError) and not isinstance(error, InvalidContent):
            raise click.ClickException(str(error)) from None
        raise


def page_urls(config: Config) -> Callable[[terms.Version], str | None] | None:
    """Each text's page on the public site, by the site builder's layout under ``[site]
    base_url``, for the catalog; ``None`` (the URLs stored are kept) without a base URL."""
    if not config.base_url:
        return None
    from site_builder.urls import layout

    root = config.base_url.rstrip("/") + "/"
    languages = config.site_languages

    def url(text: terms.Version) -> str | None:
        if text.language not in languages:
            return None
        return root + layout(text.language, config.language).version_url(text.slug, text.id)

    return url


def echo(data: Any) -> None:
    """Print ``data`` as indented JSON, non-ASCII characters kept as they are."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.command()
@content_option
@ledger_option
@click.option("--allow-uncommitted", is_flag=True,
              help="Also publish uncommitted text of a git repository (it cannot be reproduced "
                   "from git later).")
def publish(content: str | None, ledger_path: str | None, allow_uncommitted: bool) -> None:
    """Copy the published versions of the content into the ledger's catalog.

    Content with errors (see `termsledger check`) is refused, and so is uncommitted text in a
    git repository unless --allow-uncommitted. Republishing is idempotent; a version whose
    text changed after it was published is refused, and so is a changed `material:` flag once
    the version is in force. Versions without a flag take the change analysis' verdict.

    The catalog keeps each version's Markdown and its translations in the site's languages,
    each text's page on the site ([site] base_url) and the documents required at signup
    ([consent] required).

    Example:

    \b
        termsledger publish --content content --ledger termsledger.db
    """
    config = load_config(content)
    loaded = load_content(config)
    try:
        with open_ledger(ledger_path, content, create=True) as ledger:
            echo(ledger.publish(loaded, watch=config.watch, allow_uncommitted=allow_uncommitted,
                                required=config.required, languages=config.site_languages,
                                urls=page_urls(config)).to_dict())
    except InvalidContent as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"nothing published: the content has {len(error.problems)} "
                                   f"error(s); fix them and run termsledger check") from None


def moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """``--at``: an ISO-8601 date and time (a date alone: its midnight), UTC when naive."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date and time (such as "
                                 f"2026-05-01 or 2026-05-01T09:00:00+02:00) in years 1 to "
                                 f"9999", ctx=ctx, param=param) from None


@click.group()
def consent() -> None:
    """Record and query who accepted which version: the consent ledger."""


@consent.command()
@click.argument("subject")
@click.argument("document")
@click.option("--version", default=None, help="Version id, label or date. Defaults to the one in force.")
@click.option("--action", default="accepted", show_default=True,
              type=click.Choice(["accepted", "declined", "withdrawn"]))
@click.option("--channel", default="cli", show_default=True, help="Where it happened: web, app, api...")
@click.option("--evidence", default=None, help='A JSON object, e.g. \'{"ip": "203.0.113.7"}\'.')
@click.option("--sha256", default=None,
              help="The content_sha256 of the text shown (in any of its languages), or the bundle's "
                   "manifest hash.")
@click.option("--language", default=None,
              help="The language of the text shown (fr, de...). Defaults to that of the text whose hash "
                   "is --sha256, else the version's own.")
@click.option("--at", callback=moment, default=None,
              help="When it happened (ISO-8601; UTC when naive). Defaults to now.")
@ledger_option
@key_option
def record(subject: str, document: str, version: str | None, action: str, channel: str,
           evidence: str | None, sha256: str | None, language: str | None, at: datetime | None,
           ledger_path: str | None, key_file: str | None) -> None:
    """Record that SUBJECT accepted (declined, withdrew from) DOCUMENT; prints the events.

    Accepting a version that is neither in force nor announced is refused, naming the one in force.
    With a signing key, the decision gets a signed receipt: `termsledger consent receipt`
    prints it.

    Example:

    \b
        termsledger consent record user-42 terms --evidence '{"ip": "203.0.113.7"}'
        termsledger consent record user-42 terms --language fr --sha256 9f2c...
    """
    try:
        given = json.loads(evidence, object_pairs_hook=unique_keys) if evidence is not None else None
    except DuplicateKey as error:
        raise click.ClickException(f"--evidence is not valid: {error}") from None
    except (ValueError, RecursionError) as error:
        raise click.ClickException(f"--evidence is not valid JSON: {json_problem(error)}") from None
    receipts, _ = receipt_settings(load_config(None), key_file)
    with open_ledger(ledger_path, receipts=receipts) as ledger:
        events = ledger.record(subject, document, action, version, channel=channel,
                               evidence=given, sha256=sha256, language=language, at=at)
        echo([e.to_dict() for e in events])


@consent.command()
@click.argument("event")
@click.option("--size", type=click.IntRange(min=0), default=None,
              help="Prove the event's inclusion against the checkpoint of this size. Defaults "
                   "to the latest published with the site.")
@click.option("--with-salt", is_flag=True,
              help="The subject's own copy, with the salt that shows it is about them (until "
                   "they are erased): give it to them only.")
@ledger_option
def receipt(event: str, size: int | None, with_salt: bool, ledger_path: str | None) -> None:
    """Print the consent receipt of EVENT (its place: seq, or chain.seq, as `consent history`
    shows it; or the receipt's id), with the proof that its event is in the transparency log
    against the latest checkpoint published with the site ("proof" is missing until one
    includes it). Anyone can check it with `termsledger receipt verify`.

    Example:

    \b
        termsledger consent receipt 42 > receipt.json
    """
    with open_ledger(ledger_path) as ledger:
        click.echo(ledger.receipt(event, with_salt=with_salt, size=size).to_json(), nl=False)


@consent.command()
@click.argument("subject")
@click.argument("document", required=False)
@click.option("--at", callback=moment, default=None,
              help="The moment asked about (ISO-8601; UTC when naive): a past one counts the "
                   "decisions made up to it. Defaults to now.")
@ledger_option
def status(subject: str, document: str | None, at: datetime | None, ledger_path: str | None) -> None:
    """Print SUBJECT's status for DOCUMENT, or a list for every published document.

    Example:

    \b
        termsledger consent status user-42 terms --at 2026-05-01
    """
    with open_ledger(ledger_path) as ledger:
        if document:
            echo(ledger.status(subject, document, at).to_dict())
        else:
            echo([s.to_dict() for s in ledger.status_all(subject, at)])


@consent.command()
@click.argument("subject")
@click.option("--at", callback=moment, default=None,
              help="The moment asked about (ISO-8601; UTC when naive): a past one counts the "
                   "decisions made up to it. Defaults to now.")
@click.option("--language", "languages", multiple=True,
              help="The user's language (repeat it, preferred first): titles, hashes and URLs of the "
                   "texts in it where there is one.")
@ledger_option
def required(subject: str, at: datetime | None, languages: tuple[str, ...],
             ledger_path: str | None) -> None:
    """Print what the product must do now about SUBJECT: for each document, accept, notify
    or announce a version (with its title, summary, sha256 and URL), or nothing.

    An empty list lets them in. Unknown subjects must accept the documents required at signup
    ([consent] required in termsledger.toml, published with `termsledger publish`).

    Example:

    \b
        termsledger consent required user-42 --language fr
    """
    with open_ledger(ledger_path) as ledger:
        echo(ledger.required(subject, at, language=languages or None).to_dict())


@consent.command()
@click.argument("document")
@click.argument("version")
@click.option("--language", "languages", multiple=True,
              help="The text in this language (repeat it, preferred first); the version's own text "
                   "when it has none of them.")
@click.option("--markdown", is_flag=True, help="Print the Markdown alone, as published.")
@ledger_option
def text(document: str, version: str, languages: tuple[str, ...], markdown: bool,
         ledger_path: str | None) -> None:
    """Print the exact text of VERSION of DOCUMENT as the ledger keeps it.

    Example:

    \b
        termsledger consent text terms 2026-04-01 --language fr --markdown
    """
    with open_ledger(ledger_path) as ledger:
        found = ledger.text(document, version, languages or None)
    if markdown:
        click.echo(found.markdown, nl=False)
    else:
        echo(found.to_dict())


@consent.command(name="import")
@click.argument("file", type=click.File("rb"))
@click.option("--skip-bad", is_flag=True,
              help="Record the good lines and list the bad ones. By default a bad line records nothing.")
@ledger_option
def import_(file: BinaryIO, skip_bad: bool, ledger_path: str | None) -> None:
    """Import decisions made before this ledger: FILE holds one JSON object per line (- for
    standard input), recorded at its original time and marked as imported.

    Each line has subject, document, at (the original time, ISO-8601) and version or sha256;
    optionally evidence, action, channel and language. A bad line is reported by its number
    and nothing is recorded, unless --skip-bad. The import is one transaction.

    Example:

    \b
        termsledger consent import acceptances.jsonl
        {"subject": "user-42", "document": "terms", "version": "2024-03-01", "at": "2024-05-02T10:00:00Z"}
    """
    with open_ledger(ledger_path) as ledger:
        try:
            imported = ledger.import_records(file, skip_bad=skip_bad)
        except InvalidImport as error:
            for bad in error.bad:
                click.echo(f"{file.name}:{bad.line}: {bad.message}", err=True)
            listed = f"the first {len(error.bad)} above" if error.count > len(error.bad) else "above"
            raise click.ClickException(
                f"nothing imported from {file.name}: {error.count} bad line{'s' * (error.count != 1)} "
                f"({listed}); fix them, or record the others with --skip-bad") from None
    echo(imported.to_dict())


@consent.command()
@click.argument("document")
@click.argument("version")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Print one page of this size.")
@click.option("--cursor", default=None, help="The next_cursor of the previous page.")
@ledger_option
def pending(document: str, version: str, limit: int | None, cursor: str | None,
            ledger_path: str | None) -> None:
    """Print the subjects to notify of VERSION of DOCUMENT, with a cursor for the next page.

    Example:

    \b
        termsledger consent pending terms 2026-06-01 --limit 1000
    """
    with open_ledger(ledger_path) as ledger:
        if limit is None:
            echo({"subjects": list(ledger.pending_notifications(document, version,
                                                                cursor=cursor)),
                  "next_cursor": None})
        else:
            echo(ledger.pending_page(document, version, cursor=cursor, limit=limit).to_dict())


@consent.command(name="mark-notified")
@click.argument("document")
@click.argument("version")
@click.argument("subjects", nargs=-1, required=True)
@click.option("--channel", default="email", show_default=True, help="How they were told.")
@ledger_option
def mark_notified(document: str, version: str, subjects: tuple[str, ...], channel: str,
                  ledger_path: str | None) -> None:
    """Record that SUBJECTS were notified of VERSION of DOCUMENT; idempotent.

    Prints how many were marked and the subjects left out as unknown: those without a
    status for DOCUMENT (they never accepted it).

    Example:

    \b
        termsledger consent mark-notified terms 2026-06-01 user-42 user-43
    """
    with open_ledger(ledger_path) as ledger:
        echo(ledger.mark_notified(subjects, document, version, channel=channel).to_dict())


@consent.command()
@click.argument("subject")
@ledger_option
def history(subject: str, ledger_path: str | None) -> None:
    """Print every event about SUBJECT, oldest first.

    Example:

    \b
        termsledger consent history user-42
    """
    with open_ledger(ledger_path) as ledger:
        echo([e.to_dict() for e in ledger.history(subject)])


@consent.command()
@click.argument("subject")
@ledger_option
def export(subject: str, ledger_path: str | None) -> None:
    """Print everything the ledger holds about SUBJECT, for a data-access request.

    Example:

    \b
        termsledger consent export user-42 > user-42.json
    """
    with open_ledger(ledger_path) as ledger:
        echo(ledger.export(subject))


@consent.command()
@click.argument("subject")
@ledger_option
def erase(subject: str, ledger_path: str | None) -> None:
    """Erase SUBJECT: its id and personal evidence become a pseudonym, in the file and its WAL.

    Example:

    \b
        termsledger consent erase user-42
    """
    with open_ledger(ledger_path) as ledger:
        echo(ledger.erase(subject).to_dict())


@consent.command()
@click.option("--timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds to wait for readers of older snapshots.")
@ledger_option
def checkpoint(timeout: float, ledger_path: str | None) -> None:
    """Empty an SQLite ledger's write-ahead log into its file, so that no byte of an erased
    subject stays in it; finishes an erasure that a reader kept from finishing. (On
    PostgreSQL: vacuums the tables an erasure touches.) Not to be confused with `consent seal`.

    Waits for readers of older snapshots, then names their processes and exits 1.

    Example:

    \b
        termsledger consent checkpoint --timeout 60
    """
    with open_ledger(ledger_path) as ledger:
        ledger.checkpoint(timeout=timeout)
        if ledger.path.startswith(("postgresql://", "postgres://")):
            echo({"vacuumed": True})
            return
        wal = Path(f"{ledger.path}-wal")
        echo({"wal": str(wal), "wal_bytes": wal.stat().st_size if wal.exists() else 0})


@consent.command()
@ledger_option
def seal(ledger_path: str | None) -> None:
    """Seal the ledger: write the Merkle root over every hash chain's head, which verify checks
    the chains against from then on. Keep the printed root and events elsewhere to anchor the
    ledger (`verify --anchor EVENTS:ROOT`). `serve` seals every minute by itself.

    Example:

    \b
        termsledger consent seal
    """
    with open_ledger(ledger_path) as ledger:
        sealed = ledger.seal()
    echo(sealed.to_dict() if sealed else None)


@consent.command()
@click.option("--repair", is_flag=True,
              help="Rewrite the status rows that differ from the events (when the hash chain "
                   "verifies), and record a `repaired` event.")
@click.option("--anchor", default=None, metavar="EVENTS:HEAD",
              help="The events and head of an earlier verification, kept elsewhere: the chain "
                   "must still hold them.")
@ledger_option
def verify(repair: bool, anchor: str | None, ledger_path: str | None) -> None:
    """Check the hash chain and recompute every status from the events; exit 1 and name
    the first bad event, and each status row that differs, when something is wrong. The
    output's `limits` says what no check of the file alone can detect.

    Example:

    \b
        termsledger consent verify
        termsledger consent verify --repair
        termsledger consent verify --anchor 1042:5be2...
    """
    with open_ledger(ledger_path) as ledger:
        result = ledger.verify(repair=repair, anchor=anchor)
    echo(result.to_dict())
    if not result.ok:
        raise SystemExit(1)
