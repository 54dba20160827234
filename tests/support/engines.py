"""The storage engines the ledger's tests run against: SQLite files, and PostgreSQL databases
on the server that ``TERMSLEDGER_TEST_POSTGRES`` names (a role that may create databases).

Each test run creates one database and drops it at the end; each ledger a test makes is a
schema of its own in it, which is fast to make and as separate as a database for the ledger.
"""

from __future__ import annotations

import itertools
import os
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

POSTGRES_ENV = "TERMSLEDGER_TEST_POSTGRES"
ENGINES = ("sqlite", "postgresql")


def postgres_url() -> str | None:
    """The URL of the test server's role, if one is configured."""
    return os.environ.get(POSTGRES_ENV) or None


def with_database(url: str, database: str, schema: str | None = None) -> str:
    """``url`` naming ``database`` (and a ``search_path`` of ``schema``)."""
    parts = urlsplit(url)
    query = f"options={quote(f'-csearch_path={schema}')}" if schema else ""
    return urlunsplit(parts._replace(path="/" + database, query=query))


class Server:
    """A database of this test run on the PostgreSQL test server."""

    _numbers = itertools.count(1)

    def __init__(self, url: str):
        self.admin = url
        self.database = f"termsledger_test_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.database}")
            conn.execute(f"CREATE DATABASE {self.database}")
        self.url = with_database(url, self.database)

    def location(self) -> str:
        """A new, empty place for a ledger: a schema of its own."""
        schema = f"ledger_{next(self._numbers)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return with_database(self.admin, self.database, schema)

    def new_database(self, name: str) -> str:
        """A database of its own (for tests that restart or share a server)."""
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return with_database(self.admin, name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        self.drop_database(self.database)


def planner_sizes(url: str, tables: tuple[str, ...]) -> tuple[dict[str, float], dict[str, int]]:
    """The sizes the planner knows of ``tables`` in the ledger at ``url`` (``reltuples``: -1 for
    a table never analyzed), and their counted rows."""
    with psycopg.connect(url) as conn:
        known = dict(conn.execute(
            "SELECT c.relname, c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s)", (list(tables),)).fetchall())
        counted = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in known}
    return known, counted
