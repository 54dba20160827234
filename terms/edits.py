"""Which sentences of two versions became which: those found in both (wherever they stand),
edits (sentences that kept half their words, read in order word by word, sentences split or
joined included; then those moved and edited), those added or removed whole; and the runs of
words each edit changed. Every step takes time near-linear in the length of the text."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from functools import lru_cache

from . import clauses
from .pairing import ALL_PAIRS, ALL_PAIRS_ELEMENTS, near
from .prose import Sentence
from .words import align, ratios, similarity

Edit = tuple[list[Sentence], list[Sentence]]
"""Old sentences and the new ones they became."""
Run = tuple[tuple[str, ...], tuple[str, ...], bool]
"""Words replaced (old, new, as written) and whether all of them are contact details."""
COMMON = clauses.FUNCTION_WORDS | frozenset("and or of to in for on with by is are be as at from".split())
"""Words too common to tie a sentence to another."""
_LINKED = 0.5
"""Share of the content words of the shorter of two sentences they must have in common, in
order, for one to be an edit of the other."""
_SENTENCE_CUTOFF = 60.0
"""Least rapidfuzz ``ratio`` for a sentence moved and edited to pair with what it was."""
_WORD = re.compile(r"\w+")
_CHARACTER_PAIRS = 4_000_000
"""Most product of two sentences' lengths compared by characters; longer ones by words."""
_LONG = 20_000
"""Characters of an edited passage (both versions) beyond which only the text around its
changes is read for what they changed."""
_NEAR = 80
"""Characters either side of a run of words searched for contact details, and kept around it."""


def unmatched(old: list[Sentence], new: list[Sentence]) -> tuple[list[Sentence], list[Sentence]]:
    """The sentences of ``old`` and of ``new`` left once each is matched with one of the same
    words on the other side, wherever it stands."""
    def left(these: list[Sentence], keys: list[str], others: list[str]) -> list[Sentence]:
        count = Counter(others)
        found = []
        for sentence, key in zip(these, keys, strict=True):
            if count[key]:
                count[key] -= 1
            else:
                found.append(sentence)
        return found

    # The words of each sentence as one string, whose hash Python keeps: a tuple's is computed
    # again at each look-up. Words hold no "\0".
    old_keys, new_keys = ["\0".join(s.words) for s in old], ["\0".join(s.words) for s in new]
    return left(old, old_keys, new_keys), left(new, new_keys, old_keys)


def group(old: list[Sentence], new: list[Sentence]) -> tuple[list[Edit], list[Sentence], list[Sentence]]:
    """Group the sentences left on each side into edits (old sentences and the new ones they
    became, read in order word by word; then those moved and edited), and those left over."""
    old_words = [w for s in old for w in s.words]
    old_of = [n for n, s in enumerate(old) for _ in s.words]
    new_of = [n for n, s in enumerate(new) for _ in s.words]
    shared: Counter[tuple[int, int]] = Counter()  # content words kept, by pair of sentences
    for tag, i1, i2, j1, _ in align(old_words, [w for s in new for w in s.words]):
        if tag == "equal":
            shared.update((old_of[i], new_of[i - i1 + j1]) for i in range(i1, i2)
                          if old_words[i] not in COMMON and not old_words[i].isdigit())
    group = list(range(len(old) + len(new)))

    def root(n: int) -> int:
        while group[n] != n:
            group[n] = group[group[n]]
            n = group[n]
        return n

    for (i, j), count in sorted(shared.items()):
        if count >= _LINKED * min(_content_count(old[i]), _content_count(new[j])):
            group[root(i)] = root(len(old) + j)
    members: dict[int, tuple[list[Sentence], list[Sentence]]] = {}
    for n, sentence in enumerate(old + new):
        members.setdefault(root(n), ([], []))[n >= len(old)].append(sentence)
    edits = [pair for pair in members.values() if pair[0] and pair[1]]
    lone_old = [s for before, after in members.values() if not after for s in before]
    lone_new = [s for before, after in members.values() if not before for s in after]
    moved, lone_old, lone_new = _moved(lone_old, lone_new)
    return edits + moved, lone_old, lone_new


