"""``termsledger check``: every problem, with its file, line and message."""

import json
import subprocess
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from support.repo import front

import terms
from consent import Ledger
from termsledger.cli import cli

GOOD = front(title="Terms", slug="terms", effective="2025-03-01") + "# Terms\n\nText.\n"


def run_check(path, *args):
    return CliRunner().invoke(cli, ["check", "--content", str(path), *args])


def problems_of(path):
    result = run_check(path, "--format", "json")
    return result.exit_code, [f"{p['path']}:{p['line']}: {p['severity']}: {p['message']}"
                              for p in json.loads(result.stdout)["problems"]]


def test_example_content_passes(example_content):
    result = run_check(example_content)
    assert result.exit_code == 0, result.output
    assert "6 documents" in result.output and "; 0 errors, " in result.output


def summarized(content_repo):
    """Terms with a version in force since 2020 and a material one announced for 2999, and a
    privacy policy of one version."""
    content_repo.commit("2020-01-05T10:00", **{
        "terms.md": front(title="Terms", effective="2020-02-01") + "# Terms\n\nBe kind.\n",
        "privacy.md": front(title="Privacy", effective="2020-02-01") + "# Privacy\n\nWe keep little.\n"})
    content_repo.commit("2020-05-01T10:00", **{
        "terms.md": front(title="Terms", effective="2020-06-01", material=False) + "# Terms\n\nBe kind!\n"})
    content_repo.commit("2026-11-01T10:00", **{
        "terms.md": front(title="Terms", effective="2999-01-01", material=True)
        + "# Terms\n\nBe kind, and pay the fee.\n"})


def test_the_summary_counts_the_documents_and_says_what_is_in_force(content_repo):
    summarized(content_repo)
    result = run_check(content_repo.path)
    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        f"2 documents, 4 versions in {content_repo.path}; 0 errors, 0 warnings.\n"
        "  privacy: 1 version, in force 2020-02-01\n"
        "  terms: 3 versions, in force 2020-06-01, announced 2999-01-01 (material)\n")


