"""Ledger locations that are malformed URLs, URLs of other schemes, or PostgreSQL URLs the server
refuses: one line naming the ledger, exit 1, never a traceback nor a password."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from click.testing import CliRunner
from support.ledger import example

from consent import Ledger
from termsledger.cli import cli

SECRET = "s3cretPW"


def refused(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert SECRET not in result.output and "s3c" not in result.output and "retPW" not in result.output
    return result.output


@pytest.mark.parametrize("url, said", [
    (f"postgresql://u@127.0.0.1:1/db?password={SECRET}&sslmode=bogus",
     "postgresql://u@127.0.0.1:1/db?password=***&sslmode=bogus"),
    (f"mysql://u:{SECRET}@h/db", "the ledger mysql://u:***@h/db is neither a file path nor a "
                                 "postgresql:// URL"),
    (f"sqlite://u:{SECRET}@h/db", "sqlite://u:***@h/db is neither a file path nor a "
                                  "postgresql:// URL"),
    (f"x://u:{SECRET}@h", "x://u:***@h is neither"),
    ("postgresql://u:s3cret%zzPW@127.0.0.1:1/db",
     "postgresql://u:***@127.0.0.1:1/db is not a valid PostgreSQL URL: invalid percent-encoded"),
    ("postgresql://u:s3c@retPW@127.0.0.1:1/db", "postgresql://u:***@127.0.0.1:1/db is not a "
                                                "valid PostgreSQL URL: its user name or password "
                                                "holds '@' (write it %40)"),
    (f"postgresql://u:{SECRET}@127.0.0.1:1,127.0.0.1:2/db",
     "postgresql://u:***@127.0.0.1:1,127.0.0.1:2/db"),
    (f"postgresql://u:{SECRET}@[::1/db", "postgresql://u:***@[::1/db is not a valid PostgreSQL "
                                         "URL"),
    (f"postgresql://u:{SECRET}@127.0.0.1:99999/db", "postgresql://u:***@127.0.0.1:99999/db is "
     "not a valid PostgreSQL URL: the port '99999' is not a number from 1 to 65535"),
    (f"postgresql://u:{SECRET}@h:x/db", "the port 'x' is not a number"),
    (f"postgresql://u:{SECRET}@[::1]:x,h/db", "postgresql://u:***@[::1]:x,h/db is not a valid "
     "PostgreSQL URL: the port 'x' is not a number from 1 to 65535"),
])
def test_a_bad_ledger_url_is_one_line_without_its_password(url, said, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    content(tmp_path)
    assert said in refused("consent", "status", "u", "terms", "--ledger", url)
    assert said in refused("check", env={"TERMSLEDGER_LEDGER": url})
    assert said in refused("ledger", "copy", url, "copy.db")


def test_a_copy_into_a_url_of_another_scheme_is_refused(tmp_path):
    with Ledger(tmp_path / "a.db", create=True):
        pass
    said = refused("ledger", "copy", str(tmp_path / "a.db"), f"mysql://u:{SECRET}@h/db")
    assert "mysql://u:***@h/db is neither a file path nor a postgresql:// URL" in said
    assert not list(tmp_path.glob("mysql*"))


def test_shown_masks_every_password_and_never_fails():
    assert Ledger.shown(f"postgresql://u:{SECRET}@h:5432,g:x/db?sslmode=require&PASSWORD={SECRET}"
                        ) == "postgresql://u:***@h:5432,g:x/db?sslmode=require&PASSWORD=***"
    assert Ledger.shown(f"postgresql://u:{SECRET}@[::1/db") == "postgresql://u:***@[::1/db"
    assert Ledger.shown("postgresql://u@h/db") == "postgresql://u@h/db"


def content(folder: Path) -> None:
    (folder / "content").mkdir()
    (folder / "content" / "terms.md").write_text("---\ntitle: T\neffective: 2026-01-01\n---\n"
                                                 "# T\n\nBody.\n")


@pytest.mark.parametrize("options, said", [
    ("-csearch_path=nosuch", "no schema of the search_path (nosuch) exists in the database "
                             "termsledger_test_"),
    ("-cdefault_transaction_read_only=on", "cannot execute CREATE TABLE in a read-only "
                                           "transaction"),
])
def test_a_database_that_cannot_hold_the_ledger_is_refused_in_one_line(options, said, postgres,
                                                                      tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    content(tmp_path)
    url = postgres.location() + "&options=" + quote(options)
    output = CliRunner().invoke(cli, ["publish", "--ledger", url], catch_exceptions=False).output
    assert output.startswith(f"Error: the ledger {Ledger.shown(url)} cannot be used: ")
    assert said in output and "try again later" not in output and output.count("\n") == 1


def wrong(url: str, **parts: str) -> str:
    split = urlsplit(url)
    netloc = f"{split.username}:{SECRET}@{split.hostname}:{split.port}"
    return urlunsplit(split._replace(netloc=netloc, **parts))


def test_permanent_problems_are_not_to_try_again_later(postgres, tmp_path):
    """A wrong password, a bad option, a damaged file or a backup that cannot be written say
    what is wrong; a server that does not answer is still to try again later."""
    admin = postgres.admin
    for url, said in [
            (wrong(admin), "password authentication failed"),
            (admin + "?sslmode=bogus", 'invalid sslmode value: "bogus"'),
            (admin + "?options=-cbogus%3D1", 'unrecognized configuration parameter "bogus"'),
            (admin.rsplit("/", 1)[0] + "/no_such_database", 'database "no_such_database" does '
                                                            'not exist')]:
        output = refused("consent", "status", "u", "terms", "--ledger", url)
        assert output.startswith(f"Error: the ledger {Ledger.shown(url)} cannot be used: ")
        assert said in output and "try again later" not in output
        assert "fix the URL" in output
    down = refused("consent", "status", "u", "terms", "--ledger", "postgresql://u@127.0.0.1:1/d")
    assert "cannot be used now" in down and "try again later" in down
    damaged = tmp_path / "damaged.db"
    with Ledger(damaged, create=True) as ledger:
        ledger.publish(example())
    with damaged.open("r+b") as file:
        file.seek(4096 * 3)
        file.write(b"\xff" * 4096 * 20)
    output = refused("consent", "verify", "--ledger", str(damaged))
    assert output.startswith(f"Error: the ledger {damaged} is damaged (database disk image is "
                             f"malformed): restore it from a backup")
    with Ledger(tmp_path / "live.db", create=True) as ledger:
        ledger.publish(example())
    output = refused("ledger", "backup", "/proc/x.db", "--ledger", str(tmp_path / "live.db"))
    assert output == ("Error: the backup /proc/x.db cannot be written (unable to open database "
                      "file): name a new file in a folder you may write to\n")
    assert not Path("/proc/x.db").exists()


def test_the_api_answers_a_permanent_refusal_with_503_without_retry_after():
    from consent import StorageRefused, StorageUnavailable
    from termsledger._http import as_api_error

    refusal = as_api_error(StorageRefused("the ledger x cannot be used: ..."))
    assert (refusal.status_code, refusal.code, refusal.headers) == (503, "storage_refused", None)
    assert as_api_error(StorageUnavailable("x")).status_code == 503


def test_a_ledger_without_its_table_of_migrations_is_refused_unchanged(tmp_path):
    """Migrating it would write to it (and fail on tables it already has): a read must not."""
    import sqlite3

    damaged = tmp_path / "damaged.db"
    with Ledger(damaged, create=True) as ledger:
        ledger.publish(example())
    with sqlite3.connect(damaged) as conn:
        conn.execute("DROP TABLE _sqlite_migrations")
    conn.close()
    before = damaged.read_bytes()
    output = refused("consent", "status", "u", "terms", "--ledger", str(damaged))
    assert output == (f"Error: the ledger {damaged} is damaged (its table _sqlite_migrations is missing): "
                      f"restore it from a backup (`termsledger ledger backup` makes them); nothing was "
                      f"changed\n")
    assert damaged.read_bytes() == before
