"""Generate every file of the site and hand it to the writer: the pages from templates, in each
language, on every CPU, then ``versions.json``, the feed, the sitemap, the stylesheet and the
files documents refer to."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terms import Content, Version

from . import cache, parallel, urls
from .cache import Fragments
from .errors import SiteBuildError
from .i18n import Localizer, switcher
from .links import Assets
from .machine import absolute, feed_entries, sitemap_entries, versions_json
from .pages import Page, Pages, prepare
from .render import rewrite_urls
from .settings import SiteSettings
from .status import title
from .transparency import PAGE as TRANSPARENCY
from .transparency import TEMPLATE as TRANSPARENCY_TEMPLATE
from .transparency import page_context
from .writer import Writer

if TYPE_CHECKING:  # jinja2 and the templates are imported while the workers compare (see generate)
    from jinja2 import Environment

STYLESHEET = Path(__file__).parent / "static" / "site.css"
RUNS_PER_PROCESS = 4
"""The runs the pages are shared out in, per process."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Generated:
    """What :func:`generate` did, for the build cache."""

    sources: set[str]
    """The working-tree files looked for (see :class:`~site_builder.links.Assets`)."""
    made_from: dict[str, str]
    """The key (see :class:`~site_builder.cache.PageKeys`) of each page."""


