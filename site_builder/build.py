"""Build the site: gather every page, render it with the templates, write what changed."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, TemplateError

from terms import Content, utc_date

from . import urls
from .bodies import Bodies
from .cache import Cache
from .errors import SiteBuildError
from .machine import feed_entries, sitemap_entries, versions_json
from .pages import Page, Pages
from .redline import Redlines
from .settings import SiteSettings
from .status import title
from .templates import environment
from .writer import BuildReport, Writer

STYLESHEET = Path(__file__).parent / "static" / "site.css"


def build(content: Content, out_dir: str | Path, settings: SiteSettings | None = None,
          now: datetime | date | None = None) -> BuildReport:
    """Build the site of ``content`` into ``out_dir``, writing only files whose bytes change.

    :param settings: title, base URL, templates… Defaults to ``SiteSettings()``.
    :param now: the build date, which decides what is in force. Defaults to today (UTC).
        The same content, settings and date give byte-identical output.
    :raises InvalidPath: a slug or version name is not safe in a URL.
    """
    settings = settings or SiteSettings()
    at = utc_date(now)
    _validate(content)
    out_dir = Path(out_dir)
    cache, writer = Cache(out_dir), Writer(out_dir)
    env = environment(settings.templates)
    pages = Pages(content, at, Bodies(content, cache), Redlines(cache, settings.watch))
    common = {
        "site": settings, "at": at,
        "nav": [{"slug": d.slug, "title": title(d, at), "url": urls.document_url(d.slug)}
                for d in content.documents.values()],
    }
    page_urls = []
    for page in pages.all():
        writer.write(urls.file_for(page.url), _render(env, page, common, settings).encode("utf-8"))
        page_urls.append(page.url)
    materiality = {d.slug: pages.versions_material(d) for d in content.documents.values()}
    writer.write(urls.VERSIONS_JSON, versions_json(content, at, settings, materiality))
    writer.write(urls.FEED, env.get_template("feed.xml").render(
        common, entries=feed_entries(content, settings, materiality)).encode("utf-8"))
    writer.write(urls.SITEMAP, env.get_template("sitemap.xml").render(
        common, entries=sitemap_entries(page_urls, content, settings)).encode("utf-8"))
    writer.write(urls.STYLESHEET, _stylesheet(settings))
    cache.prune()
    return writer.finish()


def _validate(content: Content) -> None:
    for slug, document in content.documents.items():
        urls.check_slug(slug)
        urls.check_slug(document.slug)
        for version in document.versions:
            urls.check_version(document.slug, version.id)


def _render(env: Environment, page: Page, common: dict, settings: SiteSettings) -> str:
    if page.url == urls.NOT_FOUND:
        def url(to: str) -> str:
            return (settings.root_url or "/") + to
    else:
        def url(to: str) -> str:
            return urls.relative(page.url, to)
    try:
        return env.select_template(page.templates).render(common, **page.context, url=url,
                                                          page_url=page.url)
    except TemplateError as error:
        where = page.context.get("document")
        source = f" (from {where.path})" if where is not None else ""
        raise SiteBuildError(f"error building page {urls.file_for(page.url)!r}{source}: {error}") from error


def _stylesheet(settings: SiteSettings) -> bytes:
    custom = settings.templates / urls.STYLESHEET if settings.templates else None
    return (custom if custom and custom.is_file() else STYLESHEET).read_bytes()
