"""termsledger's consent ledger: who accepted which version, provably.

>>> from consent import Ledger
>>> ledger = Ledger("termsledger.db")                      # doctest: +SKIP
>>> ledger.publish(terms.load("content"))                  # doctest: +SKIP
>>> ledger.record("user-42", "terms", evidence={"ip": "203.0.113.7"})   # doctest: +SKIP
>>> ledger.status("user-42", "terms").status               # doctest: +SKIP
'current'

:class:`Ledger` is the one object callers use; its methods' docstrings are the reference.
Every write is one transaction; times are ``datetime`` or ISO-8601 text, UTC when naive, now
when ``None``. Subject ids are normalized to Unicode NFC wherever they enter
(:func:`canonical_subject`). Every value has ``to_dict()``; every error derives from
:class:`ConsentError`.

The transparency log (see each module): ``consent.merkle`` (RFC 9162 hashes and proofs),
``consent.tiles`` (tile storage), ``consent.tlog`` (``Log``: append, roots, proofs),
``consent.sequencer`` (events become leaves, in batches), ``consent.ledger_log``
(``Ledger.log``: sequencing, signed checkpoints kept in the ledger, proofs),
``consent.keeper`` (a server's background sequencer and checkpoints), ``consent.note`` (signed
checkpoints), ``consent.signing`` (signing keys and the public keys record),
``consent.receipts`` (signed consent receipts), ``consent.issuer`` (``ReceiptSettings``:
receipts issued with every decision, and read back), ``consent.receipt_checks`` (verifying a
receipt against the site) and ``consent.transparency`` (the site's ``transparency/`` folder).

Names are imported when first used, so that verifying a receipt does not load the ledger; the
type checker sees them all through the imports below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .actions import Action, State
    from .delivery import DeliverySettings
    from .errors import (
        ChangedVersion,
        CheckpointIncomplete,
        ConsentError,
        DamagedLog,
        DuplicateKey,
        ErasureIncomplete,
        IdempotencyConflict,
        IncompleteCopy,
        InvalidContent,
        InvalidCursor,
        InvalidEvidence,
        InvalidImport,
        InvalidLocation,
        InvalidNote,
        InvalidProof,
        InvalidReceipt,
        InvalidRecord,
        InvalidSubject,
        InvalidWebhook,
        KeysError,
        LedgerNotFound,
        NewerLedger,
        NotALedger,
        OutdatedVersion,
        PublicationError,
        SigningKeyError,
        StorageFull,
        StorageRefused,
        StorageUnavailable,
        UncommittedVersion,
        UnknownCheckpoint,
        UnknownReceipt,
        UnknownSubject,
        UnknownWebhook,
        UnpublishedDocument,
        UnpublishedVersion,
    )
    from .issuer import ReceiptSettings
    from .jsonobjects import json_problem, unique_keys
    from .keys import SCOPES, ApiKey, Keys
    from .ledger import Ledger
    from .outbox import EVENT_TYPES
    from .records import SubjectId, canonical_subject
    from .sqlite import check_ledger
    from .values import (
        STATUSES,
        BadLine,
        CatalogDocument,
        CatalogVersion,
        DeliveryRun,
        Erasure,
        Event,
        Imported,
        Inclusion,
        LogCheckpoint,
        Marked,
        Published,
        Required,
        Requirement,
        Seal,
        Status,
        Text,
        Verification,
        VersionText,
        Webhook,
        WebhookFailure,
        WebhookStatus,
        WorklistPage,
    )
    from .webhooks import Webhooks

_ERRORS = ("ChangedVersion", "CheckpointIncomplete", "ConsentError", "DamagedLog",
           "DuplicateKey", "ErasureIncomplete", "IdempotencyConflict", "IncompleteCopy",
           "InvalidContent", "InvalidCursor", "InvalidEvidence", "InvalidImport", "InvalidLocation",
           "InvalidNote", "InvalidProof", "InvalidReceipt", "InvalidRecord", "InvalidSubject",
           "InvalidWebhook", "KeysError", "LedgerNotFound", "NewerLedger", "NotALedger",
           "OutdatedVersion", "PublicationError", "SigningKeyError", "StorageFull", "StorageRefused",
           "StorageUnavailable", "UncommittedVersion", "UnknownCheckpoint", "UnknownReceipt",
           "UnknownSubject", "UnknownWebhook", "UnpublishedDocument", "UnpublishedVersion")
_VALUES = ("STATUSES", "BadLine", "CatalogDocument", "CatalogVersion", "DeliveryRun", "Erasure",
           "Event", "Imported", "Inclusion", "LogCheckpoint", "Marked", "Published", "Required",
           "Requirement", "Seal", "Status", "Text", "Verification", "VersionText", "Webhook",
           "WebhookFailure", "WebhookStatus", "WorklistPage")
_MODULES = {**dict.fromkeys(_ERRORS, ".errors"), **dict.fromkeys(_VALUES, ".values"),
            "Action": ".actions", "State": ".actions", "ApiKey": ".keys", "Keys": ".keys",
            "SCOPES": ".keys", "Ledger": ".ledger", "ReceiptSettings": ".issuer",
            "SubjectId": ".records", "canonical_subject": ".records", "unique_keys": ".jsonobjects",
            "json_problem": ".jsonobjects",
            "check_ledger": ".sqlite", "DeliverySettings": ".delivery", "EVENT_TYPES": ".outbox",
            "Webhooks": ".webhooks"}

__all__ = ["Action", "ApiKey", "BadLine", "CatalogDocument", "CatalogVersion", "ChangedVersion",
           "CheckpointIncomplete", "ConsentError", "DamagedLog", "DeliveryRun", "DeliverySettings",
           "DuplicateKey", "EVENT_TYPES", "Erasure", "ErasureIncomplete", "Event",
           "IdempotencyConflict", "Imported", "Inclusion", "IncompleteCopy", "InvalidContent",
           "InvalidCursor", "InvalidEvidence", "InvalidImport", "InvalidLocation", "InvalidNote",
           "InvalidProof", "InvalidReceipt", "InvalidRecord", "InvalidSubject", "InvalidWebhook",
           "Keys", "KeysError", "Ledger",
           "LedgerNotFound", "LogCheckpoint", "Marked", "NewerLedger", "NotALedger",
           "OutdatedVersion", "PublicationError", "Published", "ReceiptSettings", "Required",
           "Requirement", "SCOPES", "STATUSES", "Seal", "SigningKeyError", "State", "Status",
           "StorageFull", "StorageRefused", "StorageUnavailable", "SubjectId", "Text",
           "UncommittedVersion",
           "UnknownCheckpoint", "UnknownReceipt", "UnknownSubject", "UnknownWebhook",
           "UnpublishedDocument", "UnpublishedVersion", "Verification", "VersionText", "Webhook",
           "WebhookFailure", "WebhookStatus", "Webhooks", "WorklistPage", "canonical_subject",
           "check_ledger", "json_problem", "unique_keys"]


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'consent' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
