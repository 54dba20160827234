"""The values the ledger returns. Instances are frozen: safe to share, cache and compare.
Each has ``to_dict()``, its JSON-ready form."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class _Value:
    """``to_dict()`` of a value: :func:`dataclasses.asdict`, tuples as lists."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = asdict(self, dict_factory=_json)  # type: ignore[call-overload]
        return data


def _json(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: _list(value) for key, value in items}


def _list(value: Any) -> Any:
    return [_list(item) for item in value] if isinstance(value, (tuple, list)) else value

STATUSES = ("current", "notify", "reaccept", "announced", "never", "withdrawn")
LIMITS = ("From this file alone, verify cannot tell events cut from the end of the chain (or of "
          "a chain, after the latest seal), or forged events added at its end with hashes "
          "recomputed to match. Keep `events` and `head` (of a ledger of one chain), or the "
          "`events` and `root` of a seal (`termsledger consent seal`), somewhere else (publish "
          "them, or hand them to another party), regularly, and check later that the ledger "
          "still holds them: `termsledger consent verify --anchor EVENTS:HEAD`. The signed "
          "checkpoints of the transparency log, published with the site (`termsledger log "
          "checkpoint`, `termsledger build`), do it for anyone who keeps a copy: `termsledger "
          "log verify-consistency`.")
