"""termsledger's pre-commit hook (``.pre-commit-hooks.yaml``), run by pre-commit itself against a
content repository, offline: the hook's environment is installed from this repository with the
packages already installed (``VIRTUALENV_SYSTEM_SITE_PACKAGES``, no package index)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.repo import ROOT, front

pytestmark = pytest.mark.slow  # processes, servers or a browser
TERMS = front(title="Terms", effective="2025-01-10") + "# Terms\n\nBe kind.\n"


def hook_repository(folder: Path) -> Path:
    """A git repository of this repository's files as they are now (committed or not)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name)
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.invalid",
                                                   "commit", "-q", "-m", "termsledger"]):
        subprocess.run(["git", *command], cwd=folder, check=True)
    return folder


def try_repo(hooks: Path, content: Path, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the hook runs what it installed
    env.update(PRE_COMMIT_HOME=str(home), VIRTUALENV_SYSTEM_SITE_PACKAGES="1", PIP_NO_INDEX="1",
               PIP_NO_BUILD_ISOLATION="0")
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "termsledger-check",
                           "--all-files"], cwd=content, env=env, capture_output=True, text=True, timeout=300)


def test_pre_commit_runs_termsledger_check(content_repo, tmp_path):
    hooks = hook_repository(tmp_path / "termsledger")
    content_repo.commit("2025-01-10T10:00", **{"terms.md": TERMS, "termsledger.toml": 'content = "."\n'})
    passed = try_repo(hooks, content_repo.path, tmp_path / "pre-commit")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "termsledger check...." in passed.stdout and "Passed" in passed.stdout
    content_repo.commit("2025-02-01T10:00", **{"terms.md": TERMS.replace("Be kind.", "Be brief.")})
    failed = try_repo(hooks, content_repo.path, tmp_path / "pre-commit")
    assert failed.returncode == 1
    assert "- hook id: termsledger-check" in failed.stdout
    assert "terms.md:7: error: version 2025-01-10 took effect on 2025-01-10" in failed.stdout
