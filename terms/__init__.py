"""termsledger's content model: documents and versions read from Markdown in git.

>>> import terms
>>> content = terms.load("content")
>>> content.in_force("terms").id  # doctest: +SKIP
'2026-06-01'
"""

from .check import check
from .errors import ContentError, TermsError, UnknownDocument, UnknownVersion
from .loader import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, load
from .model import Bundle, Content, Document, Problem, Version, utc_date
from .text import content_sha256, normalize

__all__ = [
    "Bundle", "check", "Content", "ContentError", "DEFAULT_EXCLUDE", "DEFAULT_INCLUDE", "Document",
    "Problem", "TermsError", "UnknownDocument", "UnknownVersion", "Version", "content_sha256",
    "load", "normalize", "utc_date",
]
