"""Tampering with the file through raw sqlite3 is caught by verify; erasure leaves no trace."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from support.ledger import example

from consent import InvalidRecord, InvalidSubject, Ledger, UnknownSubject
from consent.chain import event_hash, header, personal_digest


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
        for name in ("ana", "ben", "cat"):
            ledger.record(name, "terms", at="2026-02-01", evidence={"ip": "192.0.2.7"})
        ledger.record("ben", "terms", action="withdrawn", at="2026-03-01")
        assert ledger.verify().ok and ledger.verify().events == 7
    return path


def tamper(path, *statements):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    for statement in statements:
        conn.execute(*statement) if isinstance(statement, tuple) else conn.execute(statement)
    conn.close()


def verify(path):
    with Ledger(path) as ledger:
        return ledger.verify()


def test_events_refuse_update_and_delete(path):
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="events are append-only"):
        conn.execute("UPDATE events SET at = 0 WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="events are append-only"):
        conn.execute("DELETE FROM events WHERE seq = 1")


@pytest.mark.parametrize("statements, first_bad, problem", [
    (["UPDATE events SET at = at + 1 WHERE seq = 3"], 3, "event 3 was edited"),
    (["UPDATE events SET action = 1 WHERE seq = 5"], 5, "event 5 was edited"),
    (["UPDATE events SET part_of = 3 WHERE seq = 2"], 2, "event 2 was edited"),
    (["UPDATE events SET part_of = NULL WHERE seq = 2"], 2, "event 2 was edited"),
    (["UPDATE personal SET evidence = '{\"ip\":\"203.0.113.9\"}' WHERE seq = 3"], 3, "event 3 was edited"),
    (["UPDATE subjects SET subject = 'eve' WHERE subject = 'ben'"], 3, "event 3 was edited"),
    (["DELETE FROM events WHERE seq = 4"], 4, "event 4 is missing"),
    (["DELETE FROM events WHERE seq = 7"], 7, "events 7 to 7 are missing"),
    (["DELETE FROM personal WHERE seq = 2"], 2, "event 2 lost its personal fields"),
    (["INSERT INTO erased (seq, digest) SELECT 2, zeroblob(32)", "DELETE FROM personal WHERE seq = 2"], 2,
     "event 2 was edited"),
    (["UPDATE events SET seq = -3 WHERE seq = 3", "UPDATE events SET seq = 3 WHERE seq = 5",
      "UPDATE events SET seq = 5 WHERE seq = -3",
      "UPDATE personal SET seq = -3 WHERE seq = 3", "UPDATE personal SET seq = 3 WHERE seq = 5",
      "UPDATE personal SET seq = 5 WHERE seq = -3"], 3, "event 3 is out of order"),
])
def test_tampering_is_detected(path, statements, first_bad, problem):
    tamper(path, *statements)
    result = verify(path)
    assert not result.ok
    assert result.first_bad == first_bad
    assert result.problem.startswith(problem)


def test_a_forged_hash_is_pinned_on_the_edited_event(path):
    conn = sqlite3.connect(path, isolation_level=None)
    seq, at, sid, version, action, channel, part_of = conn.execute(
        "SELECT seq, at, subject, version, action, channel, part_of FROM events WHERE seq = 3"
    ).fetchone()
    prev = conn.execute("SELECT hash FROM events WHERE seq = 2").fetchone()[0]
    salt, evidence = conn.execute("SELECT salt, evidence FROM personal WHERE seq = 3").fetchone()
    subject = conn.execute("SELECT subject FROM subjects WHERE id = ?", (sid,)).fetchone()[0]
    forged_version = conn.execute("SELECT id, version, content_sha256 FROM versions "
                                  "WHERE version = '2024-01-01' AND document = "
                                  "(SELECT id FROM documents WHERE slug = 'terms')").fetchone()
    forged = event_hash(prev, header(0, seq, at, sid, "terms", forged_version[1], forged_version[2],
                                     action, channel, part_of),
                        personal_digest(salt, subject, evidence))
    conn.close()
    tamper(path, ("UPDATE events SET version = ?, hash = ? WHERE seq = 3", (forged_version[0], forged)))
    result = verify(path)
    assert (result.ok, result.first_bad) == (False, 3)
    assert result.problem == "the chain breaks after event 3: it was edited and re-hashed, or " \
                             "the event after it was deleted"


def test_personal_fields_dropped_without_an_erasure_are_caught(path):
    conn = sqlite3.connect(path, isolation_level=None)
    salt, evidence = conn.execute("SELECT salt, evidence FROM personal WHERE seq = 1").fetchone()
    conn.execute("INSERT INTO erased (seq, digest) VALUES (1, ?)", (personal_digest(salt, "ana", evidence),))
    conn.execute("DELETE FROM personal WHERE seq = 1")
    conn.close()
    result = verify(path)
    assert (result.ok, result.first_bad) == (False, 1)
    assert result.problem == "event 1 lost its personal fields without an erasure"


def test_an_erasure_stripped_of_its_personal_fields_is_caught(path):
    """The erasure's own personal fields bind the subject's pseudonym to its events (its hash
    covers them): stripped as erasure strips the others', the pseudonym could be renamed to
    anyone's id and verify would still pass."""
    with Ledger(path) as ledger:
        ledger.erase("ben")
    conn = sqlite3.connect(path, isolation_level=None)
    ((seq, sid, pseudonym, salt, evidence),) = conn.execute(
        "SELECT e.seq, e.subject, s.subject, p.salt, p.evidence FROM events e JOIN subjects s ON "
        "s.id = e.subject JOIN personal p ON p.chain = e.chain AND p.seq = e.seq WHERE e.action = 4")
    conn.execute("INSERT INTO erased (seq, digest) VALUES (?, ?)",
                 (seq, personal_digest(salt, pseudonym, evidence)))
    conn.execute("DELETE FROM personal WHERE seq = ?", (seq,))
    conn.execute("UPDATE subjects SET subject = 'alice@example.com' WHERE id = ?", (sid,))
    conn.close()
    result = verify(path)
    assert (result.ok, result.first_bad) == (False, seq)
    assert result.problem == (f"event {seq}, an erasure, lost its personal fields: they bind the erased "
                              f"subject's pseudonym to its events, and the ledger never removes them")


