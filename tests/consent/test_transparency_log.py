"""The ledger's transparency log and receipts through the Python API, on both engines: the
sequencer makes the events leaves in batches, checkpoints are signed and kept, every decision
gets a receipt that verifies offline against a site built from the same content, and erasure
changes no leaf."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from hashlib import sha256

import pytest
from support.ledger import content, sql, version

import site_builder
from consent import DamagedLog, Ledger, ReceiptSettings, SigningKeyError, UnknownCheckpoint, UnknownReceipt
from consent.chain import GENESIS, event_hash, header, personal_digest
from consent.merkle import leaf_hash, node_hash
from consent.receipt_checks import verify_receipt
from consent.receipts import SignedReceipt, commitment
from consent.signing import create_key, public_keys_path, read_public_keys, rotate_key
from consent.transparency import Site, verify_extension, write_transparency
from terms import manifest

ORIGIN = "terms.example.com"
BASE_URL = f"https://{ORIGIN}/"
SUBJECT, IP = "ada@example.com", "203.0.113.77"


def texts():
    return content(version("terms", "2025-01-01", references=["privacy"]),
                   version("terms", "2026-01-01", material=True, references=["privacy"]),
                   version("privacy", "2025-01-01"))


def mth(leaves: list[bytes]) -> bytes:
    """The Merkle tree hash of RFC 9162, 2.1.1, computed the plain recursive way."""
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "keys" / "termsledger-signing.key"
    path.parent.mkdir()
    create_key(path, name=ORIGIN, at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    return path


@pytest.fixture
def settings(key):
    return ReceiptSettings(signing_key=key, controller="Quillbridge Learning Ltd.",
                           contact="legal@example.com", base_url=BASE_URL)


@pytest.fixture
def ledger(where, settings):
    with Ledger(where(), create=True, receipts=settings) as ledger:
        ledger.publish(texts())
        yield ledger


def place(event) -> str:
    """An event's place, as ``Ledger.receipt`` takes it."""
    return str(event.seq) if event.chain == 0 else f"{event.chain}.{event.seq}"


def unguarded(ledger, table: str) -> None:
    """Let raw SQL change ``table`` as someone with access to the database would: its triggers
    that keep it append-only are dropped."""
    if ledger.path.startswith("postgresql://"):
        sql(ledger, f"ALTER TABLE {table} DISABLE TRIGGER USER")
        return
    for (name,) in sql(ledger, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                               "tbl_name = ?", (table,)):
        sql(ledger, f"DROP TRIGGER {name}")


@pytest.fixture
def site(tmp_path):
    out = tmp_path / "site"
    site_builder.build(texts(), out, site_builder.SiteSettings(base_url=BASE_URL),
                       now=date(2026, 2, 1), processes=1)
    return out


def publish(ledger: Ledger, site, key) -> None:
    """What ``termsledger build`` does for the log: write its checkpoints and keys, mark them."""
    checkpoints = ledger.log.checkpoints()
    write_transparency(site, read_public_keys(public_keys_path(key)), [c.note for c in checkpoints])
    ledger.log.mark_published(c.size for c in checkpoints)


def test_the_sequencer_makes_the_events_leaves_in_order_in_batches(ledger, key):
    ledger.record_many({"subject": f"user-{i}", "document": "terms"} for i in range(300))
    assert ledger.log.size == 0 and ledger.log.pending() == 600  # each with its privacy member
    assert ledger.log.sequence(limit=250) == 250
    assert ledger.log.sequence_all() == 350 and ledger.log.sequence_all() == 0
    assert ledger.log.size == 600 and ledger.log.pending() == 0
    hashes = {(chain, seq): bytes(h) for chain, seq, h in sql(ledger, "SELECT chain, seq, hash FROM events")}
    runs = sql(ledger, "SELECT start, chain, seq, count FROM log_runs ORDER BY start")
    leaves = [(chain, seq + i) for _, chain, seq, count in runs for i in range(count)]
    assert sorted(leaves) == sorted(hashes)  # every event once, each chain's in order
    for chain in {c for c, _ in leaves}:
        assert [s for c, s in leaves if c == chain] == sorted(s for c, s in hashes if c == chain)
    signed = ledger.log.checkpoint()
    assert base64.b64decode(signed.root_hash) == mth([hashes[leaf] for leaf in leaves])
    chains = len({c for c, _ in leaves})
    assert len(runs) <= 2 * chains  # one row per chain and step, not per event
    if chains == 1:
        assert runs == [(0, 0, 1, 250), (250, 0, 251, 350)]
    assert [ledger.log.leaf_index(f"{c}.{s}" if c else str(s)) for c, s in leaves[:3]] == [0, 1, 2]
    late = ledger.record("late", "terms")[0]
    assert ledger.log.leaf_index(late) is None and ledger.log.leaf_index("9999") is None


