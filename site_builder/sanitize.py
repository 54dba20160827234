"""The allow-list for HTML in documents: what markdown-it-py emits plus the raw HTML
policy repositories carry (tables, ``<a name>`` anchors), and nothing that runs, styles,
tracks readers or passes for the page's own parts.

- ``class`` keeps only the classes the Markdown renderer emits (footnotes, table
  alignment), so a document cannot borrow the site's classes to fake a banner.
- ``id`` and ``name`` are kept unless they start with a capital letter: the page's own
  ids (``Main``, ``Title``, ``Contents``…) do, and a document must not reuse them.
- Images load only from relative URLs. An image hosted elsewhere (a tracking pixel, or a
  logo that would tell its host who reads the terms) becomes a link to it, labelled with
  its alt text; inside a link, just its alt text.
"""

from __future__ import annotations

import re

import nh3

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "section",
    "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul", "var",
})
ATTRIBUTES = {
    "*": {"id", "class", "lang", "dir", "title"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start", "reversed", "type"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "abbr": {"title"},
}
CLASSES = frozenset({"align-left", "align-center", "align-right", "footnote-ref", "footnotes-sep",
                     "footnotes", "footnotes-list", "footnote-item", "footnote-backref"})
"""The classes the Markdown renderer emits (see :mod:`site_builder.render`)."""
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_PAGE_ID = re.compile(r"[A-Z]")
_LINK_OR_IMAGE = re.compile(r"<a\b[^>]*>|</a>|<img\b[^>]*>")
_ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
_SRC = re.compile(r'\ssrc="([^"]*)"')
_ALT = re.compile(r'\salt="([^"]*)"')


def sanitize(html: str) -> str:
    """``html`` reduced to the allow-list: no scripts, styles, event handlers or comments,
    only http, https, mailto and relative URLs, no page ids or site classes, no external images."""
    cleaned = nh3.clean(html, tags=set(TAGS), attributes=ATTRIBUTES, url_schemes=set(URL_SCHEMES),
                        strip_comments=True, link_rel=None, attribute_filter=_attribute)
    return _LINK_OR_IMAGE.sub(_ImageLinker(), cleaned) if "<img" in cleaned else cleaned


def _attribute(tag: str, name: str, value: str) -> str | None:
    if name == "class":
        return " ".join(c for c in value.split() if c in CLASSES) or None
    if name in ("id", "name"):
        return None if _PAGE_ID.match(value) else value
    return value


class _ImageLinker:
    """Replaces each external image in nh3's output (attributes double-quoted, escaped)
    by a link to it, or by its alt text inside a link."""

    def __init__(self) -> None:
        self.depth = 0

    def __call__(self, match: re.Match[str]) -> str:
        tag = match.group()
        if not tag.startswith("<img"):
            self.depth += -1 if tag == "</a>" else 1
            return tag
        src = _SRC.search(tag)
        if src is None or not _ABSOLUTE.match(src.group(1)):
            return tag
        alt = _ALT.search(tag)
        label = alt.group(1) if alt and alt.group(1).strip() else src.group(1)
        return label if self.depth > 0 else f'<a href="{src.group(1)}">{label}</a>'