"""What :class:`Verification` says it cannot detect."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Status(_Value):
    """Where a subject stands with a document."""

    subject: str
    document: str
    status: str
    """One of ``current | notify | reaccept | announced | never | withdrawn``."""
    accepted_version: str | None
    """The version the subject last accepted (for ``withdrawn``: the one withdrawn from)."""
    current_version: str | None
    """The version in force at the moment asked about."""
    announced_version: str | None
    """The next version announced but not yet in force, if any."""
    notified_version: str | None = None
    """The latest version the subject was notified of, if any."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Event(_Value):
    """One row of the append-only event log, as read back."""

    chain: int = 0
    """The hash chain the event is in (a subject's events are all in one chain)."""
    seq: int
    """The event's place in its chain, from 1."""
    at: str
    """UTC, ISO-8601 with microseconds."""
    subject: str
    document: str | None
    version: str | None
    content_sha256: str | None
    """The hash of the text shown (in ``language``)."""
    language: str | None = None
    """The language of the text shown (``None`` for a version published before the ledger
    kept languages)."""
    action: str
    """``accepted | declined | withdrawn | notified | erased | repaired``."""
    channel: str | None
    imported: bool = False
    """Recorded by an import of earlier decisions (its ``channel`` is ``import`` or
    ``import:<channel>``), at its original time."""
    evidence: dict[str, Any] | None
    """``None`` once the subject was erased."""
    part_of: int | None
    """For a document accepted as part of a bundle: the ``seq`` of the bundle's head event (in
    the same chain)."""
    prev_hash: str
    hash: str
    problem: str | None = None
    """Set when the stored row is damaged (tampered with): what is wrong with it; the fields
    it concerns are ``None`` (or empty), the others hold what could be read."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Text(_Value):
    """A published version's text in one language."""

    language: str | None
    """BCP 47 tag; ``None`` for a version published before the ledger kept languages (until
    it is published again)."""
    title: str
    summary: str
    content_sha256: str
    """What :meth:`Ledger.record` takes as ``sha256`` to record that this text was shown."""
    url: str | None
    """The text's page on the public site, when the publisher gave the site's URLs."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CatalogVersion(_Value):
    """A published version as the ledger knows it."""

    document: str
    id: str
    effective: str
    label: str | None
    title: str
    summary: str
    language: str | None
    """The language of the version's own text (the site's default language)."""
    url: str | None
    """The version's page on the public site, in its own language (see :class:`Text`)."""
    texts: tuple[Text, ...]
    """The version's text in each language it is published in, its own first."""
    material: bool
    """What the ledger acts on: the editor's ``flag`` when set, else the analysis' ``verdict``,
    else ``False``."""
    flag: bool | None
    verdict: bool | None
    content_sha256: str
    references: tuple[str, ...]
    manifest: str
    """The bundle's manifest, ``slug version content_sha256`` lines, the version first. In
    :meth:`Ledger.catalog`: the bundle accepting the version at the time asked about records
    (its references as in force then, or on its effective date if later); as stored at
    publication: the bundle on its effective date."""
    manifest_sha256: str
    """SHA-256 of ``manifest``: a ``sha256`` that :meth:`Ledger.record` accepts at that time."""
    commit: str | None
    published_at: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CatalogDocument(_Value):
    """A published document with its versions (oldest first) and what is in force."""

    slug: str
    title: str
    required: bool
    """Whether every subject must accept it (at signup): ``required`` asks for it even of
    subjects with no relation to it."""
    in_force: CatalogVersion | None
    announced: tuple[CatalogVersion, ...]
    """Versions announced but not yet in force, soonest first."""
    versions: tuple[CatalogVersion, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Published(_Value):
    """What :meth:`Ledger.publish` changed: ``(slug, version)`` pairs."""

    added: tuple[tuple[str, str], ...]
    updated: tuple[tuple[str, str], ...]
    """Versions whose title, summary or materiality changed (their text did not)."""
    unchanged: int
    kept: tuple[tuple[str, str], ...] = ()
    """Versions in force whose materiality verdict differs from the one published: the
    published one stays, so that who must re-accept does not change."""
    translations: tuple[tuple[str, str, str], ...] = ()
    """Texts in other languages published for the first time: ``(slug, version, language)``."""


class Marked(int):
    """What :meth:`Ledger.mark_notified` did: the number of notifications recorded (an ``int``
    as before), with ``unknown``, the subjects left out because they have no status for the
    document (they never accepted or withdrew from it: perhaps a mistyped id)."""

    unknown: tuple[str, ...]

    def __new__(cls, marked: int, unknown: tuple[str, ...] = ()) -> Marked:
        value = super().__new__(cls, marked)
        value.unknown = unknown
        return value

    def to_dict(self) -> dict[str, Any]:
        return {"marked": int(self), "unknown": list(self.unknown)}


@dataclass(frozen=True, kw_only=True, slots=True)
class WorklistPage(_Value):
    """One page of the notification worklist."""

    subjects: tuple[str, ...]
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; ``None`` when this page is the last."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Verification(_Value):
    """The result of checking the hash chain and the status table."""

    ok: bool
    events: int
    """How many events were checked."""
    head: str | None
    """On a ledger of one chain, the hash of its last event; on several, the Merkle root over
    the chains' heads (hex): anchor it elsewhere (``EVENTS:HEAD``) to detect a rewritten
    chain."""
    first_bad: int | None = None
    """``seq`` of the first event that was edited, deleted, reordered or malformed; when
    there is none and the status table is sound, of the first bundle member that is not part
    of its own record's event."""
    chain: int | None = None
    """The chain of ``first_bad``."""
    chains: int = 1
    """How many hash chains were checked."""
    seal: str | None = None
    """The root of the latest seal, which every chain was checked against (``None``: no seal
    yet)."""
    problem: str | None = None
    status_differences: int = 0
    """How many rows of the status table differ from what the events say (missing and
    extra rows included)."""
    status_problems: tuple[str, ...] = ()
    """The first :data:`~consent.verify.MAX_REPORTED` of them, in words (after a repair:
    those repaired)."""
    repaired: int = 0
    """How many status rows a repair rewrote from the events."""
    wrong_part_of: int = 0
    """How many bundle members (events with a ``part_of``) are not part of their own record's
    event: an earlier event of their chain and subject, itself no member. The ledger keeps
    them (its events are never changed); their decisions count as any."""
    part_of_problems: tuple[str, ...] = ()
    """The first :data:`~consent.verify.MAX_REPORTED` of them, in words."""
    limits: str = LIMITS
    """What no verification of the file alone can detect, and how to close the gap."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Seal(_Value):
    """A commitment to every hash chain's head at one moment (see :mod:`consent.seals`)."""

    at: str
    """When it was written (UTC, ISO-8601)."""
    chains: int
    events: int
    """How many events the chains held: the seal covers them all."""
    root: str
    """The Merkle root over the chains' heads (hex): keep it elsewhere to pin the ledger, and
    pass it as ``verify``'s ``anchor`` (``EVENTS:ROOT``)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Erasure(_Value):
    """What :meth:`Ledger.erase` did."""

    pseudonym: str
    """The random pseudonym the subject's events now carry (new for each erasure)."""
    events: int
    """How many of the subject's events lost their personal fields."""
    responses: int
    """How many stored idempotent responses about the subject were deleted."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LogCheckpoint(_Value):
    """A signed checkpoint of the transparency log, as the ledger keeps it."""

    size: int
    """The number of leaves (events) the checkpoint commits to."""
    root_hash: str
    """The root hash of the tree of ``size`` leaves, base64."""
    time: str
    """When it was signed (UTC, ``2026-01-31T12:00:00Z``)."""
    note: str
    """The signed checkpoint: a C2SP signed note, as published in ``transparency/``."""
    published: str | None
    """When ``termsledger build`` first wrote it into the site, if it has."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Inclusion(_Value):
    """The proof that an event is a leaf of the log, against a signed checkpoint."""

    leaf_index: int
    size: int
    """The size of the checkpoint's tree."""
    checkpoint: str
    """The signed checkpoint (a C2SP signed note)."""
    proof: tuple[str, ...]
    """The audit path (RFC 9162, 2.1.3), base64 hashes, the leaf's sibling first."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Webhook(_Value):
    """A webhook endpoint, without its signing secret (shown once, when it is added)."""

    id: str
    url: str
    events: tuple[str, ...]
    """The event types it receives (see :data:`consent.outbox.EVENT_TYPES`)."""
    created: str
    """UTC ISO-8601 time it was added."""
    enabled: bool
    disabled: str | None = None
    """When it was disabled, by hand or because deliveries failed for the whole retry period."""
    disabled_reason: str | None = None
    delivered: int = 0
    """Messages delivered to it so far."""
    last_delivered: str | None = None
    pending: int = 0
    """Messages waiting for it: new ones, retries, and those kept while it is disabled."""
    failing: int = 0
    """Of those, the ones whose last attempt failed (see :meth:`Webhooks.status`)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookFailure(_Value):
    """A message whose delivery to an endpoint failed, and what happens to it next."""

    message: str
    """Its ``webhook-id``, the same on every attempt."""
    type: str
    attempts: int
    first_failed: str
    last_error: str
    """What went wrong the last time (``HTTP 500``, ``timed out after 10 s``...)."""
    next_attempt: str | None
    """When it is tried again; ``None`` once given up or while the endpoint is disabled."""
    given_up: str | None = None
    """When retries ran out for it while the endpoint received others."""


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookStatus(_Value):
    """An endpoint and the messages it failed to receive, oldest first."""

    webhook: Webhook
    failures: tuple[WebhookFailure, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryRun(_Value):
    """What one run of the webhook delivery did (:meth:`Webhooks.deliver`)."""

    delivered: int
    failed: int
    """Attempts that failed (they are retried later)."""
    deferred: int
    """Messages not tried in this run because their endpoint had just failed."""
    in_force: tuple[str, ...] = ()
    """Versions whose effective date had come, announced as ``version.in_force``
    (``terms 2026-01-01``)."""
    disabled: tuple[str, ...] = ()
    """Endpoints disabled in this run because deliveries failed for the whole retry period."""


ACTIONS = ("accept", "notify", "announce")
"""What :meth:`Ledger.required` asks a product to do about a document."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Requirement(_Value):
    """What a product must do now about one document for one subject, and the version it is
    about, in the language asked for where the version has a text in it."""

    document: str
    action: str
    """``accept``: ask for acceptance of ``version`` (never accepted, withdrawn from a
    required document, or a material version took effect since); ``notify``: tell them of
    ``version``, in force, whose changes need no new acceptance, then mark them notified;
    ``announce``: tell them that ``version``, material, takes effect on ``effective``
    (accepting it early is allowed)."""
    version: str
    title: str
    summary: str
    effective: str
    """ISO-8601 date on which ``version`` takes (or took) effect."""
    language: str | None
    """The language of ``title``, ``summary``, ``sha256`` and ``url``."""
    sha256: str
    """The text's ``content_sha256``: pass it (and ``language``) to :meth:`Ledger.record`."""
    manifest_sha256: str
    """The hash of the bundle that accepting ``version`` now records."""
    url: str | None
    """The version's page on the public site, in ``language``."""
    texts: tuple[Text, ...]
    """The version's text in every language it is published in, its own first."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Required(_Value):
    """What a product must do about ``subject`` now: one :class:`Requirement` per document
    that needs an action (none when the subject may go on)."""

    subject: str
    required: tuple[Requirement, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class VersionText(_Value):
    """The exact text of a published version in one language, as the ledger keeps it."""

    document: str
    version: str
    effective: str
    language: str | None
    """The language of this text."""
    fallback: bool
    """``True`` when the version has no text in the language asked for: this is its own
    text instead."""
    languages: tuple[str, ...]
    """Every language the version is published in, its own first."""
    title: str
    summary: str
    sha256: str
    """The SHA-256 of ``markdown`` (its ``content_sha256``)."""
    url: str | None
    markdown: str
    """The normalized Markdown body, whose SHA-256 is ``sha256``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class BadLine(_Value):
    """A line of an import that the ledger refuses, and why."""

    line: int
    """Its number, from 1."""
    message: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Imported(_Value):
    """What :meth:`Ledger.import_records` recorded."""

    lines: int
    """Lines read (blank lines left out)."""
    recorded: int
    """Lines recorded."""
    events: int
    """Events appended (an acceptance also records its bundle)."""
    bad: tuple[BadLine, ...] = ()
    """The lines left out (with ``skip_bad``), the first 1,000 of them: ``lines - recorded``
    counts them all."""