def test_checkpoints_are_signed_kept_and_only_made_when_the_log_grew(ledger, key):
    ledger.record_many({"subject": f"user-{i}", "document": "privacy"} for i in range(5))
    first = ledger.log.checkpoint(at=datetime(2026, 3, 1, tzinfo=timezone.utc))
    assert (first.size, first.time, first.published) == (5, "2026-03-01T00:00:00Z", None)
    assert first.note.startswith(f"{ORIGIN}\n5\n{first.root_hash}\n\n\u2014 {ORIGIN} ")
    assert ledger.log.checkpoint() == first  # nothing new to sign
    ledger.record("one-more", "privacy")
    second = ledger.log.checkpoint()
    assert second.size == 6 and [c.size for c in ledger.log.checkpoints()] == [5, 6]
    keys = read_public_keys(public_keys_path(key))
    proof = ledger.log.consistency(5, 6)
    verify_extension(first.note, second.note, proof, keys)
    assert ledger.log.latest() is None and ledger.log.latest(published=False) == second
    assert ledger.log.mark_published([5]) == 1 and ledger.log.mark_published([5, 6]) == 1
    assert ledger.log.latest().size == 6 and ledger.log.latest().published is not None
    with pytest.raises(UnknownCheckpoint, match="no checkpoint of 7 leaves; its checkpoints are of 5, 6"):
        ledger.log.inclusion(0, size=7)


def test_a_checkpoint_is_not_signed_over_a_tree_changed_since_the_last(ledger):
    ledger.record_many({"subject": f"user-{i}", "document": "privacy"} for i in range(4))
    ledger.log.checkpoint()
    ledger.record("next", "privacy")
    ledger.log.sequence_all()
    unguarded(ledger, "log_tiles")  # rewrite a leaf, as someone covering a change would
    ((tile,),) = sql(ledger, "SELECT hashes FROM log_tiles WHERE level = 0 AND idx = 0")
    tile = bytes(tile)
    sql(ledger, "UPDATE log_tiles SET hashes = ? WHERE level = 0 AND idx = 0", (bytes(32) + tile[32:],))
    with pytest.raises(DamagedLog, match="leaf 0 of the log was changed: it no longer holds the "
                                         "hash of event .*, which the checkpoint of 4 leaves"):
        ledger.log.checkpoint()
    sql(ledger, "UPDATE log_tiles SET hashes = ? WHERE level = 0 AND idx = 0", (tile[:64],))
    with pytest.raises(DamagedLog, match="the log's tiles hold 2 leaves where the ledger counts 5"):
        ledger.log.checkpoint()


def test_the_log_is_signed_under_one_name(ledger, tmp_path):
    ledger.record("a", "privacy")
    ledger.log.checkpoint()
    other = tmp_path / "other.key"
    create_key(other, name="another.example")
    from consent.signing import load_key

    ledger.record("b", "privacy")
    with pytest.raises(SigningKeyError, match="signed as 'terms.example.com', the key as 'another.example'"):
        ledger.log.checkpoint(key=load_key(other))
    with Ledger(ledger.path) as keyless:
        with pytest.raises(SigningKeyError, match="no signing key"):
            keyless.log.checkpoint()


