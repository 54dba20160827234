"""Pair the sections of two versions, even when they were moved, renumbered or renamed."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from functools import lru_cache

from .markdown import heading_slug
from .sections import Section
from .words import ratios, similarity

PAIR_CUTOFF = 50.0
"""Least combined similarity (0-100) of title and body for two sections to pair."""
_TITLE_WEIGHT = 0.35
_SAME_TITLE = 95.0
"""Title similarity from which two sections pair whatever their bodies (a rewritten section)."""
_WORD = re.compile(r"\w+")
ALL_PAIRS = 250_000
"""Most pairs of sections (or sentences) all scored against each other; beyond, :func:`near`."""
ALL_PAIRS_ELEMENTS = 400_000_000
"""Most product of the two sides' total lengths (words, or characters) for scoring all pairs."""
_SCORED: dict[tuple[str, str], dict[tuple[str, str], float | None]] = {}
"""The score of each pair of sections (title and body of each) scored all against all lately,
by old section then new one, ``None`` below :data:`PAIR_CUTOFF`: the same sections recur in the
pairs of versions a site compares."""
_MOST_SCORED = 100_000
"""Most pairs kept in :data:`_SCORED` (it is emptied beyond)."""
_scored = 0
"""How many pairs :data:`_SCORED` holds."""


def pair(old: Sequence[Section], new: Sequence[Section]) -> dict[int, int]:
    """Map the index of each old section to the index of the new section it became.

    Identical sections pair first, then the rest by rapidfuzz similarity of their
    titles (without numbering) and the words of their bodies, most similar first;
    sections with the same title pair even when their bodies were rewritten.
    """
    pairs: dict[int, int] = {}
    if old and new and old[0].level == 0 and new[0].level == 0:
        pairs[0] = 0
    by_text: dict[str, list[int]] = {}
    for section in new:
        if section.index not in pairs.values():
            by_text.setdefault(section.text, []).append(section.index)
    for section in old:
        if section.index not in pairs and by_text.get(section.text):
            pairs[section.index] = by_text[section.text].pop(0)
    rest_old = [s for s in old if s.index not in pairs and s.level]
    taken = set(pairs.values())
    rest_new = [s for s in new if s.index not in taken and s.level]
    if rest_old and rest_new:
        pairs.update(_fuzzy(rest_old, rest_new, len(old), len(new)))
    return pairs


def _fuzzy(old: list[Section], new: list[Section], old_total: int, new_total: int) -> dict[int, int]:
    scores = _scores(old, new)
    candidates = sorted(scores, key=lambda rc: (
        -scores[rc], abs(old[rc[0]].index / old_total - new[rc[1]].index / new_total)))
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for row, col in candidates:
        if old[row].index not in pairs and col not in used:
            pairs[old[row].index] = new[col].index
            used.add(col)
    return pairs


