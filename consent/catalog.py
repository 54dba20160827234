"""The ledger's own copy of the published versions, and publishing it from the content.

A service queries the catalog without the git repository. :class:`Catalog` is an in-memory
snapshot of it that the ledger keeps and reloads when the ``catalog`` generation changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import terms
from terms import announced_on, in_force_on, manifest, normalize, open_repo, referenced, version_named

from .errors import (
    ChangedVersion,
    InvalidContent,
    UncommittedVersion,
    UnpublishedDocument,
    UnpublishedVersion,
    short,
)
from .store import Tx
from .values import CatalogDocument, CatalogVersion, Published, Text

Verdicts = Mapping[tuple[str, str], bool]
"""The change analysis' materiality verdict per ``(slug, version id)``."""
Urls = Callable[[terms.Version], "str | None"]
"""The page of a version's text (a :class:`terms.Version`, or one of its translations) on the
public site, ``None`` for none: the site builder knows the layout, the application layer
passes it to :func:`publish`."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    """A published version with the row ids and order the ledger works with."""

    rowid: int
    document_id: int
    ordinal: int
    """Position among the document's versions, oldest first."""
    document: str
    """The document's slug."""
    id: str
    effective: date
    label: str | None
    title: str
    summary: str
    flag: bool | None
    verdict: bool | None
    content_sha256: str
    references: tuple[str, ...]
    commit: str | None
    published_at: str
    language: str | None
    """The language of its own text (``None`` if published before the ledger kept it)."""
    url: str | None
    texts: tuple[Text, ...]
    """Its text in each language, its own first."""

    @property
    def material(self) -> bool:
        """What the ledger acts on: the editor's flag when set, else the analysis' verdict."""
        return self.flag if self.flag is not None else bool(self.verdict)

    def text(self, language: str | None) -> Text | None:
        """Its text in ``language`` (its own for ``None``), ``None`` when it has none."""
        if language is None:
            return self.texts[0]
        return next((t for t in self.texts if t.language == language), None)

    def preferred(self, languages: Sequence[str]) -> Text | None:
        """Its text in the first of ``languages`` (BCP 47 tags, the reader's preference
        first) it has one in, a tag's language alone counting too (``fr`` for ``fr-CA``);
        ``None`` when it has none of them."""
        for language in languages:
            found = self.text(language) or self.text(language.split("-")[0])
            if found is not None:
                return found
        return None

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages it has a text in, its own first."""
        return tuple(t.language for t in self.texts if t.language is not None)


@dataclass
class DocumentEntries:
    """One document's catalog entries, oldest first."""

    id: int
    slug: str
    required: bool = False
    """Marked as required at signup (see :meth:`consent.Ledger.required`)."""
    versions: list[Entry] = field(default_factory=list)
    material_upto: list[int] = field(default_factory=list)
    """``material_upto[i]``: how many of ``versions[:i + 1]`` are material."""

    def version(self, name: str) -> Entry:
        """The version named ``name``: its id, its label or its effective date."""
        found = version_named(self.versions, name)
        if found is not None:
            return found
        names = ", ".join(e.id for e in self.versions)
        raise UnpublishedVersion(f"version {short(name)} of {self.slug!r} is not published; "
                             f"its published versions are: {names}")

    def in_force(self, day: date) -> Entry | None:
        """The version in force on ``day``."""
        return in_force_on(self.versions, day)

    def upcoming(self, day: date) -> tuple[Entry, ...]:
        """The versions announced but not in force on ``day``, soonest first."""
        return announced_on(self.versions, day)

    def material_after(self, before: Entry, upto: Entry) -> bool:
        """Whether a version after ``before`` up to ``upto`` (inclusive) is material."""
        return self.material_upto[upto.ordinal] > self.material_upto[before.ordinal]


