"""The page that explains the published transparency log, built from the files handed to the
site builder, in Chromium (its links work, nothing overflows a phone's width) and in French."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest
from support.browser import serving, watched
from support.ledger import content, version
from support.transparency import BASE_URL, World

import site_builder
from consent.signing import rotate_key
from consent.transparency import transparency_files


@pytest.fixture
def files(tmp_path):
    """The transparency files of a log of 300 events, two checkpoints and a rotated key."""
    world = World(tmp_path)
    world.record(100)
    world.checkpoint()
    rotate_key(world.key_path, at=datetime(2026, 1, 20, 9, 30, tzinfo=timezone.utc))
    world.record(200)
    world.checkpoint(at=datetime(2026, 1, 25, tzinfo=timezone.utc))
    return transparency_files(world.public_keys, world.checkpoints)


def build(out, files, **settings):
    texts = content(version("terms", "2025-12-01"), version("privacy", "2025-12-01"))
    return site_builder.build(texts, out, site_builder.SiteSettings(base_url=BASE_URL, **settings),
                              now=date(2026, 2, 1), processes=1, extra=files)


@pytest.mark.slow
def test_the_page_explains_the_files_and_links_to_them_in_chromium(browser, screenshots, tmp_path, files):
    out = tmp_path / "site"
    build(out, files)
    html = (out / "transparency" / "index.html").read_text()
    assert "The latest checkpoint covers 300 entries and was signed on 25 January 2026." in html
    assert "20 January 2026, 09:30 UTC" in html and html.count("<tr>") == 3  # a header, two keys
    assert f"termsledger receipt verify receipt.json --site {BASE_URL}" in html
    for path, data in files.items():
        assert (out / path).read_bytes() == data
    with serving(out) as base:
        for width in (1100, 390):
            page = browser.new_page(viewport={"width": width, "height": 900})
            problems = watched(page)
            assert page.goto(base + "transparency/").status == 200
            assert page.locator("h1").inner_text() == "Proof of consent" and problems == []
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            links = page.eval_on_selector_all("main a", "links => links.map(a => a.href)")
            assert len(links) == 3
            for link in links:
                assert page.request.get(link).status == 200, link
            page.screenshot(path=str(screenshots / f"transparency-{width}.png"), full_page=True)
            page.goto(base)
            page.get_by_role("link", name="Proof of consent").click()
            assert page.url == base + "transparency/"
            page.close()


def test_the_page_is_in_the_sites_language_and_absent_without_a_log(tmp_path, files):
    french = tmp_path / "fr"
    texts = replace(content(version("terms", "2025-12-01")), language="fr")
    site_builder.build(texts, french, site_builder.SiteSettings(base_url=BASE_URL, language="fr",
                                                                languages=("fr",)),
                       now=date(2026, 2, 1), processes=1, extra=files)
    page = (french / "transparency" / "index.html").read_text()
    assert '<html lang="fr">' in page and "<h1>Preuve du consentement</h1>" in page
    assert "Le dernier point de contrôle couvre 300 entrées ; il a été signé le 25 janvier 2026." in page
    plain = tmp_path / "plain"
    build(plain, {})
    assert not (plain / "transparency").exists()
    assert "Proof of consent" not in (plain / "index.html").read_text()
