"""The URL layout of the site. Every URL here is relative to the site root;
pages are folders (``terms/history/``) served by their ``index.html``.

>>> version_url("terms", "2026-03-01")
'terms/2026-03-01/'
>>> relative("terms/2026-03-01/", "privacy/")
'../../privacy/'
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from terms import SLUG

from .errors import InvalidPath

VERSION = re.compile(rf"^\d{{4}}-\d{{2}}-\d{{2}}(?:-{SLUG.pattern.strip('^$')})?$")
"""A version name: its effective date, then ``-label`` when two versions share the date."""

INDEX = ""
STYLESHEET = "site.css"
FEED = "feed.xml"
VERSIONS_JSON = "versions.json"
SITEMAP = "sitemap.xml"
NOT_FOUND = "404.html"


def check_slug(slug: str) -> str:
    """``slug`` if it is safe as a URL segment; raises :class:`InvalidPath` otherwise."""
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise InvalidPath(f"document slug {slug!r} cannot be published: use lowercase letters, "
                          "digits and single hyphens")
    return slug


def check_version(slug: str, version: str) -> str:
    """``version`` if it is a safe version name (``YYYY-MM-DD`` or ``YYYY-MM-DD-label``)."""
    if not isinstance(version, str) or not VERSION.match(version):
        raise InvalidPath(f"version {version!r} of {slug!r} cannot be published: a version is named "
                          "YYYY-MM-DD, optionally followed by -label")
    return version


def document_url(slug: str) -> str:
    """The page of the version of ``slug`` in force."""
    return f"{check_slug(slug)}/"


def version_url(slug: str, version: str) -> str:
    """The permanent page of ``version`` of ``slug``."""
    return f"{check_slug(slug)}/{check_version(slug, version)}/"


def history_url(slug: str) -> str:
    """The revisions page of ``slug``."""
    return f"{check_slug(slug)}/history/"


def diff_url(slug: str, old: str, new: str) -> str:
    """The redline page of ``slug`` from version ``old`` to version ``new``."""
    return f"{check_slug(slug)}/diff/{check_version(slug, old)}..{check_version(slug, new)}/"


def file_for(url: str) -> str:
    """The file that serves ``url``: ``index.html`` inside a folder URL."""
    return url + "index.html" if url == "" or url.endswith("/") else url


@lru_cache(maxsize=4096)
def relative(from_url: str, to_url: str) -> str:
    """The link from the page at ``from_url`` to ``to_url``, both site-relative.

    >>> relative("", "terms/")
    'terms/'
    >>> relative("terms/history/", "terms/history/")
    './'
    >>> relative("terms/diff/2026-01-01..2026-03-01/", "terms/#fees"), relative("404.html", "site.css")
    ('../../#fees', 'site.css')
    """
    base = _folders(from_url)
    parts, folder, fragment = _target(to_url)
    common = 0
    while common < min(len(base), len(parts)) and base[common] == parts[common]:
        common += 1
    link = "/".join((*[".."] * (len(base) - common), *parts[common:])) or "."  # os.path.relpath asks the OS
    if folder:
        link = "./" if link == "." else link + "/"
    return link + fragment


@lru_cache(maxsize=1024)
def _folders(url: str) -> tuple[str, ...]:
    """The folders of the page at ``url`` (each page links from its own to a few dozen URLs,
    most of which every page links to)."""
    return tuple(part for part in posixpath.dirname(file_for(url)).split("/") if part)


@lru_cache(maxsize=4096)
def _target(url: str) -> tuple[tuple[str, ...], bool, str]:
    """The folders and file of ``url``, whether it is a folder, and its ``#fragment``."""
    target, _, fragment = url.partition("#")
    parts = tuple(part for part in posixpath.normpath(target or ".").split("/") if part != ".")
    return parts, target.endswith("/") or target == "", "#" + fragment if fragment else ""


def file_url(url: str) -> str:
    """``url`` as a link to a file: a relative link to a folder goes to its ``index.html``.

    >>> file_url("../terms/#refunds"), file_url("./"), file_url("../site.css"), file_url("https://a.example/")
    ('../terms/index.html#refunds', './index.html', '../site.css', 'https://a.example/')
    """
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith("/") or not parts.path:
        return url
    if parts.path in (".", ".."):
        path = parts.path + "/"
    elif parts.path.endswith("/"):
        path = parts.path
    else:
        return url
    return path + "index.html" + (f"?{parts.query}" if parts.query else "") + \
        (f"#{parts.fragment}" if parts.fragment else "")


@dataclass(frozen=True)
class Layout:
    """The URLs of the pages in one language: the default language's at the site's root
    (:data:`DEFAULT`), another's under its tag (``fr/terms/``). Files (the stylesheet, the
    feed, images) are shared by every language.

    >>> Layout("fr/").version_url("terms", "2026-03-01")
    'fr/terms/2026-03-01/'
    """

    prefix: str = ""

    @property
    def index(self) -> str:
        return self.prefix + INDEX

    def document_url(self, slug: str) -> str:
        return self.prefix + document_url(slug)

    def version_url(self, slug: str, version: str) -> str:
        return self.prefix + version_url(slug, version)

    def history_url(self, slug: str) -> str:
        return self.prefix + history_url(slug)

    def diff_url(self, slug: str, old: str, new: str) -> str:
        return self.prefix + diff_url(slug, old, new)

    def page(self, url: str) -> str:
        """The page of this language at the URL of another's (``url`` without any prefix)."""
        return self.prefix + url


DEFAULT = Layout()
"""The URLs of the pages in the site's default language."""


def layout(language: str, default: str) -> Layout:
    """The URLs of the pages in ``language`` on a site whose default language is ``default``."""
    return DEFAULT if language == default else Layout(f"{language}/")
