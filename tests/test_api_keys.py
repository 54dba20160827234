"""API keys: the ``termsledger keys`` commands, then the effect through :class:`Keys`."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from consent import Ledger
from termsledger.cli import cli
from termsledger.keys import Keys, KeysError


def new_ledger(tmp_path) -> str:
    """An empty ledger file (only ``publish`` makes one; keys need one)."""
    path = tmp_path / "ledger.db"
    Ledger(path, create=True).close()
    return str(path)


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_create_prints_the_secret_once_alone_on_the_last_line(tmp_path):
    ledger = new_ledger(tmp_path)
    result = run("keys", "create", "--scope", "write", "--name", "signup", "--ledger", ledger)
    assert result.exit_code == 0, result.output
    secret = result.output.splitlines()[-1]
    key = Keys(ledger).authenticate(secret)
    assert (key.name, key.scope) == ("signup", "write")
    assert secret.startswith(f"tl_{key.id}_")


def test_create_as_json(tmp_path):
    ledger = new_ledger(tmp_path)
    result = run("keys", "create", "--scope", "admin", "--name", "ops", "--ledger", ledger, "--format", "json")
    created = json.loads(result.output)
    assert set(created) == {"id", "name", "scope", "secret"}
    assert Keys(ledger).authenticate(created["secret"]).id == created["id"]


def test_only_a_salted_hash_is_stored(tmp_path):
    ledger = new_ledger(tmp_path)
    keys = Keys(ledger)
    _, first = keys.create("a", "read")
    _, second = keys.create("b", "read")
    raw = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert first.split("_", 2)[2].encode() not in raw and second.split("_", 2)[2].encode() not in raw
    salts = sqlite3.connect(ledger).execute("SELECT salt FROM api_keys").fetchall()
    assert len(set(salts)) == 2


def test_list_and_revoke(tmp_path):
    ledger = new_ledger(tmp_path)
    key, secret = Keys(ledger).create("mailer", "read")
    listed = json.loads(run("keys", "list", "--ledger", ledger, "--format", "json").output)
    assert listed == [key.to_dict()]
    assert secret not in run("keys", "list", "--ledger", ledger).output
    result = run("keys", "revoke", key.id, "--ledger", ledger)
    assert result.exit_code == 0 and key.id in result.output
    assert Keys(ledger).authenticate(secret) is None
    assert "revoked" in run("keys", "list", "--ledger", ledger).output


def test_revoking_an_unknown_key_fails(tmp_path):
    result = CliRunner().invoke(cli, ["keys", "revoke", "nope", "--ledger", new_ledger(tmp_path)])
    assert result.exit_code == 1
    assert result.output == "Error: No API key has the id 'nope'.\n"


def test_bad_scope_and_name(tmp_path):
    keys = Keys(new_ledger(tmp_path))
    with pytest.raises(KeysError, match="Unknown scope 'root'"):
        keys.create("x", "root")
    with pytest.raises(KeysError, match="needs a name"):
        keys.create(" ", "read")


@pytest.mark.parametrize("secret", ["", "tl_", "tl__", "x_y_z", "tl_abc", "🙂", "tl_" + "a" * 5000])
def test_malformed_secrets_are_unknown(tmp_path, secret):
    keys = Keys(new_ledger(tmp_path))
    key, good = keys.create("x", "read")
    assert keys.authenticate(secret) is None
    assert keys.authenticate(good[:-1] + ("A" if good[-1] != "A" else "B")) is None


def test_scopes_include_lesser_ones():
    keys = Keys(":memory:")
    admin = keys.authenticate(keys.create("a", "admin")[1])
    read = keys.authenticate(keys.create("r", "read")[1])
    assert admin.allows("read") and admin.allows("write") and admin.allows("admin")
    assert read.allows("read") and not read.allows("write")


def test_serve_refuses_a_missing_ledger(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--ledger", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "`termsledger publish` creates one" in result.output
