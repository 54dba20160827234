"""The version of the change analysis: what a cache of its results is keyed by."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import import_module
from pathlib import Path

LIBRARIES = ("markdown_it", "mdit_py_plugins", "rapidfuzz")
"""The libraries whose code the analysis runs (parsing, pairing, scoring)."""


@cache
def analysis_version() -> str:
    """A hash of the source of every module of ``terms`` and of the versions of
    :data:`LIBRARIES`: it changes whenever :func:`terms.compare` may give another result, so
    that results kept by this key (a site's redlines) are never stale. Derived, not written
    by hand: a number bumped by hand is forgotten the day a rule of the analysis changes.

    >>> len(analysis_version())
    64
    """
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        source = path.read_bytes()
        digest.update(f"{path.name}\0{len(source)}\0".encode() + source)
    for library in LIBRARIES:
        digest.update(f"{library}=={import_module(library).__version__}\0".encode())
    return digest.hexdigest()
