"""``termsledger build``: the static site of the documents."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import date as Date
from pathlib import Path

import click

import site_builder
import terms

from .cli import check_content, compared_ledger_option, content_option, load_config, load_content, plural
from .cli_transparency import key_option
from .config import SIGNING_KEY_ENV, SIGNING_KEY_FILE, Config


def site_settings(config: Config) -> site_builder.SiteSettings:
    """The site builder's settings from the application's configuration."""
    return site_builder.SiteSettings(title=config.site_title, base_url=config.base_url,
                                     organisation=config.organisation, contact=config.contact,
                                     templates=config.templates, watch=config.watch,
                                     file_urls=config.file_urls, language=config.language,
                                     languages=config.site_languages,
                                     prevailing_notice=config.prevailing_notice)


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> Date | None:
    """``--date``: a day written ``YYYY-MM-DD``; what is wrong with another in the words of ``check``."""
    if value is None:
        return None
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return Date.fromisoformat(value)
        except ValueError:
            pass
    raise click.BadParameter(f"{value!r} {terms.not_a_date(value)}")


@click.command()
@content_option
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output folder. Defaults to the one termsledger.toml names, else ./build.")
@click.option("--base-url", "base_url", default=None,
              help="Absolute URL the site is published at, for the feed and sitemap.")
@click.option("--date", "date", metavar="YYYY-MM-DD", callback=_day, default=None,
              help="Build as of this day (YYYY-MM-DD), which decides what is in force. Defaults to today.")
@click.option("--file-urls", "file_urls", is_flag=True, default=None,
              help="Link to pages' index.html files, so that the site works opened from disk "
                   "([site] file_urls in termsledger.toml).")
@compared_ledger_option
@key_option
@click.option("--strict", is_flag=True, help="Refuse to build when `termsledger check` finds an error.")
@click.option("--cache-dir", "cache_dir", type=click.Path(file_okay=False), default=None,
              help="The build cache's folder, outside the output folder ([site] cache_dir). Defaults to "
                   ".termsledger-cache beside termsledger.toml, else beside the output folder.")
def build(content: str | None, out: str | None, base_url: str | None, date: Date | None,
          file_urls: bool | None, ledger_path: str | None, key_file: str | None, strict: bool,
          cache_dir: str | None) -> None:
    """Build the website: every document, every version, revisions, diffs and feeds.

    Writes only the files whose contents changed. Checks the content first, as `termsledger
    check` does (comparing it with the ledger when one exists): with --strict any error stops
    the build; without, the errors are counted and the site is built.

    When the ledger has signed checkpoints of its transparency log, they are published in
    transparency/ with the public keys record (beside the signing key, which is never
    published) and a page that explains how to verify a consent receipt.

    Example:

    \b
        termsledger build --content content --out build --base-url https://example.com/legal/
    """
    config = load_config(content)
    if base_url is not None:
        try:
            config = replace(config, base_url=site_builder.check_base_url(base_url, "--base-url"))
        except site_builder.InvalidSetting as error:
            raise click.ClickException(str(error)) from None
    if file_urls:
        config = replace(config, file_urls=True)
    loaded = load_content(config)
    errors = [p for p in check_content(config, loaded, ledger_path) if p.severity == "error"]
    if errors and strict:
        for problem in errors:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"nothing built: the content has {plural(len(errors), 'error')} "
                                   f"(--strict)")
    if errors:
        click.echo(f"The content has {plural(len(errors), 'error')}: termsledger check lists them (build "
                   f"--strict refuses to build with errors).", err=True)
    published = transparency(config, ledger_path, key_file)
    try:
        report = site_builder.build(loaded, Path(out) if out else config.out, site_settings(config),
                                    now=date, extra=published.files,
                                    cache_dir=Path(cache_dir) if cache_dir else config.cache_dir)
    except (site_builder.SiteBuildError, terms.TermsError) as error:
        raise click.ClickException(str(error)) from None
    if report.ignored_cache is not None:
        folder = report.ignored_cache
        click.echo(f"Warning: the build cache {folder} is ignored (the site is built without it): git tracks "
                   f"files in it, so anyone who can push could have forged it. Stop tracking it: `git rm -r "
                   f"--cached {folder}`, and keep it in .gitignore (`termsledger init` adds it).", err=True)
    click.echo(f"Built the site: {report}.")
    if published.ledger is not None:
        click.echo(published.mark())
    elif published.reason:
        click.echo(published.reason)
    click.echo(_next(report.next_change))


@dataclass(frozen=True, kw_only=True, slots=True)
class Transparency:
    """The transparency files to publish with the site, and what to say once they are."""

    files: dict[str, bytes]
    ledger: Path | str | None = None
    sizes: tuple[int, ...] = ()
    keys: int = 0
    pending: int = 0
    """Events of the ledger in no checkpoint yet."""
    reason: str = ""
    """Why there is nothing to publish, when there is a ledger and a log may be expected of it."""

    def mark(self) -> str:
        """Record in the ledger that the checkpoints are published; the line saying so."""
        assert self.ledger is not None
        from consent import ConsentError, Ledger

        try:
            with Ledger(self.ledger) as ledger:
                ledger.log.mark_published(self.sizes)
        except ConsentError as error:
            raise click.ClickException(str(error)) from None
        line = (f"Published the transparency log: {plural(len(self.sizes), 'checkpoint')} (the "
                f"latest of {plural(self.sizes[-1], 'event')}) and {plural(self.keys, 'public key')}")
        if self.pending:
            line += (f"; {plural(self.pending, 'event')} in no checkpoint yet (`termsledger log "
                     f"checkpoint` signs one; `termsledger serve` does every hour)")
        return line + "."


def transparency(config: Config, ledger_path: str | None, key_file: str | None) -> Transparency:
    """The ``transparency/`` files of the ledger of ``--ledger`` (else the configured one), when
    it exists and has signed checkpoints, with the public keys record beside the signing key."""
    path = config.ledger_location(ledger_path)
    if isinstance(path, Path) and not path.exists():
        return Transparency(files={})
    from consent import ConsentError, Ledger, LedgerNotFound
    from consent.signing import public_keys_path, read_public_keys
    from consent.transparency import transparency_files

    try:
        with Ledger(path) as ledger:
            checkpoints = ledger.log.checkpoints()
            size, waiting = ledger.log.size, ledger.log.pending()
        if not checkpoints:
            return Transparency(files={}, reason=_unsigned(config, key_file, size + waiting))
        record = public_keys_path(config.signing_key_path(key_file))
        keys = read_public_keys(record)
        files = transparency_files(keys, [c.note for c in checkpoints])
    except LedgerNotFound:
        return Transparency(files={})
    except ConsentError as error:
        raise click.ClickException(f"the transparency log cannot be published: {error}") from None
    return Transparency(files=files, ledger=path, sizes=tuple(c.size for c in checkpoints),
                        keys=len(keys.keys), pending=size - checkpoints[-1].size + waiting)


def _unsigned(config: Config, key_file: str | None, events: int) -> str:
    """Why a ledger of ``events`` without a signed checkpoint publishes no transparency log, when
    someone may expect one: a signing key is set up, or one is named (``--key``, the environment,
    ``[receipts] signing_key``) but missing. A site that never set up receipts expects none: ``""``."""
    path = config.signing_key_path(key_file)
    if path.exists():
        return (f"No transparency log to publish: the ledger has no signed checkpoint yet "
                f"({plural(events, 'event')}; `termsledger log checkpoint` signs one).")
    default = config.source.parent / SIGNING_KEY_FILE if config.source else Path(SIGNING_KEY_FILE)
    if key_file is not None or os.environ.get(SIGNING_KEY_ENV) or config.signing_key != default:
        return (f"No transparency log to publish: there is no signing key at {path} (`termsledger keys "
                f"signing create` makes one).")
    return ""


def _next(change: site_builder.NextChange | None) -> str:
    """When the site must be built again: the day the next version takes effect."""
    if change is None:
        return "No version is announced: the site stays true until the next one is committed."
    return (f"Next change on {change.effective}: {change.document} version {change.version} takes effect; "
            f"build the site again that day (or every day), so that it shows the version in force.")
