"""The materiality verdict: how likely a change is to matter to users, and why.

Each finding carries a weight in [0, 1]; the score is ``1 - prod(1 - weight)`` and the
change is material when the score reaches :data:`THRESHOLD`. Cosmetic edits (typos,
whitespace, reflowed lines, heading or list renumbering, moved sections, link targets)
produce no finding, because the analysis compares the *prose* of each section.

Sentences are compared one by one. A removed and an added sentence are one edited sentence
when they are similar (rapidfuzz ``ratio``), or when one is nearly contained in the other
(``partial_ratio``), as when a clause is appended; the quantities of an edited sentence are
compared, and a clause changed beside them is noted as well.

An edited sentence that mentions a watched term is a finding unless each replaced run of
words is

- cosmetic: typo-sized (rapidfuzz ratio of at least 75), a number written as a word, the same
  quantity written otherwise (``2 years`` -> ``24 months``), or articles and other function
  words only (``the`` -> ``these``); or
- a paraphrase: at most 3 words replaced by at most 3 words, with the same watched terms and
  no scope word (``not``, ``only``, ``may``…) among them — except in a sentence about
  personal data or sharing, where the replaced words may name who receives the data or why
  (``with our partners`` -> ``with advertisers``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from .markdown import heading_slug
from .pairing import ALL_PAIRS, ALL_PAIRS_ELEMENTS, near
from .quantities import Quantity, compare_quantities, digits, quantities
from .sections import Section
from .words import align, count_words, word_diff
from .words import similarity as word_similarity

THRESHOLD = 0.5
"""Score from which a change is material."""
LOW_SIMILARITY = 0.5
"""Word similarity of a matched section below which it counts as rewritten."""

DEFAULT_WATCH: tuple[str, ...] = (
    r"liab(?:le|ility|ilities)", r"indemni\w*", r"warrant(?:y|ies)", r"arbitrat\w*",
    r"class[- ]actions?", r"fees?", r"pric(?:e|es|ing)", r"charg(?:e|es|ed)", r"payments?",
    r"refund\w*", r"cancel\w*", r"terminat\w*", r"suspen(?:d|ds|ded|sion)",
    r"personal (?:data|information)", r"data", r"shar(?:e|es|ed|ing)", r"sell(?:s|ing)?", r"sold",
    r"third[- ]part(?:y|ies)", r"jurisdiction", r"governing law", r"venue", r"ages?", r"minors?",
    r"rights?", r"waive\w*", r"consent\w*", r"licen[cs]\w*", r"renew\w*", r"retain\w*", r"retention",
    r"delet(?:e|es|ed|ion)", r"you (?:may|can|have the right)", r"we will",
)
"""Terms whose sentences matter: case-insensitive regular expressions matched as whole words."""

_WEIGHTS = {"section": 0.7, "empty section": 0.25, "rewritten": 0.6, "quantity": 0.7,
            "watch": 0.6, "quantity sentence": 0.4, "renamed": 0.15, "clause": 0.3}
_SENTENCE_CUTOFF = 60.0
_CONTAINED = 90.0
"""Least ``partial_ratio`` for a sentence nearly contained in a longer one to be its edit."""
_CONTAINED_LENGTH = 40
"""Fewest characters of the shorter sentence for containment to count (short ones match anywhere)."""
_CHARACTER_PAIRS = 4_000_000
"""Most product of two sentences' lengths compared by characters; longer ones by words."""
_TYPO = 75.0
_TYPO_WORDS = 6
"""Most words, both sides together, that a typo-sized edit replaces."""
_REWORDING = 3
"""Most words a rewording may replace on either side."""
_SCOPE_WORDS = frozenset(
    "not no never nor none neither without unless except only may might must shall should will would "
    "can cannot could all any some every each always full half part partial whole more less fewer "
    "most least before after longer shorter".split())
