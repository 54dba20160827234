"""`termsledger receipt verify` starts without loading the ledger, the content model or a
database driver, so that anyone checking a receipt waits well under a second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow  # processes, servers or a browser
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
         "psycopg", "fastapi", "git")
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


IMPORT_TERMS = """
import json, sys, time
started = time.perf_counter()
import terms
print(json.dumps({"seconds": time.perf_counter() - started, "modules": sorted(sys.modules)}))
"""
CHANGE_ENGINE = ("rapidfuzz", "terms.materiality", "terms.clauses")
"""Imported where texts are compared: loading content (or an up-to-date build) needs none of them."""
QUICK = 1.0
"""Seconds: ``import terms`` takes 0.1-0.3 s here and ``check --help`` 0.1-0.2 s (see
benchmarks/bench_startup.py); the bound leaves room for a loaded machine."""


def test_import_terms_leaves_the_change_engine_out_and_is_quick():
    done = subprocess.run([sys.executable, "-c", IMPORT_TERMS], capture_output=True, text=True,
                          env=os.environ, check=True)
    found = json.loads(done.stdout)
    assert [m for m in found["modules"] if m in CHANGE_ENGINE or m.split(".")[0] in CHANGE_ENGINE] == []
    assert found["seconds"] < QUICK, f"import terms took {found['seconds']:.2f} s"


def test_check_help_loads_no_content_model_and_is_quick():
    script = "import json, sys\nfrom termsledger.cli import cli\n" \
             "try:\n    cli(['check', '--help'])\nexcept SystemExit:\n    pass\n" \
             "print(json.dumps(sorted(sys.modules)))"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=os.environ, check=True)
    elapsed = time.monotonic() - started
    assert "Usage:" in done.stdout and "check" in done.stdout
    modules = json.loads(done.stdout.splitlines()[-1])
    assert [m for m in modules if m.split(".")[0] in ("terms", "git", "markdown_it")] == []
    assert elapsed < QUICK, f"termsledger check --help took {elapsed:.2f} s"


BUILD = """
import json, sys
from termsledger.cli import cli
try:
    cli(["build", "--content", sys.argv[1], "--out", sys.argv[2], "--cache-dir", sys.argv[3]])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def test_building_from_a_sound_repository_reads_git_without_gitpython(example_content, tmp_path):
    folders = [str(example_content), str(tmp_path / "site"), str(tmp_path / "cache")]
    done = subprocess.run([sys.executable, "-c", BUILD, *folders], capture_output=True, text=True,
                          env=os.environ, check=True)
    modules = json.loads(done.stdout.splitlines()[-1])
    assert "Built the site" in done.stdout
    assert [m for m in modules if m.split(".")[0] == "git"] == []  # it takes longer to import than to read
    assert "terms.materiality" in modules and "numpy" not in modules  # it compared, without numpy's import
    histories = list((tmp_path / "site").glob("*/history/index.html"))
    revisions = sum(page.read_text(encoding="utf-8").count('class="revision"') for page in histories)
    assert histories and revisions > len(histories)  # read from git: read as a plain folder, one each