def test_erase_leaves_no_trace_in_the_file_or_wal(tmp_path):
    path = tmp_path / "ledger.db"
    victim, ip = "victim.person@example.com", "198.51.100.77"
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
        ledger.record_many({"subject": f"user-{i:05}@example.com", "document": "terms",
                            "at": "2026-02-01", "evidence": {"ip": f"10.0.{i % 250}.{i % 200}"}}
                           for i in range(3000))
        ledger.record(victim, "terms", at="2026-02-01",
                      evidence={"ip": ip, "email": victim, "ua": "Firefox"})
        ledger.record(victim, "terms", action="withdrawn", at="2026-02-02")
        ledger.record_many({"subject": f"later-{i:05}", "document": "terms", "at": "2026-02-03"}
                           for i in range(2000))
        ledger.idempotent("idem-1", victim, lambda: {"subject": victim, "status": "current"})
        ledger.idempotent("idem-2", [victim, "later-00001"], lambda: {"acked": [victim]})
        erasure = ledger.erase(victim)
        assert (erasure.events, erasure.responses) == (3, 2)
        raw = path.read_bytes() + (path.with_name("ledger.db-wal").read_bytes()
                                   if path.with_name("ledger.db-wal").exists() else b"")
        for secret in (victim, ip, "Firefox"):
            assert secret.encode() not in raw
        assert ledger.verify().ok
        assert ledger.history(victim) == []
        assert ledger.status(victim, "terms").status == "never"
        trail = ledger.history(erasure.pseudonym)
        assert [e.action for e in trail] == ["accepted", "accepted", "withdrawn", "erased"]
        assert all(e.evidence is None for e in trail)
        assert ledger.export(erasure.pseudonym)["responses"] == []
        assert ledger.history("user-00001@example.com")[0].evidence == {"ip": "10.0.1.1"}
        with pytest.raises(UnknownSubject, match="subject 'victim.person@example.com' is not in"):
            ledger.erase(victim)
    with Ledger(path) as reopened:
        assert reopened.verify().ok


