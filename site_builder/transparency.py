"""The page that explains the ``transparency/`` files published with the site (the consent
ledger's signed checkpoints and public keys, which the caller hands to :func:`build` as extra
files) and how to verify a consent receipt with them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from .errors import SiteBuildError

PAGE = "transparency/"
TEMPLATE = "transparency.html"
KEYS = "transparency/keys.json"
INDEX = "transparency/checkpoints.json"
LATEST = "transparency/checkpoint"


def page_context(files: Mapping[str, bytes]) -> dict[str, Any] | None:
    """What the page shows, read from the files to publish; ``None`` when they hold no
    transparency log (no ``transparency/keys.json``)."""
    if KEYS not in files:
        return None
    try:
        keys = json.loads(files[KEYS])
        checkpoints = json.loads(files[INDEX])["checkpoints"] if INDEX in files else []
        latest = checkpoints[-1] if checkpoints else None
        return {"origin": keys["origin"],
                "keys": [{"id": k["key_id"], "from": k["not_before"], "from_day": _day(k["not_before"]),
                          "until": k["not_after"],
                          "until_day": _day(k["not_after"]) if k["not_after"] else None}
                         for k in keys["keys"]],
                "checkpoints": len(checkpoints),
                "latest": {"size": latest["size"], "day": _day(latest["time"])} if latest else None,
                "latest_file": LATEST if LATEST in files else None, "history_file": INDEX,
                "keys_file": KEYS}
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise SiteBuildError(f"the transparency files to publish are malformed: {error!r}") from None


def _day(time: str) -> date:
    """The day of a UTC time written ``2026-01-31T12:00:00Z``."""
    return date.fromisoformat(time[:10])
