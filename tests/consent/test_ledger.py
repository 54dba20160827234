"""The consent ledger's Python API: catalog, recording, status, worklist, idempotency."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
from support.ledger import content, example, sql, version, version_rowid
from support.repo import front

import terms
from consent import (
    ChangedVersion,
    IdempotencyConflict,
    InvalidContent,
    InvalidCursor,
    InvalidEvidence,
    InvalidRecord,
    InvalidSubject,
    Ledger,
    LedgerNotFound,
    NotALedger,
    UncommittedVersion,
    UnpublishedDocument,
    UnpublishedVersion,
)


@pytest.fixture
def ledger(where):
    with Ledger(where("ledger.db"), create=True) as ledger:
        ledger.publish(example())
        yield ledger


def status(ledger, subject, document, at):
    return ledger.status(subject, document, at=datetime.fromisoformat(at)).status


def test_publish_is_idempotent_and_counts(where):
    with Ledger(where("l.db"), create=True) as ledger:
        first = ledger.publish(example())
        assert len(first.added) == 6 and first.unchanged == 0
        again = ledger.publish(example())
        assert again.added == () and again.updated == () and again.unchanged == 6


def test_publish_refuses_a_changed_text_and_publishes_nothing(ledger):
    changed = content(version("terms", "2024-01-01", body="# terms\n\nRewritten.\n"),
                      version("new-doc", "2024-01-01"))
    with pytest.raises(ChangedVersion, match=r"terms version 2024-01-01 was published with "
                                             r"content_sha256 [0-9a-f]{64} and now has"):
        ledger.publish(changed)
    assert "new-doc" not in [d.slug for d in ledger.catalog()]


PARROT = "# Terms\n\nGuests may bring a parrot.\n"
DOG = "# Terms\n\nGuests may bring a green parrot.\n"
WATCH = ("parrots?",)
"""With this watch-list, the change between PARROT and DOG is material; without, it is not."""


def test_publish_takes_the_analysis_verdict_where_no_flag(where):
    plain = content(version("terms", "2024-01-01", body=PARROT),
                    version("terms", "2098-01-01", body=DOG),
                    version("terms", "2099-01-01", material=False, body=PARROT))
    with Ledger(where("l.db"), create=True) as ledger:
        ledger.publish(plain)
        ledger.record("u", "terms", version="2024-01-01", at="2024-02-01")
        assert status(ledger, "u", "terms", "2098-02-01") == "notify"
        assert ledger.publish(plain, watch=WATCH).updated == (("terms", "2098-01-01"),
                                                              ("terms", "2099-01-01"))
        assert status(ledger, "u", "terms", "2098-02-01") == "reaccept"
        versions = {v.id: v for v in ledger.catalog()[0].versions}
        assert versions["2099-01-01"].material is False  # the editor's flag decides
        assert versions["2099-01-01"].verdict is True
        assert ledger.publish(plain, watch=WATCH).unchanged == 3
        assert status(ledger, "u", "terms", "2098-02-01") == "reaccept"


def test_publish_refuses_content_with_errors_and_publishes_nothing(where):
    broken = content(version("terms", "2024-01-01", references=["nope"]))
    with Ledger(where("l.db"), create=True) as ledger:
        with pytest.raises(InvalidContent, match=r"^nothing published: the content has 1 "
                                                 r"error\(s\) \(terms.md:1: error: references "
                                                 r"'nope', but no document has that slug") as caught:
            ledger.publish(broken)
        assert [p.severity for p in caught.value.problems] == ["error"]
        assert ledger.catalog() == []


def test_materiality_of_a_version_in_force_stays_as_published(ledger, where):
    plain = content(version("terms", "2024-01-01", body=PARROT),
                    version("terms", "2025-01-01", body=DOG))
    with Ledger(where("l.db"), create=True) as other:
        other.publish(plain)
        other.record("v", "terms", version="2024-01-01", at="2024-02-01")
        published = other.publish(plain, watch=WATCH)
        assert (published.updated, published.kept) == ((), (("terms", "2025-01-01"),))
        assert published.to_dict()["kept"] == [["terms", "2025-01-01"]]
        assert status(other, "v", "terms", "2025-02-01") == "notify"  # not moved to reaccept
        assert other.catalog()[0].versions[1].verdict is False
    ledger.record("v", "terms", version="2024-01-01", at="2024-02-01")
    flipped = content(*[v if v.id != "2025-01-01" or v.slug != "terms" else
                        version("terms", "2025-01-01", material=True, references=["privacy"])
                        for d in example().documents.values() for v in d.versions])
    with pytest.raises(ChangedVersion, match=r"terms version 2025-01-01 is in force and was "
                                             r"published with material: false; it now says "
                                             r"material: true"):
        ledger.publish(flipped)
    assert status(ledger, "v", "terms", "2025-02-01") == "notify"
    announced = content(*[v if v.id != "2099-01-01" else
                          version("terms", "2099-01-01", material=False, references=["privacy"])
                          for d in example().documents.values() for v in d.versions])
    assert ledger.publish(announced).updated == (("terms", "2099-01-01"),)


def test_catalog_lists_in_force_and_announced(ledger):
    listing = {d.slug: d for d in ledger.catalog(at=datetime(2026, 3, 1))}
    assert listing["terms"].in_force.id == "2026-01-01"
    assert [v.id for v in listing["terms"].announced] == ["2099-01-01"]
    assert listing["terms"].announced[0].material is True
    assert listing["privacy"].in_force.id == "2025-06-01"
    data = listing["terms"].to_dict()
    assert data["in_force"]["manifest"].startswith("terms 2026-01-01 ")
    assert len(data["versions"]) == 4


def test_status_transitions_across_versions_and_dates(ledger):
    assert status(ledger, "ann", "terms", "2024-06-01") == "never"
    ledger.record("ann", "terms", at="2024-06-01T12:00:00")
    assert status(ledger, "ann", "terms", "2024-06-01") == "never"  # that midnight: not yet
    assert status(ledger, "ann", "terms", "2024-06-02") == "announced"  # 2026 is material
    assert status(ledger, "ann", "privacy", "2025-01-01") == "current"
    assert status(ledger, "ann", "terms", "2025-02-01") == "notify"  # 2025 is not material
    assert status(ledger, "ann", "terms", "2026-02-01") == "reaccept"  # 2026 is
    ledger.mark_notified(["ann"], "terms", "2025-01-01", at=datetime(2025, 1, 20))
    assert status(ledger, "ann", "terms", "2025-01-19") == "notify"
    assert status(ledger, "ann", "terms", "2025-02-01") == "current"
    assert status(ledger, "ann", "terms", "2026-02-01") == "reaccept"
    ledger.record("ann", "terms", version="2026-01-01", at="2025-12-20")  # accepted ahead
    assert status(ledger, "ann", "terms", "2025-12-21") == "announced"
    ledger.record("ann", "terms", at="2026-02-01")
    got = ledger.status("ann", "terms", at=datetime(2026, 2, 1))
    assert (got.status, got.accepted_version, got.current_version, got.announced_version) == (
        "announced", "2026-01-01", "2026-01-01", "2099-01-01")
    assert status(ledger, "ann", "terms", "2099-01-02") == "reaccept"


def test_announced_material_version_before_it_takes_effect(ledger):
    ledger.record("bo", "terms", version="2025-01-01", at="2025-03-01")
    assert status(ledger, "bo", "terms", "2025-03-01") == "announced"  # 2026 material, upcoming
    assert status(ledger, "bo", "privacy", "2025-03-01") == "current"


def test_withdrawal_decline_and_order_of_events(ledger):
    ledger.record("cy", "terms", action="declined", at="2026-02-01")
    assert status(ledger, "cy", "terms", "2026-02-01") == "never"
    ledger.record("cy", "terms", at="2026-02-02")
    ledger.record("cy", "terms", action="declined", version="2099-01-01", at="2026-02-03")
    assert status(ledger, "cy", "terms", "2026-02-03") == "announced"
    ledger.record("cy", "terms", action="withdrawn", at="2026-03-01")
    got = ledger.status("cy", "terms", at=datetime(2026, 3, 1))
    assert (got.status, got.accepted_version) == ("withdrawn", "2026-01-01")
    ledger.record("cy", "terms", at="2026-02-15")  # imported late: the withdrawal is newer
    assert status(ledger, "cy", "terms", "2026-03-01") == "withdrawn"
    ledger.record("cy", "terms", at="2026-04-01")
    assert status(ledger, "cy", "terms", "2026-04-01") == "announced"


def test_accepting_a_document_accepts_its_bundle(ledger):
    events = ledger.record("di", "terms", at="2025-03-01", evidence={"ip": "192.0.2.1"})
    assert [(e.document, e.version, e.part_of) for e in events] == [
        ("terms", "2025-01-01", None), ("privacy", "2024-01-01", events[0].seq)]
    assert events[0].evidence == {"ip": "192.0.2.1"} and events[1].evidence is None
    later = ledger.record("di", "terms", at="2025-07-01")  # privacy 2025-06-01 now in force
    assert later[1].version == "2025-06-01"
    explicit = ledger.record("di", "terms", version="2025-01-01", at="2025-07-01")
    assert explicit[1].version == "2025-06-01"  # the bundle as in force when accepted
    declined = ledger.record("di", "terms", action="declined", at="2025-07-01")
    assert len(declined) == 1


def test_sha256_must_be_the_text_or_the_bundle_manifest(ledger):
    listing = {d.slug: d for d in ledger.catalog(at=datetime(2026, 3, 1))}
    terms_now = listing["terms"].in_force
    ledger.record("ed", "terms", at="2026-03-01", sha256=terms_now.content_sha256)
    ledger.record("ed", "terms", at="2026-03-01", sha256=terms_now.manifest_sha256)
    with pytest.raises(UnpublishedVersion, match=r"sha256 'f+' is neither any text of terms "
                                             r"2026-01-01 nor the manifest of its bundle"):
        ledger.record("ed", "terms", at="2026-03-01", sha256="f" * 64)



def test_accepting_a_named_version_accepts_the_references_in_force_then(where):
    with Ledger(where("l.db"), create=True) as ledger:
        ledger.publish(content(version("terms", "2025-01-01", references=["privacy"]),
                               version("terms", "2099-01-01", references=["privacy"]),
                               version("privacy", "2025-01-01"),
                               version("privacy", "2025-06-01", material=True),
                               version("privacy", "2098-01-01")))
        named = ledger.record("fi", "terms", version="2025-01-01", at="2025-07-01")
        assert [e.version for e in named] == ["2025-01-01", "2025-06-01"]
        assert status(ledger, "fi", "privacy", "2025-07-01") == "current"
        early = ledger.record("fi", "terms", version="2099-01-01", at="2025-07-02")
        assert [e.version for e in early] == ["2099-01-01", "2098-01-01"]  # as on its first day


def test_the_catalog_manifest_is_the_bundle_accepted_at_that_time(ledger):
    listing = {d.slug: d for d in ledger.catalog(at=datetime(2025, 7, 1))}
    shown = listing["terms"].in_force
    assert shown.manifest.splitlines()[1].startswith("privacy 2025-06-01 ")
    events = ledger.record("gi", "terms", at="2025-07-01", sha256=shown.manifest_sha256)
    assert [e.version for e in events] == ["2025-01-01", "2025-06-01"]
    announced = listing["terms"].announced[0]
    ledger.record("gi", "terms", version=announced.id, at="2025-07-01",
                  sha256=announced.manifest_sha256)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"subject": ""}, InvalidSubject, "subject must not be empty"),
    ({"subject": "x" * 257}, InvalidSubject, "subject must be at most 256 characters, not 257"),
    ({"subject": 42}, InvalidSubject, "subject must be text, not 42"),
    ({"subject": "erased:abc"}, InvalidSubject, "subject must not start with 'erased:'"),
    ({"evidence": ["ip"]}, InvalidEvidence, "evidence must be a JSON object, not list: ['ip']"),
    ({"evidence": '{"ip": 1}'}, InvalidEvidence, "evidence must be a JSON object, not str"),
    ({"evidence": {"when": datetime.now()}}, InvalidEvidence, "evidence must be a JSON object: "
                                                              "Object of type datetime"),
    ({"evidence": {"big": "x" * 70000}}, InvalidEvidence, "evidence must be at most 65536"),
    ({"evidence": {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}, InvalidEvidence,
     "evidence must be nested at most 32 levels deep (objects and arrays, the evidence itself the "
     "first)"),
    ({"document": "nope"}, UnpublishedDocument, "document 'nope' is not published; the published "
                                            "documents are: privacy, terms"),
    ({"version": "2023-01-01"}, UnpublishedVersion, "version '2023-01-01' of 'terms' is not "
                                                "published; its published versions are: "
                                                "2024-01-01, 2025-01-01, 2026-01-01, 2099-01-01"),
    ({"at": "2023-05-01"}, UnpublishedVersion, "no published version of 'terms' is in force on "
                                           "2023-05-01"),
    ({"action": "notified"}, InvalidRecord, "action must be one of accepted, declined, "
                                            "withdrawn, not 'notified'"),
    ({"channel": ""}, InvalidRecord, "channel must be printable text of 1 to 64 characters, not ''"),
    ({"at": "yesterday"}, InvalidRecord, "at must be an ISO-8601 date and time, not 'yesterday'"),
    ({"at": 12}, InvalidRecord, "at must be a date and time, not 12"),
    ({"at": "2999-01-01"}, InvalidRecord, "at '2999-01-01' is in the future: a decision is recorded "
                                          "once made (at defaults to now)"),
])
def test_refused_inputs(ledger, kwargs, error, message):
    arguments = {"subject": "fi", "document": "terms"} | kwargs
    with pytest.raises(error) as caught:
        ledger.record(**arguments)
    assert str(caught.value).startswith(message)
    assert ledger.history("fi") == []


def test_record_many_is_atomic(ledger):
    records = [{"subject": f"s{i}", "document": "terms", "at": "2026-02-01"} for i in range(5)]
    assert ledger.record_many(records) == 10  # each with its privacy bundle member
    with pytest.raises(InvalidSubject):
        ledger.record_many([{"subject": "ok", "document": "terms"}, {"subject": "", "document": "terms"}])
    assert ledger.history("ok") == []
    assert [s.status for s in ledger.statuses(["s1", "zz", "s4"], "terms",
                                              at=datetime(2026, 2, 1))] == ["announced", "never", "announced"]


def test_statuses_and_status_all(ledger):
    ledger.record("gi", "terms", at="2024-02-01")
    got = ledger.statuses(["gi", "nobody", "gi"], "terms", at=datetime(2024, 3, 1))
    assert [(s.subject, s.status) for s in got] == [("gi", "announced"), ("nobody", "never"),
                                                    ("gi", "announced")]
    assert {s.document: s.status for s in ledger.status_all("gi", at=datetime(2025, 7, 1))} == {
        "privacy": "notify", "terms": "notify"}
    assert ledger.status("gi", "terms").to_dict()["subject"] == "gi"


def test_pending_notifications_and_idempotent_mark(ledger):
    ledger.record("a1", "terms", at="2024-02-01")
    ledger.record("a2", "terms", at="2025-02-01")
    ledger.record("a3", "terms", at="2026-02-01")
    ledger.record("a4", "terms", at="2024-02-01")
    ledger.record("a4", "terms", action="withdrawn", at="2024-03-01")
    assert list(ledger.pending_notifications("terms", "2026-01-01")) == ["a1", "a2"]
    assert list(ledger.pending_notifications("terms", "2025-01-01")) == ["a1"]
    assert list(ledger.pending_notifications("terms", "2024-01-01")) == []
    assert ledger.mark_notified(["a1", "a2"], "terms", "2026-01-01") == 2
    assert ledger.mark_notified(["a1", "a2"], "terms", "2026-01-01") == 0
    assert ledger.mark_notified(["a1"], "terms", "2025-01-01") == 0  # told of a later one
    assert list(ledger.pending_notifications("terms", "2026-01-01")) == []
    assert list(ledger.pending_notifications("terms", "2099-01-01")) == ["a1", "a2", "a3"]
    assert list(ledger.pending_notifications("terms", "2099-01-01", limit=2)) == ["a1", "a2"]
    assert [e.action for e in ledger.history("a1")][-1] == "notified"


def test_mark_notified_leaves_out_subjects_who_never_accepted(ledger):
    ledger.record("b1", "terms", at="2025-02-01")
    ledger.record("b2", "terms", action="declined", at="2025-02-01")
    marked = ledger.mark_notified(["b1", "b2", "typo"], "terms", "2026-01-01")
    assert marked == 1 and marked.unknown == ("b2", "typo")
    assert marked.to_dict() == {"marked": 1, "unknown": ["b2", "typo"]}
    assert ledger.history("typo") == [] and [e.action for e in ledger.history("b2")] == ["declined"]
    assert sql(ledger, "SELECT count(*) FROM subjects WHERE subject = 'typo'") == [(0,)]


def test_pending_pages_neither_skip_nor_repeat_while_events_arrive(ledger):
    ledger.record_many({"subject": f"p{i:03}", "document": "terms", "at": "2024-02-01"}
                       for i in range(25))
    seen, cursor, round = [], None, 0
    while True:
        page = ledger.pending_page("terms", "2026-01-01", cursor=cursor, limit=10)
        seen.extend(page.subjects)
        round += 1
        ledger.record(f"late{round}", "terms", version="2024-01-01", at="2024-02-01")
        ledger.record(f"fresh{round}", "terms", at="2026-02-01")
        ledger.mark_notified(page.subjects[:2], "terms", "2026-01-01")
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen))
    assert set(seen) >= {f"p{i:03}" for i in range(25)}
    assert not any(s.startswith("fresh") for s in seen)


def test_bad_cursors_are_refused(ledger):
    ledger.record_many({"subject": f"q{i}", "document": "terms", "at": "2024-02-01"} for i in range(3))
    page = ledger.pending_page("terms", "2026-01-01", limit=1)
    with pytest.raises(InvalidCursor, match="belongs to another document or version"):
        ledger.pending_page("terms", "2025-01-01", cursor=page.next_cursor)
    with pytest.raises(InvalidCursor, match="cursor 'garbage!' is not one this ledger handed out"):
        ledger.pending_page("terms", "2026-01-01", cursor="garbage!")


def test_idempotent_stores_the_first_response_with_its_writes(ledger):
    def accept():
        events = ledger.record("ho", "terms", at="2026-02-01")
        return {"seq": events[0].seq}

    first = ledger.idempotent("key-1", "ho", accept, fingerprint="a")
    again = ledger.idempotent("key-1", "ho", accept, fingerprint="a")
    assert first == (again[0], False) and again[1] is True
    assert len(ledger.history("ho")) == 2  # one acceptance and its bundle member
    with pytest.raises(IdempotencyConflict, match="idempotency key 'key-1' was used for another"):
        ledger.idempotent("key-1", "ho", accept, fingerprint="b")

    def failing():
        ledger.record("ho", "terms", at="2026-02-01")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        ledger.idempotent("key-2", "ho", failing)
    assert len(ledger.history("ho")) == 2
    assert ledger.idempotent("key-2", "ho", lambda: {"ok": True}) == ({"ok": True}, False)


def test_idempotent_calls_at_once_with_one_key_run_once_and_replay(ledger):
    """Threads retrying one request at once (as a client whose first try timed out): one runs
    it, the others wait for its commit and replay its response; none fails."""
    import threading
    import time

    def accept():
        events = ledger.record("race", "terms", at="2026-02-01")
        time.sleep(0.2)  # the others arrive while this transaction is open
        return {"seq": events[0].seq}

    start = threading.Barrier(6)
    results: list = []
    errors: list = []

    def call():
        start.wait()
        try:
            results.append(ledger.idempotent("same-key", "race", accept, fingerprint="a"))
        except Exception as error:  # what the test is about
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(replayed for _, replayed in results) == [False] + [True] * 5
    assert len({repr(response) for response, _ in results}) == 1
    assert len(ledger.history("race")) == 2  # recorded once: an acceptance and its bundle member


def test_the_version_announced_is_the_one_that_will_take_effect_not_one_replaced(content_repo, where):
    """A material version replaced before it takes effect by a second one of the same day (a
    label): users are told of the second, the text that will apply."""
    page = front(title="Terms", slug="terms", effective="2024-01-01", summary="First") + "Be nice.\n"
    content_repo.commit("2023-12-01T09:00:00", **{"terms.md": page})
    fees = page.replace("2024-01-01", "2099-01-01").replace("summary: First", "summary: Fees\nmaterial: true")
    content_repo.commit("2025-01-01T09:00:00", **{"terms.md": fees.replace("Be nice.", "Be nice. Pay fees.")})
    fixed = page.replace("2024-01-01", "2099-01-01\nlabel: fixed").replace(
        "summary: First", "summary: A typo\nmaterial: false")
    fixed = fixed.replace("Be nice.", "Be nice. Pay the fees.")
    content_repo.commit("2025-02-01T09:00:00", **{"terms.md": fixed})
    with Ledger(where("l.db"), create=True) as ledger:
        ledger.publish(terms.load(content_repo.path), required=["terms"])
        ledger.record("iv", "terms", at="2025-03-01")
        assert ledger.status("iv", "terms", at=datetime(2025, 6, 1)).announced_version == "2099-01-01-fixed"
        [item] = ledger.required("iv", at="2025-06-01").required
        assert (item.action, item.version) == ("announce", "2099-01-01-fixed")


def test_a_catalog_published_from_a_git_repository(content_repo, where):
    content_repo.commit("2025-01-01T09:00:00", **{"terms.md": front(
        title="Terms", slug="terms", effective="2025-02-01", summary="First") + "Be nice.\n"})
    content_repo.commit("2025-05-01T09:00:00", **{"terms.md": front(
        title="Terms", slug="terms", effective="2025-06-01", summary="Fees", material=True)
        + "Be nice. Pay fees.\n"})
    loaded = terms.load(content_repo.path)
    with Ledger(where("l.db"), create=True) as ledger:
        assert [p[1] for p in ledger.publish(loaded).added] == ["2025-02-01", "2025-06-01"]
        content_repo.write("terms.md", front(title="Terms", slug="terms", effective="2099-01-01",
                                             summary="Draft") + "Be nice. Pay fees. Smile.\n")
        draft = terms.load(content_repo.path)
        with pytest.raises(UncommittedVersion, match=r"terms version 2099-01-01 \(terms.md\) is "
                                                     r"not committed to git"):
            ledger.publish(draft)
        assert len(ledger.catalog()[0].versions) == 2
        assert ledger.publish(draft, allow_uncommitted=True).added == (("terms", "2099-01-01"),)
        catalog_version = ledger.catalog()[0].versions[0]
        assert catalog_version.commit == loaded.documents["terms"].versions[0].commit
        ledger.record("iv", "terms", at="2025-03-01")
        assert status(ledger, "iv", "terms", "2025-05-15") == "announced"
        assert status(ledger, "iv", "terms", "2025-06-02") == "reaccept"


def test_opening_needs_an_existing_ledger_and_create_makes_one(tmp_path):
    missing = tmp_path / "typo.db"
    with pytest.raises(LedgerNotFound, match=r"no ledger at .*typo.db: the file does not exist"):
        Ledger(missing)
    assert not missing.exists() and list(tmp_path.iterdir()) == []
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    with pytest.raises(NotALedger, match=r"notes.txt is not a termsledger ledger: not an SQLite"):
        Ledger(text)
    with pytest.raises(NotALedger, match=r"notes.txt is not a termsledger ledger: not an SQLite"):
        Ledger(text, create=True)
    assert text.read_text() == "not a database"
    with Ledger(missing, create=True) as ledger:
        ledger.publish(example())
    with Ledger(missing) as ledger:
        assert [d.slug for d in ledger.catalog()] == ["privacy", "terms"]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"subject": "u\ud800"}, InvalidSubject, "subject is not valid Unicode: a lone surrogate "
                                             "'\\ud800' at position 1"),
    ({"evidence": {"note": "x\udfff"}}, InvalidEvidence, "evidence.note is not valid Unicode: a "
                                                         "lone surrogate '\\udfff' at position 1"),
    ({"evidence": {"a": [{"b": "\ud800"}]}}, InvalidEvidence, "evidence.a[0].b is not valid "
                                                              "Unicode"),
    ({"evidence": {"\ud800key": 1}}, InvalidEvidence, "evidence key '\\ud800key' is not valid "
                                                      "Unicode"),
    ({"channel": "web\ud800"}, InvalidRecord, "channel must be printable text"),
    ({"version": "2024\ud800"}, UnpublishedVersion, "version '2024\\ud800' of 'terms' is not"),
    ({"document": "terms\ud800"}, UnpublishedDocument, "document 'terms\\ud800' is not published"),
    ({"sha256": "\ud800"}, UnpublishedVersion, "sha256 '\\ud800' is neither"),
    ({"at": "2026-01-01\ud800"}, InvalidRecord, "at must be an ISO-8601 date and time"),
])
def test_text_that_is_not_valid_unicode_is_refused_naming_the_field(ledger, kwargs, error, message):
    arguments = {"subject": "fi", "document": "terms"} | kwargs
    for call in (lambda: ledger.record(**arguments), lambda: ledger.record_many([arguments]),
                 lambda: ledger.submit(lambda: ledger.record(**arguments)).result()):
        with pytest.raises(error) as caught:
            call()
        assert str(caught.value).startswith(message)
    assert ledger.history("fi") == [] and ledger.verify().ok


BAD_SUBJECTS = ["a\x00b", "a\nb", "a\rb", "a\x1b[31mb", "a\x7fb", "a\x85b", "a\u202eb", "a\u2066b",
                "a\u2069b", "a\u2028b", "u\ud800"]


@pytest.mark.parametrize("subject", BAD_SUBJECTS)
def test_subjects_with_control_characters_are_refused_everywhere(ledger, subject):
    ledger.record("ok", "terms", at="2024-02-01")
    calls = [lambda: ledger.record(subject, "terms"), lambda: ledger.status(subject, "terms"),
             lambda: ledger.status_all(subject), lambda: ledger.statuses(["ok", subject], "terms"),
             lambda: ledger.history(subject), lambda: ledger.export(subject),
             lambda: ledger.erase(subject),
             lambda: ledger.mark_notified(["ok", subject], "terms", "2025-01-01"),
             lambda: ledger.idempotent("k", subject, dict)]
    for call in calls:
        with pytest.raises(InvalidSubject, match=r"^subject (must not contain|is not valid)"):
            call()
    assert [e.action for e in ledger.history("ok")] == ["accepted", "accepted"]


def test_subject_ids_are_one_subject_whatever_their_unicode_form(ledger):
    composed, decomposed = "jos\u00e9@example.com", "jose\u0301@example.com"
    ledger.record(decomposed, "terms", at="2024-02-01", evidence={"ip": "192.0.2.1"})
    ledger.record_many([{"subject": composed, "document": "terms", "at": "2026-02-01"}])
    assert ledger.status(composed, "terms").subject == composed
    assert ledger.status(decomposed, "terms", at=datetime(2026, 3, 1)).status == "announced"
    assert len(ledger.history(composed)) == len(ledger.history(decomposed)) == 4
    assert ledger.statuses([decomposed], "terms")[0].subject == composed
    assert ledger.mark_notified([decomposed], "terms", "2025-01-01") == 1
    assert ledger.export(decomposed)["subject"] == composed
    assert ledger.erase(composed).events == 5
    assert ledger.history(decomposed) == [] and ledger.status(decomposed, "terms").status == "never"
    assert [s for (s,) in sql(ledger, "SELECT subject FROM subjects") if s.startswith("jos")] == []


def test_idempotency_keys_are_per_owner_and_validated_on_their_own(ledger):
    key = "k" * 255
    first, _ = ledger.idempotent(key, "ow", lambda: {"n": 1}, owner="api-key-1", fingerprint="a")
    assert ledger.idempotent(key, "ow", lambda: {"n": 2}, owner="api-key-1",
                             fingerprint="a") == (first, True)
    assert ledger.idempotent(key, "ow", lambda: {"n": 3}, owner="api-key-2") == ({"n": 3}, False)
    assert ledger.idempotent(key, "ow", lambda: {"n": 4}) == ({"n": 4}, False)
    with pytest.raises(IdempotencyConflict) as caught:
        ledger.idempotent(key, "ow", dict, owner="api-key-1", fingerprint="other")
    assert str(caught.value) == f"idempotency key {key!r} was used for another request"
    for bad in ("", "k" * 256, "new\nline", "caf\u00e9", "\ud800", None, 5):
        with pytest.raises(InvalidRecord, match="^idempotency key must be 1 to 255 printable "
                                                "ASCII characters") as caught:
            ledger.idempotent(bad, "ow", dict, owner="api-key-1")
        assert "api-key-1" not in str(caught.value)


def forged_cursors(ledger, document="terms", version="2026-01-01"):
    """Cursors this ledger never handed out: forged numbers, a tampered one, another ledger's."""
    rowid = version_rowid(ledger, document, version)
    plain = [f"{rowid}:{2 ** 70}", f"{rowid}:-5", f"{rowid}:1", f"{rowid}:{'9' * 5000}"]
    forged = [base64.urlsafe_b64encode(text.encode()).decode().rstrip("=") for text in plain]
    return forged + ["", "=", "a" * 100_000, "é", "AAAA\n", 12, None.__class__]


