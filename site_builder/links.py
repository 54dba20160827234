"""Links in the documents' bodies, and the files they refer to.

- A relative link to another Markdown file becomes a link to that document's page, keeping
  the anchor (:func:`resolver`). Any other relative link or image target is marked (written as
  :data:`MARK` followed by the target as written, quoted): bodies and redlines, which are cached,
  do not depend on the bytes of the files. :meth:`Assets.fill` points each marked target to the
  published file on every build.
- Each file is published at ``assets/<first 16 hex digits of its SHA-256>/<its name>``:
  content-addressed, so that a permanent version page keeps showing the image it was
  published with after the image is replaced, and a file many versions share is one file.
- A committed version takes each file as it was in its commit (the one its text was read
  from): the published text and its images stay together, and replacing an image changes
  the pages from the next version on. A file that is not in that commit (added later), and
  every file of an uncommitted version or a plain folder, is read from the working tree.
- Only regular files inside the content folder are published (see :mod:`terms.files`): a
  path leaving it (``../``), a symbolic link (committed or not, wherever it points), a file
  larger than :data:`terms.files.MAX_FILE_BYTES`, a hidden file or folder (``.git``,
  ``.env``) or a file of a kind that is not in :data:`terms.files.PUBLISHED_SUFFIXES` (HTML,
  SVG, scripts: they would run on the site; Markdown files that are not documents) counts as
  missing, and the link to a missing file stays as written (``termsledger check`` reports it).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from terms import PUBLISHED_SUFFIXES, Content, Version, committed_file, link_target, open_repo, read_file

from . import urls
from .render import rewrite_urls

if TYPE_CHECKING:
    import git

MARK = ".termsledger-asset/"
"""Prefix of the link targets :func:`resolver` leaves for :meth:`Assets.fill`."""
_MARKED = re.compile(r'\s(?:href|src)="' + re.escape(MARK) + r'([^"]*)"')
SIDE = "termsledger-{}:"
"""Prefix of the links of each side of a redline (``{}`` is ``old`` or ``new``): a redline's
HTML depends on the two texts only, and :func:`side_resolver` resolves its links on the page."""


def targets(content: Content, at: date | None, layout: urls.Layout = urls.DEFAULT) -> dict[str, str]:
    """Map each document file path (current and past) to the URL a link to it goes to:
    the version in force on ``at`` when there is one, else the document's page.
    ``at=None`` always links to the document's page (its version in force). URLs are those of
    ``layout``'s language, and a translation's file leads to its document's page there."""
    found = {}
    for document in content.documents.values():
        url = layout.document_url(document.slug)
        if at is not None:
            version = document.in_force(at)
            url = layout.version_url(document.slug, version.id) if version else url
        texts = [t for v in document.versions for t in (v, *v.translations)]
        for path in {t.path for t in texts} | {document.path}:
            found[path] = url
    return found


def resolver(version: Version, page_url: str, link_targets: dict[str, str]) -> Callable[[str], str]:
    """The function that rewrites the link and image targets of ``version`` shown on ``page_url``."""

    def resolve(href: str) -> str:
        resolved = link_target(version.path, href)
        if resolved is None or not urlsplit(href).path:
            return href
        target, fragment = resolved
        if target not in link_targets:
            return MARK + quote(href, safe="")
        url = link_targets[target] + (f"#{fragment}" if fragment else "")
        return urls.relative(page_url, url)

    return resolve


def side_resolver(side: str, version: Version, page_url: str, link_targets: dict[str, str],
                  layout: urls.Layout = urls.DEFAULT) -> Callable[[str], str]:
    """For a redline on ``page_url``: the function that resolves the links of ``side``
    (``"old"`` or ``"new"``, see :data:`SIDE`) as on the page of ``version``, a link to a
    heading of the document going to that page; other links as they are."""
    prefix = SIDE.format(side)
    resolve = resolver(version, page_url, link_targets)
    page = layout.version_url(version.slug, version.id)

    def link(url: str) -> str:
        if not url.startswith(prefix):
            return url
        href = url[len(prefix):]
        return urls.relative(page_url, page) + href if href.startswith("#") else resolve(href)

    return link


