"""The version of the change analysis, which a cache of its results is keyed by, and the
memo in which a comparison keeps what it found in pieces of two versions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable, Mapping
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar, cast

Found = TypeVar("Found")
_MISSING = object()

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


class Memo:
    """What :func:`terms.compare` finds in the pieces of two versions (the sentences of a
    section, the words changed in it, what an edit of a sentence changed…), to find it again
    when comparing other versions that share those pieces: in this process, and in others or
    later as JSON values by key (:meth:`key`).

    :param kept: JSON texts found before, by key (a build cache's).
    :param version: What the keys depend on besides the pieces: :func:`analysis_version`, and
        the version of the code that keeps them when it adds values of its own (redlines).
    """

    def __init__(self, kept: Mapping[str, str] | None = None, version: str = ""):
        self.kept = kept or {}
        self.version = version
        self.found: dict[str, Any] = {}
        """The JSON values found here and not yet :meth:`taken <take>`, by key."""
        self.used: set[str] = set()
        """The keys of the values of ``kept`` used and not yet taken."""
        self._values: dict[tuple[object, ...], Any] = {}

    def key(self, kind: str, *parts: object) -> str:
        """The key of the ``kind`` of value found from ``parts`` (values that their ``repr``
        tells apart: strings, numbers, tuples of them, dataclasses of them). A string part is
        hashed as it is (its ``repr`` takes longer than the hash, for long texts with quotes
        and dashes); each part is hashed after its kind and length, which tell parts apart."""
        digest = hashlib.sha256(repr(self.version or analysis_version()).encode())
        for part in parts:
            text = part if isinstance(part, str) else repr(part)
            data = text.encode("utf-8", "surrogatepass")
            digest.update(b"%s%d:" % (b"s" if text is part else b"r", len(data)))
            digest.update(data)
        return f"{kind}:{digest.hexdigest()}"

    def recall(self, kind: str, parts: tuple[Hashable, ...], find: Callable[[], Found],
               dump: Callable[[Found], Any], load: Callable[[Any], Found]) -> Found:
        """What ``find()`` finds from ``parts``: found before in this process, else read from
        ``kept`` (with ``load``), else found and kept (written with ``dump``)."""
        known = (kind, *parts)
        value = self._values.get(known, _MISSING)  # one look-up when known, the common case
        if value is _MISSING:
            entry = self.key(kind, *parts)
            if entry in self.kept:
                value = load(json.loads(self.kept[entry]))
                self.used.add(entry)
            else:
                value = find()
                self.found[entry] = dump(value)
            self._values[known] = value
        return cast("Found", value)

    def take(self) -> tuple[dict[str, Any], set[str]]:
        """The values found and the keys of those used since the last time."""
        found, used, self.found, self.used = self.found, self.used, {}, set()
        return found, used


def recall(memo: Memo | None, kind: str, parts: tuple[Hashable, ...], find: Callable[[], Found],
           dump: Callable[[Found], Any], load: Callable[[Any], Found]) -> Found:
    """:meth:`Memo.recall`, or ``find()`` without a memo."""
    return find() if memo is None else memo.recall(kind, parts, find, dump, load)
