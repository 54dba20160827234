"""Receipts and languages agree: the receipt of an acceptance of a translation names its
language and the hash of the text shown, and verifies against a site in several languages;
imported decisions get their receipts too. On each storage engine."""

from __future__ import annotations

import json
from datetime import date

import pytest
from support.ledger import content, translated, version

import site_builder
import terms
from consent import Ledger, ReceiptSettings
from consent.receipt_checks import verify_receipt
from consent.receipts import SignedReceipt
from consent.signing import create_key, public_keys_path, read_public_keys
from consent.transparency import Site, write_transparency

ORIGIN = "terms.example.com"
BASE_URL = f"https://{ORIGIN}/"
FRENCH = "# Conditions\n\nSoyez courtois, et payez à temps.\n"


def texts() -> terms.Content:
    """Terms in English and French (2026-01-01), privacy in English only."""
    return content(translated(version("terms", "2026-01-01"), "fr", FRENCH, "Conditions"),
                   version("privacy", "2026-01-01"))


@pytest.fixture
def world(where, tmp_path):
    """A ledger issuing receipts, with ``texts()`` published, and the site built from them in
    English and French."""
    key = tmp_path / "signing.key"
    create_key(key, name=ORIGIN)
    settings = ReceiptSettings(signing_key=key, controller="Quillbridge", contact="legal@example.com",
                               base_url=BASE_URL, language="en")
    site = tmp_path / "site"
    site_builder.build(texts(), site, site_builder.SiteSettings(
        base_url=BASE_URL, language="en", languages=("en", "fr")), now=date(2026, 2, 1), processes=1)
    with Ledger(where("ledger.db"), create=True, receipts=settings) as ledger:
        ledger.publish(texts(), languages=("en", "fr"))
        yield ledger, site, key


def proved(ledger: Ledger, site, key, event) -> SignedReceipt:
    """``event``'s receipt (the subject's copy) with its proof, once a checkpoint that includes
    it is published with ``site``."""
    ledger.log.checkpoint()
    checkpoints = ledger.log.checkpoints()
    write_transparency(site, read_public_keys(public_keys_path(key)), [c.note for c in checkpoints])
    ledger.log.mark_published([c.size for c in checkpoints])
    return SignedReceipt.parse(ledger.receipt(event, with_salt=True).to_json())


def test_a_receipt_names_the_language_and_the_hash_of_the_text_shown(world):
    ledger, site, key = world
    french_sha = terms.content_sha256(FRENCH)
    english_sha = texts().documents["terms"].versions[0].content_sha256
    french = ledger.record("user-fr", "terms", language="fr", at="2026-01-15")[0]
    english = ledger.record("user-en", "terms", at="2026-01-15")[0]
    by_hash = ledger.record("user-hash", "terms", sha256=french_sha, at="2026-01-15")[0]
    assert (french.language, french.content_sha256) == ("fr", french_sha)

    for event, language, sha in ((french, "fr", french_sha), (english, "en", english_sha),
                                 (by_hash, "fr", french_sha)):
        signed = proved(ledger, site, key, event)
        assert (signed.receipt.language, signed.receipt.content_sha256) == (language, sha)
        data = json.loads(signed.to_json())
        assert (data["language"], data["contentSha256"]) == (language, sha)
        result = verify_receipt(signed, Site(site), subject=event.subject)
        assert result.ok, result.problem
        assert f"the receipt's sha256 for its {language!r} text" in result.checks[-2]
    # the bundle accepted is the version's own texts whatever the language shown
    assert (proved(ledger, site, key, french).receipt.manifest_sha256
            == proved(ledger, site, key, english).receipt.manifest_sha256)


def test_a_french_receipt_fails_when_the_site_lists_another_french_text(world):
    ledger, site, key = world
    signed = proved(ledger, site, key, ledger.record("user-fr", "terms", language="fr")[0])
    path = site / "versions.json"
    listed = json.loads(path.read_text())
    terms_entry = next(d for d in listed["documents"] if d["slug"] == "terms")
    terms_entry["versions"][0]["translations"]["fr"]["content_sha256"] = "0" * 64
    path.write_text(json.dumps(listed))
    problem = verify_receipt(signed, Site(site)).problem
    assert problem.startswith("version: terms 2026-01-01 (fr) has sha256 000"), problem
    del terms_entry["versions"][0]["translations"]["fr"]
    path.write_text(json.dumps(listed))
    problem = verify_receipt(signed, Site(site)).problem
    assert problem.endswith("lists no 'fr' text of terms version 2026-01-01"), problem


def test_imported_decisions_get_receipts_in_the_language_shown(world):
    ledger, site, key = world
    done = ledger.import_records([
        {"subject": "user-1", "document": "terms", "version": "2026-01-01", "language": "fr",
         "at": "2026-01-10T09:00:00Z"},
        {"subject": "user-2", "document": "terms", "version": "2026-01-01",
         "at": "2026-01-11T09:00:00Z", "action": "declined", "channel": "app"}])
    assert done.recorded == 2
    first, second = (ledger.history(s)[0] for s in ("user-1", "user-2"))
    one, two = (proved(ledger, site, key, e) for e in (first, second))
    assert (one.receipt.language, one.receipt.content_sha256) == ("fr", terms.content_sha256(FRENCH))
    assert (two.receipt.action, two.receipt.channel, two.receipt.language) == (
        "declined", "import:app", "en")
    assert one.receipt.consent_time.isoformat().startswith("2026-01-10T09:00:00")
    for signed, subject in ((one, "user-1"), (two, "user-2")):
        result = verify_receipt(signed, Site(site), subject=subject)
        assert result.ok, result.problem
