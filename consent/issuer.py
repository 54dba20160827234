"""Issuing consent receipts as the ledger records decisions, and reading them back.

When the ledger has receipt settings (:class:`ReceiptSettings`), every decision it records
(accepted, declined, withdrawn: a bundle's head event, whose receipt covers the bundle) gets a
receipt, signed in the transaction that appends the event, so that there is never a decision
without its receipt. A receipt is stored compactly: what many receipts share (the controller,
the version, its URL, the channel…) once in ``receipt_claims``, and per receipt its id, event,
issue time, subject commitment, key ID and signature; its event gives the time and the hash.

The subject commitment's salt is derived from the event's own random salt (kept with its
personal fields), so that the subject's copy of a receipt, salt included, can be handed out
until the subject is erased, and never after: erasure deletes the event's salt, and nothing
left in the ledger links the commitment to the subject.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from hashlib import sha256
from pathlib import Path
from typing import Any

import rfc8785

from terms import manifest

from .actions import ACTION_LABELS, Action
from .catalog import Entry
from .chain import parse_place, place_text
from .errors import DamagedLog, InvalidReceipt, SigningKeyError, UnknownCheckpoint, UnknownReceipt, short
from .ledger_log import inclusion
from .note import SigningKey
from .receipts import (
    KANTARA_VERSION,
    SIGNED_PREFIX,
    Receipt,
    SignedReceipt,
    commitment,
    with_proof,
)
from .sequencer import leaf_of
from .signing import load_key
from .store import Appended, Tx
from .values import Event
from .writer import Row

DECISIONS = frozenset({int(Action.ACCEPTED), int(Action.DECLINED), int(Action.WITHDRAWN)})
"""The actions that get a receipt."""
SALT_LABEL = b"termsledger/receipt-salt\n"
_MICROS = 1_000_000
_CLAIMS = "INSERT INTO receipt_claims (id, claims) VALUES (?, ?) ON CONFLICT (id) DO NOTHING"
_RECEIPT = ("INSERT INTO receipts (id, chain, seq, claims, issued, subject, key_id, signature) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
_SELECT = """
SELECT r.id, r.chain, r.seq, c.claims, r.issued, r.subject, r.key_id, r.signature, e.at, e.hash
FROM receipts r JOIN receipt_claims c ON c.id = r.claims
JOIN events e ON e.chain = r.chain AND e.seq = r.seq
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class ReceiptSettings:
    """Who issues receipts, where the versions are published, and the key that signs them."""

    signing_key: Path
    """The private key's file (see :mod:`consent.signing`), read again after a rotation."""
    controller: str
    """The organisation responsible for the consents (``[site] organisation``)."""
    contact: str
    """How to reach it (``[site] contact``)."""
    base_url: str = ""
    """The public site's URL (``[site] base_url``): receipts link to the version's page there."""
    language: str = "en"
    """The language of the versions' own texts (``[site] language``), named by a receipt when
    its version was published before the ledger kept languages."""
    jurisdiction: str | None = None


def receipt_salt(event_salt: bytes) -> bytes:
    """The salt of a receipt's subject commitment, from its event's salt."""
    return sha256(SALT_LABEL + event_salt).digest()[:16]


class Signer:
    """The signing key in a file, loaded again as soon as the file is replaced (a rotation
    writes the public keys record, then the key), so that a key is not used after its period
    ended: a key file that is not the record's current key (a rotation half done) makes
    signing fail with :class:`SigningKeyError`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._stamp = self._stat()
        key = load_key(self.path)
        self._current = (key, key.verifier.key_id)

    def _stat(self) -> tuple[int, int, int]:
        try:
            found = os.stat(self.path)
        except OSError as error:
            raise SigningKeyError(f"cannot read the signing key {self.path}: "
                                  f"{error.strerror}") from None
        return found.st_ino, found.st_mtime_ns, found.st_size

    def current(self) -> tuple[SigningKey, int]:
        """The current key and its signed-note key ID (the file is looked at on every call:
        a few microseconds)."""
        stamp = self._stat()
        if stamp != self._stamp:
            key = load_key(self.path)
            self._current, self._stamp = (key, key.verifier.key_id), stamp
        return self._current

    def key(self) -> SigningKey:
        """The current key."""
        return self.current()[0]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Claims:
    """What the receipts of one text of a version, action, channel and key share, prepared
    once."""

    id: int
    """``receipt_claims.id``: the first 8 bytes of the SHA-256 of :attr:`text`, signed."""
    text: str
    """The shared fields as stored: JSON, keys sorted."""
    message: bytes
    """The signed message of such a receipt, its own fields' values replaced by marks."""
    marks: tuple[bytes, ...]
    """The marks of ``consentReceiptID``, ``consentTimestamp``, ``piiPrincipalId``,
    ``eventHash`` and ``issued`` in :attr:`message`, quotes included."""

    def fill(self, values: tuple[str, int, str, str, int]) -> bytes:
        """The message with the receipt's own values: the bytes :meth:`Receipt.message`
        gives (RFC 8785 serializes each value alone, and these need no escaping)."""
        message = self.message
        for mark, value in zip(self.marks, values, strict=True):
            text = f'"{value}"' if isinstance(value, str) else str(value)
            message = message.replace(mark, text.encode())
        return message


