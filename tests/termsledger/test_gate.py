"""A signup and login flow against a real ``termsledger serve`` (two workers), as the README
tells a product to write it: the gate (``required``) for each status, the exact text in English
and French, acceptance of the French text, an outdated version refused, and imports."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from click.testing import CliRunner
from support.api import bearer, make_keys, running_server
from support.repo import ContentRepo, front

import consent
from consent import Ledger
from termsledger.cli import cli
from termsledger.client import Client

pytestmark = pytest.mark.slow  # processes, servers or a browser
SITE = "https://terms.example.com/legal/"
CONFIG = f"""
[site]
base_url = "{SITE}"
languages = ["en", "fr"]

[consent]
required = ["terms", "privacy"]
"""
TERMS_FR = (front(title="Conditions d'utilisation", effective="2025-01-01",
                  summary="Des frais mensuels.")
            + "# Conditions\n\n## Frais\n\nUn abonnement de 5 EUR par mois.\n")


def publish_content(root, ledger_path: str) -> dict[str, str]:
    """Commit terms (2024-01-01; 2025-01-01 material, in French too), privacy (2024-01-01;
    2025-06-01 not material; 2099-01-01 material, announced) and cookies (optional), with a
    termsledger.toml; publish them with the CLI to ``ledger_path``. Returns API keys."""
    repo = ContentRepo(root / "repo")
    repo.write("termsledger.toml", CONFIG)
    repo.commit("2024-01-10T10:00", **{
        "terms.md": front(title="Terms of Use", slug="terms", effective="2024-01-01",
                          references=["privacy"]) + "# Terms\n\nBe nice.\n",
        "privacy.md": front(title="Privacy Policy", slug="privacy", effective="2024-01-01")
        + "# Privacy\n\nWe keep little.\n",
        "cookies.md": front(title="Cookies", slug="cookies", effective="2024-01-01")
        + "# Cookies\n\nA few.\n"})
    repo.commit("2024-11-20T10:00", **{
        "terms.md": front(title="Terms of Use", slug="terms", effective="2025-01-01",
                          material=True, summary="A monthly fee.", references=["privacy"])
        + "# Terms\n\n## Fees\n\nA subscription of 5 EUR per month.\n",
        "terms.fr.md": TERMS_FR})
    repo.commit("2025-05-01T10:00", **{
        "privacy.md": front(title="Privacy Policy", slug="privacy", effective="2025-06-01",
                            material=False, summary="A new address.")
        + "# Privacy\n\nWe keep little. Write to us at our new address.\n"})
    repo.commit("2025-06-10T10:00", **{
        "privacy.md": front(title="Privacy Policy", slug="privacy", effective="2099-01-01",
                            material=True, summary="Analytics.")
        + "# Privacy\n\nWe keep little, and share usage figures with an analytics firm.\n"})
    result = CliRunner().invoke(cli, ["publish", "--content", str(repo.path),
                                      "--ledger", ledger_path])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["translations"] == [["terms", "2025-01-01", "fr"]]
    with Ledger(ledger_path) as ledger:  # decisions made earlier, at their time
        ledger.record("old", "terms", at="2024-06-01", channel="web")
        ledger.record("current", "terms")
        ledger.record("current", "privacy", version="2099-01-01")
        ledger.record("announced", "terms")
        ledger.record("withdrew", "terms")
        ledger.record("withdrew", "terms", action="withdrawn")
        ledger.record("withdrew", "cookies")
        ledger.record("withdrew", "cookies", action="withdrawn")
        ledger.record("declined", "cookies", action="declined")
    return make_keys(ledger_path)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory):
    """``(base_url, secrets, ledger_path)`` of a server over the published content, on each
    storage engine."""
    root = tmp_path_factory.mktemp("gate")
    if request.param == "sqlite":
        ledger_path = str(root / "ledger.db")
    else:
        ledger_path = request.getfixturevalue("postgres").location()
    secrets = publish_content(root, ledger_path)
    with running_server(ledger_path, workers=2) as base_url:
        yield base_url, secrets, ledger_path


@pytest.fixture
def http(served):
    base_url, secrets, _ = served
    with httpx.Client(base_url=base_url, headers=bearer(secrets["write"])) as client:
        yield client


def gate(http, subject, **params):
    response = http.get(f"/v1/subjects/{subject}/required", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject"] == subject
    return [(r["document"], r["action"], r["version"]) for r in body["required"]]


def test_the_gate_for_each_status(http):
    assert gate(http, "current") == []  # current everywhere: let them in
    assert gate(http, "announced") == [("privacy", "announce", "2099-01-01")]
    assert gate(http, "old") == [("privacy", "notify", "2025-06-01"),  # notify, reaccept
                                 ("terms", "accept", "2025-01-01")]
    assert gate(http, "withdrew") == [("privacy", "announce", "2099-01-01"),
                                      ("terms", "accept", "2025-01-01")]  # cookies: optional
    signup = [("privacy", "accept", "2025-06-01"), ("terms", "accept", "2025-01-01")]
    assert gate(http, "nobody") == gate(http, "declined") == signup  # never
    statuses = {s["document"]: s["status"] for s in http.get("/v1/subjects/withdrew/status")
                .json()["statuses"]}
    assert statuses == {"cookies": "withdrawn", "privacy": "announced", "terms": "withdrawn"}
    then = gate(http, "nobody", at="2024-06-01")
    assert then == [("privacy", "accept", "2024-01-01"), ("terms", "accept", "2024-01-01")]


def test_an_item_names_the_text_to_show(http):
    items = http.get("/v1/subjects/nobody/required").json()["required"]
    terms_item = {i["document"]: i for i in items}["terms"]
    catalog = http.get("/v1/documents", params={"document": "terms"}).json()["documents"]
    assert [d["slug"] for d in catalog] == ["terms"] and catalog[0]["required"]
    in_force = catalog[0]["in_force"]
    assert terms_item == {
        "document": "terms", "action": "accept", "version": "2025-01-01",
        "title": "Terms of Use", "summary": "A monthly fee.", "effective": "2025-01-01",
        "language": "en", "sha256": in_force["content_sha256"],
        "manifest_sha256": in_force["manifest_sha256"],
        "url": SITE + "terms/2025-01-01/", "texts": in_force["texts"]}
    assert [(t["language"], t["url"]) for t in in_force["texts"]] == [
        ("en", SITE + "terms/2025-01-01/"), ("fr", SITE + "fr/terms/2025-01-01/")]
    announce = {i["document"]: i for i in http.get("/v1/subjects/announced/required").json()[
        "required"]}["privacy"]
    assert (announce["effective"], announce["summary"], announce["url"]) == (
        "2099-01-01", "Analytics.", SITE + "privacy/2099-01-01/")


def test_the_exact_text_in_each_language(http):
    english = http.get("/v1/documents/terms/versions/2025-01-01").json()
    assert english["markdown"] == "# Terms\n\n## Fees\n\nA subscription of 5 EUR per month.\n"
    assert english["html"] == ('<h1 id="terms">Terms</h1>\n<h2 id="fees">Fees</h2>\n'
                               '<p>A subscription of 5 EUR per month.</p>\n')
    assert (english["language"], english["fallback"], english["languages"]) == ("en", False, ["en", "fr"])
    assert english["sha256"] == hashlib.sha256(english["markdown"].encode()).hexdigest()
    french = http.get("/v1/documents/terms/versions/2025-01-01", params={"lang": "fr"}).json()
    assert french["markdown"] == TERMS_FR.split("---\n", 2)[2]
    assert '<h2 id="frais">Frais</h2>' in french["html"]
    assert (french["title"], french["url"]) == ("Conditions d'utilisation", SITE + "fr/terms/2025-01-01/")
    preferred = http.get("/v1/documents/terms/versions/2025-01-01",
                         headers={"Accept-Language": "de-CH, fr;q=0.8, en;q=0.5"}).json()
    assert preferred["language"] == "fr" and not preferred["fallback"]
    fallback = http.get("/v1/documents/privacy/versions/2025-06-01", params={"lang": "fr"}).json()
    assert (fallback["language"], fallback["fallback"]) == ("en", True)
    for path in ("/v1/documents/terms/versions/1999-01-01", "/v1/documents/nope/versions/2025-01-01"):
        missing = http.get(path)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] in ("unpublished_version", "unpublished_document")


def test_a_user_accepts_the_french_text_and_is_current(served, http):
    items = {i["document"]: i for i in http.get("/v1/subjects/marie/required",
                                                 params={"lang": "fr"}).json()["required"]}
    shown = items["terms"]
    assert (shown["language"], shown["title"]) == ("fr", "Conditions d'utilisation")
    assert items["privacy"]["language"] == "en"  # no French text: the English one
    recorded = http.post("/v1/consents", json={
        "subject": "marie", "document": "terms", "sha256": shown["sha256"],
        "language": shown["language"], "evidence": {"locale": "fr-FR"}})
    assert recorded.status_code == 201, recorded.text
    head = recorded.json()["events"][0]
    assert (head["language"], head["content_sha256"]) == ("fr", shown["sha256"])
    assert recorded.json()["status"]["status"] == "current"
    assert gate(http, "marie") == [("privacy", "announce", "2099-01-01")]
    base_url, secrets, _ = served
    with Client(base_url, secrets["admin"]) as admin:
        texts = admin.export("marie")["texts"]
        assert {(t["document"], t["language"]) for t in texts} == {("terms", "fr"), ("privacy", "en")}
        assert admin.verify().ok
    wrong = http.post("/v1/consents", json={"subject": "marie", "document": "terms",
                                            "sha256": "ab" * 32})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "unpublished_version"
    assert "sha256" in wrong.json()["error"]["message"]
    german = http.post("/v1/consents", json={"subject": "marie", "document": "terms",
                                             "language": "de"})
    assert german.status_code == 422 and "no text in language 'de'" in german.text


def test_an_outdated_version_is_a_409_naming_the_version_in_force(served, http):
    refused = http.post("/v1/consents", json={"subject": "late", "document": "terms",
                                              "version": "2024-01-01"})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "outdated_version"
    assert "version 2024-01-01 of terms is no longer in force" in error["message"]
    assert "version 2025-01-01 is" in error["message"]
    base_url, secrets, _ = served
    with Client(base_url, secrets["write"]) as client:
        with pytest.raises(consent.OutdatedVersion, match="version 2025-01-01 is"):
            client.record("late", "terms", version="2024-01-01")
        assert client.history("late") == []
        found = client.required("late", language="fr")
        assert isinstance(found, consent.Required)
        assert [(r.document, r.language) for r in found.required] == [("privacy", "en"),
                                                                       ("terms", "fr")]
        assert isinstance(found.required[1].texts[1], consent.Text)
        text = client.text("terms", "2025-01-01", "fr")
        assert isinstance(text, consent.VersionText) and text.language == "fr"


def test_imports_are_all_or_nothing_or_skip_the_bad_lines(served):
    base_url, secrets, _ = served
    lines = [{"subject": "legacy-1", "document": "terms", "version": "2024-01-01",
              "at": "2024-03-01T09:30:00Z", "channel": "web", "evidence": {"ip": "192.0.2.9"}},
             {"subject": "legacy-2", "document": "terms", "at": "2024-03-01"},
             {"subject": "legacy-3", "document": "terms", "version": "2024-01-01",
              "at": "2024-03-02T00:00:00+01:00"}]
    body = "\n".join(json.dumps(line) for line in lines) + "\n"
    with httpx.Client(base_url=base_url, headers=bearer(secrets["admin"])) as admin:
        assert httpx.post(f"{base_url}/v1/consents:import", content=body,
                          headers=bearer(secrets["write"])).status_code == 403
        refused = admin.post("/v1/consents:import", content=body,
                             headers={"Content-Type": "application/x-ndjson"})
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "invalid_import"
        assert error["fields"] == [{"field": "line 2", "in": "body", "message":
                                    "version or sha256 is missing: name the version accepted, "
                                    "or give the hash of its text"}]
        assert admin.get("/v1/subjects/legacy-1/history").json()["events"] == []
        done = admin.post("/v1/consents:import", params={"skip_bad": "true"}, json=lines)
        assert done.status_code == 200, done.text
        assert done.json() == {"lines": 3, "recorded": 2, "events": 4, "bad": [
            {"line": 2, "message": error["fields"][0]["message"]}]}
        events = admin.get("/v1/subjects/legacy-1/history").json()["events"]
        assert [(e["at"], e["channel"], e["imported"], e["evidence"]) for e in events] == [
            ("2024-03-01T09:30:00.000000+00:00", "import:web", True, {"ip": "192.0.2.9"}),
            ("2024-03-01T09:30:00.000000+00:00", "import:web", True, None)]
    assert gate_of(base_url, secrets, "legacy-3") == [("privacy", "notify", "2025-06-01"),
                                                      ("terms", "accept", "2025-01-01")]


def gate_of(base_url, secrets, subject):
    with httpx.Client(base_url=base_url, headers=bearer(secrets["read"])) as client:
        return gate(client, subject)


def test_the_cli_asks_the_same_gate(served):
    _, _, ledger_path = served
    result = CliRunner().invoke(cli, ["consent", "required", "old", "--ledger", ledger_path,
                                      "--language", "fr"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [(r["document"], r["action"], r["language"]) for r in found["required"]] == [
        ("privacy", "notify", "en"), ("terms", "accept", "fr")]
    text = CliRunner().invoke(cli, ["consent", "text", "terms", "2025-01-01", "--language", "fr",
                                    "--markdown", "--ledger", ledger_path])
    assert text.exit_code == 0 and text.output == TERMS_FR.split("---\n", 2)[2]