def test_cursors_are_only_those_the_ledger_handed_out(ledger, where):
    ledger.record_many({"subject": f"q{i}", "document": "terms", "at": "2024-02-01"} for i in range(3))
    page = ledger.pending_page("terms", "2026-01-01", limit=1)
    for cursor in forged_cursors(ledger):
        with pytest.raises(InvalidCursor, match="is not one this ledger handed out"):
            ledger.pending_page("terms", "2026-01-01", cursor=cursor)
        with pytest.raises(InvalidCursor, match="is not one this ledger handed out"):
            list(ledger.pending_notifications("terms", "2026-01-01", cursor=cursor))
    tampered = page.next_cursor[:-2] + ("AA" if page.next_cursor[-2:] != "AA" else "BB")
    with pytest.raises(InvalidCursor, match="is not one this ledger handed out"):
        ledger.pending_page("terms", "2026-01-01", cursor=tampered)
    with Ledger(where("other.db"), create=True) as other:
        other.publish(example())
        with pytest.raises(InvalidCursor, match="is not one this ledger handed out"):
            other.pending_page("terms", "2026-01-01", cursor=page.next_cursor)
    rest = ledger.pending_page("terms", "2026-01-01", cursor=page.next_cursor).subjects
    assert sorted(page.subjects + rest) == ["q0", "q1", "q2"]