class Catalog:
    """A snapshot of the published catalog."""

    def __init__(self, generation: int, documents: dict[str, DocumentEntries]):
        self.generation = generation
        self.documents = documents
        self.by_rowid = {e.rowid: e for d in documents.values() for e in d.versions}
        self.by_id = {d.id: d for d in documents.values()}
        self.statuses: dict[tuple[int, int], Any] = {}
        """The ledger's cache of :class:`~consent.status.DocumentStatuses` per (document id,
        day)."""
        self.requirements: dict[tuple[Any, ...], Any] = {}
        """The ledger's cache of :class:`~consent.values.Requirement` values."""

    def document(self, slug: str) -> DocumentEntries:
        """The published document ``slug``; raises :class:`UnpublishedDocument`."""
        try:
            return self.documents[slug]
        except (KeyError, TypeError):
            known = ", ".join(self.documents) or "none (run termsledger publish)"
            raise UnpublishedDocument(f"document {short(slug)} is not published; "
                                  f"the published documents are: {known}") from None

    def bundle(self, head: Entry, day: date) -> list[Entry]:
        """The versions of the documents ``head`` references (transitively): what accepting
        ``head`` on ``day`` accepts with it. Those in force on ``day``, or on ``head``'s
        effective date when it is accepted before it takes effect."""
        documents = self.documents
        day = max(day, head.effective)
        return referenced(
            head.document, head.references,
            lambda slug: documents[slug].in_force(day) if slug in documents else None,
            lambda entry: entry.references)

    def manifest(self, head: Entry, day: date) -> tuple[str, str]:
        """The manifest of the bundle accepting ``head`` on ``day`` records, and its hash."""
        return manifest((e.document, e.id, e.content_sha256)
                        for e in (head, *self.bundle(head, day)))

    def listing(self, day: date, document: str | None = None) -> list[CatalogDocument]:
        """Every document (or only ``document``) with what is in force and announced on
        ``day``; each version's ``manifest`` is that of the bundle accepting it on ``day``
        records."""
        listing = []
        for doc in self.documents.values() if document is None else [self.document(document)]:
            values = {e.rowid: self._value(e, day) for e in doc.versions}
            current = doc.in_force(day)
            newest = doc.versions[-1] if doc.versions else None
            listing.append(CatalogDocument(
                slug=doc.slug, title=newest.title if newest else doc.slug, required=doc.required,
                in_force=values[current.rowid] if current else None,
                announced=tuple(values[e.rowid] for e in doc.upcoming(day)),
                versions=tuple(values.values())))
        return listing

    def _value(self, entry: Entry, day: date) -> CatalogVersion:
        text, digest = self.manifest(entry, day)
        return CatalogVersion(
            document=entry.document, id=entry.id, effective=entry.effective.isoformat(),
            label=entry.label, title=entry.title, summary=entry.summary,
            language=entry.language, url=entry.url, texts=entry.texts, material=entry.material,
            flag=entry.flag, verdict=entry.verdict,
            content_sha256=entry.content_sha256, references=entry.references, manifest=text,
            manifest_sha256=digest, commit=entry.commit, published_at=entry.published_at)


def load_catalog(tx: Tx) -> Catalog:
    """Read the catalog."""
    documents: dict[str, DocumentEntries] = {}
    for doc_id, slug, required in tx.execute(
            "SELECT id, slug, required FROM documents ORDER BY slug"):
        documents[slug] = DocumentEntries(doc_id, slug, bool(required))
    by_id = {d.id: d for d in documents.values()}
    translations: dict[int, list[Text]] = {}
    for version, language, title, summary, sha, url in tx.execute(
            "SELECT version, language, title, summary, content_sha256, url FROM translations "
            "ORDER BY version, language"):
        translations.setdefault(version, []).append(Text(
            language=language, title=title, summary=summary, content_sha256=sha, url=url))
    rows = tx.execute(
        "SELECT id, document, version, effective, label, title, summary, flag, verdict, "
        "content_sha256, refs, commit_sha, published_at, language, url "
        "FROM versions ORDER BY document, effective, position").fetchall()
    for (rowid, doc_id, version, effective, label, title, summary, flag, verdict, sha, refs,
         commit, published_at, language, url) in rows:
        doc = by_id[doc_id]
        own = Text(language=language, title=title, summary=summary, content_sha256=sha, url=url)
        entry = Entry(rowid=rowid, document_id=doc_id, ordinal=len(doc.versions),
                      document=doc.slug, id=version, effective=date.fromisoformat(effective),
                      label=label, title=title, summary=summary,
                      flag=None if flag is None else bool(flag),
                      verdict=None if verdict is None else bool(verdict), content_sha256=sha,
                      references=tuple(json.loads(refs)), commit=commit,
                      published_at=published_at, language=language, url=url,
                      texts=(own, *translations.get(rowid, ())))
        doc.versions.append(entry)
        before = doc.material_upto[-1] if doc.material_upto else 0
        doc.material_upto.append(before + entry.material)
    return Catalog(catalog_generation(tx), documents)


