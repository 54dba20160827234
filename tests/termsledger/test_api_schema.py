"""The OpenAPI description: schemathesis against a real ``termsledger serve`` (no 500, every
response as described, over every route), and what generated clients rely on."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import httpx
import pytest
from support.api import bearer, running_server
from support.engines import ENGINES

import terms
from consent import Ledger, ReceiptSettings
from consent.signing import create_key

pytestmark = pytest.mark.slow  # processes, servers or a browser

ERROR_STATUSES = {"401", "403", "404", "409", "413", "422", "503"}
SCHEMATHESIS_CONFIG = """
# Every check (schemathesis' default) but use_after_free: reading an erased (unknown) subject is
# an empty history or export and a "never" status by design, not a 404. (In this file, not as
# --checks all: checks named on the command line would run on every operation.)
[checks.use_after_free]
enabled = false

[checks.positive_data_acceptance]
# A well-formed request may still name a document, version or subject the ledger refuses.
expected-statuses = ["2XX", "401", "403", "404", "409", "422"]

[[operations]]
# With skip_bad=true an import records the good lines and lists the bad ones, by design: such
# requests are not refused, so bad lines are tested with skip_bad=false.
include-path = "/v1/consents:import"
parameters = { "query.skip_bad" = false }

[[operations]]
# A subject id may hold a /: DELETE /v1/subjects/u1/status?document=terms erases the subject
# 'u1/status', and that route takes no query parameter: a 422 naming document, not a 405.
include-path = ["/v1/subjects/{subject}/status", "/v1/subjects/{subject}/required"]
checks.unsupported_method.enabled = false
"""


@pytest.fixture(scope="module", params=ENGINES)
def served(request, tmp_path_factory):
    """``(base_url, admin secret)`` of a server over the example content, on each engine,
    with a few subjects recorded so that the schema's examples find data."""
    root = tmp_path_factory.mktemp("schema")
    ledger_path = (root / "ledger.db" if request.param == "sqlite"
                   else request.getfixturevalue("postgres").location())
    key = root / "signing.key"
    create_key(key, name="terms.example.com")
    receipts = ReceiptSettings(signing_key=key, controller="Quillbridge", contact="legal@example.com")
    with Ledger(ledger_path, create=True, receipts=receipts) as ledger:
        ledger.publish(terms.load(request.getfixturevalue("example_content")))
        ledger.record("user-42", "terms", version="2024-03-01", evidence={"ip": "192.0.2.1"},
                      at="2024-04-01")
        ledger.record("user-43", "terms", evidence={"ip": "192.0.2.2"})
        ledger.record("user-44", "privacy", action="declined")
        ledger.log.mark_published([ledger.log.checkpoint().size])  # so that proofs are found
        _, secret = ledger.keys.create("schemathesis", "admin")
    with running_server(ledger_path, options=("--key", str(key))) as base_url:
        yield base_url, secret