BAD_FILES = [
    ("---\ntitle: [unclosed\n---\n# T\n\nText.\n",
     "t.md:2: error: front matter is not valid YAML: the list opened with '[' on this line is never closed "
     "with ']'"),
    ("---\nslug: t\ntitle: Terms: the new ones\n---\n# T\n\nText.\n",
     "t.md:3: error: front matter is not valid YAML: the value holds ': ' (a colon and a space), which reads "
     "as another key: put the value in quotes: title: \"Terms: the new ones\""),
    ("---\ntitle: \"Terms\" of use\n---\n# T\n\nText.\n",
     "t.md:2: error: front matter is not valid YAML: there is more text after the value: put the value in "
     "quotes: title: '\"Terms\" of use'"),
    ("---\ntitle: T\n\tslug: t\n---\n# T\n\nText.\n",
     "t.md:3: error: front matter is not valid YAML: this line holds a tab character: indent with spaces"),
    ("---\ntitle: x\x01y\neffective: 2026-01-01\n---\n# T\n\nText.\n",
     "t.md:2: error: front matter is not valid YAML: this line holds the control character U+0001: "
     "remove it"),
    ("---\ntitle: T\nsummary: \"a\n\n\x7f\"\n---\n# T\n\nText.\n",
     "t.md:5: error: front matter is not valid YAML: this line holds the control character U+007F: "
     "remove it"),
    ("---\ntitle: T\n  slug: t\n---\n# T\n\nText.\n",
     "t.md:3: error: front matter is not valid YAML: this line is indented, but the key above it holds a "
     "value, not other keys: start the line at the beginning"),
    ("---\ntitle: T\njust words\nslug: t\n---\n# T\n\nText.\n",
     "t.md:3: error: front matter is not valid YAML: this line is not 'key: value': write the key, a colon "
     "and a space, then the value"),
    ("---\ntitle: \"Terms\nslug: t\n---\n# T\n\nText.\n",
     "t.md:2: error: front matter is not valid YAML: the quotation mark opened on this line is never closed"),
    ("---\ntitle: T\nsummary: @home\n---\n# T\n\nText.\n",
     "t.md:3: error: front matter is not valid YAML: a value cannot start with '@': put the value in quotes: "
     "summary: \"@home\""),
    ("---\ntitle: T\n- privacy\n---\n# T\n\nText.\n",
     "t.md:3: error: front matter is not valid YAML: a list item ('- ...') where a key is expected: list "
     "items go on the lines under their key, after 'references:'"),
    ("---\ntitle: A\nslug: t\ntitle: B\n---\n# T\n\nText.\n",
     "t.md:4: error: 'title' is given twice, on lines 2 and 4: only the last counts; remove one"),
    ("---\ntitle: T\neffective: 2027-02-30\n---\n# T\n\nText.\n",
     "t.md:3: error: effective date '2027-02-30' is not a day of the calendar: February 2027 has 28 days"),
    ("---\ntitle: T\neffective: 2027-13-01\n---\n# T\n\nText.\n",
     "t.md:3: error: effective date '2027-13-01' is not a day of the calendar: a year has 12 months"),
    ("---\ntitle: T\neffective: next monday\n---\n# T\n\nText.\n",
     "t.md:3: error: effective date 'next monday' is not a date: write it as YYYY-MM-DD"),
    ("---\ntitle: T\neffective: '\uff12\uff10\uff12\uff15-05-01'\n---\n# T\n\nText.\n",
     "t.md:3: error: effective date '\uff12\uff10\uff12\uff15-05-01' is not a date: write it as "
     "YYYY-MM-DD with the digits 0 to 9"),
    ("---\ntitle: T\neffective: '2024-04-31'\n---\n# T\n\nText.\n",
     "t.md:3: error: effective date '2024-04-31' is not a day of the calendar: April 2024 has 30 days"),
    ("---\ntitle: T\neffective: 9999-12-31T23:00:00-05:00\n---\n# T\n\nText.\n",
     "t.md:3: error: effective date '9999-12-31T23:00:00-05:00' is after year 9999 in UTC"),
    ("---\ntitle: T\neffective: 0001-01-01T00:00:00+05:00\n---\n# T\n\nText.\n",
     "t.md:3: error: effective date '0001-01-01T00:00:00+05:00' is before year 1 in UTC"),
    ("---\ntitle: T\nmaterial: maybe\n---\n# T\n\nText.\n", "t.md:3: error: material must be true or false, "
                                                            "not 'maybe'"),
    ("---\ntitle: T\nreferences: 5\n---\n# T\n\nText.\n", "t.md:3: error: references must be a list of "
                                                          "document slugs, not 5"),
    ("---\ntitle: 12\n---\n# T\n\nText.\n", "t.md:2: error: title must be text, not 12"),
    ("---\ntitle: T\neffective:\n---\n# T\n\nText.\n",
     "t.md:3: error: effective date is empty: write it as YYYY-MM-DD"),
    ("---\ntitle: T\neffective: [2026-01-01]\n---\n# T\n\nText.\n",
     "t.md:3: error: effective date [2026-01-01] is not a date: write it as YYYY-MM-DD"),
    ("---\ntitle: 2026-01-01\n---\n# T\n\nText.\n", "t.md:2: error: title must be text, not 2026-01-01"),
    ("---\nslug: no\n---\n# T\n\nText.\n",
     "t.md:2: error: slug false (YAML reads yes, no, on, off, true and false as true or false: put the value "
     "in quotes to keep it as text) is invalid: use lowercase letters, digits and single hyphens (for "
     "example 'terms')"),
    ("---\nslug: " + "a" * 300 + "\n---\n# T\n\nText.\n",
     "t.md:2: error: slug '" + "a" * 37 + "..." + "a" * 38 + "' is 300 characters long: a slug names "
     "a folder of the site and a document of the ledger, at most 64 characters"),
    ("---\ntitle: T\neffective: 2026-01-01\nlabel: " + "b" * 100 + "\n---\n# T\n\nText.\n",
     "t.md:4: error: label '" + "b" * 37 + "..." + "b" * 38 + "' is 100 characters long: a label "
     "names a folder of the site, at most 64 characters"),
    ("---\nslug: 123\n---\n# T\n\nText.\n",
     "t.md:2: error: slug 123 must be text: put it in quotes (slug: '123')"),
    ("---\nslug: Terms_Of_Use\n---\n# T\n\nText.\n",
     "t.md:2: error: slug 'Terms_Of_Use' is invalid: use lowercase letters, digits and single hyphens (for "
     "example 'terms-of-use')"),
    ("---\n- a list\n---\n# T\n\nText.\n", "t.md:2: error: front matter must be a mapping of keys to values "
                                           "(key: value)"),
    ("---\ntitle: T\n# T\n\nText.\n", "t.md:1: error: front matter is not closed: add a line with '---' "
                                      "after it"),
    ("---\ntitle: T\n---\n\n\n", "t.md:4: error: document is empty: it has no text after the front matter"),
    (b"# T\n\nCaf\xe9\n", "t.md:3: error: not valid UTF-8: byte 0xe9 at offset 8"),
    ("# T\n\nText.\n".encode("utf-16"), "t.md:1: error: saved as UTF-16, not UTF-8: save it as UTF-8"),
    ("---\ntitle: T\nreferences: [nope]\n---\n# T\n\nText.\n",
     "t.md:3: error: references 'nope', but no document has that slug; the slugs are: t"),
    ("---\ntitle: T\n---\n# T\n\nSee [the refund policy](refund.md).\n",
     "t.md:6: error: link to 'refund.md': there is no file 'refund.md'"),
    ("---\ntitle: T\n---\n# T\n\nSee [below](#nowhere).\n", "t.md:6: error: link to '#nowhere': t.md has no "
                                                            "heading #nowhere"),
    ("# T\n\nSee [law](#5-governing-law).\n\n## 5. Governing law\n\nIrish.\n",
     "t.md:3: error: link to '#5-governing-law': t.md has no heading #5-governing-law; did you mean "
     "#governing-law? (a heading's anchor leaves out its number, so that links survive renumbering)"),
]


