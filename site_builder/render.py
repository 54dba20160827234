"""Document bodies to safe HTML, with the shared parser of :mod:`terms.markdown`, so that the
anchors the site emits are the ones ``termsledger check`` validates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from terms.markdown import headings, inline_text, parser

from .sanitize import sanitize

_ALIGN = {f"text-align:{side}": f"align-{side}" for side in ("left", "center", "right")}


@dataclass(frozen=True)
class TocEntry:
    """A heading in a page's table of contents."""

    title: str
    anchor: str
    children: tuple[TocEntry, ...] = ()

    def to_dict(self) -> dict:
        return {"title": self.title, "anchor": self.anchor,
                "children": [c.to_dict() for c in self.children]}

    @classmethod
    def from_dict(cls, data: dict) -> TocEntry:
        return cls(data["title"], data["anchor"], tuple(cls.from_dict(c) for c in data["children"]))


class Body:
    """A parsed document body: parse once, render for each page that shows it.

    A leading level-1 heading becomes :attr:`heading`, the page's ``<h1>``, which keeps the
    heading's :attr:`anchor`; when the body has other level-1 headings every heading moves
    down a level, so that the page has a single ``<h1>`` (heading anchors do not change)."""

    def __init__(self, markdown: str):
        md = parser()
        self._env: dict = {}
        tokens = md.parse(markdown, self._env)
        self.heading: str | None = None
        self.anchor: str | None = None
        if len(tokens) > 2 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
            self.heading = inline_text(tokens[1]).strip() or None
            self.anchor = str(tokens[0].attrGet("id") or "") or None
            tokens = tokens[3:]
        if any(t.type == "heading_open" and t.tag == "h1" for t in tokens):
            for token in tokens:
                if token.type in ("heading_open", "heading_close"):
                    token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        self._tokens = tokens
        self._links = []
        for token in tokens:
            if token.type in ("th_open", "td_open") and token.attrGet("style") in _ALIGN:
                token.attrs = {"class": _ALIGN[str(token.attrGet("style"))]}
            for child in token.children or ():
                if child.type == "link_open":
                    self._links.append((child, str(child.attrGet("href"))))
        self.toc = _toc(tokens)

    def render(self, link: Callable[[str], str] = str) -> str:
        """Sanitized HTML of the body, each link target passed through ``link``."""
        for token, href in self._links:
            token.attrSet("href", link(href))
        md = parser()
        return sanitize(md.renderer.render(self._tokens, md.options, self._env))


def _toc(tokens) -> tuple[TocEntry, ...]:
    found = [h for h in headings(tokens) if h.anchor]
    if not found:
        return ()
    top = min(h.level for h in found)
    entries: list[tuple[TocEntry, list[TocEntry]]] = []
    for heading in found:
        if heading.level == top:
            entries.append((TocEntry(heading.text, heading.anchor), []))
        elif heading.level == top + 1 and entries:
            entries[-1][1].append(TocEntry(heading.text, heading.anchor))
    return tuple(TocEntry(e.title, e.anchor, tuple(children)) for e, children in entries)
