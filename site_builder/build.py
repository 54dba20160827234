"""Build the site, incrementally: nothing at all when nothing it depends on changed (the
content, and the working-tree files the previous build published or looked for), else
generate every file and write those whose bytes changed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from terms import Content, utc_date

from . import urls
from .cache import FOLDER
from .fingerprint import build_fingerprint
from .settings import SiteSettings
from .status import next_change
from .writer import BuildReport, Writer

SOURCES = f"{FOLDER}/sources.json"
"""The working-tree files the previous build looked for (see :class:`~site_builder.assets.Assets`)."""


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
    unchanged = writer.up_to_date(build_fingerprint(content, settings, at, _sources(writer)))
    if unchanged is not None:
        return replace(unchanged, next_change=upcoming)
    from .generate import generate  # imported here: an up-to-date build needs no renderer

    sources = generate(content, at, settings, writer, processes)
    writer.path(SOURCES).parent.mkdir(parents=True, exist_ok=True)
    writer.path(SOURCES).write_text(json.dumps(sorted(sources)), encoding="utf-8")
    report = writer.finish(build_fingerprint(content, settings, at, sorted(sources)))
    return replace(report, next_change=upcoming)


def _sources(writer: Writer) -> list[str]:
    try:
        sources = json.loads(writer.path(SOURCES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return sources if isinstance(sources, list) and all(isinstance(s, str) for s in sources) else []


def _validate(content: Content) -> None:
    for slug, document in content.documents.items():
        urls.check_slug(slug)
        urls.check_slug(document.slug)
        for version in document.versions:
            urls.check_version(document.slug, version.id)