"""Words that change what a sentence allows, requires or covers: never part of a rewording."""
_FUNCTION_WORDS = frozenset("a an the this that these those which who whom".split())
"""Words whose change alone is cosmetic (pronouns name parties, "and"/"or" change scope)."""
_DATA = re.compile(r"\b(?:personal (?:data|information)|data|shar(?:e|es|ed|ing)|sell(?:s|ing)?|sold"
                   r"|third[- ]part(?:y|ies))\b", re.IGNORECASE)
"""Watched terms of sentences about personal data or sharing, which allow no paraphrase."""
_WORDS = re.compile(r"\w+")
_NEAR = 300
"""Characters either side of a quantity searched for the watched noun it is about."""
_MODAL = re.compile(r"(?:you|we)\s", re.IGNORECASE)
_CROSS_REFERENCE = re.compile(r"\b(?:section|clause|article|paragraph|§)\s*\d+(?:\.\d+)*", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """One reason a change may be material."""

    weight: float
    reason: str


@dataclass(frozen=True)
class Verdict:
    """The analysis of a change: a score in [0, 1], the verdict and its reasons."""

    score: float
    material: bool
    reasons: tuple[str, ...]


def watch_pattern(watch: Iterable[str] = ()) -> re.Pattern[str]:
    """One regular expression for :data:`DEFAULT_WATCH` plus ``watch``.

    Each extra term is a regular expression; one that does not compile is taken literally.
    """
    terms = list(DEFAULT_WATCH)
    for term in watch:
        try:
            re.compile(term)
        except re.error:
            term = re.escape(term)
        terms.append(term)
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{t})" for t in terms) + r")(?!\w)", re.IGNORECASE)


def assess(pairs: Sequence[tuple[Section | None, Section | None]], watch: Iterable[str] = ()) -> Verdict:
    """The verdict on a change given as pairs of (old, new) sections, ``None`` where absent."""
    pattern = watch_pattern(watch)
    findings: list[Finding] = []
    for old, new in pairs:
        if old is None or new is None:
            findings.append(_added_or_removed(old or new, pattern, added=old is None))
        elif old.text != new.text:
            findings.extend(_modified(old.title, old.body, new.title, new.body, pattern))
    score = 1.0
    for finding in findings:
        score *= 1 - finding.weight
    score = round(1 - score, 4)
    return Verdict(score, score >= THRESHOLD, tuple(f.reason for f in findings))


def _added_or_removed(section: Section, pattern: re.Pattern[str], added: bool) -> Finding:
    name = section.title or "(untitled opening)"
    reason = f"section {'added' if added else 'removed'}: '{name}'"
    prose = " ".join(_sentences(section.body))
    terms = sorted({m.group(0).lower() for m in pattern.finditer(prose)})
    if terms:
        reason += " (mentions " + ", ".join(f"'{t}'" for t in terms[:5]) + ")"
    return Finding(_WEIGHTS["section" if prose else "empty section"], reason)


@lru_cache(maxsize=1024)
def _modified(old_title: str, old_body: str, new_title: str, new_body: str,
              pattern: re.Pattern[str]) -> tuple[Finding, ...]:
    """Findings for a section whose text changed (cached, like the helpers below: a site
    compares every version with the one in force, so the same edits recur across pairs)."""
    name = new_title or "(untitled opening)"
    findings = []
    if heading_slug(old_title) != heading_slug(new_title):
        findings.append(Finding(_WEIGHTS["renamed"], f"heading renamed: '{old_title}' -> '{new_title}'"))
    old_sentences, new_sentences = _sentences(old_body), _sentences(new_body)
    old_words = _WORDS.findall(" ".join(old_sentences).lower())
    new_words = _WORDS.findall(" ".join(new_sentences).lower())
    similarity = word_similarity(old_words, new_words)
    if old_words and new_words and similarity < LOW_SIMILARITY:
        findings.append(Finding(_WEIGHTS["rewritten"],
                                f"section '{name}' largely rewritten ({similarity:.0%} similar)"))
    removed, added = _unmatched(old_sentences, new_sentences)
    changed, removed, added = _pair_sentences(removed, added)
    minor = Counter()
    for before, after in changed:
        found = _changed_sentence(before, after, name, pattern)
        if found is None:
            minor["changed"] += 0 if _cosmetic(before, after) else 1
        else:
            findings.extend(found)
    for sentence in removed:
        minor["removed"] += _lone_sentence(sentence, "removed", name, pattern, findings)
    for sentence in added:
        minor["added"] += _lone_sentence(sentence, "added", name, pattern, findings)
    if sum(minor.values()):
        counts = ", ".join(f"{n} sentence{'s' * (n > 1)} {what}" for what, n in minor.items() if n)
        findings.append(Finding(min(0.4, 0.1 * sum(minor.values())), f"section '{name}': {counts}"))
    return tuple(findings)


