"""The change between two versions of a document: section by section, word by word,
with the materiality verdict.

>>> change = compare("# Refunds\\n\\nWithin 14 days.\\n", "# Refunds\\n\\nWithin 7 days.\\n")
>>> change.material, change.confidence, change.summary
(True, 'high', 'Refund period shortened from 14 days to 7 days.')
>>> print(change.render(markers=True))
material (high confidence, score 0.70)
Refund period shortened from 14 days to 7 days.
  - Refund period shortened from 14 days to 7 days in section 'Refunds': “Within 7 days.”
<BLANKLINE>
@@ Refunds (modified) @@
# Refunds
<BLANKLINE>
Within [-14-]{+7+} days.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .analysis import Memo, recall
from .markdown import heading_slug, without_comments
from .model import Version
from .pairing import in_place, pair
from .sections import Section, split
from .words import WordOp, count_words, word_diff

if TYPE_CHECKING:
    from rich.text import Text

SECTION_STATUSES = ("unchanged", "modified", "moved", "added", "removed")
"""What can become of a section (:attr:`SectionChange.status`)."""
_NUMBERS = re.compile(r"\s*\d+(?:\.\d+)*(?:\s*(?:,|and|or|to|through|&|–|-)\s*\d+(?:\.\d+)*)*\s*")
"""Numbers that number sections: ``3``, ``3.1``, ``3 and 4``."""
_HEADING_NUMBER = re.compile(r" {0,3}(?:#{1,6}[ \t]+)?(?:§\s*)?(?:\d+\.)*")
"""What may stand before the number of a heading: ``## ``, ``## 3.``, ``§ ``."""
_REFERENCE = re.compile(r"(?:\b(?:sections?|clauses?|paragraphs?|articles?|parts?|chapters?|schedules?"
                        r"|annex(?:es)?|appendix|appendices|items?)\s*|§§?\s*)"
                        r"(?:\d+(?:\.\d+)*[a-z]?\s*(?:,|and|or|to|through|&|–|-)\s*)*(?:\d+\.)*$",
                        re.IGNORECASE)
"""What stands before the number of a section referred to: ``see section ``, ``§§ 3, ``."""
_NEAR = 80
"""Characters before a changed number searched for the words of a cross-reference."""


def renumbering(old: str, new: str, before: str, after: str, *, heading: bool) -> bool:
    """Whether the words ``old``, replaced by ``new`` between the texts ``before`` and
    ``after``, are the number of a section: that of a section a cross-reference names (``see
    section 3``), or the heading's own (``heading``: ``before`` is all of the heading before
    them), written as a section's number (``3.``, ``3.1``, ``3)``, ``§ 3``), not as a quantity
    the heading starts with (``## 30 days money-back guarantee``)."""
    if not (_NUMBERS.fullmatch(old) and _NUMBERS.fullmatch(new)):
        return False
    numbered = "." in old or after[:1] in (".", ")") or before.rstrip().endswith((".", "§"))
    return bool(_REFERENCE.search(before[-_NEAR:])
                or heading and numbered and _HEADING_NUMBER.fullmatch(before))


