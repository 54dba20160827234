"""API keys of ``termsledger serve``, kept in the ledger's ``api_keys`` table.

A secret looks like ``tl_<id>_<random>``: the id finds the key's row, and only a salted
SHA-256 of the whole secret is stored, compared in constant time. Where the engine tells when
keys change (PostgreSQL notifies every server at the commit of a revocation), a key verified
is remembered until then, so that a request costs no read of its key. Scopes are ordered:
``admin`` can do what ``write`` can, and ``write`` what ``read`` can.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .errors import KeysError
from .records import possible_id
from .store import Store
from .values import _Value

SCOPES = ("read", "write", "admin")
"""Scopes from least to most powerful; each includes the ones before it."""

_PREFIX = "tl"
_COLUMNS = "id, name, scope, created, revoked"
_DUMMY_SALT = bytes(16)
_REMEMBERED = 1000
"""Most keys remembered at once (beyond, all are forgotten)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKey(_Value):
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


class Keys:
    """The API keys of a ledger (``Ledger.keys``), in its storage ``store``."""

    def __init__(self, store: Store):
        self._store = store
        self._revoked = 0
        """Revocations made here: the engine may tell of them an instant after they return."""
        self._verified: dict[bytes, tuple[tuple[int, int], ApiKey]] = {}
        """Valid keys by the SHA-256 of their secret, each with the generation read."""

    def create(self, name: str, scope: str) -> tuple[ApiKey, str]:
        """Create a key; returns it and its secret, which is never stored nor shown again.
        Raises ``StorageFull`` (or ``StorageUnavailable``) when it cannot be written."""
        if scope not in SCOPES:
            raise KeysError(f"Unknown scope {scope!r}; choose one of {', '.join(SCOPES)}.")
        if not isinstance(name, str) or not name.strip():
            raise KeysError("A key needs a name that says who uses it.")
        if not name.isprintable():
            raise KeysError(f"A key's name must be printable text, without control characters: {name!r}")
        key = ApiKey(id=secrets.token_hex(6), name=name, scope=scope, created=_now())
        secret = f"{_PREFIX}_{key.id}_{secrets.token_urlsafe(32)}"
        salt = secrets.token_bytes(16)
        with self._store.write() as tx:
            tx.execute("INSERT INTO api_keys (id, name, scope, salt, hash, created) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       (key.id, name, scope, salt, _digest(salt, secret), key.created))
        return key, secret

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        rows = self._store.reads().execute(
            f"SELECT {_COLUMNS} FROM api_keys ORDER BY created, id").fetchall()
        return [_key(row) for row in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke the key ``key_id``: it stops working at once. Revoking twice is harmless."""
        row = None
        if possible_id(key_id):
            with self._store.write() as tx:
                tx.execute("UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL",
                           (_now(), key_id))
                row = tx.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?",
                                 (key_id,)).fetchone()
        self._revoked += 1
        self._verified.clear()
        if row is None:
            raise KeysError(f"No API key has the id {key_id!r}.")
        return _key(row)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The valid key whose secret is ``secret``, else ``None``. The key's row is read
        (one primary-key lookup) unless it was verified since the engine last told of a change
        of keys, so that a revocation holds from the next request on, in every process serving
        the ledger (on PostgreSQL, from when its notification arrives: at once here, within
        milliseconds of the commit elsewhere)."""
        store_generation = self._store.keys_generation()
        generation = (store_generation, self._revoked) if store_generation is not None else None
        known = hashlib.sha256(secret.encode("utf-8", "surrogateescape")).digest()
        if generation is not None:
            remembered = self._verified.get(known)
            if remembered is not None and remembered[0] == generation:
                return remembered[1]
        key = self._read(secret)
        if key is not None and generation is not None:
            if len(self._verified) >= _REMEMBERED:
                self._verified.clear()
            self._verified[known] = (generation, key)
        return key

    def _read(self, secret: str) -> ApiKey | None:
        prefix, _, rest = secret.partition("_")
        key_id = rest.partition("_")[0]
        if prefix != _PREFIX or not possible_id(key_id):
            key_id = ""  # no key's: compared all the same, in the same time
        row = self._store.reads().execute(
            f"SELECT {_COLUMNS}, salt, hash FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        salt, stored = (bytes(row[5]), bytes(row[6])) if row else (_DUMMY_SALT, b"")
        matches = hmac.compare_digest(_digest(salt, secret), stored)
        if not matches or row is None or row[4] is not None:
            return None
        return _key(row)


def _key(row: tuple[Any, ...]) -> ApiKey:
    return ApiKey(id=row[0], name=row[1], scope=row[2], created=row[3], revoked=row[4])


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode("utf-8", "surrogateescape")).digest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