@lru_cache(maxsize=4096)
def _changed_sentence(before: str, after: str, name: str,
                      pattern: re.Pattern[str]) -> tuple[Finding, ...] | None:
    """Findings for a sentence that was edited; ``None`` when it names no quantity or watched term."""
    term = _term(after, pattern) or _term(before, pattern)
    old_amounts, new_amounts = quantities(before, bare=bool(term)), quantities(after, bare=bool(term))
    moved = compare_quantities(old_amounts, new_amounts)
    masked = _masked(before, old_amounts), _masked(after, new_amounts)
    if moved:
        return tuple(Finding(_WEIGHTS["quantity"], f"{_subject(quantity, before, after, pattern)}{change} "
                                                   f"in section '{name}'") for quantity, change in moved
                     ) + _clause(*masked, after, name)
    if term and not _cosmetic(*masked) and not _reworded(before, after, pattern):
        return (Finding(_WEIGHTS["watch"],
                        f"sentence mentioning {term} changed in section '{name}': {_quote(after)}"),)
    return None


def _masked(sentence: str, amounts: list[Quantity]) -> str:
    """``sentence`` with each of its quantities replaced by ``#``."""
    parts, at = [], 0
    for quantity in amounts:
        found = sentence.find(quantity.text, at)
        if found >= 0:
            parts.extend((sentence[at:found], "#"))
            at = found + len(quantity.text)
    return "".join(parts) + sentence[at:]


def _clause(before: str, after: str, sentence: str, name: str) -> tuple[Finding, ...]:
    """A note when a sentence whose quantities changed also gained, lost or reworded more than
    a few words (the few that introduce a new quantity, "first on" a date, are not noted)."""
    ops = [op for op in word_diff(before, after) if op.tag != "equal"]
    added = " … ".join(op.new.strip(" .,;:") for op in ops if count_words(op.new))
    removed = " … ".join(op.old.strip(" .,;:") for op in ops if count_words(op.old))
    if count_words(added) + count_words(removed) <= _REWORDING:
        return ()
    verb, quoted = ("reworded", sentence) if added and removed else (
        ("extended", added) if added else ("cut", removed))
    return (Finding(_WEIGHTS["clause"], f"same sentence also {verb} in section '{name}': {_quote(quoted)}"),)


def _lone_sentence(sentence: str, what: str, name: str, pattern: re.Pattern[str],
                   findings: list[Finding]) -> int:
    """Add the finding for a sentence added or removed whole; return 1 if it is a minor one."""
    term = _term(sentence, pattern)
    if term:
        findings.append(Finding(_WEIGHTS["watch"],
                                f"sentence mentioning {term} {what} in section '{name}': {_quote(sentence)}"))
        return 0
    amounts: list[Quantity] = quantities(sentence)
    if amounts:
        findings.append(Finding(_WEIGHTS["quantity sentence"],
                                f"sentence with '{amounts[0].text}' {what} in section '{name}': "
                                f"{_quote(sentence)}"))
        return 0
    return 1


def _subject(quantity: Quantity, before: str, after: str, pattern: re.Pattern[str]) -> str:
    """The watched noun nearest to ``quantity`` in its sentence (within :data:`_NEAR`
    characters), with a space: ``"refund "``."""
    at = after.find(quantity.text)
    sentence = after if at >= 0 else before
    at = at if at >= 0 else before.find(quantity.text)
    if at < 0:
        return ""
    start = max(0, at - _NEAR)
    nouns = [m for m in pattern.finditer(sentence, start, at + _NEAR) if not _MODAL.match(m.group(0))]
    if not nouns:
        return ""
    return min(nouns, key=lambda m: abs(m.start() - at)).group(0).lower() + " "


