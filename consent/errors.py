"""Exceptions raised by the consent ledger. Every message names the field and the value."""

from __future__ import annotations

import reprlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not imported: verifying a receipt must not load the content model
    import terms


def short(value: Any) -> str:
    """``repr(value)``, cut to 80 characters for an error message (see :func:`cut`); its first
    levels when it is nested deeper than :func:`repr` goes.

    >>> deep = []
    >>> for _ in range(5000):
    ...     deep = [deep]
    >>> short(deep)
    '[[[[[[[...]]]]]]]'
    """
    try:
        return cut(repr(value))
    except RecursionError:
        return cut(reprlib.repr(value))


def cut(text: str) -> str:
    """``text`` cut to 80 characters for an error message, ``...`` ending what is cut."""
    return text if len(text) <= 80 else text[:77] + "..."


class ConsentError(Exception):
    """Base class for every error the consent ledger raises."""


class LedgerNotFound(ConsentError, FileNotFoundError):
    """No file at the ledger's path (only publishing creates a ledger)."""


class NotALedger(ConsentError, ValueError):
    """A file that is not a termsledger ledger: not SQLite, or SQLite without its tables."""


class InvalidLocation(ConsentError, ValueError):
    """A ledger's location that is neither a file's path nor a ``postgresql://`` URL, or a
    malformed PostgreSQL URL."""


class LedgerExists(ConsentError, FileExistsError):
    """A copy or backup's target already holds a ledger (or another file)."""


class IncompleteCopy(ConsentError):
    """A database holding a ``ledger copy`` that was interrupted or failed before it verified:
    no command uses it; the copy may start again into it."""


class NewerLedger(ConsentError):
    """A ledger whose schema a newer termsledger wrote: this one cannot use it."""


class StorageUnavailable(ConsentError):
    """The ledger's file cannot be written now (an I/O error, a lock, a read-only file):
    nothing was changed; retry later."""


class StorageRefused(ConsentError):
    """The ledger's storage refuses it for a reason that waiting does not mend (a wrong
    password or option, a missing database, schema or privilege, a damaged file): nothing was
    changed; the message says what to fix."""


class StorageFull(StorageUnavailable):
    """The disk, or the database's size limit, is full: nothing was changed; free space and
    retry."""


class UnpublishedDocument(ConsentError, LookupError):
    """The catalog has no document with the requested slug (``terms.UnknownDocument`` is the
    content's own)."""


class UnpublishedVersion(ConsentError, LookupError):
    """The catalog has no such version of a document, or no text or bundle with that hash
    (``terms.UnknownVersion`` is the content's own)."""


class OutdatedVersion(ConsentError):
    """An acceptance (or decline) of a version that is neither in force nor announced: the
    product showed an old text; the message names the version in force. Imports of history
    are not refused."""


class InvalidImport(ConsentError, ValueError):
    """An import with malformed lines: nothing of it was recorded."""

    def __init__(self, message: str, bad: tuple[Any, ...], count: int):
        super().__init__(message)
        self.bad = bad
        """The first lines refused (:class:`~consent.values.BadLine`): number and why."""
        self.count = count
        """How many lines were refused."""


class UnknownSubject(ConsentError, LookupError):
    """The ledger holds nothing about the subject."""


class InvalidSubject(ConsentError, ValueError):
    """A subject id that is not text of 1 to 256 characters."""


class InvalidEvidence(ConsentError, ValueError):
    """Evidence that is not a JSON object, or is too large."""


class InvalidRecord(ConsentError, ValueError):
    """A wrong action, channel, time or other field of a record."""


class DuplicateKey(InvalidRecord):
    """A JSON object that gives a key twice: which of its values was meant is a guess."""

    def __init__(self, key: str):
        super().__init__(f"duplicate key {key!r}")
        self.key = key
        """The key given twice."""


class InvalidCursor(ConsentError, ValueError):
    """A pagination cursor that this ledger did not hand out for this worklist."""


class InvalidContent(ConsentError, ValueError):
    """Content with errors (see :func:`terms.check`) that publishing refuses."""

    def __init__(self, message: str, problems: tuple[terms.Problem, ...]):
        super().__init__(message)
        self.problems = problems
        """The errors, as ``termsledger check`` reports them."""


class KeysError(ConsentError, ValueError):
    """An API key cannot be created or revoked as asked (unknown id, bad scope or name)."""


class InvalidWebhook(ConsentError, ValueError):
    """A webhook endpoint that cannot be added as asked: a URL that is not http(s), that holds
    credentials, or whose host is on a private address; an unknown event type."""


class UnknownWebhook(ConsentError, LookupError):
    """No webhook endpoint has the id given."""


class ChangedVersion(ConsentError):
    """Publishing a version whose text changed after it was published."""


class UncommittedVersion(ConsentError):
    """A version to publish is uncommitted text in a git repository: it could not be
    reproduced from git later."""


class IdempotencyConflict(ConsentError):
    """An idempotency key reused for a different request."""


class CheckpointIncomplete(ConsentError):
    """The write-ahead log could not be emptied in time: a reader held an older snapshot."""

    def __init__(self, message: str, *, remains: str = ""):
        super().__init__(message)
        self.remains = remains
        """Where the bytes remain and why, in words (``the write-ahead log ... while ...``)."""


class ErasureIncomplete(CheckpointIncomplete):
    """Erasure committed, but the write-ahead log could not be emptied (a reader held it):
    ``termsledger consent checkpoint``, or erasing again, finishes it."""


class InvalidProof(ConsentError, ValueError):
    """A Merkle inclusion or consistency proof that is malformed or does not verify."""


class DamagedLog(ConsentError):
    """The stored transparency log lacks hashes it must hold (changed outside termsledger)."""


class UnknownCheckpoint(ConsentError, LookupError):
    """The log has no signed checkpoint of the size asked for, or none published yet that
    includes the leaf asked about."""


class UnknownReceipt(ConsentError, LookupError):
    """No receipt was issued for the event asked about, or no event or receipt has the id."""


class InvalidNote(ConsentError, ValueError):
    """A signed note, checkpoint or verifier key that is malformed, or whose signature does not
    verify with the keys given."""


class SigningKeyError(ConsentError):
    """A signing key or public key record that is missing, malformed or unprotected, or a key
    operation (create, rotate) that cannot be done as asked."""


class InvalidReceipt(ConsentError, ValueError):
    """A consent receipt that is malformed."""


class PublicationError(ConsentError):
    """A file of the published site (a folder or a URL) that cannot be read, or is malformed."""
