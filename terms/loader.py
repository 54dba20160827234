"""Turn the history of a content folder into documents and versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from itertools import pairwise
from pathlib import Path

from . import translations
from .errors import ContentError
from .history import Revision, file_histories
from .languages import language_tag
from .markdown import without_comments
from .model import Content, Document, Problem, Version
from .source import FRONT_MATTER_KEYS, MAX_SLUG, SLUG, Source, file_slug, read_source
from .text import content_sha256, first_changed_line, normalize

DEFAULT_INCLUDE = ("*.md", "*.markdown")
DEFAULT_EXCLUDE = ("README.md", "readme.md", "CHANGELOG.md", "CONTRIBUTING.md", "LICENSE.md",
                   "CODE_OF_CONDUCT.md", "SECURITY.md")
_NEVER = datetime.max.replace(tzinfo=timezone.utc)
"""The commit time of text not committed: after every commit."""


@dataclass
class _Draft:
    """A version being assembled from the revisions that carry its effective date and label."""

    name: str
    source: Source
    """The latest revision carrying the date and label: the version's title, summary, flag…"""
    text: Source
    """The revision whose text took effect: the last one made on or before the effective date,
    else the first one."""
    revision: Revision
    """Where :attr:`text` was read from."""
    effective: date
    announced_at: datetime | None
    sha: str
    """``content_sha256`` of :attr:`text`."""
    last_text: str
    """The published text (without comments) of :attr:`source`."""
    rewrites: list[tuple[Source, Revision]] = field(default_factory=list)
    """The later revisions that changed the text after it took effect."""