def test_every_decision_gets_a_receipt_that_verifies_against_the_site(ledger, site, key):
    events = ledger.record(SUBJECT, "terms", evidence={"ip": IP}, at="2026-01-15T10:00:00Z")
    own = ledger.receipt(events[0], with_salt=True)
    assert own.proof is None and own.salt is not None  # signed at once; proved once published
    data = json.loads(own.to_json())
    catalog = {v.id: v for d in ledger.catalog(datetime(2026, 1, 15)) if d.slug == "terms"
               for v in d.versions}
    assert data["manifestSha256"] == manifest([("terms", "2026-01-01", catalog["2026-01-01"].content_sha256),
                                               ("privacy", "2025-01-01", events[1].content_sha256)])[1]
    assert (data["document"], data["versionId"], data["action"], data["collectionMethod"]) == (
        "terms", "2026-01-01", "accepted", "api")
    assert data["policyUrl"] == f"{BASE_URL}terms/2026-01-01/" and data["eventHash"] == events[0].hash
    assert data["consentTimestamp"] == 1768471200
    assert data["piiControllers"][0]["contact"] == "legal@example.com"
    assert data["piiPrincipalId"] == commitment(SUBJECT, own.salt) and SUBJECT not in own.to_json()
    assert "subjectSalt" not in ledger.receipt(events[0]).to_dict()
    assert ledger.receipt(events[1]) == ledger.receipt(events[0])  # a member: its bundle's receipt
    assert ledger.receipt(own.receipt.id) == ledger.receipt(place(events[0]))
    assert ledger.export(SUBJECT)["receipts"] == [own.to_dict()]  # theirs, in a data request
    ledger.log.checkpoint()
    assert ledger.receipt(events[0]).proof is None  # signed, not yet published
    publish(ledger, site, key)
    proved = ledger.receipt(events[0], with_salt=True)
    assert proved.proof.leaf_index == 0 and proved.receipt == own.receipt
    result = verify_receipt(SignedReceipt.parse(proved.to_json()), Site(site), subject=SUBJECT)
    assert result.ok, result.problem


def test_declines_and_withdrawals_get_receipts_notices_do_not(ledger):
    declined = ledger.record("b", "privacy", "declined")
    withdrawn = ledger.record("c", "privacy", "withdrawn")
    assert ledger.receipt(declined[0]).receipt.manifest_sha256 is None
    assert ledger.receipt(withdrawn[0]).receipt.action == "withdrawn"
    ledger.record("d", "privacy")
    ledger.mark_notified(["d"], "privacy", "2025-01-01")
    notice = ledger.history("d")[-1]
    with pytest.raises(UnknownReceipt, match=f"no receipt was issued for event {place(notice)}: receipts"):
        ledger.receipt(notice)
    with pytest.raises(UnknownReceipt, match="no event 999 in the ledger"):
        ledger.receipt("999")
    with pytest.raises(UnknownReceipt, match="'not-a-receipt' is not a receipt id"):
        ledger.receipt("not-a-receipt")


def test_concurrent_decisions_each_get_the_receipt_of_their_own_event(ledger):
    """On PostgreSQL, records of many threads are appended together in a batch and their
    receipts signed in its transaction: each receipt signs its own event's hash."""
    def record(n: int):
        return ledger.record(f"s{n}", "terms" if n % 2 else "privacy", evidence={"n": n})

    with ThreadPoolExecutor(16) as pool:
        recorded = list(pool.map(record, range(64)))
    for n, events in enumerate(recorded):
        receipt = ledger.receipt(events[0], with_salt=True)
        assert receipt.receipt.event_hash == events[0].hash
        assert receipt.receipt.subject == commitment(f"s{n}", receipt.salt)
        assert receipt.receipt.document == ("terms" if n % 2 else "privacy")


