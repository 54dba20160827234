"""The values of the content model. Instances are immutable."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Protocol, TypeVar

from .errors import UnknownDocument, UnknownVersion

T = TypeVar("T")


class Dated(Protocol):
    """A version as :func:`version_named`, :func:`in_force_on` and :func:`announced_on` need
    it (a :class:`Version`, or the consent ledger's copy of one)."""

    @property
    def id(self) -> str: ...

    @property
    def label(self) -> str | None: ...

    @property
    def effective(self) -> date: ...


D = TypeVar("D", bound=Dated)


def version_named(versions: Sequence[D], name: str) -> D | None:
    """The version of ``versions`` (one document's, oldest first) named ``name``: its id, its
    label, or its effective date if no other version shares it; ``None`` if none."""
    for attribute in ("id", "label"):
        for version in versions:
            if getattr(version, attribute) == name:
                return version
    dated = [v for v in versions if v.effective.isoformat() == name]
    return dated[0] if len(dated) == 1 else None


def in_force_on(versions: Sequence[D], day: date) -> D | None:
    """The version of ``versions`` (oldest first) in force on ``day``: the last to take effect
    by then; ``None`` before the first."""
    current = None
    for version in versions:
        if version.effective <= day:
            current = version
    return current


def announced_on(versions: Sequence[D], day: date) -> tuple[D, ...]:
    """Every version of ``versions`` (oldest first) announced but not yet in force on ``day``,
    soonest first; not one that a later version of the same day replaces (see :func:`replaced`),
    which will never be."""
    return tuple(v for v, after in zip(versions, (*versions[1:], None), strict=True)
                 if v.effective > day and not replaced(v, after))


def replaced(version: D, after: D | None) -> bool:
    """Whether ``version`` is replaced before it takes effect by ``after``, the version after it:
    a second version for the same day (a label) is the one that takes effect."""
    return after is not None and after.effective == version.effective


def manifest(versions: Iterable[tuple[str, str, str]]) -> tuple[str, str]:
    """A bundle's manifest and its SHA-256 (hex): one ``slug version content_sha256`` line per
    ``(slug, version id, content_sha256)``, the bundle's head first. What a user accepts when
    accepting "the Terms"; the one function that writes this format.

    >>> manifest([("terms", "2026-01-01", "ab12")])[0]
    'terms 2026-01-01 ab12\\n'
    """
    text = "".join(f"{slug} {version} {sha}\n" for slug, version, sha in versions)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def utc_date(at: datetime | date | None) -> date:
    """The UTC calendar day of ``at`` (today when ``None``). Versions take effect
    at the start of their effective day, UTC."""
    if at is None:
        at = datetime.now(timezone.utc)
    if isinstance(at, datetime):
        if at.tzinfo is not None:
            at = at.astimezone(timezone.utc)
        return at.date()
    return at


@dataclass(frozen=True)
class Problem:
    """Something wrong (``error``) or suspicious (``warning``) in the content."""

    path: str
    line: int
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Version:
    """One version of a document: the text that takes effect on ``effective``."""

    slug: str
    id: str
    """Name of the version in URLs and the ledger, which never changes: the effective date,
    ``YYYY-MM-DD``, for the first version announced for that date; ``YYYY-MM-DD-label`` for
    the versions announced after it for the same date."""
    effective: date
    label: str | None
    title: str
    summary: str
    material: bool | None
    """The editor's ``material:`` flag; ``None`` when the front matter does not say."""
    references: tuple[str, ...]
    body: str
    """The normalized Markdown body."""
    content_sha256: str
    path: str
    """Path of the file, relative to the content folder, in the commit the text was read from."""
    commit: str | None
    """The git commit the text was read from; ``None`` for a plain folder or uncommitted text."""
    committed_at: datetime | None
    """When the text was committed (UTC); for uncommitted text in git, the file's modification
    time; ``None`` for a plain folder."""
    announced_at: datetime | None
    """When the first commit carrying this effective date and label was made; for text not
    committed yet, the file's modification time; ``None`` for a plain folder."""
    body_line: int = 1
    """Line of the file on which ``body`` starts."""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    """Front-matter keys termsledger does not use, kept as found."""
    key_lines: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False, repr=False)
    """Line of the file on which each front-matter key stands, for messages."""
    language: str = "en"
    """BCP 47 tag of the language of the text: the site's default language for a document's
    own file, the file name's (``terms.fr.md``) for a translation."""
    translations: tuple[Version, ...] = field(default=(), compare=False, hash=False, repr=False)
    """The texts of this version in other languages, by language tag; each is a
    :class:`Version` with this one's ``slug``, ``id``, ``effective``, ``label``,
    ``material`` and ``references`` and its own ``language``, ``title``, ``summary``, body,
    ``content_sha256`` and file. A translation has none itself."""

    def in_force(self, at: datetime | date | None = None) -> bool:
        """True if this version's effective day has come at ``at`` (it may be superseded)."""
        return self.effective <= utc_date(at)

    def translation(self, language: str) -> Version | None:
        """The text of this version in ``language``: itself in its own language, else its
        translation, ``None`` when there is none."""
        if language == self.language:
            return self
        return next((t for t in self.translations if t.language == language), None)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this version has a text in, its own first."""
        return (self.language, *(t.language for t in self.translations))


@dataclass(frozen=True)
class Document:
    """A document and all its versions, oldest first."""

    slug: str
    path: str
    versions: tuple[Version, ...]

    @property
    def title(self) -> str:
        """The title of the version in force now, or of the first version if none is yet
        (a title announced for later is not the document's title until then)."""
        return (self.in_force() or self.versions[0]).title

    def version(self, name: str) -> Version:
        """The version named ``name``: its id, its effective date or its label."""
        found = version_named(self.versions, name)
        if found is not None:
            return found
        names = ", ".join(v.id for v in self.versions)
        raise UnknownVersion(f"{self.slug} has no version {name!r}; its versions are: {names}")

    def in_force(self, at: datetime | date | None = None) -> Version | None:
        """The version in force at ``at`` (now by default), or ``None`` before the first."""
        return in_force_on(self.versions, utc_date(at))

    def announced(self, at: datetime | date | None = None) -> Version | None:
        """The next version that is announced but not yet in force at ``at``."""
        upcoming = self.upcoming(at)
        return upcoming[0] if upcoming else None

    def upcoming(self, at: datetime | date | None = None) -> tuple[Version, ...]:
        """Every version announced but not yet in force at ``at``, soonest first."""
        return announced_on(self.versions, utc_date(at))

    def previous(self, version: Version) -> Version | None:
        """The version before ``version``, or ``None`` for the first."""
        index = self.versions.index(version)
        return self.versions[index - 1] if index else None


@dataclass(frozen=True)
class Bundle:
    """A document version plus the versions of the documents it references
    (transitively) in force at the same moment. Accepting "the Terms" accepts a bundle."""

    document: Version
    references: tuple[Version, ...]

    @property
    def versions(self) -> tuple[Version, ...]:
        """The document's version first, then the versions it references."""
        return (self.document,) + self.references

    @property
    def manifest(self) -> str:
        """One line per version: ``slug version content_sha256``, the document first (see
        :func:`manifest`)."""
        return manifest((v.slug, v.id, v.content_sha256) for v in self.versions)[0]

    @property
    def manifest_sha256(self) -> str:
        """SHA-256 (hex) of :attr:`manifest`: what a user accepts when accepting the bundle."""
        return manifest((v.slug, v.id, v.content_sha256) for v in self.versions)[1]


@dataclass(frozen=True)
class Content:
    """Every document of a content folder, and the problems found while reading it."""

    root: str
    documents: Mapping[str, Document]
    problems: tuple[Problem, ...] = ()
    language: str = "en"
    """The language of the documents' own files; their translations say their own."""
    left_out: tuple[str, ...] = ()
    """The document files left out because another file took their slug first (each has an
    error in :attr:`problems`)."""

    def document(self, slug: str) -> Document:
        """The document with ``slug``; raises :class:`UnknownDocument`."""
        try:
            return self.documents[slug]
        except KeyError:
            known = ", ".join(sorted(self.documents)) or "none"
            raise UnknownDocument(f"no document {slug!r}; the documents are: {known}") from None

    def in_language(self, language: str) -> Content:
        """The documents as read in ``language``: each version's translation where it has one,
        else the version itself (its ``language`` tells which). Versions keep their ids, so a
        page or a link names the same version in every language."""
        if language == self.language:
            return self
        documents = {slug: Document(d.slug, d.path, tuple(v.translation(language) or v for v in d.versions))
                     for slug, d in self.documents.items()}
        return Content(self.root, documents, (), self.language, self.left_out)

    def versions(self, slug: str) -> tuple[Version, ...]:
        """Every version of the document ``slug``, oldest first."""
        return self.document(slug).versions

    def in_force(self, slug: str, at: datetime | date | None = None) -> Version | None:
        """The version of ``slug`` in force at ``at`` (now by default), or ``None`` before the first."""
        return self.document(slug).in_force(at)

    def announced(self, slug: str, at: datetime | date | None = None) -> Version | None:
        """The next version of ``slug`` announced but not yet in force at ``at``."""
        return self.document(slug).announced(at)

    def bundle(self, slug: str, at: datetime | date | None = None, version: Version | None = None) -> Bundle:
        """The bundle of ``slug`` in force at ``at``, or of ``version`` at its effective date.

        Raises :class:`UnknownVersion` when nothing is in force at ``at``."""
        document = self.document(slug)
        head = version or document.in_force(at)
        if head is None:
            raise UnknownVersion(f"no version of {slug!r} is in force on {utc_date(at)}")
        day = head.effective if version is not None else utc_date(at)
        documents = self.documents
        return Bundle(head, tuple(referenced(
            slug, head.references, lambda ref: documents[ref].in_force(day) if ref in documents else None,
            lambda version: version.references)))


def referenced(slug: str, references: Iterable[str], in_force: Callable[[str], T | None],
               references_of: Callable[[T], Iterable[str]]) -> list[T]:
    """What a bundle holds besides its head: the documents that ``slug`` references,
    transitively and each once, as ``in_force(slug)`` finds them (``None`` leaves one out)."""
    seen, queue, members = {slug}, list(references), []
    while queue:
        ref = queue.pop(0)
        if ref in seen:
            continue
        seen.add(ref)
        member = in_force(ref)
        if member is not None:
            members.append(member)
            queue.extend(references_of(member))
    return members
