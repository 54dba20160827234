"""Appends from many threads (batched into shared commits on PostgreSQL): each caller gets its own
outcome, a subject's events keep their order, the decisions' webhook messages follow the
endpoints another process adds or disables, and a PostgreSQL ledger of the earlier append
function is upgraded."""

from __future__ import annotations

import json
import threading

import pytest
from support.ledger import example, sql

from consent import Ledger, UnpublishedVersion
from consent.postgres import MIGRATIONS

HOOK = "http://127.0.0.1:9/hook"


def in_threads(count, work):
    """Run ``work(n)`` on ``count`` threads at once; each one's result or error, in order."""
    outcomes: list = [None] * count
    start = threading.Barrier(count)

    def run(n):
        start.wait()
        try:
            outcomes[n] = work(n)
        except Exception as error:
            outcomes[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def messaged(ledger) -> list[str]:
    """The subjects of the ``consent.recorded`` messages waiting, in the order written."""
    return [json.loads(data)["subject"] for (data,) in sql(
        ledger, "SELECT data FROM outbox WHERE type = 'consent.recorded' ORDER BY id")]


def test_a_refused_record_among_concurrent_ones_fails_only_its_caller(where):
    with Ledger(where(), create=True) as ledger:
        ledger.publish(example())

        def record(n):
            return ledger.record(f"c{n}", "terms", version="1999-01-01" if n % 4 == 1 else None,
                                 evidence={"n": n})

        outcomes = in_threads(16, record)
        for n, outcome in enumerate(outcomes):
            if n % 4 == 1:
                assert isinstance(outcome, UnpublishedVersion), (n, outcome)
                assert ledger.history(f"c{n}") == []
            else:
                assert outcome[0].subject == f"c{n}" and outcome[0].evidence == {"n": n}
                assert ledger.history(f"c{n}") == list(outcome)
        assert ledger.verify().ok


def test_the_events_of_one_subject_from_concurrent_threads_stay_in_the_callers_order(where):
    with Ledger(where(), create=True) as ledger:
        ledger.publish(example())

        def record(n):
            return [ledger.record("shared", "terms", "withdrawn" if i % 2 else "accepted",
                                  evidence={"thread": n, "i": i})[0] for i in range(10)]

        outcomes = in_threads(8, record)
        history = [e for e in ledger.history("shared") if e.document == "terms"]
        assert len({e.chain for e in history}) == 1
        assert [e.seq for e in history] == sorted(e.seq for e in history)
        for n, acknowledged in enumerate(outcomes):
            assert [e.evidence["i"] for e in history if e.evidence["thread"] == n] == list(
                range(10))
            assert all(e in history for e in acknowledged)
        assert ledger.verify().ok


def test_an_endpoint_another_process_adds_gets_the_decisions_recorded_after_it(where):
    location = where()
    with Ledger(location, create=True) as ledger:
        ledger.publish(example())
        ledger.record("before", "terms")  # nobody listens yet
        with Ledger(location) as other:
            hook, _ = other.webhooks.add(HOOK, "consent.recorded", allow_private=True)
        ledger.record("after", "terms")
        in_threads(8, lambda n: ledger.record(f"t{n}", "terms"))
        ledger.record_many([{"subject": f"m{n}", "document": "terms"} for n in range(20)])
        assert messaged(ledger)[:1] == ["after"]
        assert sorted(messaged(ledger)) == sorted(["after", *(f"t{n}" for n in range(8)),
                                                   *(f"m{n}" for n in range(20))])
        with Ledger(location) as other:
            other.webhooks.disable(hook.id)
        ledger.record("disabled", "terms")
        assert "disabled" not in messaged(ledger)
        assert ledger.status("disabled", "terms").status != "never"
        assert ledger.verify().ok


@pytest.mark.parametrize("earlier", ["m005_append", "m007_append_messages"])
def test_a_postgresql_ledger_of_an_earlier_append_function_is_upgraded(postgres, earlier):
    location = postgres.location()
    with Ledger(location, create=True) as ledger:
        ledger.publish(example())
        ledger.record("before", "terms")
    names = [name for name, _ in MIGRATIONS]
    later = [name for name in names[names.index(earlier) + 1:] if "_append" in name]
    with Ledger(location) as ledger:  # the ledger as an earlier termsledger left it
        script = dict(MIGRATIONS)[earlier]
        sql(ledger, "DROP FUNCTION ledger_append")
        sql(ledger, script[script.index("CREATE FUNCTION"):])
        sql(ledger, "DELETE FROM ledger_migrations WHERE name = ANY(?)", (later,))
    with Ledger(location) as ledger:
        ledger.webhooks.add(HOOK, "consent.recorded", allow_private=True)
        ledger.record("after", "terms")
        assert ledger.record_many([{"subject": "many", "document": "terms"}]) == 2
        assert messaged(ledger) == ["after", "many"]
        assert [name for (name,) in sql(ledger, "SELECT name FROM ledger_migrations ORDER BY "
                                                "name")] == names
        assert ledger.verify().ok


@pytest.fixture(autouse=True)
def _no_leftover_threads():
    """The ledgers' batch threads stop with them."""
    before = set(threading.enumerate())
    yield
    assert set(threading.enumerate()) <= before


def test_a_bundle_recorded_among_concurrent_records_is_part_of_its_own_head(where):
    """Records batched together on PostgreSQL: each bundle member's ``part_of`` (hashed into
    the chain) and its decision's webhook message name its own record (the first record's
    head, before)."""
    with Ledger(where(), create=True) as ledger:
        ledger.publish(example())
        ledger.webhooks.add(HOOK, "consent.recorded", allow_private=True)
        outcomes = in_threads(16, lambda n: ledger.record(f"b{n}", "terms"))
        for n, (head, *members) in enumerate(outcomes):
            assert head.subject == f"b{n}" and head.part_of is None
            assert [(m.subject, m.document, m.chain, m.part_of) for m in members] == [
                (f"b{n}", "privacy", head.chain, head.seq)]
            assert ledger.history(f"b{n}") == [head, *members]
        messages = [json.loads(data) for (data,) in sql(ledger, "SELECT data FROM outbox")]
        assert sorted(m["subject"] for m in messages) == sorted(f"b{n}" for n in range(16))
        assert all([b["document"] for b in m["bundle"]] == ["privacy"] for m in messages)
        assert ledger.verify().ok


def test_a_large_batch_is_chained_as_verify_recomputes_it(where):
    """A batch of over a thousand records: subjects known and new, several changes of one new
    subject's status in order, bundles, text beyond ASCII; verify recomputes every hash with
    consent.chain and the status table from the events."""
    with Ledger(where(), create=True) as ledger:
        ledger.publish(example())
        ledger.record_many({"subject": f"known-{n}", "document": "terms", "at": "2025-02-01"}
                           for n in range(300))
        batch = [{"subject": f"known-{n}", "document": "terms", "action": "withdrawn",
                  "at": "2025-03-01"} for n in range(0, 300, 2)]
        batch += [{"subject": f"nouveau-{n}-ü", "document": "privacy", "at": "2025-03-01",
                   "evidence": {"n": n, "note": "déjà ✓"}} for n in range(900)]
        batch += [{"subject": "twice", "document": "terms", "at": "2025-03-01"},
                  {"subject": "twice", "document": "terms", "action": "withdrawn",
                   "at": "2025-03-02"},
                  {"subject": "twice", "document": "terms", "at": "2025-03-03"}]
        assert ledger.record_many(batch) == 150 + 900 + 3 + 2  # terms bring privacy along
        result = ledger.verify()
        assert result.ok and result.status_differences == 0, result.problem
        assert result.events == 600 + 1055
        assert ledger.status("known-2", "terms").status == "withdrawn"
        assert ledger.status("known-3", "terms").accepted_version == "2025-01-01"
        assert ledger.status("twice", "terms").status not in ("withdrawn", "never")
        assert [e.action for e in ledger.history("twice") if e.document == "terms"] == [
            "accepted", "withdrawn", "accepted"]
        (event,) = ledger.history("nouveau-7-ü")
        assert event.evidence == {"n": 7, "note": "déjà ✓"}


def test_large_batches_from_concurrent_threads_share_new_subjects_and_chain_as_verified(where):
    """Large batches at once (on PostgreSQL, a second one goes to the server while the first
    runs and waits there for its chains): subjects new to all of them get one row, every
    event is written once, and the chains and statuses verify."""
    with Ledger(where(), create=True) as ledger:
        ledger.publish(example())

        def record(n):
            return ledger.record_many(
                [{"subject": f"shared-{k}", "document": "terms", "evidence": {"n": n}}
                 for k in range(300)]
                + [{"subject": f"own-{n}-{k}", "document": "terms"} for k in range(300)])

        assert in_threads(4, record) == [1200] * 4  # terms bring privacy along
        assert sql(ledger, "SELECT count(*), count(DISTINCT subject) FROM subjects") == [
            (1500, 1500)]
        shared = ledger.history("shared-7")
        assert sorted(e.evidence["n"] for e in shared if e.document == "terms") == [0, 1, 2, 3]
        assert [e.document for e in shared] == ["terms", "privacy"] * 4
        result = ledger.verify()
        assert result.ok and result.status_differences == 0, result.problem
        assert result.events == 4800


def test_a_large_batch_with_a_refused_record_records_nothing(where):
    with Ledger(where(), create=True) as ledger:
        ledger.publish(example())
        batch = [{"subject": f"u{n}", "document": "terms"} for n in range(1500)]
        batch[1234] = {"subject": "u1234", "document": "terms", "version": "1999-01-01"}
        with pytest.raises(UnpublishedVersion):
            ledger.record_many(batch)
        assert sql(ledger, "SELECT count(*) FROM events") == [(0,)]
        assert sql(ledger, "SELECT count(*) FROM subjects") == [(0,)]
        assert ledger.status("u1", "terms").status == "never"
        assert ledger.verify().ok


def test_a_new_subject_another_writer_inserts_meanwhile_gets_one_row(postgres):
    """A subject new to a batch that another transaction inserts before the batch's commits:
    the batch waits for it, then uses its row."""
    import psycopg

    from consent.chain import chain_of

    with Ledger(postgres.location(), create=True) as ledger:
        ledger.publish(example())
        with psycopg.connect(ledger.path) as other:
            other.execute("INSERT INTO subjects (subject, chain) VALUES (%s, %s)",
                          ("raced", chain_of("raced", ledger._store.chains)))
            done = []
            writer = threading.Thread(target=lambda: done.append(ledger.record_many(
                {"subject": s, "document": "terms"} for s in ("a-new", "raced", "z-new"))))
            writer.start()
            writer.join(0.5)
            assert writer.is_alive()  # waiting for the other transaction's subject
            other.commit()
            writer.join()
        assert done == [6]
        assert sql(ledger, "SELECT count(*) FROM subjects WHERE subject = 'raced'") == [(1,)]
        assert [e.document for e in ledger.history("raced")] == ["terms", "privacy"]
        result = ledger.verify()
        assert result.ok and result.status_differences == 0, result.problem


def test_submitted_records_resolve_to_their_events_and_the_status_read_after_them(where):
    with Ledger(where(), create=True) as ledger:
        ledger.publish(example())
        ledger.record("s-old", "terms", version="2024-01-01", at="2024-06-01T00:00:00Z")
        ledger.mark_notified(["s-old"], "privacy", "2025-06-01")
        submitted = {  # many at once: joined in one append on PostgreSQL
            "s-new": ledger.submit_record("s-new", "terms", channel="web",
                                          evidence={"locale": "en"}),
            "s-old": ledger.submit_record("s-old", "privacy", action="declined"),
            "s-gone": ledger.submit_record("s-gone", "terms", action="withdrawn"),
            **{f"s-{n}": ledger.submit_record(f"s-{n}", "terms") for n in range(12)}}
        results = {subject: future.result(timeout=30) for subject, future in submitted.items()}
        for subject, (events, status) in results.items():
            document = "privacy" if subject == "s-old" else "terms"
            assert [e.to_dict() for e in events] == [
                e.to_dict() for e in ledger.history(subject) if e.seq >= events[0].seq]
            assert events[0].subject == subject and events[0].document == document
            assert status == ledger.status(subject, document)
        events, status = results["s-new"]
        assert [e.document for e in events] == ["terms", "privacy"]
        assert events[0].evidence == {"locale": "en"} and events[0].channel == "web"
        assert (status.status, status.accepted_version) == ("announced", "2026-01-01")
        assert results["s-gone"][1].status == "withdrawn"
        declined = results["s-old"][1]  # a decline keeps the acceptance, and the notice
        assert (declined.status, declined.accepted_version, declined.notified_version) == (
            "current", "2024-01-01", "2025-06-01")
        with pytest.raises(UnpublishedVersion):
            ledger.submit_record("s-late", "terms", version="1999-01-01").result(timeout=30)
        assert ledger.history("s-late") == []


def test_a_submitted_record_whose_caller_gave_up_is_still_written_and_others_go_on(where):
    with Ledger(where(), create=True) as ledger:
        ledger.publish(example())
        abandoned = ledger.submit_record("left", "terms")
        abandoned.cancel()  # a client that went away: nobody waits for the answer
        events, status = ledger.submit_record("next", "terms").result(timeout=30)
        assert status.status == "announced" and events[0].subject == "next"
        assert ledger.record("third", "terms")[0].subject == "third"
        assert ledger.verify().ok