def _moved(old: list[Sentence], new: list[Sentence]) -> tuple[list[Edit], list[Sentence], list[Sentence]]:
    """Pair sentences moved and edited (rapidfuzz ``ratio``), most similar first."""
    if not old or not new:
        return [], old, new
    if (len(old) * len(new) > ALL_PAIRS
            or sum(len(s.text) for s in old) * sum(len(s.text) for s in new) > ALL_PAIRS_ELEMENTS):
        scored = [(_similarity(old[i], new[j]), i, j) for i, j in near(len(old), len(new))]
    else:
        texts = [s.text for s in new]
        scored = [(score, i, j) for i, s in enumerate(old)
                  for j, score in enumerate(ratios(s.text, texts, cutoff=_SENTENCE_CUTOFF)) if score]
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for score, i, j in sorted(scored, reverse=True):
        if score >= _SENTENCE_CUTOFF and i not in pairs and j not in taken:
            pairs[i] = j
            taken.add(j)
    edits = [([old[i]], [new[j]]) for i, j in sorted(pairs.items(), key=lambda ij: ij[1])]
    left_old = [s for i, s in enumerate(old) if i not in pairs]
    return edits, left_old, [s for j, s in enumerate(new) if j not in taken]


def _similarity(old: Sentence, new: Sentence) -> float:
    """How alike two sentences are, 0-100: rapidfuzz ``ratio`` of their characters, or of their
    words when they are too long for that to be quick."""
    from rapidfuzz import fuzz  # here: importing terms stays quick

    if len(old.text) * len(new.text) > _CHARACTER_PAIRS:
        return 100 * similarity(old.words, new.words)
    return fuzz.ratio(old.text, new.text)


@lru_cache(maxsize=2048)
def runs(old: str, new: str) -> tuple[tuple[Run, ...], str, str]:
    """The runs of words that differ between two texts, as written: ``(old words, new words,
    contact)``, ``contact`` when every word of the run is part of contact details; and the two
    texts, cut down to the words around the runs when they are longer than :data:`_LONG`
    (what did not change around a change is not read again)."""
    old_matches, new_matches = list(_WORD.finditer(old)), list(_WORD.finditer(new))
    old_words, new_words = _WORD.findall(old), _WORD.findall(new)  # the matches' words, quicker
    found: list[Run] = []
    old_spans, new_spans = [], []
    for tag, i1, i2, j1, j2 in align(list(map(str.lower, old_words)), list(map(str.lower, new_words))):
        if tag != "equal":
            found.append((tuple(old_words[i1:i2]), tuple(new_words[j1:j2]),
                          _contact(old, old_matches[i1:i2]) and _contact(new, new_matches[j1:j2])))
            old_spans.append(_span(old_matches, i1, i2))
            new_spans.append(_span(new_matches, j1, j2))
    if len(old) + len(new) <= _LONG:
        return tuple(found), old, new
    return tuple(found), _excerpt(old, old_spans), _excerpt(new, new_spans)


def _span(matches: list[re.Match[str]], start: int, end: int) -> tuple[int, int]:
    """Where the words ``matches[start:end]`` stand (where they would, when there are none)."""
    if start < end:
        return matches[start].start(), matches[end - 1].end()
    at = matches[start - 1].end() if start else 0
    return at, at


def _excerpt(text: str, spans: list[tuple[int, int]]) -> str:
    """The parts of ``text`` around ``spans`` (:data:`_NEAR` characters either side), joined by " … "."""
    parts: list[list[int]] = []
    for a, b in sorted(spans):
        a, b = max(0, a - _NEAR), min(len(text), b + _NEAR)
        if parts and a <= parts[-1][1]:
            parts[-1][1] = max(parts[-1][1], b)
        else:
            parts.append([a, b])
    return " … ".join(text[a:b] for a, b in parts)


def _contact(text: str, words: list[re.Match[str]]) -> bool:
    """True if each of ``words`` of ``text`` is part of contact details (searched for around
    them only, so that a long text costs no more than its changes)."""
    if not words:
        return True
    start, end = max(0, words[0].start() - _NEAR), words[-1].end() + _NEAR
    spans = sorted((a + start, b + start) for a, b in clauses.spans(text[start:end]))
    covered: list[tuple[int, int]] = []  # the spans merged, in order
    reach = -1
    for a, b in spans:
        if covered and a <= reach:
            covered[-1] = (covered[-1][0], max(reach, b))
        else:
            covered.append((a, b))
        reach = max(reach, b)
    starts = [a for a, _ in covered]
    for word in words:
        at = bisect_right(starts, word.start()) - 1
        if at < 0 or covered[at][1] < word.end():
            return False
    return True


@lru_cache(maxsize=8192)
def _content_count(sentence: Sentence) -> int:
    """The words of ``sentence`` that tie it to another (cached: counted for each sentence it
    shares words with, in each version it is compared with)."""
    return max(1, sum(w not in COMMON and not w.isdigit() for w in sentence.words))
