"""The static site: pages, links, machine files, sanitization, determinism, incremental builds."""

from __future__ import annotations

import gc
import hashlib
import json
import re
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from support.repo import front
from support.site import PRIVACY_V1, TERMS_V1, TERMS_V2, broken_links, parse_html, sample_history

import site_builder
import terms
from site_builder import InvalidPath, SiteSettings, cache, urls
from termsledger.cli import cli

DAY = date(2026, 1, 15)


@pytest.fixture
def sample(content_repo) -> terms.Content:
    sample_history(content_repo)
    return terms.load(content_repo.path)


@pytest.fixture
def site(sample, tmp_path) -> Path:
    out = tmp_path / "site"
    site_builder.build(sample, out, SiteSettings(organisation="Example Ltd", contact="legal@example.com"),
                       now=DAY)
    return out


def html(out: Path, url: str) -> str:
    return (out / url / "index.html").read_text(encoding="utf-8")


def test_url_layout(site):
    expected = [
        "index.html", "404.html", "site.css", "feed.xml", "versions.json", "sitemap.xml",
        "terms/index.html", "terms/history/index.html",
        "terms/2025-01-01/index.html", "terms/2025-06-01/index.html", "terms/2026-09-01/index.html",
        "terms/diff/2025-01-01..2025-06-01/index.html", "terms/diff/2025-06-01..2026-09-01/index.html",
        "privacy/index.html", "privacy/2025-01-01/index.html", "privacy/2025-09-01/index.html",
        "privacy/diff/2025-01-01..2025-09-01/index.html",
    ]
    for path in expected:
        assert (site / path).is_file(), path
    # Every version is also compared with the one in force (2025-06-01 for the terms).
    assert not (site / "terms/diff/2025-01-01..2026-09-01").exists()


def test_no_broken_internal_links(site):
    assert broken_links(site) == []


def test_link_to_the_leading_heading_resolves(content_repo, tmp_path):
    # check accepts a link to the anchor of a document's first heading, so the page has it.
    linking = TERMS_V1.replace("privacy.md#what-we-collect", "privacy.md#privacy-policy")
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": linking, "privacy.md": PRIVACY_V1})
    content = terms.load(content_repo.path)
    assert not [p for p in terms.check(content, now=DAY) if "privacy-policy" in str(p)]
    out = tmp_path / "site"
    site_builder.build(content, out, now=DAY)
    assert 'href="../privacy/#privacy-policy"' in html(out, "terms")
    assert '<h1 id="Title"><span id="privacy-policy">Privacy Policy</span></h1>' in html(out, "privacy")
    assert broken_links(out) == []


def test_broken_links_checks_fragments(site):
    (site / "terms/index.html").write_text('<a href="../privacy/#no-such-heading">x</a>', encoding="utf-8")
    assert broken_links(site) == ["terms/index.html: ../privacy/#no-such-heading (no anchor)"]


def test_current_page(site):
    page = html(site, "terms")
    assert '<html lang="en">' in page
    assert '<a class="skip-link" href="#Main">' in page and '<main id="Main"' in page
    assert "In force since <time datetime=\"2025-06-01\">1 June 2025</time>" in page
    assert "Refunds within 7 days." in page
    # The announced version is signposted, with a link to it.
    assert 'href="2026-09-01/"' in page and "Announced:" in page
    # Relative links to another document's file go to its page, anchor kept.
    assert 'href="../privacy/#what-we-collect"' in page
    assert '<h1 id="Title"><span id="terms-of-use">Terms of Use</span></h1>' in page
    assert page.count("<h1") == 1
    assert '<a href="#refunds">2. Refunds</a>' in page  # table of contents
    assert '<th class="align-left">' in page and "style=" not in page
    assert 'href="history/"' in page
    assert 'href="../privacy/"' in page  # referenced documents


def test_permanent_version_pages(site):
    old = html(site, "terms/2025-01-01")
    assert "in force from <time datetime=\"2025-01-01\">1 January 2025</time> to " \
           "<time datetime=\"2025-06-01\">1 June 2025</time>" in old
    assert "Refunds within 14 days." in old
    # Links from an old version go to the version of the other document in force then.
    assert 'href="../../privacy/2025-01-01/#what-we-collect"' in old
    announced = html(site, "terms/2026-09-01")
    assert "this version takes effect on <time datetime=\"2026-09-01\">" in announced
    assert "Disputes go to binding arbitration." in announced


def test_history_page(site):
    page = html(site, "terms/history")
    assert page.index("2026-09-01") < page.index("2025-06-01") < page.index("2025-01-01")
    assert "Arbitration added." in page and "Shorter refunds." in page
    assert 'href="../diff/2025-06-01..2026-09-01/"' in page
    assert page.count('class="badge badge-material"') >= 2  # the legend, the flagged version...
    assert "in force</span>" in page and "announced</span>" in page


def test_diff_page(site):
    page = html(site, "terms/diff/2025-01-01..2025-06-01")
    assert "<p>Refunds within <del>14</del><ins>7</ins> days.</p>" in page
    assert '<details class="section section-unchanged" id="accounts">' in page
    assert 'id="Verdict"' in page
    assert '<li><a href="#refunds">Changed: 2. Refunds</a></li>' in page  # at a glance
    added = html(site, "terms/diff/2025-06-01..2026-09-01")
    assert "Material change" in added and "section-added" in added
    assert "The editor marked this version as material" in added


def test_diff_pages_carry_no_analyser_jargon(site):
    for page in (site / "terms" / "diff").glob("*/index.html"):
        text = page.read_text(encoding="utf-8")
        assert "score" not in text and "out of 1" not in text and "' -> '" not in text, page


def test_redline_renders_the_sections(site):
    """Headings, links, tables and notes read as on the version's page, with no Markdown left."""
    page = html(site, "terms/diff/2025-06-01..2026-09-01")
    assert '<h2 class="section-title">Terms of Use <span class="tag tag-unchanged">' in page
    # A link goes where it goes on the version's page; a link to a heading, to that page.
    assert '<a href="../../../privacy/2025-09-01/#what-we-collect">Privacy Policy</a>' in page
    assert '<a href="../../2026-09-01/#refunds">refunds</a>' in page
    removed = page[page.index('class="section section-modified" id="refunds"'):]
    assert '<td class="align-right"><del>14 days</del></td>' in removed  # the removed table, struck
    assert "<p><del>A footnote.</del><sup class=\"footnote-ref\"><del>1</del></sup></p>" in removed
    assert "## " not in page and "](" not in page and "|---" not in page and "[^" not in page
    added = page[page.index('id="arbitration"'):]
    assert '<h3 class="section-title"><ins>3. Arbitration</ins> <span class="tag tag-added">' in added
    assert "<p><ins>Disputes go to binding arbitration.</ins></p>" in added


