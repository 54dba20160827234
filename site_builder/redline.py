"""Redlines: the change engine's comparison of two versions, in the shape diff pages
show, cached by the content hashes of the pair."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Callable, Iterable

from markupsafe import escape

from terms import Version, WordOp, compare
from terms.markdown import without_comments
from terms.sections import Section, split

from .cache import Cache, key

_DELETED = '<del><span class="visually-hidden">[deleted: </span>{}<span class="visually-hidden">]</span></del>'
_INSERTED = '<ins><span class="visually-hidden">[inserted: </span>{}<span class="visually-hidden">]</span></ins>'
_BLANK_LINES = re.compile(r"(?:[ \t]*\n)*")


def ops_html(ops) -> str:
    """Word operations as HTML: kept text as is, deletions and insertions marked (line
    breaks at either end of a change left outside the mark, where they show no box).

    >>> from terms.words import WordOp
    >>> ops_html([WordOp("equal", "Within ", "Within "), WordOp("replace", "14", "7")])[:32]
    'Within <del><span class="visuall'
    """
    parts = []
    for op in ops:
        if op.tag == "equal":
            parts.append(escape(op.new))
            continue
        if op.old:
            parts.append(_marked(_DELETED, op.old))
        if op.new:
            parts.append(_marked(_INSERTED, op.new))
    return "".join(parts)


def _marked(mark: str, text: str) -> str:
    core = text.strip("\n")
    if not core:
        return text
    start = len(text) - len(text.lstrip("\n"))
    return text[:start] + mark.format(escape(core)) + text[start + len(core):]


@dataclass(frozen=True)
class SectionRedline:
    """One section of a redline, in the order of the new version (removed sections where
    they stood)."""

    status: str
    """``unchanged``, ``modified``, ``moved``, ``added`` or ``removed``."""
    old_title: str | None
    new_title: str | None
    anchor: str | None
    """The section's anchor in the new version, else in the old one."""
    renamed: bool
    """The heading's words changed (renumbering alone is not a rename)."""
    moved: bool
    """The section changed place relative to the others (it may also be modified)."""
    level: int
    """Heading level, 0 for the untitled opening."""
    html: str
    """The section's Markdown text with deletions in ``<del>`` and insertions in ``<ins>``,
    each labelled for screen readers. The heading line is left out (the page shows the
    title) unless its text changed, and so are the blank lines at the end."""

    @property
    def title(self) -> str:
        """The heading to show: the new one, else the old one (``""`` for the opening)."""
        return self.new_title if self.new_title is not None else (self.old_title or "")


@dataclass(frozen=True)
class Redline:
    """What changed between two versions, and the analysis' verdict."""

    material: bool
    score: float
    reasons: tuple[str, ...]
    words_added: int
    words_removed: int
    identical: bool
    sections: tuple[SectionRedline, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)},
                "sections": [{f.name: getattr(s, f.name) for f in fields(s)} for s in self.sections]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Redline:
        sections = tuple(SectionRedline(**s) for s in data["sections"])
        return cls(**{**data, "reasons": tuple(data["reasons"]), "sections": sections})


def compare_pairs(old: Version, new: Version, watch: tuple[str, ...]) -> list[dict[str, Any]]:
    """The redline from ``old`` to ``new``, as the one-item list :meth:`Redlines.tasks` promises."""
    return [_from_change(compare(old, new, watch=watch), split(without_comments(old.body)),
                         split(without_comments(new.body))).to_dict()]


class Redlines:
    """Compares pairs of versions once per build and once per pair of texts across builds."""

    def __init__(self, cache: Cache, watch: tuple[str, ...] = ()):
        self._cache = cache
        self._watch = tuple(watch)
        self._done: dict[tuple[str, str], Redline] = {}

    def tasks(self, pairs: Iterable[tuple[Version, Version]]
              ) -> list[tuple[list[str], Callable[..., list], tuple]]:
        """The comparisons of ``pairs`` the cache lacks: ``([cache entry], function, args)``."""
        found = {}
        for old, new in pairs:
            entry = self._entry(old, new)
            if entry not in found and not self._cache.has(entry):
                found[entry] = ([entry], compare_pairs, (old, new, self._watch))
        return list(found.values())

    def between(self, old: Version, new: Version) -> Redline:
        """The redline from ``old`` to ``new``."""
        pair = (old.content_sha256, new.content_sha256)
        if pair not in self._done:
            entry = self._entry(old, new)
            data = self._cache.get(entry)
            if data is None:
                data = compare_pairs(old, new, self._watch)[0]
                self._cache.put(entry, data)
            self._done[pair] = Redline.from_dict(data)
        return self._done[pair]

    def _entry(self, old: Version, new: Version) -> str:
        return key("redline", old.content_sha256, new.content_sha256, self._watch)


def _from_change(change, old_sections: tuple[Section, ...], new_sections: tuple[Section, ...]) -> Redline:
    sections = tuple(
        SectionRedline(status=s.status, old_title=s.old_title, new_title=s.new_title,
                       anchor=s.new_anchor or s.old_anchor, renamed=bool(s.renamed), moved=bool(s.moved),
                       level=s.level, html=ops_html(_without_heading(
                           s.ops, old_sections[s.old_index] if s.old_index is not None else None,
                           new_sections[s.new_index] if s.new_index is not None else None)).rstrip("\n"))
        for s in change.sections)
    return Redline(material=bool(change.material), score=float(change.score),
                   reasons=tuple(change.reasons), words_added=change.words_added,
                   words_removed=change.words_removed, identical=bool(change.identical),
                   sections=sections)


def _without_heading(ops: tuple[WordOp, ...], old: Section | None, new: Section | None) -> tuple[WordOp, ...]:
    """``ops`` without the heading lines and the blank lines after them, when the heading
    reads the same in both versions or the section is in only one of them."""
    if (old or new).level == 0 or (old and new and old.heading != new.heading):
        return ops
    return _cut(ops, _heading_length(old), _heading_length(new))


def _heading_length(section: Section | None) -> int:
    return len(section.heading) + _BLANK_LINES.match(section.body).end() if section else 0


def _cut(ops: tuple[WordOp, ...], old_n: int, new_n: int) -> tuple[WordOp, ...]:
    """``ops`` without the first ``old_n`` characters of the old text and ``new_n`` of the
    new one; ``ops`` as they are when the cut does not fall between whole steps of each side."""
    rest = list(ops)
    while rest and (old_n or new_n):
        op = rest[0]
        a, b = min(len(op.old), old_n), min(len(op.new), new_n)
        if op.tag == "replace" or (op.tag == "equal" and a != b) or not (a or b):
            return ops
        old_n, new_n = old_n - a, new_n - b
        if (a, b) == (len(op.old), len(op.new)):
            rest.pop(0)
        else:
            rest[0] = WordOp(op.tag, op.old[a:], op.new[b:])
    return tuple(rest)
