"""Generate every file of the site and hand it to the writer: pages from templates, in each
language, then ``versions.json``, the feed, the sitemap, the stylesheet and the files documents
refer to."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment

from terms import Content, Version

from . import urls
from .assets import Assets
from .cache import Cache
from .errors import SiteBuildError
from .i18n import Localizer, switcher
from .machine import absolute, feed_entries, sitemap_entries, versions_json
from .pages import Page, Pages, prepare
from .render import rewrite_urls
from .settings import SiteSettings
from .status import title
from .templates import environment, override, render
from .writer import Writer

STYLESHEET = Path(__file__).parent / "static" / "site.css"


def generate(content: Content, at: date, settings: SiteSettings, writer: Writer,
             processes: int | None = None) -> set[str]:
    """Write every file of the site of ``content`` on ``at`` through ``writer``, reusing and
    refreshing the fragment cache in the output folder. Returns the working-tree files
    looked for (see :class:`~site_builder.assets.Assets`)."""
    if content.language != settings.language:
        raise SiteBuildError(f"the documents are in {content.language!r} but the site's language is "
                             f"{settings.language!r}: load them with language={settings.language!r}")
    cache = Cache(writer.out_dir)
    localizer = Localizer(settings.language, settings.templates)
    env = environment(settings.templates, localizer)
    assets = Assets(content)
    default = Pages(content, at, cache, assets, settings.watch)
    languages = [default] + [
        Pages(content.in_language(tag), at, cache, assets, settings.watch, urls.layout(tag, settings.language),
              source=default, summarize=localizer.summary, language=tag)
        for tag in settings.others]
    prepare(languages, processes)
    sources = {(d.slug, v.id): v for d in content.documents.values() for v in d.versions}
    sitemap = []
    for pages in languages:
        localizer.language = pages.language
        common = {
            "site": settings, "at": at, "lang": pages.language, "prevailing": _prevailing(settings, localizer,
                                                                                          pages.language),
            "nav": [{"slug": d.slug, "title": title(d, at), "url": pages.urls.document_url(d.slug)}
                    for d in pages.content.documents.values()],
        }
        for page in pages.all():
            shown = _languages(page, settings, sources)
            writer.write(urls.file_for(page.url), _render(env, page, common, settings, pages.urls, shown)
                         .encode("utf-8"))
            if pages.language in shown and page.url != urls.NOT_FOUND:
                sitemap.append((page.url, page.url[len(pages.urls.prefix):], shown))
    localizer.language = settings.language
    common = {"site": settings, "at": at, "lang": settings.language, "nav": [], "prevailing": None}
    verdicts = {d.slug: default.verdicts(d) for d in content.documents.values()}
    summaries = {d.slug: {v.id: default.summary(d, v) for v in d.versions} for d in content.documents.values()}
    writer.write(urls.VERSIONS_JSON, versions_json(content, at, settings, verdicts))
    writer.write(urls.FEED, render(env, ("feed.xml",), repr(urls.FEED), common,
                                   entries=feed_entries(content, at, settings, verdicts, summaries)).encode("utf-8"))
    writer.write(urls.SITEMAP, render(env, ("sitemap.xml",), repr(urls.SITEMAP), common,
                                      entries=sitemap_entries(sitemap, content, settings)).encode("utf-8"))
    writer.write(urls.STYLESHEET, _stylesheet(settings))
    for path in sorted(assets.files):
        writer.write(path, assets.files[path])
    cache.prune()
    return assets.sources


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


def _render(env: Environment, page: Page, common: dict, settings: SiteSettings, layout: urls.Layout,
            shown: list[str]) -> str:
    if page.url == urls.NOT_FOUND:
        def url(to: str) -> str:
            return (settings.root_url or "/") + to
    else:
        def url(to: str) -> str:
            return urls.relative(page.url, to)
    where = page.context.get("document")
    source = f" (from {where.path})" if where is not None else ""
    html = render(env, page.templates, f"page {urls.file_for(page.url)!r}{source}", common, **page.context,
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
    custom = override(settings.templates, urls.STYLESHEET) if settings.templates else None
    return custom if custom is not None else STYLESHEET.read_bytes()
