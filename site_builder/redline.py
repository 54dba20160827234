"""Redlines: the change engine's comparison of two versions, in the shape diff pages
show, cached by the content hashes of the pair."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from terms import Version, compare

from .cache import Cache, key


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
    ops: tuple[tuple[str, str, str], ...]
    """``(tag, old text, new text)``, tag one of ``equal``, ``insert``, ``delete``, ``replace``."""

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
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Redline:
        sections = tuple(SectionRedline(**{**s, "ops": tuple(tuple(op) for op in s["ops"])})
                         for s in data["sections"])
        return cls(**{**data, "reasons": tuple(data["reasons"]), "sections": sections})


class Redlines:
    """Compares pairs of versions once per build and once per pair of texts across builds."""

    def __init__(self, cache: Cache, watch: tuple[str, ...] = ()):
        self._cache = cache
        self._watch = tuple(watch)
        self._done: dict[tuple[str, str], Redline] = {}

    def between(self, old: Version, new: Version) -> Redline:
        """The redline from ``old`` to ``new``."""
        pair = (old.content_sha256, new.content_sha256)
        if pair in self._done:
            return self._done[pair]
        entry = key("redline", *pair, self._watch)
        cached = self._cache.get(entry)
        if cached is not None:
            redline = Redline.from_dict(cached)
        else:
            redline = _from_change(compare(old, new, watch=self._watch))
            self._cache.put(entry, redline.to_dict())
        self._done[pair] = redline
        return redline


def _from_change(change) -> Redline:
    sections = tuple(
        SectionRedline(status=s.status, old_title=s.old_title, new_title=s.new_title,
                       anchor=s.new_anchor or s.old_anchor, renamed=bool(s.renamed), moved=bool(s.moved),
                       level=s.level,
                       ops=tuple((op.tag, op.old, op.new) for op in s.ops))
        for s in change.sections)
    return Redline(material=bool(change.material), score=float(change.score),
                   reasons=tuple(change.reasons), words_added=change.words_added,
                   words_removed=change.words_removed, identical=bool(change.identical),
                   sections=sections)