def test_renumbered_sections_are_folded(content_repo, tmp_path):
    old = ("# T\n\n## 6. Payments\n\nPay monthly.\n\n## 7. Contact\n\nWrite to us, as section 6 says.\n\n"
           "## 8. Notices\n\nBy   e-mail.\n")
    new = ("# T\n\n## 6. Tutor\n\nAn assistant.\n\n## 7. Payments\n\nPay monthly.\n\n## 8. Contact\n\n"
           "Write to us, as section 7 says.\n\n## 9. Notices\n\nBy e-mail.\n")
    content_repo.commit("2025-01-01T10:00:00", **{"t.md": front(slug="t", effective="2025-01-01") + old})
    content_repo.commit("2025-02-01T10:00:00", **{"t.md": front(slug="t", effective="2025-02-01") + new})
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    page = html(out, "t/diff/2025-01-01..2025-02-01")
    assert ('<details class="section section-renumbered" id="payments">\n  <summary><h3 '
            'class="section-title"><del>6</del><ins>7</ins>. Payments <span class="tag '
            'tag-renumbered">renumbered</span></h3></summary>'
            ) in page
    assert '<p>Write to us, as section <del>6</del><ins>7</ins> says.</p>' in page
    assert '<details class="section section-renumbered" id="contact">' in page
    assert '<details class="section section-renumbered" id="notices">' in page
    assert '<section class="section section-added" id="tutor">' in page
    assert "<li>3 sections renumbered or reformatted, the wording unchanged (folded below).</li>" in page


def test_versions_json_matches_the_model(site, sample):
    data = json.loads((site / "versions.json").read_text(encoding="utf-8"))
    assert [d["slug"] for d in data["documents"]] == list(sample.documents)
    for entry in data["documents"]:
        document = sample.document(entry["slug"])
        assert set(entry) == {"slug", "title", "current", "versions"}
        assert entry["current"] == document.in_force(DAY).id
        assert [v["version"] for v in entry["versions"]] == [v.id for v in document.versions]
        for row, version in zip(entry["versions"], document.versions, strict=True):
            assert set(row) == {"version", "effective", "summary", "generated_summary", "material", "flag",
                                "content_sha256", "url", "diff_url", "language", "translations"}
            assert row["language"] == "en" and row["translations"] == {}
            previous = document.previous(version)
            assert row["material"] == (terms.compare(previous, version).material if previous
                                       else bool(version.material))
            assert row["flag"] == version.material
            assert row["content_sha256"] == version.content_sha256
            assert row["effective"] == version.effective.isoformat()
            assert row["summary"] == version.summary
            assert row["generated_summary"] == (terms.compare(previous, version).summary
                                                or None if previous else None)
            assert (site / row["url"] / "index.html").is_file()
            assert row["diff_url"] is None or (site / row["diff_url"] / "index.html").is_file()
    terms_versions = data["documents"][1]["versions"]
    assert terms_versions[0]["diff_url"] is None
    assert [v["flag"] for v in terms_versions] == [None, None, True]


def test_versions_json_material_is_the_verdict_and_flag_the_editors(content_repo, tmp_path):
    first = TERMS_V1.replace("summary: First version.", "summary: First version.\nmaterial: true")
    shorter = TERMS_V2.replace("summary: Shorter refunds.", "summary: Shorter refunds.\nmaterial: false")
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": first})
    content_repo.commit("2025-05-01T10:00:00", **{"terms.md": shorter})
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    rows = json.loads((out / "versions.json").read_text(encoding="utf-8"))["documents"][0]["versions"]
    assert [(v["material"], v["flag"]) for v in rows] == [(True, True), (True, False)]
    history = html(out, "terms/history")
    assert history.count('title="Marked material by the editor">material</span>') == 1  # the first version
    assert "Judged material by the change analysis" not in history  # the flag wins on the site


def test_titles_follow_the_build_date_not_the_clock(content_repo, tmp_path):
    old = front(title="Old Name", slug="policy", effective="2020-01-01") + "Text.\n"
    renamed = front(title="New Name", slug="policy", effective="2025-01-01") + "Text, renamed.\n"
    terms_v1 = front(title="Terms", slug="terms", effective="2020-01-01", references=["policy"]) + "Terms.\n"
    content_repo.commit("2019-12-01T10:00:00", **{"policy.md": old, "terms.md": terms_v1})
    content_repo.commit("2024-12-01T10:00:00", **{"policy.md": renamed})
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=date(2024, 6, 1))
    data = json.loads((out / "versions.json").read_text(encoding="utf-8"))
    assert [d["title"] for d in data["documents"]] == ["Old Name", "Terms"]
    assert 'label="Old Name"' in (out / "feed.xml").read_text(encoding="utf-8")
    assert "New Name" not in html(out, "terms")  # the references, the navigation


def test_feed_parses(site):
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Terms and Policies: changes"
    assert len(feed.entries) == 5
    assert feed.entries[0].title.startswith("Terms of Use: announced, takes effect 1 September 2026")
    assert [e.updated_parsed for e in feed.entries] == sorted((e.updated_parsed for e in feed.entries),
                                                              reverse=True)
    assert len({e.id for e in feed.entries}) == 5


def test_versions_without_summary_show_the_generated_one(content_repo, tmp_path):
    """An adopted repository without front matter: the history, the index, the feed and the
    document's revisions show what changed, marked as generated."""
    content_repo.commit("2025-01-01T10:00:00", **{"terms.md": "# Terms\n\n## 1. Fees\n\nTen euros.\n"})
    content_repo.commit("2025-03-01T10:00:00", **{"terms.md": "# Terms\n\n## 1. Fees\n\nTwelve euros.\n\n"
                                                                  "## 2. Notices\n\nBy e-mail.\n"})
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    generated = ("Fee amount increased from Ten euros to Twelve euros. "
                 '<span class="generated">(summary generated from the changes)</span>')
    history = html(out, "terms/history")
    assert generated in history and "No summary given." not in history
    assert "First version." in history
    assert generated in html(out, "")
    document = html(out, "terms")
    revisions = document[document.index('<h2 id="Revisions">'):]
    assert generated in revisions
    assert revisions.index("1 March 2025") < revisions.index("1 January 2025")
    assert 'href="diff/2025-01-01..2025-03-01/"' in revisions
    assert 'id="Revisions"' not in html(out, "terms/2025-01-01")  # only on the document's own page
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert feed.entries[0].summary == ("Fee amount increased from Ten euros to Twelve euros. "
                                       "(Summary generated from the changes.)")
    rows = json.loads((out / "versions.json").read_text(encoding="utf-8"))["documents"][0]["versions"]
    assert [(v["summary"], v["generated_summary"], v["material"], v["flag"]) for v in rows] == [
        ("", None, False, None), ("", "Fee amount increased from Ten euros to Twelve euros.", True, None)]


