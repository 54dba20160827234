"""Turn the history of a content folder into documents and versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Mapping

from .errors import ContentError
from .history import Revision, file_histories
from .model import Content, Document, Problem, Version
from .source import FRONT_MATTER_KEYS, Source, read_source
from .text import content_sha256

DEFAULT_INCLUDE = ("*.md", "*.markdown")
DEFAULT_EXCLUDE = ("README.md", "readme.md", "CHANGELOG.md", "CONTRIBUTING.md", "LICENSE.md",
                   "CODE_OF_CONDUCT.md", "SECURITY.md")


@dataclass
class _Draft:
    """A version being assembled from the revisions that carry its effective date and label."""

    name: str
    source: Source
    revision: Revision
    effective: date
    announced_at: datetime | None
    sha: str


def load(
    root: str | Path,
    include: tuple[str, ...] = DEFAULT_INCLUDE,
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE,
    fields: Mapping[str, str] | None = None,
) -> Content:
    """Load every document under ``root``, with its versions from git history. Raises
    :class:`ContentError` when ``root`` is not a folder or holds no document.

    :param include: file-name globs of the documents. Defaults to Markdown files.
    :param exclude: globs of files to leave out. Defaults to README, CHANGELOG and the like.
    :param fields: front-matter keys of a repository not written for termsledger, by the name
        of the field they hold, e.g. ``{"effective": "last_updated", "slug": "permalink"}``.
    """
    root = Path(root)
    if not root.is_dir():
        raise ContentError(f"content folder {str(root)!r} does not exist or is not a folder")
    fields = _checked(fields or {})
    documents: dict[str, Document] = {}
    histories, problems = file_histories(root, include, exclude)
    if not histories:
        raise ContentError(f"content folder {str(root)!r} has no documents: no file in it matches "
                           f"{' or '.join(include)}")
    for rel, revisions in histories.items():
        current = read_source(rel, revisions[-1].data, fields)
        problems.extend(current.problems)
        if current.slug in documents:
            problems.append(Problem(rel, 1, "error", f"slug {current.slug!r} is already used by "
                                                     f"{documents[current.slug].path}"))
            continue
        versions, history_problems = _versions(current, revisions, fields)
        problems.extend(history_problems)
        documents[current.slug] = Document(current.slug, rel, versions)
    return Content(str(root), dict(sorted(documents.items())), tuple(problems))


def _checked(fields: Mapping[str, str]) -> Mapping[str, str]:
    """``fields``, if each of its names is one of termsledger's fields; raises :class:`ContentError`."""
    for name in fields:
        if name not in FRONT_MATTER_KEYS:
            raise ContentError(f"unknown field {name!r} in fields; termsledger's fields are: "
                               f"{', '.join(FRONT_MATTER_KEYS)}")
    return fields


def _versions(current: Source, revisions: list[Revision],
              fields: Mapping[str, str]) -> tuple[tuple[Version, ...], list[Problem]]:
    """The versions of a document read from its revisions, and the problems of its history."""
    sources = [read_source(r.path, r.data, fields) for r in revisions[:-1]] + [current]
    problems = _slug_changes(sources, revisions)
    drafts: dict[tuple[date, str | None], _Draft] = {}
    first_of_day: dict[date, _Draft] = {}
    latest: _Draft | None = None
    for source, revision in zip(sources, revisions):
        when = revision.committed_at or revision.modified_at
        effective = source.effective or when.date()
        sha = content_sha256(source.body)
        where = _where(revision)
        draft = drafts.get((effective, source.label))
        if draft is None and source.label is None and effective in first_of_day:
            problems.append(_needs_label(source, first_of_day[effective], where))
            continue
        if draft is None:
            if source.effective and latest and effective < latest.effective:
                problems.append(Problem(revision.path, source.key_lines.get("effective", 1), "error",
                    f"effective date {effective} goes backwards{where}: the version before it takes "
                    f"effect on {latest.effective}"))
            name = f"{effective}-{source.label}" if effective in first_of_day else effective.isoformat()
            draft = drafts[effective, source.label] = _Draft(name, source, revision, effective,
                                                             revision.committed_at, sha)
            first_of_day.setdefault(effective, draft)
        elif sha != draft.sha and source.effective and when.date() > effective:
            problems.append(Problem(revision.path, source.body_line, "error",
                f"the text of version {draft.name} was changed{where}, after it took effect on "
                f"{effective}: give the new text a new effective date"))
        draft.source, draft.revision, draft.sha = source, revision, sha
        latest = draft
    ordered = sorted(drafts.values(), key=lambda d: d.effective)  # stable: announcement order within a day
    return tuple(_version(current.slug, d) for d in ordered), problems


def _slug_changes(sources: list[Source], revisions: list[Revision]) -> list[Problem]:
    """A warning for each revision whose slug differs from the revision's before it."""
    return [Problem(revision.path, source.key_lines.get("slug", 1), "warning",
                    f"slug changed from {before.slug!r} to {source.slug!r}{_where(revision)}: links and "
                    f"consent records that use {before.slug!r} no longer match")
            for before, source, revision in zip(sources, sources[1:], revisions[1:])
            if source.slug != before.slug]


def _needs_label(source: Source, first: _Draft, where: str) -> Problem:
    """The error for a text without a label on a date that already has a labelled version."""
    label = first.source.label
    return Problem(source.path, source.key_lines.get("effective", 1), "error",
        f"version {first.name} (label {label!r}) already takes effect on {first.effective}: add a label "
        f"to make this text{where} a second version on that date, or write 'label: {label}' to revise "
        f"that version")


def _version(slug: str, draft: _Draft) -> Version:
    source, revision = draft.source, draft.revision
    return Version(
        slug=slug, id=draft.name, effective=draft.effective, label=source.label, title=source.title,
        summary=source.summary, material=source.material, references=source.references,
        body=source.body, content_sha256=draft.sha, path=revision.path, commit=revision.commit,
        committed_at=revision.committed_at, announced_at=draft.announced_at,
        body_line=source.body_line, extra=dict(source.extra), key_lines=dict(source.key_lines),
    )


def _where(revision: Revision) -> str:
    if revision.commit is None:
        return " in the working copy"
    return f" in commit {revision.commit[:10]} ({revision.committed_at:%Y-%m-%d})"
