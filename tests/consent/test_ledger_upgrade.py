"""A ledger made by an earlier release opens unchanged: its events verify, its statuses and
keys stay, and new events chain onto the old ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from consent import DeliverySettings, Ledger

FIXTURE = Path(__file__).parent / "fixtures" / "ledger_main.sql"
"""``sqlite3 .dump`` of a ledger written by the code before the shared schema (migrations m001
to m003): the example catalog, acceptances, a withdrawal, a notification, an idempotent
response, an erasure and an API key."""


def old_ledger(tmp_path: Path) -> Path:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE.read_text())
    conn.close()
    return path


def test_an_earlier_ledger_opens_verifies_and_takes_new_events(tmp_path):
    path = old_ledger(tmp_path)
    with Ledger(path) as ledger:
        before = ledger.verify()
        assert before.ok and before.events == 10
        statuses = ledger.statuses(["ana", "ben", "cy", "dee"], "terms")
        assert [s.status for s in statuses] == ["reaccept", "withdrawn", "never", "never"]
        assert [e.action for e in ledger.history("ana")] == ["accepted", "accepted", "notified"]
        assert ledger.history("ana")[0].evidence == {"ip": "192.0.2.1"}
        assert ledger.history("dee") == []  # erased before the upgrade
        assert [k.name for k in ledger.keys.list()] == ["ops"]
        assert ledger.pending_page("terms", "2025-01-01", limit=5).subjects == ()
        events = ledger.record("ana", "terms", at="2026-02-01")
        assert events[0].seq == 11 and events[0].prev_hash == before.head
        assert ledger.status("ana", "terms").status == "announced"
        after = ledger.verify(anchor=f"{before.events}:{before.head}")
        assert after.ok and after.events == 12
    tables = {name for (name,) in sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"chains", "api_keys"} <= tables


def test_an_upgrade_sends_no_version_in_force_for_versions_already_in_force(tmp_path):
    path = old_ledger(tmp_path)
    with Ledger(path) as ledger:
        webhook, _ = ledger.webhooks.add("https://93.184.215.14/hooks", ["version.in_force"])
        quick = DeliverySettings(timeout=0.5)  # nothing answers at that address here
        assert ledger.webhooks.deliver(quick, at="2098-12-31").in_force == ()
        assert ledger.webhooks.get(webhook.id).pending == 0
        assert ledger.webhooks.deliver(quick, at="2099-01-01").in_force == ("terms 2099-01-01",)
