"""Languages: BCP 47 tags, checked against the locales Babel (CLDR) knows, and their names.

>>> language_tag("pt_br")
'pt-BR'
>>> language_name("fr"), autonym("de")
('French', 'Deutsch')
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from .errors import TermsError

_SHAPE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


class InvalidLanguage(TermsError, ValueError):
    """A language code that is not a BCP 47 tag of a language Babel knows."""


@lru_cache(maxsize=256)
def _locale(text: str) -> tuple[Locale, str] | None:
    if not isinstance(text, str) or not _SHAPE.match(text):
        return None
    try:
        locale = Locale.parse(text.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    tag = "-".join(p for p in (locale.language, locale.script, locale.territory, locale.variant) if p)
    # Babel fills in likely subtags ("und" -> en-US, "bak" -> ba-RU): only the tag as written counts
    return (locale, tag) if tag.lower() == text.replace("_", "-").lower() else None


def is_language(text: str) -> bool:
    """Whether ``text`` is the tag of a language (``fr``, ``pt-BR``), in any case, ``-`` or ``_``.

    >>> is_language("fr-fr"), is_language("old"), is_language("v2")
    (True, False, False)
    """
    return _locale(text) is not None


def language_tag(text: str, name: str = "language") -> str:
    """``text`` as a canonical BCP 47 tag (``fr``, ``pt-BR``); raises :class:`InvalidLanguage`
    naming ``name`` when it is not the tag of a language Babel knows.

    >>> language_tag("french")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    terms.languages.InvalidLanguage: language 'french' is not a language code: use a BCP 47 tag such as ...
    """
    found = _locale(text)
    if found is None:
        raise InvalidLanguage(f"{name} {text!r} is not a language code: use a BCP 47 tag such as 'en', 'fr' "
                              f"or 'pt-BR'")
    return found[1]


def locale(tag: str) -> Locale:
    """The Babel locale of the language ``tag``."""
    found = _locale(tag)
    if found is None:
        raise InvalidLanguage(f"{tag!r} is not a language code")
    return found[0]


def language_name(tag: str, in_language: str = "en") -> str:
    """The name of the language ``tag`` in ``in_language`` (English by default): ``French``."""
    name = locale(tag).get_display_name(locale(in_language)) or tag
    return name[:1].upper() + name[1:]


def autonym(tag: str) -> str:
    """The name of the language ``tag`` in itself, capitalized: ``Français``, for a switcher."""
    return language_name(tag, tag)