def test_large_batches_at_once_each_sign_the_receipts_of_their_own_events(ledger):
    """On PostgreSQL a second large batch goes to the server while the first is still in its
    transaction (its receipts signed there): it waits for the chains they share, and each
    receipt signs its own event's hash."""
    def record(n: int):
        return ledger.record_many({"subject": f"b{n}-{k}", "document": "privacy"}
                                  for k in range(500))

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(record, range(3))) == [500] * 3
    assert sql(ledger, "SELECT count(*) FROM receipts") == [(1500,)]
    for n in range(3):
        (event,) = ledger.history(f"b{n}-7")
        receipt = ledger.receipt(event, with_salt=True)
        assert receipt.receipt.event_hash == event.hash
        assert receipt.receipt.subject == commitment(f"b{n}-7", receipt.salt)
    assert ledger.verify().ok


def test_without_settings_no_receipt_is_issued(tmp_path):
    with Ledger(tmp_path / "l.db", create=True) as ledger:  # the issuer is the same on both engines
        ledger.publish(texts())
        events = ledger.record("x", "privacy")
        assert ledger.receipt_settings is None
        with pytest.raises(UnknownReceipt, match="recorded while the ledger had a signing key"):
            ledger.receipt(events[0])


def test_a_rotated_key_signs_the_next_receipts_and_the_old_ones_still_verify(ledger, site, key):
    before = ledger.record("a", "privacy")
    rotate_key(key)  # while the ledger is open: the next receipt is signed with the new key
    after = ledger.record("b", "privacy")
    old, new = ledger.receipt(before[0]), ledger.receipt(after[0])
    current = read_public_keys(public_keys_path(key)).current
    assert old.key_id != new.key_id and new.key_id == current.key.key_id
    ledger.log.checkpoint()
    publish(ledger, site, key)
    for event in (before[0], after[0]):
        result = verify_receipt(ledger.receipt(event), Site(site))
        assert result.ok, result.problem


def test_erasure_changes_no_leaf_and_receipts_keep_verifying(ledger, site, key):
    events = ledger.record(SUBJECT, "terms", evidence={"ip": IP, "user_agent": "Firefox/125"})
    ledger.record_many({"subject": f"user-{i}", "document": "privacy"} for i in range(10))
    own = ledger.receipt(events[0], with_salt=True)
    ledger.log.checkpoint()
    publish(ledger, site, key)
    root = ledger.log.latest().root_hash
    ledger.erase(SUBJECT)
    ledger.log.checkpoint()
    publish(ledger, site, key)
    assert ledger.log.checkpoints()[0].root_hash == root  # no leaf changed
    after = ledger.receipt(events[0], with_salt=True)
    assert after.salt is None  # the salt went with the subject's personal fields
    proved = json.loads(after.to_json())
    proved["subjectSalt"] = json.loads(own.to_json())["subjectSalt"]  # the subject's own copy
    result = verify_receipt(SignedReceipt.parse(json.dumps(proved)), Site(site), subject=SUBJECT)
    assert result.ok, result.problem
    published = b"".join(p.read_bytes() for p in (site / "transparency").rglob("*") if p.is_file())
    shown = after.to_json().encode() + json.dumps(ledger.log.inclusion(0).to_dict()).encode()
    for secret in (SUBJECT, IP, "Firefox/125", sha256(SUBJECT.encode()).hexdigest()):
        assert secret.encode() not in published + shown


def test_the_log_and_receipts_are_append_only(ledger):
    ledger.record("a", "privacy")
    ledger.log.checkpoint()
    for statement, params in (("DELETE FROM receipts", ()), ("UPDATE receipts SET issued = 0", ()),
                              ("DELETE FROM receipt_claims", ()), ("DELETE FROM log_runs", ()),
                              ("UPDATE log_runs SET count = 9", ()), ("DELETE FROM log_checkpoints", ()),
                              ("UPDATE log_checkpoints SET root = ?", (bytes(32),)),
                              ("UPDATE log_tiles SET hashes = ?", (bytes(32),)),
                              ("DELETE FROM log_tiles", ())):
        with pytest.raises(Exception, match="append-only|are kept"):
            sql(ledger, statement, params)
    sql(ledger, "UPDATE log_checkpoints SET published = 1")  # set once
    with pytest.raises(Exception, match="only their publication is set"):
        sql(ledger, "UPDATE log_checkpoints SET published = 2")


