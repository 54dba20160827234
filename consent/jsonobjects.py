"""JSON objects as the ledger reads them: a key given twice is refused, never guessed at, and so
is text that is not valid Unicode."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from .errors import DuplicateKey

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone surrogate, which JSON's escapes (``\\ud800``) and undecodable bytes let into Python's
text, and no UTF-8 text holds: such text cannot be stored, signed or checked."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The object of ``pairs``, refusing a key given twice with :class:`DuplicateKey`: the
    ``object_pairs_hook`` of :func:`json.loads` for JSON whose values are recorded or checked."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return data


def json_problem(error: ValueError | RecursionError) -> str:
    """What :func:`json.loads` refused, in plain words: its own message for malformed JSON,
    else (Python's words) the bytes that are not UTF-8, the nesting, the long number."""
    if isinstance(error, json.JSONDecodeError):
        return str(error)
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 text (byte {error.start})"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if "integer string conversion" in str(error):  # Python's limit on a number's digits
        return f"a number has more than {sys.get_int_max_str_digits()} digits"
    return str(error)
