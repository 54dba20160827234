"""``termsledger serve`` refuses, before it starts, an address it could not listen on and
options the server would misread: the value named, a non-zero exit, nothing served."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from termsledger.cli import cli


def serve(*options: str):
    return CliRunner().invoke(cli, ["serve", "--ledger", "no-such-ledger.db", *options])


def test_a_port_in_use_is_named():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve("--port", str(port))
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1 port {port}: Address already in use" in result.output
    assert "Traceback" not in result.output


def test_a_host_that_does_not_resolve_is_named():
    result = serve("--host", "no-such-host.invalid", "--port", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--host': 'no-such-host.invalid' is neither an address nor a name" \
        in result.output


@pytest.mark.parametrize(("value", "said"), [
    ("10.0.0.0/33", "'10.0.0.0/33' is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/8 or *)"),
    ("127.0.0.1, proxy.internal", "'proxy.internal' is not an IP address or network"),
    ("10.0.0.1/8", "'10.0.0.1/8' is not an IP address or network; write 10.0.0.0/8 for its network"),
])
def test_a_trusted_proxy_that_is_no_address_is_refused(value, said):
    """uvicorn would take it for a name no peer has: the user's address would go unrecorded."""
    result = serve("--trusted-proxies", value, "--port", "0")
    assert result.exit_code == 2
    assert said in result.output


@pytest.mark.parametrize("value", ["consent", "/consent/", "/con sent"])
def test_a_root_path_that_is_no_path_prefix_is_refused(value):
    result = serve("--root-path", value, "--port", "0")
    assert result.exit_code == 2
    assert f"'--root-path': {value!r} is not a path prefix: write it as /consent" in result.output


def test_valid_options_reach_the_ledger():
    """Every option above, valid, passes: what stops the server is the missing ledger."""
    result = serve("--host", "localhost", "--port", "0", "--trusted-proxies", "10.0.0.0/8, ::1, *",
                   "--root-path", "/consent")
    assert result.exit_code == 1
    assert "no ledger at no-such-ledger.db" in result.output
