"""The HTML pages of the site: for each, its URL, the templates to try and their context.
Rendering templates and writing files is :mod:`site_builder.build`'s job."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Callable, Iterator

from terms import Assessment, Content, Document, Version, assess_versions

from . import links, parallel, urls
from .assets import Assets
from .bodies import Bodies
from .cache import Cache
from .redline import SIDES, Redline, Redlines
from .render import rewrite_urls
from .status import material, status, title


@dataclass(frozen=True)
class Page:
    """One HTML page to render."""

    url: str
    """Site-relative URL; the file is ``urls.file_for(url)``."""
    templates: tuple[str, ...]
    """Template names, most specific first."""
    context: dict[str, Any] = field(default_factory=dict)
    shows: tuple[Version, ...] = ()
    """The versions whose text the page shows (none for the index and the histories), for
    the languages the page has a text in."""


def diff_pairs(document: Document, at: date) -> list[tuple[Version, Version]]:
    """The pairs that get a diff page: consecutive versions, and every version with the
    one in force on ``at`` (older first in each pair)."""
    versions = document.versions
    pairs = list(zip(versions, versions[1:]))
    current = document.in_force(at)
    if current is not None:
        for version in versions:
            pair = (version, current) if version.effective < current.effective else (current, version)
            if version != current and pair not in pairs:
                pairs.append(pair)
    return sorted(pairs, key=lambda p: (document.versions.index(p[0]), document.versions.index(p[1])))


def prepare(languages: list[Pages], processes: int | None = None) -> None:
    """Compare the pairs of versions the pages of each language need, in this process, where the
    change engine's caches let the many pairs share their sections and edits, while the bodies
    render on the other CPUs; leave the results in the cache. Whatever the cache already holds
    is not redone."""
    here, elsewhere = [], []
    for pages in languages:
        compare, render = pages.tasks()
        # the site language's comparisons share the change engine's caches; those of the
        # translations are apart from them, and run beside the renderings
        here += compare if pages.source is None else []
        elsewhere += render + (compare if pages.source is not None else [])
    done_here, done_elsewhere = parallel.run([(function, args) for _, function, args in here],
                                             [(function, args) for _, function, args in elsewhere], processes)
    cache = languages[0].cache
    for (entries, _, _), values in zip(here + elsewhere, done_here + done_elsewhere):
        for entry, value in zip(entries, values):
            cache.put(entry, value)


class Pages:
    """Builds the pages of ``content`` as it stands on ``at``.

    For a language other than the site's, ``content`` is the documents as read in it (see
    :meth:`terms.Content.in_language`), ``layout`` puts the pages under its tag, ``source``
    are the pages of the site's language, whose change analysis decides (a translation's
    version has its source's verdict), and ``summarize`` writes generated summaries in it."""

    def __init__(self, content: Content, at: date, cache: Cache, assets: Assets, watch: tuple[str, ...] = (),
                 layout: urls.Layout = urls.DEFAULT, source: Pages | None = None,
                 summarize: Callable[[Redline], str | None] | None = None, language: str | None = None):
        self.content, self.at, self.cache, self.assets = content, at, cache, assets
        self.language = language or content.language
        self.urls, self.source, self._summarize = layout, source, summarize
        self.bodies = Bodies(content, cache, assets, layout, self.language)
        self.redlines = Redlines(cache, watch, assess_change=source is None)
        self._verdicts: dict[tuple[str, str], Assessment] | None = None

    def tasks(self) -> tuple[list, list]:
        """The comparisons and renderings the pages need that the cache lacks: ``(cache
        entries, function, args)`` each (see :func:`prepare`)."""
        requests, pairs = [], []
        for document in self.content.documents.values():
            requests.append((document.in_force(self.at) or document.versions[0],
                             self.urls.document_url(document.slug), None))
            requests.extend((v, self.urls.version_url(document.slug, v.id), v.effective) for v in document.versions)
            pairs.extend(p for p in zip(document.versions, document.versions[1:]) if self._own(*p))
            pairs.extend(p for p in diff_pairs(document, self.at) if self._own(*p))
        return self.redlines.tasks(pairs), self.bodies.tasks(requests)

    def _own(self, old: Version, new: Version) -> bool:
        """Whether the redline of ``old`` and ``new`` is this language's own: both texts in it
        (else the pages show the site language's redline)."""
        return self.source is None or old.language == new.language == self.language

    def all(self) -> Iterator[Page]:
        """Every page, in a fixed order."""
        yield self.index()
        for document in self.content.documents.values():
            yield self.document(document)
            yield self.history(document)
            for version in document.versions:
                yield self.version(document, version)
            for old, new in diff_pairs(document, self.at):
                yield self.diff(document, old, new)
        if self.source is None:
            yield Page(urls.NOT_FOUND, ("404.html",))

    def index(self) -> Page:
        rows = [{"document": d, "url": self.urls.document_url(d.slug), "current": d.in_force(self.at),
                 "summary": self.summary(d, d.in_force(self.at)) if d.in_force(self.at) else None,
                 "history_url": self.urls.history_url(d.slug),
                 "upcoming": [self._link(d, v) | {"summary": self.summary(d, v)} for v in d.upcoming(self.at)]}
                for d in self.content.documents.values()]
        return Page(self.urls.index, ("index.html",), {"rows": rows})

    def document(self, document: Document) -> Page:
        """The document's own page: the version in force, else the first announced one."""
        version = document.in_force(self.at) or document.versions[0]
        url = self.urls.document_url(document.slug)
        context = self._version_context(document, version, url, link_at=None)
        context["upcoming"] = [self._link(document, v) for v in document.upcoming(self.at)]
        context["revisions"] = self._revisions(document, until=version)
        return Page(url, (f"document-{document.slug}.html", "document.html"), context, (version,))

    def version(self, document: Document, version: Version) -> Page:
        """The permanent page of ``version``."""
        url = self.urls.version_url(document.slug, version.id)
        context = self._version_context(document, version, url, link_at=version.effective)
        return Page(url, (f"version-{document.slug}.html", "version.html"), context, (version,))

    def history(self, document: Document) -> Page:
        return Page(self.urls.history_url(document.slug), (f"history-{document.slug}.html", "history.html"),
                    {"document": document, "rows": self._revisions(document), "current": document.in_force(self.at),
                     "document_url": self.urls.document_url(document.slug)})

    def diff(self, document: Document, old: Version, new: Version) -> Page:
        versions = document.versions
        between = versions[versions.index(old) + 1:versions.index(new)]
        flags = [v.material for v in (*between, new)]
        flag = True if True in flags else (False if all(f is False for f in flags) else None)
        url = self.urls.diff_url(document.slug, old.id, new.id)
        shown_old, shown_new = (old, new) if self._own(old, new) else self._sources(document, old, new)
        redline = self._resolved(self._redline(document, old, new), shown_old, shown_new, url)
        analysis = self._analysis(document, old, new).material
        return Page(url, (f"diff-{document.slug}.html", "diff.html"), {
            "document": document, "old": self._link(document, old), "new": self._link(document, new),
            "between": [self._link(document, v) for v in between],
            "redline": redline, "flag": flag, "material": analysis if flag is None else flag, "analysis": analysis,
            "redline_language": shown_new.language, "fallback": shown_new.language != self.language,
            "history_url": self.urls.history_url(document.slug),
            "document_url": self.urls.document_url(document.slug),
        }, (old, new))

    def _sources(self, document: Document, *versions: Version) -> tuple[Version, ...]:
        """The versions of the site's language that ``versions`` (of this one) translate."""
        if self.source is None:
            return versions
        own = self.source.content.document(document.slug)
        return tuple(own.version(v.id) for v in versions)

    def _redline(self, document: Document, old: Version, new: Version) -> Redline:
        """The redline these pages show from ``old`` to ``new``: theirs when both texts are in
        this language, else the site language's."""
        if self._own(old, new):
            return self.redlines.between(old, new)
        return self._analysis(document, old, new)

    def _analysis(self, document: Document, old: Version, new: Version) -> Redline:
        """The redline whose analysis decides for ``old`` and ``new``: the site language's."""
        if self.source is None:
            return self.redlines.between(old, new)
        return self.source.redlines.between(*self._sources(document, old, new))

    def summary(self, document: Document, version: Version) -> dict[str, Any]:
        """The summary of ``version``: ``{"text", "generated"}``, the editor's where there is one,
        else the one generated from the change from the version before; ``text`` is ``None``
        for a first version without a summary."""
        previous = document.previous(version)
        if version.summary or previous is None:
            return {"text": version.summary, "generated": False}
        redline = self._redline(document, previous, version)
        text = self._summarize(redline) if self._summarize else redline.generated_summary
        return {"text": text, "generated": True}

    def _revisions(self, document: Document, until: Version | None = None) -> list[dict[str, Any]]:
        """Each version (up to ``until``), newest first: its link, summary, verdict and the
        link to what changed from the version before."""
        verdicts = self.verdicts(document)
        versions = document.versions[:document.versions.index(until) + 1] if until else document.versions
        rows = []
        for version in reversed(versions):
            previous = document.previous(version)
            rows.append({
                **self._link(document, version),
                "summary": self.summary(document, version),
                "material": material(version, verdicts[version.id]),
                "flagged": version.material is not None,
                "previous": previous,
                "diff_url": self.urls.diff_url(document.slug, previous.id, version.id) if previous else None,
            })
        return rows

    def _resolved(self, redline: Redline, old: Version, new: Version, page_url: str) -> Redline:
        """``redline`` with the links of each side resolved as on that version's page."""
        resolvers = [(links.side_resolver(side, version, page_url,
                                          self.bodies.targets(version.effective, version.language), self.urls), version)
                     for side, version in zip(SIDES, (old, new))]

        def resolve(html: str) -> str:
            for link, version in resolvers:
                html = self.assets.fill(rewrite_urls(html, link), version, page_url)
            return html

        sections = tuple(replace(s, heading=resolve(s.heading), html=resolve(s.html)) for s in redline.sections)
        return replace(redline, sections=sections)

    def verdicts(self, document: Document) -> dict[str, bool | None]:
        """For each version id, the analysis' verdict on the change from the version before
        (``None`` for the first version), in the site's language."""
        if self.source is not None:
            return self.source.verdicts(self.source.content.document(document.slug))
        if self._verdicts is None:
            self._verdicts = assess_versions(self.content, compare=self.redlines.between)
        found = self._verdicts
        return {v.id: (a.material if (a := found.get((document.slug, v.id))) else None)
                for v in document.versions}

    def _version_context(self, document: Document, version: Version, url: str,
                         link_at: date | None) -> dict[str, Any]:
        previous = document.previous(version)
        standing = status(document, version, self.at)
        return {
            "document": document, "version": version, "status": standing,
            "body": self.bodies.render(version, url, link_at),
            "references": self._references(version, link_at),
            "history_url": self.urls.history_url(document.slug),
            "document_url": self.urls.document_url(document.slug),
            "version_url": self.urls.version_url(document.slug, version.id),
            "current": self._link(document, standing.current) if standing.current else None,
            "replaced_by": self._link(document, standing.replaced_by) if standing.replaced_by else None,
            "previous_diff_url": self.urls.diff_url(document.slug, previous.id, version.id) if previous else None,
            "current_diff_url": self._current_diff(document, version),
            "translated": self._translated(document, version),
        }

    def _translated(self, document: Document, version: Version) -> dict[str, Any] | None:
        """For a version without a text in this language, the latest earlier one with one."""
        if version.language == self.language:
            return None
        index = document.versions.index(version)
        earlier = [v for v in document.versions[:index] if v.language == self.language]
        return self._link(document, earlier[-1]) if earlier else None

    def _references(self, version: Version, link_at: date | None) -> list[dict[str, Any]]:
        found = []
        for slug in version.references:
            referenced = self.content.documents.get(slug)
            if referenced is None:
                continue
            target = referenced.in_force(link_at) if link_at else None
            found.append({"title": target.title if target else title(referenced, self.at), "version": target,
                          "url": self.urls.version_url(slug, target.id) if target else self.urls.document_url(slug)})
        return found

    def _current_diff(self, document: Document, version: Version) -> str | None:
        current = document.in_force(self.at)
        if current is None or version == current:
            return None
        old, new = (version, current) if version.effective < current.effective else (current, version)
        return self.urls.diff_url(document.slug, old.id, new.id)

    def _link(self, document: Document, version: Version) -> dict[str, Any]:
        return {"version": version, "url": self.urls.version_url(document.slug, version.id)}
