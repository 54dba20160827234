"""Helpers for the consent ledger tests: catalogs built from ``terms`` values, no git needed."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date

import terms


def version(slug: str, effective: str, material: bool | None = None, references=(), body=None,
            label: str | None = None) -> terms.Version:
    """A version of ``slug`` effective on ``effective`` (ISO date). Its default text differs
    from the other versions' by an editor's note only, which the change analysis leaves out:
    the analysis finds no version material unless its text says otherwise."""
    body = body if body is not None else f"# {slug}\n\nText of {slug}.\n\n<!-- {effective} -->\n"
    return terms.Version(
        slug=slug, id=effective + (f"-{label}" if label else ""), effective=date.fromisoformat(effective),
        label=label, title=slug.title(), summary=f"{slug} of {effective}", material=material,
        references=tuple(references), body=body, content_sha256=terms.content_sha256(body),
        path=f"{slug}.md", commit=None, committed_at=None, announced_at=None)


def translated(source: terms.Version, language: str, body: str | None = None,
               title: str | None = None) -> terms.Version:
    """``source`` with a text in ``language`` (its own ``body``, ``title`` and summary)."""
    body = body if body is not None else f"# {source.slug} ({language})\n\n{language} text of {source.id}.\n"
    text = replace(source, language=language, title=title or f"{source.title} ({language})",
                   summary=f"{source.summary} ({language})", body=body,
                   content_sha256=terms.content_sha256(body), path=f"{source.slug}.{language}.md")
    return replace(source, translations=(*source.translations, text))


def content(*versions: terms.Version) -> terms.Content:
    """Content holding ``versions`` (grouped by slug, oldest first)."""
    by_slug: dict[str, list[terms.Version]] = {}
    for v in sorted(versions, key=lambda v: (v.effective, v.id)):
        by_slug.setdefault(v.slug, []).append(v)
    documents = {slug: terms.Document(slug, f"{slug}.md", tuple(vs)) for slug, vs in sorted(by_slug.items())}
    return terms.Content("<in memory>", documents)  # not a folder, so not in git


def example() -> terms.Content:
    """Terms (v1 2024-01-01, v2 2025-01-01 not material, v3 2026-01-01 material, v4 2099-01-01
    material, announced) referencing privacy (2024-01-01, 2025-06-01)."""
    return content(
        version("terms", "2024-01-01", references=["privacy"]),
        version("terms", "2025-01-01", material=False, references=["privacy"]),
        version("terms", "2026-01-01", material=True, references=["privacy"]),
        version("terms", "2099-01-01", material=True, references=["privacy"]),
        version("privacy", "2024-01-01"),
        version("privacy", "2025-06-01", material=False),
    )


def sql(ledger, query: str, params=()) -> list[tuple]:
    """The rows of ``query`` (``?`` placeholders) run on the ledger's storage directly, outside
    the ledger, and committed."""
    if ledger.path.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(ledger.path, autocommit=True) as conn:
            cursor = conn.execute(query.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []
    conn = sqlite3.connect(ledger.path, isolation_level=None)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def version_rowid(ledger, document: str, version: str) -> int:
    """The row id of a published version (what a worklist cursor names)."""
    (row,) = sql(ledger, "SELECT v.id FROM versions v JOIN documents d ON d.id = v.document "
                         "WHERE d.slug = ? AND v.version = ?", (document, version))
    return row[0]


def resolved(ledger, subject: str, document: str = "terms", at: str = "2025-02-01") -> list:
    """The rows (:class:`consent.writer.Row`) the ledger appends for ``subject`` accepting
    ``document``: its event, then its bundle members' (each ``head`` 0, the index of the
    record's event among them)."""
    from consent.ledger import Ledger

    return Ledger._rows([{"subject": subject, "document": document, "at": at}],
                        ledger._snapshot(fresh=True))


def append_rows(ledger, rows: list) -> None:
    """Append ``rows`` in one transaction through the engine's own append, which hashes and
    chains them as any (a member's ``part_of``: the ``seq`` of the row its ``head`` names)."""
    from consent.writer import append

    with ledger._store.write() as tx:
        append(tx, rows)


def record_as_before_78204ed(ledger, subjects, document: str = "terms") -> None:
    """Record ``document`` for each of ``subjects`` in one transaction the way records batched
    together were on PostgreSQL before commit 78204ed: each record's rows resolved alone, its
    members' ``head`` their record's index among its own rows, not in the batch. The engine
    then hashed and stored every member of the second record on as part of the *first*
    record's event: hashes consistent, ``part_of`` wrong."""
    append_rows(ledger, [row for subject in subjects for row in resolved(ledger, subject, document)])
