"""Checks across the documents of a content folder, for legal editors."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from .files import file_problem, linked_file_problem
from .markdown import headings, link_target, links, parse, without_comments
from .model import Content, Document, Problem, Version, replaced, utc_date
from .source import file_slug
from .text import first_changed_line
from .translations import check_translations
from .verdicts import Assessment, assess_versions

if TYPE_CHECKING:
    from markdown_it.token import Token


@dataclass(frozen=True, kw_only=True, slots=True)
class Published:
    """A version as a consent ledger published it."""

    content_sha256: str
    commit: str | None = None
    """The commit its text was read from, when it was committed."""
    material: bool | None = None
    """Its ``material:`` flag then (``None``: not set), which cannot change once it is in force."""


def check(content: Content, notice_days: int = 30, now: datetime | None = None,
          watch: Iterable[str] = (),
          published: Mapping[tuple[str, str], Published] | None = None,
          languages: Sequence[str] = ()) -> list[Problem]:
    """Every problem of ``content``: those found while loading, broken references and links,
    material versions announced with less than ``notice_days`` of notice, ``material:`` flags
    that the analysis of the change disagrees with, versions without a flag that the analysis
    finds material or is unsure about (for the versions still open to a decision), and versions
    whose text is not the one published, or in force with another ``material:`` flag than the
    one published.

    :param watch: Extra watch-list terms for the materiality analysis. Defaults to none.
    :param published: each version already published (in a consent ledger), by ``(slug,
        version id)``; each version's text must still have its hash, and a version in force its
        flag. Defaults to none.
    :param languages: the languages the site is published in (BCP 47 tags); each version in
        force or announced should have a text in each (see :mod:`terms.translations`). Defaults
        to none: translations are still checked, missing ones are not looked for.
    """
    now = now or datetime.now(timezone.utc)
    problems = list(content.problems)
    parsed = {d.path: parse(without_comments(d.versions[-1].body)) for d in content.documents.values()}
    anchors = {path: {h.anchor for h in headings(tokens)} for path, tokens in parsed.items()}
    verdicts = assess_versions(content, watch=watch, versions=[
        v for d in content.documents.values() for v in _open(d, now) + _noticed(d, notice_days, now)])
    unreadable = _unreadable_flags(content)
    for document in content.documents.values():
        current = replace(document.versions[-1], path=document.path)  # as the file is now named
        problems.extend(_references(content, current))
        problems.extend(_links(content, current, parsed[document.path], anchors))
        problems.extend(_notice(document, notice_days, now, verdicts, unreadable))
        problems.extend(_flags(document, now, verdicts, unreadable))
        problems.extend(_summaries(document, now))
        problems.extend(_published(document, published or {}, now))
    problems.extend(check_translations(content, languages, now))
    return sorted(problems, key=lambda p: (p.path, p.line))


def _references(content: Content, version: Version) -> list[Problem]:
    """An error for each reference to a slug no document has, but none for the slug of the name
    of a file left out (its own error is the one to fix, and suggests that slug)."""
    line = version.key_lines.get("references", 1)
    left_out = {file_slug(path) for path in content.left_out}
    return [
        Problem(version.path, line, "error",
                f"references {ref!r}, but no document has that slug; the slugs are: "
                f"{', '.join(sorted(content.documents))}")
        for ref in version.references if ref not in content.documents and ref not in left_out
    ]


def _links(content: Content, version: Version, tokens: list[Token], anchors: dict[str, set[str]]
           ) -> list[Problem]:
    """The broken links of ``version``, whose body parsed into ``tokens``."""
    problems = []
    root = Path(content.root)
    for link in links(tokens):
        resolved = link_target(version.path, link.target)
        if resolved is None:
            continue
        target, fragment = resolved
        if target in content.left_out:  # its own error says why
            continue
        line = version.body_line + link.line - 1
        problem = file_problem(root, target) if target in anchors else linked_file_problem(root, target)
        if problem is not None:
            problems.append(Problem(version.path, line, "error", f"link to {link.target!r}: {problem}"))
        elif fragment and target in anchors and unquote(fragment) not in anchors[target]:
            problems.append(Problem(version.path, line, "error", f"link to {link.target!r}: {target} has no "
                                    f"heading #{fragment}{_closest(unquote(fragment), anchors[target])}"))
    return problems


def _closest(fragment: str, anchors: set[str]) -> str:
    """``; did you mean #…?`` with the heading anchor nearest to ``fragment``, if one is near."""
    from rapidfuzz import fuzz, process  # here: only a broken link needs it

    found = process.extractOne(fragment, sorted(anchors), scorer=fuzz.WRatio, score_cutoff=70)
    if not found:
        return ""
    numbered = re.fullmatch(r"[\d-]*\d-" + re.escape(found[0]), fragment)  # GitHub's: #5-governing-law
    why = " (a heading's anchor leaves out its number, so that links survive renumbering)" if numbered else ""
    return f"; did you mean #{found[0]}?{why}"


