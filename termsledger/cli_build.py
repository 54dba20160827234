"""``termsledger build``: the static site of the documents."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

import site_builder
import terms

from .cli import check_content, compared_ledger_option, content_option, load_config, load_content, plural
from .config import Config


def site_settings(config: Config) -> site_builder.SiteSettings:
    """The site builder's settings from the application's configuration."""
    return site_builder.SiteSettings(title=config.site_title, base_url=config.base_url,
                                     organisation=config.organisation, contact=config.contact,
                                     templates=config.templates, watch=config.watch,
                                     file_urls=config.file_urls, language=config.language,
                                     languages=config.site_languages, prevailing_notice=config.prevailing_notice)


@click.command()
@content_option
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output folder. Defaults to the one termsledger.toml names, else ./build.")
@click.option("--base-url", "base_url", default=None,
              help="Absolute URL the site is published at, for the feed and sitemap.")
@click.option("--date", "date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Build as of this day (YYYY-MM-DD), which decides what is in force. Defaults to today.")
@click.option("--file-urls", "file_urls", is_flag=True, default=None,
              help="Link to pages' index.html files, so that the site works opened from disk "
                   "([site] file_urls in termsledger.toml).")
@compared_ledger_option
@click.option("--strict", is_flag=True, help="Refuse to build when `termsledger check` finds an error.")
def build(content, out, base_url, date, file_urls, ledger_path, strict):
    """Build the website: every document, every version, revisions, diffs and feeds.

    Writes only the files whose contents changed. Checks the content first, as `termsledger
    check` does (comparing it with the ledger when one exists): with --strict any error stops
    the build; without, the errors are counted and the site is built.

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
    try:
        report = site_builder.build(loaded, Path(out) if out else config.out, site_settings(config),
                                    now=date.date() if date else None)
    except (site_builder.SiteBuildError, terms.TermsError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Built the site: {report}.")
    click.echo(_next(report.next_change))


def _next(change: site_builder.NextChange | None) -> str:
    """When the site must be built again: the day the next version takes effect."""
    if change is None:
        return "No version is announced: the site stays true until the next one is committed."
    return (f"Next change on {change.effective}: {change.document} version {change.version} takes effect; "
            f"build the site again that day (or every day), so that it shows the version in force.")
