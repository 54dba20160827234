"""Where a version stands on the build date: in force, announced or superseded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from terms import Content, Document, Version, replaced


@dataclass(frozen=True, kw_only=True, slots=True)
class Standing:
    """The standing of one version of a document on ``at`` (a subject's consent status is
    ``consent.Status``)."""

    state: str
    """``current`` (in force), ``announced`` (takes effect later), ``superseded``, or
    ``replaced`` (before it took effect, by a later version of the same day: never in force)."""
    since: date
    """The version's effective date."""
    until: date | None
    """For a superseded version, the day the version that replaced it took effect."""
    replaced_by: Version | None
    """For a superseded or replaced version, the version that replaced it."""
    current: Version | None
    """The version of the document in force on ``at``."""


def status(document: Document, version: Version, at: date) -> Standing:
    """The :class:`Standing` of ``version`` of ``document`` on ``at``."""
    current = document.in_force(at)
    if version == current:
        return Standing(state="current", since=version.effective, until=None, replaced_by=None,
                        current=current)
    index = document.versions.index(version)
    successor = document.versions[index + 1] if index + 1 < len(document.versions) else None
    if replaced(version, successor):
        return Standing(state="replaced", since=version.effective, until=None, replaced_by=successor,
                        current=current)
    if version.effective > at or successor is None:
        return Standing(state="announced", since=version.effective, until=None,
                        replaced_by=None, current=current)
    return Standing(state="superseded", since=version.effective, until=successor.effective,
                    replaced_by=successor, current=current)


def title(document: Document, at: date) -> str:
    """The title of ``document`` as of ``at``: that of the version in force, else of the
    first announced version."""
    return (document.in_force(at) or document.versions[0]).title


@dataclass(frozen=True)
class NextChange:
    """The next version to take effect after the build date: until that day, the site built
    on the date is true; from that day on, it must be built again."""

    effective: date
    document: str
    """The document's slug."""
    version: str
    """The version's id."""

    def to_dict(self) -> dict[str, str]:
        return {"date": self.effective.isoformat(), "document": self.document, "version": self.version}


def next_change(content: Content, at: date) -> NextChange | None:
    """The version of any document that takes effect soonest after ``at``; ``None`` when none is
    announced. Of two taking effect the same day, the first document's (by slug)."""
    upcoming = [NextChange(v.effective, d.slug, v.id)
                for d in content.documents.values() for v in d.upcoming(at)]
    return min(upcoming, key=lambda change: (change.effective, change.document)) if upcoming else None
