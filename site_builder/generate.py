"""Generate every file of the site and hand it to the writer: pages from templates, then
``versions.json``, the feed, the sitemap, the stylesheet and the files documents refer to."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from jinja2 import Environment

from terms import Content

from . import urls
from .assets import Assets
from .cache import Cache
from .machine import feed_entries, sitemap_entries, versions_json
from .pages import Page, Pages
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
    cache = Cache(writer.out_dir)
    env = environment(settings.templates)
    assets = Assets(content)
    pages = Pages(content, at, cache, assets, settings.watch)
    pages.prepare(processes)
    common = {
        "site": settings, "at": at,
        "nav": [{"slug": d.slug, "title": title(d, at), "url": urls.document_url(d.slug)}
                for d in content.documents.values()],
    }
    page_urls = []
    for page in pages.all():
        writer.write(urls.file_for(page.url), _render(env, page, common, settings).encode("utf-8"))
        page_urls.append(page.url)
    verdicts = {d.slug: pages.verdicts(d) for d in content.documents.values()}
    summaries = {d.slug: {v.id: pages.summary(d, v) for v in d.versions} for d in content.documents.values()}
    writer.write(urls.VERSIONS_JSON, versions_json(content, at, settings, verdicts))
    writer.write(urls.FEED, render(env, ("feed.xml",), repr(urls.FEED), common,
                                   entries=feed_entries(content, at, settings, verdicts, summaries)).encode("utf-8"))
    writer.write(urls.SITEMAP, render(env, ("sitemap.xml",), repr(urls.SITEMAP), common,
                                      entries=sitemap_entries(page_urls, content, settings)).encode("utf-8"))
    writer.write(urls.STYLESHEET, _stylesheet(settings))
    for path in sorted(assets.files):
        writer.write(path, assets.files[path])
    cache.prune()
    return assets.sources


def _render(env: Environment, page: Page, common: dict, settings: SiteSettings) -> str:
    if page.url == urls.NOT_FOUND:
        def url(to: str) -> str:
            return (settings.root_url or "/") + to
    else:
        def url(to: str) -> str:
            return urls.relative(page.url, to)
    where = page.context.get("document")
    source = f" (from {where.path})" if where is not None else ""
    html = render(env, page.templates, f"page {urls.file_for(page.url)!r}{source}", common, **page.context,
                  url=url, page_url=page.url)
    return rewrite_urls(html, urls.file_url) if settings.file_urls and page.url != urls.NOT_FOUND else html


def _stylesheet(settings: SiteSettings) -> bytes:
    custom = override(settings.templates, urls.STYLESHEET) if settings.templates else None
    return custom if custom is not None else STYLESHEET.read_bytes()
