"""`termsledger receipt verify` starts without loading the ledger, the content model or a
database driver, so that anyone checking a receipt waits well under a second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

SCRIPT = """
import json, sys
from termsledger.cli import cli
try:
    cli(["receipt", "verify", sys.argv[1]], standalone_mode=False)
except Exception as error:
    print(error, file=sys.stderr)
print(json.dumps(sorted(sys.modules)))
"""
HEAVY = ("consent.ledger", "consent.sqlite", "consent.postgres", "terms", "sqlite3",
         "psycopg", "fastapi", "git", "numpy")
BOUND = 2.0
"""Seconds: the command takes about 0.1 s here; the bound leaves room for a loaded machine."""


def test_receipt_verify_loads_nothing_heavy_and_starts_fast(tmp_path):
    receipt = tmp_path / "receipt.json"
    receipt.write_text("{}")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(receipt)], capture_output=True,
                          text=True, env=os.environ, check=True)
    elapsed = time.monotonic() - started
    modules = json.loads(done.stdout.splitlines()[-1])
    assert "receipt" in done.stderr  # it ran: the receipt was read and refused
    assert [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY] == []
    assert elapsed < BOUND, f"receipt verify took {elapsed:.2f} s"
