"""The narrow storage interface the ledger's logic is written against.

A :class:`Store` is one ledger's storage engine: :class:`consent.sqlite.SqliteStore` (a file)
or :class:`consent.postgres.PostgresStore` (a server). Its :meth:`~Store.write` yields a
:class:`Tx`, a transaction on which the ledger's modules run their SQL, written once with
``?`` placeholders in the SQL both engines share. What differs between engines sits in the
engine's module, behind the few methods of :class:`Tx` beyond ``execute``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, NamedTuple, Protocol, TypeGuard, TypeVar
from urllib.parse import unquote

from .errors import InvalidLocation

T = TypeVar("T")
Params = Sequence[Any]


class Rows(Protocol):
    """The result of :meth:`Tx.execute`: rows as tuples."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Appended(NamedTuple):
    """Where an event was appended, its hashes, the salt of its personal fields and its
    subject's row id."""

    chain: int
    seq: int
    prev: bytes
    hash: bytes
    part_of: int | None
    salt: bytes
    subject: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Kind:
    """What the events of one version, action, channel and language shown have in common."""

    shared: bytes
    """Their header part (:func:`consent.chain.common`)."""
    version: int | None
    """The version's row id."""
    document: int | None
    """Its document's row id."""
    action: int
    channel: str | None
    language: str | None
    """The language of the text shown, when it is not the version's own (``None``: its own)."""
    state: int | None
    """The state an event gives its subject's status row for the document (``None``: it
    changes no state)."""
    accepted: int | None
    """The accepted version that status row then holds (``None``: the one it held)."""
    notified: int | None
    """The version an event marks its subject notified of (``None``: none)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Drafts:
    """Events to append, one list per column, in order: all but their places in the chains and
    their hashes, which :meth:`Tx.append` gives them (see :mod:`consent.chain`); what events
    have in common is in ``kinds``, once."""

    subjects: list[str]
    at: list[int]
    kind: list[int]
    """Each event's :class:`Kind`: its index in ``kinds``."""
    heads: list[int | None]
    """For a bundle member: the index (in these drafts) of the event it is part of."""
    digests: list[bytes]
    """Salted digests of the personal fields (:func:`consent.chain.personal_digest`)."""
    salts: list[bytes]
    evidence: list[str | None]
    kinds: list[Kind]


class Tx(Protocol):
    """A transaction (or, from :meth:`Store.read`, a read snapshot) on a ledger's storage."""

    engine: str
    """``sqlite`` or ``postgresql``."""
    join: str
    """The join that looks a subject's status up from its id: ``CROSS JOIN`` on SQLite (which
    makes its planner start from the subject), ``JOIN`` on PostgreSQL."""

    def execute(self, sql: str, params: Params = (), /) -> Rows:
        """Run ``sql`` (``?`` placeholders) with ``params``."""
        ...

    def executemany(self, sql: str, params: Iterable[Params], /) -> Any:
        """Run ``sql`` once per item of ``params``."""
        ...

    def rows(self, sql: str, /) -> Generator[tuple[Any, ...], None, None]:
        """Every row of ``sql``, read a batch at a time: the whole result is never in memory
        (a cursor on the server, on PostgreSQL, which needs a transaction)."""
        ...

    def any_of(self, values: Sequence[Any]) -> tuple[str, Any]:
        """``(sql, param)`` for ``column <sql>`` to test membership in ``values``:
        ``IN (SELECT value FROM json_each(?))`` on SQLite, ``= ANY(%b)`` (binary) on PostgreSQL."""
        ...

    def subject_ids(self, names: Iterable[str]) -> dict[str, tuple[int, int]]:
        """``(id, chain)`` of each subject named, creating those not yet known."""
        ...

    def status_rows(self, document: int, names: Sequence[str]
                    ) -> dict[str, tuple[int, int | None, int | None]]:
        """The ``status`` rows' ``(state, accepted, notified)`` of the subjects ``names`` for
        the document of row id ``document`` (those without one left out)."""
        ...

    def append(self, drafts: Drafts, generation: int | None, rows: Sequence[Any], want: bool
               ) -> list[Appended] | None:
        """Append ``drafts`` (of ``rows``, :class:`consent.writer.Row`) to their subjects'
        chains (creating new subjects), locking the chains' heads against other writers until
        the transaction ends, and write their personal fields, status rows, the chains' new
        heads and the webhook messages of the decisions (:func:`consent.outbox.decisions`).
        Returns what was appended, in order, when ``want`` is true (else an empty list). With a
        ``generation``, nothing is appended and ``None`` returned when the catalog's is
        another (published since the records were resolved)."""
        ...

    def filled(self, tables: Sequence[str]) -> None:
        """After many rows were written into ``tables`` at once (a copy, a large import): let
        the planner know the tables' sizes."""
        ...

    def copied(self, tables: Sequence[str]) -> None:
        """After rows were copied into ``tables`` with their ids (``ledger copy``): number new
        rows after them, and :meth:`filled`."""
        ...


