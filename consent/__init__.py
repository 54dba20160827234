"""termsledger's consent ledger: who accepted which version, provably, in one SQLite file.

>>> from consent import Ledger
>>> ledger = Ledger("termsledger.db")                      # doctest: +SKIP
>>> ledger.publish(terms.load("content"))                  # doctest: +SKIP
>>> ledger.record("user-42", "terms", evidence={"ip": "203.0.113.7"})   # doctest: +SKIP
>>> ledger.status("user-42", "terms").status               # doctest: +SKIP
'current'

The API (every write is one transaction; times are ``datetime`` or ISO-8601 text, UTC
when naive, now when ``None``):

- ``Ledger(path, *, create=False)`` opens an existing ledger (``create=True``: or makes a
  new one where there is no file); ``check_ledger(path)`` raises what opening would for a
  missing or foreign file, without opening it; ``close()``; usable as a context manager;
  ``db`` (this thread's ``sqlite_utils.Database``), ``conn`` (its ``sqlite3.Connection``),
  ``transaction()``.
- ``publish(content: terms.Content, verdicts: Mapping[tuple[str, str], bool] | None = None,
  *, allow_uncommitted=False) -> Published(added, updated, unchanged, kept)`` -- idempotent;
  raises ``ChangedVersion`` when a published version's text changed, or its ``material:``
  flag once it is in force (a newer verdict for a version in force is not applied but listed
  in ``kept``); raises ``UncommittedVersion`` for a new version read from uncommitted text in
  a git repository unless ``allow_uncommitted``. ``verdicts`` maps ``(slug, version id)`` to
  the change analysis' verdict, used where the editor set no ``material:`` flag.
- ``catalog(at=None) -> list[CatalogDocument(slug, title, in_force, announced, versions)]``,
  each version a ``CatalogVersion(document, id, effective, label, title, summary, material,
  flag, verdict, content_sha256, references, manifest, manifest_sha256, commit,
  published_at)``; ``manifest_sha256`` is that of the bundle accepting the version at ``at``
  records, so passing it to ``record(..., at=at, sha256=...)`` matches.
- ``record(subject, document, action="accepted", version=None, *, channel="api",
  evidence=None, at=None, sha256=None) -> tuple[Event, ...]`` -- the head event first, then
  the bundle's other documents (for ``accepted``). ``action``: accepted | declined | withdrawn.
- ``record_many(records: Iterable[Mapping]) -> int`` -- mappings of ``record``'s arguments;
  returns the number of events appended.
- ``status(subject, document, at=None) -> Status(subject, document, status, accepted_version,
  current_version, announced_version, notified_version)``; ``status`` is one of
  ``current | notify | reaccept | announced | never | withdrawn``; an unknown subject is
  ``never``. ``status_all(subject, at=None) -> list[Status]`` (every document);
  ``statuses(subjects, document, at=None) -> list[Status]`` (in the order given).
- ``pending_notifications(document, version, *, after=None, limit=None) -> Iterator[str]``;
  ``pending_page(document, version, *, after=None, limit=100) -> Page(subjects,
  next_cursor)`` -- subjects in a stable order (their ledger id); ``next_cursor`` is an opaque
  string to pass as ``after`` (signed: any other string raises ``InvalidCursor``), ``None``
  on the last page; new events neither make a page skip
  nor repeat a subject. ``mark_notified(subjects, document, version, *, channel="email",
  at=None) -> Marked`` -- idempotent; ``Marked`` is an ``int``, how many notifications were
  recorded, whose ``unknown`` lists the subjects left out because they have no status for the
  document (never accepted it); ``to_dict()`` gives ``{"marked": n, "unknown": [...]}``.
- ``history(subject) -> list[Event(seq, at, subject, document, version, content_sha256,
  action, channel, evidence, part_of, prev_hash, hash, problem)]`` -- ``problem`` names what
  is wrong with a damaged (tampered) row, whose readable fields are kept; ``export(subject)
  -> dict`` (``subject, exported_at, statuses, events, responses``); ``erase(subject) ->
  Erasure(pseudonym, events, responses)`` (raises ``UnknownSubject``).
- ``verify(*, repair=False, anchor=None) -> Verification(ok, events, head, first_bad,
  problem, status_differences, status_problems, repaired, limits)`` -- checks the hash chain
  and recomputes the status table from the events; ``repair=True`` rewrites the rows that
  differ (when the chain verifies) and records a ``repaired`` event of the subject
  ``ledger:repair``; ``anchor="EVENTS:HEAD"`` (of an earlier verification, kept elsewhere)
  catches events cut from the end or rewritten, which ``limits`` says the file alone cannot.
- ``idempotent(key, subjects: str | Iterable[str] | None, make_response: Callable[[], dict],
  *, fingerprint=None, owner=None) -> tuple[dict, bool]`` -- ``(response, replayed)``; ``key``
  is 1 to 255 printable ASCII characters, one namespace per ``owner``; the first response
  per key is stored in the same transaction as the writes ``make_response`` makes; raises
  ``IdempotencyConflict`` for a known key with another ``fingerprint``.
- ``checkpoint(*, timeout=30.0)`` -- copy the WAL into the file and truncate it, waiting up
  to ``timeout`` seconds for readers of older snapshots (raises ``CheckpointIncomplete``,
  naming the reader's process where it can). (Commits also wake a
  background thread that checkpoints the WAL, so that no commit waits for one.)
- ``submit(write: Callable[[], T]) -> concurrent.futures.Future[T]`` -- group commit: runs
  ``write()`` (calls of the writing methods above) on a writer thread, where the writes waiting
  together share one transaction, each in its own savepoint; the future resolves once that
  transaction committed, or with the write's error (which rolled back alone). For servers:
  many concurrent writes share each fsync. ``close()`` commits what is queued first.

Subject ids are normalized to Unicode NFC wherever they enter (``canonical_subject(text) ->
SubjectId``); text that is not valid Unicode, or an id with control characters (C0, DEL,
C1, line separators, bidi embeddings, overrides, isolates), is refused.

Every value has ``to_dict()``. Errors derive from ``ConsentError``: ``LedgerNotFound`` (also
``FileNotFoundError``), ``NotALedger``; ``UnknownDocument``, ``UnknownVersion``,
``UnknownSubject`` (also ``LookupError``); ``InvalidSubject``,
``InvalidEvidence``, ``InvalidRecord``, ``InvalidCursor`` (also ``ValueError``);
``ChangedVersion``, ``UncommittedVersion``, ``IdempotencyConflict``, ``ErasureIncomplete``.

The transparency log (see each module): ``consent.merkle`` (RFC 9162 hashes and proofs),
``consent.tiles`` (tile storage: ``create_tables``, ``SqliteTiles``, ``MemoryTiles``),
``consent.tlog`` (``Log``: append, roots, proofs), ``consent.note`` (signed checkpoints),
``consent.signing`` (signing keys and the public keys record), ``consent.receipts`` (signed
consent receipts), ``consent.receipt_checks`` (verifying a receipt against the site) and
``consent.transparency`` (the site's ``transparency/`` folder). Their errors: ``InvalidProof``, ``InvalidNote``, ``InvalidReceipt``
(also ``ValueError``), ``SigningKeyError``, ``PublicationError``, ``DamagedLog``.

Names are imported when first used, so that verifying a receipt does not load the ledger.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_ERRORS = ("ChangedVersion", "CheckpointIncomplete", "ConsentError", "DamagedLog",
           "ErasureIncomplete", "IdempotencyConflict", "InvalidCursor", "InvalidEvidence",
           "InvalidNote", "InvalidProof", "InvalidReceipt", "InvalidRecord", "InvalidSubject",
           "LedgerNotFound", "NotALedger", "PublicationError", "SigningKeyError", "StorageFull",
           "StorageUnavailable", "UncommittedVersion", "UnknownDocument", "UnknownSubject",
           "UnknownVersion")
_VALUES = ("STATUSES", "CatalogDocument", "CatalogVersion", "Erasure", "Event", "Marked", "Page",
           "Published", "Status", "Verification")
_FUNCTIONS = {"SubjectId": ".records", "canonical_subject": ".records", "check_ledger": ".schema"}
_MODULES = {**dict.fromkeys(_ERRORS, ".errors"), **dict.fromkeys(_VALUES, ".values"),
            "Ledger": ".ledger", **_FUNCTIONS}

__all__ = sorted(_MODULES)


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module 'consent' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from .errors import *  # noqa: F403
    from .ledger import Ledger  # noqa: F401
    from .records import SubjectId, canonical_subject  # noqa: F401
    from .schema import check_ledger  # noqa: F401
    from .values import *  # noqa: F403
