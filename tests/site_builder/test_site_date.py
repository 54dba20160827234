"""The site knows its date: when the next change takes effect, and pages that open from disk."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.site import broken_links, sample_history

import site_builder
import terms
from site_builder import SiteSettings
from termsledger.cli import cli


def build(content_repo, tmp_path, *args) -> tuple[Path, str]:
    sample_history(content_repo)
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", "--content", str(content_repo.path), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_build_says_when_the_next_change_takes_effect(content_repo, tmp_path):
    out, output = build(content_repo, tmp_path, "--date", "2025-07-01")
    assert output.endswith("Next change on 2025-09-01: privacy version 2025-09-01 takes effect; build the "
                           "site again that day (or every day), so that it shows the version in force.\n")
    assert json.loads((out / "versions.json").read_text())["next_change"] == {
        "date": "2025-09-01", "document": "privacy", "version": "2025-09-01"}
    again = CliRunner().invoke(cli, ["build", "--content", str(content_repo.path), "--out", str(out),
                                     "--date", "2025-07-01"])
    assert "0 files written" in again.output
    assert again.output.endswith("so that it shows the version in force.\n")
    content = terms.load(content_repo.path)
    assert site_builder.build(content, out, now=date(2026, 9, 1)).next_change is None
    assert json.loads((out / "versions.json").read_text())["next_change"] is None
    last = CliRunner().invoke(cli, ["build", "--content", str(content_repo.path), "--out", str(out),
                                    "--date", "2026-09-01"])
    assert last.output.endswith("No version is announced: the site stays true until the next one is "
                                "committed.\n")


def test_announced_banners_say_when_the_page_was_built(content_repo, tmp_path):
    out, _ = build(content_repo, tmp_path, "--date", "2025-07-01")
    text = re.sub(r"<[^>]+>", "", (out / "terms" / "2026-09-01" / "index.html").read_text())
    assert ("Announced: this version takes effect on 1 September 2026. Until then the version of 1 June 2025 "
            "is in force. This page was built on 1 July 2025.") in " ".join(text.split())
    current = " ".join(re.sub(r"<[^>]+>", "", (out / "terms" / "index.html").read_text()).split())
    assert ("takes effect on 1 September 2026: Arbitration added. This page was built on 1 July 2025."
            in current)
    report = site_builder.build(terms.load(content_repo.path), out, now=date(2025, 7, 2))  # the next day
    assert "terms/2026-09-01/index.html" in report.written
    assert "terms/2025-01-01/index.html" not in report.written
    page = (out / "terms" / "2026-09-01" / "index.html").read_text()
    assert "built on <time datetime=\"2025-07-02\">" in page


def test_file_urls_link_to_index_files(content_repo, tmp_path):
    out, _ = build(content_repo, tmp_path, "--date", "2025-07-01", "--file-urls")
    page = (out / "terms" / "history" / "index.html").read_text()
    links = re.findall(r'<a [^>]*href="([^"]*)"', page)
    assert "../../index.html" in links and "../index.html" in links and "../2025-06-01/index.html" in links
    assert not [link for link in links if link.endswith("/") and "://" not in link]
    assert broken_links(out) == []
    body = (out / "terms" / "2025-06-01" / "index.html").read_text()
    assert "../../privacy/2025-01-01/index.html#what-we-collect" in body  # links between documents too


def test_file_urls_from_termsledger_toml(content_repo, tmp_path):
    (content_repo.path / "termsledger.toml").write_text("[site]\nfile_urls = true\n")
    out, _ = build(content_repo, tmp_path)
    assert 'href="terms/index.html"' in (out / "index.html").read_text()
    (content_repo.path / "termsledger.toml").write_text('[site]\nfile_urls = "yes"\n')
    result = CliRunner().invoke(cli, ["build", "--content", str(content_repo.path), "--out", str(out)])
    assert result.exit_code == 1
    assert "[site] file_urls must be true or false, not 'yes'" in result.output


@pytest.mark.slow
def test_pages_opened_from_disk_follow_their_links_in_chromium(browser, content_repo, tmp_path):
    sample_history(content_repo)
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, SiteSettings(file_urls=True), now=date(2025, 7, 1))
    page = browser.new_page()
    page.goto((out / "index.html").as_uri())
    page.click("main a[href='terms/index.html']")
    assert page.url == (out / "terms" / "index.html").as_uri()
    assert page.locator("h1").inner_text() == "Terms of Use"
    page.click("text=All revisions")
    assert page.url == (out / "terms" / "history" / "index.html").as_uri()
    page.click("a[href='../2025-01-01/index.html']")
    assert page.url == (out / "terms" / "2025-01-01" / "index.html").as_uri()
    assert "Not in force" in page.locator(".status").first.inner_text()
    page.click(".breadcrumbs a >> nth=0")
    assert page.url == (out / "index.html").as_uri()
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # the stylesheet loaded


@pytest.mark.parametrize(("given", "why"), [
    ("2027-02-30", "is not a day of the calendar: February 2027 has 28 days"),
    ("2027-13-01", "is not a day of the calendar: a year has 12 months"),
    ("tomorrow", "is not a date: write it as YYYY-MM-DD"),
    ("20270201", "is not a date: write it as YYYY-MM-DD"),
])
def test_a_build_date_that_is_no_day_is_refused_in_the_words_of_check(content_repo, tmp_path, given, why):
    sample_history(content_repo)
    result = CliRunner().invoke(cli, ["build", "--content", str(content_repo.path), "--out",
                                      str(tmp_path / "site"), "--date", given])
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: Invalid value for '--date': {given!r} {why}\n")
    assert not (tmp_path / "site").exists()
