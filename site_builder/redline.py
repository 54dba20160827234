"""Redlines: the change engine's comparison of two versions in the shape diff pages show,
each section rendered as the document reads with its changes marked (see
:mod:`site_builder.htmldiff`), kept in the build cache under the content hashes of the pair.

A section whose only changes are its number, renumbered cross-references ("section 6" ->
"section 7") or spacing is ``renumbered``: folded on the page like an unchanged section.

Links are written as :data:`site_builder.links.SIDE` of their side followed by the target as
the document wrote it, for the page to resolve as on each version's page (see
:func:`site_builder.links.side_resolver`): the redline depends on the two texts only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from terms import Change, Memo, SectionChange, Version, compare, renumbering, without_comments

from .cache import Fragments, kept, kept_prefix, key, memo, to_json
from .htmldiff import Edit, MarkedHtml, diff_html
from .links import SIDE
from .render import SectionHtml, definitions, section_html

SIDES = ("old", "new")
FOLDED = ("unchanged", "renumbered", "moved")
"""The statuses of sections shown folded: nothing in their wording changed."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SectionRedline:
    """One section of a redline, in the order of the new version (removed sections where
    they stood)."""

    status: str
    """``unchanged``, ``renumbered``, ``moved`` (text unchanged), ``modified``, ``added`` or ``removed``."""
    old_title: str | None
    new_title: str | None
    anchor: str
    """The section's id on the diff page: its heading's anchor in the new version, else in
    the old one (``opening`` for the text before the first heading), unique on the page."""
    renamed: bool
    """The heading's words changed (renumbering alone is not a rename)."""
    moved: bool
    """The section changed place relative to the others (it may also be modified)."""
    level: int
    """Heading level, 0 for the untitled opening."""
    heading: str
    """The heading's content as HTML, changes marked; ``""`` for the opening."""
    html: str
    """The section's blocks after the heading as HTML, changes marked."""
    phrase: str
    """What changed, in plain words, for the list at the top of the page; ``""`` for a
    folded section."""

    @property
    def title(self) -> str:
        """The heading to show as plain text: the new one, else the old one."""
        return self.new_title if self.new_title is not None else (self.old_title or "")

    @property
    def folded(self) -> bool:
        """Nothing in the section's wording changed."""
        return self.status in FOLDED