def _term(sentence: str, pattern: re.Pattern[str]) -> str | None:
    """The first three distinct watched terms of ``sentence``, quoted: ``'refund', 'fee'``."""
    found = list(dict.fromkeys(m.group(0).lower() for m in pattern.finditer(sentence)))[:3]
    return ", ".join(f"'{t}'" for t in found) or None


@lru_cache(maxsize=4096)
def _cosmetic(before: str, after: str) -> bool:
    """True if two sentences differ only in case, punctuation, cross-reference numbers,
    numbers written as words, function words or typo-sized word edits."""
    for old, new in _replaced(_words(before), _words(after)):
        if _FUNCTION_WORDS.issuperset(old + new):
            continue
        if (not old or not new or len(old) + len(new) > _TYPO_WORDS
                or fuzz.ratio(" ".join(old), " ".join(new)) < _TYPO or any(c.isdigit() for c in "".join(old + new))):
            return False
    return True


def _reworded(before: str, after: str, pattern: re.Pattern[str]) -> bool:
    """True if ``after`` rewords ``before`` slightly: the same watched terms, and only a few
    words replaced (none added or dropped), none of them a word like "not", "only" or "may";
    never in a sentence about personal data or sharing."""
    if _DATA.search(before) or Counter(m.group(0).lower() for m in pattern.finditer(before)) != Counter(
            m.group(0).lower() for m in pattern.finditer(after)):
        return False
    edits = _replaced(_words(before), _words(after))
    changed = [word for old, new in edits for word in old + new]
    return (all(old and new for old, new in edits) and not _SCOPE_WORDS.intersection(changed)
            and all(len(old) <= _REWORDING and len(new) <= _REWORDING for old, new in edits))


@lru_cache(maxsize=4096)
def _words(sentence: str) -> tuple[str, ...]:
    """The words of a sentence, lower case, number words as digits, cross-references left out."""
    return tuple(_WORDS.findall(digits(_CROSS_REFERENCE.sub("", sentence)).lower()))


