"""``termsledger diff`` through click's runner, on real git repositories."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from support.repo import front

from termsledger.cli import cli

BODY = """# 1. Fees

The Pro plan costs $10 per month.

# 2. Refunds

You can ask for a refund within 14 days of purchase.

# 3. Contact

Write to us.
"""


@pytest.fixture
def repo(content_repo):
    """Three versions of the Terms: a price rise (flagged material), then a typo fix."""
    def terms_file(effective, body, material=None):
        return front(title="Terms", slug="terms", effective=effective, material=material) + body

    content_repo.commit("2025-01-01", **{"content/terms.md": terms_file("2025-01-01", BODY)})
    raised = BODY.replace("$10", "$12")
    content_repo.commit("2025-02-01", **{"content/terms.md": terms_file("2025-03-01", raised, True)})
    content_repo.commit("2025-04-01", **{"content/terms.md": terms_file(
        "2025-04-01", raised.replace("Write to us.", "Write to us ."), False)})
    return content_repo


def run(repo, *args):
    return CliRunner().invoke(cli, ["diff", *args, "--content", str(repo.path / "content")])


def test_defaults_to_the_two_latest_versions(repo):
    result = run(repo, "terms")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        "terms: 2025-03-01 -> 2025-04-01 (editor's flag: not material)", "not material (high confidence, "
                                                                         "score 0.00)"]
    assert "@@ 3. Contact (modified) @@" in result.output
    assert "Write to us{+ +}." in result.output


def test_named_versions_show_verdict_reasons_and_markers(repo):
    result = run(repo, "terms", "2025-01-01", "2025-03-01")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "terms: 2025-01-01 -> 2025-03-01 (editor's flag: material)\n"
        "material (high confidence, score 0.70)\n"
        "Fee amount increased from $10 to $12.\n"
        "  - Fee amount increased from $10 to $12 in section '1. Fees': “The Pro plan costs $12 per "
        "month.”\n\n@@ 1. Fees (modified) @@\n"
        "# 1. Fees\n\nThe Pro plan costs $[-10-]{+12+} per month.\n")


def test_old_alone_is_compared_with_the_latest(repo):
    result = run(repo, "terms", "2025-01-01")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("terms: 2025-01-01 -> 2025-04-01")


def test_json_output(repo):
    result = run(repo, "terms", "2025-01-01", "2025-03-01", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {k: data[k] for k in ("document", "old", "new", "material", "confidence", "flag", "score",
                                 "reasons",
                                 "summary")} == {
        "document": "terms", "old": "2025-01-01", "new": "2025-03-01", "material": True, "confidence": "high",
        "flag": True, "score": 0.7,
        "reasons": ["Fee amount increased from $10 to $12 in section '1. Fees': “The Pro plan costs $12 per "
                    "month.”"],
        "summary": "Fee amount increased from $10 to $12."}
    assert [s["status"] for s in data["sections"]] == ["modified", "unchanged", "unchanged"]
    assert {"tag": "replace", "old": "10", "new": "12"} in data["sections"][0]["ops"]


def test_flag_is_null_when_unset(repo):
    data = json.loads(run(repo, "terms", "2025-01-01", "2025-01-01", "--format", "json").output)
    assert (data["flag"], data["material"], data["reasons"]) == (None, False, [])


def test_identical_versions_print_no_changes(repo):
    result = run(repo, "terms", "2025-03-01", "2025-03-01")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "no changes"


def test_unknown_version_lists_the_versions(repo):
    result = run(repo, "terms", "2024-12-31")
    assert result.exit_code == 1
    assert result.output == ("Error: terms has no version '2024-12-31'; its versions are: "
                             "2025-01-01, 2025-03-01, 2025-04-01\n")


def test_unknown_document(repo):
    result = run(repo, "tos")
    assert result.exit_code == 1
    assert result.output == "Error: no document 'tos'; the documents are: terms\n"


def test_single_version_has_nothing_to_compare(content_repo):
    content_repo.commit("2025-01-01", **{"content/terms.md": front(
        title="Terms", slug="terms", effective="2025-01-01") + BODY})
    result = run(content_repo, "terms")
    assert result.exit_code == 1
    assert result.output == ("Error: terms has only one version (2025-01-01); "
                             "there is nothing to compare it with\n")


@pytest.mark.parametrize("args,name", [(["", "2025-04-01"], "OLD"), (["2025-01-01", " "], "NEW")])
def test_an_empty_version_name_is_refused(repo, args, name):
    result = run(repo, "terms", *args)
    assert result.exit_code == 2
    assert result.output.endswith(f"Error: Invalid value for '[{name}]': it is empty: name a version "
                                  f"(its effective date, id or label), or leave it out\n")


def test_an_empty_version_name_of_a_single_version_is_refused(content_repo):
    content_repo.commit("2025-01-01", **{"content/terms.md": front(
        title="Terms", slug="terms", effective="2025-01-01") + BODY})
    result = run(content_repo, "terms", "")
    assert result.exit_code == 2
    assert "Error: Invalid value for '[OLD]': it is empty" in result.output


def test_watch_terms_come_from_the_configuration(repo):
    repo.write("content/termsledger.toml", '[materiality]\nwatch = ["us"]\n')
    data = json.loads(run(repo, "terms", "--format", "json").output)
    assert data["material"] is False
    repo.write("content/terms.md", front(title="Terms", slug="terms", effective="2025-05-01")
               + BODY.replace("$10", "$12").replace("Write to us.", "Write to us by post."))
    data = json.loads(run(repo, "terms", "--format", "json").output)
    assert data["material"] is True
    assert data["reasons"][0].startswith("A sentence mentioning “us” (on the watch list) changed in section "
                                         "'3. Contact'")


def test_diff_has_help():
    assert "Example:" in CliRunner().invoke(cli, ["diff", "--help"]).output


PLANS = """# Terms

