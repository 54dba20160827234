"""``termsledger publish`` and ``termsledger consent ...`` through click's runner."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner
from support.ledger import record_as_before_78204ed
from support.repo import front

from consent import Ledger
from termsledger.cli import cli
from termsledger.cli_consent import consent


@pytest.fixture
def repo(content_repo):
    content_repo.commit("2025-01-01T09:00:00", **{
        "terms.md": front(title="Terms", slug="terms", effective="2025-01-01", summary="First",
                          references=["privacy"]) + "# Use\n\nBe nice.\n",
        "privacy.md": front(title="Privacy", slug="privacy", effective="2025-01-01",
                            summary="First") + "# Data\n\nWe keep little.\n"})
    content_repo.commit("2026-01-01T09:00:00", **{
        "terms.md": front(title="Terms", slug="terms", effective="2026-02-01", summary="Fees",
                          material=True, references=["privacy"]) + "# Use\n\nBe nice. Pay.\n"})
    return content_repo


def run(*args, code=0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def data(*args):
    return json.loads(run(*args).output)


def test_publish_record_status_and_rights(repo, tmp_path):
    db = tmp_path / "l.db"
    published = data("publish", "--content", repo.path, "--ledger", db)
    assert len(published["added"]) == 3
    assert data("publish", "--content", repo.path, "--ledger", db)["unchanged"] == 3
    events = data("consent", "record", "u1", "terms", "--version", "2025-01-01", "--at", "2025-06-01",
                  "--evidence", '{"ip": "192.0.2.1"}', "--ledger", db)
    assert [(e["document"], e["version"]) for e in events] == [("terms", "2025-01-01"),
                                                              ("privacy", "2025-01-01")]
    assert events[0]["evidence"] == {"ip": "192.0.2.1"} and events[0]["channel"] == "cli"
    status = data("consent", "status", "u1", "terms", "--ledger", db)
    assert {k: status[k] for k in ("subject", "document", "status", "accepted_version",
                                   "current_version")} == {
        "subject": "u1", "document": "terms", "status": "reaccept",
        "accepted_version": "2025-01-01", "current_version": "2026-02-01"}
    assert [s["document"] for s in data("consent", "status", "u1", "--ledger", db)] == [
        "privacy", "terms"]
    assert data("consent", "pending", "terms", "2026-02-01", "--ledger", db)["subjects"] == ["u1"]
    page = data("consent", "pending", "terms", "2026-02-01", "--limit", "1", "--ledger", db)
    assert page["subjects"] == ["u1"] and page["next_cursor"]
    assert data("consent", "pending", "terms", "2026-02-01", "--limit", "1",
                "--cursor", page["next_cursor"], "--ledger", db)["subjects"] == []
    assert data("consent", "mark-notified", "terms", "2026-02-01", "u1", "--ledger", db) == {
        "marked": 1, "unknown": []}
    assert data("consent", "mark-notified", "terms", "2026-02-01", "u1", "nobody", "--ledger",
                db) == {"marked": 0, "unknown": ["nobody"]}
    assert [e["action"] for e in data("consent", "history", "u1", "--ledger", db)] == [
        "accepted", "accepted", "notified"]
    assert len(data("consent", "export", "u1", "--ledger", db)["events"]) == 3
    erased = data("consent", "erase", "u1", "--ledger", db)
    assert erased["pseudonym"].startswith("erased:") and erased["events"] == 3
    assert data("consent", "verify", "--ledger", db)["ok"] is True


def test_publish_refuses_a_rewritten_version(repo, tmp_path):
    db = tmp_path / "l.db"
    run("publish", "--content", repo.path, "--ledger", db)
    repo.commit("2026-03-01T09:00:00", **{"privacy.md": front(
        title="Privacy", slug="privacy", effective="2025-01-01", summary="First")
        + "# Data\n\nWe keep everything.\n"})
    result = run("publish", "--content", repo.path, "--ledger", db, code=1)
    assert result.output.startswith("privacy.md:9: error: version 2025-01-01 took effect on 2025-01-01 "
                                    "with the text of commit ")  # found by the check publish runs
    assert "Error: nothing published" in result.output


def test_publish_refuses_uncommitted_text_of_a_git_repository(repo, tmp_path):
    db = tmp_path / "l.db"
    repo.write("privacy.md", front(title="Privacy", slug="privacy", effective="2027-03-01",
                                   summary="Typo", material=False) + "# Data\n\nWe keep little!\n")
    result = run("publish", "--content", repo.path, "--ledger", db, code=1)
    assert result.output.startswith("Error: privacy version 2027-03-01 (privacy.md) is not "
                                    "committed to git")
    published = data("publish", "--content", repo.path, "--ledger", db, "--allow-uncommitted")
    assert ["privacy", "2027-03-01"] in published["added"]


def test_publish_from_a_plain_folder(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "terms.md").write_text(front(
        title="Terms", slug="terms", effective="2025-01-01", summary="First") + "Be nice.\n")
    published = data("publish", "--content", tmp_path / "plain", "--ledger", tmp_path / "l.db")
    assert published["added"] == [["terms", "2025-01-01"]]


def test_publish_refuses_content_with_errors(repo, tmp_path):
    repo.commit("2026-03-01T09:00:00", **{"privacy.md": front(
        title="Privacy", slug="privacy", effective="2026-04-01", summary="Refs",
        references=["nope"]) + "# Data\n\nWe keep little.\n"})
    result = run("publish", "--content", repo.path, "--ledger", tmp_path / "l.db", code=1)
    assert "privacy.md:" in result.output and "references 'nope'" in result.output
    assert "Error: nothing published: the content has 1 error(s)" in result.output
    assert not (tmp_path / "l.db").exists()


def test_errors_are_clear_and_exit_non_zero(repo, tmp_path):
    db = tmp_path / "l.db"
    run("publish", "--content", repo.path, "--ledger", db)
    cases = [
        (["record", "u", "terms", "--evidence", "{oops"], "Error: --evidence is not valid JSON"),
        (["record", "u", "terms", "--evidence", "[1]"],
         "Error: evidence must be a JSON object, not list: [1]"),
        (["record", "u", "terms", "--evidence", '{"a": 1, "a": 2}'],
         "Error: --evidence is not valid: duplicate key 'a'\n"),
        (["record", "u", "terms", "--evidence", '{"ua": {"b": 1, "b" : 2}}'],
         "Error: --evidence is not valid: duplicate key 'b'\n"),
        (["record", "u", "terms", "--evidence", '{"n": ' + "9" * 5000 + "}"],
         "Error: --evidence is not valid JSON: a number has more than 4300 digits\n"),
        (["record", "u", "terms", "--evidence", '{"a": ' + "[" * 5000 + "]" * 5000 + "}"],
         "Error: --evidence is not valid JSON: nested too deeply\n"),
        (["record", "u", "terms", "--evidence", '{"a": ' + "[" * 40 + "]" * 40 + "}"],
         "Error: evidence must be nested at most 32 levels deep"),
        (["record", "u", "nope"], "Error: document 'nope' is not published"),
        (["record", "", "terms"], "Error: subject must not be empty"),
        (["erase", "nobody"], "Error: subject 'nobody' is not in the ledger"),
        (["pending", "terms", "2026-02-01", "--cursor", "bad"], "Error: cursor 'bad' is not"),
    ]
    for args, message in cases:
        result = run("consent", *args, "--ledger", db, code=1)
        assert result.output.startswith(message), result.output


def test_verify_exits_1_when_the_chain_is_broken(repo, tmp_path):
    db = tmp_path / "l.db"
    run("publish", "--content", repo.path, "--ledger", db)
    run("consent", "record", "u", "terms", "--ledger", db)
    run("consent", "record", "v", "terms", "--ledger", db)
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute("DELETE FROM events WHERE seq = 2")
    conn.commit()
    conn.close()
    result = run("consent", "verify", "--ledger", db, code=1)
    assert json.loads(result.output)["first_bad"] == 2


def test_the_ledger_defaults_to_the_configured_one(repo, tmp_path, monkeypatch):
    (repo.path / "termsledger.toml").write_text('content = "."\nledger = "data.db"\n')
    monkeypatch.chdir(repo.path)
    run("publish")
    assert (repo.path / "data.db").exists()
    run("consent", "record", "u", "terms")
    with Ledger(repo.path / "data.db") as ledger:
        assert ledger.status("u", "terms").status == "current"


@pytest.mark.parametrize("command", list(consent.commands.values()))
def test_commands_have_help(command):
    assert command.help and "Example:" in command.help


LEDGER_COMMANDS = [
    ["consent", "verify"], ["consent", "status", "u"], ["consent", "status", "u", "terms"],
    ["consent", "record", "u", "terms"], ["consent", "pending", "terms", "2026-02-01"],
    ["consent", "mark-notified", "terms", "2026-02-01", "u"], ["consent", "history", "u"],
    ["consent", "export", "u"], ["consent", "erase", "u"], ["serve"], ["keys", "list"],
    ["keys", "create", "--scope", "read", "--name", "x"], ["keys", "revoke", "abc"],
]


@pytest.mark.parametrize("args", LEDGER_COMMANDS, ids=" ".join)
def test_only_publish_creates_a_ledger(tmp_path, args):
    missing = tmp_path / "typo.db"
    result = run(*args, "--ledger", missing, code=1)
    assert result.output == (f"Error: no ledger at {missing}: the file does not exist "
                             f"(`termsledger publish` creates one)\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", LEDGER_COMMANDS, ids=" ".join)
def test_a_file_that_is_not_a_ledger_is_refused_and_left_alone(tmp_path, args):
    text = tmp_path / "notes.db"
    text.write_text("these are my notes, not a database\n" * 200)
    result = run(*args, "--ledger", text, code=1)
    assert result.output == f"Error: {text} is not a termsledger ledger: not an SQLite database\n"
    other = tmp_path / "app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    result = run(*args, "--ledger", other, code=1)
    assert result.output == (f"Error: {other} is not a termsledger ledger: an SQLite database "
                             f"without the ledger's tables\n")
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "notes.db"]


def test_text_that_is_not_valid_unicode_or_a_control_character_is_one_line(repo, tmp_path):
    db = tmp_path / "l.db"
    run("publish", "--content", repo.path, "--ledger", db)
    cases = [
        (["record", "u\udcff", "terms"], "Error: subject is not valid Unicode: a lone surrogate "
                                        "'\\udcff' at position 1\n"),
        (["record", "u", "terms", "--evidence", '{"note": "\\ud800"}'],
         "Error: evidence.note is not valid Unicode: a lone surrogate '\\ud800' at position 0\n"),
        (["record", "u", "terms", "--channel", "web\ud800"],
         "Error: channel must be printable text of 1 to 64 characters, not 'web\\ud800'\n"),
        (["status", "a\x1b[2Jb", "terms"], "Error: subject must not contain control characters: "
                                           "'a\\x1b[2Jb' has '\\x1b' at position 1\n"),
        (["history", "a\u202eb"], "Error: subject must not contain control characters: "
                                  "'a\\u202eb' has '\\u202e' at position 1\n"),
        (["erase", "a\nb"], "Error: subject must not contain control characters: 'a\\nb' has "
                            "'\\n' at position 1\n"),
    ]
    for args, message in cases:
        result = run("consent", *args, "--ledger", db, code=1)
        assert result.output == message
    run("consent", "record", "jose\u0301", "terms", "--ledger", db)
    assert data("consent", "status", "jos\u00e9", "terms", "--ledger", db)["status"] == "current"


def test_damaged_rows_are_reported_and_reading_goes_on(repo, tmp_path):
    db = tmp_path / "l.db"
    run("publish", "--content", repo.path, "--ledger", db)
    run("consent", "record", "u", "terms", "--evidence", '{"ip": "192.0.2.1"}', "--ledger", db)
    run("consent", "record", "u", "terms", "--action", "withdrawn", "--ledger", db)
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET at = 'noon', action = 42 WHERE seq = 1")
    conn.execute("UPDATE personal SET evidence = '{broken' WHERE seq = 1")
    conn.commit()
    conn.close()
    history = data("consent", "history", "u", "--ledger", db)
    assert [(e["seq"], e["problem"]) for e in history] == [
        (1, "at is 'noon', not a whole number; action code 42 is not one the ledger writes; "
            "evidence is not a JSON object"), (2, None), (3, None)]
    assert [e["seq"] for e in data("consent", "export", "u", "--ledger", db)["events"]] == [1, 2, 3]
    verified = json.loads(run("consent", "verify", "--ledger", db, code=1).output)
    assert (verified["first_bad"], verified["problem"]) == (
        1, "event 1 is malformed: action code 42 is not one the ledger writes")


def test_verify_reports_a_tampered_status_table_and_repair_rebuilds_it(repo, tmp_path):
    db = tmp_path / "l.db"
    run("publish", "--content", repo.path, "--ledger", db)
    run("consent", "record", "u", "terms", "--ledger", db)
    run("consent", "record", "u", "terms", "--action", "withdrawn", "--ledger", db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE status SET state = 1")
    conn.commit()
    conn.close()
    assert data("consent", "status", "u", "terms", "--ledger", db)["status"] == "current"
    found = json.loads(run("consent", "verify", "--ledger", db, code=1).output)
    assert found["status_differences"] == 1 and found["repaired"] == 0
    assert found["status_problems"][0].startswith("the status of subject 'u' for terms says "
                                                  "accepted 2026-02-01 on ")
    repaired = data("consent", "verify", "--repair", "--ledger", db)
    assert (repaired["ok"], repaired["repaired"]) == (True, 1)
    assert data("consent", "status", "u", "terms", "--ledger", db)["status"] == "withdrawn"
    assert data("consent", "verify", "--ledger", db)["ok"] is True


def test_verify_prints_its_limits_and_checks_an_anchor(repo, tmp_path):
    db = tmp_path / "l.db"
    run("publish", "--content", repo.path, "--ledger", db)
    run("consent", "record", "u", "terms", "--ledger", db)
    kept = data("consent", "verify", "--ledger", db)
    assert "cannot tell events cut from the end" in kept["limits"]
    anchor = f"{kept['events']}:{kept['head']}"
    run("consent", "record", "v", "terms", "--ledger", db)
    assert data("consent", "verify", "--anchor", anchor, "--ledger", db)["ok"] is True
    wrong = run("consent", "verify", "--anchor", f"1:{'f' * 64}", "--ledger", db, code=1)
    assert json.loads(wrong.output)["problem"].startswith("event 1 does not have the anchor's hash")
    bad = run("consent", "verify", "--anchor", "nonsense", "--ledger", db, code=1)
    assert bad.output.startswith("Error: anchor must be EVENTS:HEAD")



def test_verify_names_a_bundle_member_that_is_part_of_another_subjects_record(repo, tmp_path):
    """As records batched together on PostgreSQL were stored before commit 78204ed (see
    ``support.ledger.record_as_before_78204ed``): the hashes are consistent, part_of wrong."""
    db = tmp_path / "l.db"
    run("publish", "--content", repo.path, "--ledger", db)
    with Ledger(db) as ledger:
        record_as_before_78204ed(ledger, ["first", "second"])
    found = json.loads(run("consent", "verify", "--ledger", db, code=1).output)
    assert (found["ok"], found["first_bad"], found["wrong_part_of"]) == (False, 4, 1)
    assert found["part_of_problems"] == ["event 4 is recorded as part of event 1, another subject's"]
    assert found["problem"].startswith("1 bundle member is recorded as part of another event than "
                                       "its record's")

def test_every_command_takes_a_postgresql_url_from_the_option_the_environment_or_the_config(
        repo, postgres, monkeypatch):
    url = postgres.location()
    assert data("publish", "--content", repo.path, "--ledger", url)["added"]
    monkeypatch.setenv("TERMSLEDGER_LEDGER", url)
    assert data("consent", "record", "pg-1", "terms")[0]["chain"] in range(32)
    monkeypatch.delenv("TERMSLEDGER_LEDGER")
    (repo.path / "termsledger.toml").write_text(f'content = "."\nledger = "{url}"\n')
    monkeypatch.chdir(repo.path)
    assert data("consent", "status", "pg-1", "terms")["status"] == "current"
    sealed = data("consent", "seal")
    assert sealed["chains"] == 32 and sealed["events"] == 2
    assert data("consent", "verify", "--anchor", f"{sealed['events']}:{sealed['root']}")["ok"]
    created = run("keys", "create", "--scope", "read", "--name", "mailer", "--format", "json")
    assert json.loads(created.output)["name"] == "mailer"
    assert data("consent", "checkpoint") == {"vacuumed": True}
    missing = run("consent", "status", "x", "--ledger", postgres.location(), code=1)
    assert "no ledger in postgresql://termsledger_test:***@" in missing.output


def test_status_at_a_moment(repo, tmp_path):
    db = tmp_path / "l.db"
    run("publish", "--content", repo.path, "--ledger", db)
    run("consent", "record", "u1", "terms", "--version", "2025-01-01", "--at", "2025-06-01", "--ledger", db)
    then = data("consent", "status", "u1", "terms", "--at", "2026-01-15T12:00:00+01:00",
                "--ledger", db)
    assert (then["status"], then["announced_version"]) == ("announced", "2026-02-01")
    assert data("consent", "status", "u1", "terms", "--ledger", db)["status"] == "reaccept"
    every = data("consent", "status", "u1", "--at", "2025-06-01", "--ledger", db)
    assert {s["document"]: s["current_version"] for s in every} == {"privacy": "2025-01-01",
                                                                    "terms": "2025-01-01"}
    for bad in ("yesterday", "1700000000", "0001-01-01T00:00:00+01:00"):
        result = run("consent", "status", "u1", "terms", "--at", bad, "--ledger", db, code=2)
        assert f"Invalid value for '--at': {bad!r} is not an ISO-8601 date and time" in result.output
        assert "Traceback" not in result.output


def test_publish_marks_the_documents_required_at_signup(repo, tmp_path):
    db = tmp_path / "l.db"
    repo.write("termsledger.toml", '[consent]\nrequired = ["terms"]\n')
    run("publish", "--content", repo.path, "--ledger", db)
    found = data("consent", "required", "nobody", "--ledger", db)
    assert [(r["document"], r["action"], r["version"]) for r in found["required"]] == [
        ("terms", "accept", "2026-02-01")]
    repo.write("termsledger.toml", '[consent]\nrequired = ["termz"]\n')
    refused = run("publish", "--content", repo.path, "--ledger", db, code=1)
    assert refused.output == ("Error: nothing published: required names 'termz', which is not a "
                              "document of the content (its documents are: privacy, terms)\n")
    repo.write("termsledger.toml", '[consent]\nrequired = "terms"\n')
    refused = run("publish", "--content", repo.path, "--ledger", db, code=1)
    assert "[consent] required must be a list of text, not 'terms'" in refused.output
    assert data("consent", "required", "nobody", "--ledger", db) == found  # nothing changed


def test_a_decision_dated_in_the_future_is_refused_and_cannot_overrule_a_withdrawal(repo, tmp_path):
    db = tmp_path / "l.db"
    run("publish", "--content", repo.path, "--ledger", db)
    refused = run("consent", "record", "u3", "terms", "--at", "2999-01-01", "--ledger", db, code=1)
    assert "Error: at '2999-01-01T00:00:00+00:00' is in the future: a decision is recorded once made " \
           "(at defaults to now)" in refused.output
    run("consent", "record", "u3", "terms", "--ledger", db)
    run("consent", "record", "u3", "terms", "--action", "withdrawn", "--ledger", db)
    assert data("consent", "status", "u3", "terms", "--ledger", db)["status"] == "withdrawn"
    assert len(data("consent", "history", "u3", "--ledger", db)) == 3  # accepted (and its bundle), withdrawn


def test_publish_creates_no_folder_for_a_mistyped_ledger_path(repo, tmp_path):
    """A ledger is made only in a folder that exists: a typo in --ledger must not start a second
    ledger elsewhere (nor leave folders behind)."""
    missing = tmp_path / "typo" / "dir" / "ledger.db"
    refused = run("publish", "--content", repo.path, "--ledger", missing, code=1)
    assert f"Error: no folder {missing.parent} for the ledger {missing}: create the folder first" \
           in refused.output
    assert not (tmp_path / "typo").exists()
