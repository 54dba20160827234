"""The files of a content folder, read as untrusted input: only regular files inside the
folder, never through a symbolic link, never a special file, never beyond a size limit.

Sites are built in CI from repositories many people can push to: a committed link
``passwd.md -> /etc/passwd`` must not put the server's files on the public site.
"""

from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path

MAX_DOCUMENT_BYTES = 10 * 2**20
"""The largest document file read (10 MiB; long terms of use are a few hundred KB)."""
MAX_FILE_BYTES = 100 * 2**20
"""The largest image or other file a document refers to that is published (100 MiB)."""
PUBLISHED_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".bmp", ".ico", ".tif", ".tiff",
    ".pdf", ".txt", ".csv", ".tsv", ".rtf", ".doc", ".docx", ".odt", ".xls", ".xlsx", ".ods", ".ppt", ".pptx",
    ".odp", ".epub", ".zip",
    ".mp3", ".m4a", ".ogg", ".oga", ".opus", ".wav", ".flac", ".mp4", ".m4v", ".webm", ".ogv", ".mov",
})
"""The kinds of file (by extension, in any case) a document may show or link to that are
published: images, PDF, office documents, text, audio and video. Never HTML, SVG, XML or
scripts: opened from the site, they would run with the site's origin."""


def size_text(size: int) -> str:
    """``size`` bytes in words.

    >>> size_text(10 * 2**20), size_text(1536)
    ('10 MiB', '1.5 KiB')
    """
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def file_problem(root: Path, rel: str, limit: int = MAX_FILE_BYTES) -> str | None:
    """Why the file at ``rel`` (relative to the content folder ``root``, POSIX style) is
    not read, in plain words; ``None`` when it is a regular file inside the folder, reached
    without a symbolic link, of at most ``limit`` bytes.

    >>> file_problem(Path("."), "../secret.txt")
    "'../secret.txt' is outside the content folder"
    """
    if "\0" in rel:
        return f"{rel!r} is not a possible file name (it holds a NUL character)"
    path = posixpath.normpath(rel)
    if path.startswith(("/", "../")) or path == "..":
        return f"{rel!r} is outside the content folder"
    parts = path.split("/")
    if any(part.startswith(".") for part in parts) and path != ".":
        return f"{path} is hidden (a name in its path starts with a dot)"
    current = root
    for number, part in enumerate(parts, 1):
        current = current / part
        shown = "/".join(parts[:number])
        try:
            info = os.lstat(current)
        except (OSError, ValueError):
            return f"there is no file {path!r}"
        if stat.S_ISLNK(info.st_mode):
            return (f"{shown} is a symbolic link to {_link_target(current)!r} (links are never followed: "
                    f"put the file itself there)")
        if number < len(parts) and not stat.S_ISDIR(info.st_mode):
            return f"there is no file {path!r}"
    if stat.S_ISDIR(info.st_mode):
        return f"{path} is a folder, not a file"
    if not stat.S_ISREG(info.st_mode):
        return f"{path} is not a regular file"
    if info.st_size > limit:
        return f"{path} is {size_text(info.st_size)}, more than the limit of {size_text(limit)}"
    return None


def linked_file_problem(root: Path, rel: str) -> str | None:
    """Why the file at ``rel``, which a document shows or links to, is not published, in plain
    words; ``None`` when it is (see :data:`PUBLISHED_SUFFIXES` and :func:`file_problem`).

    >>> linked_file_problem(Path("."), "../form.pdf")
    "'../form.pdf' is outside the content folder"
    """
    problem = file_problem(root, rel)
    if problem is not None:
        return problem
    path = posixpath.normpath(rel)
    suffix = posixpath.splitext(path)[1].lower()
    if suffix in (".md", ".markdown"):
        return f"{path} is not one of the documents, and Markdown files are not published as files"
    if suffix not in PUBLISHED_SUFFIXES:
        kind = repr(suffix) if suffix else "without an extension"
        return (f"{path} is not published: files of type {kind} are not (images, PDF, office documents, "
                f"text, audio and video are; HTML, SVG and scripts would run on the site)")
    return None


def read_file(root: Path, rel: str, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """The bytes of ``rel`` in ``root`` if :func:`file_problem` finds nothing wrong with it,
    else ``None``. The file is opened without following a link and checked again once open."""
    if file_problem(root, rel, limit) is not None:
        return None
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(root / posixpath.normpath(rel), flags)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        data = file.read(min(limit, info.st_size) + 1)  # not a buffer of the limit's size for each file
        if len(data) > info.st_size:  # it grew since: read on up to the limit
            data += file.read(limit + 1 - len(data))
    return data if len(data) <= limit else None


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"
