"""Ledger locations that are malformed URLs, URLs of other schemes, or PostgreSQL URLs the server
refuses: one line naming the ledger, exit 1, never a traceback nor a password."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

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
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "terms.md").write_text("---\ntitle: T\neffective: 2026-01-01\n---\n"
                                                   "# T\n\nBody.\n")
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
