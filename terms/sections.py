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

from .markdown import inline_text, parser

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
"""A line as markdown-it-py counts them (it breaks lines at ``\\n``, ``\\r\\n`` and ``\\r`` only)."""


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


@lru_cache(maxsize=256)
def split(body: str) -> tuple[Section, ...]:
    """The sections of ``body`` in document order (cached: versions are compared often).

    Only top-level headings start sections; a heading inside a list or quote does not.

    >>> [s.title for s in split("Intro\\n\\n# Fees\\n\\nTen.\\n\\nRefunds\\n-------\\n")]
    ['', 'Fees', 'Refunds']
    """
    lines = _LINE.findall(body)
    tokens = _block_tokens(body)
    starts = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0 and token.map:
            starts.append((token.map[0], token.map[1], int(token.tag[1]),
                           inline_text(tokens[i + 1]), token.attrGet("id") or ""))
    sections: list[Section] = []
    if not starts or starts[0][0] > 0:
        end = starts[0][0] if starts else len(lines)
        if end:
            sections.append(Section(0, 0, "", "", "", "".join(lines[:end]), 1))
    for n, (first, after, level, title, anchor) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        sections.append(Section(len(sections), level, title, str(anchor),
                                "".join(lines[first:after]), "".join(lines[after:end]), first + 1))
    return tuple(sections)


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
