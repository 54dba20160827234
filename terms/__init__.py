"""termsledger's content model: documents and versions read from Markdown in git.

>>> import terms
>>> content = terms.load("content")
>>> content.in_force("terms").id  # doctest: +SKIP
'2026-06-01'
"""

from .changes import Change, SectionChange, compare
from .check import check
from .errors import ContentError, TermsError, UnknownDocument, UnknownVersion
from .loader import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, load
from .materiality import DEFAULT_WATCH
from .model import Bundle, Content, Document, Problem, Version, utc_date
from .text import content_sha256, normalize
from .words import WordOp

__all__ = [
    "Bundle", "Change", "check", "compare", "Content", "ContentError", "DEFAULT_EXCLUDE",
    "DEFAULT_INCLUDE", "DEFAULT_WATCH", "Document", "Problem", "SectionChange", "TermsError",
    "UnknownDocument", "UnknownVersion", "Version", "WordOp", "content_sha256", "load",
    "normalize", "utc_date",
]
