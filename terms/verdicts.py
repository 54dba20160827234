"""The change analysis' verdict on each version: on the change from the version before it.

One function, :func:`assess_versions`, gives it to every caller (the ledger's publish, ``check``,
the site), so that they cannot disagree on which change a version's verdict is about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from .model import Content, Document, Version

if TYPE_CHECKING:
    from .changes import Change


class Compared(Protocol):
    """What a comparison of two versions yields that a verdict needs (a :class:`Change`)."""

    @property
    def material(self) -> bool: ...

    @property
    def score(self) -> float: ...

    @property
    def reasons(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Assessment:
    """The change analysis' verdict on one version: the change from the version before it.
    The editor's ``material:`` flag, where set, decides; this explains and warns."""

    material: bool
    """Whether the change looks material."""
    confidence: str
    """``high`` or ``low``: how sure the analysis is of ``material``."""
    score: float
    """How likely the change is to be material, in [0, 1]."""
    reasons: tuple[str, ...]
    """Why, in words a visitor understands."""
    summary: str
    """What changed, in one to three sentences generated from the analysis' findings."""
    previous: str
    """The id of the version the change is from."""


def material(version: Version, verdict: bool | None) -> bool | None:
    """Whether ``version`` is a material change: the editor's flag where set, else the
    analysis' ``verdict`` on the change from the version before it (``None`` for a first
    version without a flag)."""
    return version.material if version.material is not None else verdict


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    """What follows for users who accepted a version when a later one is in force, as the
    consent ledger decides it: they accept again if one of the versions after theirs, up to
    the later one, is material (see :func:`material`), even when the two texts are alike."""

    steps: tuple[Version, ...]
    """The versions after the accepted one, up to the later one, in order."""
    verdicts: tuple[bool | None, ...]
    """The analysis' verdict on each of ``steps`` (on the change from the version before it)."""

    @property
    def material(self) -> bool:
        """Whether users are asked to accept again."""
        return bool(self.material_steps)

    @property
    def material_steps(self) -> tuple[Version, ...]:
        """The material versions among :attr:`steps`."""
        return tuple(v for v, verdict in zip(self.steps, self.verdicts, strict=True)
                     if material(v, verdict))

    @property
    def flag(self) -> bool | None:
        """The editors' flags: ``True`` if one of :attr:`steps` is marked material, ``False``
        if every one is marked not material, else ``None`` (the analysis decides)."""
        flags = [v.material for v in self.steps]
        return True if True in flags else (False if flags and all(f is False for f in flags) else None)

    @property
    def analysis(self) -> bool:
        """Whether the analysis finds one of :attr:`steps` material."""
        return any(self.verdicts)


def decide(document: Document, old: Version, new: Version,
           verdict: Callable[[Version], bool | None]) -> Decision:
    """The :class:`Decision` for users who accepted ``old`` of ``document`` once ``new`` (a
    later version) is in force; ``verdict(version)``: the analysis' verdict on a version after
    ``old`` (see :func:`assess_versions`), asked of those up to ``new`` alone."""
    versions = document.versions
    steps = tuple(versions[versions.index(old) + 1:versions.index(new) + 1])
    return Decision(steps=steps, verdicts=tuple(verdict(v) for v in steps))


def assess_versions(content: Content, *, watch: Iterable[str] = (),
                    versions: Iterable[Version] | None = None,
                    compare: Callable[[Version, Version], Compared] | None = None
                    ) -> dict[tuple[str, str], Assessment]:
    """The analysis' verdict on each version that follows another, by ``(slug, version id)``
    (a document's first version has none).

    :param watch: extra watch-list terms for the analysis. Defaults to none.
    :param versions: only these versions. Defaults to every version.
    :param compare: how to compare two versions. Defaults to :func:`terms.compare`, each pair
        compared once per process (the site builder passes its own cache of comparisons).
    """
    watched = tuple(watch)
    chosen = None if versions is None else {(v.slug, v.id) for v in versions}
    found = {}
    for document in content.documents.values():
        for old, new in zip(document.versions, document.versions[1:], strict=False):
            if chosen is not None and (new.slug, new.id) not in chosen:
                continue
            change = compare(old, new) if compare else _compared(old, new, watched)
            found[(new.slug, new.id)] = Assessment(
                material=bool(change.material), confidence=_confidence(change),
                score=float(change.score), reasons=tuple(change.reasons),
                summary=str(getattr(change, "summary", "")), previous=old.id)
    return found


@lru_cache(maxsize=512)
def _compared(old: Version, new: Version, watch: tuple[str, ...]) -> Change:
    from .changes import compare  # here: importing terms must not load the change engine

    return compare(old, new, watch)


LOW_CONFIDENCE = 0.2
"""Distance of the score from the threshold under which a verdict is not sure."""


def _confidence(change: Compared) -> str:
    """The analysis' own confidence where it gives one, else how far its score is from the
    threshold."""
    given = getattr(change, "confidence", None)
    if isinstance(given, str):
        return given
    from .materiality import THRESHOLD

    return "high" if abs(change.score - THRESHOLD) >= LOW_CONFIDENCE else "low"