def test_base_url_makes_feed_and_sitemap_absolute(sample, tmp_path):
    out = tmp_path / "site"
    site_builder.build(sample, out, SiteSettings(base_url="https://example.com/legal"), now=DAY)
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert feed.entries[0].link == "https://example.com/legal/terms/2026-09-01/"
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://example.com/legal/terms/</loc>" in sitemap
    assert "<loc>https://example.com/legal/terms/2025-01-01/</loc><lastmod>2024-12-01</lastmod>" in sitemap
    assert 'href="https://example.com/legal/site.css"' in (out / "404.html").read_text(encoding="utf-8")
    data = json.loads((out / "versions.json").read_text(encoding="utf-8"))
    assert data["documents"][0]["versions"][0]["url"] == "https://example.com/legal/privacy/2025-01-01/"


def test_sanitization(content_repo, tmp_path):
    hostile = TERMS_V1 + """
<script>alert("x")</script>
<p onclick="steal()" style="color:red">Click <a href="javascript:alert(1)">here</a></p>
<img src="x.png" onerror="alert(2)"> <img src="data:image/png;base64,AAAA" alt="d">

[data link](data:text/html;base64,PHNjcmlwdD4=) [js link](javascript:alert(3)) ![i](data:image/png;base64,AA)

<a href="JaVaScRiPt:alert(4)">mixed case</a> <!-- a comment -->
<a name="kept-anchor"></a> <a href="mailto:legal@example.com">mail</a> <a href="https://example.com/">web</a>
<iframe src="https://evil.example"></iframe><style>body{display:none}</style>
"""
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": hostile})
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    for path in out.rglob("*.html"):
        page = path.read_text(encoding="utf-8").lower()
        for bad in ("<script", "onerror", "onclick", "<!--", "<iframe", "<style", "style="):
            assert bad not in page, (path, bad)
        for link in parse_html(path).links:
            assert not link.lower().strip().startswith(("javascript:", "data:")), (path, link)
    page = html(out, "terms")
    assert 'name="kept-anchor"' in page and 'href="mailto:legal@example.com"' in page
    assert 'href="https://example.com/"' in page


def test_documents_cannot_reuse_page_ids_or_site_classes(content_repo, tmp_path):
    raw = TERMS_V1 + """
<div id="Main" class="status status-current">Fake banner</div> <span id="Title">t</span>
<a name="References"></a> <a name="kept-anchor"></a> <a name="_Toc123"></a> <p id="section-3">s</p>
<table><tr><td class="align-right badge">1</td></tr></table>
"""
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": raw})
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    page = html(out, "terms")
    assert "<div>Fake banner</div> <span>t</span>" in page
    for own in ("Main", "Title", "References"):
        assert page.count(f'id="{own}"') + page.count(f'name="{own}"') <= 1, own
    assert 'name="kept-anchor"' in page and 'name="_Toc123"' in page and 'id="section-3"' in page
    assert '<td class="align-right">1</td>' in page


def test_external_images_become_links(content_repo, tmp_path):
    raw = TERMS_V1 + """
![Our logo](https://cdn.example/logo.png) ![Diagram](diagram.png)
[![Build status](https://ci.example/badge.svg)](https://ci.example/)

<p><img src="https://track.example/p.gif?u=1&amp;v=2" alt=""> <img src="//track.example/q.gif" alt="Q"></p>
"""
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": raw})
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    page = html(out, "terms")
    assert '<a href="https://cdn.example/logo.png">Our logo</a>' in page
    assert '<img src="diagram.png" alt="Diagram">' in page
    assert '<a href="https://ci.example/">Build status</a>' in page
    tracker = "https://track.example/p.gif?u=1&amp;v=2"
    assert f'<a href="{tracker}">{tracker}</a>' in page
    assert '<a href="//track.example/q.gif">Q</a>' in page
    for path in out.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert '<img src="http' not in text and '<img src="//' not in text, path


FLOW_V1, FLOW_V2, PDF = b"\x89PNG flow chart, first", b"\x89PNG flow chart, second", b"%PDF-1.4 form"
WITH_FILES = """
![Diagram](images/flow.png) <img src="images/flow.png" alt="Flow"> \
[Withdrawal form](forms/withdrawal%20form.pdf#page=2)
"""


def published(data: bytes, name: str) -> str:
    return f"assets/{hashlib.sha256(data).hexdigest()[:16]}/{name}"


def test_files_documents_refer_to_are_published(content_repo, tmp_path):
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": TERMS_V1 + WITH_FILES, "privacy.md": PRIVACY_V1,
                                                  "images/flow.png": FLOW_V1,
                                                  "forms/withdrawal form.pdf": PDF})
    content_repo.commit("2025-05-01T10:00:00", **{"terms.md": TERMS_V2 + WITH_FILES,
                                                  "images/flow.png": FLOW_V2})
    content_repo.write("images/flow.png", b"uncommitted")  # committed versions keep their commit's image
    out = tmp_path / "site"
    report = site_builder.build(terms.load(content_repo.path), out, now=DAY)
    old, new, form = published(FLOW_V1, "flow.png"), published(FLOW_V2, "flow.png"), \
        published(PDF, "withdrawal form.pdf")
    assert {old, new, form} <= set(report.written)
    assert [(out / p).read_bytes() for p in (old, new, form)] == [FLOW_V1, FLOW_V2, PDF]
    first = html(out, "terms/2025-01-01")
    assert f'<img src="../../{old}" alt="Diagram">' in first
    assert f'<img src="../../{old}" alt="Flow">' in first
    assert f'href="../../{form.replace(" ", "%20")}#page=2"' in first
    assert f'<img src="../../{new}" alt="Diagram">' in html(out, "terms/2025-06-01")
    assert f'<img src="../{new}" alt="Diagram">' in html(out, "terms")
    assert broken_links(out) == []
    assert site_builder.build(terms.load(content_repo.path), out, now=DAY).written == ()


