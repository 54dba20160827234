"""The rendered body of each version on each page that shows it, cached by content hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable

from terms import Content, Version

from . import links, urls
from .assets import Assets
from .cache import Cache, key
from .render import Body, TocEntry


@dataclass(frozen=True)
class RenderedBody:
    """A version's body as shown on one page."""

    html: str
    toc: tuple[TocEntry, ...]
    heading: str | None
    """The body's own level-1 heading, which the page shows as its title."""
    anchor: str | None
    """That heading's anchor, which the title keeps so that links to it work."""


def render_pages(version: Version, pages: list[tuple[str, dict[str, str]]]) -> list[dict[str, Any]]:
    """``version``'s body, parsed once, rendered for each ``(page_url, link_targets)``."""
    body = Body(version.body)
    toc = [t.to_dict() for t in body.toc]
    return [{"html": body.render(links.resolver(version, url, targets)), "toc": toc, "heading": body.heading,
             "anchor": body.anchor} for url, targets in pages]


class Bodies:
    """Renders bodies, reusing cached HTML when the text, the page and the link targets
    are what they were; the files they refer to are filled in by ``assets`` on every build."""

    def __init__(self, content: Content, cache: Cache, assets: Assets, layout: urls.Layout = urls.DEFAULT,
                 language: str | None = None):
        self._content = content
        self._layout = layout
        self._language = language or content.language
        self._cache = cache
        self._assets = assets
        self._targets: dict[tuple[date | None, bool], dict[str, str]] = {}

    def tasks(self, requests: Iterable[tuple[Version, str, date | None]]
              ) -> list[tuple[list[str], Callable[..., list], tuple]]:
        """The work needed for ``requests`` (version, page URL, link date) that the cache
        lacks: ``(cache entries, function, args)``, one task per version text."""
        grouped: dict[str, tuple[Version, list[str], list]] = {}
        for version, page_url, link_at in requests:
            entry, targets = self._entry(version, page_url, link_at)
            if not self._cache.has(entry):
                _, entries, pages = grouped.setdefault(version.content_sha256 + version.path, (version, [], []))
                entries.append(entry)
                pages.append((page_url, targets))
        return [(entries, render_pages, (version, pages)) for version, entries, pages in grouped.values()]

    def render(self, version: Version, page_url: str, link_at: date | None) -> RenderedBody:
        """``version``'s body on ``page_url``, with links to other documents going to the
        versions in force on ``link_at`` (to their pages when ``None``)."""
        entry, targets = self._entry(version, page_url, link_at)
        data = self._cache.get(entry)
        if data is None:
            data = render_pages(version, [(page_url, targets)])[0]
            self._cache.put(entry, data)
        html = self._assets.fill(data["html"], version, page_url)
        return RenderedBody(html, tuple(TocEntry.from_dict(t) for t in data["toc"]), data["heading"],
                            data["anchor"])

    def targets(self, link_at: date | None, language: str | None = None) -> dict[str, str]:
        """Where links to each document go from a version in force on ``link_at`` (see
        :func:`site_builder.links.targets`), written in ``language``: a text links to the
        pages in its own language, where the headings it links to are."""
        own = language in (None, self._language)
        if (link_at, own) not in self._targets:
            self._targets[link_at, own] = links.targets(self._content, link_at, self._layout if own else urls.DEFAULT)
        return self._targets[link_at, own]

    def _entry(self, version: Version, page_url: str, link_at: date | None) -> tuple[str, dict[str, str]]:
        targets = self.targets(link_at, version.language)
        return key("body", version.content_sha256, version.path, page_url, targets), targets
