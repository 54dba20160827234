"""A subject's status for a document, computed from its ``status`` row and the catalog."""

from __future__ import annotations

from datetime import date
from typing import Any

from .actions import State
from .catalog import Catalog, DocumentEntries, Entry
from .records import DAY, day_of
from .values import Status

ACCEPTED, WITHDRAWN = int(State.ACCEPTED), int(State.WITHDRAWN)
MAX_STATUSES = 1024
"""Most (document, day) status computations a catalog snapshot caches."""
StatusRow = tuple[int, "int | None", "int | None"]
"""A ``status`` row's ``(state, accepted, notified)``."""


class DocumentStatuses:
    """The statuses of one document on one day; :meth:`of` computes a subject's.

    - ``never``: no standing acceptance (nothing accepted, or only declined);
    - ``withdrawn``: the last word was a withdrawal;
    - ``reaccept``: a material version took effect after the accepted one;
    - ``notify``: newer versions took effect, none material, and the subject was not yet
      notified of the one in force (or a newer one);
    - ``announced``: the accepted version is current, but a material one is announced;
    - ``current``: otherwise.
    """

    def __init__(self, catalog: Catalog, doc: DocumentEntries, day: date):
        self.catalog, self.doc = catalog, doc
        self.current = doc.in_force(day)
        upcoming = doc.upcoming(day)
        self.current_id = self.current.id if self.current else None
        self.announced_id = upcoming[0].id if upcoming else None
        self._outcomes: dict[StatusRow | None, tuple[Any, ...]] = {}
        """Status fields per ``status`` row: few distinct rows, many subjects."""

    def of(self, subject: str, row: StatusRow | None) -> Status:
        """The status of ``subject`` whose row is ``(state, accepted, notified)`` or ``None``."""
        outcome = self._outcomes.get(row)
        if outcome is None:
            outcome = self._outcomes[row] = self._outcome(row)
        status, accepted, current, announced, notified = outcome
        return Status(subject=subject, document=self.doc.slug, status=status,
                      accepted_version=accepted, current_version=current,
                      announced_version=announced, notified_version=notified)

    def _outcome(self, row: StatusRow | None) -> tuple[Any, ...]:
        doc, current = self.doc, self.current
        state, accepted_id, notified_id = row or (0, None, None)
        accepted: Entry | None = None
        notified: Entry | None = None
        if accepted_id is not None:
            accepted = self.catalog.by_rowid.get(accepted_id)
        if notified_id is not None:
            notified = self.catalog.by_rowid.get(notified_id)
        if state == WITHDRAWN:
            status = "withdrawn"
        elif state != ACCEPTED or accepted is None:
            status = "never"
        elif current is None or accepted.ordinal >= current.ordinal:
            later_material = doc.material_upto[-1] > doc.material_upto[accepted.ordinal]
            status = "announced" if later_material else "current"
        elif doc.material_after(accepted, current):
            status = "reaccept"
        elif notified is not None and notified.ordinal >= current.ordinal:
            status = "current"
        else:
            status = "notify"
        return (status, accepted.id if accepted else None, self.current_id, self.announced_id,
                notified.id if notified else None)


def statuses_on(catalog: Catalog, doc: DocumentEntries, number: int) -> DocumentStatuses:
    """The statuses of ``doc`` on day ``number`` (since the epoch), cached with ``catalog``."""
    key = (doc.id, number)
    found: DocumentStatuses | None = catalog.statuses.get(key)
    if found is None:
        if len(catalog.statuses) >= MAX_STATUSES:
            catalog.statuses.clear()
        found = catalog.statuses[key] = DocumentStatuses(catalog, doc, day_of(number * DAY))
    return found