def catalog_generation(tx: Tx) -> int:
    """The catalog's generation, raised by every publication that changes it (0 before any)."""
    row = tx.execute("SELECT value FROM meta WHERE key = 'catalog'").fetchone()
    return row[0] if row else 0


def publish(tx: Tx, content: terms.Content, verdicts: Verdicts, allow_uncommitted: bool = False,
            *, required: Iterable[str] | None = None, languages: Iterable[str] | None = None,
            urls: Urls | None = None) -> Published:
    """Copy every version of ``content`` into the catalog, with its Markdown and its
    translations, in the write transaction ``tx``; ``verdicts`` are the change analysis' (see
    :func:`terms.assess_versions`).

    Idempotent; on any refusal nothing is published. A text already published keeps its
    text: a different ``content_sha256`` raises :class:`ChangedVersion`. Titles, summaries
    and URLs may change. Materiality may change until the version is in force; after that a
    changed ``material:`` flag raises :class:`ChangedVersion` and a newer verdict is not
    applied but reported in ``kept``. A version without a verdict keeps the one already
    stored. A new version read from uncommitted text (``commit is None``) of a git repository
    raises :class:`UncommittedVersion` unless ``allow_uncommitted``.

    :param required: the slugs of the documents every subject must accept at signup; the
        others are not. Defaults to keeping what is stored.
    :param languages: the languages whose translations are published. Defaults to all.
    :param urls: each text's page on the public site. Defaults to keeping what is stored.
    """
    clock = datetime.now(timezone.utc)
    today, now = clock.date(), clock.isoformat(timespec="seconds")
    wanted = None if languages is None else set(languages)
    in_git = None
    added: list[tuple[str, str]] = []
    updated: list[tuple[str, str]] = []
    kept: list[tuple[str, str]] = []
    translated: list[tuple[str, str, str, bool]] = []
    unchanged = 0
    for slug, document in content.documents.items():
        tx.execute("INSERT INTO documents (slug) VALUES (?) ON CONFLICT (slug) DO NOTHING", (slug,))
        (doc_id,) = tx.execute("SELECT id FROM documents WHERE slug = ?", (slug,)).fetchone()
        for position, version in enumerate(document.versions):
            flag = _number(version.material)
            verdict = _number(verdicts.get((slug, version.id)))
            markdown = _markdown(version)
            url = urls(version) if urls is not None else None
            old = tx.execute("SELECT content_sha256, title, summary, flag, verdict, position, "
                             "language, url, markdown IS NULL, id "
                             "FROM versions WHERE document = ? AND version = ?",
                             (doc_id, version.id)).fetchone()
            if old is None:
                if version.commit is None and not allow_uncommitted:
                    if in_git is None:
                        in_git = open_repo(Path(content.root)) is not None
                    if in_git:
                        raise UncommittedVersion(
                            f"{slug} version {version.id} ({version.path}) is not committed to "
                            f"git: commit it before publishing, so that the text accepted can "
                            f"be reproduced from git later")
                (rowid,) = tx.execute(
                    "INSERT INTO versions (document, version, effective, label, title, summary, "
                    "flag, verdict, content_sha256, refs, commit_sha, published_at, position, "
                    "language, url, markdown) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (doc_id, version.id, version.effective.isoformat(), version.label,
                     version.title, version.summary, flag, verdict, version.content_sha256,
                     json.dumps(list(version.references)), version.commit, now, position,
                     version.language, url, markdown)).fetchone()
                added.append((slug, version.id))
                translated.extend(_translations(tx, rowid, version, wanted, urls, new=True))
                continue
            if old[0] != version.content_sha256:
                raise ChangedVersion(
                    f"{slug} version {version.id} was published with content_sha256 {old[0]} "
                    f"and now has {version.content_sha256}: a published text cannot change; "
                    f"publish the change as a new version with its own effective date")
            verdict = verdict if verdict is not None else old[4]
            if version.effective <= today:  # in force: who must re-accept is settled
                if flag != old[3]:
                    raise ChangedVersion(
                        f"{slug} version {version.id} is in force and was published with "
                        f"material: {_flag(old[3])}; it now says material: {_flag(flag)}: "
                        f"who must accept it again cannot change once it is in force; restore "
                        f"the flag, or publish a new version")
                if verdict != old[4]:
                    kept.append((slug, version.id))
                    verdict = old[4]
            url = url if urls is not None else old[7]
            new = (version.title, version.summary, flag, verdict, position, version.language, url)
            texts = _translations(tx, old[9], version, wanted, urls, new=False)
            translated.extend(t for t in texts if t[3])
            if tuple(old[1:8]) == new and not old[8] and not texts:
                unchanged += 1
                continue
            tx.execute("UPDATE versions SET title = ?, summary = ?, flag = ?, verdict = ?, "
                       "position = ?, language = ?, url = ?, markdown = coalesce(markdown, ?) "
                       "WHERE id = ?", (*new, markdown, old[9]))
            updated.append((slug, version.id))
    marked = required is not None and _mark_required(tx, content, required)
    if added or updated or marked:
        tx.execute("INSERT INTO meta (key, value) VALUES ('catalog', 1) ON CONFLICT (key) "
                   "DO UPDATE SET value = meta.value + 1")
    return Published(added=tuple(added), updated=tuple(updated), unchanged=unchanged,
                     kept=tuple(kept), translations=tuple((t[0], t[1], t[2]) for t in translated))