@pytest.mark.parametrize("text, message", BAD_FILES)
def test_each_bad_input_has_its_message(tmp_path, text, message):
    (tmp_path / "t.md").write_bytes(text if isinstance(text, bytes) else text.encode())
    exit_code, problems = problems_of(tmp_path)
    assert exit_code == 1
    assert message in problems


def test_a_file_name_too_long_for_a_slug_asks_for_one(tmp_path):
    (tmp_path / ("t" * 200 + ".md")).write_text("# T\n\nText.\n")
    exit_code, problems = problems_of(tmp_path)
    assert exit_code == 1
    assert problems == ["t" * 200 + ".md:1: error: the slug made from the file name is 200 characters long, "
                        "more than 64: add a shorter 'slug:' to the front matter"]


def test_required_documents_must_be_documents_of_the_content(tmp_path):
    """What publish would refuse, check reports: CI running check (or build --strict) finds it."""
    (tmp_path / "terms.md").write_text("---\ntitle: T\neffective: 2025-01-01\n---\n# T\n\nText.\n")
    (tmp_path / "termsledger.toml").write_text('content = "."\n\n[consent]\n'
                                               'required = ["terms", "privacy"]\n')
    exit_code, problems = problems_of(tmp_path)
    assert exit_code == 1
    assert problems == [f"{tmp_path / 'termsledger.toml'}:4: error: [consent] required names 'privacy', "
                        f"which is not a document of the content (its documents are: terms): publish would "
                        f"refuse it"]
    result = CliRunner().invoke(cli, ["build", "--strict", "--content", str(tmp_path), "--out",
                                      str(tmp_path / "site")])
    assert result.exit_code == 1 and "nothing built: the content has 1 error" in result.output


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    (tmp_path / "a.md").write_text("---\nmaterial: maybe\nreferences: [ghost]\n---\n# A\n\n[x](missing.md)\n")
    (tmp_path / "b.md").write_text("---\nslug: a\n---\n# B\n\nText.\n")
    result = run_check(tmp_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "a.md:2: error: material must be true or false, not 'maybe'",
        "a.md:3: error: references 'ghost', but no document has that slug; the slugs are: a",
        "a.md:7: error: link to 'missing.md': there is no file 'missing.md'",
        "b.md:2: error: slug 'a' is already used by a.md, so this document is left out: give it a slug of "
        "its own (for example slug: b)",
    ]


LAW = "# Terms\n\nSee [refunds](refund.md).\n\n## Governing law\n\nText.\n"
REFUND = "# Refunds\n\nAs the [terms](terms.md#governing-law) say.\n"


def test_a_duplicate_slug_is_one_error_on_the_file_that_took_it_second(content_repo):
    content_repo.commit("2025-01-05T10:00", **{
        "terms.md": front(title="Terms", effective="2025-02-01", references=["refund"]) + LAW,
        "privacy.md": "# Privacy\n\nAs the [terms](terms.md#governing-law) say.\n"})
    content_repo.commit("2025-03-05T10:00", **{
        "refund.md": front(title="Refunds", effective="2025-04-01", slug="terms") + REFUND})
    assert problems_of(content_repo.path) == (1, [
        "refund.md:4: error: slug 'terms' is already used by terms.md, so this document is left out: give "
        "it a slug of its own (for example slug: refund)"])
    assert terms.load(content_repo.path).document("terms").path == "terms.md"


def test_of_two_files_claiming_a_slug_at_once_the_one_named_after_it_keeps_it(tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: A\nslug: b\n---\n# A\n\nText.\n")
    (tmp_path / "b.md").write_text("# B\n\nText.\n")
    assert problems_of(tmp_path) == (1, [
        "a.md:3: error: slug 'b' is already used by b.md, so this document is left out: give it a slug of "
        "its own (for example slug: a)"])


def test_a_file_named_after_a_slug_another_took_earlier_is_told_to_take_another(content_repo):
    content_repo.commit("2024-01-05T10:00", **{"refund.md": front(title="Refunds", slug="terms") + REFUND})
    content_repo.commit("2025-01-05T10:00", **{"terms.md": LAW})
    assert problems_of(content_repo.path) == (1, [
        "terms.md:1: error: slug 'terms', made from the file name, is already used by refund.md, so this "
        "document is left out: give it a slug of its own with 'slug:' in its front matter"])


def test_a_broken_link_is_reported_on_its_own_line_of_a_paragraph(tmp_path):
    (tmp_path / "t.md").write_text("# T\n\nFirst line,\nsecond line  \nand [a link](gone.md) on the third.\n")
    assert problems_of(tmp_path)[1] == ["t.md:5: error: link to 'gone.md': there is no file 'gone.md'"]


def test_links_to_other_documents_and_their_headings(tmp_path):
    (tmp_path / "refund.md").write_text("# Refunds\n\n## 2. Annual plans\n\nText.\n\n## 3. Refund "
                                        "window\n\nText.\n")
    (tmp_path / "terms.md").write_text("# Terms\n\n[ok](refund.md#annual-plans) [bad](refund.md#monthly)\n\n"
                                       "[near](refund.md#window)\n")
    _, problems = problems_of(tmp_path)
    assert problems == ["terms.md:3: error: link to 'refund.md#monthly': refund.md has no heading #monthly",
                        "terms.md:5: error: link to 'refund.md#window': refund.md has no heading #window; "
                        "did you mean #refund-window?"]


def test_effective_dates_that_go_backwards(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"terms.md": GOOD})
    earlier = front(title="Terms", slug="terms", effective="2025-01-01") + "# Terms\n\nOther.\n"
    commit = content_repo.commit("2025-02-01T10:00", **{"terms.md": earlier})
    exit_code, problems = problems_of(content_repo.path)
    assert exit_code == 1
    assert problems == ["terms.md:4: error: effective date 2025-01-01 goes backwards in commit "
                        f"{commit[:10]} (2025-02-01): the version before it takes effect on 2025-03-01"]


