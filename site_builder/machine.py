"""The files for machines: ``versions.json``, the Atom feed's entries and the sitemap's URLs."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timezone
from typing import Any

from terms import Content, Version, material

from . import urls
from .settings import SiteSettings
from .status import next_change, title


def absolute(settings: SiteSettings, url: str) -> str:
    """``url`` (site-relative) made absolute with the base URL; unchanged without one."""
    return settings.root_url + url


def versions_json(content: Content, at: date, settings: SiteSettings,
                  verdicts: dict[str, dict[str, bool | None]],
                  generated: dict[str, dict[str, str | None]]) -> bytes:
    """``versions.json``: every document and version, and the ``next_change`` (``date``,
    ``document``, ``version``; ``null`` when nothing is announced). ``verdicts`` maps slug, then version
    id, to the analysis' verdict on the change from the version before (``None`` for the
    first), and ``generated`` to the summary generated from that change. A version's ``material``
    is that verdict (for a first version, its flag, else false), ``flag`` the editor's
    ``material:`` (``None`` when unset), ``summary`` the editor's and ``generated_summary`` the
    generated one."""
    documents = []
    for document in content.documents.values():
        current = document.in_force(at)
        versions = []
        for version in document.versions:
            previous = document.previous(version)
            versions.append({
                "version": version.id,
                "effective": version.effective.isoformat(),
                "summary": version.summary,
                "generated_summary": generated[document.slug][version.id],
                "material": (bool(version.material) if previous is None
                             else verdicts[document.slug][version.id]),
                "flag": version.material,
                "content_sha256": version.content_sha256,
                "url": absolute(settings, urls.version_url(document.slug, version.id)),
                "diff_url": absolute(settings, urls.diff_url(document.slug, previous.id, version.id))
                if previous else None,
                "language": version.language,
                "translations": _translations(version, previous, settings),
            })
        documents.append({"slug": document.slug, "title": title(document, at),
                          "current": current.id if current else None, "versions": versions})
    upcoming = next_change(content, at)
    return (json.dumps({"language": settings.language, "languages": list(settings.languages),
                        "documents": documents, "next_change": upcoming.to_dict() if upcoming else None},
                       indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _translations(version: Version, previous: Version | None, settings: SiteSettings) -> dict[str, Any]:
    """The text of ``version`` in each other language of the site that has one: its title,
    summary, ``content_sha256`` and page (and the redline from ``previous`` when that one has a
    text in the language too), by language tag."""
    found = {}
    for tag in settings.others:
        text = version.translation(tag)
        if text is None:
            continue
        layout = urls.layout(tag, settings.language)
        found[tag] = {"title": text.title, "summary": text.summary, "content_sha256": text.content_sha256,
                      "url": absolute(settings, layout.version_url(version.slug, version.id)),
                      "diff_url": absolute(settings, layout.diff_url(version.slug, previous.id, version.id))
                      if previous is not None and previous.translation(tag) else None}
    return found


def updated(version: Version) -> datetime:
    """When ``version``'s text was last committed; midnight UTC of its effective day outside git."""
    return version.committed_at or datetime.combine(version.effective, time(), timezone.utc)


def feed_entries(content: Content, at: date, settings: SiteSettings,
                 verdicts: dict[str, dict[str, bool | None]],
                 summaries: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The Atom entries: every version of every document, newest effective date first, each
    material by the editor's flag where set, else by the analysis' verdict. ``summaries``
    maps slug, then version id, to the summary to show (see
    :meth:`site_builder.pages.Pages.summary`)."""
    entries: list[dict[str, Any]] = []
    for document in content.documents.values():
        for version in document.versions:
            url = urls.version_url(document.slug, version.id)
            previous = document.previous(version)
            entries.append({
                "version": version, "document": document, "title": title(document, at),
                "url": absolute(settings, url),
                "id": absolute(settings, url) if settings.base_url else
                f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'termsledger:{url}{version.content_sha256}')}",
                "updated": updated(version),
                "material": material(version, verdicts[document.slug][version.id]),
                "summary": summaries[document.slug][version.id],
                "diff_url": absolute(settings, urls.diff_url(document.slug, previous.id, version.id))
                if previous else None,
            })
    entries.sort(key=lambda e: (e["version"].effective, e["updated"], e["document"].slug), reverse=True)
    return entries


def sitemap_entries(pages: list[tuple[str, str, list[str]]], content: Content,
                    settings: SiteSettings) -> list[dict[str, Any]]:
    """The sitemap's URLs, with the day of the last commit of each version page and, on a site
    in several languages, the page in each language it has a text in (hreflang). ``pages``
    are ``(url, the url in the site's language, languages)`` of each page in a language it has
    its text in."""
    lastmod = {urls.version_url(v.slug, v.id): {t.language: updated(t).date() for t in (v, *v.translations)}
               for d in content.documents.values() for v in d.versions}
    entries = []
    for url, own, languages in pages:
        days = lastmod.get(own, {})
        tag = url[:len(url) - len(own)].rstrip("/") or settings.language
        alternates = [{"hreflang": t, "href": absolute(settings, urls.layout(t, settings.language).page(own))}
                      for t in languages] if len(settings.languages) > 1 else []
        if alternates:
            alternates.append({"hreflang": "x-default", "href": absolute(settings, own)})
        entries.append({"loc": absolute(settings, url), "lastmod": days.get(tag), "alternates": alternates})
    return entries
