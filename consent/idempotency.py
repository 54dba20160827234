"""Idempotent writes: the first response per key is stored in the same transaction as the
writes it reports, so a retried request returns it and records nothing twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from .errors import IdempotencyConflict, InvalidRecord, short
from .records import canonical_subject, to_micros
from .store import Store

MAX_KEY = 255
Response = dict[str, Any]


def idempotent(store: Store, key: str, subjects: str | Iterable[str] | None,
               make_response: Callable[[], Response], fingerprint: str | None = None,
               owner: str | None = None) -> tuple[Response, bool]:
    """Return ``(response, replayed)``.

    The first call with ``key`` runs ``make_response`` inside one write transaction of
    ``store`` (the ledger writes it makes join it), stores its JSON-able result and returns it
    with ``replayed=False``. Later calls return the stored response with ``replayed=True`` and
    run nothing. If ``make_response`` raises, nothing is stored or recorded.

    :param subjects: the subject(s) the response is about: erasing one deletes it.
    :param fingerprint: a digest of the request; a later call with the same key and another
        fingerprint raises :class:`IdempotencyConflict`. Defaults to no check.
    :param owner: whose keys these are (the HTTP API passes the API key's id): the same key
        of two owners are two keys. Stored as ``owner:key``, never shown in an error.
        Defaults to none.
    """
    if not (isinstance(key, str) and 0 < len(key) <= MAX_KEY and key.isascii()
            and key.isprintable()):
        raise InvalidRecord(f"idempotency key must be 1 to {MAX_KEY} printable ASCII "
                            f"characters, not {short(key)}")
    stored = key if owner is None else f"{owner}:{key}"
    given = [subjects] if isinstance(subjects, str) else list(subjects or ())
    names = [canonical_subject(s) for s in given]
    with store.write() as tx:
        # The key is claimed first: a call with the same key in another transaction waits here
        # for this one's commit (then finds the response) or rollback (then claims it itself).
        claimed = tx.execute("INSERT INTO idempotency (key, fingerprint, response, at) VALUES (?, ?, '', ?) "
                             "ON CONFLICT (key) DO NOTHING RETURNING key",
                             (stored, fingerprint, to_micros(None))).fetchone()
        if claimed is None:
            row = tx.execute("SELECT fingerprint, response FROM idempotency WHERE key = ?",
                             (stored,)).fetchone()
            if fingerprint is not None and row[0] is not None and row[0] != fingerprint:
                raise IdempotencyConflict(f"idempotency key {key!r} was used for another request")
            replayed: Response = json.loads(row[1])
            return replayed, True
        response = make_response()
        tx.execute("UPDATE idempotency SET response = ? WHERE key = ?", (json.dumps(response), stored))
        tx.executemany("INSERT INTO idempotency_subjects (subject, key) VALUES (?, ?) "
                       "ON CONFLICT DO NOTHING",
                       [(sid, stored) for sid, _ in tx.subject_ids(names).values()])
    return response, False
