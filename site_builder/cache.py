"""A cache of rendered fragments in the output folder, keyed by hashes of their inputs,
so that a rebuild re-renders only what changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .fingerprint import code_fingerprint

FOLDER = ".termsledger-cache"


def key(*parts: Any) -> str:
    """A cache key: SHA-256 of the JSON of ``parts`` and the :func:`code_fingerprint`."""
    data = json.dumps([code_fingerprint(), *parts], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


class Cache:
    """JSON values in ``<out>/.termsledger-cache/<key>.json``; entries a build did not
    use are removed by :meth:`prune`."""

    def __init__(self, out_dir: Path):
        self.folder = out_dir / FOLDER
        self._used: set[str] = set()
        self._memory: dict[str, Any] = {}

    def get(self, entry: str) -> Any | None:
        """The value stored under ``entry``, or ``None``; marks it used."""
        self._used.add(entry)
        if entry in self._memory:
            return self._memory[entry]
        try:
            return json.loads((self.folder / f"{entry}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def has(self, entry: str) -> bool:
        """Whether a value is stored under ``entry``."""
        return entry in self._memory or (self.folder / f"{entry}.json").is_file()

    def put(self, entry: str, value: Any) -> None:
        """Store ``value`` under ``entry`` (in memory and on disk); marks it used."""
        self._used.add(entry)
        self._memory[entry] = value
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{entry}.json").write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")

    def prune(self) -> None:
        """Delete the entries this build did not use."""
        if self.folder.is_dir():
            for path in self.folder.glob("*.json"):
                if path.stem not in self._used:
                    path.unlink()