def load(
    root: str | Path,
    include: tuple[str, ...] = DEFAULT_INCLUDE,
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE,
    fields: Mapping[str, str] | None = None,
    language: str = "en",
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
    language = language_tag(language)
    documents: dict[str, Document] = {}
    histories, problems = file_histories(root, include, exclude)
    histories, translated, orphans = translations.split(histories)
    problems.extend(orphans)
    if not histories:
        raise ContentError(f"content folder {str(root)!r} has no documents: no file in it matches "
                           f"{' or '.join(include)}")
    read = {rel: [read_source(r.path, r.data, fields) for r in revisions]
            for rel, revisions in histories.items()}
    named = {rel: _named_by(sources) for rel, sources in read.items()}
    owners: dict[str, str] = {}  # slug -> the file that took it first
    for rel in sorted(histories, key=lambda rel: _taken_at(named[rel], read[rel], histories[rel], rel)):
        owners.setdefault(named[rel].slug, rel)
    left_out = []
    for rel, revisions in histories.items():
        sources, slug = read[rel], named[rel].slug
        problems.extend(sources[-1].problems)
        if owners[slug] != rel:
            problems.append(_duplicate(rel, named[rel], owners, fields.get("slug", "slug")))
            left_out.append(rel)
            continue
        versions, history_problems = read_versions(slug, sources, revisions, fields)
        problems.extend(history_problems)
        documents[slug] = Document(slug, rel, tuple(replace(v, language=language) for v in versions))
    problems.extend(translations.attach(documents, translated, fields, language))
    return Content(str(root), dict(sorted(documents.items())), tuple(problems), language, tuple(left_out))


def _named_by(sources: list[Source]) -> Source:
    """The revision of a file (read as ``sources``) that gives its slug: the last whose front
    matter can be read (front matter that cannot be read does not rename a document)."""
    return next((s for s in reversed(sources) if not s.unreadable), sources[-1])


def _taken_at(named: Source, sources: list[Source], revisions: list[Revision], rel: str
              ) -> tuple[datetime, bool, str]:
    """When the file ``rel`` took its slug (``named``'s), to order the files that claim one
    slug: the time of the commit since which it has carried it (text not committed comes last),
    then a slug made from a file name before one from a ``slug:`` line, then the file's path."""
    since = revisions[-1]
    for source, revision in reversed(list(zip(sources, revisions, strict=True))):
        if source.unreadable:
            continue
        if source.slug != named.slug:
            break
        since = revision
    return since.written_at if since.commit else _NEVER, "slug" in named.key_lines, rel


def _duplicate(rel: str, source: Source, owners: Mapping[str, str], key: str) -> Problem:
    """The error for the file ``rel``, left out because another file took its slug first."""
    slug, own = source.slug, file_slug(rel)
    free = own != slug and own not in owners and bool(SLUG.match(own)) and len(own) <= MAX_SLUG
    example = f" (for example {key}: {own})" if free else ""
    if "slug" in source.key_lines:
        return Problem(rel, source.key_lines["slug"], "error",
                       f"slug {slug!r} is already used by {owners[slug]}, so this document is left out: give "
                       f"it a slug of its own{example}")
    return Problem(rel, 1, "error",
                   f"slug {slug!r}, made from the file name, is already used by {owners[slug]}, so this "
                   f"document is left out: give it a slug of its own with '{key}:' in its front matter")


def _checked(fields: Mapping[str, str]) -> Mapping[str, str]:
    """``fields``, if each of its names is one of termsledger's fields; raises :class:`ContentError`."""
    for name in fields:
        if name not in FRONT_MATTER_KEYS:
            raise ContentError(f"unknown field {name!r} in fields; termsledger's fields are: "
                               f"{', '.join(FRONT_MATTER_KEYS)}")
    return fields


def read_versions(slug: str, sources: list[Source], revisions: list[Revision], fields: Mapping[str, str],
                  translating: str | None = None) -> tuple[tuple[Version, ...], list[Problem]]:
    """The versions of a document read from its revisions, and the problems of its history.

    The text of a version is the text it had when it took effect: that of the last revision
    carrying its date (and label) made on or before that date, else of the first one. A later
    revision that changes it is a *rewrite*: an error while it is the file's current text, a
    warning once the file has moved on (a new date, or the text restored). A revision whose
    date is not a date is left out, unless no version comes before it."""
    problems = _slug_changes(sources, revisions)
    drafts: dict[tuple[date, str | None], _Draft] = {}
    first_of_day: dict[date, _Draft] = {}
    latest: _Draft | None = None
    for source, revision in zip(sources, revisions, strict=True):
        if source.undated and drafts:
            latest = None if revision is revisions[-1] else latest
            continue
        when = revision.written_at
        effective = source.effective or when.date()
        text = _published(source.body)
        where = _where(revision)
        draft = drafts.get((effective, source.label))
        if draft is None and source.label is None and effective in first_of_day:
            problems.append(_needs_label(source, first_of_day[effective], where))
            latest = None if revision is revisions[-1] else latest
            continue
        if draft is None:
            if source.effective and latest and effective < latest.effective:
                problems.append(Problem(revision.path, source.key_lines.get("effective", 1), "error",
                    f"effective date {effective} goes backwards{where}: the version before it takes "
                    f"effect on {latest.effective}"))
            name = f"{effective}-{source.label}" if effective in first_of_day else effective.isoformat()
            draft = drafts[effective, source.label] = _Draft(
                name, source, source, revision, effective, None if source.undated else revision.committed_at,
                content_sha256(source.body), text)
            first_of_day.setdefault(effective, draft)
        elif when.date() <= effective:
            draft.text, draft.revision, draft.sha = source, revision, content_sha256(source.body)
        elif text != draft.last_text and text != _published(draft.text.body):
            draft.rewrites.append((source, revision))
        draft.source, draft.last_text = source, text
        latest = draft
    for draft in drafts.values():
        problems.extend(_rewrites(draft, draft is latest, max(d.effective for d in drafts.values()),
                                  fields.get("effective", "effective"), translating))
    ordered = sorted(drafts.values(), key=lambda d: d.effective)  # stable: announcement order within a day
    return tuple(_version(slug, d) for d in ordered), problems


def _published(body: str) -> str:
    """What the site shows of a body: the text without the editors' comments."""
    return normalize(without_comments(body))


def _rewrites(draft: _Draft, current: bool, last: date, key: str, translating: str | None) -> list[Problem]:
    """The problems of the revisions that changed ``draft``'s text after it took effect: an
    error for the one that made the file's current text (``current``: the file still carries
    the version's date, with a text that is not the one that took effect), else warnings.
    ``translating`` is the file of the document that the revisions translate, if they do."""
    taken = draft.revision
    since = f"the text of {_commit(taken)}"
    restore = f"git show {(taken.commit or 'HEAD')[:10]}:./{taken.path}"  # a text changed later was committed
    still = current and draft.last_text != _published(draft.text.body)
    problems = []
    for number, (source, revision) in enumerate(draft.rewrites, 1):
        line = source.body_line + first_changed_line(without_comments(draft.text.body),
                                                      without_comments(source.body)) - 1
        told = (f"version {draft.name} took effect on {draft.effective} with {since}, and "
                f"{_commit(revision)} changed it")
        if still and number == len(draft.rewrites):
            new = f"give the new text its own effective date ({key}: the day it takes effect, after {last})"
            if translating:
                new = (f"translate a new version of {translating} (a new effective date, or a label) with "
                       f"the new text")
            problems.append(Problem(revision.path, line, "error",
                f"{told}: a text in force cannot change, so the site and the ledger keep the one that took "
                f"effect. Either {new} or restore the text that took effect (in the content folder: "
                f"{restore} > {revision.path}); then commit"))
        else:
            problems.append(Problem(revision.path, line, "warning",
                f"{told} afterwards; the site and the ledger keep the text that took effect, and the file "
                f"no longer carries that change under this date (restored, or given a version of its own): "
                f"nothing to fix"))
    return problems


def _slug_changes(sources: list[Source], revisions: list[Revision]) -> list[Problem]:
    """A warning for each revision whose slug differs from the one before it (front matter that
    cannot be read has no slug)."""
    readable = [(s, r) for s, r in zip(sources, revisions, strict=True) if not s.unreadable]
    return [Problem(revision.path, source.key_lines.get("slug", 1), "warning",
                    f"slug changed from {before.slug!r} to {source.slug!r}{_where(revision)}: links and "
                    f"consent records that use {before.slug!r} no longer match")
            for (before, _), (source, revision) in pairwise(readable)
            if source.slug != before.slug]


def _needs_label(source: Source, first: _Draft, where: str) -> Problem:
    """The error for a text without a label on a date that already has a labelled version."""
    label = first.source.label
    return Problem(source.path, source.key_lines.get("effective", 1), "error",
        f"version {first.name} (label {label!r}) already takes effect on {first.effective}: add a label "
        f"to make this text{where} a second version on that date, or write 'label: {label}' to revise "
        f"that version")


def _version(slug: str, draft: _Draft) -> Version:
    """The version of ``draft``: the text that took effect, with the title, summary, flag and
    references of the latest revision carrying its date (they may be corrected later)."""
    source, revision = draft.source, draft.revision
    return Version(
        slug=slug, id=draft.name, effective=draft.effective, label=source.label, title=source.title,
        summary=source.summary, material=source.material, references=source.references,
        body=draft.text.body, content_sha256=draft.sha, path=revision.path, commit=revision.commit,
        committed_at=revision.committed_at, announced_at=draft.announced_at,
        body_line=source.body_line, extra=dict(source.extra), key_lines=dict(source.key_lines),
    )


def _commit(revision: Revision) -> str:
    """``commit 0123456789 (2025-04-01)``, or ``an uncommitted edit``."""
    if revision.commit is None:
        return "an uncommitted edit"
    return f"commit {revision.commit[:10]} ({revision.committed_at:%Y-%m-%d})"


def _where(revision: Revision) -> str:
    if revision.commit is None:
        return " in the working copy"
    return f" in commit {revision.commit[:10]} ({revision.committed_at:%Y-%m-%d})"
