"""The site in several languages: the site's own words from gettext catalogs (Babel), dates
written for each language, and the phrases the site makes of a redline.

The built-in catalogs are ``site_builder/locale/<lang>/LC_MESSAGES/messages.po`` (compiled
to ``.mo`` beside them); a site adds its own, or overrides a message, with a ``.po`` file at
the same place in its ``[site] templates`` folder. A language without a catalog shows the
English words; dates are written for it all the same.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.support import NullTranslations, Translations

from terms import autonym, locale

from .errors import SiteBuildError

LOCALE = Path(__file__).parent / "locale"
CATALOG = "LC_MESSAGES/messages"
"""Path of a language's catalog inside its folder, without the extension."""


class Localizer:
    """The words and dates of the language being rendered: :attr:`language` is set before
    each page is rendered, and the template functions read it.

    >>> localizer = Localizer("en")
    >>> localizer.language = "fr"
    >>> localizer.longdate(date(2027, 2, 1)), localizer.gettext("Revisions")
    ('1 février 2027', 'Révisions')
    """

    def __init__(self, default: str, templates: Path | None = None):
        self.default = default
        self.language = default
        self._templates = templates
        self._catalogs: dict[str, NullTranslations] = {}

    def catalog(self, language: str) -> NullTranslations:
        """The translations of the site's words into ``language``: the site's own catalog over
        the built-in one, over the one of the language without its region (``pt`` for ``pt-BR``)."""
        if language not in self._catalogs:
            found: NullTranslations = NullTranslations()
            for tag in _fallbacks(language):
                for catalog in (_builtin(tag), self._site(tag)):
                    if catalog is not None:
                        if isinstance(found, Translations):
                            found.merge(catalog)
                        else:
                            found = catalog
            self._catalogs[language] = found
        return self._catalogs[language]

    def load(self, languages: tuple[str, ...], day: date) -> None:
        """Read the catalogs and the ways of writing dates (``day``) of ``languages`` now: in the
        process the workers that render the pages are forked from, rather than in each of them."""
        for tag in languages:
            self.catalog(tag)
            _longdate(day, tag)

    def gettext(self, message: str) -> str:
        return self.catalog(self.language).gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.catalog(self.language).ngettext(singular, plural, count)

    def longdate(self, day: date) -> str:
        """``day`` written out in the current language: ``1 March 2026``, ``1 mars 2026``."""
        return _longdate(day, self.language)

    def phrase(self, section: Any) -> str:
        """What changed in a section of a redline (a :class:`~site_builder.redline.SectionRedline`),
        in words, for "At a glance" and generated summaries; ``""`` for a folded section."""
        if section.folded:
            return ""
        title = section.title or self.gettext("the opening text")
        if section.status == "added":
            return self.gettext("New section: %(title)s") % {"title": title}
        if section.status == "removed":
            return self.gettext("Removed: %(title)s") % {"title": title}
        values = {"title": title, "old": section.old_title}
        if section.renamed and section.moved:
            return self.gettext("Changed and moved: %(title)s (formerly “%(old)s”)") % values
        if section.renamed:
            return self.gettext("Changed: %(title)s (formerly “%(old)s”)") % values
        if section.moved:
            return self.gettext("Changed and moved: %(title)s") % values
        return self.gettext("Changed: %(title)s") % values

    def summary(self, redline: Any) -> str | None:
        """The summary generated from a :class:`~site_builder.redline.Redline`, in the current
        language; ``None`` when the two texts are the same."""
        if redline.identical:
            return None
        phrases = [p for p in (self.phrase(s) for s in redline.sections) if p]
        if not phrases:
            return self.gettext("Sections renumbered or reformatted; the wording is unchanged.")
        shown = phrases[:3]
        if len(phrases) > 3:
            more = len(phrases) - 3
            shown.append(self.ngettext("%(num)d more section changed", "%(num)d more sections changed", more)
                         % {"num": more})
        return ". ".join(shown) + "."

    def name(self, language: str) -> str:
        """The name of ``language`` in the current language, as it reads in a sentence: ``anglais``."""
        return locale(language).get_display_name(locale(self.language)) or language

    def _site(self, tag: str) -> Translations | None:
        if self._templates is None:
            return None
        from babel.messages.mofile import write_mo  # here: only a site's own catalogs need them
        from babel.messages.pofile import read_po

        from .templates import override  # the templates module installs this one

        data = override(self._templates, f"locale/{tag.replace('-', '_')}/{CATALOG}.po")
        if data is None:
            return None
        try:
            catalog = read_po(BytesIO(data), locale=str(locale(tag)))
        except Exception as error:  # a .po file from the repository may hold anything
            raise SiteBuildError(f"{self._templates}/locale/{tag.replace('-', '_')}/{CATALOG}.po cannot be "
                                 f"read: {error}") from None
        compiled = BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        return Translations(compiled)


def _fallbacks(language: str) -> list[str]:
    """``["pt", "pt-BR"]`` for ``pt-BR``: the general catalog first, the specific one over it."""
    parts = language.split("-")
    return ["-".join(parts[:n]) for n in range(1, len(parts) + 1)]


def _builtin(tag: str) -> Translations | None:
    path = LOCALE / tag.replace("-", "_") / f"{CATALOG}.mo"
    if not path.is_file():
        return None
    with path.open("rb") as file:
        return Translations(file)


def switcher(languages: tuple[str, ...]) -> list[dict[str, str]]:
    """Each language with its name in itself, for the language switcher."""
    return [{"tag": tag, "name": autonym(tag)} for tag in languages]


@lru_cache(maxsize=4096)
def _longdate(day: date, language: str) -> str:
    """:meth:`Localizer.longdate` (a page writes dozens of dates, most of them on every page)."""
    if language == "en":
        return f"{day.day} {format_date(day, 'MMMM', locale='en')} {day.year}"
    return format_date(day, "long", locale=locale(language))