TWO_PARAGRAPHS = GOOD + "\nMore.\n"


def rewritten(content_repo):
    """A repository whose version 2025-03-01 was rewritten by a commit after it took effect."""
    taken = content_repo.commit("2025-01-10T10:00", **{"terms.md": TWO_PARAGRAPHS})
    rewrite = TWO_PARAGRAPHS.replace("More.", "Quietly changed.")
    commit = content_repo.commit("2025-04-01T10:00", **{"terms.md": rewrite})
    return taken, commit


def test_a_rewrite_of_text_in_force_is_an_error_that_says_how_to_fix_it(content_repo):
    taken, commit = rewritten(content_repo)
    exit_code, problems = problems_of(content_repo.path)
    assert exit_code == 1
    assert problems == [
        "terms.md:10: error: version 2025-03-01 took effect on 2025-03-01 with the text of commit "
        f"{taken[:10]} (2025-01-10), and commit {commit[:10]} (2025-04-01) changed it: a text in force "
        "cannot change, so the site and the ledger keep the one that took effect. Either give the new text "
        "its own effective date (effective: the day it takes effect, after 2025-03-01) or restore the text "
        f"that took effect (in the content folder: git show {taken[:10]}:./terms.md > terms.md); then commit"]
    assert terms.load(content_repo.path).in_force("terms").body == "# Terms\n\nText.\n\nMore.\n"


def fixed_warning(taken: str, commit: str) -> str:
    return (f"terms.md:10: warning: version 2025-03-01 took effect on 2025-03-01 with the text of commit "
            f"{taken[:10]} (2025-01-10), and commit {commit[:10]} (2025-04-01) changed it afterwards; the "
            "site and the ledger keep the text that took effect, and the file no longer carries that change "
            "under this date (restored, or given a version of its own): nothing to fix")


def test_restoring_the_text_as_the_message_says_leaves_a_warning(content_repo):
    taken, commit = rewritten(content_repo)
    subprocess.run(f"git show {taken[:10]}:./terms.md > terms.md", shell=True, cwd=content_repo.path,
                   check=True)
    content_repo.commit("2025-04-02T10:00", "Restore the text in force")
    assert problems_of(content_repo.path) == (0, [fixed_warning(taken, commit)])
    versions = terms.load(content_repo.path).versions("terms")
    assert [v.body for v in versions] == ["# Terms\n\nText.\n\nMore.\n"]


def test_a_new_effective_date_as_the_message_says_leaves_a_warning(content_repo, tmp_path):
    taken, commit = rewritten(content_repo)
    text = (content_repo.path / "terms.md").read_text()
    text = text.replace("effective: 2025-03-01", "effective: 2025-05-01")
    content_repo.commit("2025-04-02T10:00", "Date the new text", **{"terms.md": text})
    assert problems_of(content_repo.path) == (0, [fixed_warning(taken, commit)])
    old, new = terms.load(content_repo.path).versions("terms")
    assert (old.id, old.body, old.commit) == ("2025-03-01", "# Terms\n\nText.\n\nMore.\n", taken)
    assert (new.id, new.body) == ("2025-05-01", "# Terms\n\nText.\n\nQuietly changed.\n")
    diff = CliRunner().invoke(cli, ["diff", "terms", "--content", str(content_repo.path)])
    assert "[-More-]{+Quietly changed+}." in diff.output
    with Ledger(tmp_path / "ledger.db", create=True) as ledger:
        ledger.publish(terms.load(content_repo.path))
        (document,) = ledger.catalog(at=datetime(2025, 4, 3, tzinfo=timezone.utc))
    assert [(v.id, v.content_sha256) for v in document.versions] == [(old.id, old.content_sha256),
                                                                     (new.id, new.content_sha256)]


