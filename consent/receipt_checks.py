"""Verifying a consent receipt offline, against the public site it names (a folder or URL).

The checks, in order; the first that fails stops the verification and says why:

- ``keys``: the site's ``transparency/keys.json`` is the record of the receipt's log;
- ``signature``: the receipt's key is published, was valid when the receipt was issued, and
  its Ed25519 signature covers the receipt's fields;
- ``checkpoint``: the proof's checkpoint is signed by a published key valid at its time, and
  the site publishes the same checkpoint (a different root for its size means a fork);
- ``inclusion``: the event's hash is the leaf at the receipt's index of that tree;
- ``version``: the site's ``versions.json`` lists the version with the receipt's ``sha256`` for
  its text in the receipt's ``language`` (its own text's, or a translation's);
- ``subject`` (when a subject id is given): the receipt commits to it, with its salt.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import InvalidNote, InvalidProof, PublicationError
from .merkle import leaf_hash, verify_inclusion
from .note import Checkpoint, Note
from .receipts import Receipt, SignedReceipt, commitment
from .signing import format_time
from .transparency import Site, checkpoint_path, open_published


def site_of(receipt: Receipt) -> str | None:
    """The public site a receipt's ``policyUrl`` points into, when it is absolute."""
    suffix = f"{receipt.document}/{receipt.version}/"
    if receipt.url.startswith(("https://", "http://")) and receipt.url.endswith("/" + suffix):
        return receipt.url[:-len(suffix)]
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class ReceiptVerification:
    """The outcome of :func:`verify_receipt`: the checks passed, in order, and the failure."""

    ok: bool
    checks: tuple[str, ...]
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": list(self.checks), "problem": self.problem}


def verify_receipt(signed: SignedReceipt, site: Site, *,
                   subject: str | None = None) -> ReceiptVerification:
    """Check ``signed`` against the published ``site``: its signature by a published key valid
    when it was issued, its checkpoint's signature (by a key valid then) and publication, its
    inclusion proof, the version's ``sha256`` in ``versions.json``, and when ``subject`` is
    given, that the receipt is about that subject (which needs the salt)."""
    checks: list[str] = []
    try:
        _verify(signed, site, subject, checks)
    except _Failed as error:
        return ReceiptVerification(ok=False, checks=tuple(checks), problem=str(error))
    return ReceiptVerification(ok=True, checks=tuple(checks))


class _Failed(Exception):
    """A check failed; the message starts with the check's name."""


@contextmanager
def _check(name: str) -> Iterator[None]:
    """Turn the errors of reading and verifying into a failure of check ``name``."""
    try:
        yield
    except (InvalidNote, InvalidProof, PublicationError) as error:
        raise _Failed(f"{name}: {error}") from None


