"""The ledger's own copy of the published versions, and publishing it from the content.

A service queries the catalog without the git repository. :class:`Catalog` is an in-memory
snapshot of it that the ledger keeps and reloads when the ``catalog`` generation changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import terms
from terms import announced_on, in_force_on, manifest, open_repo, referenced, version_named

from .errors import ChangedVersion, UncommittedVersion, UnpublishedDocument, UnpublishedVersion
from .store import Tx
from .values import CatalogDocument, CatalogVersion, Published

Verdicts = Mapping[tuple[str, str], bool]
"""The change analysis' materiality verdict per ``(slug, version id)``."""


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

    @property
    def material(self) -> bool:
        """What the ledger acts on: the editor's flag when set, else the analysis' verdict."""
        return self.flag if self.flag is not None else bool(self.verdict)


@dataclass
class DocumentEntries:
    """One document's catalog entries, oldest first."""

    id: int
    slug: str
    versions: list[Entry] = field(default_factory=list)
    material_upto: list[int] = field(default_factory=list)
    """``material_upto[i]``: how many of ``versions[:i + 1]`` are material."""

    def version(self, name: str) -> Entry:
        """The version named ``name``: its id, its label or its effective date."""
        found = version_named(self.versions, name)
        if found is not None:
            return found
        names = ", ".join(e.id for e in self.versions)
        raise UnpublishedVersion(f"version {name!r} of {self.slug!r} is not published; "
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

    def document(self, slug: str) -> DocumentEntries:
        """The published document ``slug``; raises :class:`UnpublishedDocument`."""
        try:
            return self.documents[slug]
        except (KeyError, TypeError):
            known = ", ".join(self.documents) or "none (run termsledger publish)"
            raise UnpublishedDocument(f"document {slug!r} is not published; "
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

    def listing(self, day: date) -> list[CatalogDocument]:
        """Every document with what is in force and announced on ``day``; each version's
        ``manifest`` is that of the bundle accepting it on ``day`` records."""
        listing = []
        for doc in self.documents.values():
            values = {e.rowid: self._value(e, day) for e in doc.versions}
            current = doc.in_force(day)
            newest = doc.versions[-1] if doc.versions else None
            listing.append(CatalogDocument(
                slug=doc.slug, title=newest.title if newest else doc.slug,
                in_force=values[current.rowid] if current else None,
                announced=tuple(values[e.rowid] for e in doc.upcoming(day)),
                versions=tuple(values.values())))
        return listing

    def _value(self, entry: Entry, day: date) -> CatalogVersion:
        text, digest = self.manifest(entry, day)
        return CatalogVersion(
            document=entry.document, id=entry.id, effective=entry.effective.isoformat(),
            label=entry.label, title=entry.title, summary=entry.summary,
            material=entry.material, flag=entry.flag, verdict=entry.verdict,
            content_sha256=entry.content_sha256, references=entry.references, manifest=text,
            manifest_sha256=digest, commit=entry.commit, published_at=entry.published_at)


def load_catalog(tx: Tx) -> Catalog:
    """Read the catalog."""
    documents: dict[str, DocumentEntries] = {}
    for doc_id, slug in tx.execute("SELECT id, slug FROM documents ORDER BY slug"):
        documents[slug] = DocumentEntries(doc_id, slug)
    by_id = {d.id: d for d in documents.values()}
    rows = tx.execute(
        "SELECT id, document, version, effective, label, title, summary, flag, verdict, "
        "content_sha256, refs, commit_sha, published_at "
        "FROM versions ORDER BY document, effective, position").fetchall()
    for (rowid, doc_id, version, effective, label, title, summary, flag, verdict, sha, refs,
         commit, published_at) in rows:
        doc = by_id[doc_id]
        entry = Entry(rowid=rowid, document_id=doc_id, ordinal=len(doc.versions),
                      document=doc.slug, id=version, effective=date.fromisoformat(effective),
                      label=label, title=title, summary=summary,
                      flag=None if flag is None else bool(flag),
                      verdict=None if verdict is None else bool(verdict), content_sha256=sha,
                      references=tuple(json.loads(refs)), commit=commit,
                      published_at=published_at)
        doc.versions.append(entry)
        before = doc.material_upto[-1] if doc.material_upto else 0
        doc.material_upto.append(before + entry.material)
    return Catalog(catalog_generation(tx), documents)


def catalog_generation(tx: Tx) -> int:
    """The catalog's generation, raised by every publication that changes it (0 before any)."""
    row = tx.execute("SELECT value FROM meta WHERE key = 'catalog'").fetchone()
    return row[0] if row else 0


def publish(tx: Tx, content: terms.Content, verdicts: Verdicts,
            allow_uncommitted: bool = False) -> Published:
    """Copy every version of ``content`` into the catalog, in the write transaction ``tx``;
    ``verdicts`` are the change analysis' (see :func:`terms.assess_versions`).

    Idempotent; on any refusal nothing is published. A version already published keeps its
    text: a different ``content_sha256`` raises :class:`ChangedVersion`. Title and summary may
    change. Materiality may change until the version is in force; after that a changed
    ``material:`` flag raises :class:`ChangedVersion` and a newer verdict is not applied but
    reported in ``kept``. A version without a verdict keeps the one already stored. A new
    version read from uncommitted text (``commit is None``) of a git repository raises
    :class:`UncommittedVersion` unless ``allow_uncommitted``.
    """
    clock = datetime.now(timezone.utc)
    today, now = clock.date(), clock.isoformat(timespec="seconds")
    in_git = None
    added: list[tuple[str, str]] = []
    updated: list[tuple[str, str]] = []
    kept: list[tuple[str, str]] = []
    unchanged = 0
    for slug, document in content.documents.items():
        tx.execute("INSERT INTO documents (slug) VALUES (?) ON CONFLICT (slug) DO NOTHING", (slug,))
        (doc_id,) = tx.execute("SELECT id FROM documents WHERE slug = ?", (slug,)).fetchone()
        for position, version in enumerate(document.versions):
            flag = _number(version.material)
            verdict = _number(verdicts.get((slug, version.id)))
            old = tx.execute("SELECT content_sha256, title, summary, flag, verdict, position "
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
                tx.execute(
                    "INSERT INTO versions (document, version, effective, label, title, summary, "
                    "flag, verdict, content_sha256, refs, commit_sha, published_at, position) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc_id, version.id, version.effective.isoformat(), version.label,
                     version.title, version.summary, flag, verdict, version.content_sha256,
                     json.dumps(list(version.references)), version.commit, now, position))
                added.append((slug, version.id))
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
            new = (version.title, version.summary, flag, verdict, position)
            if tuple(old[1:]) == new:
                unchanged += 1
                continue
            tx.execute("UPDATE versions SET title = ?, summary = ?, flag = ?, verdict = ?, "
                       "position = ? WHERE document = ? AND version = ?",
                       (*new, doc_id, version.id))
            updated.append((slug, version.id))
    if added or updated:
        tx.execute("INSERT INTO meta (key, value) VALUES ('catalog', 1) ON CONFLICT (key) "
                   "DO UPDATE SET value = meta.value + 1")
    return Published(added=tuple(added), updated=tuple(updated), unchanged=unchanged,
                     kept=tuple(kept))


def _number(flag: bool | None) -> int | None:
    """A flag or verdict as stored: 1, 0 or ``None``."""
    return None if flag is None else int(flag)


def _flag(flag: int | None) -> str:
    return "not set" if flag is None else "true" if flag else "false"
