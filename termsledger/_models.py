"""The bodies of the HTTP API as pydantic models: what ``/openapi.json`` describes.

Requests are validated through them. Responses are encoded straight from the ledger's values
(orjson), so that the hot routes pay nothing for their models; the schemathesis tests check
that every response conforms to its model.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

MAX_SUBJECTS = 10_000

SUBJECT_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]+$"
"""What a subject id may hold, for OpenAPI (the ledger checks it, with a clearer message)."""
SUBJECT_DOC = ("1 to 256 characters without control characters (C0, DEL, C1, line separators, "
               "bidi embeddings, overrides and isolates), normalized to NFC; ids starting with "
               "`erased:` or `ledger:` cannot be recorded.")
Subject = Annotated[str, Field(min_length=1, description=SUBJECT_DOC, examples=["user-42"],
                               json_schema_extra={"maxLength": 256, "pattern": SUBJECT_PATTERN})]
"""A subject id in a body: the ledger checks its length once normalized to NFC, as in a path."""
PATTERN_WORDS: dict[str, str] = {}
"""What each ``pattern`` of a field below asks for, in plain words: a value that does not match
is refused with these words, not the regular expression (see :func:`_matching`)."""


def _matching(pattern: str, words: str) -> str:
    """``pattern``, for ``Field(pattern=...)``, with ``words`` for a value that does not match:
    "must be ..." (every pattern of the API's fields is given here, so that none goes without)."""
    PATTERN_WORDS[pattern] = words
    return pattern


Slug = Annotated[str, Field(
    pattern=_matching(r"^[a-z0-9-]+$", "must be a document's slug: lowercase letters a to z, "
                                       "digits and hyphens, such as terms or privacy-policy"),
    max_length=100, examples=["terms"], description="A published document's slug.")]
StatusName = Literal["current", "notify", "reaccept", "announced", "never", "withdrawn"]
Action = Literal["accepted", "declined", "withdrawn", "notified", "erased", "repaired", "unknown"]
Hash = Annotated[str, Field(description="SHA-256, 64 hex digits.")]
Language = Annotated[str, Field(
    pattern=_matching(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$",
                      "must be a language tag such as en, fr or pt-BR: 2 to 8 letters, then "
                      "optionally more parts of 1 to 8 letters or digits, each after a hyphen"),
    max_length=35, description="A BCP 47 language tag.", examples=["fr"])]
RequiredAction = Literal["accept", "notify", "announce"]


_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def _iso_text(value: Any) -> Any:
    """Only ISO-8601 text is a date and time here (pydantic alone takes numbers as Unix
    times)."""
    if not (isinstance(value, str) and _ISO_DATE.match(value)):
        raise ValueError("must be an ISO-8601 date and time, such as 2026-05-01T00:00:00Z")
    return value


def _utc(when: datetime) -> datetime:
    """``when`` in UTC (naive meaning UTC); one whose UTC day is outside years 1 to 9999 is
    refused."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    try:
        return when.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("date and time out of range in UTC") from None


When = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_utc), Field(
    description="ISO-8601 date and time (a date alone means its midnight), UTC when naive; "
                "now by default. A past moment counts the decisions made up to it.",
    examples=["2026-05-01T00:00:00Z"])]
"""A moment asked about (``at``)."""

_HASH = "9f2c" + "0" * 60
_OTHER_HASH = "4b7e" + "1" * 60


def _example(**example: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentIn(_In):
    """A consent decision to record."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"subject": "user-42", "document": "terms", "evidence": {"locale": "en"}}]})

    subject: Subject
    document: Slug
    action: Literal["accepted", "declined", "withdrawn"] = "accepted"
    version: str | None = Field(None, description="Defaults to the version in force.")
    sha256: str | None = Field(None, description="The content_sha256 of the text shown (in any "
                                                 "of the version's languages) or the bundle's "
                                                 "manifest_sha256, checked by the ledger; without "
                                                 "version, it names the version.")
    language: Language | None = Field(None, description="The language of the text shown. "
                                      "Defaults to that of the text whose hash is sha256, else "
                                      "the version's own.")
    channel: str = Field("api", min_length=1, max_length=64)
    evidence: dict[str, Any] = Field(
        default_factory=dict,
        description="ip and user_agent default to the client's address and User-Agent.")


class StatusesIn(_In):
    """Subjects whose status to look up, for one document or all."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"subjects": ["user-42", "user-43"], "document": "terms"}]})

    subjects: list[Subject] = Field(max_length=MAX_SUBJECTS)
    document: Slug | None = None
    at: When | None = None


class AckIn(_In):
    """Subjects who were told of a version."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"document": "terms", "version": "2026-04-01", "subjects": ["user-42"]}]})

    document: Slug
    version: str
    subjects: list[Subject] = Field(min_length=1, max_length=MAX_SUBJECTS)
    channel: str = Field("email", min_length=1, max_length=64)


class Status(BaseModel):
    """Where a subject stands with a document (see the README for what to do about each)."""

    model_config = _example(subject="user-42", document="terms", status="current",
                            accepted_version="2026-04-01", current_version="2026-04-01",
                            announced_version=None, notified_version=None)

    subject: str
    document: str
    status: StatusName
    accepted_version: str | None
    current_version: str | None
    announced_version: str | None
    notified_version: str | None


class SubjectStatuses(BaseModel):
    """A subject's status for every published document."""

    subject: str
    statuses: list[Status]


class Statuses(BaseModel):
    """Statuses in the order the subjects were given (per document)."""

    statuses: list[Status]


class Event(BaseModel):
    """One event of the append-only log."""

    model_config = _example(
        chain=0, seq=7, at="2026-04-02T09:30:00.000000+00:00", subject="user-42", document="terms",
        version="2026-04-01", content_sha256=_HASH, language="en", action="accepted",
        channel="web", imported=False,
        evidence={"ip": "203.0.113.9", "user_agent": "Mozilla/5.0", "locale": "en"},
        part_of=None, prev_hash=_OTHER_HASH, hash=_HASH, problem=None)

    chain: int = Field(description="The hash chain the event is in (a subject's events are "
                                   "all in one chain).")
    seq: int
    at: str = Field(description="UTC, ISO-8601 with microseconds.")
    subject: str
    document: str | None
    version: str | None
    content_sha256: str | None = Field(description="The hash of the text shown, in ``language``.")
    language: str | None = Field(description="The language of the text shown.")
    action: Action = Field(description="``unknown`` only for a damaged row (see ``problem``).")
    channel: str | None
    imported: bool = Field(description="Recorded by an import, at its original time (channel "
                                       "``import`` or ``import:<channel>``).")
    evidence: dict[str, Any] | None = Field(
        description="Personal evidence (IP, user agent...): null once the subject was erased, "
                    "and for keys without the admin scope in a history.")
    part_of: int | None = Field(description="For a document accepted as part of a bundle: "
                                            "the seq of the bundle's head event.")
    prev_hash: str
    hash: str
    problem: str | None = Field(description="What is wrong with a damaged (tampered) row.")


class PiiController(BaseModel):
    """Who is responsible for the consent: ``[site] organisation`` and ``contact``."""

    piiController: str
    contact: str


class ReceiptSignature(BaseModel):
    """The Ed25519 signature over the receipt's other fields (not ``proof``, ``subjectSalt``)."""

    keyId: str = Field(description="The signing key's ID (8 hex digits), listed in the site's "
                                   "transparency/keys.json.")
    algorithm: Literal["Ed25519"]
    value: str = Field(description="base64")


class ReceiptProof(BaseModel):
    """The proof that the receipt's event is in the transparency log."""

    checkpoint: str = Field(description="A signed checkpoint published with the site (C2SP "
                                        "signed note).")
    leafIndex: int = Field(description="The event's position in the log.")
    inclusion: list[str] = Field(description="The audit path (RFC 9162): base64 hashes.")


class ConsentReceipt(BaseModel):
    """A signed consent receipt (Kantara Consent Receipt v1.1 fields): anyone can verify it
    offline against the public site with `termsledger receipt verify`."""

    model_config = _example(
        version="KI-CR-v1.1.0", consentReceiptID="0b7c1c2e-3f3e-4c55-9d1e-1f2a3b4c5d6e",
        consentTimestamp=1775122200, collectionMethod="web", language="en", jurisdiction=None,
        piiPrincipalId=_OTHER_HASH, piiControllers=[{"piiController": "Quillbridge Learning Ltd.",
                                                     "contact": "legal@example.com"}],
        policyUrl="https://terms.example.com/terms/2026-04-01/", action="accepted",
        document="terms", versionId="2026-04-01", contentSha256=_HASH,
        manifestSha256=_OTHER_HASH, eventHash=_HASH, log="terms.example.com",
        issued=1775122200, signature={"keyId": "1a2b3c4d", "algorithm": "Ed25519",
                                      "value": "base64..."},
        subjectSalt="base64...")

    version: Literal["KI-CR-v1.1.0"]
    consentReceiptID: str
    consentTimestamp: int = Field(description="When the subject acted: seconds since the epoch.")
    collectionMethod: str
    language: str
    jurisdiction: str | None
    piiPrincipalId: str = Field(description="SHA-256(salt || subject id), hex: only the copy "
                                            "holding subjectSalt links it to the subject.")
    piiControllers: list[PiiController]
    policyUrl: str = Field(description="The version's page on the public site.")
    action: Literal["accepted", "declined", "withdrawn"]
    document: str
    versionId: str
    contentSha256: Hash
    manifestSha256: Hash | None = Field(description="The bundle accepted; null for a decline "
                                                    "or a withdrawal.")
    eventHash: Hash = Field(description="The ledger event's hash: the log's leaf.")
    log: str = Field(description="The transparency log's name (its signing key's).")
    issued: int = Field(description="When the receipt was signed: seconds since the epoch.")
    signature: ReceiptSignature
    proof: ReceiptProof | None = Field(None, description="Absent until a checkpoint published "
                                                         "with the site includes the event.")
    subjectSalt: str | None = Field(None, description="Only in the subject's own copy (the one "
                                                      "a recording returns): base64.")


class Recorded(BaseModel):
    """The events a decision appended (the head first, then its bundle), the new status, and
    (when the server has a signing key) the subject's own copy of the decision's receipt:
    hand it to the subject; its proof follows from GET /v1/receipts/{id}."""

    events: list[Event]
    status: Status
    receipt: ConsentReceipt | None = None


class Receipt(BaseModel):
    """A receipt as signed, with its inclusion proof when a published checkpoint has it."""

    receipt: ConsentReceipt
    pending: bool = Field(description="True while no checkpoint published with the site "
                                      "includes the event: ask again after the next one.")


class LogCheckpoint(BaseModel):
    """A signed checkpoint of the transparency log."""

    model_config = _example(size=1024, root_hash="CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
                            time="2026-04-02T10:00:00Z",
                            note="terms.example.com\n1024\nCsUYapGG...\n\n\u2014 terms.example.com ...\n",
                            published="2026-04-03T06:00:00+00:00")

    size: int
    root_hash: str = Field(description="base64")
    time: str
    note: str = Field(description="The signed checkpoint: a C2SP signed note.")
    published: str | None = Field(description="When `termsledger build` first published it "
                                              "with the site; null until then.")


class LogCheckpoints(BaseModel):
    """The log's size and every signed checkpoint, smallest first."""

    size: int = Field(description="Leaves (events) sequenced so far.")
    checkpoints: list[LogCheckpoint]


class Inclusion(BaseModel):
    """The proof that a leaf is in the tree of a signed checkpoint."""

    leaf_index: int
    size: int
    checkpoint: str
    proof: list[str] = Field(description="The audit path (RFC 9162): base64 hashes.")


class Consistency(BaseModel):
    """The proof that the tree of ``new_size`` leaves extends that of ``old_size``."""

    old_size: int
    new_size: int
    proof: list[str] = Field(description="RFC 9162 consistency proof: base64 hashes.")


class History(BaseModel):
    """A subject's events, oldest first."""

    subject: str
    events: list[Event]
    evidence_shown: bool = Field(description="Whether the events carry their personal evidence: "
                                       "only for keys with the admin scope.")


class Text(BaseModel):
    """A version's text in one language."""

    model_config = _example(language="fr", title="Conditions d'utilisation",
                            summary="Délais de remboursement précisés.", content_sha256=_HASH,
                            url="https://terms.example.com/fr/terms/2026-04-01/")

    language: str | None
    title: str
    summary: str
    content_sha256: Hash
    url: str | None = Field(description="Its page on the public site ([site] base_url).")


_TEXTS = [{"language": "en", "title": "Terms of Use",
           "summary": "Clarified refund windows for annual plans.", "content_sha256": _HASH,
           "url": "https://terms.example.com/terms/2026-04-01/"},
          {"language": "fr", "title": "Conditions d'utilisation",
           "summary": "Délais de remboursement précisés.", "content_sha256": _OTHER_HASH,
           "url": "https://terms.example.com/fr/terms/2026-04-01/"}]


class CatalogVersion(BaseModel):
    """A published version."""

    model_config = _example(
        document="terms", id="2026-04-01", effective="2026-04-01", label=None,
        title="Terms of Use", summary="Clarified refund windows for annual plans.",
        language="en", url="https://terms.example.com/terms/2026-04-01/", texts=_TEXTS,
        material=True, flag=True, verdict=True, content_sha256=_HASH, references=["privacy"],
        manifest=f"terms 2026-04-01 {_HASH}\nprivacy 2025-01-01 {_OTHER_HASH}\n",
        manifest_sha256=_OTHER_HASH, commit="3c2f01e" + "0" * 33,
        published_at="2026-03-01T10:00:00.000000+00:00")

    document: str
    id: str
    effective: str = Field(description="ISO-8601 date.", examples=["2026-04-01"])
    label: str | None
    title: str
    summary: str
    language: str | None = Field(description="The language of the version's own text.")
    url: str | None = Field(description="Its page on the public site, in its own language.")
    texts: list[Text] = Field(description="Its text in each language, its own first.")
    material: bool
    flag: bool | None
    verdict: bool | None
    content_sha256: Hash
    references: list[str]
    manifest: str
    manifest_sha256: Hash
    commit: str | None
    published_at: str


class CatalogDocument(BaseModel):
    """A published document, its version in force, those announced, and every version."""

    slug: str
    title: str
    required: bool = Field(description="Every user must accept it at signup.")
    in_force: CatalogVersion | None
    announced: list[CatalogVersion]
    versions: list[CatalogVersion]


class Catalog(BaseModel):
    """The published catalog."""

    documents: list[CatalogDocument]


class Page(BaseModel):
    """One page of subjects to notify of a version."""

    model_config = _example(document="terms", version="2026-04-01",
                            subjects=["user-42", "user-43"], next_cursor="AQAAAAAAAAAD...")

    document: str
    version: str
    subjects: list[str]
    next_cursor: str | None = Field(description="Pass back as ``cursor`` for the next page; "
                                                "null on the last page.")


class Marked(BaseModel):
    """How many notifications were recorded, and the subjects left out."""

    model_config = _example(document="terms", version="2026-04-01", marked=1,
                            unknown=["user-99"])

    document: str
    version: str
    marked: int
    unknown: list[str] = Field(description="Subjects with no status for the document (they "
                                           "never accepted it): perhaps mistyped ids.")


class Requirement(BaseModel):
    """What the product must do about one document now."""

    model_config = _example(
        document="terms", action="accept", version="2026-04-01", title="Terms of Use",
        summary="Clarified refund windows for annual plans.", effective="2026-04-01",
        language="en", sha256=_HASH, manifest_sha256=_OTHER_HASH,
        url="https://terms.example.com/terms/2026-04-01/", texts=_TEXTS)

    document: str
    action: RequiredAction = Field(description="``accept``: ask them to accept ``version`` "
                                   "before going on; ``notify``: tell them of ``version`` (no new "
                                   "acceptance needed), then mark them notified; ``announce``: "
                                   "tell them ``version`` takes effect on ``effective``.")
    version: str
    title: str
    summary: str
    effective: str = Field(description="ISO-8601 date on which the version takes effect.")
    language: str | None = Field(description="The language of title, summary, sha256 and url.")
    sha256: Hash = Field(description="The text's hash: send it (and language) back when "
                                     "recording the acceptance.")
    manifest_sha256: Hash = Field(description="The hash of the bundle accepting it now records.")
    url: str | None = Field(description="The version's page on the public site, in language.")
    texts: list[Text] = Field(description="The version's text in every language.")


class Required(BaseModel):
    """What the product must do about a subject now; an empty list lets them in."""

    subject: str
    required: list[Requirement]


class VersionText(BaseModel):
    """The exact text of a published version, as the ledger keeps it."""

    model_config = _example(
        document="terms", version="2026-04-01", effective="2026-04-01", language="fr",
        fallback=False, languages=["en", "fr"], title="Conditions d'utilisation",
        summary="Délais de remboursement précisés.", sha256=_HASH,
        url="https://terms.example.com/fr/terms/2026-04-01/",
        markdown="# Conditions\n\nSoyez courtois.\n",
        html='<h1 id="conditions">Conditions</h1>\n<p>Soyez courtois.</p>\n')

    document: str
    version: str
    effective: str
    language: str | None = Field(description="The language of this text.")
    fallback: bool = Field(description="True when the version has no text in the language "
                                       "asked for: this is its own text.")
    languages: list[str] = Field(description="Every language the version is published in.")
    title: str
    summary: str
    sha256: Hash = Field(description="SHA-256 of markdown (its content_sha256).")
    url: str | None
    markdown: str = Field(description="The normalized Markdown, as published.")
    html: str = Field(description="The Markdown rendered and sanitized as on the site.")


class ImportLine(BaseModel):
    """One decision to import (a line of JSON Lines, or an item of a JSON array)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"subject": "user-42", "document": "terms", "version": "2024-03-01",
         "at": "2024-05-02T10:00:00Z", "evidence": {"ip": "203.0.113.9"}}]})

    subject: Subject
    document: Slug
    at: str = Field(description="The original time of the decision, ISO-8601 (UTC when "
                                "naive), not in the future.")
    version: str | None = Field(None, description="Its id, label or date; or give sha256.")
    sha256: str | None = Field(None, description="The hash of the text accepted (any language).")
    action: Literal["accepted", "declined", "withdrawn"] = "accepted"
    channel: str | None = Field(None, description="Where it was decided; recorded as "
                                                  "import:<channel>.")
    language: Language | None = None
    evidence: dict[str, Any] | None = None


class BadLine(BaseModel):
    """A line of an import that the ledger refuses."""

    line: int
    message: str


class Imported(BaseModel):
    """What an import recorded."""

    model_config = _example(lines=3, recorded=2, events=4, bad=[
        {"line": 2, "message": "at is missing (the original time of the decision, ISO-8601)"}])

    lines: int = Field(description="Lines read (blank lines left out).")
    recorded: int = Field(description="Lines recorded.")
    events: int = Field(description="Events appended (an acceptance records its bundle too).")
    bad: list[BadLine] = Field(description="The lines left out (with skip_bad), the first 1,000 "
                                           "of them: lines - recorded counts them all.")


class AcceptedText(BaseModel):
    """A text the subject accepted."""

    document: str
    version: str
    language: str | None
    content_sha256: str
    markdown: str | None = Field(description="Null for a version published before the ledger "
                                             "kept texts.")


class StoredResponse(BaseModel):
    """An idempotent response stored about the subject."""

    key: str
    response: dict[str, Any] | None
    problem: str | None = None


class Export(BaseModel):
    """Everything the ledger holds about a subject."""

    subject: str
    exported_at: str
    statuses: list[Status]
    events: list[Event]
    texts: list[AcceptedText] = Field(description="The texts the subject accepted.")
    responses: list[StoredResponse]
    receipts: list[ConsentReceipt] = Field(description="The subject's own copy of each receipt "
                                                       "of their decisions, salt included.")


class Erasure(BaseModel):
    """What an erasure did."""

    model_config = _example(pseudonym="erased:" + "0" * 32, events=2, responses=0)

    pseudonym: str
    events: int
    responses: int


class Verification(BaseModel):
    """The check of the hash chain and the status table."""

    model_config = _example(
        ok=True, events=1204, head=_HASH, first_bad=None, problem=None, status_differences=0,
        status_problems=[], repaired=0, wrong_part_of=0, part_of_problems=[],
        limits="From this file alone, verify cannot tell events cut from the end of the chain...")

    ok: bool
    events: int
    head: str | None
    first_bad: int | None
    problem: str | None
    status_differences: int
    status_problems: list[str]
    repaired: int
    wrong_part_of: int = Field(description="How many bundle members are not part of their own "
                                           "record's event (the first ones in part_of_problems).")
    part_of_problems: list[str]
    limits: str


class Health(BaseModel):
    """The server is up."""

    ok: Literal[True]


class ErrorField(BaseModel):
    """A field of the request that is wrong."""

    field: str = Field(examples=["subject"])
    in_: Literal["body", "query", "path", "header"] = Field(alias="in")
    message: str


class ErrorDetail(BaseModel):
    """What went wrong; ``code`` is stable, ``message`` says what to fix."""

    status: int
    code: str = Field(description="``unauthorized``, ``forbidden``, ``not_found``, ``invalid`` "
                                  "(a malformed request), ``too_large``, ``internal``, or the "
                                  "ledger error's name in snake case (``unpublished_document`` for "
                                  "consent.UnpublishedDocument, ``storage_unavailable``...).")
    message: str
    fields: list[ErrorField] = Field(description="The request's fields at fault (empty when "
                                                 "the error is not about one).")


class Error(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


ERRORS = {
    401: ("Missing, unknown or revoked API key.", "unauthorized",
          "Send an API key: Authorization: Bearer <key>."),
    403: ("The API key lacks the scope this call needs.", "forbidden",
          "This API key has the 'read' scope; this call needs 'write'."),
    404: ("The subject (or the document, version, receipt or checkpoint) is unknown to the "
          "ledger.", "unknown_subject", "the ledger holds nothing about subject 'user-42'"),
    409: ("The version named is no longer in force (``outdated_version``: the message names "
          "the one in force), or the Idempotency-Key was used for another request "
          "(``idempotency_conflict``).", "outdated_version",
          "version 2025-01-01 of terms is no longer in force on 2026-05-01: version 2026-04-01 "
          "is; show the text in force and record that one"),
    413: ("The request body is over 1 MiB (64 MiB for an import).", "too_large",
          "The request body is over 1048576 bytes."),
    422: ("A malformed request, or one the ledger refuses; ``fields`` names the fields.",
          "invalid", "Invalid request: subject: String should have at least 1 character"),
    503: ("The ledger cannot be written now (full disk, storage failure, an erasure a reader "
          "keeps from finishing); retry after ``Retry-After`` seconds.", "storage_unavailable",
          "the ledger termsledger.db cannot be used now (disk I/O error); nothing was changed: "
          "try again later"),
}
"""For each status an error can have: its description and an example code and message."""


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` documenting :class:`Error` bodies for ``statuses``."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description, code, message = ERRORS[status]
        fields = ([{"field": "subject", "in": "body", "message": message.rpartition(": ")[2]}]
                  if status == 422 else [])
        example = {"error": {"status": status, "code": code, "message": message,
                             "fields": fields}}
        documented[status] = {"model": Error, "description": description,
                              "content": {"application/json": {"example": example}}}
        if status == 503:
            documented[status]["headers"] = {"Retry-After": {
                "description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
    return documented
