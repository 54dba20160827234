"""Hash chains and seals, on both engines: a PostgreSQL ledger splits its events into several
chains (a subject's events all in one), an SQLite ledger keeps one; a seal commits to every
chain's head, and verify finds an event edited, a chain's tail cut after a seal, an event
moved between chains and an edited seal."""

from __future__ import annotations

import itertools

import pytest
from support.ledger import append_rows, example, record_as_before_78204ed, resolved, sql

from consent import Ledger
from consent.chain import chain_of as chain_of_name

SUBJECTS = [f"user-{i}" for i in range(40)]


@pytest.fixture
def ledger(where):
    with Ledger(where("chains.db"), create=True) as ledger:
        ledger.publish(example())
        ledger.record_many({"subject": s, "document": "terms", "at": "2025-02-01"}
                           for s in SUBJECTS)
        ledger.record("user-3", "terms", action="withdrawn", at="2025-03-01")
        yield ledger


def tamper(ledger, *statements):
    """Run ``statements`` on the storage with the append-only guard of ``events`` off."""
    if ledger.path.startswith("postgresql://"):
        statements = ("ALTER TABLE events DISABLE TRIGGER USER", *statements,
                      "ALTER TABLE events ENABLE TRIGGER USER")
    else:
        statements = ("DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete",
                      *statements)
    for statement in statements:
        sql(ledger, *statement) if isinstance(statement, tuple) else sql(ledger, statement)


def test_each_subject_is_in_one_chain_and_writers_spread_over_several(ledger, engine):
    chains = {s: {e.chain for e in ledger.history(s)} for s in SUBJECTS}
    assert all(len(found) == 1 for found in chains.values())
    used = set().union(*chains.values())
    assert len(used) > 8 if engine == "postgresql" else used == {0}
    result = ledger.verify()
    assert result.ok and result.events == 2 * len(SUBJECTS) + 1
    assert result.chains == (32 if engine == "postgresql" else 1)


def test_a_seal_commits_to_every_chain_and_anchors_the_ledger(ledger):
    sealed = ledger.seal()
    assert sealed.events == 2 * len(SUBJECTS) + 1 and len(sealed.root) == 64
    assert ledger.seal(if_changed=True) is None
    ledger.record("late", "terms", at="2025-04-01")
    assert ledger.seal(if_changed=True).events == sealed.events + 2
    result = ledger.verify(anchor=f"{sealed.events}:{sealed.root}") if sealed.chains > 1 else \
        ledger.verify()
    assert result.ok and result.seal is not None


def chain_of(ledger, subject):
    (event, *_) = ledger.history(subject)
    return event.chain, max(e.seq for e in ledger.history(subject))


def test_an_edited_event_is_found_in_its_chain(ledger):
    chain, seq = chain_of(ledger, "user-7")
    tamper(ledger, ("UPDATE events SET at = at + 1 WHERE chain = ? AND seq = ?", (chain, seq)))
    result = ledger.verify()
    assert (result.ok, result.chain, result.first_bad) == (False, chain, seq)
    name = f"{chain}.{seq}" if result.chains > 1 else str(seq)
    assert result.problem == f"event {name} was edited: it no longer matches its hash"


def test_a_chains_tail_cut_after_a_seal_is_found(ledger):
    sealed = ledger.seal()
    chain, _ = chain_of(ledger, "user-3")  # the last event of its chain: the withdrawal
    (length, _), = sql(ledger, "SELECT length, head FROM chains WHERE id = ?", (chain,))
    tamper(ledger, ("DELETE FROM events WHERE chain = ? AND seq = ?", (chain, length)),
           ("DELETE FROM personal WHERE chain = ? AND seq = ?", (chain, length)),
           ("UPDATE chains SET length = length - 1, head = (SELECT hash FROM events WHERE "
            "chain = ? AND seq = ?) WHERE id = ?", (chain, length - 1, chain)),
           ("UPDATE status SET state = 1 WHERE state = 2",))
    result = ledger.verify()
    what = "the chain" if result.chains == 1 else f"chain {chain}"
    assert not result.ok and result.problem == (
        f"{what} holds {length - 1} events, fewer than the {length} sealed on "
        f"{sealed.at}: events were cut from its end")