def _unreadable_flags(content: Content) -> set[tuple[str, str]]:
    """The versions, by ``(slug, id)``, whose ``material:`` flag is written but is neither true
    nor false: the error at that line is the one to fix, not a warning that they have no flag."""
    errors = {(p.path, p.line) for p in content.problems if p.severity == "error"}
    return {(v.slug, v.id) for d in content.documents.values() for v in d.versions
            if v.material is None and (v.path, v.key_lines.get("material")) in errors}


def _noticed(document: Document, notice_days: int, now: datetime) -> list[Version]:
    """The versions whose notice is still a question: upcoming, or announced within the last
    ``notice_days`` days."""
    today = utc_date(now)
    return [v for v, after in zip(document.versions, (*document.versions[1:], None), strict=True)
            if v.announced_at is not None and not replaced(v, after)
            and not (v.effective <= today and (today - v.announced_at.date()).days > notice_days)]


def _notice(document: Document, notice_days: int, now: datetime,
            verdicts: Mapping[tuple[str, str], Assessment], unreadable: set[tuple[str, str]]
            ) -> list[Problem]:
    """Warnings for the versions given less than ``notice_days`` of notice (see :func:`_noticed`)
    that users will be asked to accept again: marked material, or without a flag and judged
    material by the analysis' ``verdicts`` (which then decide); none for a flag ``unreadable``."""
    problems = []
    for version in _noticed(document, notice_days, now):
        assert version.announced_at is not None
        if (version.slug, version.id) in unreadable:  # its error says what to write
            continue
        verdict = verdicts.get((version.slug, version.id))
        if version.material:
            what = "is marked material but"
        elif version.material is None and "effective" in version.key_lines and verdict is not None \
                and verdict.material:  # a date of its own (without, a file takes effect when committed)
            what = "has no 'material:' flag and the change analysis judges it material, but it"
        else:
            continue
        announced = version.announced_at.date()
        notice = (version.effective - announced).days
        if notice < notice_days:
            problems.append(Problem(version.path, version.key_lines.get("effective", version.body_line),
                "warning", f"version {version.id} {what} takes effect {_when(notice, announced)}; users "
                           f"are owed {_days(notice_days)} of notice"))
    return problems


def _when(notice: int, announced: date) -> str:
    """When a version takes effect, ``notice`` days after it was ``announced``."""
    if notice == 0:
        return f"on the day it was announced, {announced}"
    return f"{_days(abs(notice))} {'after' if notice > 0 else 'before'} it was announced on {announced}"


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def _open(document: Document, now: datetime) -> list[Version]:
    """The versions still open to a decision on their materiality: announced but not yet in
    force, or not committed yet (a document's first version is never compared)."""
    return [v for v in document.versions[1:] if not (v.in_force(now) and v.commit is not None)]


def _flags(document: Document, now: datetime, verdicts: Mapping[tuple[str, str], Assessment],
           unreadable: set[tuple[str, str]]) -> list[Problem]:
    """Warnings where the editor's ``material:`` flag contradicts the analysis' ``verdicts``, or
    where there is no flag and the analysis finds the change material or is unsure (its verdict
    then decides), for the versions still open to a decision; none for a flag ``unreadable``."""
    problems = []
    for version in _open(document, now):
        if (version.slug, version.id) in unreadable:  # its error says what to write
            continue
        verdict = verdicts[(version.slug, version.id)]
        if version.material is None:
            if verdict.material or verdict.confidence == "low":
                previous = document.version(verdict.previous)
                line = version.body_line + first_changed_line(previous.body, version.body) - 1
                problems.append(Problem(version.path, line, "warning", _unflagged(version, verdict)))
            continue
        if verdict.material == version.material:
            continue
        flag = "material" if version.material else "not material"
        message = (f"version {version.id} is marked {flag}, but the change from {verdict.previous} looks "
                   f"{_verdict(verdict)}")
        problems.append(Problem(version.path, version.key_lines.get("material", version.body_line), "warning",
                                message))
    return problems


