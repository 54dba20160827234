"""The settings of a site build."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class SiteSettings:
    """What a site build needs beyond the content. Immutable, so it can key caches."""

    title: str = "Terms and Policies"
    """Name of the site, shown in every page header and in the feed."""
    base_url: str = ""
    """Absolute URL the site is published at (``https://example.com/legal/``); used in the feed,
    the sitemap, ``versions.json`` and the 404 page. Pages link to each other relatively."""
    organisation: str = ""
    """Who publishes the documents, shown in the footer and as the feed's author."""
    contact: str = ""
    """An e-mail address or URL for questions about the documents."""
    templates: Path | None = None
    """A folder whose templates override the built-in ones."""
    watch: tuple[str, ...] = ()
    """Extra watch-list terms for the materiality analysis of diff pages."""
    lang: str = "en"
    """Language of the documents, for ``<html lang>``."""

    @property
    def root_url(self) -> str:
        """``base_url`` with exactly one trailing slash, or ``""`` when there is none."""
        return self.base_url.rstrip("/") + "/" if self.base_url else ""
