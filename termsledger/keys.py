"""API keys of ``termsledger serve``, kept in the ``api_keys`` table of the ledger file.

A secret looks like ``tl_<id>_<random>``: the id finds the key's row, and only a salted
SHA-256 of the whole secret is stored, compared in constant time. Scopes are ordered:
``admin`` can do what ``write`` can, and ``write`` what ``read`` can.

>>> keys = Keys(":memory:")
>>> key, secret = keys.create("mailer", "read")
>>> keys.authenticate(secret) == key
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from consent import check_ledger
from consent.storage import storage_errors

SCOPES = ("read", "write", "admin")
"""Scopes from least to most powerful; each includes the ones before it."""

_PREFIX = "tl"
_SCHEMA = """CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, scope TEXT NOT NULL, salt BLOB NOT NULL,
    hash BLOB NOT NULL, created TEXT NOT NULL, revoked TEXT)"""
_COLUMNS = "id, name, scope, created, revoked"
_DUMMY_SALT = bytes(16)
CACHE_SECONDS = 1.0
"""How long :meth:`Keys.authenticate` trusts a key's row before reading it again."""


class KeysError(Exception):
    """An API key cannot be created or revoked as asked (unknown id, bad scope or name)."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as stored, without its secret. Immutable, so safe to share between requests."""

    id: str
    name: str
    scope: str
    """``read``, ``write`` or ``admin``."""
    created: str
    """UTC ISO-8601 time of creation."""
    revoked: str | None = None
    """UTC ISO-8601 time of revocation; ``None`` while the key is valid."""

    def allows(self, scope: str) -> bool:
        """True if this key's scope includes ``scope``."""
        return SCOPES.index(self.scope) >= SCOPES.index(scope)

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "scope": self.scope,
                "created": self.created, "revoked": self.revoked}


class Keys:
    """The API keys of the ledger at ``path``; one SQLite connection per thread.

    :param path: a ledger file (see :func:`consent.check_ledger`: raises
        ``consent.LedgerNotFound`` or ``consent.NotALedger`` otherwise), or ``":memory:"``.
    """

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            check_ledger(self.path)
        self._local = threading.local()
        self._cache: dict[str, tuple[float, tuple | None]] = {}
        self._memory = sqlite3.connect(":memory:") if self.path == ":memory:" else None
        with storage_errors(self.path):
            self._db.execute(_SCHEMA)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._memory is not None:
            return self._memory
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        return db

    def create(self, name: str, scope: str) -> tuple[ApiKey, str]:
        """Create a key; returns it and its secret, which is never stored nor shown again.
        Raises ``consent.StorageFull`` (or ``StorageUnavailable``) when it cannot be written."""
        if scope not in SCOPES:
            raise KeysError(f"Unknown scope {scope!r}; choose one of {', '.join(SCOPES)}.")
        if not name.strip():
            raise KeysError("A key needs a name that says who uses it.")
        key = ApiKey(id=secrets.token_hex(6), name=name, scope=scope, created=_now())
        secret = f"{_PREFIX}_{key.id}_{secrets.token_urlsafe(32)}"
        salt = secrets.token_bytes(16)
        with storage_errors(self.path):
            self._db.execute("INSERT INTO api_keys (id, name, scope, salt, hash, created) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (key.id, name, scope, salt, _digest(salt, secret), key.created))
        return key, secret

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created, id")
        return [ApiKey(*row) for row in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke the key ``key_id``: it stops working at once. Revoking twice is harmless."""
        with storage_errors(self.path):
            self._db.execute("UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL",
                             (_now(), key_id))
        row = self._db.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise KeysError(f"No API key has the id {key_id!r}.")
        return ApiKey(*row)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The valid key whose secret is ``secret``, else ``None``. Rows are cached for
        :data:`CACHE_SECONDS`, so a revocation reaches a running server within that time."""
        prefix, _, rest = secret.partition("_")
        key_id = rest.partition("_")[0] if prefix == _PREFIX else ""
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is None or now - cached[0] > CACHE_SECONDS:
            row = self._db.execute(f"SELECT {_COLUMNS}, salt, hash FROM api_keys WHERE id = ?",
                                   (key_id,)).fetchone()
            cached = self._cache[key_id] = (now, row)
            if len(self._cache) > 10_000:  # unknown ids must not grow it without bound
                self._cache.clear()
        row = cached[1]
        salt, stored = (row[5], row[6]) if row else (_DUMMY_SALT, b"")
        matches = hmac.compare_digest(_digest(salt, secret), stored)
        if not matches or row[4] is not None:
            return None
        return ApiKey(*row[:5])


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode("utf-8", "surrogateescape")).digest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