def test_files_outside_the_content_folder_are_not_published(content_repo, tmp_path):
    links = "\n[a](../secret.txt) ![b](../../../../etc/passwd) ![c](escape.png) [d](.env) ![f](gone.png)\n"
    content_repo.commit("2024-12-01T10:00:00", **{"secret.txt": "top secret",
                                                  "content/terms.md": TERMS_V1 + links,
                                                  "content/privacy.md": PRIVACY_V1,
                                                  "content/.env": "KEY=top secret"})
    (content_repo.path / "content/escape.png").symlink_to("../secret.txt")
    content_repo.commit("2024-12-02T10:00:00")
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path / "content"), out, now=DAY)
    page = html(out, "terms")
    for written in ('href="../secret.txt"', 'src="../../../../etc/passwd"', 'src="escape.png"', 'href=".env"',
                    'src="gone.png"'):
        assert written in page
    assert not (out / "assets").exists()
    assert not [p for p in out.rglob("*") if p.is_file() and b"top secret" in p.read_bytes()]


def test_changed_or_added_files_are_republished(tmp_path):
    folder = tmp_path / "content"
    (folder / "images").mkdir(parents=True)
    (folder / "terms.md").write_text(TERMS_V1 + WITH_FILES, encoding="utf-8")
    (folder / "privacy.md").write_text(PRIVACY_V1, encoding="utf-8")
    (folder / "images/flow.png").write_bytes(FLOW_V1)
    out = tmp_path / "site"
    site_builder.build(terms.load(folder), out, now=DAY)
    assert 'href="forms/withdrawal%20form.pdf#page=2"' in html(out, "terms")  # missing: as written
    assert site_builder.build(terms.load(folder), out, now=DAY).written == ()
    (folder / "images/flow.png").write_bytes(FLOW_V2)
    (folder / "forms").mkdir()
    (folder / "forms/withdrawal form.pdf").write_bytes(PDF)
    report = site_builder.build(terms.load(folder), out, now=DAY)
    new, form = published(FLOW_V2, "flow.png"), published(PDF, "withdrawal form.pdf")
    assert set(report.written) == {new, form, "terms/index.html", "terms/2025-01-01/index.html"}
    assert report.removed == (published(FLOW_V1, "flow.png"),)
    assert broken_links(out) == []
    assert site_builder.build(terms.load(folder), out, now=DAY).written == ()


def test_a_replaced_file_is_republished_on_every_page_that_shows_it(content_repo, tmp_path):
    """The file is not committed: every version, and the redline between them, shows the one
    in the working tree."""
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": TERMS_V1 + WITH_FILES,
                                                  "privacy.md": PRIVACY_V1})
    content_repo.commit("2025-05-01T10:00:00", **{"terms.md": TERMS_V2 + WITH_FILES})
    (content_repo.path / "images").mkdir()
    (content_repo.path / "images/flow.png").write_bytes(FLOW_V1)
    out, fresh = tmp_path / "site", tmp_path / "fresh"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    diff = "terms/diff/2025-01-01..2025-06-01/index.html"
    assert published(FLOW_V1, "flow.png") in (out / diff).read_text(encoding="utf-8")
    (content_repo.path / "images/flow.png").write_bytes(FLOW_V2)
    report = site_builder.build(terms.load(content_repo.path), out, now=DAY)
    assert {diff, "terms/index.html", "terms/2025-01-01/index.html", "terms/2025-06-01/index.html"} <= set(
        report.written)
    site_builder.build(terms.load(content_repo.path), fresh, now=DAY)
    assert all((out / rel).read_bytes() == (fresh / rel).read_bytes() for rel in site_files(fresh))


def site_files(out: Path) -> list[Path]:
    """The published files: everything in the output folder."""
    return sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())


def test_deterministic(sample, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    site_builder.build(sample, first, now=DAY, processes=2)
    site_builder.build(sample, second, now=DAY, processes=1)
    files = site_files(first)
    assert files == site_files(second)
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


@pytest.mark.parametrize("processes", [1, 2])
def test_a_build_leaves_the_garbage_collector_as_it_found_it(sample, tmp_path, processes):
    gc.unfreeze()  # what earlier tests froze (an API app does at startup)
    site_builder.build(sample, tmp_path / "site", now=DAY, processes=processes)
    assert gc.get_freeze_count() == 0  # nothing left frozen, never collected
    gc.freeze()  # as a program may, for good
    try:
        site_builder.build(sample, tmp_path / "again", now=DAY, processes=processes)
        assert gc.get_freeze_count() >= 1  # what it froze stays frozen
    finally:
        gc.unfreeze()


def test_rebuild_with_nothing_changed_writes_nothing(sample, tmp_path):
    out = tmp_path / "site"
    first = site_builder.build(sample, out, now=DAY)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = site_builder.build(sample, out, now=DAY)
    assert again.written == () and again.removed == ()
    assert len(again.unchanged) == len(first.written)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps


def test_rebuild_repairs_edited_output(sample, tmp_path):
    out = tmp_path / "site"
    site_builder.build(sample, out, now=DAY)
    page = out / "terms/index.html"
    original = page.read_bytes()
    page.write_bytes(b"defaced")
    (out / "feed.xml").unlink()
    report = site_builder.build(sample, out, now=DAY)
    assert report.written == ("feed.xml", "terms/index.html")
    assert page.read_bytes() == original


def test_new_version_rewrites_only_what_depends_on_it(content_repo, tmp_path):
    sample_history(content_repo)
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    content_repo.commit("2025-12-20T10:00:00", **{"privacy.md": (content_repo.path / "privacy.md").read_text()
                        .replace("2025-09-01", "2026-03-01").replace("and name.", "and phone number.")})
    report = site_builder.build(terms.load(content_repo.path), out, now=DAY)
    assert set(report.written) == {
        "index.html", "feed.xml", "versions.json", "sitemap.xml",
        "privacy/index.html", "privacy/history/index.html", "privacy/2026-03-01/index.html",
        "privacy/diff/2025-09-01..2026-03-01/index.html",
        # The announced terms link to the privacy policy in force when they take effect: the new
        # one, on their page and in the redline that shows them.
        "terms/2026-09-01/index.html", "terms/diff/2025-06-01..2026-09-01/index.html",
    }


@pytest.fixture
def comparisons(monkeypatch) -> list[tuple[str, str, str]]:
    """The comparisons builds make (in this process: build them with ``processes=1``)."""
    from site_builder import redline

    made, compare_pair = [], redline.compare_pair

    def counted(old, new, *args):
        made.append((old.slug, old.id, new.id))
        return compare_pair(old, new, *args)

    monkeypatch.setattr(redline, "compare_pair", counted)
    return made


def test_a_new_version_computes_only_the_new_pairs(content_repo, tmp_path, comparisons):
    sample_history(content_repo)
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY, processes=1)
    assert len(comparisons) == 3  # terms 1..2 and 2..3 (2 is in force), privacy 1..2
    comparisons.clear()
    content_repo.commit("2025-12-20T10:00:00", **{"privacy.md": (content_repo.path / "privacy.md").read_text()
                        .replace("2025-09-01", "2026-03-01").replace("and name.", "and phone number.")})
    site_builder.build(terms.load(content_repo.path), out, now=DAY, processes=1)
    assert comparisons == [("privacy", "2025-09-01", "2026-03-01")]