@dataclass(frozen=True, kw_only=True, slots=True)
class WrittenPage:
    """What making one page (maybe in another process) did: what :func:`_make` found, then what
    rendering it did."""

    url: str
    file: str
    written: bool
    """The file's bytes changed."""
    key: str | None
    """The key (see :class:`~site_builder.cache.PageKeys`) of what it was made from."""
    files: dict[str, bytes]
    """The files the page refers to that were found while making it (see :class:`Assets`)."""
    sources: set[str]
    """The working-tree files looked for while making it."""
    sitemap: tuple[str, str, list[str]] | None
    """The page's entry in the sitemap (see :func:`~site_builder.machine.sitemap_entries`)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Language:
    """The pages of the site in one language, and what all of them are rendered with."""

    pages: Pages
    common: dict[str, Any]
    """The values every page's template gets: the site's settings, the build date, the
    language, the navigation…"""


def generate(content: Content, at: date, settings: SiteSettings, writer: Writer, before: cache.Previous,
             fragments: Fragments, processes: int | None = None,
             extra: Mapping[str, bytes] | None = None) -> Generated:
    """Write every file of the site of ``content`` on ``at`` through ``writer``, reusing and
    refreshing the ``fragments`` of the build cache, and leaving alone the pages ``before`` (the
    previous build) made from the same things; then the ``extra`` files, with the page that
    explains the transparency log's when they hold one.

    :param processes: CPUs to use for comparing and rendering; defaults to all of them.
    """
    extra = extra or {}
    transparency = page_context(extra)
    if content.language != settings.language:
        raise SiteBuildError(f"the documents are in {content.language!r} but the site's language is "
                             f"{settings.language!r}: load them with language={settings.language!r}")
    localizer = Localizer(settings.language, settings.templates)
    assets = Assets(content)
    default = Pages(content, at, fragments, assets, settings.watch)
    languages = [default] + [
        Pages(content.in_language(tag), at, fragments, assets, settings.watch,
              urls.layout(tag, settings.language), source=default, summarize=localizer.summary, language=tag)
        for tag in settings.others]
    environments: list[Environment] = []

    def templates() -> None:  # here while the workers compare, which need no templates or words
        from .templates import compile_builtin, environment

        environments.append(environment(settings.templates, localizer))
        compile_builtin(environments[0], () if transparency else (TRANSPARENCY_TEMPLATE,))  # the longest
        localizer.load(settings.languages, at)

    prepare(languages, processes, meanwhile=templates)
    env = environments[0]
    # What the pages share, made before the pages are shared out so that no worker redoes it.
    verdicts = {d.slug: default.verdicts(d) for d in content.documents.values()}
    summaries = {d.slug: {v.id: default.summary(d, v) for v in d.versions}
                 for d in content.documents.values()}
    generated = {d.slug: {v.id: default.generated(d, v) for v in d.versions}
                 for d in content.documents.values()}
    sources = {(d.slug, v.id): v for d in content.documents.values() for v in d.versions}
    keys = cache.PageKeys(settings)
    tasks: list[Callable[[], WrittenPage]] = []  # each page made, rendered and written where due
    for pages in languages:
        localizer.language = pages.language
        language = Language(pages=pages, common={
            "site": settings, "at": at, "lang": pages.language,
            "prevailing": _prevailing(settings, localizer, pages.language),
            "nav": [{"slug": d.slug, "title": title(d, at), "url": pages.urls.document_url(d.slug)}
                    for d in pages.content.documents.values()],
            "transparency": TRANSPARENCY if transparency else None,
        })
        tasks += [partial(_make, make, language=language, env=env, localizer=localizer, settings=settings,
                          writer=writer, assets=assets, before=before, keys=keys, sources=sources)
                  for make in pages.makers()]
    localizer.language = settings.language

    def meanwhile() -> None:  # while the pages are made elsewhere
        fragments.save()
        writer.write(urls.VERSIONS_JSON, versions_json(content, at, settings, verdicts, generated))

    # Runs of every so many pages (a diff page takes longer than a version's): alike, many
    # enough for the processes to finish together.
    count = min(len(tasks), RUNS_PER_PROCESS * (processes or os.cpu_count() or 1))
    runs = [tasks[start::count] for start in range(count)]
    done = parallel.run(runs, processes, meanwhile)
    made_pages = [done[n % count][n // count] for n in range(len(tasks))]
    for page in made_pages:
        writer.account(page.file, written=page.written)
        assets.add(page.files, page.sources)
    localizer.language = settings.language
    common = {"site": settings, "at": at, "lang": settings.language, "nav": [], "prevailing": None,
              "transparency": TRANSPARENCY if transparency else None}
    if transparency is not None:
        nav = [{"slug": d.slug, "title": title(d, at), "url": default.urls.document_url(d.slug)}
               for d in content.documents.values()]
        writer.write(urls.file_for(TRANSPARENCY),
                     _transparency_page(env, {**common, "nav": nav}, settings, transparency))
    for path in sorted(extra):
        writer.write(path, extra[path])
    from .templates import render  # imported while the workers compared (see templates above)

    feed = feed_entries(content, at, settings, verdicts, summaries)
    writer.write(urls.FEED, render(env, ("feed.xml",), repr(urls.FEED), common, entries=feed).encode("utf-8"))
    sitemap = sitemap_entries([page.sitemap for page in made_pages if page.sitemap], content, settings)
    writer.write(urls.SITEMAP, render(env, ("sitemap.xml",), repr(urls.SITEMAP), common,
                                      entries=sitemap).encode("utf-8"))
    writer.write(urls.STYLESHEET, _stylesheet(settings))
    for path in sorted(assets.files):
        writer.write(path, assets.files[path])
    return Generated(sources=assets.sources,
                     made_from={page.file: page.key for page in made_pages if page.key})


def _make(make: Callable[[], Page], *, language: Language, env: Environment, localizer: Localizer,
          settings: SiteSettings, writer: Writer, assets: Assets, before: cache.Previous,
          keys: cache.PageKeys, sources: dict[tuple[str, str], Version]) -> WrittenPage:
    """Make one page, and render and write it unless the file there is what the previous
    build made from the same things."""
    localizer.language = language.pages.language  # its generated summaries
    page = make()
    file = urls.file_for(page.url)
    shown = _languages(page, settings, sources)
    made_from = page.made_from()
    key = None if made_from is None else keys.key(page.url, page.templates, language.common, shown, made_from)
    files, found = assets.take()
    own = page.url[len(language.pages.urls.prefix):]
    listed = language.pages.language in shown and page.url != urls.NOT_FOUND
    planned = WrittenPage(url=page.url, file=file, written=False, key=key, files=files, sources=found,
                          sitemap=(page.url, own, shown) if listed else None)
    if key is not None and before.made_from.get(file) == key and writer.stamp(file) == before.files.get(file):
        return planned
    return _write(planned, page, language=language, shown=shown, env=env, localizer=localizer,
                  settings=settings, writer=writer, assets=assets)


def _write(planned: WrittenPage, page: Page, *, language: Language, shown: list[str], env: Environment,
           localizer: Localizer, settings: SiteSettings, writer: Writer, assets: Assets) -> WrittenPage:
    """Render ``page`` (:func:`_make` made it ``planned``) and write it."""
    localizer.language = language.pages.language  # its generated summaries, then its template
    html = _render(env, page, page.values(), language.common, settings, language.pages.urls, shown)
    written = writer.write(planned.file, html.encode("utf-8"))
    files, found = assets.take()
    return replace(planned, written=written, files=planned.files | files, sources=planned.sources | found)


def _transparency_page(env: Environment, common: dict[str, Any], settings: SiteSettings,
                       transparency: dict[str, Any]) -> bytes:
    """The page explaining the transparency log's files, in the site's language."""
    from .templates import render

    def url(to: str) -> str:
        return urls.relative(TRANSPARENCY, to)

    html = render(env, (TRANSPARENCY_TEMPLATE,), f"page {urls.file_for(TRANSPARENCY)!r}",
                  common, **transparency, url=url, page_url=TRANSPARENCY, switcher=[], alternates=[],
                  site_url=absolute(settings, "") if settings.base_url else None)
    return (rewrite_urls(html, urls.file_url) if settings.file_urls else html).encode("utf-8")


def _languages(page: Page, settings: SiteSettings, sources: dict[tuple[str, str], Version]) -> list[str]:
    """The languages ``page`` has its text in: all of them for a page of the site's own words
    (the index, a history), else those every version it shows has a text in."""
    shown = [sources[v.slug, v.id] for v in page.shows]
    return [tag for tag in settings.languages if all(v.translation(tag) for v in shown)]


def _prevailing(settings: SiteSettings, localizer: Localizer, language: str) -> str | None:
    """The notice of which text prevails, on the pages in ``language``; none in the site's own."""
    if language == settings.language or settings.prevailing_notice == "" or len(settings.languages) < 2:
        return None
    if settings.prevailing_notice is None:
        return localizer.gettext("In case of conflict, the %(language)s version prevails.") % {
            "language": localizer.name(settings.language)}
    return localizer.gettext(settings.prevailing_notice)


