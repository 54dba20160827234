"""Exceptions raised while building the site."""

from __future__ import annotations

import errno
from pathlib import Path

_WHY = {errno.EEXIST: "it is a file, where a folder is needed",
        errno.ENOTDIR: "a file in this path is not a folder",
        errno.EISDIR: "it is a folder, where a file is needed"}


class SiteBuildError(Exception):
    """Base class for every error the site builder raises."""


class InvalidPath(SiteBuildError, ValueError):
    """A slug, version name or output path would leave the output folder or is malformed."""


class Unwritable(SiteBuildError):
    """A file or folder of the site, or of the build cache, cannot be written."""


def unwritable(error: OSError, path: Path) -> Unwritable:
    """The error for ``error``, met writing ``path``: it names the path it is about (the
    target of a rename, else the one the system names, else ``path``) and what is wrong."""
    where = error.filename2 or error.filename or path
    return Unwritable(f"cannot write {where}: {_WHY.get(error.errno or 0, error.strerror or str(error))}")