@lru_cache(maxsize=256)
def _replaced(a: tuple[str, ...], b: tuple[str, ...]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The runs of words that differ between ``a`` and ``b``, as (old, new) pairs."""
    return [(a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in align(a, b) if tag != "equal"]


def _unmatched(old: Sequence[str], new: Sequence[str]) -> tuple[list[str], list[str]]:
    """Sentences only in ``old`` and only in ``new`` (compared without case), in order."""
    return _only_in(old, new), _only_in(new, old)


def _only_in(these: Sequence[str], others: Sequence[str]) -> list[str]:
    """The sentences of ``these`` left over once each is matched with one equal sentence
    (without case) of ``others``, in order."""
    left = Counter(s.lower() for s in others)
    found = []
    for sentence in these:
        if left[sentence.lower()]:
            left[sentence.lower()] -= 1
        else:
            found.append(sentence)
    return found


def _pair_sentences(removed: list[str],
                    added: list[str]) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Pair removed and added sentences that are edits of each other, most similar first."""
    if not removed or not added:
        return [], removed, added
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, j in sorted(_similar(removed, added), reverse=True):
        if i not in pairs and j not in taken:
            pairs[i] = j
            taken.add(j)
    changed = [(removed[i], added[j]) for i, j in sorted(pairs.items(), key=lambda ij: ij[1])]
    return (changed, [s for i, s in enumerate(removed) if i not in pairs],
            [s for j, s in enumerate(added) if j not in taken])


def _similar(removed: list[str], added: list[str]) -> list[tuple[float, int, int]]:
    """``(score, i, j)`` for each removed sentence ``i`` and added sentence ``j`` similar
    enough to be an edit of each other. All pairs are scored when that is quick; otherwise
    each removed sentence is compared with the added ones near the same relative place
    (:func:`terms.pairing.near`), so that the work stays proportional to the text's length."""
    if (len(removed) * len(added) > ALL_PAIRS
            or sum(map(len, removed)) * sum(map(len, added)) > ALL_PAIRS_ELEMENTS):
        scored = ((_similarity(removed[i], added[j]), i, j) for i, j in near(len(removed), len(added)))
        return [(score, i, j) for score, i, j in scored if score >= _SENTENCE_CUTOFF]
    scores = process.cdist(removed, added, scorer=fuzz.ratio, score_cutoff=_SENTENCE_CUTOFF)
    # partial_ratio pairs a sentence nearly contained in a longer one (a clause appended or cut).
    # Only where one is 1.5 times as long can ratio miss such a pair: elsewhere it is at least
    # about 2 / 2.5 of partial_ratio, above the cutoff.
    old_lengths, new_lengths = np.array([len(s) for s in removed]), np.array([len(s) for s in added])
    shorter, longer = np.minimum.outer(old_lengths, new_lengths), np.maximum.outer(old_lengths, new_lengths)
    for i, j in zip(*np.nonzero((shorter >= _CONTAINED_LENGTH) & (longer >= 1.5 * shorter))):
        scores[i, j] = max(scores[i, j], fuzz.partial_ratio(removed[i], added[j], score_cutoff=_CONTAINED))
    rows, cols = np.nonzero(scores >= _SENTENCE_CUTOFF)
    return [(float(scores[i, j]), int(i), int(j)) for i, j in zip(rows, cols)]


def _similarity(before: str, after: str) -> float:
    """How alike two sentences are, 0-100, as :func:`_similar` scores them one pair at a time:
    by characters (and containment), or by words for sentences too long for that to be quick."""
    if len(before) * len(after) > _CHARACTER_PAIRS:
        return 100 * word_similarity(_WORDS.findall(before.lower()), _WORDS.findall(after.lower()))
    score = fuzz.ratio(before, after)
    shorter, longer = sorted((len(before), len(after)))
    if shorter >= _CONTAINED_LENGTH and longer >= 1.5 * shorter:
        score = max(score, fuzz.partial_ratio(before, after, score_cutoff=_CONTAINED))
    return score


_LINK_TARGET = re.compile(r"\]\((?:[^()]|\([^()]*\))*\)|\]\[[^\]]*\]")
_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:.*$", re.MULTILINE)
_URL = re.compile(r"<?(?:https?|mailto):[^\s>)]+>?|<[^<>\s@]+@[^<>\s]+>")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_MARKUP = re.compile(r"[*_`#>|~\[\]]+|^ *(?:[-+*]|\d+[.)]) +|^[ =:-]+$", re.MULTILINE)
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?= *(?:[-+*]|\d+[.)]) )")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")


@lru_cache(maxsize=2048)
def _sentences(body: str) -> tuple[str, ...]:
    """The sentences of a section body as prose: markup, link targets, URLs, list markers
    and line breaks removed, whitespace collapsed.

    >>> _sentences("Read [this](https://a.example/v2).\\nRefunds take\\n14 days.\\n\\n1. Call us!")
    ('Read this.', 'Refunds take 14 days.', 'Call us!')
    """
    found = []
    for paragraph in _PARAGRAPH.split(_DEFINITION.sub("", _uncommented(body))):
        text = " ".join(_prose(paragraph).split())
        found.extend(s for s in _SENTENCE.split(text) if _WORDS.search(s))
    return tuple(found)


def _uncommented(text: str) -> str:
    """``text`` without its HTML comments (one left open is kept), in one pass."""
    parts, at = [], 0
    while (start := text.find("<!--", at)) >= 0 and (end := text.find("-->", start + 4)) >= 0:
        parts.append(text[at:start])
        at = end + 3
    return "".join(parts) + text[at:]


def _prose(text: str) -> str:
    text = _URL.sub("", _LINK_TARGET.sub("]", text))
    return _MARKUP.sub("", _HTML_TAG.sub("", text))


def _quote(sentence: str, limit: int = 100) -> str:
    return '"' + (sentence if len(sentence) <= limit else sentence[:limit - 1].rstrip() + "…") + '"'
