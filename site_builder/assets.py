"""Files that documents show or link to (images, PDFs…), published with the site.

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
import posixpath
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from terms import Content, Version
from terms.files import PUBLISHED_SUFFIXES, read_file
from terms.history import committed_file, open_repo
from terms.markdown import link_target

from . import urls
from .render import rewrite_urls

MARK = ".termsledger-asset/"
"""Prefix of the link targets :mod:`site_builder.links` leaves for :meth:`Assets.fill`: the
rendered bodies, cached, do not depend on the bytes of the files."""


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
    """Finds the files the bodies of ``content`` refer to and keeps them for the writer."""

    def __init__(self, content: Content):
        self.root = Path(content.root).resolve()
        self.files: dict[str, bytes] = {}
        """Site path of each file to publish: its bytes."""
        self.sources: set[str] = set()
        """The working-tree files looked for (found or not), relative to the content folder."""
        self._repo = open_repo(self.root)
        top = Path(self._repo.working_tree_dir).resolve() if self._repo else self.root
        self._prefix = "" if top == self.root else self.root.relative_to(top).as_posix() + "/"
        self._found: dict[tuple[str | None, str], str | None] = {}

    def fill(self, html: str, version: Version, page_url: str) -> str:
        """``html`` of ``version`` shown on ``page_url``, the links marked by
        :mod:`site_builder.links` going to the published files (as written when missing)."""
        if MARK not in html:
            return html

        def link(url: str) -> str:
            if not url.startswith(MARK):
                return url
            href = unquote(url[len(MARK):])
            source = source_path(version.path, href)
            published = self.url(version.commit, source[0]) if source else None
            if published is None:
                return href
            return urls.relative(page_url, published) + (f"#{source[1]}" if source[1] else "")

        return rewrite_urls(html, link)

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
                self.files[url] = data
            self._found[commit, path] = url
        url = self._found[commit, path]
        return quote(url) if url else None

    def _committed(self, commit: str, path: str) -> bytes | None:
        return committed_file(self._repo, commit, self._prefix + path)

    def _working(self, path: str) -> bytes | None:
        self.sources.add(path)
        return read_file(self.root, path)

