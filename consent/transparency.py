"""The ``transparency/`` folder of the public site, and reading it back from a folder or URL.

Layout (every file public, none secret; a static web server serves them as they are)::

    transparency/checkpoint          the latest checkpoint (a signed note, see consent.note)
    transparency/checkpoints/<N>     every published checkpoint, by tree size N (one per size)
    transparency/checkpoints.json    {"origin": ..., "checkpoints": [{"size", "root_hash", "time"}]}
    transparency/keys.json           the public keys record (see consent.signing), every key
                                     ever used with its validity period

Anyone can archive these files: a later checkpoint must extend every earlier one, which a
consistency proof shows (``termsledger log verify-consistency``). A consistency proof is
written as JSON: ``{"old_size": m, "new_size": n, "proof": [base64 hashes]}``.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DuplicateKey, InvalidNote, InvalidProof, PublicationError, SigningKeyError
from .jsonobjects import json_problem, unique_keys
from .merkle import verify_consistency
from .note import SignedCheckpoint, open_checkpoint
from .signing import PublicKeys, format_time

FOLDER = "transparency"
LATEST = f"{FOLDER}/checkpoint"
INDEX = f"{FOLDER}/checkpoints.json"
KEYS = f"{FOLDER}/keys.json"
VERSIONS = "versions.json"
MAX_FILE_BYTES = 16 * 1024 * 1024
TIMEOUT = 10.0
"""Seconds a site's server may stay silent."""
DOWNLOAD_TIME = 30.0
"""Seconds a file of a site may take to download in all (a server that sends a byte now and
then would keep a verifier waiting for ever)."""


def checkpoint_path(size: int) -> str:
    """Where the checkpoint of ``size`` leaves is published."""
    return f"{FOLDER}/checkpoints/{size}"


def open_published(note: str | bytes, keys: PublicKeys) -> SignedCheckpoint:
    """Verify a checkpoint of the log ``keys`` describes: signed by one of its keys, valid at
    the checkpoint's time."""
    opened = open_checkpoint(note, [k.key for k in keys.keys], origin=keys.origin)
    record = keys.find(opened.key.name, opened.key.key_id)
    if record is None or not record.valid_at(opened.time):
        raise InvalidNote(f"the checkpoint of {opened.checkpoint.size} leaves was signed at "
                          f"{format_time(opened.time)}, outside the validity of key "
                          f"{opened.key.key_id:08x}")
    return opened


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsistencyProof:
    """The proof that the log's tree of ``new_size`` leaves extends that of ``old_size``."""

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]

    def to_json(self) -> str:
        return json.dumps({"old_size": self.old_size, "new_size": self.new_size,
                           "proof": [base64.b64encode(h).decode() for h in self.hashes]}) + "\n"

    @classmethod
    def parse(cls, data: bytes | str) -> ConsistencyProof:
        """Read the JSON of a consistency proof strictly."""
        try:
            proof = json.loads(data, object_pairs_hook=unique_keys)
        except (ValueError, RecursionError) as error:  # a key given twice too
            raise InvalidProof(f"the consistency proof is not JSON: {json_problem(error)}") from None
        if not isinstance(proof, dict) or set(proof) != {"old_size", "new_size", "proof"} \
                or not isinstance(proof["proof"], list) or len(proof["proof"]) > 128 \
                or not all(isinstance(proof[k], int) and not isinstance(proof[k], bool) and proof[k] >= 0
                           for k in ("old_size", "new_size")):
            raise InvalidProof("the consistency proof must be {old_size, new_size, proof: "
                               "[base64 hashes]} with whole sizes")
        hashes = []
        for i, text in enumerate(proof["proof"], 1):
            try:
                raw = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
            except ValueError:
                raw = b""
            if len(raw) != 32:
                raise InvalidProof(f"hash {i} of the consistency proof is not 32 bytes in base64")
            hashes.append(raw)
        return cls(old_size=proof["old_size"], new_size=proof["new_size"], hashes=tuple(hashes))


def verify_extension(old: str | bytes, new: str | bytes, proof: ConsistencyProof,
                     keys: PublicKeys) -> tuple[SignedCheckpoint, SignedCheckpoint]:
    """Check that the signed checkpoint ``new`` extends ``old``: both verify with ``keys``
    and ``proof`` is a consistency proof between them. Returns both, opened."""
    opened = []
    for which, note in (("old", old), ("new", new)):
        try:
            opened.append(open_published(note, keys))
        except InvalidNote as error:
            raise InvalidNote(f"the {which} checkpoint: {error}") from None
    first, second = (o.checkpoint for o in opened)
    if (proof.old_size, proof.new_size) != (first.size, second.size):
        raise InvalidProof(f"the proof is from {proof.old_size} to {proof.new_size} leaves, the "
                           f"checkpoints are of {first.size} and {second.size}")
    verify_consistency(old_size=first.size, new_size=second.size, old_root=first.root_hash,
                       new_root=second.root_hash, proof=proof.hashes)
    return opened[0], opened[1]