def test_comparisons_are_kept_by_the_texts_and_the_analysis_version(sample, tmp_path, comparisons,
                                                                   monkeypatch):
    out = tmp_path / "site"
    site_builder.build(sample, out, now=DAY, processes=1)
    comparisons.clear()
    site_builder.build(sample, out, SiteSettings(title="Our terms"), now=DAY, processes=1)  # the same pairs
    assert comparisons == []
    monkeypatch.setattr(cache, "code_version", lambda: "a later analysis")
    site_builder.build(sample, out, SiteSettings(title="Terms"), now=DAY, processes=1)
    assert len(comparisons) == 3


@pytest.fixture
def marked_sections(monkeypatch) -> list[tuple[str, str, str]]:
    """The sections of redlines builds mark (status, old text, new text), rather than find
    in the build cache or among those marked before (build with ``processes=1``)."""
    from site_builder import redline

    made, marked = [], redline._marked

    def counted(section, *args):
        made.append((section.status, section.old_text, section.new_text))
        return marked(section, *args)

    monkeypatch.setattr(redline, "_marked", counted)
    return made


def kept_keys(folder: Path) -> set[str]:
    """The keys of what comparing found in sections and sentences, in the build cache ``folder``."""
    with sqlite3.connect(folder / cache.FRAGMENTS) as db:
        return {k for (k,) in db.execute("SELECT key FROM fragments") if k.startswith(cache.KEPT)}


def test_sections_of_redlines_are_marked_once_across_pairs_and_builds(content_repo, tmp_path, marked_sections,
                                                                      monkeypatch):
    sample_history(content_repo)
    out, folder = tmp_path / "site", tmp_path / cache.FOLDER
    site_builder.build(terms.load(content_repo.path), out, now=DAY, processes=1)
    first = list(marked_sections)
    refunds = next(s for s in first if s[1].startswith("## 2. Refunds\n\nRefunds within 14 days."))
    # A version in force from 2025-12-01, the one before with a section inserted: compared with
    # every version, it brings the pair 2025-01-01..2025-12-01, whose refunds section changed as
    # from 2025-01-01 to 2025-06-01 (marked in the first build).
    marked_sections.clear()
    fourth = TERMS_V2.replace("2025-06-01", "2025-12-01").replace(
        "## 2. Refunds", "## Notices\n\nWe write to you first.\n\n## 2. Refunds")
    content_repo.commit("2025-11-01T10:00:00", **{"terms.md": fourth})
    site_builder.build(terms.load(content_repo.path), out, now=DAY, processes=1)
    document = terms.load(content_repo.path).document("terms")
    assert refunds in [(s.status, s.old_text, s.new_text)
                       for s in terms.compare(document.versions[0], document.version("2025-12-01")).sections]
    assert ("added", "", "## Notices\n\nWe write to you first.\n\n") in marked_sections
    assert not set(marked_sections) & set(first)
    before = kept_keys(folder)
    site_builder.build(terms.load(content_repo.path), out, SiteSettings(title="Our terms"), now=DAY,
                       processes=1)
    assert kept_keys(folder) == before  # kept, though this build compared nothing
    marked_sections.clear()
    monkeypatch.setattr(cache, "code_version", lambda: "a later analysis")
    site_builder.build(terms.load(content_repo.path), out, SiteSettings(title="Terms"), now=DAY, processes=1)
    assert refunds in marked_sections
    assert kept_keys(folder) and not kept_keys(folder) & before


def test_a_build_with_no_page_to_render_writes_what_changed(sample, tmp_path, comparisons):
    out = tmp_path / "site"
    site_builder.build(sample, out, now=DAY, extra={"notes/a.txt": b"first"})
    comparisons.clear()
    report = site_builder.build(sample, out, now=DAY, extra={"notes/a.txt": b"second"})
    assert report.written == ("notes/a.txt",) and comparisons == []
    assert (out / "notes" / "a.txt").read_bytes() == b"second"


def test_a_damaged_cache_is_built_again(sample, tmp_path, comparisons):
    out, fresh, folder = tmp_path / "site", tmp_path / "fresh", tmp_path / cache.FOLDER
    site_builder.build(sample, out, now=DAY)
    comparisons.clear()  # this process may have taken some beside its workers
    (folder / cache.FRAGMENTS).write_bytes(b"not a database" * 100)
    (folder / cache.MANIFEST).write_text("garbage\n\u0000", encoding="utf-8")
    report = site_builder.build(sample, out, now=DAY, processes=1)
    assert report.written == () and report.removed == () and len(comparisons) == 3
    site_builder.build(sample, fresh, now=DAY, cache_dir=tmp_path / "another cache")
    assert all((out / rel).read_bytes() == (fresh / rel).read_bytes() for rel in site_files(fresh))
    assert sorted(p.name for p in folder.iterdir()) == ["fragments.sqlite", "manifest.txt", "sources.json"]
    comparisons.clear()
    site_builder.build(sample, out, SiteSettings(title="Our terms"), now=DAY, processes=1)
    assert comparisons == []  # the cache was built again, and is read


def test_the_build_cache_is_kept_beside_the_output_folder_and_reused(sample, tmp_path, comparisons):
    out = tmp_path / "site"
    site_builder.build(sample, out, now=DAY, processes=1)
    assert len(comparisons) == 3
    layout = (cache.FOLDER, cache.MANIFEST, cache.SOURCES, cache.FRAGMENTS)
    assert [p for p in out.rglob("*") if p.name in layout] == []  # nothing of it is published
    assert sorted(p.name for p in (tmp_path / cache.FOLDER).iterdir()) == [
        "fragments.sqlite", "manifest.txt", "sources.json"]
    comparisons.clear()
    assert site_builder.build(sample, out, now=DAY, processes=1).written == ()
    site_builder.build(sample, out, SiteSettings(title="Our terms"), now=DAY, processes=1)
    assert comparisons == []  # every page made again, from the comparisons kept


