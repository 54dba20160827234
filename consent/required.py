"""What a product must do now about a subject: the gate a signup or a login passes through.

For every published document the subject has a relation to (a ``status`` row: they accepted,
declined, withdrew or were notified) and every document marked as required at signup, the
subject's status (:mod:`consent.status`) gives the action:

=============  ======================  =====================================================
status         action                  version
=============  ======================  =====================================================
``current``    none
``notify``     ``notify``              the version in force
``reaccept``   ``accept``              the version in force
``announced``  ``announce``            the next material version announced
``never``      ``accept`` if required  the version in force (the first announced if none is)
``withdrawn``  ``accept`` if required  the same
=============  ======================  =====================================================
"""

from __future__ import annotations

from datetime import date

from .catalog import Catalog, DocumentEntries, Entry
from .rebuild import relations_at
from .records import DAY, day_of
from .status import statuses_on
from .store import Tx
from .values import Required, Requirement, Status

_NEEDS_ACCEPTANCE = ("never", "withdrawn")


def requirements(reads: Tx, catalog: Catalog, subject: str, number: int,
                 languages: tuple[str, ...], until: int | None = None) -> Required:
    """What ``subject`` (canonical) requires on day ``number`` (since the epoch), each item in
    the first of ``languages`` its version has a text in; with ``until`` (microseconds, a past
    moment), as the subject's decisions up to then make it."""
    rows = relations_at(reads, subject, until) if until is not None else {
        doc: (state, accepted, notified) for doc, state, accepted, notified
        in reads.execute(_relations(catalog, reads.join), (subject,))}
    day = day_of(number * DAY)
    items = []
    for doc in catalog.documents.values():
        row = rows.get(doc.id)
        if row is None and not doc.required:
            continue
        status = statuses_on(catalog, doc, number).of(subject, row)
        found = requirement(catalog, doc, status, day, languages)
        if found is not None:
            items.append(found)
    return Required(subject=subject, required=tuple(items))


def _relations(catalog: Catalog, join: str) -> str:
    """The SQL of a subject's status rows for every published document (an indexed lookup per
    document)."""
    ids = ",".join(str(doc.id) for doc in catalog.documents.values()) or "NULL"
    return ("SELECT st.document, st.state, st.accepted, st.notified FROM subjects s "
            f"{join} status st ON st.document IN ({ids}) AND st.subject = s.id "
            "WHERE s.subject = ?")


def action(status: Status, required: bool) -> str | None:
    """The action a subject in ``status`` needs for a document (``required`` or not)."""
    name = status.status
    if name in _NEEDS_ACCEPTANCE:
        return "accept" if required else None
    return {"notify": "notify", "reaccept": "accept", "announced": "announce"}.get(name)


def target(doc: DocumentEntries, status: Status, what: str, day: date) -> Entry | None:
    """The version ``what`` (an action) is about."""
    if what == "announce":  # the first material version to come, as the one of its day that applies
        accepted = doc.version(status.accepted_version) if status.accepted_version else None
        after = accepted.ordinal + 1 if accepted else 0
        material = next((e for e in doc.versions[after:] if e.material and e.effective > day), None)
        return material and next(e for e in doc.upcoming(day) if e.effective == material.effective)
    current = doc.in_force(day)
    if current is not None:
        return current
    upcoming = doc.upcoming(day)
    return upcoming[0] if upcoming else None


def requirement(catalog: Catalog, doc: DocumentEntries, status: Status, day: date,
                languages: tuple[str, ...]) -> Requirement | None:
    """What ``status`` requires on ``day`` about ``doc``, in the first of ``languages`` the
    version has a text in (else its own); ``None`` when nothing is required. Cached in the
    catalog snapshot."""
    what = action(status, doc.required)
    if what is None:
        return None
    key = (doc.id, day, what, status.accepted_version, languages)
    found: Requirement | None = catalog.requirements.get(key)
    if found is None and key not in catalog.requirements:
        entry = target(doc, status, what, day)
        if entry is not None:
            text = entry.preferred(languages) or entry.texts[0]
            found = Requirement(
                document=doc.slug, action=what, version=entry.id, title=text.title,
                summary=text.summary, effective=entry.effective.isoformat(),
                language=text.language, sha256=text.content_sha256,
                manifest_sha256=catalog.manifest(entry, day)[1], url=text.url,
                texts=entry.texts)
        if len(catalog.requirements) >= MAX_CACHED:
            catalog.requirements.clear()
        catalog.requirements[key] = found
    return found


MAX_CACHED = 4096
"""Most requirements a catalog snapshot caches."""
