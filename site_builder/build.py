"""Build the site, incrementally: nothing at all when nothing it depends on changed (see
:func:`site_builder.cache.fingerprint`), else generate every file from the fragments kept
in the cache and those computed anew, and write the files whose bytes changed."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from terms import Content, utc_date

from . import cache, urls
from .settings import SiteSettings
from .status import next_change
from .writer import BuildReport, Writer


def build(content: Content, out_dir: str | Path, settings: SiteSettings | None = None,
          now: datetime | date | None = None, processes: int | None = None) -> BuildReport:
    """Build the site of ``content`` into ``out_dir``, writing only files whose bytes change.
    The report says when the next change takes effect: the site must be built again that day.

    :param settings: title, base URL, templates… Defaults to ``SiteSettings()``.
    :param now: the build date, which decides what is in force. Defaults to today (UTC).
        The same content, settings and date give byte-identical output.
    :param processes: worker processes for comparing and rendering. Defaults to one per CPU.
    :raises InvalidPath: a slug or version name is not safe in a URL.
    :raises SiteBuildError: a template fails.
    """
    settings = settings or SiteSettings()
    at = utc_date(now)
    _validate(content)
    writer = Writer(Path(out_dir))
    upcoming = next_change(content, at)
    before = cache.previous(writer)
    if cache.up_to_date(writer, before, cache.fingerprint(content, settings, at, before.sources)):
        for rel in before.files:
            writer.account(rel, written=False)
        return writer.report(next_change=upcoming)
    from .generate import generate  # imported here: an up-to-date build needs no renderer

    generated = generate(content, at, settings, writer, before, processes)
    removed = writer.remove(before.files)
    stamp = cache.fingerprint(content, settings, at, sorted(generated.sources))
    cache.record(writer, stamp, generated.sources, generated.made_from)
    return writer.report(removed, next_change=upcoming)


def _validate(content: Content) -> None:
    for slug, document in content.documents.items():
        urls.check_slug(slug)
        urls.check_slug(document.slug)
        for version in document.versions:
            urls.check_version(document.slug, version.id)