## 1. Plans

| Plan | Refund window |
|------|---------------|
| Monthly | 14 days |

## 2. Contact

Write to us.
"""


def test_markdown_for_a_pull_request_comment(content_repo):
    content_repo.commit("2025-01-01", **{"terms.md": front(title="Terms", effective="2025-01-01") + PLANS})
    changed = PLANS.replace("| Monthly | 14 days |", "| Monthly | 7 days |").replace(
        "## 2. Contact", "## 2. Data\n\nWe share <data> with partners.\n\n## 3. Contact")
    content_repo.commit("2025-02-01", **{"terms.md": front(title="Terms", effective="2025-03-01",
                                                           summary="Shorter refunds.") + changed})
    result = CliRunner().invoke(cli, ["diff", "terms", "--content", str(content_repo.path), "--format",
                                      "markdown"])
    assert result.exit_code == 0, result.output
    assert result.output == """#### Terms: 2025-01-01 → 2025-03-01

**Material** by the change analysis (no `material:` flag): users who accepted an earlier version will be \
asked to accept it again.

> Shorter refunds.

Why:
- Refund period shortened from 14 days to 7 days in section '1. Plans': “Plan, Refund window; Monthly, 7 days”
- New section '2. Data', which mentions “share”.

2 sections changed: 9 words added, 2 removed. Renumbered only, not shown: 3. Contact.

<details>
<summary>1. Plans (modified)</summary>

## 1. Plans

| Plan | Refund window |
|------|---------------|
| Monthly | <del>14</del><ins>7</ins> days |

</details>

<details>
<summary>2. Data (added)</summary>

## <ins>2. Data</ins>

<ins>We share &lt;data> with partners.</ins>

</details>

<sub><del>Struck through</del>: removed. <ins>Underlined</ins>: added.</sub>
"""
    from markdown_it import MarkdownIt

    # As GitHub renders it: the marks in the table's cell, the new heading marked, the text escaped.
    html = MarkdownIt("commonmark").enable("table").render(result.output)
    assert "<td><del>14</del><ins>7</ins> days</td>" in html
    assert "<h2><ins>2. Data</ins></h2>" in html
    assert "<p><ins>We share &lt;data&gt; with partners.</ins></p>" in html
    assert html.count("<details>") == 2 and html.count("</details>") == 2


def test_markdown_shows_the_generated_summary_where_the_editor_wrote_none(content_repo):
    content_repo.commit("2025-01-01", **{"terms.md": front(title="Terms", effective="2025-01-01") + PLANS})
    changed = PLANS.replace("| Monthly | 14 days |", "| Monthly | 7 days |")
    content_repo.commit("2025-02-01", **{"terms.md": front(title="Terms", effective="2025-03-01") + changed})
    result = CliRunner().invoke(cli, ["diff", "terms", "--content", str(content_repo.path), "--format",
                                      "markdown"])
    assert result.exit_code == 0, result.output
    assert ("\n> Refund period shortened from 14 days to 7 days. _(summary generated from the changes)_\n"
            in result.output)


def test_markdown_of_identical_versions(content_repo):
    content_repo.commit("2025-01-01", **{"terms.md": front(title="Terms", effective="2025-01-01") + PLANS})
    content_repo.commit("2025-02-01", **{"terms.md": front(title="Terms", effective="2025-03-01",
                                                           material=False) + PLANS})
    result = CliRunner().invoke(cli, ["diff", "terms", "--content", str(content_repo.path), "--format",
                                      "markdown"])
    assert result.output == "#### Terms: 2025-01-01 → 2025-03-01\n\nNo changes.\n"


FEES = "## Fees\n\nThe service costs 10 euros a month.\n\n## Disputes\n\nYou may go to court.\n"
ARBITRATION = ("\n## Arbitration\n\nAll disputes go to binding arbitration, and you waive any right to a "
               "class action or a jury trial.\n")


@pytest.fixture
def undone(content_repo):
    """Terms that added arbitration (material, no flag), then took it out again (marked not
    material) with a word changed: the first and last texts differ by a word."""
    for when, effective, body, material in (
            ("2024-12-01", "2025-01-01", FEES, None),
            ("2025-02-01", "2025-03-01", FEES + ARBITRATION, None),
            ("2025-04-01", "2025-05-01", FEES.replace("to court", "to a court"), False)):
        content_repo.commit(f"{when}T10:00:00", **{"terms.md": front(
            title="Terms", slug="terms", effective=effective, material=material) + body})
    return content_repo


def test_a_diff_across_versions_says_what_the_ledger_asks_of_users(undone, tmp_path):
    """Across a material version since undone, the comment says users accept again, as the
    ledger asks of those who accepted the first version (and as the site's diff page says)."""
    import terms
    from consent import Ledger

    args = ["diff", "terms", "2025-01-01", "2025-05-01", "--content", str(undone.path)]
    markdown = CliRunner().invoke(cli, [*args, "--format", "markdown"])
    assert markdown.exit_code == 0, markdown.output
    assert markdown.output.splitlines()[2] == (
        "**Material** across 2 versions: 2025-03-01 is judged material by the change analysis (the "
        "analysis of the two texts alone finds the change cosmetic): users who accepted 2025-01-01 will "
        "be asked to accept again.")
    text = CliRunner().invoke(cli, args)
    assert text.output.splitlines()[:3] == [
        "terms: 2025-01-01 -> 2025-05-01 (editor's flag: not material)",
        "Material across 2 versions: 2025-03-01 is judged material by the change analysis (the analysis "
        "of the two texts alone finds the change cosmetic): users who accepted 2025-01-01 will be asked "
        "to accept again.",
        "not material (high confidence, score 0.00)"]
    data = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).output)
    assert (data["material"], data["flag"], data["asked_to_accept_again"]) == (False, False, True)
    assert data["across"] == [{"version": "2025-03-01", "flag": None, "analysis": True},
                              {"version": "2025-05-01", "flag": False, "analysis": True}]
    with Ledger(tmp_path / "ledger.db", create=True) as ledger:
        ledger.publish(terms.load(undone.path))
        ledger.record("alice", "terms", version="2025-01-01", at="2025-01-10T10:00:00Z")
        june = datetime(2025, 6, 1, tzinfo=timezone.utc)
        assert ledger.status("alice", "terms", at=june).status == "reaccept"


