"""The materiality verdict: whether a change alters what users agreed to, how sure the
analysis is, why, and a summary in plain words.

The analysis reads the two versions as a lawyer does (:mod:`terms.clauses`). Sentences found
in both versions are unchanged wherever they stand, so moving text, splitting it into sections
or re-rendering its markup changes nothing. The rest is read word by word, in order: a
sentence that kept half its words is an edit of the one it came from (sentences split or
joined included), and what the edit changed is weighed; sentences left over were added or
removed whole. Each finding carries a weight in [0, 1]; the score is ``1 - prod(1 - weight)``
and the change is material when the score reaches :data:`THRESHOLD`. The confidence is
``high`` when the evidence is clear either way, ``low`` when it is thin or mixed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from . import clauses, edits, prose
from .analysis import Memo, recall
from .markdown import heading_slug
from .prose import Sentence, sentences
from .quantities import Shift, compare_quantities, quantities
from .sections import Section

THRESHOLD = 0.5
"""Score from which a change is material."""

DEFAULT_WATCH: tuple[str, ...] = (
    r"liab(?:le|ility|ilities)", r"indemni\w*", r"warrant(?:y|ies)", r"arbitrat\w*",
    r"class[- ]actions?", r"disputes?", r"complaints?", r"courts?", r"fees?", r"pric(?:e|es|ing)",
    r"charg(?:e|es|ed)",
    r"payments?", r"funds", r"debits?", r"refund\w*", r"cancel\w*", r"terminat\w*",
    r"suspen(?:d|ds|ded|sion)", r"subscriptions?", r"trials?", r"personal (?:data|information)", r"data",
    r"collect(?:s|ed|ing|ion)?", r"shar(?:e|es|ed|ing)", r"sell(?:s|ing)?", r"sold", r"disclos\w*",
    r"third[- ]part(?:y|ies)", r"affiliates?", r"advertis\w*", r"ads", r"tracking", r"location",
    r"artificial intelligence", r"AI", r"jurisdiction", r"governing law", r"venue", r"ages?", r"minors?",
    r"children", r"eligib\w*", r"rights?", r"waive\w*", r"consent\w*", r"licen[cs]\w*", r"renew\w*",
    r"retain\w*", r"retention", r"delet(?:e|es|ed|ion)", r"(?:your|user) content",
)
"""Subjects whose clauses matter: case-insensitive regular expressions matched as whole words."""

_MANY = 50
"""Sentences added or removed beyond which unchanged sections are read sentence by sentence
to find repeats (rather than searched for each)."""
_MINOR = 0.1
"""Weight of a sentence changed, added or removed that bears no obligation or subject."""
_NAME_WORDS = 5
"""Most words of a name (a party or place) in a run of replaced words."""
_NEAR = 80
"""Characters either side of a replaced name searched for the clause it is in (its role)."""
_TALLY = {"metadata": "the document's date or version", "navigation": "navigation links",
          "contact": "contact details", "statistics": "reported figures",
          "instruction": "instructions on how to do things", "chrome": "page layout",
          "label": "names and labels",
          "heading": "headings", "duplicate": "repeated text", "acceptance": "how the terms are accepted",
          "names": "how parties or documents are named", "wording": "wording"}
"""What each kind of presentation change is called in a summary."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """One reason a change may be material."""

    weight: float
    reason: str
    """Why, in words a visitor understands, quoting the text where it helps."""
    summary: str = ""
    """A short sentence for :attr:`Verdict.summary` (``""``: none)."""
    clear: bool = False
    """Clear evidence: a quantity, an obligation or a party changed, or one added or removed."""
    kind: str = "wording"
    """What changed, in the terms of a summary of a change that is not material (:data:`_TALLY`)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    """The analysis of a change."""

    score: float
    """How likely the change is to be material, in [0, 1]."""
    material: bool
    confidence: str
    """``high`` when the evidence is clear either way, ``low`` when it is thin or mixed."""
    reasons: tuple[str, ...]
    summary: str
    """One to three short sentences on what changed (``""`` for no change)."""


def watch_pattern(watch: Iterable[str] = ()) -> re.Pattern[str]:
    """One regular expression for :data:`DEFAULT_WATCH` plus ``watch``.

    Each extra term is a regular expression; one that does not compile is taken literally.
    """
    return _terms(DEFAULT_WATCH + tuple(watch))


