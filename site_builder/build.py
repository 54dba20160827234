"""Build the site, incrementally: nothing at all when nothing it depends on changed (see
:func:`site_builder.cache.fingerprint`), else generate every file from the fragments kept
in the cache and those computed anew, and write the files whose bytes changed."""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path

from terms import Content, utc_date

from . import cache, urls
from .errors import SiteBuildError
from .settings import SiteSettings
from .status import next_change
from .writer import BuildReport, Writer


def build(content: Content, out_dir: str | Path, settings: SiteSettings | None = None,
          now: datetime | date | None = None, processes: int | None = None,
          extra: Mapping[str, bytes] | None = None, cache_dir: str | Path | None = None) -> BuildReport:
    """Build the site of ``content`` into ``out_dir``, writing only files whose bytes change.
    The report says when the next change takes effect: the site must be built again that day.

    :param settings: title, base URL, templates… Defaults to ``SiteSettings()``.
    :param now: the build date, which decides what is in force. Defaults to today (UTC).
        The same content, settings, date and ``extra`` give byte-identical output.
    :param processes: worker processes for comparing and rendering. Defaults to one per CPU.
    :param extra: more files to publish as they are, by path in the site: the consent
        ledger's ``transparency/`` files (see ``consent.transparency.transparency_files``),
        with a page that explains them (``transparency/``). Defaults to none.
    :param cache_dir: the build cache's folder, outside ``out_dir`` (it is never published).
        Defaults to ``.termsledger-cache`` beside ``out_dir``. Ignored while git tracks files
        in it (see :mod:`site_builder.cache`).
    :raises InvalidPath: a slug or version name is not safe in a URL.
    :raises SiteBuildError: a template fails.
    """
    settings = settings or SiteSettings()
    at = utc_date(now)
    _validate(content)
    extra = dict(extra or {})
    writer = Writer(Path(out_dir))
    folder = Path(cache_dir) if cache_dir is not None else cache.default_folder(out_dir)
    _check_out_dir(content, writer)
    cache.check_folder(folder, writer)
    cache.remove_old_folder(writer)
    upcoming = next_change(content, at)
    ignored = cache.ignored(content, folder)
    before = cache.Previous(fingerprint=None) if ignored else cache.previous(folder, writer)
    if cache.up_to_date(writer, before, _fingerprint(content, settings, at, before.sources, extra)):
        for rel in before.files:
            writer.account(rel, written=False)
        return writer.report(next_change=upcoming)
    from .generate import generate  # imported here: an up-to-date build needs no renderer

    frozen = gc.get_freeze_count()  # by the caller, who unfreezes them
    gc.freeze()  # the collections while generating leave alone what lives until it ends (the content…)
    try:
        fragments = cache.Fragments(None if ignored else folder)
        generated = generate(content, at, settings, writer, before, fragments, processes, extra)
    finally:
        if not frozen:
            gc.unfreeze()
    removed, kept = writer.remove(before.files)
    if ignored:
        return writer.report(removed, kept, next_change=upcoming, ignored_cache=folder)
    stamp = _fingerprint(content, settings, at, sorted(generated.sources), extra)
    cache.record(folder, writer, stamp, generated.sources, generated.made_from)
    return writer.report(removed, kept, next_change=upcoming)


def _fingerprint(content: Content, settings: SiteSettings, at: date, sources: Iterable[str],
                 extra: Mapping[str, bytes]) -> str:
    """:func:`cache.fingerprint`, and the extra files' paths and bytes."""
    files = [(path, hashlib.sha256(extra[path]).hexdigest()) for path in sorted(extra)]
    base = cache.fingerprint(content, settings, at, sources)
    return hashlib.sha256(json.dumps([base, files]).encode()).hexdigest()


def _check_out_dir(content: Content, writer: Writer) -> None:
    """Raise :class:`SiteBuildError` when the output folder is the content folder or holds it:
    the site would be written among the documents, over files of the same names. (A folder of
    its own inside the content folder is fine: ``content = "."`` and ``out = "build"``.)"""
    root = Path(content.root).resolve()
    if not root.is_dir():  # content made in memory
        return
    if writer.root == root:
        where = f"the output folder {writer.out_dir} is the content folder"
    elif root.is_relative_to(writer.root):
        where = f"the content folder {content.root} is inside the output folder {writer.out_dir}"
    else:
        return
    raise SiteBuildError(f"{where}: the site would be written among the documents, over files of the same "
                         f"names; give an output folder outside the content folder")


def _validate(content: Content) -> None:
    for slug, document in content.documents.items():
        urls.check_slug(slug)
        urls.check_slug(document.slug)
        for version in document.versions:
            urls.check_version(document.slug, version.id)
