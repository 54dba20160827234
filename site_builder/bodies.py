"""The rendered body of each version on each page that shows it, cached by content hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from terms import Content, Version

from . import links
from .cache import Cache, key
from .render import Body, TocEntry


@dataclass(frozen=True)
class RenderedBody:
    """A version's body as shown on one page."""

    html: str
    toc: tuple[TocEntry, ...]
    heading: str | None
    """The body's own level-1 heading, which the page shows as its title."""


class Bodies:
    """Renders bodies, parsing each text once and reusing cached HTML when the text,
    the page and the link targets are what they were."""

    def __init__(self, content: Content, cache: Cache):
        self._content = content
        self._cache = cache
        self._parsed: dict[str, Body] = {}
        self._targets: dict[date | None, dict[str, str]] = {}

    def render(self, version: Version, page_url: str, link_at: date | None) -> RenderedBody:
        """``version``'s body on ``page_url``, with links to other documents going to the
        versions in force on ``link_at`` (to their pages when ``None``)."""
        if link_at not in self._targets:
            self._targets[link_at] = links.targets(self._content, link_at)
        targets = self._targets[link_at]
        entry = key("body", version.content_sha256, version.path, page_url, targets)
        cached = self._cache.get(entry)
        if cached is not None:
            return RenderedBody(cached["html"], tuple(TocEntry.from_dict(t) for t in cached["toc"]),
                                cached["heading"])
        body = self._parsed.get(version.content_sha256)
        if body is None:
            body = self._parsed[version.content_sha256] = Body(version.body)
        html = body.render(links.resolver(version, page_url, targets))
        self._cache.put(entry, {"html": html, "toc": [t.to_dict() for t in body.toc],
                                "heading": body.heading})
        return RenderedBody(html, body.toc, body.heading)