def test_the_version_page_shows_the_text_that_took_effect(content_repo, tmp_path):
    taken, _ = rewritten(content_repo)
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", "--content", str(content_repo.path), "--out", str(out),
                                      "--date", "2025-06-01"])
    assert result.exit_code == 0, result.output
    page = (out / "terms" / "2025-03-01" / "index.html").read_text()
    assert "More." in page and "Quietly changed." not in page
    published = json.loads((out / "versions.json").read_text())["documents"][0]["versions"]
    assert [v["content_sha256"] for v in published] == [terms.content_sha256("# Terms\n\nText.\n\nMore.\n")]


def test_an_uncommitted_rewrite_of_text_in_force(content_repo):
    taken = content_repo.commit("2025-01-10T10:00", **{"terms.md": GOOD})
    content_repo.write("terms.md", GOOD.replace("Text.", "Edited."))
    _, problems = problems_of(content_repo.path)
    assert problems == [
        "terms.md:8: error: version 2025-03-01 took effect on 2025-03-01 with the text of commit "
        f"{taken[:10]} (2025-01-10), and an uncommitted edit changed it: a text in force cannot change, so "
        "the site and the ledger keep the one that took effect. Either give the new text its own effective "
        "date (effective: the day it takes effect, after 2025-03-01) or restore the text that took effect "
        f"(in the content folder: git show {taken[:10]}:./terms.md > terms.md); then commit"]


def test_a_rewrite_of_a_comment_is_no_rewrite(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"terms.md": GOOD})
    content_repo.commit("2025-04-01T10:00", **{"terms.md": GOOD + "<!-- check with counsel -->\n"})
    assert problems_of(content_repo.path) == (0, [])


def test_the_last_text_before_the_effective_date_takes_effect(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"terms.md": GOOD})
    content_repo.commit("2025-03-01T23:00", **{"terms.md": GOOD.replace("Text.", "Final.")})
    content_repo.commit("2025-03-05T10:00", **{"terms.md": GOOD.replace("Text.", "Later.")})
    final = GOOD.replace("Text.", "Final.").replace("title: Terms", "title: Terms of Use")
    content_repo.commit("2025-03-06T10:00", **{"terms.md": final})
    _, problems = problems_of(content_repo.path)
    assert [p.split(": ")[1] for p in problems] == ["warning"]
    (version,) = terms.load(content_repo.path).versions("terms")
    assert (version.body, version.title) == ("# Terms\n\nFinal.\n", "Terms of Use")


def test_a_version_committed_after_its_date_takes_its_first_text(content_repo):
    content_repo.commit("2025-04-01T10:00", **{"terms.md": GOOD})
    commit = content_repo.commit("2025-04-02T10:00", **{"terms.md": GOOD.replace("Text.", "Later.")})
    _, problems = problems_of(content_repo.path)
    assert f"commit {commit[:10]} (2025-04-02) changed it: a text in force cannot change" in problems[0]
    assert terms.load(content_repo.path).in_force("terms").body == "# Terms\n\nText.\n"


def test_a_bad_date_is_one_error_and_no_version_dated_today(content_repo):
    bad = front(title="Terms", slug="terms", effective="2027-02-30", material=True) + "# Terms\n\nNew fee.\n"
    content_repo.commit(commit_time(datetime.now(timezone.utc)), **{"terms.md": bad})
    assert problems_of(content_repo.path) == (1, [
        "terms.md:4: error: effective date '2027-02-30' is not a day of the calendar: February 2027 has 28 "
        "days"])


def test_a_text_with_a_bad_date_is_left_out_while_a_version_comes_before_it(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"terms.md": GOOD})
    content_repo.write("terms.md", GOOD.replace("2025-03-01", "2025-02-29").replace("Text.", "New."))
    assert problems_of(content_repo.path) == (1, [
        "terms.md:4: error: effective date '2025-02-29' is not a day of the calendar: February 2025 has 28 "
        "days"])
    assert [(v.id, v.body) for v in terms.load(content_repo.path).versions("terms")] == [
        ("2025-03-01", "# Terms\n\nText.\n")]


def test_front_matter_that_cannot_be_read_keeps_the_document_as_it_was(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"tos.md": GOOD})
    content_repo.write("tos.md", GOOD.replace("title: Terms", "title: Terms: new").replace("Text.", "New."))
    assert problems_of(content_repo.path) == (1, [
        "tos.md:2: error: front matter is not valid YAML: the value holds ': ' (a colon and a space), which "
        "reads as another key: put the value in quotes: title: \"Terms: new\""])
    assert [(v.slug, v.id, v.body) for v in terms.load(content_repo.path).versions("terms")] == [
        ("terms", "2025-03-01", "# Terms\n\nText.\n")]


def test_a_second_version_on_the_same_date_needs_a_label(content_repo):
    labelled = front(title="Terms", slug="terms", effective="2025-03-01", label="morning") + "# Terms\n\nA.\n"
    content_repo.commit("2025-01-10T10:00", **{"terms.md": labelled})
    commit = content_repo.commit("2025-01-20T10:00", **{"terms.md": GOOD})
    exit_code, problems = problems_of(content_repo.path)
    assert exit_code == 1
    assert problems == [f"terms.md:4: error: version 2025-03-01 (label 'morning') already takes effect on "
                        f"2025-03-01: add a label to make this text in commit {commit[:10]} (2025-01-20) a "
                        "second version on that date, or write 'label: morning' to revise that version"]
    assert [v.body for v in terms.load(content_repo.path).versions("terms")] == ["# Terms\n\nA.\n"]


