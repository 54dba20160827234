"""Document bodies to safe HTML, with the shared parser of :mod:`terms.markdown`, so that the
anchors the site emits are the ones ``termsledger check`` validates."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from typing import Any

from markdown_it.token import Token

from terms import Heading, headings, inline_text, parser, plain, split, without_comments

from .sanitize import sanitize

_ALIGN = {f"text-align:{side}": f"align-{side}" for side in ("left", "center", "right")}
_LINK_OR_IMAGE = re.compile(r'<(?:a|img)\b(?:[^>"]|"[^"]*")*>')
_URL = re.compile(r'(\s(?:href|src)=")([^"]*)"')
_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.MULTILINE)
"""The start of a link reference or footnote definition."""


def rewrite_urls(html: str, link: Callable[[str], str]) -> str:
    """``html`` as :func:`sanitize` writes it (attributes double-quoted and escaped) with the
    ``href`` of each link and the ``src`` of each image passed through ``link``, whether it
    came from Markdown or from raw HTML.

    >>> rewrite_urls('<p>href="a"</p><a href="a?x=1&amp;y=2">a</a>', lambda url: url + "#b")
    '<p>href="a"</p><a href="a?x=1&amp;y=2#b">a</a>'
    """

    def attribute(match: re.Match[str]) -> str:
        url = unescape(match.group(2))
        new = link(url)
        if new == url:
            return match.group()
        return f'{match.group(1)}{new.replace("&", "&amp;").replace(chr(34), "&quot;")}"'

    return _LINK_OR_IMAGE.sub(lambda tag: _URL.sub(attribute, tag.group()), html)


@dataclass(frozen=True, kw_only=True, slots=True)
class TocEntry:
    """A heading in a page's table of contents."""

    title: str
    anchor: str
    children: tuple[TocEntry, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TocEntry:
        """The entry of ``dataclasses.asdict(entry)`` (read back from JSON)."""
        return cls(title=data["title"], anchor=data["anchor"],
                   children=tuple(cls.from_dict(c) for c in data["children"]))


class Body:
    """A document body, without its HTML comments, as sanitized HTML with its table of
    contents: made once, rendered for each page that shows it.

    A leading level-1 heading becomes :attr:`heading`, the page's ``<h1>``, which keeps the
    heading's :attr:`anchor`; when the body has other level-1 headings every heading moves
    down a level, so that the page has a single ``<h1>`` (heading anchors do not change).

    A plain body (see :func:`terms.sections.plain`) without HTML or footnotes is put together
    from its sections, each rendered by :func:`section_html`, which caches them: the versions
    of a document share most of their sections, and redlines show the same ones. Any other
    body is parsed whole."""

    def __init__(self, markdown: str):
        text = without_comments(markdown)
        self.heading: str | None = None
        self.anchor: str | None = None
        if plain(text) and "<" not in text and "[^" not in text:
            self._compose(text)
            return
        env: dict[str, Any] = {}
        tokens = parser().parse(text, env)
        if len(tokens) > 2 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
            self.heading = inline_text(tokens[1]).strip() or None
            self.anchor = str(tokens[0].attrGet("id") or "") or None
            tokens = tokens[3:]
        if any(t.type == "heading_open" and t.tag == "h1" for t in tokens):
            for token in tokens:
                if token.type in ("heading_open", "heading_close"):
                    token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
        self.toc = _toc(headings(tokens))
        self._html = _html(tokens, env)

    def _compose(self, text: str) -> None:
        """Put the body together from its sections, as :meth:`__init__` would render it whole."""
        sections = [s for s in split(text) if s.text.strip()]  # blank lines render as nothing
        parts = []
        if sections and sections[0].level == 1:
            self.heading = sections[0].title.strip() or None
            self.anchor = sections[0].anchor or None
            parts.append(section_html(sections[0].text, "").body)
            sections = sections[1:]
        shift = 1 if any(s.level == 1 for s in sections) else 0
        found = []
        for section in sections:
            rendered = section_html(section.text, "")
            if section.level:
                level = min(section.level + shift, 6)
                found.append(Heading(level, section.title, section.anchor, 0))
                parts.append(f'<h{level} id="{section.anchor}">{rendered.heading}</h{level}>\n')
            parts.append(rendered.body)
        self.toc = _toc(found)
        self._html = "".join(parts)

    def render(self, link: Callable[[str], str] = str) -> str:
        """Sanitized HTML of the body, each link and image target passed through ``link``."""
        return rewrite_urls(self._html, link)


def render_html(markdown: str) -> str:
    """A whole document body as the site renders and sanitizes it, its own headings (the
    leading level-1 one included) kept, links as written: for the ledger's API.

    >>> render_html("# Terms\\n\\nBe <script>nice</script>.\\n")
    '<h1 id="terms">Terms</h1>\\n<p>Be .</p>\\n'
    """
    env: dict[str, Any] = {}
    return _html(parser().parse(without_comments(markdown), env), env)


@dataclass(frozen=True, kw_only=True, slots=True)
class SectionHtml:
    """A section of a body (see :func:`terms.sections.split`) as sanitized HTML, links as written."""

    heading: str
    """The heading's content (inline HTML, without the ``<h>`` element); ``""`` for the opening."""
    body: str
    """The blocks after the heading."""


def definitions(body: str) -> dict[str, Any]:
    """The link reference and footnote definitions of a whole body, for :func:`render_section`
    (``{}`` when it has none, the common case, found without parsing).

    >>> definitions("See [the policy][p].\\n\\n[p]: refund.md\\n")["references"]["P"]["href"]
    'refund.md'
    """
    if not _DEFINITION.search(body):
        return {}
    env: dict[str, Any] = {}
    parser().parse(body, env)
    found: dict[str, Any] = {"references": env.get("references", {})}
    if "footnotes" in env:  # the labels only: each section numbers the notes it shows
        found["footnotes"] = {"refs": {label: -1 for label in env["footnotes"].get("refs", {})}}
    return found


def render_section(text: str, defined: dict[str, Any] | None = None) -> SectionHtml:
    """The section ``text`` rendered on its own as it renders in its document, with the
    document's ``defined`` references and footnotes (see :func:`definitions`).

    >>> render_section("## 6. Fees\\n\\nSee *the* [policy](refund.md).\\n")
    SectionHtml(heading='6. Fees', body='<p>See <em>the</em> <a href="refund.md">policy</a>.</p>\\n')
    """
    md = parser()
    env = copy.deepcopy(defined) if defined else {}
    tokens = _footnotes_unlinked(md.parse(text, env))
    if len(tokens) > 2 and tokens[0].type == "heading_open":
        heading = sanitize(md.renderer.render(tokens[1:2], md.options, env))  # the heading's inline token
        return SectionHtml(heading=heading, body=_html(tokens[3:], env))
    return SectionHtml(heading="", body=_html(tokens, env))


@lru_cache(maxsize=8192)
def section_html(text: str, defined: str = "") -> SectionHtml:
    """:func:`render_section`, cached, ``defined`` given as JSON (``""`` for none): a site
    shows each section of each version on its page and in the redlines that compare it."""
    return render_section(text, json.loads(defined) if defined else None)


def _html(tokens: list[Token], env: dict[str, Any]) -> str:
    """Sanitized HTML of block ``tokens``, table cells aligned by class rather than style."""
    md = parser()
    for token in tokens:
        if token.type in ("th_open", "td_open") and token.attrGet("style") in _ALIGN:
            token.attrs = {"class": _ALIGN[str(token.attrGet("style"))]}
    return sanitize(md.renderer.render(tokens, md.options, env))


def _footnotes_unlinked(tokens: list[Token]) -> list[Token]:
    """``tokens`` with footnote numbers that link nowhere (a section numbers its notes from 1,
    its document does not), without back-links, without the notes defined in other sections
    (empty items), and without the list of notes if none is left."""
    kept: list[Token] = []
    item: list[Token] = []
    for token in tokens:
        for child in token.children or ():
            if child.type == "footnote_ref":
                child.type = "html_inline"
                child.content = f'<sup class="footnote-ref">{child.meta["id"] + 1}</sup>'
        if token.type == "footnote_anchor":
            continue
        if item or token.type == "footnote_open":
            item.append(token)
            if token.type == "footnote_close":
                if len(item) > 2:
                    kept.extend(item)
                item = []
            continue
        kept.append(token)
    if len(kept) > 1 and kept[-2].type == "footnote_block_open":
        return kept[:-2]
    return kept


def _toc(found: list[Heading]) -> tuple[TocEntry, ...]:
    found = [h for h in found if h.anchor]
    if not found:
        return ()
    top = min(h.level for h in found)
    entries: list[tuple[TocEntry, list[TocEntry]]] = []
    for heading in found:
        if heading.level == top:
            entries.append((TocEntry(title=heading.text, anchor=heading.anchor), []))
        elif heading.level == top + 1 and entries:
            entries[-1][1].append(TocEntry(title=heading.text, anchor=heading.anchor))
    return tuple(TocEntry(title=e.title, anchor=e.anchor, children=tuple(children))
                 for e, children in entries)
