"""Exceptions raised by the consent ledger. Every message names the field and the value."""

from __future__ import annotations


class ConsentError(Exception):
    """Base class for every error the consent ledger raises."""


class UnknownDocument(ConsentError, LookupError):
    """The catalog has no document with the requested slug."""


class UnknownVersion(ConsentError, LookupError):
    """The catalog has no such version of a document, or no text or bundle with that hash."""


class UnknownSubject(ConsentError, LookupError):
    """The ledger holds nothing about the subject."""


class InvalidSubject(ConsentError, ValueError):
    """A subject id that is not text of 1 to 256 characters."""


class InvalidEvidence(ConsentError, ValueError):
    """Evidence that is not a JSON object, or is too large."""


class InvalidRecord(ConsentError, ValueError):
    """A wrong action, channel, time or other field of a record."""


class InvalidCursor(ConsentError, ValueError):
    """A pagination cursor that this ledger did not hand out for this worklist."""


class ChangedVersion(ConsentError):
    """Publishing a version whose text changed after it was published."""


class UncommittedVersion(ConsentError):
    """A version to publish is uncommitted text in a git repository: it could not be
    reproduced from git later."""


class IdempotencyConflict(ConsentError):
    """An idempotency key reused for a different request."""


class ErasureIncomplete(ConsentError):
    """Erasure committed, but the write-ahead log could not be emptied (a reader held it)."""
