"""The HTML pages of the site: for each, its URL, the templates to try and their context,
and the redlines and bodies they show, computed on every CPU where the build cache lacks
them. Rendering templates and writing files is :mod:`site_builder.generate`'s job."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from importlib import import_module
from operator import attrgetter
from typing import Any

from terms import Assessment, Content, Document, Version, assess_versions, decide, material, replaced

from . import links, parallel, urls
from .bodies import Bodies
from .cache import Fragments
from .links import Assets
from .redline import SIDES, Comparison, Redline, Redlines
from .render import rewrite_urls
from .status import status, title


@dataclass(frozen=True, kw_only=True, slots=True)
class Made:
    """A value of a page's context made only when the page is rendered (a body, a redline):
    ``make()`` makes it from what ``made_from`` names (fragments' keys, link targets…), which
    is what the page's key counts instead; ``None`` when that cannot be told."""

    made_from: Any
    make: Callable[[], Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    """One HTML page to render."""

    url: str
    """Site-relative URL; the file is ``urls.file_for(url)``."""
    templates: tuple[str, ...]
    """Template names, most specific first."""
    context: dict[str, Any] = field(default_factory=dict)
    """What the templates are given (besides :func:`~site_builder.generate.generate`'s common
    values), :class:`Made` values still to be made: only what the page shows, since a page is
    rendered again when any of it changes."""
    source: str | None = None
    """The document file the page shows, for error messages."""
    shows: tuple[Version, ...] = ()
    """The versions whose text the page shows (none for the index and the histories), for
    the languages the page has a text in."""

    def made_from(self) -> dict[str, Any] | None:
        """The context, each :class:`Made` value as what it is made from; ``None`` if one cannot
        tell."""
        made = {k: v.made_from for k, v in self.context.items() if isinstance(v, Made)}
        return None if None in made.values() else self.context | made

    def values(self) -> dict[str, Any]:
        """The context, each :class:`Made` value made."""
        return {k: v.make() if isinstance(v, Made) else v for k, v in self.context.items()}


Step = tuple[Version | None, str | None]
"""A step of :func:`prepare`'s work: a version whose body to render, or the fragment key of a
pair to compare."""


def diff_pairs(document: Document, at: date) -> list[tuple[Version, Version]]:
    """The pairs that get a diff page: consecutive versions, and every version with the
    one in force on ``at`` (older first in each pair)."""
    versions = document.versions
    pairs = list(zip(versions, versions[1:], strict=False))
    current = document.in_force(at)
    if current is not None:
        for version in versions:
            pair = (version, current) if version.effective < current.effective else (current, version)
            if version != current and pair not in pairs:
                pairs.append(pair)
    return sorted(pairs, key=lambda p: (document.versions.index(p[0]), document.versions.index(p[1])))


def prepare(languages: list[Pages], processes: int | None = None,
            meanwhile: Callable[[], object] = lambda: None) -> None:
    """Read from the build cache the redlines and bodies the pages of each language show, and
    compute the ones it lacks on every CPU, calling ``meanwhile`` while they are computed (see
    :func:`site_builder.parallel.run`); leave them in the cache. The work of each document
    in each language is one run, in the order of its versions, so that a worker's share of it
    has most sections in common: each version's body, the change from the version before, and
    the change between it and the version in force."""
    planned = [pages.work() for pages in languages]
    fragments = languages[0].fragments
    missing = set(fragments.load([entry for _, comparisons, bodies in planned
                                  for entry in (*comparisons, *bodies)]))
    if not missing:
        meanwhile()
        return
    chosen: set[int] = set()
    work: list[list[Callable[[], dict[str, str]]]] = []
    for runs, comparisons, bodies in planned:
        renderings = {(r.version.content_sha256, r.version.path): r for entry, r in bodies.items()
                      if entry in missing}
        for run in runs:
            tasks: list[Callable[[], dict[str, str]]] = []
            for version, key in run:
                task: Callable[[], dict[str, str]] | None = (
                    renderings.get((version.content_sha256, version.path)) if version
                    else comparisons[key] if key in missing else None)
                if task is not None and id(task) not in chosen:
                    chosen.add(id(task))
                    tasks.append(task)
            work.append(tasks)
    if any(isinstance(task, Comparison) for tasks in work for task in tasks):
        for module in ("terms.changes", "terms.materiality"):  # the change engine, imported as it runs:
            import_module(module)  # once here rather than in each worker
        for pages in languages:
            pages.redlines.read_found()
    # One comparison or body takes longer than starting a worker, which does it during ``meanwhile``.
    for results in parallel.run(work, processes, meanwhile, worth=1):
        for result in results:
            for entry, text in result.items():
                fragments.put_json(entry, text)


class Pages:
    """Builds the pages of ``content`` as it stands on ``at``.

    For a language other than the site's, ``content`` is the documents as read in it (see
    :meth:`terms.Content.in_language`), ``layout`` puts the pages under its tag, ``source``
    are the pages of the site's language, whose change analysis decides (a translation's
    version has its source's verdict), and ``summarize`` writes generated summaries in it."""

    def __init__(self, content: Content, at: date, fragments: Fragments, assets: Assets,
                 watch: tuple[str, ...] = (), layout: urls.Layout = urls.DEFAULT, source: Pages | None = None,
                 summarize: Callable[[Redline], str | None] | None = None, language: str | None = None):
        self.content, self.at, self.fragments, self.assets = content, at, fragments, assets
        self.language = language or content.language
        self.urls, self.source, self._summarize = layout, source, summarize
        self.bodies = Bodies(content, fragments, assets, layout, self.language)
        self.redlines = Redlines(fragments, watch, assess_change=source is None)
        self._verdicts: dict[tuple[str, str], Assessment] | None = None

    def work(self) -> tuple[list[list[Step]], dict[str, Comparison], dict[str, Any]]:
        """What :func:`prepare` may have to do for these pages: for each document, its steps in
        the order of its versions (each version's body, then the changes it is the later or the
        earlier side of: from the version before, and from or to the version in force), and the
        comparisons and renderings by fragment key."""
        requests: list[tuple[Version, str, date | None]] = []
        runs: list[list[Step]] = []
        pairs: list[tuple[Version, Version, bool]] = []  # only a change to the next version is assessed
        for document in self.content.documents.values():
            versions = document.versions
            current = document.in_force(self.at)
            requests.append((current or versions[0], self.urls.document_url(document.slug), None))
            requests.extend((v, self.urls.version_url(document.slug, v.id), v.effective) for v in versions)
            steps: list[list[Step]] = [[(v, None)] for v in versions]
            position = {id(v): n for n, v in enumerate(versions)}
            for old, new in diff_pairs(document, self.at):
                if self._own(old, new):
                    next_one = position[id(new)] == position[id(old)] + 1
                    step = position[id(new if next_one or old is current else old)]
                    steps[step].append((None, self.redlines.key(old, new, next_one)))
                    pairs.append((old, new, next_one))
            runs.append([step for version_steps in steps for step in version_steps])
        return runs, self.redlines.work(pairs), self.bodies.work(requests)

    def _own(self, old: Version, new: Version) -> bool:
        """Whether the redline of ``old`` and ``new`` is this language's own: both texts in it
        (else the pages show the site language's redline)."""
        return self.source is None or old.language == new.language == self.language

    def makers(self) -> list[Callable[[], Page]]:
        """A function that makes each page, in a fixed order."""
        found: list[Callable[[], Page]] = [self.index]
        for document in self.content.documents.values():
            found += [partial(self.document, document), partial(self.history, document)]
            found += [partial(self.version, document, version) for version in document.versions]
            found += [partial(self.diff, document, old, new) for old, new in diff_pairs(document, self.at)]
        if self.source is None:
            found.append(self.not_found)
        return found

    def not_found(self) -> Page:
        return Page(url=urls.NOT_FOUND, templates=("404.html",))

    def index(self) -> Page:
        rows = [{"document": d, "url": self.urls.document_url(d.slug),
                 "current": (current := d.in_force(self.at)),
                 "summary": self.summary(d, current) if current else None,
                 "history_url": self.urls.history_url(d.slug),
                 "upcoming": [self._link(d, v) | {"summary": self.summary(d, v)}
                              for v in d.upcoming(self.at)]}
                for d in self.content.documents.values()]
        return Page(url=self.urls.index, templates=("index.html",), context={"rows": rows})

    def document(self, document: Document) -> Page:
        """The document's own page: the version in force, else the first announced one."""
        version = document.in_force(self.at) or document.versions[0]
        url = self.urls.document_url(document.slug)
        context = self._version_context(document, version, url, link_at=None)
        context["document"] = document
        context["upcoming"] = [self._link(document, v) for v in document.upcoming(self.at)]
        context["revisions"] = self._revisions(document, until=version)
        return Page(url=url, templates=_templates("document", document.slug), context=context,
                    source=version.path, shows=(version,))

    def version(self, document: Document, version: Version) -> Page:
        """The permanent page of ``version``."""
        url = self.urls.version_url(document.slug, version.id)
        context = self._version_context(document, version, url, link_at=version.effective)
        return Page(url=url, templates=_templates("version", document.slug), context=context,
                    source=version.path, shows=(version,))

    def history(self, document: Document) -> Page:
        return Page(url=self.urls.history_url(document.slug), source=document.path,
                    templates=_templates("history", document.slug),
                    context={"document": document, "rows": self._revisions(document),
                             "current": document.in_force(self.at),
                             "document_url": self.urls.document_url(document.slug)})

    def diff(self, document: Document, old: Version, new: Version) -> Page:
        """The redline from ``old`` to ``new``: this language's when both have a text in it,
        else the site language's. Its verdict is what the ledger decides for users who accepted
        ``old`` (see :func:`terms.decide`): material if a version after it, up to ``new``, is."""
        verdicts = self.verdicts(document)
        decision = decide(document, old, new, lambda version: verdicts[version.id])
        between = decision.steps[:-1]
        url = self.urls.diff_url(document.slug, old.id, new.id)
        own = self._own(old, new)
        shown_old, shown_new = (old, new) if own else self._sources(document, old, new)
        owner = self if own or self.source is None else self.source
        files = [owner.bodies.published(v) for v in (shown_old, shown_new)]
        targets = [self.bodies.targets(v.effective, v.language) for v in (shown_old, shown_new)]
        assess = not between  # see work()
        entry = owner.redlines.key(shown_old, shown_new, assess)
        redline = Made(made_from=None if None in files else [entry, *files, *targets],
                       make=lambda: self._resolved(self._redline(document, old, new, assess), shown_old,
                                                   shown_new, url))
        context = {
            "old": self._link(document, old), "new": self._link(document, new),
            "between": [self._link(document, v) for v in between],
            "redline": redline, "flag": decision.flag, "material": decision.material,
            "analysis": decision.analysis, "marked": any(v.material is not None for v in decision.steps),
            "redline_language": shown_new.language, "fallback": shown_new.language != self.language,
            "history_url": self.urls.history_url(document.slug),
            "document_url": self.urls.document_url(document.slug),
        }
        return Page(url=url, templates=_templates("diff", document.slug), context=context, source=new.path,
                    shows=(old, new))

    def _sources(self, document: Document, *versions: Version) -> tuple[Version, ...]:
        """The versions of the site's language that ``versions`` (of this one) translate."""
        if self.source is None:
            return versions
        own = self.source.content.document(document.slug)
        return tuple(own.version(v.id) for v in versions)

    def _redline(self, document: Document, old: Version, new: Version, assess: bool = True) -> Redline:
        """The redline these pages show from ``old`` to ``new`` (see :meth:`Redlines.between`):
        theirs when both texts are in this language, else the site language's."""
        if self._own(old, new) or self.source is None:
            return self.redlines.between(old, new, assess)
        source_old, source_new = self._sources(document, old, new)
        return self.source.redlines.between(source_old, source_new, assess)

    def generated(self, document: Document, version: Version) -> str | None:
        """The summary generated from the change from the version before ``version`` (``None``
        for a first version)."""
        previous = document.previous(version)
        return self._redline(document, previous, version).generated_summary if previous else None

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
        for version, after in reversed(list(zip(versions, (*document.versions[1:], None), strict=False))):
            previous = document.previous(version)
            rows.append({
                **self._link(document, version),
                "summary": self.summary(document, version),
                "material": material(version, verdicts[version.id]),
                "flagged": version.material is not None,
                "replaced": replaced(version, after),
                "previous": previous,
                "previous_link": self._link(document, previous) if previous else None,
                "diff_url": self.urls.diff_url(document.slug, previous.id, version.id) if previous else None,
            })
        return rows

    def _resolved(self, redline: Redline, old: Version, new: Version, page_url: str) -> Redline:
        """``redline`` with the links of each side resolved as on that version's page."""
        resolvers = [(links.SIDE.format(side),
                      links.side_resolver(side, version, page_url, self.bodies.targets(version.effective,
                                                                                       version.language),
                                          self.urls), version)
                     for side, version in zip(SIDES, (old, new), strict=True)]

        (old_side, _, _), (new_side, _, _) = resolvers

        def resolve(html: str) -> str:
            if old_side not in html and new_side not in html and links.MARK not in html:
                return html  # most sections link nowhere
            for prefix, link, version in resolvers:
                if prefix in html:  # a side's links start with it, as written
                    html = rewrite_urls(html, link)
                html = self.assets.fill(html, version, page_url)
            return html

        sections = []
        for section in redline.sections:
            heading, html = resolve(section.heading), resolve(section.html)
            unchanged = heading is section.heading and html is section.html
            sections.append(section if unchanged else replace(section, heading=heading, html=html))
        return replace(redline, sections=tuple(sections))

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
            "version": version, "status": standing,
            "body": Made(made_from=self.bodies.made_from(version, url, link_at),
                         make=partial(self.bodies.render, version, url, link_at)),
            "references": self._references(version, link_at),
            "history_url": self.urls.history_url(document.slug),
            "document_url": self.urls.document_url(document.slug),
            "version_url": self.urls.version_url(document.slug, version.id),
            "current": self._link(document, standing.current) if standing.current else None,
            "replaced_by": self._link(document, standing.replaced_by) if standing.replaced_by else None,
            "previous_diff_url": (self.urls.diff_url(document.slug, previous.id, version.id)
                                  if previous else None),
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
                          "url": (self.urls.version_url(slug, target.id) if target
                                  else self.urls.document_url(slug))})
        return found

    def _current_diff(self, document: Document, version: Version) -> str | None:
        current = document.in_force(self.at)
        if current is None or version == current:
            return None
        old, new = (version, current) if version.effective < current.effective else (current, version)
        return self.urls.diff_url(document.slug, old.id, new.id)

    def _link(self, document: Document, version: Version) -> dict[str, Any]:
        """A version a page links to: its URL, and its ``label`` when another version of
        ``document`` takes effect on its day (else ``None``), to tell the two apart by name."""
        versions, day, key = document.versions, version.effective, attrgetter("effective")  # in its order
        shared = bisect_right(versions, day, key=key) - bisect_left(versions, day, key=key) > 1
        return {"version": version, "url": self.urls.version_url(document.slug, version.id),
                "label": version.label if shared else None}


def _templates(kind: str, slug: str) -> tuple[str, str]:
    """The templates a page of ``kind`` of the document ``slug`` tries: its own, then the kind's."""
    return f"{kind}-{slug}.html", f"{kind}.html"