def test_an_event_moved_to_another_chain_is_found(ledger, engine):
    if engine == "sqlite":
        sql(ledger, "INSERT INTO chains (id, length, head) VALUES (1, 0, zeroblob(32))")
    chain, seq = chain_of(ledger, "user-9")
    other = next(c for (c,) in sql(ledger, "SELECT id FROM chains ORDER BY id") if c != chain)
    (length,), = sql(ledger, "SELECT length FROM chains WHERE id = ?", (other,))
    tamper(ledger, ("UPDATE events SET chain = ?, seq = ? WHERE chain = ? AND seq = ?",
                    (other, length + 1, chain, seq)),
           ("UPDATE personal SET chain = ?, seq = ? WHERE chain = ? AND seq = ?",
            (other, length + 1, chain, seq)),
           ("UPDATE chains SET length = length + 1 WHERE id = ?", (other,)))
    result = ledger.verify()
    assert not result.ok and result.chain in (chain, other)


def test_an_event_in_a_chain_the_ledger_does_not_have_is_found(ledger):
    chain, seq = chain_of(ledger, "user-11")
    tamper(ledger, ("UPDATE events SET chain = 999 WHERE chain = ? AND seq = ?", (chain, seq)))
    result = ledger.verify()
    assert not result.ok


def test_a_whole_chain_deleted_after_a_seal_is_found_and_not_sealed_over(ledger):
    sealed = ledger.seal()
    chain, length = chain_of(ledger, "user-3")
    (length,), = sql(ledger, "SELECT length FROM chains WHERE id = ?", (chain,))
    tamper(ledger, ("DELETE FROM events WHERE chain = ?", (chain,)),
           ("DELETE FROM personal WHERE chain = ?", (chain,)),
           ("DELETE FROM status WHERE subject IN (SELECT id FROM subjects WHERE chain = ?)", (chain,)),
           ("DELETE FROM chains WHERE id = ?", (chain,)))
    result = ledger.verify()
    assert not result.ok
    assert result.problem == (f"chain {chain} is missing, with the {length} events sealed on {sealed.at}: "
                              f"it was deleted")
    assert sql(ledger, "SELECT count(*) FROM seals") == [(1,)]  # verify sealed nothing over it
    sql(ledger, "DELETE FROM seals")
    assert ledger.verify().problem == f"chain {chain} is missing, though subjects are in it: it was deleted"
    emptied = ("DELETE FROM status", "DELETE FROM subjects", "DELETE FROM personal", "DELETE FROM events",
               "DELETE FROM chains")
    if ledger.path.startswith("postgresql://"):
        tamper(ledger, *emptied)
    else:  # its guards were dropped above
        for statement in emptied:
            sql(ledger, statement)
    assert ledger.verify().problem == "the ledger has no hash chain: its chains were deleted"


@pytest.mark.parametrize("change, problem", [
    ("UPDATE chains SET head = ? WHERE id = ?", "recorded head is not the hash of its last event: the "
                                                "ledger's metadata was edited"),
    ("UPDATE chains SET length = length - 1 WHERE id = ?",
     "recorded length is {short}, but it holds {length} events: the ledger's metadata was edited"),
])
def test_a_chains_recorded_head_or_length_edited_is_found(ledger, change, problem):
    chain, length = chain_of(ledger, "user-5")
    (length,), = sql(ledger, "SELECT length FROM chains WHERE id = ?", (chain,))
    sql(ledger, change, (bytes(32), chain) if "head" in change else (chain,))
    result = ledger.verify()
    its = "the chain's" if result.chains == 1 else f"chain {chain}'s"
    assert not result.ok and result.problem == f"{its} " + problem.format(short=length - 1, length=length)


