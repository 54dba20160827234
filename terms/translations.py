"""Translations: ``terms.fr.md`` beside ``terms.md`` holds the French text of the versions of
``terms.md`` (the convention of mkdocs-static-i18n and Hugo).

A translation's front matter names the version it translates by its ``effective`` date (and
``label``); its ``title`` and ``summary`` are its own; its slug, references and ``material:``
flag are its document's. Its versions come from git as a document's do, by the same rule: the
text of the translation of a version is the text it had when that version took effect. A
revision without an effective date (no front matter) translates the version of its document
in force on the day it was committed (or, before the first takes effect, the first one).
"""

from __future__ import annotations

import calendar
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from urllib.parse import unquote

from .history import Revision
from .languages import is_language, language_name, language_tag
from .markdown import headings, link_target, links, parse, without_comments
from .model import Content, Document, Problem, Version, utc_date
from .source import Source, read_source


def translation_file(rel: str) -> tuple[str, str] | None:
    """``(the document's file, language tag)`` when ``rel`` is named as a translation.

    >>> translation_file("legal/terms.fr.md"), translation_file("terms.md"), translation_file("v1.2.md")
    (('legal/terms.md', 'fr'), None, None)
    """
    folder, name = posixpath.split(rel)
    stem, suffix = posixpath.splitext(name)
    base, dot, tag = stem.rpartition(".")
    if not (dot and base and is_language(tag)):
        return None
    return posixpath.join(folder, base + suffix), language_tag(tag)


def split(histories: Mapping[str, list[Revision]]
          ) -> tuple[dict[str, list[Revision]], dict[str, tuple[str, str, list[Revision]]], list[Problem]]:
    """The document files of ``histories``, the translation files (each with its document's
    file and its language), and an error for each translation without its document."""
    documents, translations, problems = {}, {}, []
    for rel, revisions in histories.items():
        found = translation_file(rel)
        if found is None:
            documents[rel] = revisions
    for rel, revisions in histories.items():
        found = translation_file(rel)
        if found is None:
            continue
        base, tag = found
        if base not in documents:
            problems.append(Problem(rel, 1, "error", f"{rel} is named as the {language_name(tag)} text of "
                                    f"{base}, which does not exist: name it after its document "
                                    f"({posixpath.basename(base)} with .{tag} before the extension), or "
                                    f"remove the .{tag}"))
            continue
        translations[rel] = (base, tag, revisions)
    return documents, translations, problems


def attach(documents: dict[str, Document], translations: Mapping[str, tuple[str, str, list[Revision]]],
           fields: Mapping[str, str], language: str) -> list[Problem]:
    """Give each version of ``documents`` (by slug, changed in place) its translations read
    from ``translations``; the problems found in them."""
    from .loader import read_versions  # here: the loader imports this module

    by_path = {d.path: d for d in documents.values()}
    found: dict[str, dict[str, dict[str, Version]]] = {}  # slug -> version id -> language -> text
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for rel, (base, tag, revisions) in sorted(translations.items()):
        document = by_path.get(base)
        if document is None:  # its document is left out (its slug is another's)
            continue
        if tag == language:
            problems.append(Problem(rel, 1, "error", f"{rel} is named as the {language_name(tag)} text of "
                                    f"{base}, but {base} is itself in {language_name(tag)}, the site's "
                                    f"language"))
            continue
        if (document.slug, tag) in seen:
            problems.append(Problem(rel, 1, "error", f"another file already holds the "
                                    f"{language_name(tag)} text of {base}: keep one"))
            continue
        seen.add((document.slug, tag))
        taken = found.setdefault(document.slug, {})
        sources = [read_source(r.path, r.data, fields) for r in revisions]
        problems.extend(sources[-1].problems)
        for source, revision in zip(sources, revisions, strict=True):
            if source.effective is None and not source.undated:
                source.effective, source.label = _translated(document, revision.written_at.date())
        problems.extend(_own_fields(sources[-1], document, tag))
        versions, history_problems = read_versions(document.slug, sources, revisions, fields, document.path)
        problems.extend(history_problems)
        for text in versions:
            version = _source_version(document, text)
            if version is None:
                problems.append(_unknown(text, document, tag))
                continue
            taken.setdefault(version.id, {})[tag] = replace(
                text, slug=document.slug, id=version.id, label=version.label, material=version.material,
                references=version.references, language=tag)
    for slug, texts in found.items():
        document = documents[slug]
        documents[slug] = Document(document.slug, document.path, tuple(
            replace(v, translations=tuple(t for _, t in sorted(texts.get(v.id, {}).items())))
            for v in document.versions))
    return problems


def _translated(document: Document, day: date) -> tuple[date, str | None]:
    """The version a revision without an effective date translates: the one in force on ``day``,
    else the first."""
    version = document.in_force(day) or document.versions[0]
    return version.effective, version.label


def _source_version(document: Document, text: Version) -> Version | None:
    """The version of ``document`` that ``text`` names by its effective date and label (by its
    date alone when no label is given and one version takes effect that day)."""
    for version in document.versions:
        if version.effective == text.effective and version.label == text.label:
            return version
    dated = [v for v in document.versions if v.effective == text.effective]
    return dated[0] if text.label is None and len(dated) == 1 else None


def _unknown(text: Version, document: Document, tag: str) -> Problem:
    named = text.effective.isoformat() + (f" (label {text.label!r})" if text.label else "")
    names = ", ".join(v.id for v in document.versions)
    return Problem(text.path, text.key_lines.get("effective", 1), "error",
                   f"this {language_name(tag)} text translates the version of {named}, which {document.path} "
                   f"does not have (its versions are: {names}): name one of them with 'effective:' (and "
                   f"'label:')")


