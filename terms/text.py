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
