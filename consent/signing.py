"""The signing key of receipts and checkpoints, and the public record of every key ever used.

The private key lives in one file, outside the ledger and outside the site (by default
``termsledger-signing.key`` beside ``termsledger.toml``), created with mode 0600; a key file
that other users can read is refused, as OpenSSH refuses such keys. Beside it, the *public keys
record* (``<key file without suffix>.keys.json``) lists every key with its validity period;
it holds no secret and is what the site publishes as ``transparency/keys.json``::

    {"origin": "terms.example.com", "keys": [
      {"key_id": "1a2b3c4d", "vkey": "terms.example.com+1a2b3c4d+BA...",
       "not_before": "2026-01-01T00:00:00Z", "not_after": "2026-06-01T00:00:00Z"},
      {"key_id": "5e6f7a8b", "vkey": "terms.example.com+5e6f7a8b+BA...",
       "not_before": "2026-06-01T00:00:00Z", "not_after": null}]}

Rotation closes the current key's period and opens a new key's at the same second, under the
same name (the log's origin), so that what an old key signed keeps verifying for its time.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import DuplicateKey, InvalidNote, SigningKeyError
from .jsonobjects import json_problem, unique_keys
from .note import SigningKey, VerifierKey, check_name, seconds_of

MAX_RECORD_BYTES = 1024 * 1024
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def format_time(time: datetime) -> str:
    """``time`` as ISO-8601 UTC in whole seconds, ``Z``-suffixed."""
    return datetime.fromtimestamp(seconds_of(time), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: Any, what: str) -> datetime:
    """Read a time written by :func:`format_time`."""
    try:
        if not isinstance(text, str) or not _TIME.fullmatch(text):
            raise ValueError
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)
    except ValueError:
        raise SigningKeyError(f"{what} is not a UTC time like 2026-01-31T12:00:00Z: "
                              f"{str(text)[:40]!r}") from None


@dataclass(frozen=True, kw_only=True, slots=True)
class PublicKey:
    """A key of the record and the period it signs for (both ends included)."""

    key: VerifierKey
    not_before: datetime
    not_after: datetime | None = None
    """``None`` while the key is the current one."""

    def valid_at(self, time: datetime) -> bool:
        return self.not_before <= time and (self.not_after is None or time <= self.not_after)

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": f"{self.key.key_id:08x}", "vkey": str(self.key),
                "not_before": format_time(self.not_before),
                "not_after": format_time(self.not_after) if self.not_after else None}


@dataclass(frozen=True, kw_only=True, slots=True)
class PublicKeys:
    """The public keys record: the log's origin and every key it ever signed with."""

    origin: str
    keys: tuple[PublicKey, ...]

    @property
    def current(self) -> PublicKey | None:
        return next((k for k in self.keys if k.not_after is None), None)

    def find(self, name: str, key_id: int) -> PublicKey | None:
        return next((k for k in self.keys if k.key.name == name and k.key.key_id == key_id), None)

    def to_json(self) -> bytes:
        return (json.dumps({"origin": self.origin, "keys": [k.to_dict() for k in self.keys]},
                           indent=2) + "\n").encode()

    @classmethod
    def parse(cls, data: bytes, *, source: str = "the public keys record") -> PublicKeys:
        """Read a record strictly; errors name ``source``."""
        if len(data) > MAX_RECORD_BYTES:
            raise SigningKeyError(f"{source} is larger than {MAX_RECORD_BYTES} bytes")
        try:
            record = json.loads(data, object_pairs_hook=unique_keys)
        except DuplicateKey as error:  # which of its values is meant is a guess
            raise SigningKeyError(f"{source} is not valid: {error}") from None
        except (ValueError, RecursionError) as error:
            raise SigningKeyError(f"{source} is not JSON: {json_problem(error)}") from None
        if not isinstance(record, dict) or set(record) != {"origin", "keys"} \
                or not isinstance(record["keys"], list):
            raise SigningKeyError(f"{source} must be an object with 'origin' and a list 'keys'")
        try:
            origin = check_name(record["origin"], f"{source}: origin")
        except InvalidNote as error:
            raise SigningKeyError(str(error)) from None
        keys = []
        for i, entry in enumerate(record["keys"], 1):
            where = f"{source}: key {i}"
            if not isinstance(entry, dict) or set(entry) != {"key_id", "vkey", "not_before", "not_after"}:
                raise SigningKeyError(f"{where} must have exactly key_id, vkey, not_before, not_after")
            try:
                key = VerifierKey.parse(entry["vkey"])
            except InvalidNote as error:
                raise SigningKeyError(f"{where}: {error}") from None
            if entry["key_id"] != f"{key.key_id:08x}" or key.name != origin:
                raise SigningKeyError(f"{where}: key_id or name does not match its vkey and the origin")
            not_before = parse_time(entry["not_before"], f"{where}: not_before")
            not_after = (None if entry["not_after"] is None
                         else parse_time(entry["not_after"], f"{where}: not_after"))
            if not_after is not None and not_after < not_before:
                raise SigningKeyError(f"{where}: not_after is before not_before")
            keys.append(PublicKey(key=key, not_before=not_before, not_after=not_after))
        if sum(k.not_after is None for k in keys) > 1:
            raise SigningKeyError(f"{source} has more than one current key (not_after null)")
        return cls(origin=origin, keys=tuple(keys))


