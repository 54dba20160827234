"""The ledger's own copy of the published versions, and publishing it from the content.

A service queries the catalog without the git repository. :class:`Catalog` is an in-memory
snapshot of it that the ledger keeps and reloads when the ``catalog`` generation changes.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from hashlib import sha256
from pathlib import Path
from typing import Mapping, Sequence

import terms
from terms import referenced
from terms.history import open_repo

from .errors import ChangedVersion, UncommittedVersion, UnknownDocument, UnknownVersion
from .values import CatalogDocument, CatalogVersion, Published

Verdicts = Mapping[tuple[str, str], bool]
"""The change analysis' materiality verdict per ``(slug, version id)``."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A catalog version with the ids and order the ledger works with."""

    rowid: int
    document_id: int
    ordinal: int
    """Position among the document's versions, oldest first."""
    effective: date
    value: CatalogVersion

    @property
    def id(self) -> str:
        return self.value.id


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
        for attribute in ("id", "label"):
            for entry in self.versions:
                if getattr(entry.value, attribute) == name:
                    return entry
        dated = [e for e in self.versions if e.value.effective == name]
        if len(dated) == 1:
            return dated[0]
        names = ", ".join(e.id for e in self.versions)
        raise UnknownVersion(f"version {name!r} of {self.slug!r} is not published; "
                             f"its published versions are: {names}")

    def in_force(self, day: date) -> Entry | None:
        current = None
        for entry in self.versions:
            if entry.effective <= day:
                current = entry
        return current

    def upcoming(self, day: date) -> list[Entry]:
        return [e for e in self.versions if e.effective > day]

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
        self.standings: dict[tuple[int, int], object] = {}
        """The ledger's cache of :class:`~consent.status.Standing` per (document id, day)."""

    def document(self, slug: str) -> DocumentEntries:
        try:
            return self.documents[slug]
        except (KeyError, TypeError):
            known = ", ".join(self.documents) or "none (run termsledger publish)"
            raise UnknownDocument(f"document {slug!r} is not published; "
                                  f"the published documents are: {known}") from None

    def bundle(self, head: Entry, day: date) -> list[Entry]:
        """The versions of the documents ``head`` references (transitively): what accepting
        ``head`` on ``day`` accepts with it. Those in force on ``day``, or on ``head``'s
        effective date when it is accepted before it takes effect."""
        documents = self.documents
        day = max(day, head.effective)
        return referenced(
            self.by_id[head.document_id].slug, head.value.references,
            lambda slug: documents[slug].in_force(day) if slug in documents else None,
            lambda entry: entry.value.references)

    def listing(self, day: date) -> list[CatalogDocument]:
        """Every document with what is in force and announced on ``day``; each version's
        ``manifest`` is that of the bundle accepting it on ``day`` records."""
        listing = []
        for doc in self.documents.values():
            values = {e.rowid: self._on(e, day) for e in doc.versions}
            current = doc.in_force(day)
            newest = doc.versions[-1].value if doc.versions else None
            listing.append(CatalogDocument(
                doc.slug, newest.title if newest else doc.slug,
                values[current.rowid] if current else None,
                tuple(values[e.rowid] for e in doc.upcoming(day)), tuple(values.values())))
        return listing

    def _on(self, entry: Entry, day: date) -> CatalogVersion:
        text, digest = manifest([entry, *self.bundle(entry, day)])
        return replace(entry.value, manifest=text, manifest_sha256=digest)


def manifest(entries: Sequence[Entry]) -> tuple[str, str]:
    """A bundle's manifest, one ``slug version content_sha256`` line per version (the head
    first), and its SHA-256: what a client passes as ``sha256`` to prove the bundle it showed."""
    text = "".join(f"{e.value.document} {e.id} {e.value.content_sha256}\n" for e in entries)
    return text, sha256(text.encode("utf-8")).hexdigest()


def load_catalog(conn: sqlite3.Connection) -> Catalog:
    """Read the catalog from the database."""
    documents: dict[str, DocumentEntries] = {}
    for doc_id, slug in conn.execute("SELECT id, slug FROM documents ORDER BY slug"):
        documents[slug] = DocumentEntries(doc_id, slug)
    by_id = {d.id: d for d in documents.values()}
    rows = conn.execute(
        "SELECT id, document, version, effective, label, title, summary, flag, verdict, "
        "content_sha256, refs, manifest, manifest_sha256, commit_sha, published_at "
        "FROM versions ORDER BY document, effective, position").fetchall()
    for (rowid, doc_id, version, effective, label, title, summary, flag, verdict, sha, refs,
         manifest, manifest_sha, commit, published_at) in rows:
        doc = by_id[doc_id]
        material = bool(flag) if flag is not None else bool(verdict)
        value = CatalogVersion(
            doc.slug, version, effective, label, title, summary, material,
            None if flag is None else bool(flag), None if verdict is None else bool(verdict),
            sha, tuple(json.loads(refs)), manifest, manifest_sha, commit, published_at)
        doc.versions.append(Entry(rowid, doc_id, len(doc.versions),
                                  date.fromisoformat(effective), value))
        before = doc.material_upto[-1] if doc.material_upto else 0
        doc.material_upto.append(before + material)
    row = conn.execute("SELECT value FROM meta WHERE key = 'catalog'").fetchone()
    return Catalog(row[0] if row else 0, documents)