def _render(env: Environment, page: Page, context: dict[str, Any], common: dict[str, Any],
            settings: SiteSettings, layout: urls.Layout, shown: list[str]) -> str:
    from .templates import render

    if page.url == urls.NOT_FOUND:
        def url(to: str) -> str:
            return (settings.root_url or "/") + to
    else:
        def url(to: str) -> str:
            return urls.relative(page.url, to)
    source = f" (from {page.source})" if page.source else ""
    html = render(env, page.templates, f"page {urls.file_for(page.url)!r}{source}", common, **context,
                  **_alternates(page, settings, layout, shown, url), url=url, page_url=page.url)
    return rewrite_urls(html, urls.file_url) if settings.file_urls and page.url != urls.NOT_FOUND else html


def _alternates(page: Page, settings: SiteSettings, layout: urls.Layout, shown: list[str],
                url: Any) -> dict[str, Any]:
    """The language switcher's links and the ``<link rel="alternate" hreflang>`` of ``page``."""
    if len(settings.languages) < 2 or page.url == urls.NOT_FOUND:
        return {"switcher": [], "alternates": []}
    own = page.url[len(layout.prefix):]

    def href(tag: str) -> str:
        target = urls.layout(tag, settings.language).page(own)
        return absolute(settings, target) if settings.base_url else url(target)

    return {
        "switcher": [item | {"href": url(urls.layout(item["tag"], settings.language).page(own))}
                     for item in switcher(settings.languages)],
        "alternates": [{"hreflang": tag, "href": href(tag)} for tag in shown] +
                      ([{"hreflang": "x-default", "href": href(settings.language)}] if shown else []),
    }


def _stylesheet(settings: SiteSettings) -> bytes:
    from .templates import override

    custom = override(settings.templates, urls.STYLESHEET) if settings.templates else None
    return custom if custom is not None else STYLESHEET.read_bytes()