@lru_cache(maxsize=64)
def _terms(terms: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression matching any of ``terms`` as whole words, without case (cached:
    a site compares many versions with the same watch list)."""
    checked = []
    for term in terms:
        if term not in DEFAULT_WATCH:  # those compile: not compiled alone for nothing
            try:
                re.compile(term)
            except re.error:
                term = re.escape(term)
        checked.append(term)
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{t})" for t in checked) + r")(?!\w)", re.IGNORECASE)


def assess(pairs: Sequence[tuple[Section | None, Section | None]], watch: Iterable[str] = (),
           memo: Memo | None = None) -> Verdict:
    """The verdict on a change given as pairs of (old, new) sections, ``None`` where absent;
    what is found in sections and sentences kept in ``memo`` (see :class:`terms.analysis.Memo`)."""
    watch = tuple(watch)
    reading = _Reading(pairs, watch_pattern(watch), _terms(watch) if watch else None, memo)
    findings = reading.findings()
    score = 1.0
    for finding in findings:
        score *= 1 - finding.weight
    score = round(1 - score, 4)
    material = score >= THRESHOLD
    clear = any(f.clear for f in findings)
    confidence = "high" if (material and clear) or score < 0.3 else "low"
    return Verdict(score=score, material=material, confidence=confidence,
                   reasons=tuple(f.reason for f in findings), summary=reading.summary(findings, material))


_Read = tuple[tuple[Finding, ...], tuple[tuple[str, ...], ...]]
"""Findings, and notes for the summary: ``("tally", kind)`` for presentation, ``("minor",
section, what)`` for a sentence that bears nothing."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Edit:
    """Sentences edited into others, and the runs of words replaced that are not presentation."""

    name: str
    """The section's name, for reasons."""
    before: list[Sentence]
    after: list[Sentence]
    old_text: str
    new_text: str
    """The two texts (cut down to what is around the changes, for very long ones)."""
    substantive: list[tuple[tuple[str, ...], tuple[str, ...]]]

    @property
    def quote(self) -> str:
        return _quote(self.new_text)

    def where(self, run: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
        """The sentence in which the run of words ``run`` changed, quoted."""
        words, sentences = (run[1], self.after) if run[1] else (run[0], self.before)
        wanted = tuple(w.lower() for w in words)
        for sentence in sentences:
            have = sentence.words
            if any(have[i:i + len(wanted)] == wanted for i in range(len(have) - len(wanted) + 1)):
                return _quote(sentence.text)
        return _quote(sentences[0].text)


class _Reading:
    """The sentences of two versions, matched, paired and weighed."""

    def __init__(self, pairs: Sequence[tuple[Section | None, Section | None]], pattern: re.Pattern[str],
                 extra: re.Pattern[str] | None, memo: Memo | None = None):
        self.pattern = pattern
        self.memo = memo
        self.added = {new.title for old, new in pairs if old is None and new is not None}
        self.removed = {old.title for old, new in pairs if new is None and old is not None}
        olds = sorted((old for old, _ in pairs if old is not None), key=lambda s: s.index)
        # A section whose text is the same in both versions has the same sentences: only the
        # others are read (their sentences may have moved between them).
        changed = [(old, new) for old, new in pairs if old is None or new is None or old.text != new.text]
        self.same = [new for old, new in pairs
                     if old is not None and new is not None and old.text == new.text]
        self.changed = [(self._sentences(old.title, old.body) if old else (),
                         self._sentences(new.title, new.body) if new else ()) for old, new in changed]
        """The sentences of each pair of sections that changed, in the new version's order."""
        read_old = {old.index: before for (old, _), (before, _) in zip(changed, self.changed, strict=True)
                    if old is not None}
        self.old = [s for index in sorted(read_old) for s in read_old[index]]
        self.new = [s for _, after in self.changed for s in after]
        defined = self._definitions([s.heading + s.body for s in olds])
        self.reader = _Reader(pattern, extra, defined)
        self._read_by = (pattern.pattern, extra.pattern if extra else None, tuple(sorted(defined)))
        """What tells readers apart, in the memo."""
        self.tally: Counter[str] = Counter()
        self.minor: Counter[tuple[str, str]] = Counter()
        self._same_words: str | None = None
        """The words of the unchanged sections, once needed, for finding repeated sentences."""
        # a section added or removed whose only sentence is its heading
        self.empty = [(section.title, old is None) for (old, new), (before, after)
                      in zip(changed, self.changed, strict=True)
                      if (old is None) != (new is None) and (section := old or new) is not None
                      and len(before or after) == bool(section.title.strip())]

    def findings(self) -> list[Finding]:
        """Every finding, in the order of the sections of the new version."""
        old, new = edits.unmatched(self.old, self.new)
        old = self._duplicates(old, {s.words for s in self.new})
        new = self._duplicates(new, {s.words for s in self.old})
        grouped, old, new = self._grouped(old, new)
        if old or new:  # a sentence added or removed that unchanged sections hold too is a repeat
            old, new = self._repeated(old), self._repeated(new)
        found: list[tuple[str, Finding]] = []
        for before, after in grouped:
            findings, notes = self._edited(tuple(before), tuple(after))
            found.extend((after[0].section, f) for f in findings)
            self._note(notes)
        by_section: dict[tuple[str, bool], list[tuple[Sentence, Finding | None]]] = defaultdict(list)
        for sentence, added in [(s, False) for s in old] + [(s, True) for s in new]:
            finding, notes = self._lone(sentence, added)
            by_section[sentence.section, added].append((sentence, finding))
            self._note(notes)
        for (section, added), lone in by_section.items():
            whole = section in (self.added if added else self.removed)
            found.extend((section, f) for f in self._section(section, added, lone, whole))
        for title, added in self.empty:
            what = "added" if added else "removed"
            found.append((title, Finding(weight=0.1, kind="heading",
                                         reason=f"Section '{title}' {what}, with a heading only.")))
        order = {s.section: n for n, s in enumerate(self.new)}
        found.sort(key=lambda item: order.get(item[0], len(order)))
        ordered = [f for _, f in found]
        for (section, what), count in sorted(self.minor.items(),
                                             key=lambda item: order.get(item[0][0], len(order))):
            reason = (f"In section '{_name(section)}', {_count(count, 'sentence')} {what}, with no "
                      "obligation, cost, data or party in them.")
            ordered.append(Finding(weight=min(0.4, _MINOR * count), reason=reason))
        return ordered

    def _grouped(self, old: list[Sentence], new: list[Sentence]
                 ) -> tuple[list[edits.Edit], list[Sentence], list[Sentence]]:
        """The sentences left on each side grouped into edits: first within each pair of sections
        (cached: the same sections recur across the pairs of versions a site compares), then
        those left, across sections."""
        left_old, left_new = Counter(old), Counter(new)
        grouped: list[edits.Edit] = []
        lone_old: list[Sentence] = []
        lone_new: list[Sentence] = []
        for before, after in self.changed:
            these = tuple(s for s in before if _take(left_old, s))
            those = tuple(s for s in after if _take(left_new, s))
            found, these, those = self._section_edits(these, those) if these and those else ((), these, those)
            grouped.extend(found)
            if these and those and these[0].heading and those[0].heading and before[0] == these[0]:
                grouped.append(([these[0]], [those[0]]))  # the section's heading, renamed
                these, those = these[1:], those[1:]
            lone_old.extend(these)
            lone_new.extend(those)
        order = {s: n for n, s in reversed(list(enumerate(self.old)))}  # by value: edits are cached
        lone_old.sort(key=lambda s: order.get(s, len(order)))
        across, lone_old, lone_new = edits.group(lone_old, lone_new)
        return grouped + across, lone_old, lone_new

    def _sentences(self, title: str, body: str) -> tuple[Sentence, ...]:
        """:func:`terms.prose.sentences`, kept in the memo."""
        return recall(self.memo, "sentences", (title, body), lambda: sentences(title, body),
                      lambda found: [_sentence_json(s) for s in found],
                      lambda kept: tuple(_sentence_from(s) for s in kept))

    def _definitions(self, texts: list[str]) -> frozenset[tuple[str, str]]:
        """:func:`terms.clauses.definitions` of ``texts`` joined by line breaks, kept in the memo."""
        return recall(self.memo, "definitions", ("\n".join(texts),), lambda: clauses.definitions_in(texts),
                      sorted, lambda kept: frozenset((name, term) for name, term in kept))

    def _edited(self, before: tuple[Sentence, ...], after: tuple[Sentence, ...]) -> _Read:
        """:func:`_edited`, kept in the memo."""
        return recall(self.memo, "edited", (self._read_by, before, after),
                      lambda: _edited(self.reader, before, after), _read_json, _read)

    def _lone(self, sentence: Sentence, added: bool) -> tuple[Finding | None, tuple[tuple[str, ...], ...]]:
        """:func:`_lone`, kept in the memo."""
        return recall(self.memo, "lone", (self._read_by, sentence, added),
                      lambda: _lone(self.reader, sentence, added),
                      lambda found: [_finding_json(found[0]), [list(n) for n in found[1]]],
                      lambda kept: (_finding(kept[0]), tuple(tuple(n) for n in kept[1])))

    def _section_edits(self, old: tuple[Sentence, ...], new: tuple[Sentence, ...]
                       ) -> tuple[tuple[edits.Edit, ...], tuple[Sentence, ...], tuple[Sentence, ...]]:
        """:func:`_section_edits`, kept in the memo (as the places of the sentences)."""
        def dump(found: tuple[tuple[edits.Edit, ...], tuple[Sentence, ...], tuple[Sentence, ...]]) -> Any:
            at_old, at_new = {s: n for n, s in enumerate(old)}, {s: n for n, s in enumerate(new)}  # by value
            return [[[[at_old[s] for s in before], [at_new[s] for s in after]] for before, after in found[0]],
                    [at_old[s] for s in found[1]], [at_new[s] for s in found[2]]]

        def load(kept: Any) -> tuple[tuple[edits.Edit, ...], tuple[Sentence, ...], tuple[Sentence, ...]]:
            return (tuple(([old[n] for n in before], [new[n] for n in after]) for before, after in kept[0]),
                    tuple(old[n] for n in kept[1]), tuple(new[n] for n in kept[2]))

        return recall(self.memo, "section edits", (old, new), lambda: _section_edits(old, new), dump, load)

    def _duplicates(self, these: list[Sentence], others: set[tuple[str, ...]]) -> list[Sentence]:
        """``these`` but those with the same words as one of ``others``: a repeated sentence
        added or removed is presentation (counted)."""
        kept = [s for s in these if s.words not in others]
        if len(kept) < len(these):
            self.tally["duplicate"] += len(these) - len(kept)
        return kept

    def _repeated(self, these: list[Sentence]) -> list[Sentence]:
        """``these`` but those that an unchanged section holds too (read as a run of words)."""
        if len(these) > _MANY:
            return self._duplicates(these, {s.words for section in self.same
                                            for s in self._sentences(section.title, section.body)})
        if self._same_words is None:
            self._same_words = " " + " ".join(_spoken(s.heading, s.body) for s in self.same) + " "
        kept = [s for s in these if f" {' '.join(s.words)} " not in self._same_words]
        if len(kept) < len(these):
            self.tally["duplicate"] += len(these) - len(kept)
        return kept

    def _note(self, notes: tuple[tuple[str, ...], ...]) -> None:
        """Count what the reader noted: presentation changes, and minor sentences by section."""
        for note in notes:
            if note[0] == "tally":
                self.tally[note[1]] += 1
            else:
                self.minor[note[1], note[2]] += 1

    def summary(self, findings: list[Finding], material: bool) -> str:
        """One to three sentences: the weightiest findings, or what the change was instead."""
        told = list(dict.fromkeys(f.summary for f in sorted(findings, key=lambda f: -f.weight) if f.summary))
        if material and told:
            if len(told) > 3:
                return " ".join(told[:2] + [f"And {len(told) - 2} more changes."])
            return " ".join(told)
        kinds = [_TALLY[k] for k, n in self.tally.most_common() if k in _TALLY and n]
        if self.minor:
            kinds.insert(0, _TALLY["wording"])
        kinds = list(dict.fromkeys([_TALLY[f.kind] for f in findings] + kinds))
        if not kinds:
            return "Only formatting or links changed."
        listed = ", ".join(kinds[:3][:-1]) + (" and " if len(kinds[:3]) > 1 else "") + kinds[:3][-1]
        return f"No change to rights or obligations found: {listed} changed."

    def _section(self, title: str, added: bool, lone: list[tuple[Sentence, Finding | None]],
                 whole: bool) -> list[Finding]:
        """The findings of the sentences of ``title`` added or removed whole: one for the whole
        section when the section itself was added or removed, else one for each."""
        findings = [f for _, f in lone if f is not None]
        if not whole or not findings:
            return findings
        weight = 1.0
        for finding in findings:
            weight *= 1 - finding.weight
        weight = round(1 - weight, 4)
        named = clauses.subjects(title, self.pattern)  # the section's name says those
        subjects = [t for t in clauses.about(" ".join(s.text for s, _ in lone), self.pattern)
                    if clauses.canonical(t) not in named][:4]
        name, clear = _name(title), any(f.clear for f in findings)
        if added:
            said = f"New section '{name}'" + (f", which mentions {_listed(subjects)}" if subjects else "")
            return [Finding(weight=weight, clear=clear, summary=f"{said}.", reason=f"{said}.")]
        said = f"Section '{name}' removed" + (f": it mentioned {_listed(subjects)}" if subjects else "")
        return [Finding(weight=weight, clear=clear, summary=f"Section '{name}' removed.", reason=f"{said}.")]


@dataclass(frozen=True, slots=True)
class _Reader:
    """How sentences are read: the watch list, the editor's own watch terms (any change of a
    sentence with one of them counts) and the names the old version defines. Hashable, so that
    what it finds is cached across the pairs a site compares."""

    pattern: re.Pattern[str]
    extra: re.Pattern[str] | None
    aliases: frozenset[tuple[str, str]]
    """The names the old version defines (:func:`terms.clauses.definitions`): the same for most
    versions of a document, so that what is found is cached across them."""

    def edit(self, before: tuple[Sentence, ...], after: tuple[Sentence, ...]) -> _Read:
        """Findings for sentences edited into others."""
        notes: list[tuple[str, ...]] = []
        return tuple(self._edit(list(before), list(after), notes)), tuple(notes)

    def _edit(self, before: list[Sentence], after: list[Sentence],
              notes: list[tuple[str, ...]]) -> list[Finding]:
        old_text, new_text = " ".join(s.text for s in before), " ".join(s.text for s in after)
        kinds = [self._kind(s) for s in before + after]
        watched = self.extra and (clauses.about(old_text, self.extra) or clauses.about(new_text, self.extra))
        if all(k in clauses.PRESENTATION for k in kinds) and not watched:
            return self._presentation(before, after, kinds, notes)
        lead = after[0].lead or before[0].lead
        runs, old_text, new_text = edits.runs(old_text, new_text)
        subjects = [clauses.subjects(f"{lead} {t}", self.pattern) for t in (old_text, new_text)]
        matters = "obligation" in kinds or any(subjects)
        substantive = []
        for old, new, contact in runs:
            if clauses.numeric_run(old + new):
                continue
            if clauses.cosmetic(old, new):  # a typo fixed is wording, if nothing else changed
                notes.append(("tally", "wording"))
            elif contact:
                notes.append(("tally", "contact"))
            elif clauses.named(old, new, self.aliases) or (
                    clauses.proper(old) and clauses.proper(new)
                    and not _party_run(old, new, old_text, new_text)):
                notes.append(("tally", "names"))
            else:
                substantive.append((old, new))
        edit = _Edit(name=_name(after[0].section), before=before, after=after, old_text=old_text,
                     new_text=new_text, substantive=substantive)
        bare = matters or any(s.table for s in before + after)  # a cell's number counts what its column says
        shifts = [] if {"statistics", "metadata"} & set(kinds) else compare_quantities(
            quantities(old_text, bare=bare), quantities(new_text, bare=bare))
        found = self._quantities(edit, shifts)
        if substantive:
            found += self._clause(edit, matters, subjects, lead, watched)
        reworded = any(_content(o + n) for o, n in substantive)
        if reworded and (not found or (matters and len(found) == len(shifts[:3]))):
            if matters:
                found.append(Finding(weight=0.25, reason=f"A clause was reworded in section '{edit.name}': "
                                                         f"{edit.quote}"))
            else:
                notes.append(("minor", after[0].section, "reworded"))
        return found

    def _presentation(self, before: list[Sentence], after: list[Sentence], kinds: list[str],
                      notes: list[tuple[str, ...]]) -> list[Finding]:
        """Count an edit of presentation; a heading renamed is a (light) finding."""
        if len(before) == len(after) == 1 and before[0].heading and after[0].heading:
            if heading_slug(before[0].text) == heading_slug(after[0].text):
                return []
            return [Finding(weight=0.15, kind="heading",
                            reason=f"Heading '{before[0].text}' renamed to '{after[0].text}'.")]
        notes.extend(("tally", k) for k in kinds if k != "heading")
        return []

    def _quantities(self, edit: _Edit, shifts: list[Shift]) -> list[Finding]:
        """A finding for each quantity changed (up to three, then one for the rest)."""
        found = []
        for shift in shifts[:3]:
            if shift.bare:  # a number alone: what it is about is unclear
                reason = f"A number changed in section '{edit.name}' ({shift}): {edit.quote}"
                found.append(Finding(weight=0.4, reason=reason))
                continue
            subject = _subject(shift, edit.old_text, edit.new_text, edit.after[0].section, self.pattern)
            text = str(shift) if not subject else (f"{subject}{shift}" if shift.before and shift.after else
                                                   str(shift).replace(shift.label, subject + shift.label, 1))
            found.append(Finding(weight=0.7, clear=True, summary=_sentence(f"{text}."),
                                 reason=_sentence(f"{text} in section '{edit.name}': {edit.quote}")))
        if len(shifts) > 3:
            found.append(Finding(weight=0.3, reason=f"{len(shifts) - 3} more quantities changed in section "
                                                    f"'{edit.name}'."))
        return found

    def _clause(self, edit: _Edit, matters: bool, subjects: list[tuple[str, ...]], lead: str,
                watched: list[str] | None) -> list[Finding]:
        """Findings for what an edit changed in a clause: a party or place, a modal verb or a
        negation, its scope, the subjects it deals with."""
        name, old_text, new_text, substantive = edit.name, edit.old_text, edit.new_text, edit.substantive
        found = []
        parties = [(o, n) for o, n in substantive if _party_run(o, n, old_text, new_text)]
        if parties:
            role = _near_role(*parties[0], old_text, new_text)
            assert role is not None
            old_name, new_name = _full_name(parties[0][0], old_text), _full_name(parties[0][1], new_text)
            about, quote = role.group(0).lower(), edit.where(parties[0])
            found.append(Finding(weight=0.7, clear=True, summary=_party(about, old_name, new_name, name),
                                 reason=f"In section '{name}', “{old_name}” is now “{new_name}” in a clause "
                                        f"about {about}: {quote}"))
        flipped = [(o, n) for o, n in substantive if {w.lower() for w in o + n} & set(clauses.MODAL)]
        inserted = any((not o or not n) and (o or n)[0].lower() in ("and", "or") and _content((o or n)[1:])
                       for o, n in substantive)
        if matters and flipped and clauses.modal_words(old_text) != clauses.modal_words(new_text):
            old_words, new_words = _words(flipped[0][0]), _words(flipped[0][1])
            change = (f"“{old_words}” became “{new_words}”" if old_words and new_words else
                      f"“{new_words}” was added" if new_words else f"“{old_words}” was removed")
            found.append(Finding(weight=0.7, clear=True, summary=f"In section '{name}', {change}.",
                                 reason=f"What a party may or must do changed in section '{name}': {change}: "
                                        f"{edit.where(flipped[0])}"))
        elif matters and (clauses.scope_words(old_text) != clauses.scope_words(new_text) or inserted):
            found.append(Finding(weight=0.6, summary=f"What a clause covers changed in section '{name}'.",
                                 reason=f"What a clause covers changed in section '{name}': {edit.quote}"))
        reworded = any(_content(o + n) for o, n in substantive)
        if subjects[0] != subjects[1]:
            written = {clauses.canonical(t): t for t in clauses.about(f"{old_text} {new_text}", self.pattern)}
            gained = [written.get(t, t) for t in subjects[1] if t not in subjects[0]]
            lost = [written.get(t, t) for t in subjects[0] if t not in subjects[1]]
            words = " and ".join(filter(None, [f"now mentions {_listed(gained)}" if gained else "",
                                               f"no longer mentions {_listed(lost)}" if lost else ""]))
            found.append(Finding(weight=0.6, clear=True, summary=f"A clause in section '{name}' {words}.",
                                 reason=f"A sentence in section '{name}' {words}: {edit.quote}"))
        elif clauses.shares_data(f"{old_text} {new_text}") and reworded:
            said = f"Who receives data, or why, changed in section '{name}'"
            found.append(Finding(weight=0.6, summary=f"{said}.", reason=f"{said}: {edit.quote}"))
        elif lead and clauses.obliges(lead) and reworded:
            lead = _short(lead)
            found.append(Finding(weight=0.6, summary=f"What “{lead}” covers changed in section '{name}'.",
                                 reason=f"The list under “{lead}” changed in section '{name}': {edit.quote}"))
        if watched and not found and reworded:
            terms = _listed(watched)
            found.append(Finding(weight=0.6,
                                 summary=f"A sentence mentioning {terms} changed in section '{name}'.",
                                 reason=f"A sentence mentioning {terms} (on the watch list) changed in "
                                        f"section '{name}': {edit.quote}"))
        return found

    def lone(self, sentence: Sentence, added: bool) -> tuple[Finding | None, tuple[tuple[str, ...], ...]]:
        """The finding for a sentence added or removed whole (``None``: presentation, or minor)."""
        notes: list[tuple[str, ...]] = []
        return self._lone(sentence, added, notes), tuple(notes)

    def _lone(self, sentence: Sentence, added: bool, notes: list[tuple[str, ...]]) -> Finding | None:
        what = self._kind(sentence)
        watched = self.extra and clauses.about(sentence.text, self.extra)
        if what in clauses.PRESENTATION and not watched:
            if what != "heading":
                notes.append(("tally", what))
            return None
        where = f"section '{_name(sentence.section)}'"
        subjects = clauses.about(f"{sentence.lead} {sentence.text}", self.pattern)
        verb, new = ("added to", "New") if added else ("removed from", "Removed")
        quote = _quote(sentence.text)
        if watched:
            terms = _listed(watched)
            return Finding(weight=0.6, summary=f"{new} text mentioning {terms} in {where}.",
                           reason=f"A sentence mentioning {terms} (on the watch list) was {verb} {where}: "
                                  f"{quote}")
        if what == "obligation":
            topic = f" mentioning {_listed(subjects)}" if subjects else ""
            weight = 0.7 if subjects else 0.5 if clauses.binds(f"{sentence.lead} {sentence.text}") else 0.4
            return Finding(weight=weight, clear=bool(subjects), summary=f"{new} clause{topic} in {where}.",
                           reason=f"A clause{topic} was {verb} {where}: {quote}")
        if subjects:
            # a table lists; a sentence says what happens
            clause, terms = not sentence.table, _listed(subjects)
            return Finding(weight=0.6 if clause else 0.35, clear=clause,
                           summary=f"{new} text mentioning {terms} in {where}.",
                           reason=f"A sentence mentioning {terms} was {verb} {where}: {quote}")
        shifts = [q for q in quantities(sentence.text) if q.kind != "number"]
        if shifts:
            amount = shifts[0].text
            return Finding(weight=0.4, summary=f"{new} text with {amount} in {where}.",
                           reason=f"A sentence with {amount} was {verb} {where}: {quote}")
        notes.append(("minor", sentence.section, "added" if added else "removed"))
        return None

    def _kind(self, sentence: Sentence) -> str:
        return clauses.kind(sentence.text, sentence.lead, links=sentence.links, heading=sentence.heading,
                            table=sentence.table)

def _sentence_json(sentence: Sentence) -> list[Any]:
    return [sentence.text, list(sentence.words), sentence.section, sentence.heading, sentence.links,
            sentence.table, sentence.lead]


def _sentence_from(kept: list[Any]) -> Sentence:
    text, words, section, heading, links, table, lead = kept
    return Sentence(text=text, words=tuple(words), section=section, heading=heading, links=links, table=table,
                    lead=lead)


def _finding_json(finding: Finding | None) -> list[Any] | None:
    if finding is None:
        return None
    return [finding.weight, finding.reason, finding.summary, finding.clear, finding.kind]


def _finding(kept: list[Any] | None) -> Finding | None:
    if kept is None:
        return None
    weight, reason, summary, clear, kind = kept
    return Finding(weight=weight, reason=reason, summary=summary, clear=clear, kind=kind)


def _read_json(read: _Read) -> list[Any]:
    return [[_finding_json(f) for f in read[0]], [list(n) for n in read[1]]]


def _read(kept: list[Any]) -> _Read:
    return tuple(f for f in map(_finding, kept[0]) if f is not None), tuple(tuple(n) for n in kept[1])


def _take(left: Counter[Sentence], sentence: Sentence) -> bool:
    """Take ``sentence`` from ``left`` if it is there (sentences are counted by value)."""
    if left[sentence] <= 0:
        return False
    left[sentence] -= 1
    return True


@lru_cache(maxsize=1024)
def _spoken(heading: str, body: str) -> str:
    """The words of a section in lower case, one space apart (cached: unchanged sections recur;
    by the section's parts, whose hashes Python keeps, rather than its whole text made anew)."""
    return " ".join(prose.words(heading + body))


@lru_cache(maxsize=2048)
def _section_edits(old: tuple[Sentence, ...], new: tuple[Sentence, ...]
                   ) -> tuple[tuple[edits.Edit, ...], tuple[Sentence, ...], tuple[Sentence, ...]]:
    """:func:`terms.edits.group` of the sentences of one pair of sections (cached)."""
    found, lone_old, lone_new = edits.group(list(old), list(new))
    return tuple(found), tuple(lone_old), tuple(lone_new)


@lru_cache(maxsize=4096)
def _edited(reader: _Reader, before: tuple[Sentence, ...], after: tuple[Sentence, ...]) -> _Read:
    """What ``reader`` finds in sentences edited into others (cached: a site compares every
    version with the one in force, so the same edits recur across pairs)."""
    return reader.edit(before, after)


@lru_cache(maxsize=4096)
def _lone(reader: _Reader, sentence: Sentence,
          added: bool) -> tuple[Finding | None, tuple[tuple[str, ...], ...]]:
    """What ``reader`` finds in a sentence added or removed whole (cached, as :func:`_edited`)."""
    return reader.lone(sentence, added)


def _party_run(old: tuple[str, ...], new: tuple[str, ...], old_text: str, new_text: str) -> bool:
    """True if ``old`` -> ``new`` replaces a name by another (a few capitalized words each, in
    text that is not all capitals) in a clause about law, forum, controller or who receives data
    or money."""
    return (0 < len(old) <= _NAME_WORDS and 0 < len(new) <= _NAME_WORDS and clauses.proper(old)
            and clauses.proper(new) and not _shouting(old_text + new_text)
            and _near_role(old, new, old_text, new_text) is not None)


def _full_name(words: tuple[str, ...], text: str) -> str:
    """The name of which ``words`` are part in ``text``, with the capitalized words around them
    (``Harbour`` in ``the Safe Harbour scheme`` is ``Safe Harbour``)."""
    capitalized = r"[A-Z][\w.&'’-]*"
    name = rf"(?:{capitalized} )*" + r"\W+".join(map(re.escape, words)) + rf"(?: {capitalized})*"
    found = re.search(name, text)
    return found.group(0).rstrip(".,") if found else " ".join(words)


def _shouting(text: str) -> bool:
    """True if most letters of ``text`` are capitals (emphasis, where capitals say nothing of names)."""
    letters = [c for c in text if c.isalpha()]
    return sum(c.isupper() for c in letters) > 0.5 * len(letters)


def _near_role(old: tuple[str, ...], new: tuple[str, ...], old_text: str,
               new_text: str) -> re.Match[str] | None:
    """The words of a clause about law, forum, controller or who receives data or money
    (:data:`terms.clauses.ROLE`) within a few words of where ``old`` became ``new``."""
    for words, text in ((new, new_text), (old, old_text)):
        at = text.find(" ".join(words)) if words else -1
        if at >= 0:
            role = clauses.ROLE.search(text, max(0, at - _NEAR), at + len(" ".join(words)) + _NEAR)
            if role:
                return role
    return None


def _subject(shift: Shift, old: str, new: str, section: str, pattern: re.Pattern[str]) -> str:
    """What a quantity is about, with a space: the watched noun nearest to it in its sentence
    (within 300 characters), else in the section's title (``"refund "``); ``"minimum "`` for a
    limit such as ``be at least 13``; ``""`` when none is found."""
    quantity = shift.after or shift.before
    assert quantity is not None
    sentence = new if shift.after else old
    at = sentence.find(quantity.text)
    if at < 0:
        return ""
    if quantity.kind in ("number", "age") and re.search(r"\b(?:at least|over|older than)\s*$",
                                                      sentence[max(0, at - 30):at]):
        return "minimum "
    if quantity.kind in ("date", "number", "age"):
        return ""
    nouns = list(pattern.finditer(sentence, max(0, at - 300), at + 300))
    noun = min(nouns, key=lambda m: abs(m.start() - at)).group(0) if nouns else next(
        (m.group(0) for m in pattern.finditer(section)), "")
    noun = clauses.canonical(noun)
    return "" if not noun or noun.startswith(("right", "data", "personal")) else noun + " "


def _party(role: str, old: str, new: str, section: str) -> str:
    """The summary sentence for a party or place replaced in a clause about ``role``."""
    role = role.lower()
    if "law" in role or "govern" in role:
        return f"Governing law changed from {old} to {new}."
    if any(w in role for w in ("court", "venue", "jurisdiction", "tribunal")):
        return f"Courts for disputes changed from {old} to {new}."
    if "arbitrat" in role or "dispute" in role or "ombuds" in role:
        return f"Dispute resolution moved from {old} to {new}."
    if "controller" in role:
        return f"Data controller changed from {old} to {new}."
    return f"In section '{section}', {old} is replaced by {new}."


def _content(words: tuple[str, ...]) -> bool:
    return any(w.lower() not in edits.COMMON for w in words)


def _name(section: str) -> str:
    return section or "(untitled opening)"


def _listed(terms: Sequence[str]) -> str:
    """Watch-list ``terms`` quoted as written: ``“AI”, “share” and “third parties”``."""
    quoted = [f"“{term}”" for term in terms]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1] if len(quoted) > 1 else "".join(quoted)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _words(words: tuple[str, ...], limit: int = 8) -> str:
    return " ".join(words[:limit]) + (" …" if len(words) > limit else "")


def _short(sentence: str, limit: int = 60) -> str:
    return sentence if len(sentence) <= limit else sentence[:limit - 1].rstrip() + "…"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _quote(sentence: str, limit: int = 100) -> str:
    return "“" + (sentence if len(sentence) <= limit else sentence[:limit - 1].rstrip() + "…") + "”"
