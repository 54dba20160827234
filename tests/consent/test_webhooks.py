"""Webhooks through the Python API and the CLI: endpoints and what is refused, the outbox written
in the transaction of what caused it, Standard Webhooks signatures checked by a receiver,
retries, redirects, disabling, addresses resolved again at delivery, ``version.in_force`` once,
claims between processes, and erasure."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest
from click.testing import CliRunner
from support.ledger import content, example, sql, translated, version
from support.webhooks import Receiver, toml

import consent
import terms
from consent import DeliverySettings, InvalidWebhook, Ledger, ReceiptSettings, UnknownWebhook, addresses
from consent.signing import create_key, rotate_key
from termsledger.cli import cli

FAST = DeliverySettings(allow_private=True, timeout=2, backoff=0.05, max_backoff=0.2)
VICTIM, IP = "victim.person@example.com", "198.51.100.77"


@pytest.fixture
def ledger(where):
    """A ledger of the example content, on each engine in turn."""
    with Ledger(where("ledger.db"), create=True) as ledger:
        ledger.publish(example())
        yield ledger


@pytest.fixture
def file_ledger(tmp_path):
    """A ledger of the example content in a file, for what does not depend on the engine."""
    with Ledger(tmp_path / "ledger.db", create=True) as ledger:
        ledger.publish(example())
        yield ledger


def subscribe(ledger, receiver, events=consent.EVENT_TYPES):
    """An endpoint of ``ledger`` at ``receiver``, which gets its secret."""
    webhook, secret = ledger.webhooks.add(receiver.url, events, allow_private=True)
    receiver.secret = secret
    return webhook


def deliver_until(ledger, done, settings=FAST, timeout=15.0):
    """Run the delivery until ``done()``; the runs' results."""
    runs, deadline = [], time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, runs
        runs.append(ledger.webhooks.deliver(settings))
        time.sleep(0.02)
    return runs


