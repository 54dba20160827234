"""Erasure on PostgreSQL: pseudonymized in place as on SQLite, then the touched tables are
vacuumed, so that their dead row versions (the erased id and evidence) leave the tables."""

from __future__ import annotations

from support.ledger import example, sql

from consent import Ledger

VICTIM = "victim@example.com"


def test_erasure_pseudonymizes_in_place_and_vacuums_the_touched_tables(postgres):
    with Ledger(postgres.location(), create=True) as ledger:
        ledger.publish(example())
        ledger.record(VICTIM, "terms", at="2025-02-01", evidence={"ip": "198.51.100.7"})
        ledger.idempotent("k", VICTIM, lambda: {"about": VICTIM})
        erased = ledger.erase(VICTIM)
        assert erased.events == 2 and erased.responses == 1
        assert ledger.history(VICTIM) == [] and ledger.history(erased.pseudonym)[-1].action \
            == "erased"
        assert sql(ledger, "SELECT count(*) FROM subjects WHERE subject = ?", (VICTIM,)) == [(0,)]
        assert sql(ledger, "SELECT count(*) FROM personal WHERE evidence LIKE ?", ("%198.51%",)) \
            == [(0,)]
        vacuumed = dict(sql(ledger, "SELECT relname, last_vacuum IS NOT NULL FROM "
                                    "pg_stat_user_tables WHERE schemaname = current_schema()"))
        assert all(vacuumed[t] for t in ("subjects", "personal", "status", "idempotency"))
        assert ledger.verify().ok
