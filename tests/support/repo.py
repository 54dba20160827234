"""Real git repositories of content, made in temporary folders, and their documents' front
matter."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import git

ROOT = Path(__file__).resolve().parents[2]
"""This repository's folder."""

EXAMPLE_HISTORY = Path(__file__).parent / "data" / "example-history.fi"
"""The history of the bundled example (``content/``) as ``git fast-export`` writes it, so that
the tests need none of this repository's own history (a shallow clone has none). Made again, after
a commit to ``content/``, with ``git fast-export HEAD -- content > tests/support/data/example-history.fi``."""


def example_history(folder: Path) -> Path:
    """A git repository in ``folder`` holding the bundled example's history; its ``content``."""
    repo = git.Repo.init(folder)
    with EXAMPLE_HISTORY.open("rb") as stream:
        repo.git.execute(["git", "fast-import", "--quiet"], istream=stream)
    branch = next(iter(repo.branches))
    repo.git.checkout(branch.name)
    return folder / "content"


def front(**fields) -> str:
    """Front matter for ``fields`` (``None`` values left out), ending with its closing line."""
    lines = ["---"]
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = "[" + ", ".join(value) + "]"
        elif isinstance(value, bool):
            value = str(value).lower()
        lines.append(f"{key}: {value}")
    return "\n".join(lines + ["---", ""])


class ContentRepo:
    """A git repository whose commits are made at chosen dates."""

    def __init__(self, path: Path):
        self.path = path
        self.repo = git.Repo.init(path)
        with self.repo.config_writer() as config:
            config.set_value("user", "name", "Editor")
            config.set_value("user", "email", "editor@example.invalid")

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return path

    def commit(self, when: str, message: str = "Edit", **files: str | bytes) -> str:
        """Write ``files`` (file name = text) and commit everything at ``when`` (ISO, UTC)."""
        return self.commit_files(when, files, message)

    def commit_files(self, when: str, files: dict, message: str = "Edit") -> str:
        for name, text in files.items():
            self.write(name, text)
        self.repo.git.add(A=True)
        stamp = datetime.fromisoformat(when)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        env = {"GIT_AUTHOR_DATE": stamp.isoformat(), "GIT_COMMITTER_DATE": stamp.isoformat()}
        with self.repo.git.custom_environment(**env):
            self.repo.git.commit("-m", message, "--allow-empty")
        return self.repo.head.commit.hexsha
