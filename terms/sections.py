"""Split a Markdown body into sections at its headings (setext and ATX).

Sections are exact slices of the source: concatenating the ``text`` of every
section reproduces the body character for character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markdown_it.rules_core import StateCore
from markdown_it.rules_core import inline as parse_inline
from markdown_it.token import Token

from .markdown import Heading, heading_slug, headings, inline_text, parse, parser, unique_anchor

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
"""A line as markdown-it-py counts them (it breaks lines at ``\\n``, ``\\r\\n`` and ``\\r`` only)."""
_ATX = re.compile(r"#{1,6}(?: |$)")
_UNDERLINE = re.compile(r"(?:=+|-+) *$")
_HR = re.compile(r"(?:(?:\* *){3,}|(?:- *){3,}|(?:_ *){3,})$")
_ITEM = re.compile(r"(?:[-+*]|[0-9]{1,9}[.)])(?= |$)")
_UNSURE = frozenset(" >`~<[")
"""First characters of lines :func:`_scan` leaves to the parser: indentation, quotes, fences,
HTML, link and footnote definitions."""
_UNSURE_ITEM = frozenset("#>`~<[=")
_MARKUP = frozenset(" \n#=-*_+0123456789>`~<[")
"""First characters of the lines that may be something else than paragraph text."""


@dataclass(frozen=True)
class Section:
    """A heading and the text up to the next heading of any level."""

    index: int
    """Position of the section in its document, from 0."""
    level: int
    """Heading level, 1 to 6; 0 for the preamble (text before the first heading)."""
    title: str
    """Plain text of the heading; ``""`` for the preamble."""
    anchor: str
    """The heading's id, as the site emits it; ``""`` for the preamble."""
    heading: str
    """The heading's source lines (``""`` for the preamble)."""
    body: str
    """The source lines after the heading, up to the next heading."""
    line: int
    """1-based line of the body on which the section starts."""

    @property
    def text(self) -> str:
        """The whole source of the section: heading and body."""
        return self.heading + self.body


def split(body: str) -> tuple[Section, ...]:
    """The sections of ``body`` in document order (cached: versions are compared often).

    Only top-level headings start sections; a heading inside a list or quote does not.

    >>> [s.title for s in split("Intro\\n\\n# Fees\\n\\nTen.\\n\\nRefunds\\n-------\\n")]
    ['', 'Fees', 'Refunds']
    """
    return _split(body)[0]


def plain(body: str) -> bool:
    """True if ``body`` is plain Markdown, which :func:`split` reads with a scan of its lines:
    no indented lines, quotes, code, HTML blocks, tables, definitions, nested or ambiguous list
    items. Every heading of a plain body starts a section, and each section parses on its
    own as it does in place (without the body's definitions: it has none).

    >>> plain("# Fees\\n\\nTen.\\n"), plain("> # Fees\\n")
    (True, False)
    """
    return _split(body)[1]


@lru_cache(maxsize=256)
def _split(body: str) -> tuple[tuple[Section, ...], bool]:
    lines = _LINE.findall(body)
    starts = _scan(body, lines)
    scanned = starts is not None
    if starts is None:
        starts = _headings(_block_tokens(body))
    sections: list[Section] = []
    if not starts or starts[0][0] > 0:
        end = starts[0][0] if starts else len(lines)
        if end:
            sections.append(Section(0, 0, "", "", "", "".join(lines[:end]), 1))
    for n, (first, after, level, title, anchor) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        sections.append(Section(len(sections), level, title, str(anchor),
                                "".join(lines[first:after]), "".join(lines[after:end]), first + 1))
    return tuple(sections), scanned


def first_heading(body: str) -> Heading | None:
    """The first heading of ``body`` (at any depth), as ``headings(parse(body))[0]`` finds it,
    or ``None``: for plain Markdown found by a scan of its lines, without parsing the whole body.

    >>> first_heading("Intro\\n\\nTerms of Use\\n============\\n\\n## 1. Fees\\n")
    Heading(level=1, text='Terms of Use', anchor='terms-of-use', line=3)
    """
    starts = _scan(body, _LINE.findall(body), first=True)
    if starts is None:
        found = headings(parse(body))
        return found[0] if found else None
    if not starts:
        return None
    first, _, level, title, anchor = starts[0]
    return Heading(level, title, anchor, first + 1)