def test_the_proof_is_against_the_latest_published_checkpoint_or_the_size_asked(ledger, site, key):
    first = [ledger.record(f"user-{i}", "privacy")[0] for i in range(3)]
    small = ledger.log.checkpoint()
    publish(ledger, site, key)
    later = [ledger.record(f"more-{i}", "privacy")[0] for i in range(3)]
    ledger.log.checkpoint()
    assert ledger.receipt(first[1]).proof.checkpoint == small.note  # the newer one is not published
    assert ledger.receipt(later[1]).proof is None
    with pytest.raises(UnknownCheckpoint, match="leaf 4 is in no published checkpoint yet"):
        ledger.log.inclusion(4)
    assert ledger.receipt(later[1], size=6).proof.leaf_index == ledger.log.leaf_index(later[1])
    assert ledger.log.inclusion(1, size=6).size == 6
    publish(ledger, site, key)
    assert ledger.receipt(later[1]).proof.checkpoint == ledger.log.latest().note
    assert verify_receipt(ledger.receipt(first[1], size=3), Site(site)).ok  # an older one still holds


def test_a_damaged_event_stops_the_sequencer_with_a_clear_error(ledger):
    events = [ledger.record(f"user-{i}", "privacy")[0] for i in range(3)]
    unguarded(ledger, "events")
    sql(ledger, "UPDATE events SET hash = ? WHERE chain = ? AND seq = ?",
        (b"\x00", events[1].chain, events[1].seq))
    with pytest.raises(DamagedLog, match=f"event {place(events[1])} has no valid hash"):
        ledger.log.sequence_all()
    assert ledger.log.size == 0  # nothing of the step was kept


def test_settings_that_cannot_go_in_a_receipt_are_refused(ledger, key):
    from consent import InvalidReceipt

    with pytest.raises(InvalidReceipt, match="the receipt settings cannot go in a receipt: field 'language'"):
        Ledger(ledger.path, receipts=ReceiptSettings(signing_key=key, controller="x", contact="y",
                                                     language=""))
    with pytest.raises(SigningKeyError, match="cannot read the signing key"):
        Ledger(ledger.path, receipts=ReceiptSettings(signing_key=key.with_name("missing.key"),
                                                     controller="", contact=""))


def test_issued_receipt_time_is_the_signing_time(ledger):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    events = ledger.record("t", "privacy", at="2025-05-05T05:05:05Z")
    receipt = ledger.receipt(events[0]).receipt
    assert receipt.consent_time == datetime(2025, 5, 5, 5, 5, 5, tzinfo=timezone.utc)
    assert before <= receipt.issued <= datetime.now(timezone.utc) + timedelta(seconds=1)


def test_a_rotation_half_done_signs_nothing_with_the_old_key(ledger, key):
    old = key.read_text()
    rotate_key(key)
    key.write_text(old)  # the record says the old key's period ended; its file is back
    with pytest.raises(SigningKeyError, match="is not the current key"):
        ledger.record("x", "privacy")
    assert ledger.history("x") == []  # refused as a whole: no decision without its receipt


def test_receipts_signed_from_prepared_claims_are_the_ones_verified(where, key, site):
    """The issuer fills a message prepared once per version, action and channel; a verifier
    serializes the receipt afresh (RFC 8785): the signature holds for settings of any text."""
    odd = ReceiptSettings(signing_key=key, controller='Quill "bridge" \\ Ltd. — 🦊 \u2028',
                          contact="légal\t@example.com", base_url=BASE_URL, language="fr-CA",
                          jurisdiction="Québec")
    with Ledger(where("odd"), create=True, receipts=odd) as ledger:
        ledger.publish(texts())
        events = [ledger.record(f"user-{i}", slug, action, channel=channel)[0]
                  for i, (slug, action, channel) in enumerate([
                      ("terms", "accepted", "web"), ("terms", "accepted", "web"),
                      ("privacy", "declined", "app"), ("terms", "withdrawn", "e-mail \u00e9")])]
        ledger.log.checkpoint()
        publish(ledger, site, key)
        for event in events:
            signed = ledger.receipt(event)
            result = verify_receipt(SignedReceipt.parse(signed.to_json()), Site(site))
            assert result.ok, result.problem
        assert sql(ledger, "SELECT count(*) FROM receipt_claims") == [(3,)]  # two share theirs


