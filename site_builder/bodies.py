"""The rendered body of each version on each page that shows it, kept in the build cache
under the version's content hash, the page and where its links go."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from terms import Content, Version

from . import links, urls
from .cache import Fragments, key, to_json
from .links import Assets
from .render import Body, TocEntry


@dataclass(frozen=True, kw_only=True, slots=True)
class RenderedBody:
    """A version's body as shown on one page."""

    html: str
    toc: tuple[TocEntry, ...]
    heading: str | None
    """The body's own level-1 heading, which the page shows as its title."""
    anchor: str | None
    """That heading's anchor, which the title keeps so that links to it work."""


@dataclass(frozen=True, kw_only=True, slots=True)
class BodyPage:
    """A page that shows a body: its URL, where links to documents go, and the fragment key."""

    url: str
    link_targets: dict[str, str]
    key: str


@dataclass(frozen=True, kw_only=True, slots=True)
class BodyRendering:
    """The work of rendering one version's body, for :func:`site_builder.parallel.run`: made
    once, rendered for each of ``pages``; returns each page's fragment as JSON, by key."""

    version: Version
    pages: tuple[BodyPage, ...]

    def __call__(self) -> dict[str, str]:
        return {entry: to_json(value) for entry, value in self.values().items()}

    def values(self) -> dict[str, dict[str, Any]]:
        """Each page's fragment, by key."""
        body = Body(self.version.body)
        toc = [asdict(t) for t in body.toc]
        return {page.key: {"html": body.render(links.resolver(self.version, page.url, page.link_targets)),
                           "toc": toc, "heading": body.heading, "anchor": body.anchor}
                for page in self.pages}


class Bodies:
    """Renders bodies, reusing the HTML in the build cache when the text, the page and the link
    targets are what they were; the files they refer to are filled in by ``assets`` on every build."""

    def __init__(self, content: Content, fragments: Fragments, assets: Assets,
                 layout: urls.Layout = urls.DEFAULT, language: str | None = None):
        self._content = content
        self._layout = layout
        self._language = language or content.language
        self._fragments = fragments
        self._assets = assets
        self._targets: dict[tuple[date | None, bool], dict[str, str]] = {}

    def work(self, requests: Iterable[tuple[Version, str, date | None]]) -> dict[str, BodyRendering]:
        """The rendering of each version among ``requests`` (version, page URL, link date),
        by the fragment key of each of its pages (a rendering appears under each)."""
        pages: dict[tuple[str, str], tuple[Version, list[BodyPage]]] = {}
        for version, page_url, link_at in requests:
            entry, targets = self._entry(version, page_url, link_at)
            pages.setdefault((version.content_sha256, version.path), (version, []))[1].append(
                BodyPage(url=page_url, link_targets=targets, key=entry))
        renderings = [BodyRendering(version=version, pages=tuple(shown)) for version, shown in pages.values()]
        return {page.key: rendering for rendering in renderings for page in rendering.pages}

    def render(self, version: Version, page_url: str, link_at: date | None) -> RenderedBody:
        """``version``'s body on ``page_url``, with links to other documents going to the
        versions in force on ``link_at`` (to their pages when ``None``)."""
        entry, targets = self._entry(version, page_url, link_at)
        data = self._fragments.get(entry)
        if data is None:
            page = BodyPage(url=page_url, link_targets=targets, key=entry)
            data = BodyRendering(version=version, pages=(page,)).values()[entry]
            self._fragments.put(entry, data)
        return RenderedBody(html=self._assets.fill(data["html"], version, page_url),
                            toc=tuple(TocEntry.from_dict(t) for t in data["toc"]), heading=data["heading"],
                            anchor=data["anchor"])

    def made_from(self, version: Version, page_url: str, link_at: date | None) -> list[Any] | None:
        """What :meth:`render` makes ``version``'s body on ``page_url`` from: the fragment's key
        and where the files it links to are published (``None`` before the fragment is made)."""
        entry, _ = self._entry(version, page_url, link_at)
        data = self._fragments.get(entry)
        return None if data is None else [entry, self._assets.published(data["html"], version)]

    def published(self, version: Version) -> list[tuple[str, str | None]] | None:
        """Where the files ``version`` links to are published (see :meth:`Assets.published`),
        read from its page's body (``None`` before the fragment is made)."""
        found = self.made_from(version, self._layout.version_url(version.slug, version.id), version.effective)
        return None if found is None else found[1]

    def targets(self, link_at: date | None, language: str | None = None) -> dict[str, str]:
        """Where links to each document go from a version in force on ``link_at`` (see
        :func:`site_builder.links.targets`), written in ``language``: a text links to the
        pages in its own language, where the headings it links to are."""
        own = language in (None, self._language)
        if (link_at, own) not in self._targets:
            layout = self._layout if own else urls.DEFAULT
            self._targets[link_at, own] = links.targets(self._content, link_at, layout)
        return self._targets[link_at, own]

    def _entry(self, version: Version, page_url: str, link_at: date | None) -> tuple[str, dict[str, str]]:
        targets = self.targets(link_at, version.language)
        return key("body", version.content_sha256, version.path, page_url, targets), targets
