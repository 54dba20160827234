"""`termsledger ledger copy` between SQLite and PostgreSQL, both ways, and `ledger backup`:
every event with its hash, statuses, catalog, keys, idempotency records and erasures arrive,
and both copies verify."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from support.engines import planner_sizes
from support.ledger import example, record_as_before_78204ed

import consent.copy
import consent.postgres
import consent.verify
from consent import IncompleteCopy, Ledger
from termsledger.cli import cli


def run(*args) -> dict:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def fill(ledger: Ledger) -> dict:
    """Events of several kinds, an erasure, a key and an idempotent response; returns what a
    copy must show the same."""
    ledger.publish(example())
    ledger.record_many({"subject": f"s{i}", "document": "terms", "at": "2025-02-01",
                        "evidence": {"ip": "192.0.2.1"}} for i in range(30))
    ledger.record("s1", "terms", action="withdrawn", at="2025-03-01")
    ledger.mark_notified(["s2", "s3"], "terms", "2026-01-01", at="2026-01-02")
    ledger.idempotent("k1", "s4", lambda: {"ok": True})
    ledger.erase("s5")
    _, secret = ledger.keys.create("ops", "admin")
    page = ledger.pending_page("terms", "2026-01-01", limit=5)
    return {"secret": secret, "cursor": page.next_cursor,
            "statuses": [s.to_dict() for s in ledger.statuses(
                [f"s{i}" for i in range(30)], "terms")],
            "history": [e.to_dict() for e in ledger.history("s2")],
            "verify": ledger.verify()}


def same(ledger: Ledger, before: dict) -> None:
    assert [s.to_dict() for s in ledger.statuses([f"s{i}" for i in range(30)], "terms")] \
        == before["statuses"]
    assert [e.to_dict() for e in ledger.history("s2")] == before["history"]
    assert ledger.history("s5") == []
    assert ledger.keys.authenticate(before["secret"]).name == "ops"
    assert ledger.idempotent("k1", "s4", lambda: {"ok": False}) == ({"ok": True}, True)
    assert len(ledger.pending_page("terms", "2026-01-01", cursor=before["cursor"]).subjects) > 0
    ledger.record("new", "terms", at="2026-02-01")  # new events chain onto the copied ones
    result = ledger.verify()
    assert result.ok and result.events == before["verify"].events + 2


def test_copy_sqlite_to_postgresql_and_back(tmp_path, postgres):
    source = tmp_path / "source.db"
    with Ledger(source, create=True) as ledger:
        before = fill(ledger)
    url = postgres.location()
    copied = run("ledger", "copy", source, url)
    assert copied["ok"] and copied["events"] == before["verify"].events
    assert copied["head"] == before["verify"].head and copied["chains"] == 1
    assert "termsledger_test:***@" in copied["target"]
    back = tmp_path / "back.db"
    run("ledger", "copy", url, back)
    for location in (url, back):
        with Ledger(location) as ledger:
            same(ledger, before)
    with Ledger(source) as ledger:
        assert ledger.verify().ok


@pytest.mark.parametrize("batch", [None, 4], ids=["batches", "small-batches"])
def test_copy_postgresql_with_several_chains_to_sqlite_and_back(tmp_path, postgres, monkeypatch,
                                                               batch):
    """With small batches, each table is read (a server-side cursor on PostgreSQL) and written
    in several: a copy never holds a whole table in memory."""
    if batch:
        monkeypatch.setattr(consent.postgres, "ROWS_AT_ONCE", batch)
        monkeypatch.setattr(consent.copy, "BATCH", batch)
    url = postgres.location()
    with Ledger(url, create=True, chains=8) as ledger:
        before = fill(ledger)
    assert before["verify"].chains == 8
    file = tmp_path / "copy.db"
    copied = run("ledger", "copy", url, file)
    assert copied["ok"] and copied["chains"] == 8 and copied["events"] == before["verify"].events
    again = postgres.location()
    run("ledger", "copy", file, again)
    for location in (file, again):
        with Ledger(location) as ledger:
            same(ledger, before)


def test_a_copy_into_postgresql_leaves_the_planner_the_sizes_of_its_tables(tmp_path, postgres):
    """Without statistics, until autovacuum gets to them, PostgreSQL plans the queries of a
    copied ledger as for empty tables (the worklist took 2 to 4 times as long)."""
    source = tmp_path / "source.db"
    with Ledger(source, create=True) as ledger:
        fill(ledger)
    url = postgres.location()
    run("ledger", "copy", source, url)
    known, counted = planner_sizes(url, ("events", "subjects", "status"))
    assert len(known) == 3 and min(counted.values()) >= 30
    assert known == counted  # reltuples is -1 for a table never analyzed



def test_a_copy_keeps_bundle_members_that_are_not_part_of_their_own_record(tmp_path):
    """The ledger is append-only: a copy holds the source's events as they are, verify reports
    them on both."""
    source = tmp_path / "source.db"
    with Ledger(source, create=True) as ledger:
        ledger.publish(example())
        record_as_before_78204ed(ledger, ["first", "second"])
        found = ledger.verify()
    copied = run("ledger", "copy", source, tmp_path / "copy.db")
    assert (copied["ok"], copied["events"], copied["head"]) == (False, 4, found.head)
    assert copied["problem"] == found.problem and found.wrong_part_of == 1
    with Ledger(tmp_path / "copy.db") as ledger:
        assert ledger.verify().part_of_problems == found.part_of_problems

def interrupt(monkeypatch, when: str) -> None:
    """Make the next copy stop ``when``: with a KeyboardInterrupt (Ctrl-C) while it copies the
    events or while it verifies the copy, or with a verification that fails."""
    if when == "copying":
        original = consent.copy._copy

        def copying(read, write, table, columns):
            if table == "events":
                raise KeyboardInterrupt
            original(read, write, table, columns)

        monkeypatch.setattr(consent.copy, "_copy", copying)
    elif when == "verifying":
        monkeypatch.setattr(consent.verify, "verify", lambda tx, anchor=None: (_ for _ in ()).throw(
            KeyboardInterrupt()))
    else:
        original_verify = consent.verify.verify

        def failing(tx, anchor=None):
            result, heads = original_verify(tx, anchor)
            return replace(result, ok=False, problem="event 3 was edited"), heads

        monkeypatch.setattr(consent.verify, "verify", failing)


@pytest.mark.parametrize("when", ["copying", "verifying", "failing"])
def test_an_interrupted_or_failed_copy_leaves_no_usable_ledger_and_can_start_again(
        tmp_path, where, engine, monkeypatch, when):
    """The target never looks like a usable ledger before the copy verified: a file is
    renamed into place only then; a database is marked an incomplete copy until then, which
    every command refuses and a new copy takes over."""
    source = tmp_path / "source.db"
    with Ledger(source, create=True) as ledger:
        before = fill(ledger)
    target = where("copy.db")
    with monkeypatch.context() as patched:
        interrupt(patched, when)
        stopped = CliRunner().invoke(cli, ["ledger", "copy", str(source), target])
    assert stopped.exit_code == 1
    assert ("does not verify: event 3 was edited" in stopped.output) == (when == "failing")
    refused = CliRunner().invoke(cli, ["consent", "verify", "--ledger", target])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    if engine == "sqlite":
        assert sorted(p.name for p in tmp_path.iterdir()) == ["source.db", "source.db.lock"]
        assert f"no ledger at {target}: the file does not exist" in refused.output
    else:
        assert "holds a `termsledger ledger copy` that was interrupted or failed" in refused.output
        with pytest.raises(IncompleteCopy, match="run the copy again"):
            Ledger(target, create=True)
    copied = run("ledger", "copy", source, target)
    assert copied["ok"] and copied["events"] == before["verify"].events
    with Ledger(target) as ledger:
        same(ledger, before)


def test_copy_refuses_a_target_that_holds_a_ledger(tmp_path):
    source = tmp_path / "a.db"
    with Ledger(source, create=True) as ledger:
        ledger.publish(example())
    result = CliRunner().invoke(cli, ["ledger", "copy", str(source), str(source)])
    assert result.exit_code == 1
    assert "already exists: name a new file to copy the ledger to" in result.output


def test_backup_of_a_live_sqlite_ledger_holds_its_last_transactions(tmp_path):
    path = tmp_path / "live.db"
    with Ledger(path, create=True) as ledger:
        ledger.publish(example())
        ledger.record("last", "terms", at="2025-02-01")
        run("ledger", "backup", tmp_path / "backup.db", "--ledger", path)
        ledger.record("later", "terms", at="2025-02-01")
    with Ledger(tmp_path / "backup.db") as backup:
        assert backup.status("last", "terms").status == "reaccept" and backup.verify().ok
        assert backup.status("later", "terms").status == "never"
    result = CliRunner().invoke(cli, ["ledger", "backup", str(tmp_path / "backup.db"),
                                      "--ledger", str(path)])
    assert result.exit_code == 1 and "already exists: name a new file" in result.output