class Store(Protocol):
    """One ledger's storage engine."""

    name: str
    """Where the ledger is, for messages: a path, or a URL without its password."""
    chains: int
    """How many hash chains the ledger's events are split into (fixed at creation)."""
    batches: bool
    """Whether appends from many threads should share transactions (see
    :class:`consent.group.Batcher`)."""

    def in_write(self) -> bool:
        """Whether this thread is inside a write transaction (which an append joins)."""
        ...

    def keys_generation(self) -> int | None:
        """A number that changes whenever the API keys may have changed, in any process
        serving the ledger; ``None`` when the engine cannot tell (then :class:`consent.keys.Keys`
        reads a key on every use)."""
        ...

    def write(self, *, single: bool = False) -> AbstractContextManager[Tx]:
        """A write transaction; a nested one joins the outer. Storage failures are raised as
        :class:`~consent.errors.StorageFull` or :class:`~consent.errors.StorageUnavailable`.
        With ``single``, for a caller that runs one statement (or statements that write
        nothing before it): the engine may let that statement commit by itself."""
        ...

    def read(self) -> AbstractContextManager[Tx]:
        """A read-only snapshot, consistent for its whole length."""
        ...

    def reads(self) -> Tx:
        """This thread's connection for single reads outside a transaction (each statement
        sees the latest commit)."""
        ...

    def submit(self, write: Callable[[], T]) -> Future[T]:
        """Run ``write()`` (calls of the ledger's writing methods) and resolve the future
        with its result once committed (the engine may commit several writes together)."""
        ...

    def checkpoint(self, timeout: float) -> None:
        """Remove what the engine keeps of deleted bytes (after an erasure): SQLite empties the
        write-ahead log into the file, waiting up to ``timeout`` seconds for readers of older
        snapshots (else :class:`~consent.errors.CheckpointIncomplete`); PostgreSQL vacuums the
        tables an erasure touches."""
        ...

    def backup(self, target: str) -> None:
        """Copy the ledger into a new file (SQLite's backup API); PostgreSQL refuses: its
        server's tools back it up."""
        ...

    def close(self) -> None:
        """Finish queued writes and close every connection."""
        ...


def is_url(location: object) -> TypeGuard[str]:
    """Whether ``location`` names a PostgreSQL ledger (``postgresql://`` or ``postgres://``)."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)", re.DOTALL)
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&#]*)", re.IGNORECASE)


def check_location(location: str | PurePath) -> None:
    """Raise :class:`InvalidLocation` for a URL (``scheme://``) of another scheme than
    PostgreSQL's: not a file's path either."""
    if isinstance(location, str) and _URL.match(location) and not is_url(location):
        raise InvalidLocation(f"the ledger {shown(location)} is neither a file path nor a "
                              f"postgresql:// URL: name the ledger's file, or its database as "
                              f"postgresql://user:password@host/database")


def shown(url: str) -> str:
    """``url`` without its passwords (in its user info, and ``password=`` in its query), for
    messages; any text is taken, malformed URLs too."""
    match = _URL.fullmatch(url)
    if match is None:
        return url
    scheme, netloc, rest = match.groups()
    user, at, hosts = netloc.rpartition("@")
    if ":" in user:
        user = user.split(":", 1)[0] + ":***"
    return scheme + user + at + hosts + _QUERY_PASSWORD.sub(r"\1***", rest)


def redacted(message: str, url: str) -> str:
    """``message`` (a driver's, which may quote ``url`` or parts of it) with ``url`` as
    :func:`shown` shows it and its passwords, as written or decoded, masked."""
    message = message.replace(url, shown(url))
    match = _URL.fullmatch(url)
    if match is None:
        return message
    user = match.group(2).rpartition("@")[0]
    passwords = [user.split(":", 1)[1]] if ":" in user else []
    passwords += [value for _, value in _QUERY_PASSWORD.findall(match.group(3))]
    for password in sorted({*passwords, *map(unquote, passwords)} - {""}, key=len, reverse=True):
        message = message.replace(password, "***")
    return message