def test_a_record_follows_a_publication_made_since_the_catalog_was_read(ledger, where):
    ledger.record("first", "terms", at="2026-07-01")  # reads and keeps the catalog
    versions = [v for document in example().documents.values() for v in document.versions]
    with Ledger(where("ledger.db")) as other:  # another process, say
        other.publish(content(*versions, version("terms", "2026-06-01", references=["privacy"])))
    events = ledger.record("second", "terms", at="2026-07-01")  # the kept catalog: 2026-01-01
    assert events[0].version == "2026-06-01"
    assert ledger.record_many([{"subject": "third", "document": "terms", "at": "2026-07-01"}]) == 2
    assert ledger.status("third", "terms").accepted_version == "2026-06-01"


def test_the_status_at_a_past_moment_counts_the_decisions_made_by_then(ledger):
    ledger.record("eve", "terms", at="2026-02-01")
    ledger.record("eve", "terms", action="withdrawn", at="2026-03-01")
    assert status(ledger, "eve", "terms", "2026-01-15") == "never"  # before any decision
    got = ledger.status("eve", "terms", at=datetime(2026, 2, 15))
    assert (got.status, got.accepted_version) == ("announced", "2026-01-01")
    assert status(ledger, "eve", "terms", "2026-03-15") == "withdrawn"
    assert ledger.status("eve", "terms").status == "withdrawn"  # now
    assert status(ledger, "eve", "terms", "2099-01-02") == "withdrawn"  # later: as now
    assert [s.status for s in ledger.statuses(["eve", "zed"], "terms", at=datetime(2026, 2, 15))] == [
        "announced", "never"]
    assert [(r.document, r.action) for r in ledger.required("eve", at="2026-02-15").required] == [
        ("terms", "announce")]  # the version of 2099 to announce, as to one who accepted then
    assert ledger.required("eve", at="2026-01-15").required == ledger.required("eve").required == ()