def catalog_generation(conn: sqlite3.Connection) -> int:
    """The catalog's generation, raised by every publication that changes it (0 before any)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'catalog'").fetchone()
    return row[0] if row else 0


def publish(conn: sqlite3.Connection, content: terms.Content, verdicts: Verdicts | None = None,
            allow_uncommitted: bool = False) -> Published:
    """Copy every version of ``content`` into the catalog; call inside a write transaction.

    Idempotent; on any refusal nothing is published. A version already published keeps its
    text: a different ``content_sha256`` raises :class:`ChangedVersion`. Title and summary may
    change. Materiality may change until the version is in force; after that a changed
    ``material:`` flag raises :class:`ChangedVersion` and a newer verdict is not applied but
    reported in ``kept``. A verdict of ``None`` keeps the one already stored. A new version
    read from uncommitted text (``commit is None``) of a git repository raises
    :class:`UncommittedVersion` unless ``allow_uncommitted``.
    """
    verdicts = verdicts or {}
    clock = datetime.now(timezone.utc)
    today, now = clock.date(), clock.isoformat(timespec="seconds")
    in_git = None
    added, updated, kept, unchanged = [], [], [], 0
    for slug, document in content.documents.items():
        conn.execute("INSERT OR IGNORE INTO documents (slug) VALUES (?)", (slug,))
        (doc_id,) = conn.execute("SELECT id FROM documents WHERE slug = ?", (slug,)).fetchone()
        for position, version in enumerate(document.versions):
            row = _version_row(content, version, verdicts.get((slug, version.id)))
            old = conn.execute("SELECT content_sha256, title, summary, flag, verdict, position "
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
                conn.execute(
                    "INSERT INTO versions (document, version, effective, label, title, summary, flag, "
                    "verdict, content_sha256, refs, manifest, manifest_sha256, commit_sha, "
                    "published_at, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc_id, *row, now, position))
                added.append((slug, version.id))
                continue
            if old[0] != version.content_sha256:
                raise ChangedVersion(
                    f"{slug} version {version.id} was published with content_sha256 {old[0]} "
                    f"and now has {version.content_sha256}: a published text cannot change; "
                    f"publish the change as a new version with its own effective date")
            verdict = row[6] if row[6] is not None else old[4]
            if version.effective <= today:  # in force: who must re-accept is settled
                if row[5] != old[3]:
                    raise ChangedVersion(
                        f"{slug} version {version.id} is in force and was published with "
                        f"material: {_flag(old[3])}; it now says material: {_flag(row[5])}: "
                        f"who must accept it again cannot change once it is in force; restore "
                        f"the flag, or publish a new version")
                if verdict != old[4]:
                    kept.append((slug, version.id))
                    verdict = old[4]
            new = (version.title, version.summary, row[5], verdict, position)
            if tuple(old[1:]) == new:
                unchanged += 1
                continue
            conn.execute("UPDATE versions SET title = ?, summary = ?, flag = ?, verdict = ?, "
                         "position = ? WHERE document = ? AND version = ?",
                         (*new, doc_id, version.id))
            updated.append((slug, version.id))
    if added or updated:
        conn.execute("INSERT INTO meta (key, value) VALUES ('catalog', 1) ON CONFLICT (key) "
                     "DO UPDATE SET value = value + 1")
    return Published(tuple(added), tuple(updated), unchanged, tuple(kept))


def _flag(flag: int | None) -> str:
    return "not set" if flag is None else "true" if flag else "false"


def _version_row(content: terms.Content, version: terms.Version, verdict: bool | None) -> tuple:
    bundle = content.bundle(version.slug, version=version)
    flag = None if version.material is None else int(version.material)
    return (version.id, version.effective.isoformat(), version.label, version.title,
            version.summary, flag, None if verdict is None else int(verdict),
            version.content_sha256, json.dumps(list(version.references)), bundle.manifest,
            bundle.manifest_sha256, version.commit)
