"""The allow-list for HTML in documents: what markdown-it-py emits plus the raw HTML
policy repositories carry (tables, ``<a name>`` anchors), and nothing that runs or styles."""

from __future__ import annotations

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
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def sanitize(html: str) -> str:
    """``html`` reduced to the allow-list: no scripts, styles, event handlers or comments,
    and only http, https, mailto and relative URLs."""
    return nh3.clean(html, tags=set(TAGS), attributes=ATTRIBUTES, url_schemes=set(URL_SCHEMES),
                     strip_comments=True, link_rel=None)