@dataclass(frozen=True, kw_only=True, slots=True)
class Redline:
    """What changed between two versions, and the analysis' verdict."""

    material: bool
    score: float
    confidence: str
    """``high`` or ``low``: how sure the analysis is of ``material``."""
    reasons: tuple[str, ...]
    words_added: int
    words_removed: int
    identical: bool
    sections: tuple[SectionRedline, ...]
    generated_summary: str | None
    """A summary of the change in plain words, for versions whose editor wrote none: the change
    analysis' (:attr:`terms.Change.summary`), else (a translation, not analysed) the list of
    changed sections; ``None`` when nothing changed."""

    @property
    def top_level(self) -> int:
        """The level of the highest headings, which the page shows as its second level."""
        return min((s.level for s in self.sections if s.level), default=1)

    @property
    def renumbered(self) -> int:
        """How many sections changed only their numbers, cross-references or spacing."""
        return sum(s.status == "renumbered" for s in self.sections)

    def to_dict(self) -> dict[str, Any]:
        """The redline as a JSON value, read back by :meth:`from_dict` (what ``asdict`` gives, a
        few times faster: it copies no value, and a build writes a hundred redlines)."""
        return {**{f.name: getattr(self, f.name) for f in fields(self)},
                "sections": [{f.name: getattr(s, f.name) for f in fields(s)} for s in self.sections]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Redline:
        sections = tuple(SectionRedline(**s) for s in data["sections"])
        return cls(**{**data, "reasons": tuple(data["reasons"]), "sections": sections})


def compare_pair(old: Version, new: Version, watch: tuple[str, ...] = (),
                 assess_change: bool = True, found: Memo | None = None) -> Redline:
    """The redline from ``old`` to ``new``, ``watch`` and ``assess_change`` (without it, no
    verdict) as for :func:`terms.compare`; what was ``found`` in their sections and
    sentences found again there, and what is found kept there."""
    change = compare(old, new, watch=watch, assess_change=assess_change, memo=found)
    return redline(change, _defined(old.body), _defined(new.body), found)


def redline(change: Change, old_defined: str = "", new_defined: str = "",
            found: Memo | None = None) -> Redline:
    """The redline of ``change``; ``old_defined`` and ``new_defined`` are the JSON of each
    version's :func:`~site_builder.render.definitions` (``""`` for none); each section as
    ``found`` has it, else marked and kept there."""
    sections: list[SectionRedline] = []
    anchors: set[str] = set()
    for section in change.sections:
        status, heading, body = _recalled(section, old_defined, new_defined, found)
        anchor = _unique(section.new_anchor or section.old_anchor
                         or ("opening" if not section.level else "section"), anchors)
        sections.append(SectionRedline(
            status=status, old_title=section.old_title, new_title=section.new_title, anchor=anchor,
            renamed=bool(section.renamed), moved=bool(section.moved), level=section.level,
            heading=heading, html=body, phrase="" if status in FOLDED else _phrase(status, section)))
    return Redline(material=bool(change.material), score=float(change.score), confidence=change.confidence,
                   reasons=tuple(change.reasons), words_added=change.words_added,
                   words_removed=change.words_removed, identical=bool(change.identical),
                   sections=tuple(sections),
                   generated_summary=None if change.identical else change.summary or _summary(sections))


def _recalled(section: SectionChange, old_defined: str, new_defined: str,
              found: Memo | None) -> tuple[str, str, str]:
    """:func:`_marked`, as ``found`` has it, else marked and kept there (a section unchanged
    shows the same whatever the old version)."""
    def load(kept: list[str]) -> tuple[str, str, str]:
        status, heading, body = kept
        return status, heading, body

    def mark() -> tuple[str, str, str]:
        return _marked(section, old_defined, new_defined)

    if found is None:
        return mark()
    if section.status in ("unchanged", "moved"):  # shown alike, the status is the section's own
        _, heading, body = found.recall("shown", (section.new_text, new_defined), mark, list, load)
        return section.status, heading, body
    return found.recall("marked", (section.status, section.old_text, section.new_text, old_defined,
                                   new_defined), mark, list, load)


def _marked(section: SectionChange, old_defined: str, new_defined: str) -> tuple[str, str, str]:
    """The status, heading and body of a section as the page shows them."""
    if section.status in ("unchanged", "moved"):
        shown = _shown(section.new_text, new_defined)
        return section.status, shown.heading, shown.body
    heading, body = _diffed(section.old_text, section.new_text, old_defined, new_defined)
    status = section.status
    restyled = heading.relinked + heading.restyled + body.relinked + body.restyled
    if status == "modified" and not restyled and all(
            _renumbering(edit, in_heading) for marked, in_heading in ((heading, True), (body, False))
            for edit in marked.edits):
        status = "renumbered"
    return status, heading.html, body.html


def _renumbering(edit: Edit, in_heading: bool) -> bool:
    """True if ``edit`` changes a number that numbers the heading or refers to a section."""
    return renumbering(edit.old, edit.new, edit.before, edit.after, heading=in_heading and edit.start)


def _phrase(status: str, section: SectionChange) -> str:
    title = section.title or "the opening text"
    if status == "added":
        return f"New section: {title}"
    if status == "removed":
        return f"Removed: {title}"
    what = "Changed" + (" and moved" if section.moved else "")
    return f"{what}: {title}" + (f" (formerly “{section.old_title}”)" if section.renamed else "")


def _summary(sections: list[SectionRedline]) -> str:
    phrases = [s.phrase for s in sections if s.phrase]
    if not phrases:
        return "Sections renumbered or reformatted; the wording is unchanged."
    shown = phrases[:3] + ([f"{len(phrases) - 3} more sections changed"] if len(phrases) > 3 else [])
    return ". ".join(shown) + "."


def _unique(anchor: str, taken: set[str]) -> str:
    found, n = anchor, 1
    while found in taken:
        n += 1
        found = f"{anchor}-{n}"
    taken.add(found)
    return found


@lru_cache(maxsize=256)
def _defined(body: str) -> str:
    """The JSON of the :func:`~site_builder.render.definitions` of a version's ``body`` (its
    comments left out), ``""`` for none; cached: each version is in several pairs."""
    found = definitions(without_comments(body))
    return json.dumps(found, sort_keys=True) if found else ""


def _link(side: str, target: str) -> str:
    return SIDE.format(side) + target


def _shown(text: str, defined: str) -> SectionHtml:
    """A section of the new version as it reads, links marked as the new side's."""
    rendered = section_html(text, defined)
    return SectionHtml(heading=diff_html(rendered.heading, rendered.heading, _link).html,
                       body=diff_html(rendered.body, rendered.body, _link).html)


def _diffed(old: str, new: str, old_defined: str, new_defined: str) -> tuple[MarkedHtml, MarkedHtml]:
    """The heading and body of a section, changes marked."""
    a = section_html(old, old_defined) if old else SectionHtml(heading="", body="")
    b = section_html(new, new_defined) if new else SectionHtml(heading="", body="")
    return diff_html(a.heading, b.heading, _link), diff_html(a.body, b.body, _link)


@dataclass(frozen=True, kw_only=True, slots=True)
class Comparison:
    """The work of one redline, for :func:`site_builder.parallel.run`: ``old`` compared with
    ``new``; returns the redline as JSON by its fragment key, and what ``found`` found (see
    :func:`site_builder.cache.kept`)."""

    old: Version
    new: Version
    watch: tuple[str, ...]
    assess_change: bool
    key: str
    found: Memo

    def __call__(self) -> dict[str, str]:
        redline = compare_pair(self.old, self.new, self.watch, self.assess_change, self.found)
        return {self.key: to_json(redline.to_dict()), **kept(self.found)}


class Redlines:
    """The redlines of pairs of versions, kept in the build cache: read once per build,
    computed once per pair of texts across builds."""

    def __init__(self, fragments: Fragments, watch: Iterable[str] = (), assess_change: bool = True):
        self._fragments = fragments
        self._watch = tuple(watch)
        self._assess = assess_change
        """False for the redlines of translations, whose verdict is their source's."""
        self._done: dict[str, Redline] = {}
        self._keys: dict[tuple[str, str, bool], str] = {}
        self.found = memo()
        """What comparing found in sections and sentences, kept in the build cache."""

    def work(self, pairs: Iterable[tuple[Version, Version, bool]]) -> dict[str, Comparison]:
        """The comparison of each of ``pairs`` (``old``, ``new``, ``assess``, as for
        :meth:`between`), by its fragment key."""
        return {(entry := self.key(old, new, assess)): Comparison(
                    old=old, new=new, watch=self._watch, assess_change=self._assess and assess, key=entry,
                    found=self.found)
                for old, new, assess in pairs}

    def between(self, old: Version, new: Version, assess: bool = True) -> Redline:
        """The redline from ``old`` to ``new``; with the analysis' verdict unless not ``assess``
        (or these redlines never assess: translations')."""
        entry = self.key(old, new, assess)
        if entry not in self._done:
            data = self._fragments.get(entry)
            if data is None:
                self.read_found()
                data = compare_pair(old, new, self._watch, self._assess and assess, self.found).to_dict()
                self._fragments.put(entry, data)
                for made, text in kept(self.found).items():
                    self._fragments.put_json(made, text)
            self._done[entry] = Redline.from_dict(data)
        return self._done[entry]

    def read_found(self) -> None:
        """Read into :attr:`found` what comparing found in the builds before (once)."""
        self.found.kept = self._fragments.kind(kept_prefix())

    def key(self, old: Version, new: Version, assess: bool = True) -> str:
        """The fragment key of the redline from ``old`` to ``new`` (see :meth:`between`)."""
        pair = (old.content_sha256, new.content_sha256, self._assess and assess)
        if pair not in self._keys:
            self._keys[pair] = key("redline", *pair[:2], self._watch, pair[2])
        return self._keys[pair]
