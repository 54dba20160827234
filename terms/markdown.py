"""The Markdown dialect of termsledger: one parser configuration, heading anchors and links.

The site renders with the same parser, so the anchors ``check`` validates are the
anchors the site emits.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

_NUMBERING = re.compile(r"^\s*(?:§\s*)?\d+(?:\.\d+)*[.)]?\s+")
_COMMENT = re.compile(r"<!--(?:-?>|.*?--!?>)|(?P<unclosed><!--.*)", re.DOTALL)
"""An HTML comment as browsers end it (``-->``, ``--!>``; ``<!-->`` is empty), or one never closed."""


def without_comments(text: str) -> str:
    """``text`` without its HTML comments: what the site publishes, where comments are the
    editors' notes ("check with outside counsel"). Each comment leaves the line breaks it
    held, so that lines keep their numbers; one never closed runs to the end of ``text``.
    Comments go wherever they stand, code spans included.

    >>> without_comments("Refunds within 14 days.<!-- check with counsel -->\\n<!-- a\\nb -->\\nEnd.")
    'Refunds within 14 days.\\n\\n\\nEnd.'
    """
    if "<!--" not in text:
        return text
    return _COMMENT.sub(lambda match: "\n" * match.group().count("\n"), text)


def unclosed_comment(text: str) -> int | None:
    """The 1-based line of ``text`` on which a comment that is never closed opens, or ``None``.

    >>> unclosed_comment("Text.\\n\\nMore <!-- a note\\n")
    3
    """
    if "<!--" not in text:
        return None
    for match in _COMMENT.finditer(text):
        if match.group("unclosed"):
            return text.count("\n", 0, match.start()) + 1
    return None


def heading_slug(title: str) -> str:
    """The anchor of a heading: GitHub-style, without leading section numbers,
    so that renumbering a section keeps links to it working.

    >>> heading_slug("3.1 Annual Plans & Refunds")
    'annual-plans--refunds'
    """
    title = _NUMBERING.sub("", title) or title
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


@cache
def parser() -> MarkdownIt:
    """The shared markdown-it-py parser: CommonMark, tables, footnotes, heading anchors."""
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.core.ruler.push("anchor", _anchors)
    return md


def _anchors(state: StateCore) -> None:
    """Give each heading without an id the :func:`heading_slug` of its text, made unique with
    ``-1``, ``-2``… (explicit ids reserved first): the ids of mdit-py-plugins' anchors plugin,
    found in linear time (the plugin tries every suffix from 1 again for each heading, which
    takes quadratic time over many headings of the same text)."""
    tokens = state.tokens
    taken = {str(t.attrGet("id")) for t in tokens if t.type == "heading_open" and t.attrGet("id")}
    tried: dict[str, int] = {}
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or token.attrGet("id"):
            continue
        token.attrSet("id", unique_anchor(heading_slug(inline_text(tokens[i + 1])), taken, tried))


def unique_anchor(slug: str, taken: set[str], tried: dict[str, int]) -> str:
    """``slug`` made unique among ``taken`` (which it joins) with ``-1``, ``-2``…, as the anchors
    plugin's ``unique_slug`` makes it; ``tried`` keeps, for each slug, the suffix to try next
    (those before it are all taken), so that many headings of one text take linear time."""
    suffix = tried.get(slug, 0)
    anchor = f"{slug}-{suffix}" if suffix else slug
    while anchor in taken:
        suffix += 1
        anchor = f"{slug}-{suffix}"
    tried[slug] = suffix + 1
    taken.add(anchor)
    return anchor


def parse(body: str) -> list[Token]:
    """Block tokens of ``body`` (heading ids already assigned)."""
    return parser().parse(body)


@dataclass(frozen=True)
class Heading:
    """A heading of a document body."""

    level: int
    text: str
    anchor: str
    line: int
    """1-based line of the heading within the body."""


@dataclass(frozen=True)
class Link:
    """A link or image target found in a document body."""

    target: str
    line: int
    """1-based line within the body."""


def inline_text(token: Token) -> str:
    """Plain text of an inline token (markup dropped)."""
    return "".join(c.content for c in token.children or () if c.type in ("text", "code_inline"))


def headings(tokens: list[Token]) -> list[Heading]:
    """The headings of a parsed body, in document order."""
    found = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            line = token.map[0] + 1 if token.map else 0
            anchor = str(token.attrGet("id") or "")
            found.append(Heading(int(token.tag[1]), inline_text(tokens[i + 1]), anchor, line))
    return found


def links(tokens: list[Token]) -> list[Link]:
    """Targets of the links and images of a parsed body, in document order."""
    found = []
    for token in tokens:
        if token.type != "inline":
            continue
        line = token.map[0] + 1 if token.map else 0
        for child in token.children or ():
            line += child.type in ("softbreak", "hardbreak")  # the link's own line in its paragraph
            target = child.attrGet("href") if child.type == "link_open" else (
                child.attrGet("src") if child.type == "image" else None)
            if target is not None:
                found.append(Link(str(target), line))
    return found


def link_target(source_path: str, href: str) -> tuple[str, str] | None:
    """Where a relative link in the file ``source_path`` points: ``(path, fragment)``, the path
    relative to the content folder (``source_path`` itself for ``#anchor``) and unquoted, the
    fragment as written; ``None`` for URLs with a scheme or host and for site-absolute paths.

    >>> link_target("legal/terms.md", "refund%20policy.md#annual-plans")
    ('legal/refund policy.md', 'annual-plans')
    >>> link_target("terms.md", "#fees"), link_target("terms.md", "https://example.com/")
    (('terms.md', 'fees'), None)
    """
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("/"):
        return None
    if not parts.path:
        return source_path, parts.fragment
    path = posixpath.normpath(posixpath.join(posixpath.dirname(source_path), unquote(parts.path)))
    return path, parts.fragment