def test_a_cache_folder_can_be_given_but_not_inside_the_site(sample, tmp_path, comparisons):
    out, folder = tmp_path / "site", tmp_path / "elsewhere" / "cache"
    (out / cache.FOLDER).mkdir(parents=True)  # where older builds kept it: published with the site
    (out / cache.FOLDER / cache.MANIFEST).write_text("\tan older build's\n", encoding="utf-8")
    site_builder.build(sample, out, now=DAY, processes=1, cache_dir=folder)
    assert not (out / cache.FOLDER).exists() and not (tmp_path / cache.FOLDER).exists()
    assert (folder / cache.MANIFEST).is_file() and (folder / cache.FRAGMENTS).is_file()
    comparisons.clear()
    assert site_builder.build(sample, out, now=DAY, processes=1, cache_dir=folder).written == ()
    assert comparisons == []
    for inside in (out, out / "cache"):
        with pytest.raises(site_builder.SiteBuildError, match="inside the output folder"):
            site_builder.build(sample, out, now=DAY, cache_dir=inside)
    assert not (out / "cache").exists()


def test_cli_build_keeps_the_cache_beside_termsledger_toml_or_where_told(example_content, tmp_path,
                                                                          monkeypatch):
    project = tmp_path / "project"
    shutil.copytree(example_content, project / "content")
    (project / "termsledger.toml").write_text('content = "content"\n', encoding="utf-8")
    monkeypatch.chdir(project)
    build = ["build", "--date", "2026-06-01"]
    assert CliRunner().invoke(cli, build).exit_code == 0
    assert (project / "build" / "index.html").is_file() and not (project / "build" / cache.FOLDER).exists()
    assert (project / cache.FOLDER / cache.MANIFEST).is_file()
    (project / "termsledger.toml").write_text('content = "content"\n[site]\ncache_dir = "var/cache"\n',
                                              encoding="utf-8")
    assert CliRunner().invoke(cli, build).exit_code == 0
    assert (project / "var" / "cache" / cache.MANIFEST).is_file()
    result = CliRunner().invoke(cli, [*build, "--cache-dir", "other"])
    assert result.exit_code == 0, result.output
    assert (project / "other" / cache.MANIFEST).is_file()
    refused = CliRunner().invoke(cli, [*build, "--cache-dir", "build/cache"])
    assert refused.exit_code != 0 and "inside the output folder" in refused.output
    assert "Traceback" not in refused.output


def test_the_site_is_never_written_among_the_documents(example_content, tmp_path, monkeypatch):
    """An output folder that is the content folder, or holds it, is refused before anything is
    written: the site would overwrite the editor's files of the same names."""
    project = tmp_path / "project"
    shutil.copytree(example_content, project / "content")
    (project / "content" / "site.css").write_text("/* our own */\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in (project / "content").rglob("*") if p.is_file()}
    monkeypatch.chdir(project)
    for out, message in (("content", "the output folder content is the content folder"),
                         (".", "the content folder content is inside the output folder .")):
        (project / "termsledger.toml").write_text(f'content = "content"\nout = "{out}"\n', encoding="utf-8")
        refused = CliRunner().invoke(cli, ["build", "--date", "2026-06-01"])
        assert refused.exit_code == 1 and message in refused.output, refused.output
        assert "Traceback" not in refused.output
        refused = CliRunner().invoke(cli, ["build", "--date", "2026-06-01", "--out", out])
        assert refused.exit_code == 1 and message in refused.output, refused.output
    assert {p: p.read_bytes() for p in (project / "content").rglob("*") if p.is_file()} == before
    assert not (project / "index.html").exists()


def _revised_on_its_day(content_repo, day: str, first: str, second: str) -> None:
    """Terms of 2025-01-01 (a fee of 5), then a version of ``day`` (7) committed at ``first``,
    then a second version of ``day``, labelled ``revised`` (6), committed at ``second``."""
    fee = front(title="Terms", slug="terms", effective="2025-01-01") + "# Terms\n\nThe fee is 5.\n"
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": fee})
    content_repo.commit(first, **{"terms.md": fee.replace("2025-01-01", day).replace("5.", "7.")})
    content_repo.commit(second, **{"terms.md": fee.replace(
        "effective: 2025-01-01", f"effective: {day}\nlabel: revised").replace("5.", "6.")})


def test_a_version_replaced_before_it_took_effect_is_never_in_force_nor_announced(content_repo, tmp_path):
    """A second version for the same day (a label) replaces the first before it takes effect:
    the first is never in force, and what is announced is the one that will apply."""
    _revised_on_its_day(content_repo, "2026-03-01", "2025-02-01T10:00:00", "2025-02-10T10:00:00")
    content = terms.load(content_repo.path)
    assert content.announced("terms", date(2026, 1, 1)).id == "2026-03-01-revised"
    assert [v.id for v in content.document("terms").upcoming(date(2026, 1, 1))] == ["2026-03-01-revised"]
    for day in (date(2026, 1, 1), date(2026, 4, 1)):
        out = tmp_path / f"site-{day}"
        site_builder.build(content, out, now=day)
        replaced = " ".join(html(out, "terms/2026-03-01").split())
        assert ('<strong>Never in force.</strong> <a href="../2026-03-01-revised/">Version '
                '2026-03-01-revised</a> replaced this version before it took effect on <time '
                'datetime="2026-03-01">1 March 2026</time>.') in replaced
        assert "was in force from" not in replaced
        history = " ".join(html(out, "terms/history").split())
        row = history.split("2026-03-01/", 1)[1].split("</li>", 1)[0]
        assert "replaced before taking effect" in row and "announced" not in row and "in force" not in row


def test_two_versions_of_one_day_are_named_with_their_label(content_repo, tmp_path):
    """The diff's lede, the revisions and their links tell 2027-01-15 from 2027-01-15-revised;
    a version alone on its day is named by its day only."""
    _revised_on_its_day(content_repo, "2027-01-15", "2026-12-01T10:00:00", "2026-12-10T10:00:00")
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=date(2027, 2, 1))
    plain = '<time datetime="2027-01-15">15 January 2027</time>'
    diff = " ".join(html(out, "terms/diff/2027-01-15..2027-01-15-revised").split())
    assert (f'From <a href="../../2027-01-15/">the version of {plain}</a> to '
            f'<a href="../../2027-01-15-revised/">the version of {plain} (revised)</a>.') in diff
    history = " ".join(html(out, "terms/history").split())
    assert f'<a href="../2027-01-15-revised/">{plain} (revised)</a>' in history
    assert f'<a href="../2027-01-15/">{plain}</a>' in history
    assert f"Changes from {plain}<span" in history and f"to {plain} (revised)</span>" in history
    assert '<a href="../2025-01-01/"><time datetime="2025-01-01">1 January 2025</time></a>' in history
    revisions = " ".join(html(out, "terms").split())
    assert f'<a href="2027-01-15-revised/">{plain} (revised)</a>' in revisions