def raw_bytes(path):
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_a_subject_recorded_again_after_erasure_can_be_erased_again(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
        ledger.record("again@example.com", "terms", at="2026-02-01", evidence={"ip": "192.0.2.9"})
        first = ledger.erase("again@example.com")
        ledger.record("again@example.com", "terms", at="2026-03-01", evidence={"ip": "192.0.2.9"})
        second = ledger.erase("again@example.com")
        assert first.pseudonym != second.pseudonym and second.events == 2
        assert b"again@example.com" not in raw_bytes(path) and b"192.0.2.9" not in raw_bytes(path)
        assert ledger.history("again@example.com") == [] and ledger.verify().ok


def test_the_pseudonym_cannot_be_derived_from_the_subject(tmp_path):
    pseudonyms = []
    for run in range(2):
        with Ledger(tmp_path / f"l{run}.db", create=True) as ledger:
            ledger.publish(example())
            ledger.record("same@example.com", "terms", at="2026-02-01")
            pseudonyms.append(ledger.erase("same@example.com").pseudonym)
            keys = [k for (k,) in ledger._store.reads().execute("SELECT key FROM meta")]
    assert pseudonyms[0] != pseudonyms[1]  # not a function of the id
    assert all(re.fullmatch(r"erased:[0-9a-f]{32}", p) for p in pseudonyms)
    assert "pseudonym_key" not in keys  # no key in the file to recompute a pseudonym with


def test_opening_an_old_file_drops_its_pseudonym_key(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger(path, create=True) as ledger:
        ledger._store.reads().execute("INSERT INTO meta (key, value) VALUES ('pseudonym_key', x'00')")
        ledger._store.reads().execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_drop_pseudonym_key'")
    with Ledger(path) as ledger:
        assert ledger._store.reads().execute(
            "SELECT * FROM meta WHERE key = 'pseudonym_key'").fetchall() == []


def test_export_holds_everything_about_the_subject(path):
    with Ledger(path) as ledger:
        ledger.idempotent("k", "ben", lambda: {"recorded": True})
        data = ledger.export("ben")
    assert data["subject"] == "ben"
    assert [e["action"] for e in data["events"]] == ["accepted", "accepted", "withdrawn"]
    assert data["events"][0]["evidence"] == {"ip": "192.0.2.7"}
    assert {s["document"]: s["status"] for s in data["statuses"]} == {"terms": "withdrawn",
                                                                      "privacy": "current"}
    assert data["responses"] == [{"key": "k", "response": {"recorded": True}}]


OWNER = {1: "ana", 2: "ana", 3: "ben", 4: "ben", 5: "cat", 6: "cat", 7: "ben"}


@pytest.mark.parametrize("statement, seq, problem, damage", [
    ("UPDATE events SET at = 'yesterday' WHERE seq = 3", 3,
     "event 3 is malformed: at is 'yesterday', not a whole number",
     "at is 'yesterday', not a whole number"),
    ("UPDATE events SET at = 1.5 WHERE seq = 3", 3,
     "event 3 is malformed: at is 1.5, not a whole number", "at is 1.5, not a whole number"),
    ("UPDATE events SET at = 9223372036854775807 WHERE seq = 3", 3, "event 3 was edited",
     "at is 9223372036854775807, out of range"),
    ("UPDATE events SET action = 99 WHERE seq = 5", 5,
     "event 5 is malformed: action code 99 is not one the ledger writes",
     "action code 99 is not one the ledger writes"),
    ("UPDATE events SET action = -1 WHERE seq = 5", 5,
     "event 5 is malformed: action code -1 is not one the ledger writes",
     "action code -1 is not one the ledger writes"),
    ("UPDATE events SET action = 'accepted' WHERE seq = 5", 5,
     "event 5 is malformed: action code 'accepted' is not one the ledger writes",
     "action code 'accepted' is not one the ledger writes"),
    ("UPDATE events SET part_of = 'x' WHERE seq = 2", 2,
     "event 2 is malformed: part_of is 'x', not a whole number",
     "part_of is 'x', not a whole number"),
    ("UPDATE events SET channel = x'00ff' WHERE seq = 3", 3,
     "event 3 is malformed: channel is b'\\x00\\xff', not text", "channel is b'\\x00\\xff', not text"),
    ("UPDATE events SET hash = 'abc' WHERE seq = 3", 3,
     "event 3 is malformed: hash is 'abc', not 32 bytes",
     [(3, "hash is 'abc', not 32 bytes"), (4, "prev_hash is 'abc', not 32 bytes")]),
    ("UPDATE events SET link = 5 WHERE seq = 3", 3,
     "event 3 is malformed: link is 5, not 8 bytes", None),
    ("UPDATE events SET subject = 'ben' WHERE seq = 3", 3,
     "event 3 is malformed: subject is 'ben', not a whole number", None),
    ("UPDATE personal SET salt = 'pepper' WHERE seq = 3", 3,
     "event 3 is malformed: salt is 'pepper', not bytes", None),
    ("UPDATE personal SET evidence = x'ff' WHERE seq = 3", 3,
     "event 3 is malformed: evidence is b'\\xff', not text", "evidence is b'\\xff', not text"),
    ("UPDATE personal SET evidence = '{broken' WHERE seq = 3", 3, "event 3 was edited",
     "evidence is not a JSON object"),
    ("UPDATE personal SET evidence = '[1, 2]' WHERE seq = 3", 3, "event 3 was edited",
     "evidence is not a JSON object"),
    ("UPDATE subjects SET subject = x'0102' WHERE subject = 'cat'", 5,
     "event 5 is malformed: subject is b'\\x01\\x02', not text", None),
    ("UPDATE chains SET length = 'x' WHERE id = 0", None,
     "the chain's recorded length is 'x', not a whole number: the ledger's metadata was edited",
     None),
])
def test_malformed_rows_are_tampering_and_reading_goes_on(path, statement, seq, problem, damage):
    tamper(path, statement)
    result = verify(path)
    assert (result.ok, result.first_bad) == (False, seq)
    assert result.problem.startswith(problem), result.problem
    subject = OWNER.get(seq, "ana")
    with Ledger(path) as ledger:
        history = ledger.history(subject)
        assert [e.seq for e in history] == [s for s, o in OWNER.items() if o == subject] or \
            damage is None
        damaged = [e for e in history if e.problem]
        expected = [(seq, damage)] if isinstance(damage, str) else damage or []
        assert [(e.seq, e.problem) for e in damaged] == expected
        exported = ledger.export(subject)
        assert [e["seq"] for e in exported["events"]] == [e.seq for e in history]
        assert json.dumps(exported)
        assert ledger.history("ana" if subject != "ana" else "cat")[0].problem is None


def ids(path):
    conn = sqlite3.connect(path)
    found = dict(conn.execute("SELECT subject, id FROM subjects"))
    found.update(dict(conn.execute("SELECT slug, id FROM documents")))
    conn.close()
    return found


FEB, MAR = "2026-02-01T00:00:00.000000+00:00", "2026-03-01T00:00:00.000000+00:00"


def test_verify_recomputes_the_status_table_and_repair_rebuilds_it(path):
    n = ids(path)
    tamper(path,
           ("UPDATE status SET state = 1 WHERE subject = ? AND document = ?", (n["ben"], n["terms"])),
           ("DELETE FROM status WHERE subject = ? AND document = ?", (n["ana"], n["privacy"])),
           "INSERT INTO subjects (id, subject) VALUES (77, 'ghost')",
           ("INSERT INTO status VALUES (?, 77, 1, 1, NULL, 5)", (n["terms"],)),
           ("INSERT INTO status VALUES (?, 999, 2, NULL, NULL, 5)", (n["terms"],)))
    with Ledger(path) as ledger:
        assert ledger.status("ben", "terms").status == "announced"  # what the edit made it say
        result = ledger.verify()
        assert (result.ok, result.first_bad, result.events) == (False, None, 7)
        assert result.problem == "4 status rows differ from what the events say"
        assert result.status_differences == 4 and result.repaired == 0
        assert sorted(result.status_problems) == sorted([
            f"the status of subject 'ana' for privacy says nothing (no row); the events say "
            f"accepted 2025-06-01 on {FEB}",
            f"the status of subject 'ben' for terms says accepted 2026-01-01 on {MAR}; the events "
            f"say withdrawn after accepting 2026-01-01 on {MAR}",
            "the status of subject 'ghost' for terms says accepted 2024-01-01 on "
            "1970-01-01T00:00:00.000005+00:00; the events say nothing (no row)",
            "the status of subject id 999, who has no events, for terms says withdrawn on "
            "1970-01-01T00:00:00.000005+00:00; the events say nothing (no row)"])
        repaired = ledger.verify(repair=True)
        assert (repaired.ok, repaired.repaired, repaired.events) == (True, 4, 8)
        assert ledger.status("ben", "terms").status == "withdrawn"
        assert ledger.status("ana", "privacy").status == "current"
        assert ledger.status("ghost", "terms").status == "never"
        (event,) = ledger.history("ledger:repair")
        assert (event.action, event.channel, event.document) == ("repaired", "verify", None)
        assert event.evidence["status_rows"] == {"added": 1, "changed": 1, "removed": 2}
        assert ledger.verify().ok and ledger.verify().status_differences == 0
    with Ledger(path) as ledger:
        with pytest.raises(InvalidSubject, match="reserved"):
            ledger.record("ledger:repair", "terms")
        with pytest.raises(InvalidSubject, match="the ledger's own events"):
            ledger.erase("ledger:repair")


def test_repair_waits_for_a_chain_that_verifies(path):
    n = ids(path)
    tamper(path, ("UPDATE status SET state = 1 WHERE subject = ? AND document = ?",
                  (n["ben"], n["terms"])), "UPDATE events SET at = at + 1 WHERE seq = 3")
    with Ledger(path) as ledger:
        result = ledger.verify(repair=True)
        assert (result.ok, result.first_bad, result.repaired) == (False, 3, 0)
        assert result.status_differences == 1
        assert ledger.status("ben", "terms").status == "announced"
        assert ledger.history("ledger:repair") == []


def test_verify_says_what_it_cannot_detect_and_an_anchor_closes_the_gap(path):
    with Ledger(path) as ledger:
        kept = ledger.verify()
    assert "cannot tell events cut from the end of the chain" in kept.limits
    assert "--anchor EVENTS:HEAD" in kept.limits and kept.to_dict()["limits"] == kept.limits
    tamper(path, "DELETE FROM events WHERE seq = 7", "DELETE FROM personal WHERE seq = 7",
           "UPDATE chains SET length = 6, head = (SELECT hash FROM events WHERE seq = 6)",
           # and ben's withdrawal is gone:
           "UPDATE status SET state = 1, at = (SELECT at FROM events WHERE seq = 3) "
           "WHERE state = 2")
    with Ledger(path) as ledger:
        cut = ledger.verify()
        assert cut.ok and cut.events == 6  # undetectable from the file alone, as it says
        anchored = ledger.verify(anchor=f"{kept.events}:{kept.head}")
        assert (anchored.ok, anchored.first_bad) == (False, 7)
        assert anchored.problem == ("the chain holds 6 events, fewer than the 7 of the anchor: "
                                    "events were cut from its end")
        assert ledger.verify(anchor=f"6:{cut.head}").ok
        rewritten = ledger.verify(anchor=f"3:{'0' * 64}")
        assert (rewritten.ok, rewritten.first_bad) == (False, 3)
        assert rewritten.problem == "event 3 does not have the anchor's hash: the chain was rewritten"
        for bad in ("7", "x:abc", f"0:{kept.head}", f"7:{kept.head[:10]}", "-1:" + "0" * 64):
            with pytest.raises(InvalidRecord, match="anchor must be EVENTS:HEAD"):
                ledger.verify(anchor=bad)