def _summaries(document: Document, now: datetime) -> list[Problem]:
    """Warnings for the versions still open to a decision whose summary is the one of the version
    before them: copied with the front matter, it tells readers of the site and the feed
    nothing of what changed."""
    problems = []
    for version in _open(document, now):
        before = document.versions[document.versions.index(version) - 1]
        if version.summary and version.summary == before.summary:
            problems.append(Problem(version.path, version.key_lines.get("summary", 1), "warning",
                f"version {version.id} has the summary of version {before.id} ({version.summary!r}): say "
                f"what this version changes, for the site's history and feed"))
    return problems


def _verdict(verdict: Assessment) -> str:
    """``material (high confidence, score 0.70): Refund period shortened…``."""
    what = "material" if verdict.material else "not material"
    summary = verdict.summary or "no change of substance found."
    return f"{what} ({verdict.confidence} confidence, score {verdict.score:.2f}): {summary}"


def _unflagged(version: Version, verdict: Assessment) -> str:
    """The warning for a version without a ``material:`` flag whose change looks material, or
    that the analysis is unsure of: what publishing it will do, and how to decide."""
    if verdict.material:
        then = ("users who accepted an earlier version will be asked to accept it again once it takes "
                f"effect on {version.effective}: write 'material: true' to confirm, or 'material: false' if "
                "they need only be told")
    else:
        then = (f"users will only be told of it once it takes effect on {version.effective}: write "
                "'material: false' to confirm, or 'material: true' if they must accept it again")
    return (f"version {version.id} has no 'material:' flag and the change from {verdict.previous} looks "
            f"{_verdict(verdict)} So {then}")


def _published(document: Document, published: Mapping[tuple[str, str], Published],
               now: datetime) -> list[Problem]:
    """An error for each version whose text is no longer the one it was published with, or
    whose ``material:`` flag is not the one published though it is in force (who must accept
    it again is settled then: ``publish`` refuses the change). The fix keeps the repository
    true without the ledger: the published text restored in one commit, the new text as a new
    version (a label or another date) in the next."""
    problems = []
    for version in document.versions:
        found = published.get((document.slug, version.id))
        if found is None:
            continue
        path = document.path if version is document.versions[-1] else version.path
        if found.content_sha256 != version.content_sha256:
            another = (f"another effective date, or a label to make it a second version on "
                       f"{version.effective} (label: {_unused_label(document, version)}), and commit it")
            if version.commit is None and version.committed_at is not None:  # an edit not committed yet
                fix = (f"Keep your edit as a new version: give it {another}; the published text stays in "
                       f"git's history as version {version.id}")
            else:
                commit = found.commit
                restore = f" (in the content folder: git show {commit[:10]}:./{version.path} > {path})" \
                    if commit else ""
                fix = f"Restore the published text{restore} and commit it; then give your new text {another}"
            problems.append(Problem(path, version.key_lines.get("effective", 1), "error",
                f"version {version.id} was published to the ledger with another text (SHA-256 "
                f"{found.content_sha256[:12]}…, now {version.content_sha256[:12]}…), which users may have "
                f"accepted: a published text never changes. {fix}"))
        elif found.material != version.material and version.in_force(now):
            line = version.key_lines.get("material", version.key_lines.get("effective", 1))
            problems.append(Problem(path, line, "error",
                f"version {version.id} is in force and was published with material: {_flag(found.material)}; "
                f"it now says material: {_flag(version.material)}. Who must accept it again was settled when "
                f"it took effect, and publish refuses the change: restore the flag (material: "
                f"{_flag(found.material)}), or publish the change as a new version with its own effective "
                f"date"))
    return problems


def _unused_label(document: Document, version: Version) -> str:
    """A label no version of ``document`` on the day of ``version`` has: ``revised``, else
    ``revised-2``…"""
    taken = {v.label for v in document.versions if v.effective == version.effective}
    return next(label for n in range(1, len(taken) + 2)
                if (label := "revised" if n == 1 else f"revised-{n}") not in taken)


def _flag(flag: bool | None) -> str:
    """A ``material:`` flag as written, ``not set`` when there is none."""
    return "not set" if flag is None else "true" if flag else "false"
