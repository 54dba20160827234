"""Consent receipts: signed JSON a user keeps, which anyone can verify offline against the site.

A receipt carries the fields of the Kantara Consent Receipt specification v1.1 that apply to
accepting a document (and the ISO/IEC TS 27560 notions of record id, event and notice
version), under Kantara's names, plus what makes it checkable::

    version            "KI-CR-v1.1.0" (Kantara's specification version)
    consentReceiptID   the receipt's id (a UUID)
    consentTimestamp   when the subject acted, seconds since the epoch (UTC)
    collectionMethod   the channel (web, api, email…)
    language           the language of the text accepted
    jurisdiction       when configured, else null
    piiPrincipalId     SHA-256(salt || subject id), hex: reveals the subject only to whoever
                       holds the salt (``subjectSalt``, in the subject's own copy only)
    piiControllers     [{"piiController": organisation, "contact": contact}]
    policyUrl          the version's page on the public site
    action             accepted | declined | withdrawn
    document, versionId, contentSha256, manifestSha256 (the bundle accepted; null if none)
    eventHash          the ledger event's hash, hex: the log's leaf is these 32 bytes
    log                the log's origin (also the signing key's name)
    issued             when the receipt was signed, seconds since the epoch

``signature`` = ``{"keyId", "algorithm": "Ed25519", "value"}``: an Ed25519 signature over
``termsledger/receipt/v1\\n`` followed by the RFC 8785 (JCS) serialization of the fields above.
``proof`` = ``{"checkpoint": <signed checkpoint>, "leafIndex": <the event's position in the
log>, "inclusion": [base64 hashes]}`` proves the event is in the log; it is not signed (it
verifies on its own: the audit path leads to the checkpoint's root only from the leaf's true
position), so that the receipt can be signed when the event is recorded, before the log's
sequencer has placed it, and a proof against a later checkpoint can replace an earlier one.
A receipt is handed out first without a proof; the proof follows once a checkpoint that
includes the event is published. ``subjectSalt`` is not signed either: the holder may remove
it before showing the receipt to others. :mod:`consent.receipt_checks` verifies a receipt against the site.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import rfc8785

from .errors import DuplicateKey, InvalidReceipt
from .jsonobjects import LONE_SURROGATE, json_problem, unique_keys
from .note import SigningKey, seconds_of

KANTARA_VERSION = "KI-CR-v1.1.0"
SIGNED_PREFIX = b"termsledger/receipt/v1\n"
ACTIONS = ("accepted", "declined", "withdrawn")
SALT_BYTES = 16
MAX_RECEIPT_BYTES = 1024 * 1024
_MAX_INT = 2 ** 53 - 1  # JCS (I-JSON) integers
_LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX8 = re.compile(r"[0-9a-f]{8}")


def commitment(subject: str, salt: bytes) -> str:
    """``SHA-256(salt || subject)`` in hex: the receipt's reference to its subject."""
    return hashlib.sha256(salt + subject.encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class Receipt:
    """What a receipt states and its signature covers."""

    id: str
    issued: datetime
    consent_time: datetime
    action: str
    subject: str
    """The salted commitment to the subject id (:func:`commitment`)."""
    controller: str
    contact: str
    channel: str
    language: str
    jurisdiction: str | None
    document: str
    version: str
    content_sha256: str
    manifest_sha256: str | None
    url: str
    event_hash: str
    log: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": KANTARA_VERSION, "consentReceiptID": self.id,
            "consentTimestamp": seconds_of(self.consent_time), "collectionMethod": self.channel,
            "language": self.language, "jurisdiction": self.jurisdiction,
            "piiPrincipalId": self.subject,
            "piiControllers": [{"piiController": self.controller, "contact": self.contact}],
            "policyUrl": self.url, "action": self.action, "document": self.document,
            "versionId": self.version, "contentSha256": self.content_sha256,
            "manifestSha256": self.manifest_sha256, "eventHash": self.event_hash,
            "log": self.log, "issued": seconds_of(self.issued),
        }

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return SIGNED_PREFIX + rfc8785.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        """The receipt's fields from ``data``, checked strictly (extra fields are the caller's)."""
        if data.get("version") != KANTARA_VERSION:
            raise InvalidReceipt(f"field 'version' must be {KANTARA_VERSION!r}")
        controllers = data.get("piiControllers")
        if not (isinstance(controllers, list) and len(controllers) == 1 and isinstance(controllers[0], dict)
                and set(controllers[0]) == {"piiController", "contact"}):
            raise InvalidReceipt("field 'piiControllers' must be a list of one "
                                 "{piiController, contact}")
        action = _text(data, "action")
        if action not in ACTIONS:
            raise InvalidReceipt(f"field 'action' must be one of {', '.join(ACTIONS)}, not {action!r}")
        return cls(
            id=_text(data, "consentReceiptID"), issued=_seconds(data, "issued"),
            consent_time=_seconds(data, "consentTimestamp"), action=action,
            subject=_hex64(data, "piiPrincipalId"),
            controller=_text(controllers[0], "piiController", empty=True),
            contact=_text(controllers[0], "contact", empty=True),
            channel=_text(data, "collectionMethod"), language=_text(data, "language"),
            jurisdiction=_text(data, "jurisdiction", optional=True),
            document=_text(data, "document"), version=_text(data, "versionId"),
            content_sha256=_hex64(data, "contentSha256"),
            manifest_sha256=_hex64(data, "manifestSha256", optional=True),
            url=_text(data, "policyUrl"), event_hash=_hex64(data, "eventHash"),
            log=_text(data, "log"))


