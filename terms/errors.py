"""Exceptions raised by the content model."""


class TermsError(Exception):
    """Base class for every error the content model raises."""


class ContentError(TermsError):
    """A content folder cannot be read (it does not exist, or a glob matches nothing usable)."""


class UnknownDocument(TermsError):
    """No document has the requested slug."""


class UnknownVersion(TermsError):
    """A document has no version with the requested name."""
