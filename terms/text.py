"""Normalization and hashing of document text."""

import hashlib
import unicodedata


def normalize(body: str) -> str:
    """Return ``body`` in its canonical form: Unicode NFC, ``\\n`` line endings,
    no trailing whitespace on any line, and no blank lines at either end."""
    body = unicodedata.normalize("NFC", body.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in body.split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def content_sha256(body: str) -> str:
    """SHA-256 (hex) of the normalized ``body``."""
    return hashlib.sha256(normalize(body).encode("utf-8")).hexdigest()


def first_changed_line(old: str, new: str) -> int:
    """The 1-based line of ``new`` on which it first differs from ``old``.

    >>> first_changed_line("a\\nb\\nc\\n", "a\\nB\\nc\\n")
    2
    """
    old_lines, new_lines = old.split("\n"), new.split("\n")
    for number, (before, after) in enumerate(zip(old_lines, new_lines, strict=False), 1):
        if before != after:
            return number
    return min(len(old_lines), len(new_lines))