def test_the_analysis_version_is_a_hash_of_the_code():
    assert re.fullmatch(r"[0-9a-f]{64}", terms.analysis_version())
    assert cache.code_version() != terms.analysis_version()


def test_pages_made_from_the_same_things_are_not_rendered_again(content_repo, tmp_path, monkeypatch):
    from site_builder import generate

    rendered, render = [], generate._render
    monkeypatch.setattr(generate, "_render", lambda env, page, *args: rendered.append(page.url) or
                        render(env, page, *args))
    sample_history(content_repo)
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY, processes=1)
    pages = len(rendered)
    rendered.clear()
    content_repo.commit("2025-12-20T10:00:00", **{"privacy.md": (content_repo.path / "privacy.md").read_text()
                        .replace("2025-09-01", "2026-03-01").replace("and name.", "and phone number.")})
    report = site_builder.build(terms.load(content_repo.path), out, now=DAY, processes=1)
    written = {rel.removesuffix("index.html") for rel in report.written if rel.endswith(".html")}
    assert sorted(rendered) == sorted(written) and len(written) == 7 < pages  # only what changed
    (out / "terms/2025-01-01/index.html").write_bytes(b"defaced")
    rendered.clear()
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "_footer.html").write_text("<footer>Ours</footer>\n", encoding="utf-8")
    settings = SiteSettings(templates=templates)
    site_builder.build(terms.load(content_repo.path), out, settings, now=DAY, processes=1)
    assert len(rendered) == pages + 2  # the new version's page and its diff
    assert "Ours" in html(out, "terms/2025-01-01")


@pytest.mark.parametrize("effective", ["2025-12-01", "2026-03-01"])  # in force on DAY, or announced
def test_a_site_built_again_is_the_site_built_afresh(content_repo, tmp_path, effective):
    sample_history(content_repo)
    out, fresh = tmp_path / "site", tmp_path / "fresh"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    content_repo.commit("2025-11-20T10:00:00", **{"privacy.md": (content_repo.path / "privacy.md").read_text()
                        .replace("2025-09-01", effective).replace("and name.", "and phone number.")})
    content = terms.load(content_repo.path)
    site_builder.build(content, out, now=DAY)
    site_builder.build(content, fresh, now=DAY)
    assert site_files(out) == site_files(fresh)
    assert all((out / rel).read_bytes() == (fresh / rel).read_bytes() for rel in site_files(fresh))


def test_stale_pages_are_removed(sample, tmp_path):
    out = tmp_path / "site"
    site_builder.build(sample, out, now=DAY)
    later = site_builder.build(sample, out, now=date(2026, 10, 1))  # the announced version is in force
    assert "terms/diff/2025-01-01..2026-09-01/index.html" in later.written
    earlier = site_builder.build(sample, out, now=DAY)
    assert "terms/diff/2025-01-01..2026-09-01/index.html" in earlier.removed
    assert not (out / "terms/diff/2025-01-01..2026-09-01").exists()
    assert broken_links(out) == []


@pytest.mark.parametrize("slug", ["../evil", "a/b", "..", "Terms", ""])
def test_unsafe_slug_is_an_error(sample, tmp_path, slug):
    document = sample.document("terms")
    content = terms.Content(sample.root, {slug: document.__class__(slug, document.path, document.versions)})
    with pytest.raises(InvalidPath, match="cannot be published"):
        site_builder.build(content, tmp_path / "site", now=DAY)
    assert not (tmp_path / "evil").exists()


def test_writer_refuses_paths_outside_the_folder(tmp_path):
    from site_builder.writer import Writer

    writer = Writer(tmp_path / "site")
    for rel in ("../x.html", "/etc/passwd", "a/../../x", "a\\..\\x"):
        with pytest.raises(InvalidPath):
            writer.write(rel, b"x")


def test_writer_refuses_links_that_lead_out_of_the_folder(tmp_path):
    from site_builder.writer import Writer

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "index.html").write_text("kept", encoding="utf-8")
    site = tmp_path / "site"
    (site / "terms").mkdir(parents=True)
    (site / "terms" / "diff").symlink_to(outside, target_is_directory=True)
    (site / "terms" / "index.html").symlink_to(outside / "index.html")
    writer = Writer(site)
    writer.write("terms/history/index.html", b"inside")  # a folder met before the links
    for rel in ("terms/diff/index.html", "terms/diff/new/index.html", "terms/index.html"):
        with pytest.raises(InvalidPath, match="resolves outside"):
            writer.write(rel, b"x")
    assert [p.name for p in outside.iterdir()] == ["index.html"]
    assert (outside / "index.html").read_text(encoding="utf-8") == "kept"


def test_templates_can_be_overridden(sample, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "_footer.html").write_text('<footer>Custom footer</footer>\n', encoding="utf-8")
    (templates / "history.html").write_text(
        '{% extends "default:history.html" %}{% block title %}Custom history{% endblock %}', encoding="utf-8")
    out = tmp_path / "site"
    site_builder.build(sample, out, SiteSettings(templates=templates), now=DAY)
    assert "Custom footer" in html(out, "terms")
    assert "<title>Custom history</title>" in html(out, "terms/history")


