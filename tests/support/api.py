"""Helpers for the API tests: a published ledger made from a git repository, and API keys."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

import terms
from consent import SCOPES, Ledger
from support.repo import ContentRepo, front

PRIVACY = (front(title="Privacy Policy", slug="privacy", effective="2025-01-01")
           + "# Privacy\n\nWe keep little.\n")
TERMS_V1 = (front(title="Terms of Use", slug="terms", effective="2025-03-01", references=["privacy"])
            + "# Terms\n\nVersion one.\n")
TERMS_V2 = (front(title="Terms of Use", slug="terms", effective="2025-09-15", material=True,
                  references=["privacy"])
            + "# Terms\n\n## Fees\n\nVersion two adds a fee of 5 EUR per month.\n")


def publish(repo: ContentRepo, ledger_path: Path) -> Path:
    """Commit two versions of the Terms and a Privacy Policy, and publish them to a ledger."""
    repo.commit("2025-01-10T10:00", **{"privacy.md": PRIVACY, "terms.md": TERMS_V1})
    repo.commit("2025-08-01T10:00", **{"terms.md": TERMS_V2})
    with Ledger(ledger_path, create=True) as ledger:
        ledger.publish(terms.load(repo.path))
    return ledger_path


def make_keys(ledger_path: Path) -> dict[str, str]:
    """A secret for each scope, plus ``"revoked"``: a revoked admin key."""
    with Ledger(ledger_path) as ledger:
        keys = ledger.keys
        secrets = {scope: keys.create(f"test {scope}", scope)[1] for scope in SCOPES}
        revoked, secrets["revoked"] = keys.create("old admin", "admin")
        keys.revoke(revoked.id)
    return secrets


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base_url: str, process: subprocess.Popen) -> None:
    for _ in range(150):
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode())
        try:
            if httpx.get(f"{base_url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start within 15 s")


def start_server(ledger_path: Path | str, port: int, *, workers: int = 1,
                 options: tuple[str, ...] = (), cwd: Path | None = None) -> subprocess.Popen:
    """``termsledger serve`` over ``ledger_path`` on ``port`` (with more command line
    ``options``), in a session of its own (so that its worker processes can be killed with it),
    run in ``cwd`` (where its termsledger.toml is); returns once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from termsledger.cli import cli; cli()", "serve", "--ledger",
         str(ledger_path), "--port", str(port), "--workers", str(workers), *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, start_new_session=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
    except BaseException:
        stop_server(process)
        raise
    return process


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_server(ledger_path: Path | str, *, workers: int = 1,
                   options: tuple[str, ...] = (), cwd: Path | None = None) -> Iterator[str]:
    """``termsledger serve`` over ``ledger_path`` on a free loopback port (with more command
    line ``options``, run in ``cwd``), stopped on exit; yields its base URL."""
    port = free_port()
    process = start_server(ledger_path, port, workers=workers, options=options, cwd=cwd)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)