def test_a_copied_ledger_keeps_its_log_checkpoints_and_receipts(tmp_path, settings, postgres):
    from consent.copy import copy_ledger

    source, database, back = tmp_path / "source.db", postgres.location(), tmp_path / "back.db"
    with Ledger(source, create=True, receipts=settings) as ledger:
        ledger.publish(texts())
        events = [ledger.record(f"user-{i}", "privacy")[0] for i in range(5)]
        signed = ledger.log.checkpoint()
        receipts = [ledger.receipt(e) for e in events]
    copy_ledger(source, database)
    copy_ledger(database, back)
    for location in (database, back):
        with Ledger(location, receipts=settings) as copied:
            assert copied.log.checkpoints() == [signed]
            assert [copied.receipt(e) for e in events] == receipts
            copied.record("after", "privacy")  # the log goes on from where it was
            later = copied.log.checkpoint()
            assert later.size == 6
            proof = copied.log.consistency(5, 6)
            verify_extension(signed.note, later.note, proof,
                             read_public_keys(public_keys_path(settings.signing_key)))


# The log checked against the events (consent.ledger_log.check_log), as `consent verify` and
# `log checkpoint` do: the tampering an adversary with the database would try.

def log_problem(ledger: Ledger) -> str | None:
    """What ``verify`` finds wrong (with the log, in these tests)."""
    result = ledger.verify()
    return None if result.ok else result.problem


def rehash(ledger: Ledger, event, evidence: str) -> None:
    """Edit ``event``'s evidence, recompute its hash and its chain's head, as someone with the
    database covering the edit would (the last event of its chain: the chain still verifies)."""
    for table in ("events", "personal", "chains"):
        unguarded(ledger, table)
    ((at, sid, subject, slug, number, sha, action, channel, part_of, language, salt, prev),) = sql(
        ledger, "SELECT e.at, e.subject, s.subject, d.slug, v.version, v.content_sha256, e.action, "
                "e.channel, e.part_of, e.language, p.salt, (SELECT b.hash FROM events b WHERE "
                "b.chain = e.chain AND b.seq = e.seq - 1) FROM events e JOIN subjects s ON "
                "s.id = e.subject JOIN versions v ON v.id = e.version JOIN documents d ON "
                "d.id = v.document JOIN personal p ON p.chain = e.chain AND p.seq = e.seq "
                "WHERE e.chain = ? AND e.seq = ?", (event.chain, event.seq))
    hashed = event_hash(bytes(prev) if prev is not None else GENESIS,
                        header(event.chain, event.seq, at, sid, slug, number, sha, action, channel,
                               part_of, language),
                        personal_digest(bytes(salt), subject, evidence))
    sql(ledger, "UPDATE personal SET evidence = ? WHERE chain = ? AND seq = ?",
        (evidence, event.chain, event.seq))
    sql(ledger, "UPDATE events SET hash = ? WHERE chain = ? AND seq = ?",
        (hashed, event.chain, event.seq))
    sql(ledger, "UPDATE chains SET head = ? WHERE id = ?", (hashed, event.chain))


def logged(ledger: Ledger, count: int = 4) -> tuple[list, object]:
    """``count`` decisions (each its subject's, so each the last of its chain on PostgreSQL),
    sequenced and signed."""
    events = [ledger.record(f"user-{i}", "privacy", evidence={"ip": f"10.1.0.{i}"})[0]
              for i in range(count)]
    return events, ledger.log.checkpoint(at=datetime(2026, 3, 1, tzinfo=timezone.utc))


