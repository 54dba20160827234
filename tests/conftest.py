"""Shared fixtures: real git repositories of content made in temporary folders."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import git
import pytest

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.fixture
def content_repo(tmp_path) -> ContentRepo:
    """An empty git repository to commit content into."""
    return ContentRepo(tmp_path / "repo")


@pytest.fixture
def example_content() -> Path:
    """The bundled example content (read from this project's own git history)."""
    return ROOT / "content"


@pytest.fixture(scope="session")
def postgres():
    """The PostgreSQL test server (see ``tests/engines.py``); skipped without one, except
    under CI, where the PostgreSQL tests must run."""
    from engines import POSTGRES_ENV, Server, postgres_url

    url = postgres_url()
    if url is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_ENV} is not set: under CI the PostgreSQL tests must run "
                        f"(.ci/run sets it)")
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}, the URL of a role that may create "
                    f"databases")
    server = Server(url)
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request) -> str:
    """Each storage engine in turn."""
    return request.param


@pytest.fixture
def where(engine, tmp_path, request):
    """``where(name)``: a new ledger's location on the engine of the test: a file of
    ``tmp_path``, or a schema of the PostgreSQL test database (one per name)."""
    if engine == "sqlite":
        return lambda name="ledger.db": str(tmp_path / name)
    server = request.getfixturevalue("postgres")
    made: dict[str, str] = {}
    return lambda name="ledger.db": made.setdefault(name, made.get(name) or server.location())
