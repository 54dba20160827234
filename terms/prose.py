"""The prose of a document, as the materiality analysis reads it: sentences, each with what
kind of block it stands in (a heading, a list of links, a table) and, for the items of a list,
the sentence that introduces the list.

>>> body = "You must not:\\n\\n- resell the [service](s.md);\\n- share logins.\\n"
>>> [(s.text, s.lead) for s in sentences("Fees", body)][1:]
[('You must not:', ''), ('resell the service;', 'You must not:'), ('share logins.', 'You must not:')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .markdown import without_comments

_WORDS = re.compile(r"\w+")
_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\((?:[^()]|\([^()]*\))*\)"
                   r"|!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\[[^\]]*\]")
"""A Markdown link or image, its text in group 1 or 2 (nested brackets one level deep)."""
_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:.*$", re.MULTILINE)
_URL = re.compile(r"<?(?:https?|mailto):[^\s>)]*[^\s>).,;:!?'\"”’]>?|<[^<>\s@]+@[^<>\s]+>")
"""A URL (without the punctuation after it, which may end a sentence), or an address in angle brackets."""
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_MARKUP = re.compile(r"[*_`#>|~\[\]]+|^ *(?:[-+*]|\d+[.)]) +|^[ =:-]+$|\\(?=\S)", re.MULTILINE)
_ITEM = re.compile(r" {0,6}(?:[-+*]|\d+[.)])(?: |$)")
_TABLE_ROW = re.compile(r" {0,3}\|")
_TABLE_RULE = re.compile(r" {0,3}\|?[ :|-]*-[ :|-]*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")
_INITIALS = re.compile(r"(?:^|[\W_])(?:(?:[A-Za-z]\.){1,4}"
                       r"|(?:e\.g|i\.e|cf|vs|mr|mrs|ms|dr|st|no|nos|art|arts|sec|para|approx|dept|fig|ref|vol)\.)$",
                       re.IGNORECASE)
"""Abbreviations after which a full stop does not end a sentence (``U.S.``, ``e.g.``)."""
_SUFFIX = re.compile(r"(?:inc|ltd|co|corp|llc|etc|plc)\.", re.IGNORECASE)
"""Abbreviations that end a sentence only when a capital letter follows (``Acme Inc. We…``)."""
_BOLD = re.compile(r"\s*(\*\*|__)(?:(?!\1).)+\1\s*[:.]?\s*", re.DOTALL)
"""A paragraph of bold text only."""
_LINKS_ONLY = re.compile(r"[\W_\d]*")
"""What may remain of a block of links once they are taken out: list markers, separators."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Sentence:
    """A sentence of a section, as prose: markup, link targets and line breaks removed."""

    text: str
    words: tuple[str, ...] = field(repr=False)
    """Its words in lower case: two sentences with the same words read the same (left out of
    the ``repr``, which memo keys are made of: they follow from :attr:`text`)."""
    section: str
    """Title of its section (``""`` for the untitled opening)."""
    heading: bool = False
    """A heading, or a paragraph of bold text only (a heading in all but markup)."""
    links: bool = False
    """In a paragraph, list item or table made of links or images only: navigation or a logo."""
    table: bool = False
    """A table (one sentence for the whole table)."""
    lead: str = ""
    """For an item of a list: the sentence before the list, when it ends with a colon."""

    def __hash__(self) -> int:
        # The text's hash, which Python keeps with the string: sentences are counted and
        # looked up by value over and over, and hashing every field (the words) each time
        # cost more than the lookups (equal sentences still compare every field).
        return hash(self.text)


@lru_cache(maxsize=2048)
def sentences(title: str, body: str) -> tuple[Sentence, ...]:
    """The sentences of a section: its heading, then those of its body in order."""
    found = [Sentence(text=title, words=words(title), section=title, heading=True)] if title.strip() else []
    lead = ""
    for kind, block in _blocks(_DEFINITION.sub("", without_comments(body))):
        if kind == "table":
            rows = [[" ".join(_prose(cell).split()) for cell in row.strip().strip("|").split("|")]
                    for row in block.splitlines() if not _TABLE_RULE.match(row)]
            text = "; ".join(", ".join(cell for cell in row if cell) for row in rows if any(row))
            if _WORDS.search(text):
                found.append(Sentence(text=text, words=words(text), section=title, table=True, lead=lead,
                                      links=_links_only(block)))
            continue
        text = " ".join(_prose(block).split())
        parts = [s for s in _split(text) if _WORDS.search(s)]
        bold = kind == "paragraph" and len(parts) == 1 and len(parts[0].split()) <= 12 and bool(
            _BOLD.fullmatch(block))
        links = _links_only(block)
        for part in parts:
            found.append(Sentence(text=part, words=words(part), section=title, heading=bold, links=links,
                                  lead=lead if kind == "item" else ""))
        if kind == "paragraph" and parts:
            lead = parts[-1] if parts[-1].endswith(":") else ""
    return tuple(found)


def words(text: str) -> tuple[str, ...]:
    """The words of ``text``, in lower case."""
    return tuple(_WORDS.findall(text.lower()))


def _split(text: str) -> list[str]:
    """The sentences of a paragraph: split after ``.``, ``!`` or ``?``, but not after an
    abbreviation.

    >>> _split("Under U.S. law, e.g. for refunds. Acme, Inc. is the controller. Done!")
    ['Under U.S. law, e.g. for refunds.', 'Acme, Inc. is the controller.', 'Done!']
    """
    parts, start = [], 0
    for match in _SENTENCE.finditer(text):
        last = text[start:match.start()].rsplit(None, 1)[-1]
        suffix = _SUFFIX.fullmatch(last.rstrip(","))
        if _INITIALS.search(last) or (suffix and not text[match.end()].isupper()):
            continue
        parts.append(text[start:match.start()])
        start = match.end()
    return parts + [text[start:]]


def _blocks(body: str) -> list[tuple[str, str]]:
    """The blocks of a body in order, each ``("paragraph" | "item" | "table", source)``."""
    blocks: list[tuple[str, list[str]]] = []
    for line in body.split("\n"):
        if not line.strip():
            blocks.append(("", []))
        elif _TABLE_ROW.match(line):
            if not blocks or blocks[-1][0] != "table":
                blocks.append(("table", []))
            blocks[-1][1].append(line)
        elif _ITEM.match(line):
            blocks.append(("item", [line]))
        elif blocks and blocks[-1][0] in ("paragraph", "item") and blocks[-1][1]:
            blocks[-1][1].append(line)
        else:
            blocks.append(("paragraph", [line]))
    return [(kind, "\n".join(lines)) for kind, lines in blocks if lines]


def _links_only(block: str) -> bool:
    """True if ``block`` holds links or images and nothing else that reads as words."""
    if not _linked(block):
        return False
    bare = _URL.sub("", _LINK.sub("", block))
    return bare != block and bool(_LINKS_ONLY.fullmatch(_MARKUP.sub("", _HTML_TAG.sub("", bare))))


def _linked(text: str) -> bool:
    """False if ``text`` can hold no link nor URL: without ``[``, ``:`` or ``@`` (most text)."""
    return "[" in text or ":" in text or "@" in text


def _prose(text: str) -> str:
    """``text`` without markup: links reduced to their text, URLs and tags removed."""
    if _linked(text):
        text = _URL.sub("", _LINK.sub(lambda m: m.group(1) or m.group(2) or "", text))
    return _MARKUP.sub("", _HTML_TAG.sub("", text) if "<" in text else text)