def transparency_files(keys: PublicKeys, checkpoints: Iterable[str]) -> dict[str, bytes]:
    """The files of ``transparency/`` (path relative to the site -> bytes) for the public keys
    record and the signed checkpoints (each must verify with ``keys``; for a size signed more
    than once the earliest is kept, and two different roots for one size are refused)."""
    by_size: dict[int, SignedCheckpoint] = {}
    for note in checkpoints:
        opened = open_published(note, keys)
        size = opened.checkpoint.size
        earlier = by_size.get(size)
        if earlier and earlier.checkpoint.root_hash != opened.checkpoint.root_hash:
            raise PublicationError(f"two checkpoints of {size} leaves have different root hashes: "
                                   "the log forked, refusing to publish")
        if earlier is None or opened.time < earlier.time:
            by_size[size] = opened
    files = {KEYS: keys.to_json()}
    index = []
    for size in sorted(by_size):
        opened = by_size[size]
        files[checkpoint_path(size)] = opened.note.encode()
        index.append({"size": size, "root_hash": base64.b64encode(opened.checkpoint.root_hash).decode(),
                      "time": format_time(opened.time)})
    if by_size:
        files[LATEST] = by_size[max(by_size)].note.encode()
    files[INDEX] = (json.dumps({"origin": keys.origin, "checkpoints": index}, indent=2) + "\n").encode()
    return files


def write_transparency(site: str | Path, keys: PublicKeys, checkpoints: Iterable[str]) -> list[Path]:
    """Write :func:`transparency_files` into the site folder ``site``; returns the paths."""
    written = []
    for relative, data in transparency_files(keys, checkpoints).items():
        path = Path(site) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def read_file(path: str | Path, limit: int) -> bytes:
    """At most ``limit`` bytes of the regular file ``path``; anything else (a FIFO, which would
    wait for a writer for ever, a device, a folder) is an :class:`OSError` saying so."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens without a writer
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.set_blocking(descriptor, True)
        with open(descriptor, "rb", closefd=False) as file:
            return file.read(limit)
    finally:
        os.close(descriptor)


class Site:
    """A published site, a folder or an http(s) URL, read for verification."""

    def __init__(self, location: str | Path):
        text = str(location)
        self.is_url = text.startswith(("http://", "https://"))
        if not self.is_url and "://" in text:
            raise PublicationError(f"{text}: only http(s) URLs and folders can be read")
        if not self.is_url and not Path(text).is_dir():
            raise PublicationError(f"{text}: no such site folder")
        self.location = text.rstrip("/") + "/" if self.is_url else text

    def __str__(self) -> str:
        return self.location

    def read(self, relative: str) -> bytes:
        """The bytes of the file at ``relative`` (a site path)."""
        if not self.is_url:
            path = Path(self.location) / relative
            try:
                data = read_file(path, MAX_FILE_BYTES + 1)
            except OSError as error:
                raise PublicationError(f"cannot read {path}: {error.strerror}") from None
        else:
            import urllib.error
            import urllib.request

            url = self.location + relative
            deadline = time.monotonic() + DOWNLOAD_TIME
            try:
                with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                    received = bytearray()
                    while len(received) <= MAX_FILE_BYTES and (chunk := response.read1(65536)):
                        received += chunk
                        if time.monotonic() > deadline:
                            raise PublicationError(f"cannot read {url}: it takes more than "
                                                   f"{DOWNLOAD_TIME:.0f} s to download")
                    data = bytes(received)
            except urllib.error.HTTPError as error:
                raise PublicationError(f"cannot read {url}: HTTP {error.code}") from None
            except (urllib.error.URLError, OSError, ValueError) as error:
                raise PublicationError(f"cannot read {url}: {getattr(error, 'reason', error)}") from None
        if len(data) > MAX_FILE_BYTES:
            raise PublicationError(f"{relative} of {self} is larger than {MAX_FILE_BYTES} bytes")
        return data

    def public_keys(self) -> PublicKeys:
        try:
            return PublicKeys.parse(self.read(KEYS), source=f"{KEYS} of {self}")
        except SigningKeyError as error:
            raise PublicationError(str(error)) from None

    def versions(self) -> dict[str, Any]:
        data = self.read(VERSIONS)
        try:
            versions = json.loads(data, object_pairs_hook=unique_keys)
        except DuplicateKey as error:  # which of its values is meant is a guess
            raise PublicationError(f"{VERSIONS} of {self} is not valid: {error}") from None
        except (ValueError, RecursionError) as error:
            raise PublicationError(f"{VERSIONS} of {self} is not JSON: {json_problem(error)}") from None
        if not isinstance(versions, dict) or not isinstance(versions.get("documents"), list):
            raise PublicationError(f"{VERSIONS} of {self} has no list of documents")
        return versions