def leaf_event(ledger: Ledger, index: int) -> str:
    """The place of the event at leaf ``index``, as the log's runs say."""
    ((start, chain, seq),) = sql(ledger, "SELECT start, chain, seq FROM log_runs WHERE start <= ? "
                                         "ORDER BY start DESC LIMIT 1", (index,))
    return f"{chain}.{seq + index - start}" if chain else str(seq + index - start)


def refused(ledger: Ledger, problem: str) -> None:
    """``log checkpoint`` refuses with ``problem`` and writes nothing to the log."""
    before = (ledger.log.size, ledger.log.checkpoints())
    with pytest.raises(DamagedLog) as refusal:
        ledger.log.checkpoint()
    assert str(refusal.value) == problem
    assert (ledger.log.size, ledger.log.checkpoints()) == before


def test_a_sound_log_checks_with_erasures_chains_and_checkpoints(ledger):
    assert log_problem(ledger) is None  # nothing logged yet
    ledger.record_many({"subject": f"user-{i}", "document": "privacy"} for i in range(5))
    ledger.log.checkpoint()
    ledger.record_many({"subject": f"more-{i}", "document": "privacy"} for i in range(251))
    ledger.log.checkpoint()  # at a whole tile
    ledger.record_many({"subject": f"user-{i}", "document": "terms"} for i in range(300))
    ledger.log.sequence(limit=100)
    assert log_problem(ledger) is None  # events not yet sequenced are no problem
    ledger.log.checkpoint()
    ledger.erase("user-3")  # an event too
    ledger.record("after", "privacy")
    ledger.log.checkpoint()
    ledger.erase("after")
    sizes = [c.size for c in ledger.log.checkpoints()]
    assert sizes == [5, 256, 856, 858] and ledger.log.size == 858  # tiles full and not, a level above
    assert log_problem(ledger) is None
    if ledger.path.startswith("postgresql://"):
        assert len({chain for (chain,) in sql(ledger, "SELECT chain FROM log_runs")}) > 1


def test_an_event_re_hashed_after_it_was_logged_is_found(ledger):
    events, signed = logged(ledger)
    rehash(ledger, events[3], '{"ip":"6.6.6.6"}')
    problem = (f"event {place(events[3])} was changed after it entered the log: its hash is no "
               f"longer the one leaf {ledger.log.leaf_index(events[3])} holds, which the "
               f"checkpoint of 4 leaves signed {signed.time} includes")
    assert log_problem(ledger) == problem
    ledger.record("r-new", "privacy")
    refused(ledger, problem)  # nor is the new event sequenced over it


def test_a_checkpoint_edited_or_not_the_trees_is_found(ledger):
    events, signed = logged(ledger)
    unguarded(ledger, "log_checkpoints")
    sql(ledger, "UPDATE log_checkpoints SET root = ?", (bytes(32),))
    problem = (f"the checkpoint of 4 leaves signed {signed.time} does not match its signed note "
               f"(of 4 leaves, root hash {signed.root_hash}): log_checkpoints was edited")
    assert log_problem(ledger) == problem
    refused(ledger, problem)
    zero = base64.b64encode(bytes(32)).decode()  # the note edited too (its signature no longer holds)
    sql(ledger, "UPDATE log_checkpoints SET note = ?", (signed.note.replace(signed.root_hash, zero),))
    problem = (f"the log's tree of 4 leaves no longer has the root hash of its checkpoint signed "
               f"{signed.time}: the checkpoint, or the log and its events before it, were changed "
               f"since it was signed")
    assert log_problem(ledger) == problem
    refused(ledger, problem)


def test_leaves_and_tiles_edited_are_found(ledger):
    events, signed = logged(ledger)
    unguarded(ledger, "log_tiles")
    ((tile,),) = sql(ledger, "SELECT hashes FROM log_tiles WHERE level = 0 AND idx = 0")
    tile = bytes(tile)
    sql(ledger, "UPDATE log_tiles SET hashes = ?", (bytes(len(tile)),))  # every leaf zeroed
    problem = (f"leaf 0 of the log does not hold the hash of event {leaf_event(ledger, 0)}: the "
               f"event, or the log's tiles, were changed outside termsledger")
    assert log_problem(ledger) == problem
    refused(ledger, problem)
    sql(ledger, "UPDATE log_tiles SET hashes = ?", (tile[:32] + bytes(32) + tile[64:],))  # one leaf
    problem = (f"leaf 1 of the log was changed: it no longer holds the hash of event "
               f"{leaf_event(ledger, 1)}, which the checkpoint of 4 leaves signed {signed.time} "
               f"includes")
    assert log_problem(ledger) == problem
    refused(ledger, problem)
    sql(ledger, "UPDATE log_tiles SET hashes = ?", (tile,))
    assert log_problem(ledger) is None


