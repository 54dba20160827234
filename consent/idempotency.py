"""Idempotent writes: the first response per key is stored in the same transaction as the
writes it reports, so a retried request returns it and records nothing twice."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Callable, Iterable

from .errors import IdempotencyConflict, InvalidRecord
from .records import canonical_subject, to_micros
from .writer import subject_ids

if TYPE_CHECKING:
    from .ledger import Ledger

MAX_KEY = 255


def idempotent(ledger: Ledger, key: str, subjects: str | Iterable[str] | None,
               make_response: Callable[[], dict], fingerprint: str | None = None
               ) -> tuple[dict, bool]:
    """Return ``(response, replayed)``.

    The first call with ``key`` runs ``make_response`` inside one write transaction (the
    ledger writes it makes join it), stores its JSON-able result and returns it with
    ``replayed=False``. Later calls return the stored response with ``replayed=True`` and run
    nothing. If ``make_response`` raises, nothing is stored or recorded.

    :param subjects: the subject(s) the response is about: erasing one deletes it.
    :param fingerprint: a digest of the request; a later call with the same key and another
        fingerprint raises :class:`IdempotencyConflict`. Defaults to no check.
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY:
        raise InvalidRecord(f"idempotency key must be text of 1 to {MAX_KEY} characters, "
                            f"not {key!r}")
    names = [subjects] if isinstance(subjects, str) else list(subjects or ())
    names = [canonical_subject(s) for s in names]
    with ledger.transaction() as conn:
        row = conn.execute("SELECT fingerprint, response FROM idempotency WHERE key = ?",
                           (key,)).fetchone()
        if row is not None:
            if fingerprint is not None and row[0] is not None and row[0] != fingerprint:
                raise IdempotencyConflict(f"idempotency key {key!r} was used for another request")
            return json.loads(row[1]), True
        response = make_response()
        conn.execute("INSERT INTO idempotency (key, fingerprint, response, at) VALUES (?, ?, ?, ?)",
                     (key, fingerprint, json.dumps(response), to_micros(None)))
        conn.executemany("INSERT OR IGNORE INTO idempotency_subjects (subject, key) VALUES (?, ?)",
                         [(sid, key) for sid in subject_ids(conn, names).values()])
    return response, False
