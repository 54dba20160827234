"""Checks across the documents of a content folder, for legal editors."""

from __future__ import annotations

import posixpath
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .markdown import headings, links, parse
from .model import Content, Document, Problem, Version


def check(content: Content, notice_days: int = 30, now: datetime | None = None) -> list[Problem]:
    """Every problem of ``content``: those found while loading, broken references and links,
    and material versions announced with less than ``notice_days`` of notice."""
    now = now or datetime.now(timezone.utc)
    problems = list(content.problems)
    anchors = {d.path: {h.anchor for h in headings(parse(d.versions[-1].body))}
               for d in content.documents.values()}
    for document in content.documents.values():
        current = document.versions[-1]
        problems.extend(_references(content, current))
        problems.extend(_links(content, current, anchors))
        problems.extend(_notice(document, notice_days, now))
    return sorted(problems, key=lambda p: (p.path, p.line))


def _references(content: Content, version: Version) -> list[Problem]:
    line = version.key_lines.get("references", 1)
    return [
        Problem(version.path, line, "error",
                f"references {ref!r}, but no document has that slug; the slugs are: "
                f"{', '.join(sorted(content.documents))}")
        for ref in version.references if ref not in content.documents
    ]


def _links(content: Content, version: Version, anchors: dict[str, set[str]]) -> list[Problem]:
    problems = []
    root = Path(content.root)
    for link in links(parse(version.body)):
        parts = urlsplit(link.target)
        if parts.scheme or parts.netloc or link.target.startswith("/"):
            continue
        line = version.body_line + link.line - 1
        target = version.path if not parts.path else posixpath.normpath(
            posixpath.join(posixpath.dirname(version.path), unquote(parts.path)))
        if parts.path and not (root / target).exists():
            problems.append(Problem(version.path, line, "error",
                                    f"link to {link.target!r}: there is no file {target!r}"))
        elif parts.fragment and target in anchors and unquote(parts.fragment) not in anchors[target]:
            problems.append(Problem(version.path, line, "error",
                                    f"link to {link.target!r}: {target} has no heading with anchor "
                                    f"#{parts.fragment}"))
    return problems


def _notice(document: Document, notice_days: int, now: datetime) -> list[Problem]:
    problems = []
    for version in document.upcoming(now):
        if version.material and version.announced_at is not None:
            notice = (version.effective - version.announced_at.date()).days
            if notice < notice_days:
                problems.append(Problem(version.path, version.body_line, "warning",
                    f"version {version.id} is marked material but takes effect {notice} days after "
                    f"it was announced on {version.announced_at:%Y-%m-%d}; users are owed "
                    f"{notice_days} days of notice"))
    return problems