MAX_KEY_BYTES = 4096
"""Most bytes of a signing key file read (one is about 100)."""


def public_keys_path(key_path: str | Path) -> Path:
    """The public keys record beside the key file ``key_path``."""
    return Path(key_path).with_suffix(".keys.json")


def read_public_keys(path: str | Path) -> PublicKeys:
    """Read the public keys record at ``path``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningKeyError(f"cannot read the public keys record {path}: {error.strerror}") from None
    return PublicKeys.parse(data, source=str(path))


def load_key(path: str | Path) -> SigningKey:
    """The signing key in ``path``, which must be a file holding one, readable by its owner
    only, and the current key of its public keys record."""
    path = Path(path)
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            kind = "a directory" if stat.S_ISDIR(status.st_mode) else "not a regular file"
            raise SigningKeyError(f"{path} is not a signing key: it is {kind}")
        with path.open("rb") as file:  # a key is about 100 bytes: read no large file whole
            text = file.read(MAX_KEY_BYTES).decode("utf-8", errors="replace")
    except OSError as error:
        raise SigningKeyError(f"cannot read the signing key {path}: {error.strerror}; "
                              "create one with `termsledger keys signing create`") from None
    try:
        key = SigningKey.parse(text)
    except InvalidNote as error:
        raise SigningKeyError(f"{path}: {error}") from None
    if os.name == "posix" and status.st_mode & 0o077:
        raise SigningKeyError(f"{path} can be read by other users (mode {status.st_mode & 0o777:o}); "
                              f"a signing key must be private: chmod 600 {path}")
    record = read_public_keys(public_keys_path(path))
    current = record.current
    if current is None or current.key != key.verifier:
        raise SigningKeyError(f"{path} is not the current key of {public_keys_path(path)} "
                              "(rotated out, or from another log)")
    return key


def create_key(path: str | Path, *, name: str, at: datetime | None = None) -> PublicKey:
    """Create the first signing key of the log ``name`` (its origin) in ``path``, and its
    public keys record beside it; refuses to overwrite either."""
    path, record_path = Path(path), public_keys_path(path)
    for existing in (path, record_path):
        if existing.exists():
            raise SigningKeyError(f"{existing} already exists; use `termsledger keys signing rotate` "
                                  "for a new key")
    try:
        key = SigningKey.generate(name)
    except InvalidNote as error:
        raise SigningKeyError(f"the log's name: {error}") from None
    public = PublicKey(key=key.verifier, not_before=_now(at))
    _write(record_path, PublicKeys(origin=name, keys=(public,)).to_json(), mode=0o644)
    _write(path, (key.encode() + "\n").encode(), mode=0o600)
    return public


def rotate_key(path: str | Path, *, at: datetime | None = None) -> PublicKey:
    """Replace the signing key in ``path`` with a new one under the same name: the current
    key's period ends at ``at`` (now by default) and the new key's begins. The old private
    key is not needed (rotate a lost or leaked key too) and is not kept."""
    path, record_path = Path(path), public_keys_path(path)
    record = read_public_keys(record_path)
    time = _now(at)
    keys = list(record.keys)
    current = record.current
    if current is not None:
        if time < current.not_before:
            raise SigningKeyError(f"cannot rotate at {format_time(time)}: the current key is valid "
                                  f"from {format_time(current.not_before)}")
        keys[keys.index(current)] = PublicKey(key=current.key, not_before=current.not_before, not_after=time)
    key = SigningKey.generate(record.origin)
    public = PublicKey(key=key.verifier, not_before=time)
    _write(record_path, PublicKeys(origin=record.origin, keys=(*keys, public)).to_json(), mode=0o644)
    _write(path, (key.encode() + "\n").encode(), mode=0o600)
    return public


def _now(at: datetime | None) -> datetime:
    time = at or datetime.now(timezone.utc)
    return datetime.fromtimestamp(seconds_of(time), timezone.utc)


def _write(path: Path, data: bytes, *, mode: int) -> None:
    """Write ``data`` to ``path`` atomically, the file created with ``mode``."""
    temporary = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as file:
            if os.name == "posix":
                os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise SigningKeyError(f"cannot write {path}: {error.strerror}") from None
