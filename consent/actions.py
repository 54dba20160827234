"""The codes the ledger stores: what an event records (:class:`Action`) and where a status row
stands (:class:`State`). Both are small integers on disk."""

from __future__ import annotations

from enum import IntEnum


class Action(IntEnum):
    """What an event records, stored as its number in ``events.action``."""

    ACCEPTED = 0
    DECLINED = 1
    WITHDRAWN = 2
    NOTIFIED = 3
    ERASED = 4
    REPAIRED = 5

    @property
    def label(self) -> str:
        """The action's name in the API: ``accepted``, ``declined``..."""
        return self.name.lower()


RECORDABLE = ("accepted", "declined", "withdrawn")
"""The actions callers record (the ledger writes the others)."""
ACTION_CODES = {action.label: int(action) for action in Action}
"""Each action's number by its name in the API (plain ``int``: the writer's hot path binds
them)."""
ACTION_LABELS = tuple(action.label for action in Action)
"""Each action's name by its number."""


class State(IntEnum):
    """Where a subject stands with a document, stored as its number in ``status.state``."""

    NONE = 0
    """No standing acceptance (only notified, or nothing)."""
    ACCEPTED = 1
    WITHDRAWN = 2
