"""termsledger's content model: documents and versions read from Markdown in git.

>>> import terms
>>> content = terms.load("content")
>>> content.in_force("terms").id  # doctest: +SKIP
'2026-06-01'

Importing ``terms`` stays quick: the change engine imports rapidfuzz and the
materiality analysis (:mod:`terms.materiality`, with its watch list ``DEFAULT_WATCH``) in the
functions that compare texts, not when its modules load.
"""

from .analysis import Memo, analysis_version
from .changes import Change, SectionChange, compare, renumbering
from .check import Published, check
from .errors import ContentError, TermsError, UnknownDocument, UnknownVersion
from .files import MAX_FILE_BYTES, PUBLISHED_SUFFIXES, file_problem, read_file
from .history import committed_file, matches, open_repo, tracked
from .languages import InvalidLanguage, autonym, language_name, language_tag, locale
from .loader import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, load
from .markdown import Heading, headings, inline_text, link_target, parser, without_comments
from .model import (
    Bundle,
    Content,
    Dated,
    Document,
    Problem,
    Version,
    announced_on,
    in_force_on,
    manifest,
    referenced,
    replaced,
    utc_date,
    version_named,
)
from .redline import render_decision, render_markdown
from .sections import Section, plain, split
from .source import FRONT_MATTER_KEYS, SLUG, not_a_date
from .text import content_sha256, normalize
from .verdicts import Assessment, Decision, assess_versions, decide, material
from .words import WordOp, ratios

__all__ = [
    # content: loading, the model, checking
    "load", "DEFAULT_INCLUDE", "DEFAULT_EXCLUDE", "FRONT_MATTER_KEYS", "SLUG", "check", "Published",
    "Content", "Document", "Version", "Bundle", "Dated", "Problem", "manifest", "referenced",
    "version_named", "in_force_on", "announced_on", "replaced", "utc_date", "not_a_date", "content_sha256",
    "normalize",
    "TermsError", "ContentError", "UnknownDocument", "UnknownVersion",
    # the change engine
    "compare", "Change", "SectionChange", "renumbering", "WordOp", "ratios", "analysis_version", "Memo",
    "assess_versions", "Assessment", "Decision", "decide", "material", "render_markdown",
    "render_decision",
    # Markdown: the shared parser, sections, headings and links
    "parser", "split", "plain", "Section", "headings", "Heading", "inline_text", "link_target",
    "without_comments",
    # files and git
    "open_repo", "committed_file", "matches", "tracked", "read_file", "file_problem", "MAX_FILE_BYTES",
    "PUBLISHED_SUFFIXES",
    # languages
    "language_tag", "language_name", "autonym", "locale", "InvalidLanguage",
]
