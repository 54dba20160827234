"""The settings of a site build, and the rules their values follow.

Settings come from a ``termsledger.toml`` in the content repository, which many people may
push to: a base URL lands in ``href``s of the 404 page and the feed, so only ``http``/``https``
URLs (or a path) are accepted, and no setting may hold a control character (the feed is XML).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from terms import InvalidLanguage, language_tag

from .errors import SiteBuildError

_EMAIL = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")
"""A valid e-mail address, as HTML defines it for ``<input type=email>``."""
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder the text around them, which can make a name read as another."""
_BASE_URL_HELP = ("use an absolute http:// or https:// URL (https://example.com/legal/) or a path starting "
                  "with / (/legal/)")
_CONTACT_HELP = "use an e-mail address (legal@example.com) or an http:// or https:// URL"


class InvalidSetting(SiteBuildError, ValueError):
    """A site setting has a value that is unsafe or malformed (a base URL that is not http(s)…)."""


def check_text(value: str, name: str) -> str:
    """``value`` if it holds no control character (a line break, NUL, a bidi override); raises
    :class:`InvalidSetting` naming ``name`` otherwise.

    >>> check_text("Example Ltd", "organisation")
    'Example Ltd'
    """
    if not isinstance(value, str):
        raise InvalidSetting(f"{name} must be text, not {value!r}")
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI_CONTROLS:
            raise InvalidSetting(f"{name} {value!r} is not allowed: it holds the control character "
                                 f"U+{ord(char):04X}")
    return value


def check_base_url(value: str, name: str = "base_url") -> str:
    """``value`` if it is ``""``, an absolute ``http``/``https`` URL or a path starting with
    ``/``; raises :class:`InvalidSetting` naming ``name`` otherwise.

    >>> check_base_url("https://terms.example.com/legal/")
    'https://terms.example.com/legal/'
    >>> check_base_url("javascript:alert(1)//")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    site_builder.settings.InvalidSetting: base_url 'javascript:alert(1)//' is not allowed: ...
    """
    reason = _url_problem(value, path_allowed=True, query_allowed=False) if value else None
    if reason:
        raise InvalidSetting(f"{name} {value!r} is not allowed: {reason}; {_BASE_URL_HELP}")
    return value


def check_contact(value: str, name: str = "contact") -> str:
    """``value`` if it is ``""``, an e-mail address (``mailto:`` or not) or an absolute
    ``http``/``https`` URL; raises :class:`InvalidSetting` naming ``name`` otherwise."""
    email = _EMAIL.fullmatch(value.removeprefix("mailto:")) is not None
    web = (not value.startswith("mailto:")
           and _url_problem(value, path_allowed=False, query_allowed=True) is None)
    if value and not (email or web):
        raise InvalidSetting(f"{name} {value!r} is not allowed: {_CONTACT_HELP}")
    return value


def _url_problem(value: str, *, path_allowed: bool, query_allowed: bool) -> str | None:
    """Why ``value`` is not a safe absolute http(s) URL (or path, when allowed); ``None`` if it is one."""
    if not isinstance(value, str):
        return "it is not text"
    for char in value:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp", "Zs"):
            return f"it holds a space or control character (U+{ord(char):04X})"
    if "\\" in value:
        return "it holds a backslash"
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:  # "[::1", "[zz]"
        return "its host in [brackets] is not an IPv6 address"
    if value.startswith("/") and path_allowed:
        if value.startswith("//"):
            return "a path must not start with // (browsers read it as another host)"
    elif parts.scheme.lower() not in ("http", "https"):
        return "it is not an http or https URL"
    elif not hostname:
        return "it has no host"
    elif "@" in parts.netloc:
        return "it holds a user name (@) before the host"
    if not query_allowed and (parts.query or parts.fragment or value.endswith(("?", "#"))):
        return "it has a query (?) or a fragment (#)"
    return None


@dataclass(frozen=True, kw_only=True)
class SiteSettings:
    """What a site build needs beyond the content. Immutable, so it can key caches. Raises
    :class:`InvalidSetting` for an unsafe value (see :func:`check_base_url`, :func:`check_contact`)."""

    title: str = "Terms and Policies"
    """Name of the site, shown in every page header and in the feed."""
    base_url: str = ""
    """Absolute URL the site is published at (``https://example.com/legal/``), or its path
    (``/legal/``); used in the feed, the sitemap, ``versions.json`` and the 404 page. Pages
    link to each other relatively."""
    organisation: str = ""
    """Who publishes the documents, shown in the footer and as the feed's author."""
    contact: str = ""
    """An e-mail address or http(s) URL for questions about the documents."""
    templates: Path | None = None
    """A folder whose templates override the built-in ones."""
    watch: tuple[str, ...] = ()
    """Extra watch-list terms for the materiality analysis of diff pages."""
    language: str = "en"
    """BCP 47 tag of the language the documents are written in: the site's default language,
    whose pages keep the URLs of a site in one language."""
    languages: tuple[str, ...] = ()
    """Every language the site is published in, the default one among them (``("en", "fr")``);
    each other one gets its pages under ``<tag>/``. Defaults to the default language alone."""
    prevailing_notice: str | None = None
    """The notice on the pages in other languages that says which text prevails; translated
    through the catalogs (the site's own may translate a notice of its own). ``None`` gives
    "In case of conflict, the English version prevails." in each language, ``""`` none."""
    file_urls: bool = False
    """Link to pages' ``index.html`` files (``terms/index.html``, not ``terms/``), so that the site
    works opened from disk, without a web server (as mkdocs' ``use_directory_urls: false``)."""

    def __post_init__(self) -> None:
        for name in ("title", "organisation"):
            check_text(getattr(self, name), name)
        if self.prevailing_notice:
            check_text(self.prevailing_notice, "prevailing_notice")
        check_base_url(self.base_url)
        check_contact(self.contact)
        if self.templates is not None and not Path(self.templates).is_dir():
            raise InvalidSetting(f"templates {self.templates} is not a folder: create it, or leave [site] "
                                 f"templates out to use the built-in templates")
        try:
            object.__setattr__(self, "language", language_tag(self.language, "language"))
            tags = tuple(language_tag(tag, "languages: language")
                         for tag in self.languages or (self.language,))
        except InvalidLanguage as error:
            raise InvalidSetting(str(error)) from None
        if self.language not in tags:
            raise InvalidSetting(f"languages {list(tags)} must list the default language {self.language!r}")
        object.__setattr__(self, "languages", tuple(dict.fromkeys(tags)))

    @property
    def others(self) -> tuple[str, ...]:
        """The languages other than the default one, each published under ``<tag>/``."""
        return tuple(tag for tag in self.languages if tag != self.language)

    @property
    def root_url(self) -> str:
        """``base_url`` with exactly one trailing slash, or ``""`` when there is none."""
        return self.base_url.rstrip("/") + "/" if self.base_url else ""