def source_path(version_path: str, href: str) -> tuple[str, str] | None:
    """``(path in the content folder, fragment)`` of a relative link ``href`` in the document
    at ``version_path``, or ``None`` if it is not a file that may be published.

    >>> source_path("legal/terms.md", "images/flow%20chart.png#x")
    ('legal/images/flow chart.png', 'x')
    >>> source_path("terms.md", "../../etc/passwd") is None
    True
    """
    resolved = link_target(version_path, href)
    if resolved is None or not urlsplit(href).path:
        return None
    path, fragment = resolved
    if any(p.startswith(".") for p in path.split("/")) or "\\" in path or \
            posixpath.splitext(path)[1].lower() not in PUBLISHED_SUFFIXES:
        return None
    return path, fragment


class Assets:
    """Finds the files the bodies of ``content`` refer to and keeps them for the writer. Each
    process reads git with its own repository object, opened when a file is first looked for
    (a forked worker must not share the ``git cat-file`` processes of the one it was forked
    from, and most sites link to no file)."""

    def __init__(self, content: Content):
        self.root = Path(content.root).resolve()
        self.files: dict[str, bytes] = {}
        """Site path of each file to publish: its bytes."""
        self.sources: set[str] = set()
        """The working-tree files looked for (found or not), relative to the content folder."""
        self._repo: git.Repo | None = None
        self._pid: int | None = None
        """The process that opened :attr:`_repo`."""
        self._prefix = ""
        """The content folder in the repository (``""`` at its top, else ``folder/``)."""
        self._found: dict[tuple[str | None, str], str | None] = {}
        self._new: tuple[dict[str, bytes], set[str]] = ({}, set())

    def take(self) -> tuple[dict[str, bytes], set[str]]:
        """The files and working-tree sources found since the last call: what a worker
        process found, for the process it was forked from to :meth:`add`."""
        new, self._new = self._new, ({}, set())
        return new

    def add(self, files: dict[str, bytes], sources: set[str]) -> None:
        """Keep ``files`` and ``sources`` found by another process (see :meth:`take`)."""
        self.files.update(files)
        self.sources.update(sources)

    def fill(self, html: str, version: Version, page_url: str) -> str:
        """``html`` of ``version`` shown on ``page_url``, the links marked by :func:`resolver`
        going to the published files (as written when missing)."""
        if MARK not in html:
            return html

        def link(url: str) -> str:
            if not url.startswith(MARK):
                return url
            href = unquote(url[len(MARK):])
            source = source_path(version.path, href)
            if source is None:
                return href
            published = self.url(version.commit, source[0])
            if published is None:
                return href
            return urls.relative(page_url, published) + (f"#{source[1]}" if source[1] else "")

        return rewrite_urls(html, link)

    def published(self, html: str, version: Version) -> list[tuple[str, str | None]]:
        """Each link of ``html`` (of ``version``) marked by :func:`resolver`, as written, with
        the site URL of the file it points to (``None`` when missing): what :meth:`fill` makes
        of them."""
        if MARK not in html:
            return []
        found = []
        for marked in dict.fromkeys(_MARKED.findall(html)):
            href = unquote(marked)
            source = source_path(version.path, href)
            found.append((href, self.url(version.commit, source[0]) if source else None))
        return found

    def url(self, commit: str | None, path: str) -> str | None:
        """The site URL of the file at ``path`` as of ``commit`` (see the module's notes),
        or ``None`` if there is none."""
        if (commit, path) not in self._found:
            data = self._committed(commit, path) if commit else None
            if data is None:
                data = self._working(path)
            url = None
            if data is not None:
                url = f"assets/{hashlib.sha256(data).hexdigest()[:16]}/{posixpath.basename(path)}"
                self.files[url] = self._new[0][url] = data
            self._found[commit, path] = url
        url = self._found[commit, path]
        return quote(url) if url else None

    def _committed(self, commit: str, path: str) -> bytes | None:
        if self._pid != os.getpid():
            self._repo, self._pid = open_repo(self.root), os.getpid()
            tree = self._repo.working_tree_dir if self._repo else None
            top = Path(tree).resolve() if tree else self.root
            self._prefix = "" if top == self.root else self.root.relative_to(top).as_posix() + "/"
        return committed_file(self._repo, commit, self._prefix + path) if self._repo else None

    def _working(self, path: str) -> bytes | None:
        self.sources.add(path)
        self._new[1].add(path)
        return read_file(self.root, path)