def test_a_text_of_the_catalog_edited_is_found(ledger):
    (version,), = sql(ledger, "SELECT v.version FROM versions v JOIN documents d ON d.id = v.document "
                              "WHERE d.slug = 'terms' ORDER BY v.id LIMIT 1")
    (sha,), = sql(ledger, "SELECT content_sha256 FROM versions WHERE version = ? AND document = "
                          "(SELECT id FROM documents WHERE slug = 'terms')", (version,))
    sql(ledger, "UPDATE versions SET markdown = markdown || 'Or not.' WHERE content_sha256 = ?", (sha,))
    result = ledger.verify()
    assert not result.ok and result.problem == (f"the text of terms version {version} no longer has its "
                                                f"SHA-256 '{sha}': the catalog was edited")


def test_an_edited_seal_is_found(ledger):
    ledger.seal()
    sql(ledger, "UPDATE seals SET root = ?", (bytes(32),))
    result = ledger.verify()
    assert not result.ok and result.problem.startswith("the seal sealed on ")
    assert result.problem.endswith("does not match the heads it records: the seals were edited")


def test_the_engine_chains_events_as_verify_recomputes_them(ledger):
    """On PostgreSQL the database chains the events (consent.chain.link in SQL): bundles,
    text beyond ASCII, no evidence, several events of one subject and document in one batch
    (written in their order), notifications; verify recomputes every hash in Python."""
    events = ledger.record("zoë/ünïcode", "terms", channel="guichet-é", at="2025-03-01",
                           evidence={"note": "déjà vu ✓"})
    assert [e.part_of for e in events] == [None, events[0].seq]
    assert ledger.record_many([
        {"subject": "batch-1", "document": "terms", "at": "2026-02-01"},
        {"subject": "batch-1", "document": "terms", "action": "withdrawn", "at": "2026-02-02"},
        {"subject": "batch-1", "document": "terms", "at": "2026-02-03", "evidence": {}},
        {"subject": "batch-2", "document": "terms", "at": "2026-02-05"},
        {"subject": "batch-2", "document": "terms", "action": "withdrawn", "at": "2026-02-04"},
    ]) == 8  # acceptances of terms bring privacy along
    assert ledger.mark_notified(["user-1", "user-2"], "terms", "2026-01-01") == 2
    result = ledger.verify()
    assert result.ok and result.status_differences == 0, result.problem
    assert ledger.status("batch-1", "terms").accepted_version == "2026-01-01"
    assert ledger.status("batch-1", "terms").status != "withdrawn"
    assert ledger.status("batch-2", "terms").status != "withdrawn"  # the later one wins
    assert ledger.status("user-1", "terms").notified_version == "2026-01-01"


def in_chain(ledger, chain: int, count: int) -> list[str]:
    """``count`` new subjects whose events go to ``chain``."""
    names = (f"in-{chain}-{n}" for n in itertools.count())
    return list(itertools.islice((name for name in names
                                  if chain_of_name(name, ledger._store.chains) == chain), count))


def label(result, chain: int):
    """An event's name in the messages of ``result``, from its ``seq`` in ``chain``."""
    return (lambda seq: f"{chain}.{seq}") if result.chains > 1 else str


