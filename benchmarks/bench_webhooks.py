"""Benchmark: webhook delivery (issue 14) against a plain httpx POST loop to the same receiver.

A receiver (a minimal ASGI app on uvicorn, in another process, answering 204) listens on
loopback. The ledger queues ``--events`` ``consent.recorded`` messages (``record_many`` with one
endpoint subscribed), then ``Ledger.webhooks.deliver`` sends them all, signed (Standard
Webhooks, ``standardwebhooks``), claimed and settled in the ledger, and the rate is printed
beside a plain ``httpx.Client`` loop POSTing the same bodies to the same receiver, in the same
run. Also printed: what queueing the messages costs ``record_many`` (with the endpoint, and with
none). Target: at least 500 events/s delivered.

    python benchmarks/bench_webhooks.py                 # 5,000 events, 3 rounds
    python benchmarks/bench_webhooks.py --events 20000 --rounds 5
    python benchmarks/bench_webhooks.py --postgres postgresql://user:pw@host/postgres
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ledger import catalog

from consent import DeliverySettings, Ledger
from consent.outbox import body

RECEIVER = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_receiver(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    (folder / "receiver.py").write_text(RECEIVER)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "receiver:app", "--port", str(port), "--log-level",
         "warning", "--no-access-log", "--http", "httptools"], cwd=folder)
    url = f"http://127.0.0.1:{port}/hooks"
    for _ in range(100):
        try:
            httpx.post(url, content=b"{}")
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the receiver did not start")


DATABASE = f"bench_webhooks_{os.getpid()}"


def database(server: str) -> str:
    """A new database for the ledger on the PostgreSQL ``server``."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    return server.rsplit("/", 1)[0] + "/" + DATABASE


def drop(server: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def records(round_: int, count: int) -> list[dict[str, str]]:
    return [{"subject": f"user-{round_}-{i}", "document": "terms", "channel": "web"}
            for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="A role that may create databases: the ledger is a PostgreSQL "
                             "database of its own, dropped at the end.")
    args = parser.parse_args()
    settings = DeliverySettings(allow_private=True)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        receiver, url = start_receiver(folder)
        location = database(args.postgres) if args.postgres else str(folder / "ledger.db")
        try:
            delivered, plain, with_hook, without = [], [], [], []
            with Ledger(location, create=True) as ledger:
                ledger.publish(catalog())
                for round_ in range(args.rounds):
                    started = time.perf_counter()
                    ledger.record_many(records(-1 - round_, args.events))
                    without.append(args.events / (time.perf_counter() - started))
                    webhook, _ = ledger.webhooks.add(url, ["consent.recorded"],
                                                     allow_private=True)
                    started = time.perf_counter()
                    ledger.record_many(records(round_, args.events))
                    with_hook.append(args.events / (time.perf_counter() - started))
                    bodies = [body(kind, at, data) for kind, at, data in ledger._store.reads(
                        ).execute("SELECT type, at, data FROM outbox")]
                    started = time.perf_counter()
                    run = ledger.webhooks.deliver(settings)
                    seconds = time.perf_counter() - started
                    assert run.delivered == args.events and run.failed == 0, run
                    delivered.append(args.events / seconds)
                    ledger.webhooks.remove(webhook.id)
                    with httpx.Client() as client:
                        started = time.perf_counter()
                        for sent in bodies:
                            client.post(url, content=sent,
                                        headers={"content-type": "application/json"})
                        plain.append(len(bodies) / (time.perf_counter() - started))
                    print(f"round {round_ + 1}: delivered {delivered[-1]:,.0f} events/s; "
                          f"plain httpx loop {plain[-1]:,.0f} POST/s; record_many "
                          f"{with_hook[-1]:,.0f}/s with the endpoint, {without[-1]:,.0f}/s "
                          f"without")
        finally:
            receiver.terminate()
            receiver.wait()
            if args.postgres:
                drop(args.postgres)
    rate, baseline = statistics.median(delivered), statistics.median(plain)
    engine = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n{engine}; webhook delivery: {rate:,.0f} events/s (median of {args.rounds}; target >= 500), "
          f"plain httpx POST loop: {baseline:,.0f} POST/s ({rate / baseline:.2f}x)")
    print(f"record_many: {statistics.median(with_hook):,.0f}/s with a consent.recorded "
          f"endpoint, {statistics.median(without):,.0f}/s without")


if __name__ == "__main__":
    main()
