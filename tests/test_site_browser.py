"""The built site in real headless Chromium: pages render without console errors, the skip
link works, print hides navigation; screenshots are saved to build/screenshots/."""

from __future__ import annotations

import functools
import os
import re
import threading
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ROOT

import site_builder
import terms

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
SCREENSHOTS = ROOT / "build" / "screenshots"
PAGES = {
    "index": "",
    "terms-current": "terms/",
    "terms-history": "terms/history/",
    "terms-diff": "terms/diff/2025-02-01..2025-07-01/",
    "terms-version": "terms/2024-03-01/",
    "not-found": "no/such/page/",
}


def _chromium() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package chromium")
    pytest.skip(f"{CHROMIUM} is not installed")


class _Handler(SimpleHTTPRequestHandler):
    """Serves the site quietly, answering unknown paths with 404.html as a static host would."""

    def log_message(self, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def watched(page) -> list[str]:
    """The console errors, page errors and failed requests of ``page``, as they come."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error"
            and not m.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"{r.url}: failed"))
    page.on("response", lambda r: problems.append(f"{r.url}: {r.status}") if r.status >= 400
            and not r.url.endswith(("/favicon.ico", "/no/such/page/")) else None)
    return problems


@pytest.fixture
def served(example_content, tmp_path):
    out = tmp_path / "site"
    site_builder.build(terms.load(example_content), out, now=date(2026, 6, 1))
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_pages_in_chromium(served):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    executable = _chromium()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # overwritten, not removed: runs may overlap
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
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
                    page.screenshot(path=str(SCREENSHOTS / f"{name}-{suffix}.png"), full_page=True)
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
            page.pdf(path=str(SCREENSHOTS / "terms-current-print.pdf"))
        finally:
            browser.close()
    for name in ("terms-current", "terms-history", "terms-diff"):
        assert (SCREENSHOTS / f"{name}-desktop.png").stat().st_size > 10_000


MARKDOWN = re.compile(r"\]\(|\*\*|__|`|^#+ |\|\s*-{3}|\* \* \*|\[\^|\[-|\{\+", re.MULTILINE)


def test_diff_pages_in_chromium(served):
    """A redline reads as the document: no Markdown, links that work, noise folded, and
    marks that stay visible when printed in black and white."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
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
            page.pdf(path=str(SCREENSHOTS / "terms-diff-print.pdf"))
            assert (SCREENSHOTS / "terms-diff-print.pdf").stat().st_size > 10_000
        finally:
            browser.close()