def test_a_slug_change_is_a_warning(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"terms.md": GOOD.replace("slug: terms", "slug: tos")})
    commit = content_repo.commit("2025-02-01T10:00", **{"terms.md": GOOD})
    exit_code, problems = problems_of(content_repo.path)
    assert exit_code == 0
    assert problems == [f"terms.md:3: warning: slug changed from 'tos' to 'terms' in commit {commit[:10]} "
                        "(2025-02-01): links and consent records that use 'tos' no longer match"]
    assert list(terms.load(content_repo.path).documents) == ["terms"]


def test_changes_before_the_effective_date_are_fine(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"terms.md": GOOD})
    content_repo.commit("2025-02-10T10:00", **{"terms.md": GOOD.replace("Text.", "Proofread.")})
    assert problems_of(content_repo.path) == (0, [])


def test_material_version_with_too_little_notice_is_a_warning(content_repo):
    now = datetime.now(timezone.utc)
    soon = (now + timedelta(days=10)).date()
    text = front(title="Terms", slug="terms", effective=soon.isoformat(),
                 material=True) + "# Terms\n\nNew fee.\n"
    content_repo.commit((now - timedelta(days=1)).replace(tzinfo=None).isoformat(timespec="seconds"),
                        **{"terms.md": text})
    result = run_check(content_repo.path)
    assert result.exit_code == 0
    assert (f"terms.md:4: warning: version {soon} is marked material but takes effect 11 days after it was "
            f"announced on {(now - timedelta(days=1)):%Y-%m-%d}; users are owed 30 days of notice"
            in result.output)


def material_terms(effective) -> str:
    return front(title="Terms", slug="terms", effective=effective.isoformat(),
                 material=True) + "# Terms\n\nNew fee.\n"


def commit_time(at: datetime) -> str:
    return at.replace(tzinfo=None).isoformat(timespec="seconds")


def test_material_version_in_force_on_the_day_it_was_announced_is_a_warning(content_repo):
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    content_repo.commit(commit_time(yesterday), **{"terms.md": material_terms(yesterday.date())})
    _, problems = problems_of(content_repo.path)
    assert problems == [f"terms.md:4: warning: version {yesterday.date()} is marked material but takes "
                        f"effect on the day it was announced, {yesterday:%Y-%m-%d}; users are owed 30 days "
                        "of notice"]


def test_material_version_in_force_before_it_was_announced_is_a_warning(content_repo):
    now = datetime.now(timezone.utc)
    earlier = (now - timedelta(days=3)).date()
    content_repo.commit(commit_time(now), **{"terms.md": material_terms(earlier)})
    _, problems = problems_of(content_repo.path)
    assert problems == [f"terms.md:4: warning: version {earlier} is marked material but takes effect 3 days "
                        f"before it was announced on {now:%Y-%m-%d}; users are owed 30 days of notice"]


def test_one_day_of_notice_is_singular(content_repo):
    now = datetime.now(timezone.utc)
    tomorrow = (now + timedelta(days=1)).date()
    content_repo.commit(commit_time(now), **{"terms.md": material_terms(tomorrow)})
    _, problems = problems_of(content_repo.path)
    assert problems == [f"terms.md:4: warning: version {tomorrow} is marked material but takes effect 1 day "
                        f"after it was announced on {now:%Y-%m-%d}; users are owed 30 days of notice"]


def test_a_version_without_a_flag_that_the_analysis_judges_material_is_owed_notice_too(content_repo):
    """The ledger asks users to accept it again (its verdict decides), so the notice rule is
    the one of a version marked material: a fee raised in 8 days, or since a month ago."""
    now = datetime.now(timezone.utc)
    fee = (front(title="Terms", slug="terms", effective="2025-01-10")
           + "# Terms\n\nThe fee is 10 EUR per month.\n")
    content_repo.commit("2025-01-01T10:00", **{"terms.md": fee})
    for effective, when in (((now + timedelta(days=8)).date(), "8 days after"),
                            ((now - timedelta(days=31)).date(), "31 days before")):
        raised = fee.replace("2025-01-10", effective.isoformat()).replace("10 EUR", "15 EUR")
        content_repo.commit(commit_time(now), **{"terms.md": raised})
        _, problems = problems_of(content_repo.path)
        assert (f"terms.md:4: warning: version {effective} has no 'material:' flag and the change analysis "
                f"judges it material, but it takes effect {when} it was announced on {now:%Y-%m-%d}; users "
                f"are owed 30 days of notice") in problems, problems
        assert any("has no 'material:' flag and the change from 2025-01-10 looks material" in p
                   for p in problems) == (effective > now.date())  # still open to a decision


