"""Helpers for the site tests: sample histories and a checker of every link in a built site."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from support.repo import front


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)


def parse_html(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def broken_links(out: Path) -> list[str]:
    """Every internal link or resource in the HTML under ``out`` whose file or anchor is missing."""
    pages = {p: parse_html(p) for p in out.rglob("*.html")}
    broken = []
    for page, parsed in pages.items():
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                continue
            if link.startswith("/"):
                target = out / unquote(parts.path).lstrip("/")
            elif parts.path:
                target = page.parent / unquote(parts.path)
            else:
                target = page
            if parts.path.endswith("/") or (not parts.path and not link.startswith("#")) or target.is_dir():
                target = target / "index.html"
            target = target.resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(out)}: {link} (no file)")
            elif (parts.fragment and target.suffix == ".html"
                  and unquote(parts.fragment) not in pages[target].ids):
                broken.append(f"{page.relative_to(out)}: {link} (no anchor)")
    return broken


TERMS_V1 = front(title="Terms of Use", slug="terms", effective="2025-01-01",
                 summary="First version.", references=["privacy"]) + """
# Terms of Use

Welcome. See our [Privacy Policy](privacy.md#what-we-collect) and [refunds](#refunds).

## 1. Accounts

You need an account.

## 2. Refunds

Refunds within 14 days.

| Plan | Refund window |
|:-----|--------------:|
| Monthly | 14 days |

A footnote.[^1]

[^1]: The footnote text.
"""

TERMS_V2 = TERMS_V1.replace("2025-01-01", "2025-06-01").replace("First version.", "Shorter refunds.") \
    .replace("Refunds within 14 days.", "Refunds within 7 days.")

TERMS_V3 = front(title="Terms of Use", slug="terms", effective="2026-09-01",
                 summary="Arbitration added.", material=True, references=["privacy"]) + """
# Terms of Use

Welcome. See our [Privacy Policy](privacy.md#what-we-collect) and [refunds](#refunds).

## 1. Accounts

You need an account.

## 2. Refunds

Refunds within 7 days.

## 3. Arbitration

Disputes go to binding arbitration.
"""

PRIVACY_V1 = front(title="Privacy Policy", slug="privacy", effective="2025-01-01") + """
# Privacy Policy

## What we collect

Your e-mail address.
"""

PRIVACY_V2 = PRIVACY_V1.replace("2025-01-01", "2025-09-01").replace("Your e-mail address.",
                                                                  "Your e-mail address and name.")


def sample_history(repo) -> None:
    """Terms with three versions (the last announced on 2026-01-01) and a privacy policy with two."""
    repo.commit("2024-12-01T10:00:00", "Publish", **{"terms.md": TERMS_V1, "privacy.md": PRIVACY_V1})
    repo.commit("2025-05-01T10:00:00", "Refunds", **{"terms.md": TERMS_V2})
    repo.commit("2025-08-01T10:00:00", "Privacy", **{"privacy.md": PRIVACY_V2})
    repo.commit("2025-12-01T10:00:00", "Arbitration", **{"terms.md": TERMS_V3})