def _own_fields(source: Source, document: Document, tag: str) -> list[Problem]:
    """A warning for each field of a translation that is its document's to give, when it
    disagrees with the document's."""
    latest = document.versions[-1]
    problems = []
    checks = {"slug": (source.slug, document.slug), "references": (source.references, latest.references),
              "material": (source.material, latest.material)}
    for key, (given, documents) in checks.items():
        if key in source.key_lines and given != documents:
            problems.append(Problem(source.path, source.key_lines[key], "warning",
                                    f"'{key}' is given by {document.path}, not by its {language_name(tag)} "
                                    f"text: this one is ignored; remove it"))
    return problems


def check_translations(content: Content, languages: Sequence[str], now: datetime) -> list[Problem]:
    """The problems of the translations of ``content`` for a site in ``languages`` (its own
    language among them): a version in force or announced without a text in one of them, a
    translation in a language the site does not publish, headings that do not match the
    source's, and links to headings a translation does not have."""
    today = utc_date(now)
    wanted = [tag for tag in languages if tag != content.language]
    problems = []
    for document in content.documents.values():
        shown = [v for v in (document.in_force(today), *document.upcoming(today)) if v is not None]
        files = _files(document)
        for tag in wanted:
            for version in shown:
                if version.translation(tag) is None:
                    problems.append(_missing(document, version, tag, files.get(tag), today))
        for tag, path in files.items():
            if languages and tag not in languages:
                problems.append(Problem(path, 1, "warning", f"{language_name(tag)} is not one of the site's "
                                        f"languages ([site] languages = {list(languages)}): this text is not "
                                        f"published; add {tag!r} to publish it"))
        for version in shown:
            for text in version.translations:
                problems.extend(_structure(version, text))
        for text in _latest(document).values():
            problems.extend(_anchors(content, text))
    return problems


def _files(document: Document) -> dict[str, str]:
    """The translation file of each language, as it is now named."""
    return {tag: text.path for tag, text in _latest(document).items()}


def _latest(document: Document) -> dict[str, Version]:
    """The latest translated version in each language: the translation file's current text."""
    latest: dict[str, Version] = {}
    for version in document.versions:
        for text in version.translations:
            latest[text.language] = text
    return latest


def _missing(document: Document, version: Version, tag: str, path: str | None, today: date) -> Problem:
    state = "in force" if version.effective <= today else "announced"
    name = version.effective.isoformat() + (f", label: {version.label}" if version.label else "")
    where = path or _named(document.path, tag)
    return Problem(path or document.path, 1, "warning",
                   f"no {language_name(tag)} text for the version of {_day(version.effective)} "
                   f"({version.id}, {state}): until there is one, its {language_name(tag)} page shows the "
                   f"{language_name(version.language)} text with a notice. Translate it in {where} "
                   f"(effective: {name})")


def _named(path: str, tag: str) -> str:
    stem, suffix = posixpath.splitext(path)
    return f"{stem}.{tag}{suffix}"


def _structure(version: Version, text: Version) -> list[Problem]:
    """A warning when the headings of ``text`` do not follow those of ``version``, its source."""
    source = [h.level for h in headings(parse(without_comments(version.body)))]
    found = headings(parse(without_comments(text.body)))
    name, own = language_name(text.language), language_name(version.language)
    if len(found) != len(source):
        return [Problem(text.path, text.body_line, "warning",
                        f"the section count differs: the {name} text of version {version.id} has "
                        f"{_count(len(found))}, the {own} text {len(source)}; translate every "
                        f"section, so that the two read alike section by section")]
    for number, (heading, level) in enumerate(zip(found, source, strict=True), 1):
        if heading.level != level:
            return [Problem(text.path, text.body_line + heading.line - 1, "warning",
                            f"heading {number} ({heading.text!r}) is of level {heading.level} in the {name} "
                            f"text of version {version.id}, of level {level} in the {own} one")]
    return []


def _count(number: int) -> str:
    return f"{number} heading{'s' if number != 1 else ''}"


def _anchors(content: Content, text: Version) -> list[Problem]:
    """An error for each link of ``text`` to a heading that its target does not have in the
    language of ``text`` (a link to another document goes to its page in that language)."""
    problems = []
    for link in links(parse(without_comments(text.body))):
        resolved = link_target(text.path, link.target)
        if resolved is None or not resolved[1]:
            continue
        target, fragment = resolved
        shown = text if target == text.path else _text_at(content, target, text.language)
        if shown is None:
            continue
        anchors = {h.anchor for h in headings(parse(without_comments(shown.body)))}
        if unquote(fragment) not in anchors:
            line = text.body_line + link.line - 1
            problems.append(Problem(text.path, line, "error",
                                    f"link to {link.target!r}: the {language_name(shown.language)} text of "
                                    f"{shown.path} has no heading #{fragment}"))
    return problems


def _text_at(content: Content, path: str, language: str) -> Version | None:
    """The text a link to ``path`` shows to a reader of ``language``: the latest version's
    text in that language, else in the document's own."""
    for document in content.documents.values():
        texts = _latest(document)
        if path == document.path or path == _named(document.path, language) or \
                any(t.path == path for t in texts.values()):
            latest = document.versions[-1]
            return latest.translation(language) or texts.get(language) or latest
    return None


def _day(day: date) -> str:
    """``1 February 2027``."""
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"
