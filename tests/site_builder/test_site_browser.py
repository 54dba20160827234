"""The built site in real headless Chromium: pages render without console errors, the skip
link works, print hides navigation; screenshots are saved to a temporary folder."""

from __future__ import annotations

import re
from datetime import date

import pytest
from support.browser import serving, watched

import site_builder
import terms

pytestmark = pytest.mark.slow
PAGES = {
    "index": "",
    "terms-current": "terms/",
    "terms-history": "terms/history/",
    "terms-diff": "terms/diff/2025-02-01..2025-07-01/",
    "terms-version": "terms/2024-03-01/",
    "not-found": "no/such/page/",
}


@pytest.fixture
def served(browser, example_content, tmp_path):
    """The URL of the example content's site, built once Chromium is known to be there."""
    out = tmp_path / "site"
    site_builder.build(terms.load(example_content), out, now=date(2026, 6, 1))
    with serving(out) as url:
        yield url


def test_pages_in_chromium(browser, served, screenshots):
    for width, suffix in ((1100, "desktop"), (390, "phone")):
        page = browser.new_page(viewport={"width": width, "height": 900})
        problems = watched(page)
        for name, path in PAGES.items():
            response = page.goto(served + path)
            expected = 404 if name == "not-found" else 200
            assert response.status == expected, path
            if name != "not-found":
                assert problems == [], (path, problems)
            assert page.locator("h1").count() == 1, path
            assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # CSS loaded
            page.screenshot(path=str(screenshots / f"{name}-{suffix}.png"), full_page=True)
        page.close()
    page = browser.new_page()
    page.goto(served + "terms/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#Main"
    page.emulate_media(media="print")
    assert not page.locator(".site-nav").is_visible()
    assert not page.locator(".toc").is_visible()
    page.pdf(path=str(screenshots / "terms-current-print.pdf"))
    for name in ("terms-current", "terms-history", "terms-diff"):
        assert (screenshots / f"{name}-desktop.png").stat().st_size > 10_000


MARKDOWN = re.compile(r"\]\(|\*\*|__|`|^#+ |\|\s*-{3}|\* \* \*|\[\^|\[-|\{\+", re.MULTILINE)


def test_diff_pages_in_chromium(browser, served, screenshots):
    """A redline reads as the document: no Markdown, links that work, noise folded, and
    marks that stay visible when printed in black and white."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(served + "terms/diff/2026-04-01..2027-02-01/")
    # The two real changes open, the eight renumbered sections folded.
    assert page.locator("section.section").evaluate_all("s => s.map(e => e.id)") == [
        "eligibility", "quillbridge-tutor"]
    assert page.locator("details.section-renumbered").count() == 8
    assert page.locator("details[open]").count() == 0
    folded = page.locator("details.section-renumbered summary").first
    assert folded.inner_text().startswith("67. Payments")
    page.get_by_role("link", name="Changed: 1. Eligibility").click()
    assert page.evaluate("location.hash") == "#eligibility"
    for path in ("terms/diff/2026-04-01..2027-02-01/", "terms/diff/2024-03-01..2026-04-01/",
                 "privacy/diff/2024-03-01..2026-04-01/"):
        page.goto(served + path)
        for details in page.locator("details").all():
            details.evaluate("d => d.open = true")
        text = page.locator("main").inner_text()
        assert not MARKDOWN.search(text), (path, MARKDOWN.search(text))
    # Links in a redline go where they go on the version's page.
    page.goto(served + "terms/diff/2024-03-01..2026-04-01/")
    section = page.locator("#payments-and-subscriptions")
    section.get_by_role("link", name="Refund Policy").first.click()
    page.wait_for_url("**/refund/2025-07-01/")
    assert page.locator("h1").inner_text() == "Refund Policy"
    page.go_back()
    page.emulate_media(media="print")
    assert page.locator(".legend").is_visible()
    styles = page.evaluate("""() => ['ins', 'del'].map(tag => {
        const style = getComputedStyle(document.querySelector('.sections ' + tag));
        return [style.textDecorationLine, style.color, style.backgroundColor];
    })""")
    assert styles == [["underline", "rgb(0, 0, 0)", "rgba(0, 0, 0, 0)"],
                      ["line-through", "rgb(0, 0, 0)", "rgba(0, 0, 0, 0)"]]
    page.pdf(path=str(screenshots / "terms-diff-print.pdf"))
    assert (screenshots / "terms-diff-print.pdf").stat().st_size > 10_000
