"""The tests' fixtures; the helpers they share are in ``support/``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.repo import ContentRepo, example_history


@pytest.fixture
def content_repo(tmp_path) -> ContentRepo:
    """An empty git repository to commit content into."""
    return ContentRepo(tmp_path / "repo")


@pytest.fixture(scope="session")
def example_content(tmp_path_factory) -> Path:
    """The bundled example content with its history, in a repository of its own (made from
    ``support/data/example-history.fi``, not from this repository's history)."""
    return example_history(tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="session")
def postgres():
    """The PostgreSQL test server (see ``support/engines.py``); skipped without one, except
    under CI, where the PostgreSQL tests must run."""
    from support.engines import POSTGRES_ENV, Server, postgres_url

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


@pytest.fixture
def browser():
    """A headless Chromium (Playwright's ``Browser``). Name it before the fixtures that build
    what it opens: Chromium is checked for first (see ``support/browser.py``)."""
    from support.browser import launched

    with launched() as browser:
        yield browser


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """The folder for the browser tests' screenshots and PDFs: one of pytest's temporary folders
    (the latest runs' are kept, under ``pytest-of-<user>/``), never the repository."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def receiver():
    """A webhook receiver on loopback (see ``support/webhooks.py``), stopped after the test."""
    from support.webhooks import Receiver

    receiver = Receiver()
    yield receiver
    receiver.release()
    receiver.stop()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A terms site built once per module, for the transparency log's files to go into."""
    from support.transparency import build_site

    out = tmp_path_factory.mktemp("site")
    build_site(out)
    return out