def _markdown(version: terms.Version) -> str:
    """The text of ``version`` as the catalog keeps it: its normalized Markdown, whose SHA-256
    is its ``content_sha256`` (else the content was made wrong: :class:`InvalidContent`)."""
    markdown = normalize(version.body)
    if terms.content_sha256(markdown) != version.content_sha256:
        raise InvalidContent(f"nothing published: the {version.language} text of {version.slug} "
                             f"version {version.id} does not hash to its content_sha256 "
                             f"{version.content_sha256}", ())
    return markdown


def _translations(tx: Tx, rowid: int, version: terms.Version, wanted: set[str] | None,
                  urls: Urls | None, *, new: bool) -> list[tuple[str, str, str, bool]]:
    """Publish the translations of ``version`` (row ``rowid``) in the ``wanted`` languages;
    ``(slug, version, language, added)`` of each added or changed."""
    changed = []
    for text in version.translations:
        if wanted is not None and text.language not in wanted:
            continue
        url = urls(text) if urls is not None else None
        old = None if new else tx.execute(
            "SELECT content_sha256, title, summary, url FROM translations "
            "WHERE version = ? AND language = ?", (rowid, text.language)).fetchone()
        if old is None:
            tx.execute("INSERT INTO translations (version, language, title, summary, "
                       "content_sha256, url, markdown) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (rowid, text.language, text.title, text.summary, text.content_sha256,
                        url, _markdown(text)))
            changed.append((version.slug, version.id, text.language, True))
            continue
        if old[0] != text.content_sha256:
            raise ChangedVersion(
                f"the {text.language} text of {version.slug} version {version.id} "
                f"({text.path}) was published with content_sha256 {old[0]} and now has "
                f"{text.content_sha256}: a published text cannot change; translate a new "
                f"version of the document instead")
        url = url if urls is not None else old[3]
        if (text.title, text.summary, url) != tuple(old[1:]):
            tx.execute("UPDATE translations SET title = ?, summary = ?, url = ? "
                       "WHERE version = ? AND language = ?",
                       (text.title, text.summary, url, rowid, text.language))
            changed.append((version.slug, version.id, text.language, False))
    return changed


def _mark_required(tx: Tx, content: terms.Content, required: Iterable[str]) -> bool:
    """Mark the documents ``required`` at signup, and only those; whether any mark changed."""
    slugs = list(dict.fromkeys(required))
    unknown = [slug for slug in slugs if slug not in content.documents]
    if unknown:
        known = ", ".join(content.documents) or "none"
        raise UnpublishedDocument(f"nothing published: required names {unknown[0]!r}, which is "
                                  f"not a document of the content (its documents are: {known})")
    changed = False
    for doc_id, slug, was in tx.execute("SELECT id, slug, required FROM documents").fetchall():
        now = int(slug in slugs)
        if now != was:
            tx.execute("UPDATE documents SET required = ? WHERE id = ?", (now, doc_id))
            changed = True
    return changed


def _number(flag: bool | None) -> int | None:
    """A flag or verdict as stored: 1, 0 or ``None``."""
    return None if flag is None else int(flag)


def _flag(flag: int | None) -> str:
    return "not set" if flag is None else "true" if flag else "false"
