"""Word-level diff of two texts, as operations that reproduce both texts exactly."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import Indel

_TOKEN = re.compile(r"\w+|\n|[^\S\n]+|[^\w\s]")
"""Words, line breaks, runs of other whitespace, and single other characters:
every character is in exactly one token."""
_WORD = re.compile(r"\w")
_WORDS = re.compile(r"\w+")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")
_DIRECT_LIMIT = 4_000_000
"""Largest product of token counts diffed directly; above it, lines are aligned first."""


@dataclass(frozen=True)
class WordOp:
    """One step of a word diff. Concatenating ``old`` over all steps gives the old text,
    and ``new`` the new text."""

    tag: str
    """``equal``, ``insert``, ``delete`` or ``replace``."""
    old: str
    """The old text of this step (``""`` for an insertion)."""
    new: str
    """The new text of this step (``""`` for a deletion)."""

    @property
    def words_removed(self) -> int:
        """Words of ``old`` that are not kept."""
        return 0 if self.tag == "equal" else count_words(self.old)

    @property
    def words_added(self) -> int:
        """Words of ``new`` that were not there before."""
        return 0 if self.tag == "equal" else count_words(self.new)


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words, whitespace runs and punctuation; ``"".join`` gives it back.

    >>> tokenize("Refunds: 14 days.")
    ['Refunds', ':', ' ', '14', ' ', 'days', '.']
    """
    return _TOKEN.findall(text)


def count_words(text: str) -> int:
    """Number of words (runs of letters or digits) in ``text``."""
    return len(_WORDS.findall(text))


def word_diff(old: str, new: str) -> tuple[WordOp, ...]:
    """The word-level operations turning ``old`` into ``new``.

    Whitespace or single punctuation kept between two changes is folded into them,
    so that a rewritten phrase reads as one replacement.

    >>> [(op.tag, op.old, op.new) for op in word_diff("within 14 days", "within 7 days")]
    [('equal', 'within ', 'within '), ('replace', '14', '7'), ('equal', ' days', ' days')]
    """
    if old == new:
        return (WordOp("equal", old, new),) if old else ()
    steps = _merge(_steps(tokenize(old), tokenize(new)))
    return tuple(WordOp(tag, a, b) for tag, a, b in steps)


def _steps(a: list[str], b: list[str]) -> list[tuple[str, str, str]]:
    if not a or not b or len(a) * len(b) <= _DIRECT_LIMIT:
        return [(op.tag, "".join(a[op.src_start:op.src_end]), "".join(b[op.dest_start:op.dest_end]))
                for op in Indel.opcodes(a, b)]
    lines_a, lines_b = _LINE.findall("".join(a)), _LINE.findall("".join(b))
    if len(lines_a) * len(lines_b) > _DIRECT_LIMIT or (len(lines_a) < 2 and len(lines_b) < 2):
        return [("delete", "".join(a), ""), ("insert", "", "".join(b))]
    steps = []
    pending_a: list[str] = []
    pending_b: list[str] = []
    for op in Indel.opcodes(lines_a, lines_b):
        if op.tag == "equal":
            steps.extend(_steps(tokenize("".join(pending_a)), tokenize("".join(pending_b))))
            pending_a, pending_b = [], []
            steps.append(("equal", "".join(lines_a[op.src_start:op.src_end]),
                          "".join(lines_b[op.dest_start:op.dest_end])))
        else:
            pending_a.extend(lines_a[op.src_start:op.src_end])
            pending_b.extend(lines_b[op.dest_start:op.dest_end])
    steps.extend(_steps(tokenize("".join(pending_a)), tokenize("".join(pending_b))))
    return steps


def _merge(steps: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Join adjacent changes into one ``replace``, absorbing trivial equal runs between them."""
    merged: list[list[str]] = []
    for i, (tag, a, b) in enumerate(steps):
        if not a and not b:
            continue
        changing = bool(merged) and merged[-1][0] == "change"
        if tag == "equal" and not (changing and _trivial(a) and i + 1 < len(steps)
                                   and steps[i + 1][0] != "equal"):
            if merged and merged[-1][0] == "equal":
                merged[-1][1] += a
                merged[-1][2] += b
            else:
                merged.append(["equal", a, b])
        elif changing:
            merged[-1][1] += a
            merged[-1][2] += b
        else:
            merged.append(["change", a, b])
    return [(_tag(a, b) if tag == "change" else "equal", a, b) for tag, a, b in merged]


def _trivial(text: str) -> bool:
    return len(text) <= 2 and not _WORD.search(text)


def _tag(old: str, new: str) -> str:
    return "replace" if old and new else ("delete" if old else "insert")