@dataclass(frozen=True, kw_only=True, slots=True)
class SectionChange:
    """What became of one section. Instances are immutable."""

    status: str
    """``unchanged``, ``modified``, ``moved`` (moved, text unchanged), ``added`` or ``removed``."""
    old_title: str | None
    """Heading text in the old version; ``""`` for the untitled opening, ``None`` when added."""
    new_title: str | None
    """Heading text in the new version; ``""`` for the untitled opening, ``None`` when removed."""
    old_anchor: str | None
    """Heading id in the old version (as the site emits it); ``None`` when added."""
    new_anchor: str | None
    """Heading id in the new version; ``None`` when removed."""
    renamed: bool
    """True if the heading's words changed (renumbering alone is not a rename)."""
    level: int
    """Heading level (1-6), 0 for the untitled opening; the new one when both exist."""
    ops: tuple[WordOp, ...]
    """Word operations over the whole section, heading included (the whitespace that ends it, the
    blank line before the next heading, is no change: an ``equal`` step whatever it is)."""
    words_added: int
    words_removed: int
    similarity: float
    """Share of words kept, in [0, 1]: 1.0 for an unchanged section, 0.0 for added or removed."""
    old_index: int | None = None
    """Position of the section in the old version; ``None`` when added."""
    new_index: int | None = None
    """Position of the section in the new version; ``None`` when removed."""
    moved: bool = False
    """True if the section changed place relative to the others (it may also be modified)."""

    @property
    def title(self) -> str:
        """The heading to show: the new one, else the old one."""
        return self.new_title if self.new_title is not None else (self.old_title or "")

    @property
    def renumbered(self) -> bool:
        """True if the section's only changes are numbers of sections: its heading's and those
        of the sections it refers to (``see section 3``), spacing aside."""
        if self.status != "modified" or self.renamed:
            return False
        new, at, numbers = self.new_text, 0, False
        for op in self.ops:
            if op.tag != "equal" and (op.old.strip() or op.new.strip()):
                end = at + len(op.new)
                if not renumbering(op.old, op.new, new[max(0, at - _NEAR):at], new[end:end + 1],
                                   heading=self.level > 0 and at <= _NEAR):
                    return False
                numbers = True
            at += len(op.new)
        return numbers

    @property
    def old_text(self) -> str:
        """The section's text in the old version (``""`` when added)."""
        return "".join(op.old for op in self.ops)

    @property
    def new_text(self) -> str:
        """The section's text in the new version (``""`` when removed)."""
        return "".join(op.new for op in self.ops)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of this section change, ops as ``{tag, old, new}``."""
        return {"status": self.status, "old_title": self.old_title, "new_title": self.new_title,
                "old_anchor": self.old_anchor, "new_anchor": self.new_anchor,
                "renamed": self.renamed, "moved": self.moved, "level": self.level,
                "words_added": self.words_added, "words_removed": self.words_removed,
                "similarity": round(self.similarity, 4),
                "ops": [{"tag": op.tag, "old": op.old, "new": op.new} for op in self.ops]}


@dataclass(frozen=True)
class Change:
    """The change from one version to another, with the analysis' materiality verdict.
    Instances are immutable."""

    old: Version | None
    """The old version, or ``None`` when plain text was compared."""
    new: Version | None
    """The new version, or ``None`` when plain text was compared."""
    sections: tuple[SectionChange, ...]
    """In the new version's order; removed sections where they stood."""
    words_added: int
    words_removed: int
    score: float
    """How likely the change is to be material, in [0, 1]."""
    material: bool
    """The analysis' verdict (the editor's flag, ``new.material``, decides)."""
    confidence: str
    """``high`` when the evidence is clear either way, ``low`` when it is thin or mixed
    (an editor should decide)."""
    reasons: tuple[str, ...]
    """Why, in words a visitor understands."""
    summary: str
    """What changed, in one to three short sentences generated from the findings (``""``
    when nothing did)."""

    @property
    def identical(self) -> bool:
        """True if both texts are the same."""
        return all(s.status == "unchanged" for s in self.sections)

    def render(self, markers: bool = True) -> str:
        """Plain-text redline: verdict and reasons, then each section with a header.

        :param markers: Show removed and added words inline as ``[-old-]{+new+}``;
            when ``False`` only the verdict and the list of sections are shown.
            Defaults to ``True``.
        """
        from .redline import render_text

        return render_text(self, markers)

    def __rich__(self) -> Text:
        """The redline for a rich console, in colour: ``rich.print(change)``."""
        from .redline import render_rich

        return render_rich(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: document, old, new, material, confidence, flag, score,
        reasons, summary, sections."""
        version = self.new or self.old
        return {"document": version.slug if version else None,
                "old": self.old.id if self.old else None, "new": self.new.id if self.new else None,
                "material": self.material, "confidence": self.confidence,
                "flag": self.new.material if self.new else None,
                "score": self.score, "reasons": list(self.reasons), "summary": self.summary,
                "words_added": self.words_added, "words_removed": self.words_removed,
                "sections": [s.to_dict() for s in self.sections]}


def compare(old: Version | str, new: Version | str, watch: Iterable[str] = (),
            assess_change: bool = True, memo: Memo | None = None) -> Change:
    """The change from ``old`` to ``new``: versions, or Markdown bodies as plain strings. HTML
    comments are editors' notes, never published: they are left out of both texts.

    :param watch: Extra watch-list terms (regular expressions) for the materiality analysis,
        on top of :data:`terms.materiality.DEFAULT_WATCH`. Defaults to none.
    :param assess_change: Whether to judge the change's materiality. Defaults to ``True``; with
        ``False`` (for translations, whose verdict is their source's) the change is not material,
        with a score of 0, no reasons and no summary.
    :param memo: Where to keep what is found in sections and sentences, to find it again when
        comparing other versions that share them (see :class:`terms.analysis.Memo`). Defaults
        to none: found anew (though cached in this process).
    """
    old_sections = split(without_comments(old.body if isinstance(old, Version) else old))
    new_sections = split(without_comments(new.body if isinstance(new, Version) else new))
    pairs = pair(old_sections, new_sections)
    kept = in_place(pairs)
    by_new = {n: o for o, n in pairs.items()}
    removed_after = _removed_positions(old_sections, pairs)
    entries: list[tuple[Section | None, Section | None]] = [(s, None) for s in removed_after.get(-1, ())]
    for section in new_sections:
        before = old_sections[by_new[section.index]] if section.index in by_new else None
        entries.append((before, section))
        if before is not None:
            entries.extend((s, None) for s in removed_after.get(before.index, ()))
    changes = tuple(_section_change(a, b, a is not None and b is not None and a.index not in kept, memo)
                    for a, b in entries)
    score, material, confidence, summary = 0.0, False, "high", ""
    reasons: tuple[str, ...] = ()
    if assess_change:
        from .materiality import assess  # here: its patterns take a while to compile

        verdict = assess(entries, watch, memo)
        score, material, confidence = verdict.score, verdict.material, verdict.confidence
        reasons = verdict.reasons
        summary = _summary(verdict.summary, changes)
    return Change(old if isinstance(old, Version) else None, new if isinstance(new, Version) else None,
                  changes, sum(s.words_added for s in changes), sum(s.words_removed for s in changes),
                  score, material, confidence, reasons, summary)


def _summary(summary: str, sections: tuple[SectionChange, ...]) -> str:
    """The verdict's summary, unless the text is the same, or only moved or renumbered."""
    statuses = {s.status for s in sections}
    if statuses <= {"unchanged"}:
        return ""
    if statuses <= {"unchanged", "moved"}:
        return "Sections were moved; their text did not change."
    if all(s.status in ("unchanged", "moved") or s.renumbered for s in sections):
        what = "moved and renumbered" if any(s.moved for s in sections) else "renumbered"
        return f"Sections were {what}; their wording did not change."
    return summary


def _removed_positions(old: tuple[Section, ...], pairs: dict[int, int]) -> dict[int, list[Section]]:
    """Unpaired old sections, keyed by the nearest paired old section before them (-1: none)."""
    placed: dict[int, list[Section]] = {}
    anchor = -1
    for section in old:
        if section.index in pairs:
            anchor = section.index
        else:
            placed.setdefault(anchor, []).append(section)
    return placed


def _section_change(old: Section | None, new: Section | None, moved: bool,
                    memo: Memo | None) -> SectionChange:
    if old is None or new is None:
        section = old or new
        assert section is not None
        op = WordOp("delete", section.text, "") if old else WordOp("insert", "", section.text)
        words = count_words(section.text)
        return SectionChange(
            status="removed" if old else "added", old_title=old.title if old else None,
            new_title=new.title if new else None, old_anchor=old.anchor if old else None,
            new_anchor=new.anchor if new else None, renamed=False, level=section.level,
            ops=(op,) if section.text else (), words_added=0 if old else words,
            words_removed=words if old else 0, similarity=0.0,
            old_index=old.index if old else None, new_index=new.index if new else None)
    if old.text.rstrip() == new.text.rstrip():  # the blank line before the next heading is no change
        return SectionChange(
            status="moved" if moved else "unchanged", old_title=old.title, new_title=new.title,
            old_anchor=old.anchor, new_anchor=new.anchor, renamed=False, level=new.level,
            ops=(WordOp("equal", old.text, new.text),) if old.text or new.text else (), words_added=0,
            words_removed=0, similarity=1.0, old_index=old.index, new_index=new.index, moved=moved)
    old_text, new_text = old.text, new.text
    ops, added, removed, similarity = recall(
        memo, "words", (old_text, new_text), lambda: _diff(old_text, new_text),
        lambda found: [[[op.tag, len(op.old), len(op.new)] for op in found[0]], *found[1:]],
        lambda kept: (_ops(kept[0], old_text, new_text), *kept[1:]))
    return SectionChange(
        status="modified", old_title=old.title, new_title=new.title, old_anchor=old.anchor,
        new_anchor=new.anchor, renamed=heading_slug(old.title) != heading_slug(new.title),
        level=new.level, ops=ops, words_added=added, words_removed=removed,
        similarity=similarity, old_index=old.index, new_index=new.index, moved=moved)


def _ops(kept: list[list[Any]], old: str, new: str) -> tuple[WordOp, ...]:
    """Word operations kept as their tags and the lengths of their texts, cut from ``old`` and
    ``new`` again (kept so, the memo does not hold both texts once more)."""
    ops, i, j = [], 0, 0
    for tag, old_length, new_length in kept:
        ops.append(WordOp(tag, old[i:i + old_length], new[j:j + new_length]))
        i, j = i + old_length, j + new_length
    return tuple(ops)


@lru_cache(maxsize=1024)
def _diff(old: str, new: str) -> tuple[tuple[WordOp, ...], int, int, float]:
    """Word operations, words added and removed, and the share of words kept. Cached: a site
    compares every version with the one in force, so the same edits recur across pairs. The
    whitespace at the ends of the texts (the blank line before the next heading, which the last
    section has not) is kept as it is, unchanged."""
    old_words, new_words = old.rstrip(), new.rstrip()
    ops = word_diff(old_words, new_words)
    tail = WordOp("equal", old[len(old_words):], new[len(new_words):])
    if tail.old or tail.new:
        if ops and ops[-1].tag == "equal":
            tail, ops = WordOp("equal", ops[-1].old + tail.old, ops[-1].new + tail.new), ops[:-1]
        ops += (tail,)
    added = sum(op.words_added for op in ops)
    removed = sum(op.words_removed for op in ops)
    kept = sum(count_words(op.new) for op in ops if op.tag == "equal")
    total = kept * 2 + added + removed
    return ops, added, removed, 2 * kept / total if total else 1.0