def test_a_diff_across_versions_none_material(undone):
    """From the arbitration version to the last: one step, marked not material; the comment
    keeps the one-version wording. Across two steps both marked not material, it says none is
    (the editor's flags decide, whatever the analysis of the two texts finds)."""
    def markdown(old, new):
        return CliRunner().invoke(cli, ["diff", "terms", old, new, "--content", str(undone.path),
                                        "--format", "markdown"]).output

    assert markdown("2025-03-01", "2025-05-01").splitlines()[2].startswith(
        "**Not material** by the editor's `material: false`")
    euros = FEES.replace("10 euros", "10 EUR")
    undone.commit("2025-06-01T10:00:00", **{"terms.md": front(
        title="Terms", slug="terms", effective="2025-07-01", material=False) + euros})
    assert markdown("2025-03-01", "2025-07-01").splitlines()[2] == (
        "**Not material** across 2 versions, none of them material (the analysis of the two texts alone "
        "finds the change material): users will be told of it.")
    backwards = CliRunner().invoke(cli, ["diff", "terms", "2025-05-01", "2025-01-01", "--content",
                                         str(undone.path), "--format", "json"])
    assert "asked_to_accept_again" not in json.loads(backwards.output)


def test_markdown_and_text_of_sections_only_reordered_and_renumbered(content_repo):
    """The last section gains or loses its blank line when sections are reordered: no change,
    so the comment lists them as renumbered (as the site's redline does) and shows none."""
    old = ("# Terms\n\n## 1. Fees\n\nThe Pro plan costs 10 EUR per month. See section 3 for disputes.\n\n"
           "## 2. Accounts\n\nYou must be 16 or older.\n\n## 3. Governing law\n\nThese terms are governed by "
           "the laws of Ireland.\n")
    new = ("# Terms\n\n## 1. Accounts\n\nYou must be 16 or older.\n\n## 2. Governing law\n\nThese terms are "
           "governed by the laws of Ireland.\n\n## 3. Fees\n\nThe Pro plan costs 10 EUR per month. See "
           "section 2 for disputes.\n")
    content_repo.commit("2025-01-01", **{"terms.md": front(title="Terms", effective="2025-01-01") + old})
    content_repo.commit("2025-02-01", **{"terms.md": front(title="Terms", effective="2025-03-01") + new})
    args = ["diff", "terms", "--content", str(content_repo.path)]
    markdown = CliRunner().invoke(cli, [*args, "--format", "markdown"]).output
    assert ("> Sections were moved and renumbered; their wording did not change. _(summary generated from "
            "the changes)_\n\nRenumbered only, not shown: 1. Accounts, 2. Governing law, 3. Fees.\n"
            ) in markdown
    assert "<details>" not in markdown and "Struck through" not in markdown
    text = CliRunner().invoke(cli, args).output
    assert "@@ 2. Governing law (renumbered) @@" in text and "@@ 3. Fees (renumbered, moved) @@" in text
    assert "{+\n+}" not in text and "[-\n-]" not in text