_CLAIMS = frozenset({
    "version", "consentReceiptID", "consentTimestamp", "collectionMethod", "language",
    "jurisdiction", "piiPrincipalId", "piiControllers", "policyUrl", "action", "document",
    "versionId", "contentSha256", "manifestSha256", "eventHash", "log", "issued"})
"""The fields of :meth:`Receipt.to_dict`."""


@dataclass(frozen=True, kw_only=True, slots=True)
class InclusionProof:
    """The proof that a receipt's event is in the log: a signed checkpoint, the event's leaf
    index and the audit path."""

    checkpoint: str
    """The signed checkpoint (a C2SP signed note)."""
    leaf_index: int
    hashes: tuple[bytes, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint, "leafIndex": self.leaf_index,
                "inclusion": [base64.b64encode(h).decode() for h in self.hashes]}


@dataclass(frozen=True, kw_only=True, slots=True)
class SignedReceipt:
    """A receipt as handed out: its fields, signature, and optionally proof and salt."""

    receipt: Receipt
    key_id: int
    """The signed-note key ID of the key (named :attr:`Receipt.log`) that signed."""
    signature: bytes
    proof: InclusionProof | None = None
    salt: bytes | None = None
    """The subject's salt: only in the subject's own copy."""

    def to_dict(self) -> dict[str, Any]:
        data = self.receipt.to_dict()
        data["signature"] = {"keyId": f"{self.key_id:08x}", "algorithm": "Ed25519",
                             "value": base64.b64encode(self.signature).decode()}
        if self.proof is not None:
            data["proof"] = self.proof.to_dict()
        if self.salt is not None:
            data["subjectSalt"] = base64.b64encode(self.salt).decode()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def parse(cls, data: bytes | str) -> SignedReceipt:
        """Read a receipt's JSON strictly: every field present with its type, no other field.
        The HTTP API's answer that holds it (``{"receipt": ..., "pending": ...}``, from ``GET
        /v1/receipts/{id}``) is read as the receipt it holds."""
        if len(data) > MAX_RECEIPT_BYTES:
            raise InvalidReceipt(f"the receipt is larger than {MAX_RECEIPT_BYTES} bytes")
        try:
            document = json.loads(data, object_pairs_hook=unique_keys)
        except DuplicateKey as error:
            raise InvalidReceipt(f"field {error.key!r} appears twice") from None
        except (ValueError, RecursionError) as error:
            raise InvalidReceipt(f"the receipt is not JSON: {json_problem(error)}") from None
        if not isinstance(document, dict):
            raise InvalidReceipt("the receipt must be a JSON object")
        if set(document) == {"receipt", "pending"} and isinstance(document["receipt"], dict):
            document = document["receipt"]
        unknown = set(document) - _CLAIMS - {"signature", "proof", "subjectSalt"}
        missing = (_CLAIMS | {"signature"}) - set(document)
        if unknown or missing:
            raise InvalidReceipt("the receipt " + "; ".join(
                part for part in (f"has unknown fields: {', '.join(sorted(unknown))}" if unknown else "",
                                  f"lacks fields: {', '.join(sorted(missing))}" if missing else "") if part))
        receipt = Receipt.from_dict(document)
        signature = document["signature"]
        if not isinstance(signature, dict) or set(signature) != {"keyId", "algorithm", "value"} \
                or signature["algorithm"] != "Ed25519":
            raise InvalidReceipt("field 'signature' must be {keyId, algorithm: 'Ed25519', value}")
        key_id = _text(signature, "keyId")
        if not _HEX8.fullmatch(key_id):
            raise InvalidReceipt(f"field 'signature.keyId' is not 8 hex digits: {key_id!r}")
        proof = document.get("proof")
        if proof is not None:
            if not isinstance(proof, dict) or set(proof) != {"checkpoint", "leafIndex", "inclusion"} \
                    or not isinstance(proof["inclusion"], list) or len(proof["inclusion"]) > 64:
                raise InvalidReceipt("field 'proof' must be {checkpoint, leafIndex, inclusion: "
                                     "[base64 hashes]}")
            proof = InclusionProof(
                checkpoint=_text(proof, "checkpoint"), leaf_index=_int(proof, "leafIndex", "proof."),
                hashes=tuple(_b64(h, f"proof.inclusion[{i}]", 32)
                             for i, h in enumerate(proof["inclusion"])))
        salt = document.get("subjectSalt")
        return cls(receipt=receipt, key_id=int(key_id, 16),
                   signature=_b64(signature["value"], "signature.value", 64), proof=proof,
                   salt=None if salt is None else _b64(salt, "subjectSalt", SALT_BYTES))


