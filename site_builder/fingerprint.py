"""Fingerprints of what a build depends on, so that a rebuild can tell what changed."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from functools import lru_cache
from pathlib import Path

import terms
from terms import Content

from .settings import SiteSettings

PACKAGE = Path(__file__).parent


def _files(folder: Path, pattern: str) -> list[tuple[str, int, int]]:
    return [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob(pattern))
            if p.is_file()]


def _stats(root: Path, sources: list[str]) -> list[tuple[str, tuple[int, int, int] | None]]:
    """Size, modification time and inode of each of ``sources`` (``None`` when missing or not a
    possible file name); of a symbolic link itself, never of what it points to."""
    stats = []
    for source in sources:
        try:
            stat = os.lstat(root / source)
            stats.append((source, (stat.st_size, stat.st_mtime_ns, stat.st_ino)))
        except (OSError, ValueError):
            stats.append((source, None))
    return stats


@lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """Names, sizes and modification times of the code that renders (``terms`` and
    ``site_builder``), so that upgrading either invalidates cached fragments."""
    files = _files(Path(terms.__file__).parent, "*.py") + _files(PACKAGE, "*.py")
    return hashlib.sha256(repr(files).encode()).hexdigest()


def build_fingerprint(content: Content, settings: SiteSettings, at: date, sources: list[str]) -> str:
    """Everything the output depends on: code, templates, stylesheet, settings, every version
    (its text through its hash), which versions are in force on ``at`` (and ``at`` itself when a
    version is announced) and the size and modification time of the working-tree files in
    ``sources`` (see :mod:`site_builder.assets`)."""
    templates = _files(PACKAGE / "templates", "*") + _files(PACKAGE / "static", "*") + \
        _files(PACKAGE / "locale", "*/LC_MESSAGES/*.mo")
    if settings.templates:
        templates += _files(Path(settings.templates), "*") + \
            _files(Path(settings.templates), "locale/*/LC_MESSAGES/*.po")
    versions = [
        [v.slug, v.id, v.effective, v.label, v.title, v.summary, v.material, v.references,
         v.content_sha256, v.path, v.commit, v.committed_at, v.announced_at,
         [[t.language, t.title, t.summary, t.content_sha256, t.path, t.commit, t.committed_at]
          for t in v.translations], v.effective <= at]
        for document in content.documents.values() for v in document.versions
    ]
    announced = any(row[-1] is False for row in versions)  # their banners say on which day the site was built
    data = json.dumps([code_fingerprint(), templates, repr(settings), content.language, list(content.documents), versions,
                       _stats(Path(content.root), sources), at if announced else None], default=str)
    return hashlib.sha256(data.encode()).hexdigest()