def test_a_tile_above_the_leaves_edited_is_found(ledger):
    ledger.record_many({"subject": f"user-{i}", "document": "privacy"} for i in range(600))
    ledger.log.checkpoint()
    unguarded(ledger, "log_tiles")
    ((tile,),) = sql(ledger, "SELECT hashes FROM log_tiles WHERE level = 1 AND idx = 0")
    sql(ledger, "UPDATE log_tiles SET hashes = ? WHERE level = 1", (bytes(len(bytes(tile))),))
    assert log_problem(ledger) == ("the log's tile 1/0 does not hold the hashes of the leaves "
                                   "below it: the log's tiles were changed outside termsledger")


def test_runs_deleted_or_edited_are_found_and_nothing_is_sequenced_twice(ledger):
    events, signed = logged(ledger)
    runs = sql(ledger, "SELECT start, chain, seq, count FROM log_runs ORDER BY start")
    unguarded(ledger, "log_runs")
    sql(ledger, "DELETE FROM log_runs")
    problem = ("the log's leaves 0 to 3 name no event (no run of log_runs holds them): the log "
               "was changed outside termsledger")
    assert log_problem(ledger) == problem
    refused(ledger, problem)
    with pytest.raises(DamagedLog, match="the log's runs end at leaf 0 where the ledger counts 4 "
                                         "leaves"):
        ledger.log.sequence_all()  # the server's sequencer does not place them again either
    assert sql(ledger, "SELECT count(*) FROM log_runs") == [(0,)]
    sql(ledger, "INSERT INTO log_runs (start, chain, seq, count) VALUES (?, ?, ?, ?)"
                + ", (?, ?, ?, ?)" * (len(runs) - 1), [value for run in runs for value in run])
    assert log_problem(ledger) is None  # put back
    sql(ledger, "UPDATE log_runs SET seq = seq + 1 WHERE start = 0")  # names the event after
    chain = runs[0][1]
    assert log_problem(ledger) == (f"the log's run at leaf 0 starts at event "
                                   f"{f'{chain}.' if chain else ''}2 where "
                                   f"{f'{chain}.' if chain else ''}1 was next: log_runs was edited")


def test_an_event_in_two_runs_and_a_size_edited_are_found(ledger):
    events, signed = logged(ledger, 2)
    unguarded(ledger, "log_runs")
    sql(ledger, "DROP INDEX log_runs_event")  # which refuses a second run of an event
    ((chain, seq),) = sql(ledger, "SELECT chain, seq FROM log_runs WHERE start = 0")
    sql(ledger, "INSERT INTO log_runs (start, chain, seq, count) VALUES (2, ?, ?, 1)", (chain, seq))
    sql(ledger, "UPDATE meta SET value = 3 WHERE key = 'log_size'")
    assert log_problem(ledger) == ("the log's tiles hold 2 leaves where the ledger counts 3: the "
                                   "log was changed outside termsledger")
    ((tile,),) = sql(ledger, "SELECT hashes FROM log_tiles WHERE level = 0 AND idx = 0")
    unguarded(ledger, "log_tiles")
    sql(ledger, "UPDATE log_tiles SET hashes = ?", (bytes(tile) + bytes(tile)[:32],))
    name = f"{chain}.{seq}" if chain else str(seq)
    assert log_problem(ledger) == (f"event {name} is in the log twice (again at leaf 2): log_runs "
                                   f"was edited, or the events were sequenced again after it was")