def sign_receipt(receipt: Receipt, key: SigningKey) -> SignedReceipt:
    """Sign ``receipt`` with the log's ``key``."""
    if key.name != receipt.log:
        raise InvalidReceipt(f"the receipt's log {receipt.log!r} is not the key's name {key.name!r}")
    return SignedReceipt(receipt=receipt, key_id=key.verifier.key_id, signature=key.sign(receipt.message()))


def issue_receipt(key: SigningKey, *, subject: str, action: str, document: str, version: str,
                  content_sha256: str, manifest_sha256: str | None, url: str, event_hash: bytes,
                  at: datetime, controller: str, contact: str, channel: str,
                  language: str, jurisdiction: str | None = None, issued: datetime | None = None,
                  receipt_id: str | None = None, salt: bytes | None = None) -> SignedReceipt:
    """The subject's copy of a new signed receipt (with its salt, random unless given) for an
    event of the ledger; the log is the key's name. ``issued`` defaults to now."""
    import uuid

    salt = os.urandom(SALT_BYTES) if salt is None else salt
    receipt = Receipt.from_dict(Receipt(
        id=receipt_id or str(uuid.uuid4()), issued=issued or datetime.now(timezone.utc),
        consent_time=at, action=action, subject=commitment(subject, salt), controller=controller,
        contact=contact, channel=channel, language=language, jurisdiction=jurisdiction,
        document=document, version=version, content_sha256=content_sha256,
        manifest_sha256=manifest_sha256, url=url, event_hash=event_hash.hex(),
        log=key.name).to_dict())
    return replace(sign_receipt(receipt, key), salt=salt)


def with_proof(signed: SignedReceipt, checkpoint: str, leaf_index: int,
               hashes: list[bytes]) -> SignedReceipt:
    """``signed`` with the inclusion proof of its event, leaf ``leaf_index`` of the log,
    against the signed ``checkpoint``."""
    return replace(signed, proof=InclusionProof(checkpoint=checkpoint, leaf_index=leaf_index,
                                                hashes=tuple(hashes)))


def _text(data: dict[str, Any], key: str, *, optional: bool = False, empty: bool = False) -> Any:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not value and not empty) or len(value) > 2048:
        raise InvalidReceipt(f"field {key!r} must be {'' if empty else 'non-empty '}text (at most "
                             f"2048 characters){' or null' if optional else ''}, not {str(value)[:60]!r}")
    if LONE_SURROGATE.search(value):  # a JSON escape such as \ud800: it cannot be signed as UTF-8
        raise InvalidReceipt(f"field {key!r} is not valid text (a lone surrogate)")
    return value


def _hex64(data: dict[str, Any], key: str, *, optional: bool = False) -> Any:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise InvalidReceipt(f"field {key!r} must be 64 lowercase hex digits, not {str(value)[:80]!r}")
    return value


def _int(data: dict[str, Any], key: str, where: str = "") -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_INT:
        raise InvalidReceipt(f"field {where + key!r} must be a whole number from 0 to 2^53-1, "
                             f"not {str(value)[:40]!r}")
    return value


def _seconds(data: dict[str, Any], key: str) -> datetime:
    value = _int(data, key)
    if value > _LAST_SECOND:
        raise InvalidReceipt(f"field {key!r} is a time after the year 9999: {value}")
    return datetime.fromtimestamp(value, timezone.utc)


def _b64(value: Any, key: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise InvalidReceipt(f"field {key!r} must be {size} bytes in base64")
    return raw