def _scores(old: list[Section], new: list[Section]) -> dict[tuple[int, int], float]:
    """The combined similarity of each pair ``(row, col)`` of ``old`` and ``new`` sections that
    reaches :data:`PAIR_CUTOFF`. All pairs are scored when that is quick (those not scored
    lately, see :data:`_SCORED`); otherwise the pairs :func:`near` each other and those of the
    same title, so that the work stays proportional to the text's length."""
    from rapidfuzz import fuzz  # here: importing terms stays quick

    old_words, new_words = [_words(s) for s in old], [_words(s) for s in new]
    old_titles, new_titles = [_title(s) for s in old], [_title(s) for s in new]
    if (len(old) * len(new) > ALL_PAIRS
            or sum(map(len, old_words)) * sum(map(len, new_words)) > ALL_PAIRS_ELEMENTS):
        by_title: dict[str, list[int]] = {}
        for col, title in enumerate(new_titles):
            by_title.setdefault(title, []).append(col)
        scored: dict[tuple[int, int], float] = {}
        same_title = ((row, col) for row, name in enumerate(old_titles) for col in by_title.get(name, ()))
        for row, col in {*near(len(old), len(new)), *same_title}:
            alike = fuzz.ratio(old_titles[row], new_titles[col])
            if not old[row].body.strip() and not new[col].body.strip():
                score = alike
            else:
                body = 100 * similarity(old_words[row], new_words[col]) if (
                    len(old_words[row]) * len(new_words[col]) > ALL_PAIRS_ELEMENTS // 100
                ) else fuzz.ratio(old_words[row], new_words[col])
                score = _TITLE_WEIGHT * alike + (1 - _TITLE_WEIGHT) * body
            score = max(score, PAIR_CUTOFF) if alike >= _SAME_TITLE else score
            if score >= PAIR_CUTOFF:
                scored[row, col] = score
        return scored
    global _scored
    olds, news = [(s.title, s.body) for s in old], [(s.title, s.body) for s in new]
    if _scored > _MOST_SCORED:
        _SCORED.clear()
        _scored = 0
    wanted = set(news)
    rows = [row for row, a in enumerate(olds) if not _SCORED.get(a, {}).keys() >= wanted]
    blank = [not s.body.strip() for s in new] if rows else []
    for row in rows:  # scored each pair alone, as though all were scored at once
        titles = ratios(old_titles[row], new_titles)
        bodies = ratios(old_words[row], new_words, cutoff=PAIR_CUTOFF - 100 * _TITLE_WEIGHT)
        empty = not old[row].body.strip()
        known = _SCORED.setdefault(olds[row], {})
        _scored -= len(known)
        for b, named, worded, no_body in zip(news, titles, bodies, blank, strict=True):
            score = named if empty and no_body else _TITLE_WEIGHT * named + (1 - _TITLE_WEIGHT) * worded
            score = max(score, PAIR_CUTOFF) if named >= _SAME_TITLE else score
            known[b] = score if score >= PAIR_CUTOFF else None
        _scored += len(known)
    return {(row, col): found for row, a in enumerate(olds)
            for col, found in enumerate(map(_SCORED[a].__getitem__, news)) if found is not None}


def near(n: int, m: int, band: int = 10) -> Iterator[tuple[int, int]]:
    """Pairs ``(i, j)`` of ``range(n)`` and ``range(m)`` whose relative places are close: for
    each ``i``, the ``j`` within ``band`` of ``i * m // n``. The candidates compared when
    there are too many pairs to compare them all.

    >>> list(near(2, 4, band=1))
    [(0, 0), (0, 1), (1, 1), (1, 2), (1, 3)]
    """
    for i in range(n):
        centre = i * m // n
        for j in range(max(0, centre - band), min(m, centre + band + 1)):
            yield i, j


def _words(section: Section) -> tuple[str, ...]:
    """The words of a section's body: comparing words rather than characters is both
    faster and blind to reflowed lines."""
    return _body_words(section.body)


@lru_cache(maxsize=2048)
def _body_words(body: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(body.lower()))


def _title(section: Section) -> str:
    return _title_words(section.title)


@lru_cache(maxsize=2048)
def _title_words(title: str) -> str:
    """A title as it is compared: without its number, in lower case, words apart (cached, as
    :func:`_body_words`)."""
    return heading_slug(title).replace("-", " ")


def in_place(pairs: dict[int, int]) -> set[int]:
    """The old indices of the pairs that kept their relative order (a longest increasing
    subsequence of new positions); the other pairs were moved."""
    order = sorted(pairs, key=pairs.__getitem__)
    tails: list[int] = []
    tail_at: list[int] = []
    before: dict[int, int | None] = {}
    for old_index in order:
        k = bisect_left(tails, old_index)
        before[old_index] = tail_at[k - 1] if k else None
        if k == len(tails):
            tails.append(old_index)
            tail_at.append(old_index)
        else:
            tails[k] = old_index
            tail_at[k] = old_index
    kept: set[int] = set()
    cursor = tail_at[-1] if tail_at else None
    while cursor is not None:
        kept.add(cursor)
        cursor = before[cursor]
    return kept
