"""Links between documents: a relative link to another Markdown file becomes a link to
that document's page, keeping the anchor. Any other relative link or image is marked for
:class:`site_builder.assets.Assets` to point to the published file."""

from __future__ import annotations

from datetime import date
from typing import Callable
from urllib.parse import quote, urlsplit

from terms import Content, Version
from terms.markdown import link_target

from . import urls
from .assets import MARK
from .redline import LINK_PREFIX


def targets(content: Content, at: date | None, layout: urls.Layout = urls.DEFAULT) -> dict[str, str]:
    """Map each document file path (current and past) to the URL a link to it goes to:
    the version in force on ``at`` when there is one, else the document's page.
    ``at=None`` always links to the document's page (its version in force). URLs are those of
    ``layout``'s language, and a translation's file leads to its document's page there."""
    found = {}
    for document in content.documents.values():
        url = layout.document_url(document.slug)
        if at is not None:
            version = document.in_force(at)
            url = layout.version_url(document.slug, version.id) if version else url
        texts = [t for v in document.versions for t in (v, *v.translations)]
        for path in {t.path for t in texts} | {document.path}:
            found[path] = url
    return found


def resolver(version: Version, page_url: str, link_targets: dict[str, str]) -> Callable[[str], str]:
    """The function that rewrites the link and image targets of ``version`` shown on ``page_url``."""

    def resolve(href: str) -> str:
        resolved = link_target(version.path, href)
        if resolved is None or not urlsplit(href).path:
            return href
        target, fragment = resolved
        if target not in link_targets:
            return MARK + quote(href, safe="")
        url = link_targets[target] + (f"#{fragment}" if fragment else "")
        return urls.relative(page_url, url)

    return resolve


def side_resolver(side: str, version: Version, page_url: str, link_targets: dict[str, str],
                  layout: urls.Layout = urls.DEFAULT) -> Callable[[str], str]:
    """For a redline on ``page_url``: the function that resolves the links of ``side``
    (``"old"`` or ``"new"``, see :data:`site_builder.redline.LINK_PREFIX`) as on the page of
    ``version``, a link to a heading of the document going to that page; other links as they are."""
    prefix = LINK_PREFIX.format(side)
    resolve = resolver(version, page_url, link_targets)
    page = layout.version_url(version.slug, version.id)

    def link(url: str) -> str:
        if not url.startswith(prefix):
            return url
        href = url[len(prefix):]
        return urls.relative(page_url, page) + href if href.startswith("#") else resolve(href)

    return link