def _headings(tokens: list[Token]) -> list[tuple[int, int, int, str, str]]:
    """``(first line, line after, level, title, anchor)`` of each top-level heading."""
    return [(token.map[0], token.map[1], int(token.tag[1]), inline_text(tokens[i + 1]),
             str(token.attrGet("id") or ""))
            for i, token in enumerate(tokens)
            if token.type == "heading_open" and token.level == 0 and token.map]


def _scan(body: str, lines: list[str], first: bool = False) -> list[tuple[int, int, int, str, str]] | None:
    """The headings of ``body`` found by a scan of its lines, for plain Markdown only (no
    indentation, quotes, code, HTML, tables, definitions, nested or ambiguous list items);
    ``None`` for anything else, which the full block parser handles. Only the headings'
    own lines go through markdown-it: parsing the whole body is most of a change's cost.
    With ``first``, the scan stops at the first heading unless its text has a ``[`` (which a
    definition further on could make a link: then the scan goes to the end)."""
    if any(c in body for c in "\t\r\0|"):
        return None
    found: list[tuple[int, int]] = []
    state, start = "", 0  # "" between blocks, "para"graph from line ``start``, "list" item
    for n, line in enumerate(lines):
        if line[0] not in _MARKUP:  # most lines: quicker than the tests below
            if not state:
                state, start = "para", n
            continue
        line = line.rstrip("\n")
        if not line.strip(" "):
            state = ""
        elif line[0] in _UNSURE:
            return None
        elif _ATX.match(line):
            found.append((n, n + 1))
            state = ""
            if first and len(found) == 1 and "[" not in line:
                break
        elif _UNDERLINE.match(line) and state:
            if state == "list":
                return None
            found.append((start, n + 1))
            state = ""
            if first and len(found) == 1 and "[" not in "".join(lines[start:n]):
                break
        elif _HR.match(line):
            state = ""
        elif item := _ITEM.match(line):
            rest = line[item.end():].lstrip(" ")
            marker = item.group(0)
            if state == "para" and (not rest or (marker[0].isdigit() and int(marker[:-1]) != 1)):
                continue  # an empty item, or a list not starting at 1, cannot interrupt a paragraph
            if (not rest or len(line) - len(rest) - item.end() > 4 or rest[0] in _UNSURE_ITEM
                    or _ITEM.match(rest) or _HR.match(rest)):
                return None
            state = "list"
        elif not state:
            state, start = "para", n
    # Each heading's lines alone parse as they do in place; ids are made unique as the parser's
    # anchors plugin makes them, in document order.
    starts: list[tuple[int, int, int, str, str]] = []
    slugs: set[str] = set()
    tried: dict[str, int] = {}
    for a, b in found:
        heading = _heading("".join(lines[a:b]).rstrip("\n"))
        if heading is None or heading[0] != b - a:
            return None
        starts.append((a, b, heading[1], heading[2], unique_anchor(heading_slug(heading[2]), slugs, tried)))
    return starts


@lru_cache(maxsize=4096)
def _heading(block: str) -> tuple[int, int, str] | None:
    """``(lines, level, title)`` of the heading ``block`` parses as on its own, or ``None``
    when it is not one heading (cached: the versions of a document share most headings)."""
    tokens = _block_tokens(block)
    if len(tokens) != 3 or tokens[0].type != "heading_open" or not tokens[0].map or tokens[0].map[0]:
        return None
    return tokens[0].map[1], int(tokens[0].tag[1]), inline_text(tokens[1])


def _block_tokens(body: str) -> list[Token]:
    """The tokens of the shared parser, with inline content parsed for headings only:
    the same headings and anchors as a full parse, at a fraction of the cost."""
    md = parser()
    state = StateCore(body, md, {})
    for rule in md.core.ruler.getRules(""):
        if rule is not parse_inline:
            rule(state)
            continue
        for i, token in enumerate(state.tokens):
            if token.type == "inline":
                token.children = []
                if state.tokens[i - 1].type == "heading_open":
                    md.inline.parse(token.content, md, state.env, token.children)
    return state.tokens