@pytest.mark.parametrize("url, reason", [
    ("ftp://93.184.215.14/hooks", "must start with http:// or https://"),
    ("javascript:alert(1)", "must start with http:// or https://"),
    ("https://user:pw@93.184.215.14/hooks", "must not hold a user name or password"),
    ("https://93.184.215.14/hooks#part", "must not have a fragment"),
    ("http:///hooks", "has no host"),
    ("https://exa mple.com/hooks", "printable ASCII without spaces"),
    ("https://93.184.215.14:99999/", "malformed"),
    ("https://no-such-host.invalid/hooks", "cannot be resolved"),
    ("http://127.0.0.1:8080/hooks", "127.0.0.1 is a private, loopback or link-local address"),
    ("http://localhost/hooks", "localhost resolves to "),
    ("http://10.1.2.3/hooks", "10.1.2.3 is a private"),
    ("http://192.168.0.10/hooks", "192.168.0.10 is a private"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a private"),
    ("http://100.64.0.1/hooks", "100.64.0.1 is a private"),
    ("http://0.0.0.0/hooks", "0.0.0.0 is a private"),
    ("http://224.0.0.1/hooks", "224.0.0.1 is a private"),
    ("http://[::1]/hooks", "::1 is a private"),
    ("http://[fe80::1]/hooks", "fe80::1 is a private"),
    ("http://[::ffff:127.0.0.1]/hooks", "::ffff:127.0.0.1 is a private"),
    ("http://[fd00::1]/hooks", "fd00::1 is a private"),
    # IPv6 addresses that carry a private IPv4 one, which a translator or a tunnel reaches
    ("http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe is a private"),  # NAT64
    ("http://[64:ff9b:1::7f00:1]/", "64:ff9b:1::7f00:1 is a private"),  # local NAT64
    ("http://[2002:7f00:1::]/", "2002:7f00:1:: is a private"),  # 6to4
    ("http://[::127.0.0.1]/", "::127.0.0.1 is a private"),  # IPv4-compatible
    ("http://[::ffff:0:a00:1]/", "::ffff:0:a00:1 is a private"),  # IPv4-translated
    ("http://[fec0::1]/", "fec0::1 is a private"),  # site-local
])
def test_urls_other_than_http_on_public_addresses_are_refused(file_ledger, url, reason):
    with pytest.raises(InvalidWebhook) as refused:
        file_ledger.webhooks.add(url)
    assert reason in str(refused.value)
    assert file_ledger.webhooks.list() == []


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::", "::ffff:8.8.8.8"])
def test_an_ipv6_address_that_carries_a_public_ipv4_one_is_public(address):
    assert addresses.is_public(address)


def test_unknown_event_types_are_refused_naming_them(ledger):
    with pytest.raises(InvalidWebhook, match="^unknown event type 'version.created'; the types "
                                             "are: version.published, version.in_force, "
                                             "consent.recorded, subject.erased$"):
        ledger.webhooks.add("https://93.184.215.14/hooks", ["version.created"])
    with pytest.raises(InvalidWebhook, match="at least one event type"):
        ledger.webhooks.add("https://93.184.215.14/hooks", [])


def test_an_endpoint_has_a_secret_shown_once_and_an_id_to_manage_it(ledger):
    webhook, secret = ledger.webhooks.add("https://93.184.215.14/hooks",
                                          "consent.recorded, subject.erased")
    assert webhook.events == ("consent.recorded", "subject.erased") and webhook.enabled
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    listed = ledger.webhooks.list()
    assert listed == [webhook] and secret not in json.dumps([w.to_dict() for w in listed])
    assert secret not in json.dumps(ledger.webhooks.status(webhook.id).to_dict())
    assert ledger.webhooks.disable(webhook.id).disabled_reason == "disabled by hand"
    assert ledger.webhooks.enable(webhook.id).enabled
    assert ledger.webhooks.remove(webhook.id) == webhook
    with pytest.raises(UnknownWebhook, match=f"no webhook endpoint has the id '{webhook.id}'"):
        ledger.webhooks.get(webhook.id)
    loopback, _ = ledger.webhooks.add("http://127.0.0.1:9/hooks", allow_private=True)
    assert loopback.url == "http://127.0.0.1:9/hooks"


@pytest.mark.parametrize("webhook_id", ["wh_\x00", "\x00", "wh_\udcff"])
def test_an_id_no_endpoint_can_have_is_unknown_on_each_engine(ledger, webhook_id):
    """A NUL (PostgreSQL's text holds none) or a lone surrogate (a command line's undecodable
    byte: no engine stores one) failed in the storage, with a traceback from the CLI."""
    ledger.webhooks.add("https://93.184.215.14/hooks")
    for call in (ledger.webhooks.get, ledger.webhooks.status, ledger.webhooks.disable,
                 ledger.webhooks.enable, ledger.webhooks.remove):
        with pytest.raises(UnknownWebhook, match="^no webhook endpoint has the id "):
            call(webhook_id)
    assert len(ledger.webhooks.list()) == 1


def test_deliveries_are_signed_in_the_recommended_shape_without_evidence(ledger, receiver):
    subscribe(ledger, receiver)
    ledger.record("user-1", "terms", evidence={"ip": IP, "user_agent": "Firefox/1"})
    ledger.record("user-2", "privacy", action="declined", channel="web")
    ledger.record("user-1", "terms", action="withdrawn", evidence={"ip": IP})
    ledger.publish(content(*example_versions(), version("terms", "2100-01-01", material=True,
                                                        references=["privacy"])))
    run = ledger.webhooks.deliver(FAST)
    assert (run.delivered, run.failed, run.deferred) == (4, 0, 0)
    assert receiver.forged == 0 and len(receiver.received) == 4
    recorded = sorted(receiver.of("consent.recorded"),  # in flight together: in any order
                      key=lambda d: (d.data["subject"], d.data["action"]))
    assert [d.data for d in recorded] == [
        {"subject": "user-1", "document": "terms", "version": "2026-01-01", "action": "accepted",
         "channel": "api", "language": "en", "content_sha256": sha("terms", "2026-01-01", ledger),
         "bundle": [{"document": "privacy", "version": "2025-06-01"}]},
        {"subject": "user-1", "document": "terms", "version": "2026-01-01",
         "action": "withdrawn", "channel": "api", "language": "en",
         "content_sha256": sha("terms", "2026-01-01", ledger)},
        {"subject": "user-2", "document": "privacy", "version": "2025-06-01",
         "action": "declined", "channel": "web", "language": "en",
         "content_sha256": sha("privacy", "2025-06-01", ledger)}]
    (published,) = receiver.of("version.published")
    assert published.data == {"document": "terms", "version": "2100-01-01",
                              "effective": "2100-01-01", "title": "Terms",
                              "summary": "terms of 2100-01-01", "material": True,
                              "content_sha256": sha("terms", "2100-01-01", ledger)}
    for delivery in receiver.received:
        assert set(delivery.message) == {"type", "timestamp", "data"}
        assert delivery.id.startswith("msg_")
        assert abs(int(delivery.timestamp) - time.time()) < 60
        assert datetime.fromisoformat(delivery.message["timestamp"].replace("Z", "+00:00"))
        assert IP.encode() not in delivery.body and b"Firefox" not in delivery.body
    assert len(set(receiver.ids())) == 4
    assert ledger.webhooks.list()[0].delivered == 4


def test_a_decision_names_the_language_and_hash_of_the_text_shown(where, receiver):
    """``consent.recorded`` of an acceptance of a translation names its language and its hash,
    as the event and its receipt do."""
    french = "# Conditions\n\nSoyez courtois.\n"
    own = version("terms", "2026-01-01")
    with Ledger(where("texts.db"), create=True) as ledger:
        ledger.publish(content(translated(own, "fr", french)), languages=("en", "fr"))
        subscribe(ledger, receiver, ["consent.recorded"])
        ledger.record("user-fr", "terms", language="fr")
        ledger.record("user-en", "terms")
        deliver_until(ledger, lambda: len(receiver.of("consent.recorded")) == 2)
    shown = {d.data["subject"]: (d.data["language"], d.data["content_sha256"])
             for d in receiver.of("consent.recorded")}
    assert shown == {"user-fr": ("fr", terms.content_sha256(french)),
                     "user-en": ("en", own.content_sha256)}


def example_versions():
    return [v for document in example().documents.values() for v in document.versions]


def sha(document, version_id, ledger):
    (found,) = [v for d in ledger.catalog() if d.slug == document for v in d.versions
                if v.id == version_id]
    return found.content_sha256


def test_endpoints_get_the_types_they_subscribe_to_and_nothing_while_disabled(ledger, receiver):
    other = Receiver()
    try:
        decisions = subscribe(ledger, receiver, ["consent.recorded"])
        versions, other.secret = ledger.webhooks.add(other.url, "version.published",
                                                     allow_private=True)
        ledger.record("user-1", "terms")
        ledger.webhooks.disable(decisions.id)
        ledger.record("user-2", "terms")  # not queued for the disabled endpoint
        assert ledger.webhooks.get(decisions.id).pending == 1
        assert ledger.webhooks.deliver(FAST).delivered == 0
        ledger.webhooks.enable(decisions.id)
        assert ledger.webhooks.deliver(FAST).delivered == 1
        assert [d.data["subject"] for d in receiver.received] == ["user-1"]
        assert other.received == [] and ledger.webhooks.get(versions.id).pending == 0
    finally:
        other.stop()


def test_messages_are_written_with_what_caused_them_and_events_never_change(ledger, receiver):
    webhook = subscribe(ledger, receiver, ["consent.recorded"])
    with pytest.raises(consent.UnpublishedDocument):
        ledger.record_many([{"subject": f"user-{i}", "document": "terms"} for i in range(20)]
                           + [{"subject": "user-x", "document": "nothing-such"}])
    refused = ledger.submit(lambda: ledger.record("user-3", "nothing-such"))
    kept = ledger.submit(lambda: ledger.record("user-4", "terms"))
    with pytest.raises(consent.UnpublishedDocument):
        refused.result()
    kept.result()

    def record_then_fail():
        ledger.record("user-5", "terms")
        raise RuntimeError("the response cannot be made")

    with pytest.raises(RuntimeError):  # the record and its message roll back together
        ledger.idempotent("key-1", "user-5", record_then_fail)
    assert ledger.history("user-5") == []
    assert ledger.webhooks.get(webhook.id).pending == 1
    events = sql(ledger, "SELECT * FROM events ORDER BY chain, seq")
    assert ledger.webhooks.deliver(FAST).delivered == 1
    assert [d.data["subject"] for d in receiver.received] == ["user-4"]
    assert sql(ledger, "SELECT count(*) FROM outbox") == [(0,)]  # delivered: deleted
    assert sql(ledger, "SELECT * FROM events ORDER BY chain, seq") == events
    assert ledger.verify().ok


def test_a_decision_and_its_receipt_and_message_are_written_together(where, receiver,
                                                                     tmp_path):
    """With receipts on, a decision's ``consent.recorded`` message is written in the transaction
    that records it and signs its receipt: all three, or (signing refused) none."""
    key = tmp_path / "keys" / "termsledger-signing.key"
    key.parent.mkdir()
    create_key(key, name="terms.example.com")
    receipts = ReceiptSettings(signing_key=key, controller="Quillbridge", contact="legal@example.com")
    with Ledger(where("receipts.db"), create=True, receipts=receipts) as ledger:
        ledger.publish(example())
        webhook = subscribe(ledger, receiver, ["consent.recorded"])
        ledger.record("user-1", "terms")
        assert ledger.record_many([{"subject": f"user-{i}", "document": "privacy"}
                                   for i in (2, 3)]) == 2
        ledger.submit(lambda: ledger.record("user-4", "privacy", action="declined")).result()
        assert sql(ledger, "SELECT count(*) FROM outbox") == [(4,)]
        assert sql(ledger, "SELECT count(*) FROM receipts") == [(4,)]  # the bundle's head's
        old = key.read_text()
        rotate_key(key)
        key.write_text(old)  # a rotation half done: signing is refused
        with pytest.raises(consent.SigningKeyError, match="is not the current key"):
            ledger.record("user-5", "terms")
        assert ledger.history("user-5") == []
        assert ledger.webhooks.get(webhook.id).pending == 4  # no message of what was refused
        assert ledger.webhooks.deliver(FAST).delivered == 4
        assert receiver.forged == 0
        assert sorted(d.data["subject"] for d in receiver.received) == [
            "user-1", "user-2", "user-3", "user-4"]
        assert [ledger.receipt(ledger.history(f"user-{i}")[0]).receipt.document
                for i in (1, 2, 3, 4)] == ["terms", "privacy", "privacy", "privacy"]


def test_a_failed_delivery_is_retried_later_with_the_same_webhook_id(ledger, receiver):
    webhook = subscribe(ledger, receiver)
    receiver.mode = "fail"
    ledger.record("user-1", "terms")
    settings = DeliverySettings(allow_private=True, timeout=2, backoff=0.4, max_backoff=0.4)
    first = ledger.webhooks.deliver(settings)
    assert (first.delivered, first.failed) == (0, 1)
    (failure,) = ledger.webhooks.status(webhook.id).failures
    assert (failure.type, failure.attempts, failure.last_error) == ("consent.recorded", 1,
                                                                    "HTTP 500")
    assert failure.next_attempt > failure.first_failed
    assert ledger.webhooks.deliver(settings).failed == 0  # not due yet: the backoff
    deliver_until(ledger, lambda: len(receiver.attempts) >= 3, settings)
    receiver.mode = "ok"
    deliver_until(ledger, lambda: receiver.received, settings)
    assert set(receiver.attempts) == {receiver.received[0].id}
    assert ledger.webhooks.status(webhook.id).failures == ()


def test_backoff_doubles_up_to_its_most_with_jitter():
    settings = DeliverySettings(backoff=5, max_backoff=60)
    for attempts, longest in ((1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (40, 60), (5000, 60)):
        delays = [settings.delay(attempts) / 1e6 for _ in range(200)]
        assert longest / 2 <= min(delays) and max(delays) <= longest
        assert max(delays) - min(delays) > longest / 10  # jitter
    defaults = DeliverySettings()
    assert defaults.retry_for == 24 * 3600 and not defaults.allow_private
    with pytest.raises(ValueError, match="^timeout must be a positive number of seconds, not 0$"):
        DeliverySettings(timeout=0)


def test_when_retries_run_out_the_endpoint_is_disabled_and_its_failures_listed(
        ledger, receiver, tmp_path, monkeypatch):
    webhook = subscribe(ledger, receiver, ["consent.recorded"])
    receiver.mode = "fail"
    ledger.record_many({"subject": f"user-{i}", "document": "terms"} for i in range(3))
    settings = DeliverySettings(allow_private=True, backoff=0.05, max_backoff=0.1, retry_for=0.4)
    runs = deliver_until(ledger, lambda: not ledger.webhooks.get(webhook.id).enabled, settings)
    assert runs[-1].disabled == (webhook.id,)
    status = ledger.webhooks.status(webhook.id)
    assert status.webhook.disabled_reason.startswith("no delivery succeeded since ")
    assert status.webhook.disabled_reason.endswith("last error: HTTP 500")
    assert len(status.failures) == 3 and status.webhook.pending == 3
    assert all(f.last_error == "HTTP 500" and f.next_attempt is None for f in status.failures)
    ledger.record("user-9", "terms")  # not queued for a disabled endpoint
    assert ledger.webhooks.get(webhook.id).pending == 3
    monkeypatch.chdir(tmp_path)
    shown = CliRunner().invoke(cli, ["webhooks", "status", "--ledger", ledger.path])
    assert shown.exit_code == 0, shown.output
    assert f"{webhook.id}  {receiver.url}  consent.recorded  disabled " in shown.output
    assert shown.output.count("attempt(s) since") == shown.output.count("kept while disabled") == 3
    receiver.mode = "ok"
    ledger.webhooks.enable(webhook.id)
    assert ledger.webhooks.deliver(settings).delivered == 3
    assert sorted(d.data["subject"] for d in receiver.received) == ["user-0", "user-1", "user-2"]


def test_a_message_that_keeps_failing_is_given_up_while_the_others_arrive(ledger, receiver):
    webhook = subscribe(ledger, receiver, ["consent.recorded"])
    receiver.fail_if = lambda body: b'"poison"' in body
    settings = DeliverySettings(allow_private=True, backoff=0.05, max_backoff=0.1, retry_for=0.4)
    ledger.record("poison", "terms")
    ledger.record("user-1", "terms")
    deliver_until(ledger, lambda: ledger.webhooks.status(webhook.id).failures
                  and ledger.webhooks.status(webhook.id).failures[0].given_up, settings)
    ledger.record("user-2", "terms")
    deliver_until(ledger, lambda: len(receiver.received) == 2, settings)
    status = ledger.webhooks.status(webhook.id)
    assert status.webhook.enabled and status.webhook.pending == 1
    (failure,) = status.failures
    assert failure.given_up and failure.next_attempt is None
    assert [d.data["subject"] for d in receiver.received] == ["user-1", "user-2"]


def test_redirects_are_not_followed(file_ledger, receiver):
    ledger = file_ledger
    webhook = subscribe(ledger, receiver)
    receiver.mode = "redirect"
    ledger.record("user-1", "terms")
    assert ledger.webhooks.deliver(FAST).failed == 1
    (failure,) = ledger.webhooks.status(webhook.id).failures
    assert failure.last_error == "HTTP 302 (redirects are not followed)"
    assert receiver.paths == ["/hooks"]


def test_the_host_is_resolved_again_at_each_delivery(file_ledger, receiver, monkeypatch):
    ledger = file_ledger
    by_name = f"http://localhost:{receiver.port}/hooks"
    webhook, receiver.secret = ledger.webhooks.add(by_name, allow_private=True)
    ledger.record("user-1", "terms")
    assert ledger.webhooks.deliver(DeliverySettings()).failed == 1  # allow_private is off now
    (failure,) = ledger.webhooks.status(webhook.id).failures
    assert failure.last_error.startswith("refused: localhost resolves to ")
    assert "a private, loopback or link-local address" in failure.last_error
    assert receiver.attempts == []
    ledger.webhooks.remove(webhook.id)

    answers = {"rebound.example": "93.184.215.14"}
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):  # a name that moves to loopback (DNS rebinding)
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(addresses.socket, "getaddrinfo", resolve)
    moving, _ = ledger.webhooks.add(f"http://rebound.example:{receiver.port}/hooks")
    answers["rebound.example"] = "127.0.0.1"
    ledger.record("user-2", "terms")
    assert ledger.webhooks.deliver(DeliverySettings(timeout=2)).failed == 1
    (failure,) = ledger.webhooks.status(moving.id).failures
    assert failure.last_error.startswith("refused: rebound.example resolves to 127.0.0.1, a "
                                         "private, loopback or link-local address")
    assert receiver.attempts == []


def test_version_in_force_is_sent_once_when_its_effective_date_comes(ledger, receiver,
                                                                     tmp_path, monkeypatch):
    subscribe(ledger, receiver, ["version.in_force"])
    assert ledger.webhooks.deliver(FAST, at="2098-12-31T23:59:59Z").in_force == ()
    run = ledger.webhooks.deliver(FAST, at="2099-01-01")
    assert run.in_force == ("terms 2099-01-01",) and run.delivered == 1
    assert ledger.webhooks.deliver(FAST, at="2099-06-01").in_force == ()
    (sent,) = receiver.of("version.in_force")
    assert sent.message["timestamp"] == "2099-01-01T00:00:00.000000Z"
    assert sent.data["version"] == "2099-01-01" and sent.data["material"] is True
    # versions in force when published were never sent as coming into force
    ledger.publish(content(*example_versions(), version("privacy", "2020-01-01"),
                           version("terms", "2100-01-01", material=True, references=["privacy"])))
    barrier, found = threading.Barrier(2), []

    def run_at_once():
        barrier.wait()
        found.append(ledger.webhooks.deliver(FAST, at="2100-01-02").in_force)

    threads = [threading.Thread(target=run_at_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(found) == [(), ("terms 2100-01-01",)]
    monkeypatch.chdir(tmp_path)
    again = CliRunner().invoke(cli, ["webhooks", "deliver", "--at", "2100-01-02", "--ledger",
                                     ledger.path])
    assert again.exit_code == 0 and "In force" not in again.output, again.output
    assert [d.data["version"] for d in receiver.of("version.in_force")] == ["2099-01-01",
                                                                             "2100-01-01"]


def test_two_deliveries_at_once_send_each_message_once(ledger, receiver, tmp_path):
    subscribe(ledger, receiver, ["consent.recorded"])
    receiver.delay = 0.002
    ledger.record_many({"subject": f"user-{i}", "document": "terms"} for i in range(300))
    (tmp_path / "termsledger.toml").write_text(toml(allow_private=True, concurrency=4))
    command = [sys.executable, "-c", "from termsledger.cli import cli; cli()", "webhooks",
               "deliver", "--ledger", ledger.path, "--format", "json"]
    processes = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
                 for _ in range(2)]
    runs = [json.loads(p.communicate(timeout=60)[0]) for p in processes]
    assert sum(run["delivered"] for run in runs) == 300
    assert len(receiver.attempts) == 300 and len(set(receiver.ids())) == 300


def raw(path):
    """The bytes of the ledger's file, its WAL and its shared-memory index."""
    from pathlib import Path

    path = Path(path)
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"),
                                             path.with_name(path.name + "-shm")) if p.exists())