def test_a_new_version_with_the_summary_of_the_one_before_is_a_warning(content_repo):
    now = datetime.now(timezone.utc)
    later = (now + timedelta(days=40)).date()
    text = front(title="Terms", slug="terms", effective="2025-01-10", summary="First terms.") + "# T\n\n1.\n"
    content_repo.commit("2025-01-01T10:00", **{"terms.md": text})
    content_repo.commit(commit_time(now), **{"terms.md": text.replace("2025-01-10", later.isoformat())
                                             .replace("1.", "1. 2.")})
    _, problems = problems_of(content_repo.path)
    assert problems == [f"terms.md:5: warning: version {later} has the summary of version 2025-01-10 ('First "
                        f"terms.'): say what this version changes, for the site's history and feed"]


def test_short_notice_long_ago_is_not_warned_about_forever(content_repo):
    content_repo.commit("2025-01-10T10:00", **{"terms.md": material_terms(date(2025, 1, 10))})
    assert problems_of(content_repo.path) == (0, [])


def test_notice_days_comes_from_termsledger_toml(content_repo):
    now = datetime.now(timezone.utc)
    soon = (now + timedelta(days=10)).date()
    text = front(title="Terms", slug="terms", effective=soon.isoformat(),
                 material=True) + "# Terms\n\nNew fee.\n"
    content_repo.commit(now.replace(tzinfo=None).isoformat(timespec="seconds"), **{"terms.md": text})
    (content_repo.path / "termsledger.toml").write_text("notice_days = 7\n")
    assert problems_of(content_repo.path) == (0, [])


def test_bad_configuration_is_reported(tmp_path):
    (tmp_path / "termsledger.toml").write_text("notice_days = 'thirty'\n")
    result = run_check(tmp_path)
    assert result.exit_code == 1
    assert "termsledger.toml: notice_days must be a whole number of days, not 'thirty'" in result.output
    (tmp_path / "termsledger.toml").write_text("notice_days = true\n")
    assert "notice_days must be a whole number of days, not true" in run_check(tmp_path).output
    (tmp_path / "termsledger.toml").write_text('[site]\ntemplates = "templatez"\n')
    (tmp_path / "t.md").write_text("# T\n\nText.\n")
    assert run_check(tmp_path).exit_code == 0  # check, serve, consent… need no templates
    result = CliRunner().invoke(cli, ["build", "--content", str(tmp_path), "--out", str(tmp_path / "site")])
    assert result.exit_code == 1
    assert (f"Error: templates {tmp_path / 'templatez'} is not a folder: create it, or leave [site] "
            f"templates out to use the built-in templates") in result.output


