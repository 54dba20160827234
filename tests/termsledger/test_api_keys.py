"""API keys: the ``termsledger keys`` commands, then the effect through ``Ledger.keys``."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
from click.testing import CliRunner

from consent import KeysError, Ledger
from termsledger.cli import cli
from termsledger.cli_serve import MAX_WORKERS


def new_ledger(tmp_path) -> str:
    """An empty ledger file (only ``publish`` makes one; keys need one)."""
    path = tmp_path / "ledger.db"
    Ledger(path, create=True).close()
    return str(path)


def authenticate(ledger: str, secret: str):
    with Ledger(ledger) as opened:
        return opened.keys.authenticate(secret)


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_create_prints_the_secret_once_alone_on_the_last_line(tmp_path):
    ledger = new_ledger(tmp_path)
    result = run("keys", "create", "--scope", "write", "--name", "signup", "--ledger", ledger)
    assert result.exit_code == 0, result.output
    secret = result.output.splitlines()[-1]
    key = authenticate(ledger, secret)
    assert (key.name, key.scope) == ("signup", "write")
    assert secret.startswith(f"tl_{key.id}_")


def test_create_as_json(tmp_path):
    ledger = new_ledger(tmp_path)
    result = run("keys", "create", "--scope", "admin", "--name", "ops", "--ledger", ledger,
                 "--format", "json")
    created = json.loads(result.output)
    assert set(created) == {"id", "name", "scope", "secret"}
    assert authenticate(ledger, created["secret"]).id == created["id"]


def test_only_a_salted_hash_is_stored(tmp_path):
    ledger = new_ledger(tmp_path)
    with Ledger(ledger) as opened:
        _, first = opened.keys.create("a", "read")
        _, second = opened.keys.create("b", "read")
    raw = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert first.split("_", 2)[2].encode() not in raw and second.split("_", 2)[2].encode() not in raw
    salts = sqlite3.connect(ledger).execute("SELECT salt FROM api_keys").fetchall()
    assert len(set(salts)) == 2


def test_list_and_revoke(tmp_path):
    ledger = new_ledger(tmp_path)
    with Ledger(ledger) as opened:
        key, secret = opened.keys.create("mailer", "read")
    listed = json.loads(run("keys", "list", "--ledger", ledger, "--format", "json").output)
    assert listed == [key.to_dict()]
    assert secret not in run("keys", "list", "--ledger", ledger).output
    result = run("keys", "revoke", key.id, "--ledger", ledger)
    assert result.exit_code == 0 and key.id in result.output
    assert authenticate(ledger, secret) is None
    assert "revoked" in run("keys", "list", "--ledger", ledger).output


def test_revoking_an_unknown_key_fails(tmp_path):
    result = CliRunner().invoke(cli, ["keys", "revoke", "nope", "--ledger", new_ledger(tmp_path)])
    assert result.exit_code == 1
    assert result.output == "Error: No API key has the id 'nope'.\n"


def test_bad_scope_and_name(tmp_path):
    with Ledger(new_ledger(tmp_path)) as opened:
        with pytest.raises(KeysError, match="Unknown scope 'root'"):
            opened.keys.create("x", "root")
        with pytest.raises(KeysError, match="needs a name"):
            opened.keys.create(" ", "read")
        with pytest.raises(KeysError, match=r"without control characters: 'a\\x1b\[31mb'"):
            opened.keys.create("a\x1b[31mb", "read")  # a terminal would show "ab", in red
        assert opened.keys.list() == []


@pytest.mark.parametrize("secret", ["", "tl_", "tl__", "x_y_z", "tl_abc", "🙂", "tl_" + "a" * 5000])
def test_malformed_secrets_are_unknown(tmp_path, secret):
    with Ledger(new_ledger(tmp_path)) as opened:
        _, good = opened.keys.create("x", "read")
        assert opened.keys.authenticate(secret) is None
        assert opened.keys.authenticate(good[:-1] + ("A" if good[-1] != "A" else "B")) is None


@pytest.mark.parametrize("key_id", ["\x00", "a\x00b", "\udcff"])
def test_a_key_id_no_key_can_have_is_unknown_on_each_engine(where, key_id):
    """A NUL (PostgreSQL's text holds none) or a lone surrogate (a command line's undecodable
    byte: no engine stores one) failed in the storage, with a traceback from the CLI."""
    with Ledger(where("ledger.db"), create=True) as opened:
        opened.keys.create("x", "read")
        assert opened.keys.authenticate(f"tl_{key_id}_secret") is None
        with pytest.raises(KeysError, match="^No API key has the id "):
            opened.keys.revoke(key_id)
        assert opened.keys.list()[0].revoked is None


def test_scopes_include_lesser_ones(tmp_path):
    with Ledger(new_ledger(tmp_path)) as opened:
        admin = opened.keys.authenticate(opened.keys.create("a", "admin")[1])
        read = opened.keys.authenticate(opened.keys.create("r", "read")[1])
    assert admin.allows("read") and admin.allows("write") and admin.allows("admin")
    assert read.allows("read") and not read.allows("write")


def test_serve_refuses_a_missing_ledger(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--ledger", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "`termsledger publish` creates one" in result.output


@pytest.mark.parametrize("option,value,message", [
    ("--port", "99999", "Invalid value for '--port': 99999 is not in the range 0<=x<=65535."),
    ("--port", "-1", "Invalid value for '--port': -1 is not in the range 0<=x<=65535."),
    ("--workers", "100000", f"Invalid value for '--workers': 100000 is not in the range "
                            f"1<=x<={MAX_WORKERS}."),
])
def test_serve_refuses_a_port_or_a_number_of_workers_out_of_range(tmp_path, option, value, message):
    result = CliRunner().invoke(cli, ["serve", "--ledger", str(tmp_path / "none.db"), option, value])
    assert result.exit_code == 2
    assert result.output.endswith(f"Error: {message}\n")


def refused_within(keys, secret: str, seconds: float) -> bool:
    """Whether ``keys`` refuses ``secret`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    while keys.authenticate(secret) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_key_revoked_by_another_process_is_refused_although_remembered(where):
    """On PostgreSQL a server remembers the keys it verified; the revocation's notification
    makes it forget them (within milliseconds of the commit)."""
    location = where()
    Ledger(location, create=True).close()
    with Ledger(location) as serving, Ledger(location) as other:
        key, secret = other.keys.create("soon revoked", "read")
        _, kept = other.keys.create("kept", "read")
        for _ in range(50):  # long enough for the server's listener to connect
            assert serving.keys.authenticate(secret) == key
            assert serving.keys.authenticate(kept) is not None
            time.sleep(0.01)
        other.keys.revoke(key.id)
        assert refused_within(serving.keys, secret, 2.0)
        assert serving.keys.authenticate(kept) is not None
        with serving._store.write() as tx:  # a change made outside termsledger counts as well
            tx.execute("UPDATE api_keys SET revoked = 'now' WHERE name = 'kept'")
        assert refused_within(serving.keys, kept, 2.0)


def test_a_key_revoked_here_is_refused_at_once(where):
    location = where()
    Ledger(location, create=True).close()
    with Ledger(location) as opened:
        key, secret = opened.keys.create("soon revoked", "write")
        for _ in range(50):
            assert opened.keys.authenticate(secret) == key
            time.sleep(0.01)
        opened.keys.revoke(key.id)
        assert opened.keys.authenticate(secret) is None


def test_on_postgresql_a_key_verified_is_not_read_again_until_keys_change(postgres):
    location = postgres.location()
    Ledger(location, create=True).close()
    with Ledger(location) as serving, Ledger(location) as other:
        key, secret = other.keys.create("kept", "read")
        deadline = time.monotonic() + 5
        while serving._store.keys_generation() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # until the listener hears its own notification
        assert serving.keys.authenticate(secret) == key
        with other._store.write() as tx:  # a read of the key would fail now
            tx.execute("ALTER TABLE api_keys RENAME TO api_keys_away")
        try:
            assert serving.keys.authenticate(secret) == key
        finally:
            with other._store.write() as tx:
                tx.execute("ALTER TABLE api_keys_away RENAME TO api_keys")
