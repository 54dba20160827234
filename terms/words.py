"""Word-level diff of two texts, as operations that reproduce both texts exactly."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"\w+|\n|[^\S\n]+|[^\w\s]")
"""Words, line breaks, runs of other whitespace, and single other characters:
every character is in exactly one token."""
_WORD = re.compile(r"\w")
_WORDS = re.compile(r"\w+")
_DIRECT_LIMIT = 4_000_000
"""Largest product of the lengths of two stretches aligned exactly (a few milliseconds)."""
_WORK = 100
"""Elements :func:`align` may visit per element of its input, before giving up on precision."""
_ANCHORS = 1000
"""About how many anchors :func:`align` cuts a long stretch at."""
_RUNS = (1, 8, 32)
"""Lengths of the runs of elements :func:`align` cuts long stretches at, shortest first."""


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


@lru_cache(maxsize=1024)
def _tokens(text: str) -> tuple[str, ...]:
    """:func:`tokenize`, cached: a section is diffed with its counterparts in several versions."""
    return tuple(tokenize(text))


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
    steps = _merge(_steps(_tokens(old), _tokens(new)))
    return tuple(WordOp(tag, a, b) for tag, a, b in steps)


def _steps(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, str, str]]:
    return [(tag, "".join(a[i1:i2]), "".join(b[j1:j2])) for tag, i1, i2, j1, j2 in align(a, b)]


def align(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[str, int, int, int, int]]:
    """Opcodes ``(tag, i1, i2, j1, j2)`` turning ``a`` into ``b`` (tags as in :mod:`difflib`;
    adjacent changes are one ``replace``), in time near-linear in the length of the sequences
    whatever they hold.

    Common ends are set aside first. A stretch short enough is aligned exactly (a longest
    common subsequence, rapidfuzz ``Indel``); a longer one is cut at the elements found once
    in each side, in the same order on both (as a patience diff does), and its pieces aligned
    in turn; a long stretch without such an element, or once the work done reaches a multiple
    of the input's length, is one replacement.

    >>> align("abcd", "abxd")
    [('equal', 0, 2, 0, 2), ('replace', 2, 3, 2, 3), ('equal', 3, 4, 3, 4)]
    """
    from rapidfuzz.distance import Indel  # here: importing terms stays quick

    ops: list[tuple[str, int, int, int, int]] = []
    budget = _WORK * (len(a) + len(b) + 1)
    todo: list[tuple[str, int, int, int, int]] = [("align", 0, len(a), 0, len(b))]
    while todo:  # a stack of stretches to align and of opcodes found, last first
        tag, i1, i2, j1, j2 = todo.pop()
        if tag != "align":
            ops.append((tag, i1, i2, j1, j2))
            continue
        start_i, start_j = i1, j1
        while i1 < i2 and j1 < j2 and a[i1] == b[j1]:
            i1, j1 = i1 + 1, j1 + 1
        end_i, end_j = i2, j2
        while i2 > i1 and j2 > j1 and a[i2 - 1] == b[j2 - 1]:
            i2, j2 = i2 - 1, j2 - 1
        budget -= (i1 - start_i) + (end_i - i2)
        todo.append(("equal", i2, end_i, j2, end_j))
        if i1 == i2 or j1 == j2 or (i2 - i1) * (j2 - j1) <= _DIRECT_LIMIT:
            found = [(op.tag, i1 + op.src_start, i1 + op.src_end, j1 + op.dest_start, j1 + op.dest_end)
                     for op in Indel.opcodes(a[i1:i2], b[j1:j2])]
        else:
            budget -= (i2 - i1) + (j2 - j1)
            found = _cut(a, b, i1, i2, j1, j2) if budget > 0 else []
            if not found:
                found = [("replace", i1, i2, j1, j2)]
        todo.extend(reversed(found))
        todo.append(("equal", start_i, i1, start_j, j1))
    return _joined(ops)


def ratios(text: Sequence[Hashable], others: Sequence[Sequence[Hashable]],
           cutoff: float = 0.0) -> list[float]:
    """rapidfuzz's ``fuzz.ratio`` of ``text`` (characters, or words) with each of ``others``
    (0 where it is below ``cutoff``): a row of ``rapidfuzz.process.cdist``, without the numpy
    it returns (importing numpy takes longer than comparing a version's sections).

    >>> ratios("abcd", ["abcd", "abxd", "wxyz"], cutoff=50)
    [100.0, 75.0, 0.0]
    """
    from rapidfuzz import fuzz, process  # here: importing terms stays quick

    found = [0.0] * len(others)
    for _, score, index in process.extract(text, others, scorer=fuzz.ratio, limit=None, score_cutoff=cutoff):
        found[index] = score
    return found


def similarity(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """The share of elements that :func:`align` keeps, in [0, 1]: ``2 * kept / (len(a) + len(b))``
    (1.0 for two empty sequences).

    >>> similarity("abcd", "abxd")
    0.75
    """
    kept = sum(i2 - i1 for tag, i1, i2, _, _ in align(a, b) if tag == "equal")
    return 2 * kept / (len(a) + len(b)) if a or b else 1.0


def _cut(a: Sequence[Hashable], b: Sequence[Hashable], i1: int, i2: int, j1: int,
         j2: int) -> list[tuple[str, int, int, int, int]]:
    """The stretch ``a[i1:i2]``, ``b[j1:j2]`` cut at anchors: runs of elements (single ones
    first; runs of :data:`_RUNS` elements where no element is found once on each side) found
    once in each, the longest series of them in the same order on both sides. Each anchor is
    ``equal``, each stretch between two anchors to ``align``; empty when there is no anchor."""
    for k in _RUNS:
        if min(i2 - i1, j2 - j1) < k:
            break
        found: list[tuple[str, int, int, int, int]] = []
        at_i, at_j = i1, j1
        for i, j in _increasing(_anchors(a, b, i1, i2, j1, j2, k)):
            if i >= at_i and j >= at_j and tuple(a[i:i + k]) == tuple(b[j:j + k]):
                found += [("align", at_i, i, at_j, j), ("equal", i, i + k, j, j + k)]
                at_i, at_j = i + k, j + k
        if found:
            return found + [("align", at_i, i2, at_j, j2)]
    return []


def _anchors(a: Sequence[Hashable], b: Sequence[Hashable], i1: int, i2: int, j1: int, j2: int,
             k: int) -> list[tuple[int, int]]:
    """``(i, j)`` for runs of ``k`` elements found once in ``a[i1:i2]``, at ``i``, and once in
    ``b[j1:j2]``, at ``j``, in increasing ``i``: every so many of them, about :data:`_ANCHORS`
    (the stretches between them are aligned in turn, and fewer anchors take less time)."""
    def once(seq: Sequence[Hashable], start: int, stop: int) -> dict[tuple[Hashable, ...], int]:
        at: dict[tuple[Hashable, ...], int] = {}
        repeated = set()
        for i in range(start, stop - k + 1):
            run = tuple(seq[i:i + k])
            if at.setdefault(run, i) != i:
                repeated.add(run)
        for run in repeated:
            del at[run]
        return at

    in_b = once(b, j1, j2)
    common = sorted((i, in_b[run]) for run, i in once(a, i1, i2).items() if run in in_b)
    return common[::max(1, len(common) // _ANCHORS)]


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (in increasing first items) whose second items
    increase too, in ``O(n log n)``."""
    tails: list[int] = []  # the second item ending the best run of each length
    ends: list[int] = []  # the index in ``pairs`` of that item
    before: list[int] = []
    for n, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        before.append(ends[k - 1] if k else -1)
        if k == len(tails):
            tails.append(j)
            ends.append(n)
        else:
            tails[k], ends[k] = j, n
    run, n = [], ends[-1] if ends else -1
    while n >= 0:
        run.append(pairs[n])
        n = before[n]
    return run[::-1]


def _joined(ops: list[tuple[str, int, int, int, int]]) -> list[tuple[str, int, int, int, int]]:
    """``ops`` without empty steps, with adjacent equal steps, and adjacent changes, joined."""
    joined: list[tuple[str, int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in ops:
        if i1 == i2 and j1 == j2:
            continue
        if joined and (joined[-1][0] == "equal") == (tag == "equal"):
            tag, i1, j1 = joined[-1][0], joined[-1][1], joined[-1][3]
            joined.pop()
        joined.append((tag, i1, i2, j1, j2))
    return [(_tag_of(tag, i1 < i2, j1 < j2), i1, i2, j1, j2) for tag, i1, i2, j1, j2 in joined]


def _tag_of(tag: str, removes: bool, inserts: bool) -> str:
    if tag == "equal":
        return tag
    return "replace" if removes and inserts else ("delete" if removes else "insert")


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