def test_a_content_path_that_is_a_file_says_so(tmp_path, monkeypatch):
    (tmp_path / "terms.md").write_text("# T\n\nText.\n")
    (tmp_path / "termsledger.toml").write_text('content = "terms.md"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 1
    assert (f"Error: the content folder {tmp_path / 'terms.md'} (named by termsledger.toml) is a "
            f"file: name the folder of the documents") in result.output


def test_fields_from_termsledger_toml_adopt_a_repository(tmp_path):
    (tmp_path / "tos.md").write_text("---\npermalink: terms\nlast_updated: 2024-06-01\n---\n# "
                                     "Terms\n\nText.\n")
    (tmp_path / "termsledger.toml").write_text('[fields]\neffective = "last_updated"\nslug = "permalink"\n')
    result = run_check(tmp_path)
    assert result.exit_code == 0, result.output
    assert "  terms: 1 version, in force 2024-06-01\n" in result.output


@pytest.mark.parametrize("table, message", [
    ('[fields]\nupdated = "last_updated"\n',
     "termsledger.toml: unknown field 'updated' in [fields]; termsledger's fields are: title, slug, "
     "effective, summary, material, references, label"),
    ('[fields]\neffective = 3\n', "termsledger.toml: [fields] effective must be the name of a front-matter "
                                   "key (text), not 3"),
    ('fields = "last_updated"\n', "termsledger.toml: fields must be a table ([fields]) of termsledger's "
                                  "field names and your front-matter keys, not 'last_updated'"),
])
def test_bad_fields_in_termsledger_toml(tmp_path, table, message):
    (tmp_path / "t.md").write_text(GOOD)
    (tmp_path / "termsledger.toml").write_text(table)
    result = run_check(tmp_path)
    assert result.exit_code == 1
    assert message in result.output


def test_missing_content_folder(tmp_path):
    result = run_check(tmp_path / "nope")
    assert result.exit_code == 1
    assert result.output == (f"Error: there is no content folder {tmp_path / 'nope'} (given with --content). "
                             "Name the documents' folder with --content FOLDER or with content = \"FOLDER\" "
                             "in termsledger.toml\n")


@pytest.mark.parametrize("command", ["check", "build"])
def test_no_content_folder_says_where_it_looked_and_how_to_point_elsewhere(tmp_path, monkeypatch, command):
    (tmp_path / "terms.md").write_text(GOOD)
    (tmp_path / "README.md").write_text("# About\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [command])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: there is no content folder {tmp_path / 'content'} (the default). Name the documents' folder "
        f"with --content FOLDER or with content = \"FOLDER\" in termsledger.toml; {tmp_path} holds Markdown "
        "documents (terms.md): for that folder, give --content . or write content = \".\" (termsledger init "
        "writes termsledger.toml)\n")
    (tmp_path / "termsledger.toml").write_text('content = "."\n')
    result = CliRunner().invoke(cli, [command])
    assert result.exit_code == 0, result.output
    assert ("1 document, 1 version in .; 0 errors, 0 warnings." in result.output if command == "check"
            else (tmp_path / "build" / "terms" / "index.html").is_file())


def test_content_folder_named_by_termsledger_toml_is_missing(tmp_path, monkeypatch):
    (tmp_path / "termsledger.toml").write_text('content = "legal"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 1
    assert result.output == (f"Error: there is no content folder {tmp_path / 'legal'} (named by "
                             "termsledger.toml). Name the documents' folder with --content FOLDER or with "
                             "content = \"FOLDER\" in termsledger.toml\n")


def test_content_folder_without_documents(tmp_path):
    (tmp_path / "policy.txt").write_text("Text.\n")
    (tmp_path / "termsledger.toml").write_text('include = ["*.markdown"]\n')
    result = run_check(tmp_path)
    assert result.exit_code == 1
    assert (f"Error: content folder '{tmp_path}' has no documents: no file in it matches *.markdown\n"
            in result.output)


def test_json_summary(content_repo):
    summarized(content_repo)
    data = json.loads(run_check(content_repo.path, "--format", "json").stdout)
    assert data["ok"] is True and data["problems"] == []
    assert sorted(data["documents"], key=lambda d: d["slug"]) == [
        {"slug": "privacy", "title": "Privacy", "path": "privacy.md", "versions": 1,
         "current": "2020-02-01", "announced": None},
        {"slug": "terms", "title": "Terms", "path": "terms.md", "versions": 3,
         "current": "2020-06-01", "announced": "2999-01-01"}]


def test_every_command_has_help():
    context = cli.make_context("termsledger", ["--help"], resilient_parsing=True)
    names = cli.list_commands(context)
    assert {"check", "diff", "build", "publish", "consent", "serve", "keys"} <= set(names)
    for name in names:
        command = cli.get_command(context, name)
        assert command.help, name
        assert CliRunner().invoke(cli, [name, "--help"]).exit_code == 0


REFUNDS = ("# Terms\n\n## 1. Accounts\n\nKeep your password safe.\n\n"
           "## 2. Refunds\n\nYou may ask for a refund within 14 days.\n")


def test_an_unflagged_material_change_is_a_warning_that_says_what_will_happen(content_repo):
    now = datetime.now(timezone.utc)
    later = (now + timedelta(days=60)).date()
    content_repo.commit("2025-01-10T10:00",
                        **{"terms.md": front(title="Terms", effective="2025-01-10") + REFUNDS})
    announced = front(title="Terms", effective=later.isoformat()) + REFUNDS.replace("14 days", "7 days")
    content_repo.commit(commit_time(now), **{"terms.md": announced})
    _, problems = problems_of(content_repo.path)
    assert problems == [
        f"terms.md:13: warning: version {later} has no 'material:' flag and the change from 2025-01-10 looks "
        "material (high confidence, score 0.70): Refund period shortened from 14 days to 7 days. So users "
        f"who accepted an earlier version will be asked to accept it again once it takes effect on {later}: "
        "write 'material: true' to confirm, or 'material: false' if they need only be told"]
    for flag in (True, False):
        content_repo.write("terms.md", announced.replace("---\n#", f"material: {str(flag).lower()}\n---\n#"))
        _, problems = problems_of(content_repo.path)
        assert [p for p in problems if "has no 'material:' flag" in p] == []


def test_an_unreadable_flag_is_its_error_alone_not_a_missing_flag(content_repo):
    """A flag written but neither true nor false is one error at its line: not also the warnings
    (analysis, notice) of a version that has no flag, which would contradict it."""
    now = datetime.now(timezone.utc)
    soon = (now + timedelta(days=10)).date()
    content_repo.commit("2025-01-10T10:00",
                        **{"terms.md": front(title="Terms", effective="2025-01-10") + REFUNDS})
    unreadable = front(title="Terms", effective=soon.isoformat(), material="yes please")
    content_repo.commit(commit_time(now), **{"terms.md": unreadable + REFUNDS.replace("14 days", "7 days")})
    assert problems_of(content_repo.path) == (
        1, ["terms.md:4: error: material must be true or false, not 'yes please'"])

def test_an_unflagged_cosmetic_change_is_no_warning(content_repo):
    now = datetime.now(timezone.utc)
    later = (now + timedelta(days=60)).date()
    content_repo.commit("2025-01-10T10:00",
                        **{"terms.md": front(title="Terms", effective="2025-01-10") + REFUNDS})
    respaced = REFUNDS.replace("password", "pasword").replace("pasword", "password ")
    content_repo.commit(commit_time(now), **{"terms.md": front(title="Terms", effective=later.isoformat())
                                             + respaced})
    assert problems_of(content_repo.path) == (0, [])