def test_schemathesis_finds_no_error_and_no_undocumented_response(served, tmp_path):
    base_url, secret = served
    config = tmp_path / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_CONFIG)
    run = subprocess.run(
        [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()",
         "--config-file", str(config), "--no-color", "run", f"{base_url}/openapi.json",
         "--header", f"Authorization: Bearer {secret}", "--max-examples", "25", "--seed", "14",
         "--request-timeout", "20"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache goes there
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "24 selected / 24 total" in run.stdout
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in run.stdout, run.stdout[-3000:]


def test_every_route_declares_its_response_and_error_bodies(served):
    base_url, _ = served
    schema = httpx.get(f"{base_url}/openapi.json").json()
    operations = [(path, method, operation) for path, item in schema["paths"].items()
                  for method, operation in item.items()]
    assert len(operations) == 24
    for path, method, operation in operations:
        responses = operation["responses"]
        ok = [status for status in responses if status.startswith("2")]
        assert len(ok) == 1, (path, method)
        body = responses[ok[0]]["content"]["application/json"]["schema"]
        assert body != {"type": "string"} and ("$ref" in body or "anyOf" in body), (path, body)
        if path.startswith("/v1/"):
            errors = set(responses) - set(ok)
            assert {"401", "403", "422"} <= errors <= ERROR_STATUSES, (path, method, errors)
            for status in errors:
                content = responses[status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}
                assert content["example"]["error"]["status"] == int(status)
            assert operation["security"] == [{"bearer": []}]
    names = {operation["operationId"] for _, _, operation in operations}
    assert names == {"catalog", "text", "status", "statuses", "required", "record",
                     "import_records", "pending_page", "mark_notified", "history", "export",
                     "erase", "verify", "healthz", "receipt", "log_checkpoint", "log_checkpoints",
                     "log_inclusion", "log_consistency", "add_webhook", "list_webhooks",
                     "webhook_status", "change_webhook", "remove_webhook"}
    error = schema["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"status", "code", "message", "fields"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert schema["paths"]["/v1/consents"]["post"]["responses"]["503"]["headers"][
        "Retry-After"]["schema"] == {"type": "integer"}


def test_error_bodies_always_have_fields(served):
    base_url, secret = served
    with httpx.Client(base_url=base_url, headers=bearer(secret)) as client:
        unknown = client.post("/v1/consents", json={"subject": "u1", "document": "nope"})
        assert unknown.status_code == 422
        message = unknown.json()["error"]["message"]
        assert unknown.json()["error"] == {
            "status": 422, "code": "unpublished_document", "message": message,
            "fields": [{"field": "document", "in": "body", "message": message}]}
        assert "nope" in unknown.json()["error"]["message"]
        anonymous = httpx.get(f"{base_url}/v1/documents")
        assert anonymous.json()["error"]["fields"] == []


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name in ("href", "src") and value]


def test_docs_reference_only_their_own_server(served):
    base_url, _ = served
    page = httpx.get(f"{base_url}/docs")
    assert page.status_code == 200
    parser = _Links()
    parser.feed(page.text)
    urls = parser.links + re.findall(r"url: '([^']*)'", page.text)
    assert len(urls) == 4  # the stylesheet, the icon, the script and /openapi.json
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert httpx.get(base_url + url).status_code == 200, url
    assert "http://" not in page.text and "https://" not in page.text
    assert httpx.get(f"{base_url}/redoc").status_code == 404


def test_docs_render_in_chromium_without_another_host(browser, served):
    base_url, _ = served
    page = browser.new_page()
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{base_url}/docs")
    page.get_by_text("/v1/consents", exact=True).wait_for(timeout=15_000)
    text = page.locator("#swagger-ui").inner_text()
    assert "Unable to render" not in text
    assert "OAS 3.1" in text and "/v1/subjects/{subject}/status" in text
    assert problems == []
    assert requested and all(url.startswith(base_url + "/") for url in requested), requested


def test_a_client_generated_from_the_description_works(served, tmp_path, monkeypatch):
    """openapi-python-client generates a typed client without a warning, and it records,
    reads and gets errors as the description says."""
    base_url, secret = served
    schema = tmp_path / "openapi.json"
    schema.write_bytes(httpx.get(f"{base_url}/openapi.json").content)
    run = subprocess.run(
        [sys.executable, "-c", "from openapi_python_client.cli import app; app()", "generate",
         "--path", str(schema), "--meta", "none", "--fail-on-warning",
         "--output-path", str(tmp_path / "generated")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    from generated import AuthenticatedClient
    from generated.api.ledger import history, record, status
    from generated.models import ConsentIn, ConsentInEvidence, Error, Status

    client = AuthenticatedClient(base_url=base_url, token=secret)
    recorded = record.sync_detailed(client=client, body=ConsentIn(
        subject="generated/1", document="terms", evidence=ConsentInEvidence.from_dict({"a": 1})))
    assert recorded.status_code == 201 and recorded.parsed.status.status.value == "announced"
    found = status.sync(client=client, subject="generated/1", document="terms")
    assert isinstance(found, Status) and found.accepted_version == found.current_version
    events = history.sync(client=client, subject="generated/1")
    assert events.evidence_shown and events.events[0].evidence.additional_properties["a"] == 1
    refused = status.sync(client=client, subject="generated/1", document="nope")
    assert isinstance(refused, Error) and refused.error.code == "unpublished_document"
