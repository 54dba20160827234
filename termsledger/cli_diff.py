"""``termsledger diff``: the redline and materiality verdict between two versions."""

from __future__ import annotations

import json
import sys

import click

import terms

from .cli import content_option, load_config, load_content


def _named(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A version name as given, refused when it is empty (an empty name is no default)."""
    if value is not None and not value.strip():
        raise click.BadParameter("it is empty: name a version (its effective date, id or label), "
                                 "or leave it out", ctx=ctx, param=param)
    return value


@click.command()
@click.argument("slug")
@click.argument("old", required=False, callback=_named)
@click.argument("new", required=False, callback=_named)
@content_option
@click.option("--format", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="Output format; markdown is for a pull request's comment.")
def diff(slug: str, old: str | None, new: str | None, content: str | None, output_format: str) -> None:
    """Show what changed between two versions of a document, and whether it looks material.

    OLD and NEW are version names (effective date, id or label); they default to the two
    latest versions, and NEW alone defaults to the latest. Across versions that are not
    consecutive, it also says whether users who accepted OLD are asked to accept again, as the
    ledger decides: yes if a version after OLD, up to NEW, is material. Removed words show as
    [-removed-] and added ones as {+added+} when the output is not a terminal. With
    --format markdown, the summary, the reasons and a redline of each changed section, as
    GitHub renders them in a pull request's comment.

    Example:

    \b
        termsledger diff terms 2026-01-01 2026-03-01 --format json
        termsledger diff terms --format markdown > comment.md
    """
    config = load_config(content)
    try:
        loaded = load_content(config)
        document = loaded.document(slug)
        before, after = _versions(document, old, new)
    except terms.TermsError as error:
        raise click.ClickException(str(error)) from None
    change = terms.compare(before, after, watch=config.watch)
    decision = _decision(loaded, document, change, config.watch)
    if output_format == "json":
        data = change.to_dict()
        if decision is not None:
            data["asked_to_accept_again"] = decision.material
            data["across"] = [{"version": v.id, "flag": v.material, "analysis": verdict}
                              for v, verdict in zip(decision.steps, decision.verdicts, strict=True)]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if output_format == "markdown":
        click.echo(terms.render_markdown(change, decision), nl=False)
        return
    flag = {True: "material", False: "not material", None: "not set"}[after.material]
    click.echo(f"{slug}: {before.id} -> {after.id} (editor's flag: {flag})")
    if decision is not None and len(decision.steps) > 1:
        click.echo(terms.render_decision(change, decision))
    if sys.stdout.isatty() and not change.identical:
        from rich.console import Console

        Console().print(change)
    else:
        click.echo(change.render(markers=True))


def _versions(document: terms.Document, old: str | None,
              new: str | None) -> tuple[terms.Version, terms.Version]:
    """The pair to compare: the named versions, else the two latest."""
    if old is None and len(document.versions) < 2:
        raise terms.UnknownVersion(f"{document.slug} has only one version ({document.versions[-1].id}); "
                                   f"there is nothing to compare it with")
    before = document.versions[-2] if old is None else document.version(old)
    after = document.versions[-1] if new is None else document.version(new)
    return before, after


def _decision(content: terms.Content, document: terms.Document, change: terms.Change,
              watch: tuple[str, ...]) -> terms.Decision | None:
    """What follows for users who accepted the old version of ``change`` once its new one is
    in force (each version between them decides too, as in the ledger); ``None`` when the new
    one does not come after the old."""
    old, new = change.old, change.new
    assert old is not None and new is not None
    if document.versions.index(new) <= document.versions.index(old):
        return None

    def verdict(version: terms.Version) -> bool:
        if version is new and document.previous(new) is old:  # the change compared already
            return change.material
        found = terms.assess_versions(content, watch=watch, versions=[version])
        return found[(version.slug, version.id)].material

    return terms.decide(document, old, new, verdict)