def test_overrides_say_words_as_jinja2_i18n_does(sample, tmp_path):
    """``_``, ``gettext``, ``ngettext`` and ``{% trans %}`` in an override: the values are
    escaped, ``%%`` is a percent sign, and nothing is escaped under ``autoescape false``."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "_footer.html").write_text(
        "<footer>{{ _('A %(x)s 100%%', x='<b>') }}|{{ gettext('Revisions') }}|"
        "{{ ngettext('%(num)d day', '%(num)d days', 2) }}|"
        "{{ ngettext('%(num)d of %(x)s', '%(num)d of %(x)s', 1, x='&') }}|"
        "{% trans n='<i>' %}Hi {{ n }}{% endtrans %}|"
        "{% trans count=3 %}{{ count }} page{% pluralize %}{{ count }} pages{% endtrans %}|"
        "{% autoescape false %}{{ _('B %(x)s', x='<b>') }}{% endautoescape %}</footer>\n", encoding="utf-8")
    out = tmp_path / "site"
    site_builder.build(sample, out, SiteSettings(templates=templates), now=DAY)
    assert ("<footer>A &lt;b&gt; 100%|Revisions|2 days|1 of &amp;|Hi &lt;i&gt;|3 pages|B <b></footer>"
            in html(out, "terms"))


def test_example_content(example_content, tmp_path):
    content = terms.load(example_content)
    out = tmp_path / "site"
    report = site_builder.build(content, out, now=date(2026, 6, 1))
    assert report.written and broken_links(out) == []
    for document in content.documents.values():
        assert (out / document.slug / "history/index.html").is_file()
        for version in document.versions:
            assert (out / document.slug / version.id / "index.html").is_file()
    ids = parse_html(out / "terms/index.html").ids
    assert {"Main", "Title"} <= ids
    for page in out.rglob("*.html"):
        found = re.findall(r'\sid="([^"]*)"', page.read_text(encoding="utf-8"))
        assert len(found) == len(set(found)), page
    # The two real changes open, the sections renumbered by the new one folded.
    page = html(out, "terms/diff/2026-04-01..2027-02-01")
    assert re.findall(r'<section class="section section-(\w+)" id="([\w-]+)">', page) == [
        ("modified", "eligibility"), ("added", "quillbridge-tutor")]
    assert page.count('<details class="section section-renumbered"') == 8
    assert page.count('<details class="section section-unchanged"') == 5


def test_cli_build(example_content, tmp_path):
    out = tmp_path / "site"
    args = ["build", "--content", str(example_content), "--out", str(out), "--date", "2026-06-01",
            "--base-url", "https://terms.example.com/"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Built the site: ") and "0 unchanged" in result.output
    assert "https://terms.example.com/terms/" in (out / "sitemap.xml").read_text(encoding="utf-8")
    again = CliRunner().invoke(cli, args)
    assert again.output.startswith("Built the site: 0 files written, ")


def test_urls_share_the_slug_pattern_of_terms():
    from terms.source import SLUG

    assert urls.SLUG is SLUG
    assert urls.VERSION.match("2026-03-01-second-edition") and not urls.VERSION.match("2026-03-01-Bad")


@pytest.mark.parametrize("function", [urls.document_url, urls.version_url, urls.history_url, urls.diff_url,
                                      cache.Fragments.load, cache.Fragments.get, cache.Fragments.put,
                                      cache.Fragments.save, cache.fingerprint, cache.key])
def test_public_functions_are_documented(function):
    assert function.__doc__ and function.__doc__.strip(), function.__qualname__



def test_a_diff_across_versions_gives_the_verdict_the_ledger_acts_on(content_repo, tmp_path):
    """From a version to the one in force, across a material version since undone: the page says
    users accept again, as the ledger asks of those who accepted the first (a comparison of the
    two texts alone finds the change minor)."""
    from consent import Ledger

    fees = "## Fees\n\nThe service costs 10 euros a month.\n\n## Disputes\n\nYou may go to court.\n"
    arbitration = ("\n## Arbitration\n\nAll disputes go to binding arbitration, and you waive any right to a "
                   "class action or a jury trial.\n")
    v1 = front(title="Terms", slug="terms", effective="2025-01-01") + fees
    v2 = front(title="Terms", slug="terms", effective="2025-03-01") + fees + arbitration
    v3 = front(title="Terms", slug="terms", effective="2025-05-01") + fees.replace("to court", "to a court")
    content_repo.commit("2024-12-01T10:00:00", **{"terms.md": v1})
    content_repo.commit("2025-02-01T10:00:00", **{"terms.md": v2})
    content_repo.commit("2025-04-01T10:00:00", **{"terms.md": v3})
    content = terms.load(content_repo.path)
    first, _, last = content.document("terms").versions
    assert terms.compare(first, last).material is False  # the two texts alone: a word
    out = tmp_path / "site"
    site_builder.build(content, out, now=DAY)
    across = html(out, "terms/diff/2025-01-01..2025-05-01")
    assert "This comparison spans 1 intermediate version" in across
    assert "<h2 id=\"Verdict\">Material change</h2>" in across
    assert "Users are told about a material change and may be asked to accept the terms again." in across
    with Ledger(tmp_path / "ledger.db", create=True) as ledger:
        ledger.publish(content)
        ledger.record("alice", "terms", version="2025-01-01", at="2025-01-10T10:00:00Z")
        assert ledger.status("alice", "terms").status == "reaccept"


def test_a_diff_back_to_the_same_text_across_a_material_version_says_so(content_repo, tmp_path):
    text = "## Fees\n\nThe service costs 10 euros a month.\n"
    arbitration = "\n## Arbitration\n\nAll disputes go to binding arbitration; you waive any class action.\n"
    versions = (("2024-12-01", "2025-01-01", text), ("2025-02-01", "2025-03-01", text + arbitration),
                ("2025-04-01", "2025-05-01", text))
    for when, effective, body in versions:
        content_repo.commit(f"{when}T10:00:00", **{"terms.md": front(title="Terms", slug="terms",
                                                                     effective=effective) + body})
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    verdict = html(out, "terms/diff/2025-01-01..2025-05-01").split('<section class="verdict', 1)[1]
    verdict = " ".join(verdict.split("</section>", 1)[0].split())
    assert '<h2 id="Verdict">Material change</h2>' in verdict
    assert "The two versions have the same text." in verdict
    assert "Users are told about a material change and may be asked to accept the terms again." in verdict
    assert "No changes" not in verdict and "words added" not in verdict


def test_a_diff_across_versions_some_marked_by_the_editor_says_who_judged_which(content_repo, tmp_path):
    """Across a version the editor marked not material and one left to the analysis, the page
    does not credit the analysis alone with the verdict: it says the editor marked some."""
    text = "## Fees\n\nThe service costs 10 euros a month.\n"
    versions = (("2024-12-01", "2025-01-01", text, {}),
                ("2025-02-01", "2025-03-01", text.replace("a month", "per month"), {"material": False}),
                ("2025-04-01", "2025-05-01", text.replace("a month", "per month") + "\nSee you.\n", {}))
    for when, effective, body, flag in versions:
        content_repo.commit(f"{when}T10:00:00", **{"terms.md": front(title="Terms", slug="terms",
                                                                     effective=effective, **flag) + body})
    out = tmp_path / "site"
    site_builder.build(terms.load(content_repo.path), out, now=DAY)
    verdict = html(out, "terms/diff/2025-01-01..2025-05-01").split('<section class="verdict', 1)[1]
    verdict = " ".join(verdict.split("</section>", 1)[0].split())
    assert '<h2 id="Verdict">Not a material change</h2>' in verdict
    assert ("The editor marked some of these versions as not material; the change analysis judged "
            "the others.") in verdict
    assert "As judged by the change analysis." not in verdict
    alone = html(out, "terms/diff/2025-03-01..2025-05-01")
    assert "As judged by the change analysis." in alone  # one version, not marked