def test_erasure_leaves_no_byte_of_the_id_in_waiting_or_delivered_messages(ledger, receiver):
    subscribe(ledger, receiver)
    ledger.record("delivered.person@example.com", "terms", evidence={"ip": IP})
    assert ledger.webhooks.deliver(FAST).delivered == 1
    receiver.mode = "fail"
    ledger.record(VICTIM, "terms", evidence={"ip": IP})
    ledger.record(VICTIM, "privacy", action="declined")
    assert ledger.webhooks.deliver(FAST).failed == 2
    waiting = "SELECT count(*) FROM outbox WHERE data LIKE ?"
    assert sql(ledger, waiting, (f"%{VICTIM}%",)) == [(2,)]
    erased = ledger.erase(VICTIM)
    delivered = ledger.erase("delivered.person@example.com")
    assert sql(ledger, waiting, (f"%{VICTIM}%",)) == [(0,)]
    if ledger.path.startswith("postgresql://"):  # the dead row versions are vacuumed
        vacuumed = sql(ledger, "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                               "WHERE schemaname = current_schema() AND relname = 'outbox'")
        assert vacuumed == [(True,)]
    else:  # no byte of either id in the file, its WAL or its shared-memory index
        data = raw(ledger.path)
        assert VICTIM.encode() not in data and b"delivered.person" not in data
    receiver.mode = "ok"
    deliver_until(ledger, lambda: len(receiver.received) == 5)
    waiting = [d.data for d in receiver.of("consent.recorded")[1:]]
    assert sorted((d["subject"], d["action"]) for d in waiting) == [
        (erased.pseudonym, "accepted"), (erased.pseudonym, "declined")]
    assert sorted(d.data["pseudonym"] for d in receiver.of("subject.erased")) == sorted(
        [erased.pseudonym, delivered.pseudonym])
    assert all(VICTIM.encode() not in d.body for d in receiver.received)


def test_the_cli_adds_lists_disables_enables_and_removes(file_ledger, tmp_path, monkeypatch):
    ledger = file_ledger
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    path = ledger.path

    def run(*args):
        return runner.invoke(cli, ["webhooks", *args, "--ledger", path])

    assert run("list").output == run("status").output == (
        "No webhook endpoints (`termsledger webhooks add URL` registers one).\n")
    refused = run("add", "http://127.0.0.1:9/hooks")
    assert refused.exit_code == 1
    assert refused.output == ("Error: the webhook URL 'http://127.0.0.1:9/hooks' is refused: "
                              "127.0.0.1 is a private, loopback or link-local address: webhooks "
                              "are not sent there unless termsledger.toml has [webhooks] "
                              "allow_private = true\n")
    (tmp_path / "termsledger.toml").write_text(toml(allow_private=True))
    added = run("add", "http://127.0.0.1:9/hooks", "--events", "consent.recorded")
    assert added.exit_code == 0, added.output
    *_, secret = added.output.splitlines()
    assert secret.startswith("whsec_")
    (webhook,) = ledger.webhooks.list()
    assert added.output.startswith(f"Added webhook {webhook.id} for consent.recorded at "
                                   f"http://127.0.0.1:9/hooks. Store its signing secret now")
    as_json = json.loads(run("add", "https://93.184.215.14/x", "--format", "json").output)
    assert as_json["secret"].startswith("whsec_") and as_json["events"] == list(consent.EVENT_TYPES)
    listed = json.loads(run("list", "--format", "json").output)
    assert [w["id"] for w in listed] == [webhook.id, as_json["id"]]
    assert secret not in run("list").output and secret not in run("status").output
    assert "disabled" in run("disable", webhook.id).output
    assert not ledger.webhooks.get(webhook.id).enabled
    assert "enabled" in run("enable", webhook.id).output and ledger.webhooks.get(webhook.id).enabled
    removed = run("remove", webhook.id)
    assert removed.output == (f"Removed webhook {webhook.id} (http://127.0.0.1:9/hooks) and 0 "
                              f"message(s) waiting for it.\n")
    unknown = run("status", "wh_nope")
    assert unknown.exit_code == 1
    assert unknown.output == ("Error: no webhook endpoint has the id 'wh_nope' (`termsledger "
                              "webhooks list` shows them)\n")
    bad = run("add", "https://93.184.215.14/x", "--events", "consent.created")
    assert bad.exit_code == 1 and "unknown event type 'consent.created'" in bad.output


@pytest.mark.parametrize("settings, message", [
    ("timeout = -1", "[webhooks] timeout must be a positive number of seconds, not -1"),
    ("allow_private = \"yes\"", "[webhooks] allow_private must be true or false, not 'yes'"),
    ("concurrency = 0", "[webhooks] concurrency must be a whole number from 1 to 256, not 0"),
    ("retries = 3", "unknown key [webhooks] 'retries'; known keys: allow_private, timeout, "
                    "backoff, max_backoff, retry_for, concurrency, poll"),
])
def test_a_wrong_webhooks_setting_is_an_error_naming_it(file_ledger, tmp_path, monkeypatch,
                                                         settings, message):
    ledger = file_ledger
    monkeypatch.chdir(tmp_path)
    (tmp_path / "termsledger.toml").write_text(f"[webhooks]\n{settings}\n")
    result = CliRunner().invoke(cli, ["webhooks", "deliver", "--ledger", ledger.path])
    assert result.exit_code == 1
    assert result.output == f"Error: termsledger.toml: {message}\n"


def test_the_http_api_manages_endpoints_for_admin_keys(tmp_path):
    from fastapi.testclient import TestClient
    from support.api import bearer, make_keys

    from termsledger.api import create_app

    path = tmp_path / "ledger.db"
    Ledger(path, create=True).publish(example())
    secrets = make_keys(path)
    strict = TestClient(create_app(path), headers=bearer(secrets["admin"]))
    refused = strict.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_webhook"
    assert "allow_private = true" in refused.json()["error"]["message"]
    app = create_app(path, webhooks=DeliverySettings(allow_private=True))
    with TestClient(app, headers=bearer(secrets["admin"])) as client:
        assert client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks"},
                           headers=bearer(secrets["write"])).status_code == 403
        created = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks",
                                                    "events": ["subject.erased"]})
        assert created.status_code == 201, created.text
        webhook, secret = created.json()["webhook"], created.json()["secret"]
        assert secret.startswith("whsec_") and webhook["events"] == ["subject.erased"]
        assert client.get("/v1/webhooks").json() == {"webhooks": [webhook]}
        assert client.get(f"/v1/webhooks/{webhook['id']}").json() == {"webhook": webhook,
                                                                     "failures": []}
        off = client.patch(f"/v1/webhooks/{webhook['id']}", json={"enabled": False})
        assert off.status_code == 200 and off.json()["enabled"] is False
        assert client.patch(f"/v1/webhooks/{webhook['id']}", json={"enabled": True}
                            ).json()["enabled"] is True
        duplicate = client.patch(f"/v1/webhooks/{webhook['id']}",
                                 content=b'{"enabled": true, "enabled": false}',
                                 headers={"Content-Type": "application/json"})
        assert duplicate.status_code == 422 and "duplicate key" in duplicate.text
        wrong = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/", "events": ["x"]})
        assert wrong.status_code == 422 and wrong.json()["error"]["fields"][0]["field"] == "events.0"
        assert client.delete(f"/v1/webhooks/{webhook['id']}").json()["id"] == webhook["id"]
        gone = client.get(f"/v1/webhooks/{webhook['id']}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "unknown_webhook"
        moved = client.put("/v1/webhooks")
        assert moved.status_code == 405 and moved.headers["allow"] == "GET, HEAD, POST"
        assert client.put(f"/v1/webhooks/{webhook['id']}").headers["allow"] == ("DELETE, GET, "
                                                                               "HEAD, PATCH")
        assert secret not in client.get("/v1/webhooks").text


def test_a_copy_of_the_ledger_keeps_its_endpoints_and_waiting_messages(ledger, receiver, tmp_path):
    from consent.copy import copy_ledger

    webhook = subscribe(ledger, receiver, ["consent.recorded", "version.in_force"])
    ledger.record("user-1", "terms")
    copy_ledger(ledger.path, tmp_path / "copy.db")
    with Ledger(tmp_path / "copy.db") as copied:
        assert copied.webhooks.list() == ledger.webhooks.list()
        assert copied.webhooks.deliver(FAST).delivered == 1  # the secret came along
        assert copied.webhooks.deliver(FAST, at="2099-01-01").in_force == ("terms 2099-01-01",)
        assert copied.webhooks.deliver(FAST, at="2099-01-01").in_force == ()
        copied.record("user-2", "terms")
        assert copied.webhooks.get(webhook.id).pending == 1
    assert [d.data.get("subject", d.data.get("version")) for d in receiver.received] == [
        "user-1", "2099-01-01"]