def _verify(signed: SignedReceipt, site: Site, subject: str | None, checks: list[str]) -> None:
    receipt = signed.receipt
    with _check("keys"):
        keys = site.public_keys()
    if keys.origin != receipt.log:
        raise _Failed(f"keys: the receipt is from the log {receipt.log!r}, but {site} publishes "
                      f"the keys of {keys.origin!r}")
    checks.append(f"keys: {len(keys.keys)} published for the log {keys.origin} at {site}")
    record = keys.find(receipt.log, signed.key_id)
    if record is None:
        raise _Failed(f"signature: made with key {signed.key_id:08x}, which {site} does not publish")
    if not record.valid_at(receipt.issued):
        raise _Failed(f"signature: key {signed.key_id:08x} signs from {format_time(record.not_before)} "
                      f"to {format_time(record.not_after) if record.not_after else 'now'}, but the "
                      f"receipt says it was issued at {format_time(receipt.issued)}")
    try:
        Ed25519PublicKey.from_public_bytes(record.key.public_key).verify(signed.signature, receipt.message())
    except InvalidSignature:
        raise _Failed("signature: does not match the receipt's fields (a field was changed, or "
                      "another key signed it)") from None
    checks.append(f"signature: Ed25519 by key {signed.key_id:08x}, valid when the receipt was "
                  f"issued ({format_time(receipt.issued)})")
    if signed.proof is None:
        raise _Failed("inclusion: the receipt has no inclusion proof yet (a receipt is signed "
                      "when the decision is recorded; the proof follows once a checkpoint that "
                      "includes it is published): ask the site's operator for the receipt with "
                      "its proof")
    with _check("checkpoint"):
        opened = open_published(signed.proof.checkpoint, keys)
    checkpoint = opened.checkpoint
    checks.append(f"checkpoint: {checkpoint.size} leaves, signed at {format_time(opened.time)} by "
                  f"key {opened.key.key_id:08x}, valid then")
    try:
        data = site.read(checkpoint_path(checkpoint.size))
    except PublicationError as error:
        raise _Failed(f"checkpoint: the site does not publish the checkpoint of {checkpoint.size} "
                      f"leaves that the receipt's proof uses ({error})") from None
    with _check("checkpoint"):
        published = Checkpoint.parse(Note.parse(data).text)
    if published.origin != checkpoint.origin or published.root_hash != checkpoint.root_hash:
        raise _Failed(f"checkpoint: {site} publishes another root hash for {checkpoint.size} "
                      "leaves: the log was forked or the receipt's checkpoint forged")
    checks.append(f"checkpoint: published at {site} as {checkpoint_path(checkpoint.size)}")
    with _check("inclusion"):
        verify_inclusion(index=signed.proof.leaf_index, size=checkpoint.size,
                         leaf=leaf_hash(bytes.fromhex(receipt.event_hash)),
                         proof=signed.proof.hashes, root=checkpoint.root_hash)
    checks.append(f"inclusion: event {receipt.event_hash[:16]}… is leaf {signed.proof.leaf_index} of "
                  "the checkpoint's tree")
    with _check("version"):
        listed = _listed_version(site.versions(), receipt.document, receipt.version)
    if listed is None:
        raise _Failed(f"version: versions.json of {site} does not list {receipt.document} "
                      f"version {receipt.version}")
    text = _text_in(listed, receipt.language)
    if text is None:
        raise _Failed(f"version: versions.json of {site} lists no {receipt.language!r} text of "
                      f"{receipt.document} version {receipt.version}")
    if text.get("content_sha256") != receipt.content_sha256:
        raise _Failed(f"version: {receipt.document} {receipt.version} ({receipt.language}) has "
                      f"sha256 {text.get('content_sha256')} on the site, not the receipt's "
                      f"{receipt.content_sha256}")
    checks.append(f"version: {receipt.document} {receipt.version} is listed in versions.json with "
                  f"the receipt's sha256 for its {receipt.language!r} text")
    if subject is not None:
        if signed.salt is None:
            raise _Failed("subject: the receipt has no subjectSalt (only the subject's own copy does)")
        if commitment(subject, signed.salt) != receipt.subject:
            raise _Failed("subject: the receipt is not about that subject")
        checks.append("subject: the receipt is about the subject given")


def _listed_version(versions: dict[str, Any], document: str, version: str) -> dict[str, Any] | None:
    for entry in versions["documents"]:
        if isinstance(entry, dict) and entry.get("slug") == document:
            listed_versions = entry.get("versions")
            for listed in listed_versions if isinstance(listed_versions, list) else ():
                if isinstance(listed, dict) and listed.get("version") == version:
                    return listed
    return None


def _text_in(listed: dict[str, Any], language: str) -> dict[str, Any] | None:
    """The listed version's text in ``language``: its own (also when the site does not say
    its language), else its translation in it."""
    if listed.get("language") in (None, language):
        return listed
    translations = listed.get("translations")
    found = translations.get(language) if isinstance(translations, dict) else None
    return found if isinstance(found, dict) else None