def test_members_stored_as_part_of_another_subjects_record_are_found(ledger):
    """Records batched together on PostgreSQL before commit 78204ed: every bundle member of
    the second record on was stored as part of the first record's event, with consistent
    hashes (the hash covers part_of: it was computed so). Verify names each such member."""
    subjects = in_chain(ledger, chain_of(ledger, "user-7")[0], 3)
    record_as_before_78204ed(ledger, subjects)
    (head, own), *others = (ledger.history(s) for s in subjects)
    assert own.part_of == head.seq and [m.part_of for _, m in others] == [head.seq, head.seq]
    result = ledger.verify()
    assert (result.ok, result.chain, result.first_bad) == (False, head.chain, others[0][1].seq)
    assert (result.wrong_part_of, result.status_differences) == (2, 0)
    assert result.problem == (
        "2 bundle members are recorded as part of another event than their record's (PostgreSQL "
        "ledgers written before 1 December 2026 may hold such members: see the README)")
    name = label(result, head.chain)
    assert result.part_of_problems == tuple(
        f"event {name(m.seq)} is recorded as part of event {name(head.seq)}, another subject's"
        for _, m in others)
    assert result.seal == (result.head if result.chains > 1 else None)  # its hashes verified
    tamper(ledger, ("UPDATE status SET state = 2 WHERE subject = (SELECT id FROM subjects WHERE "
                    "subject = 'user-1') AND document = (SELECT id FROM documents WHERE "
                    "slug = 'terms')",))
    assert ledger.verify().problem == "1 status row differs from what the events say"
    repaired = ledger.verify(repair=True)  # the events are trusted: their hashes verify
    assert (repaired.repaired, repaired.problem, repaired.wrong_part_of) == (1, result.problem, 2)


@pytest.mark.parametrize("engine", ["postgresql"])  # an SQLite ledger has one chain
def test_a_member_stored_in_a_shorter_chain_than_its_batchs_first_record_is_found(ledger):
    """The same on PostgreSQL's chains: a member in another chain than the first record of its
    batch was stored as part of the ``seq`` of that record in the member's own chain: an
    event the chain does not have, or a later one once the chain grows."""
    lengths = dict(sql(ledger, "SELECT id, length FROM chains"))
    long, short = max(lengths, key=lengths.get), min(lengths, key=lengths.get)
    (first,), (late,) = in_chain(ledger, long, 1), in_chain(ledger, short, 1)
    record_as_before_78204ed(ledger, [first, late])
    (head, _), (_, member) = ledger.history(first), ledger.history(late)
    assert member.part_of == head.seq > lengths[short] + 2
    result = ledger.verify()
    assert (result.ok, result.chain, result.first_bad, result.wrong_part_of) == (
        False, short, member.seq, 1)
    name = label(result, short)
    assert result.part_of_problems == (f"event {name(member.seq)} is recorded as part of event "
                                       f"{name(head.seq)}, which its chain does not have",)
    ledger.record_many({"subject": s, "document": "terms", "at": "2025-03-01"}
                       for s in in_chain(ledger, short, head.seq)[1:])
    assert ledger.verify().part_of_problems == (f"event {name(member.seq)} is recorded as part "
                                                f"of event {name(head.seq)}, which comes after it",)


def test_a_member_part_of_itself_or_of_a_member_and_a_record_made_a_member_are_found(ledger):
    """Rows appended through the engine's own append with their heads wrong, and a record's
    ``part_of`` edited from none to 0, which its hash does not tell apart."""
    rows = resolved(ledger, "itself")
    append_rows(ledger, [rows[0], rows[1]._replace(head=1)])
    rows = resolved(ledger, "of-a-member")
    append_rows(ledger, [*rows, rows[1]._replace(head=1)])
    ledger.record("made-a-member", "terms", at="2025-02-01")
    itself, of_a_member, made = (ledger.history(s) for s in ("itself", "of-a-member",
                                                               "made-a-member"))
    tamper(ledger, ("UPDATE events SET part_of = 0 WHERE chain = ? AND seq = ?",
                    (made[0].chain, made[0].seq)))
    result = ledger.verify()
    assert (result.ok, result.wrong_part_of, result.status_differences) == (False, 4, 0)
    first, second, third = (label(result, events[0].chain) for events in (itself, of_a_member, made))
    assert set(result.part_of_problems) == {
        f"event {first(itself[1].seq)} is recorded as part of itself",
        f"event {second(of_a_member[2].seq)} is recorded as part of event "
        f"{second(of_a_member[1].seq)}, itself part of event {second(of_a_member[0].seq)}",
        f"event {third(made[0].seq)} is recorded as part of event {third(0)}, which its chain "
        f"does not have",
        f"event {third(made[1].seq)} is recorded as part of event {third(made[0].seq)}, itself "
        f"part of event {third(0)}"}