_OWN = ("consentReceiptID", "consentTimestamp", "piiPrincipalId", "eventHash", "issued")
"""A receipt's fields that are its own (the others it shares: :class:`_Claims`)."""


class Issuer:
    """Issues and reads back the receipts of one ledger with ``settings``; raises
    :class:`SigningKeyError` when the key cannot be loaded and :class:`InvalidReceipt` when a
    setting cannot go in a receipt."""

    def __init__(self, settings: ReceiptSettings):
        self.settings = settings
        self.signer = Signer(settings.signing_key)
        self._base = settings.base_url.rstrip("/") + "/" if settings.base_url else ""
        self._prepared: dict[tuple[Any, ...], _Claims] = {}
        try:  # every setting goes in every receipt: check them once
            self._claims(self.signer.key(), "accepted", "web", "terms", "1", settings.language,
                         "0" * 64, None)
        except InvalidReceipt as error:
            raise InvalidReceipt(f"the receipt settings cannot go in a receipt: {error}") from None

    def issue(self, tx: Tx, rows: Sequence[Row], appended: Sequence[Appended]) -> int:
        """Sign and store, in ``tx``, a receipt for each decision among ``rows`` just appended;
        returns how many."""
        key, key_id = self.signer.current()
        members: dict[int, list[Entry]] = {}
        for row in rows:
            if row.head is not None and row.entry is not None:
                members.setdefault(row.head, []).append(row.entry)
        issued = int(time.time())
        claims_rows: dict[int, str] = {}
        receipts = []
        for index, (row, done) in enumerate(zip(rows, appended, strict=True)):
            entry = row.entry
            if row.head is not None or entry is None or row.action not in DECISIONS:
                continue
            bundle = None
            if row.action == Action.ACCEPTED:
                bundle = manifest((e.document, e.id, e.content_sha256)
                                  for e in (entry, *members.get(index, ())))[1]
            shown = entry.text(row.language) or entry.texts[0]
            claims = self._claims(key, ACTION_LABELS[row.action], row.channel or "", entry.document,
                                  entry.id, shown.language or self.settings.language,
                                  shown.content_sha256, bundle)
            claims_rows[claims.id] = claims.text
            subject = commitment(row.subject, receipt_salt(done.salt))
            receipt_id = uuid.uuid4()
            message = claims.fill((str(receipt_id), row.at // _MICROS, subject, done.hash.hex(),
                                   issued))
            receipts.append((receipt_id.bytes, done.chain, done.seq, claims.id, issued,
                             bytes.fromhex(subject), key_id, key.sign(message)))
        if len(receipts) == 1:  # a single record: plain statements are faster
            tx.execute(_CLAIMS, next(iter(claims_rows.items())))
            tx.execute(_RECEIPT, receipts[0])
        elif receipts:
            tx.executemany(_CLAIMS, list(claims_rows.items()))
            tx.executemany(_RECEIPT, receipts)
        return len(receipts)

    def _claims(self, key: SigningKey, action: str, channel: str, document: str, version: str,
                language: str, content_sha256: str, manifest_sha256: str | None) -> _Claims:
        """The fields of a receipt that many receipts share, prepared (and checked) once:
        ``language`` and ``content_sha256`` are those of the text shown."""
        cache_key = (key.name, action, channel, document, version, language, content_sha256,
                     manifest_sha256)
        found = self._prepared.get(cache_key)
        if found is not None:
            return found
        settings = self.settings
        shared = {"action": action, "collectionMethod": channel, "document": document,
                  "versionId": version, "contentSha256": content_sha256,
                  "manifestSha256": manifest_sha256, "policyUrl": f"{self._base}{document}/{version}/",
                  "piiControllers": [{"piiController": settings.controller,
                                      "contact": settings.contact}],
                  "language": language, "jurisdiction": settings.jurisdiction,
                  "log": key.name}
        Receipt.from_dict(_receipt_data(shared, bytes(16), 0, bytes(32), bytes(32), 0))  # checked
        text = json.dumps(shared, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        nonce = os.urandom(12).hex()
        marked = {**shared, "version": KANTARA_VERSION, **{name: nonce + name for name in _OWN}}
        if len(self._prepared) > 4096:
            self._prepared.clear()
        found = self._prepared[cache_key] = _Claims(
            id=int.from_bytes(sha256(text.encode()).digest()[:8], "big", signed=True), text=text,
            message=SIGNED_PREFIX + rfc8785.dumps(marked),
            marks=tuple(f'"{nonce}{name}"'.encode() for name in _OWN))
        return found


def _receipt_data(claims: dict[str, Any], receipt_id: bytes, at: int, subject: bytes,
                  event_hash: bytes, issued: int) -> dict[str, Any]:
    """A receipt's fields from the shared ``claims`` and its own values."""
    return {**claims, "version": KANTARA_VERSION, "consentReceiptID": str(uuid.UUID(bytes=receipt_id)),
            "consentTimestamp": at // _MICROS, "piiPrincipalId": subject.hex(),
            "eventHash": bytes(event_hash).hex(), "issued": issued}


def stored_receipt(tx: Tx, *, chain: int | None = None, seq: int | None = None,
                   receipt_id: str | None = None) -> tuple[SignedReceipt, int, int]:
    """The receipt of event ``seq`` of ``chain`` (or the one with ``receipt_id``) as it was
    signed, without salt or proof, with its event's chain and seq; raises
    :class:`UnknownReceipt`."""
    if receipt_id is not None:
        try:
            key = uuid.UUID(receipt_id).bytes
        except ValueError:
            raise UnknownReceipt(f"{short(receipt_id)} is not a receipt id (a UUID)") from None
        row = tx.execute(_SELECT + "WHERE r.id = ?", (key,)).fetchone()
        missing = f"no receipt {receipt_id} in the ledger"
    else:
        row = tx.execute(_SELECT + "WHERE r.chain = ? AND r.seq = ?", (chain, seq)).fetchone()
        missing = "no receipt was issued for it"
    if row is None:
        raise UnknownReceipt(missing)
    rid, chain, seq, claims, issued, subject, key_id, signature, at, event_hash = row
    try:
        data = _receipt_data(json.loads(claims), bytes(rid), at, bytes(subject), bytes(event_hash),
                             issued)
        signed = SignedReceipt(receipt=Receipt.from_dict(data), key_id=key_id,
                               signature=bytes(signature))
    except (TypeError, ValueError) as error:  # InvalidReceipt is a ValueError
        raise DamagedLog(f"the receipt of event {chain}.{seq} or its event is damaged "
                         f"(changed outside termsledger): {error}") from None
    return signed, chain, seq


def subject_salt(tx: Tx, chain: int, seq: int) -> bytes | None:
    """The salt of the subject's copy of event ``seq``'s receipt; ``None`` once erased."""
    row = tx.execute("SELECT salt FROM personal WHERE chain = ? AND seq = ?", (chain, seq)).fetchone()
    return receipt_salt(bytes(row[0])) if row else None


def find_receipt(tx: Tx, event: Event | str, *, with_salt: bool,
                 size: int | None) -> SignedReceipt:
    """:meth:`consent.Ledger.receipt` in the read transaction ``tx``."""
    where = parse_place(event) if isinstance(event, str) else (event.chain, event.seq)
    if where is None:
        signed, chain, seq = stored_receipt(tx, receipt_id=str(event))
    else:
        chain, seq = where
        row = tx.execute("SELECT part_of FROM events WHERE chain = ? AND seq = ?",
                         (chain, seq)).fetchone()
        if row is None:
            raise UnknownReceipt(f"no event {place_text(chain, seq)} in the ledger")
        head = row[0] if type(row[0]) is int else seq  # a bundle's member: its head's receipt
        try:
            signed, chain, seq = stored_receipt(tx, chain=chain, seq=head)
        except UnknownReceipt:
            raise UnknownReceipt(f"no receipt was issued for event {place_text(chain, seq)}: "
                                 "receipts are issued for decisions (accepted, declined, "
                                 "withdrawn) recorded while the ledger had a signing key"
                                 ) from None
    if with_salt:
        signed = replace(signed, salt=subject_salt(tx, chain, seq))
    leaf = leaf_of(tx, chain, seq)
    if leaf is None:
        return signed
    try:
        proof = inclusion(tx, leaf, size)
    except UnknownCheckpoint:
        if size is not None:
            raise
        return signed  # not yet in a published checkpoint
    return with_proof(signed, proof.checkpoint, leaf, [base64.b64decode(h) for h in proof.proof])


def subject_receipts(tx: Tx, events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The subject's own copies of the receipts of ``events`` (as exported), with their
    proofs where a published checkpoint has them."""
    found = []
    for event in events:
        if event.get("part_of") is None and event.get("action") in ("accepted", "declined",
                                                                      "withdrawn"):
            try:
                signed = find_receipt(tx, f"{event['chain']}.{event['seq']}", with_salt=True,
                                      size=None)
            except UnknownReceipt:
                continue  # recorded without a signing key
            found.append(signed.to_dict())
    return found
