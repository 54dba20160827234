"""termsledger's content model: documents and versions read from Markdown in git.

>>> import terms
>>> content = terms.load("content")
>>> content.in_force("terms").id  # doctest: +SKIP
'2026-06-01'
"""

from importlib import import_module
from typing import Any

from .analysis import analysis_version
from .check import check
from .errors import ContentError, TermsError, UnknownDocument, UnknownVersion
from .languages import InvalidLanguage, language_name, language_tag
from .loader import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, load
from .model import (Bundle, Content, Dated, Document, Problem, Version, announced_on, in_force_on,
                    manifest, referenced, utc_date, version_named)
from .source import FRONT_MATTER_KEYS
from .text import content_sha256, normalize
from .verdicts import Assessment, assess_versions

_ENGINE = {"Change": "changes", "SectionChange": "changes", "compare": "changes",
           "DEFAULT_WATCH": "materiality", "WordOp": "words"}
"""Names from the change engine, imported on first use: it brings rapidfuzz and numpy,
which loading content (or an up-to-date site build) does not need."""


def __getattr__(name: str) -> Any:
    if name not in _ENGINE:
        raise AttributeError(f"module 'terms' has no attribute {name!r}")
    value = getattr(import_module(f".{_ENGINE[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "analysis_version", "Assessment", "assess_versions", "Bundle", "Change", "check", "compare", "Content", "ContentError", "DEFAULT_EXCLUDE",
    "DEFAULT_INCLUDE", "DEFAULT_WATCH", "Document", "FRONT_MATTER_KEYS", "Problem", "SectionChange", "TermsError",
    "UnknownDocument", "UnknownVersion", "Version", "WordOp", "content_sha256", "load",
    "normalize", "referenced", "utc_date", "InvalidLanguage", "language_name", "language_tag",
    "Dated", "announced_on", "in_force_on", "manifest", "version_named",
]
