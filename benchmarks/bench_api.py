"""Load test of ``termsledger serve`` on loopback with wrk (Debian's ``wrk`` package).

Publishes this repository's own content to a fresh ledger, records acceptances for
``--subjects`` subjects, starts ``termsledger serve --workers N`` on a free 127.0.0.1 port and
runs three bounded wrk runs against it:

- ``GET /v1/subjects/{id}/status?document=terms`` for random known subjects:
  target at least 4,000 requests/s with p99 under 10 ms;
- ``GET /v1/subjects/{id}/required`` (the gate: every document's action, the Terms and the
  Privacy Policy required at signup) for random subjects, nine in ten known: target at least
  3,000 requests/s with p99 under 15 ms;
- ``POST /v1/consents``, each request a new subject: target at least 1,000 requests/s with
  p99 under 50 ms. Every acknowledged (201) write is logged by the wrk script; afterwards each
  must be in the ledger and ``verify`` must pass.

Run: ``python benchmarks/bench_api.py [--seconds 10] [--workers 2] [--connections 16]
[--baseline CHECKOUT --rounds 3] [--postgres URL]``: with ``--baseline``, the same runs against
another checkout of the code (say ``git worktree add /tmp/base main``), alternating with this one;
``--postgres URL`` (a role that may create databases) runs them against a PostgreSQL ledger in
databases of its own, dropped afterwards (targets there: POST >= 1,500 requests/s with p99 under
50 ms, GET >= 4,000 requests/s).
Exits 1 when a target is missed. Only loopback is ever contacted, and wrk stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg

import terms
from consent import Ledger

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_postgres import settled  # noqa: E402

GET_SCRIPT = """
math.randomseed(os.time())
local n = tonumber(os.getenv("BENCH_SUBJECTS"))
request = function()
  return wrk.format("GET", "/v1/subjects/bench%2F" .. math.random(n) .. "/status?document=terms")
end
""" + "{done}"

REQUIRED_SCRIPT = """
math.randomseed(os.time())
local n = tonumber(os.getenv("BENCH_SUBJECTS"))
request = function()
  return wrk.format("GET", "/v1/subjects/bench%2F" .. math.random(n * 10 / 9) .. "/required")
end
""" + "{done}"

POST_SCRIPT = """
local counter = 0
function setup(thread)
  thread:set("tag", tostring(math.random(1e9)))
end
function init(args)
  acked = io.open(os.getenv("BENCH_ACKED") .. "-" .. tag, "w")
  acked:setvbuf("line")
end
request = function()
  counter = counter + 1
  local body = '{"subject":"load/' .. tag .. '/' .. counter .. '","document":"terms",' ..
               '"channel":"web","evidence":{"locale":"en"}}'
  return wrk.format("POST", "/v1/consents", nil, body)
end
response = function(status, headers, body)
  if status == 201 then
    acked:write(body:match('"subject":"([^"]+)"'), "\\n")
  end
end
""" + "{done}"

DONE = """
function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests":%d,"seconds":%f,"non2xx":%d,"errors":%d,' ..
    '"p50_ms":%f,"p99_ms":%f,"max_ms":%f}\\n', summary.requests, summary.duration / 1e6,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3))
end
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--subjects", type=int, default=100_000, help="subjects recorded first")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a checkout of other code (e.g. `git worktree add /tmp/base main`) "
                             "measured the same way in the same run, alternating with this one")
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs of each tree; the median of each figure is reported")
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="run against a PostgreSQL ledger (databases made and dropped here)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    load = os.getloadavg()
    trees = {"this tree": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    runs: dict[str, list[Run]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as folder, ledgers(args.postgres, Path(folder)) as copy:
        folder = Path(folder)
        prepared = copy(None)
        secrets = prepare(prepared, args.subjects)
        if args.postgres:
            settled(prepared)  # the copies start from it as a ledger in use does: vacuumed
        for round_ in range(args.rounds):
            for name, tree in (reversed(trees.items()) if round_ % 2 else trees.items()):
                place = folder / f"{round_}-{name.replace(' ', '-')}"
                place.mkdir()
                runs[name].append(measure(tree, copy(place), secrets, args, place))
    results = {name: summary(found) for name, found in runs.items()}
    reads, gates, writes, missing, verified = results["this tree"]
    post_target = 1500 if args.postgres else 1000
    checks = [
        ("GET status   >= 4000 req/s", reads["rps"] >= 4000),
        ("GET status   p99 < 10 ms", reads["p99_ms"] < 10),
        ("GET required >= 3000 req/s", gates["rps"] >= 3000),
        ("GET required p99 < 15 ms", gates["p99_ms"] < 15),
        (f"POST consent >= {post_target} req/s", writes["rps"] >= post_target),
        ("POST consent p99 < 50 ms", writes["p99_ms"] < 50),
        ("every acknowledged write is in the ledger", missing == 0),
        ("verify passes", verified),
    ]
    print(f"tool: wrk, -t1 -c{args.connections} -d{args.seconds}s; server: termsledger serve "
          f"--workers {args.workers} on 127.0.0.1, ledger on "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}; {os.cpu_count()} cores; {args.rounds} "
          f"round(s), medians; load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f} "
          f"(other work on the machine skews this)")
    for tree, (reads_, gates_, writes_, missing_, _) in results.items():
        for name, run in (("GET  /v1/subjects/{id}/status", reads_),
                          ("GET  /v1/subjects/{id}/required", gates_),
                          ("POST /v1/consents", writes_)):
            print(f"{tree:10} {name:30} {run['rps']:8.0f} req/s  p50 {run['p50_ms']:6.2f} ms  "
                  f"p99 {run['p99_ms']:6.2f} ms  max {run['max_ms']:7.2f} ms  "
                  f"server CPU {run['cpu_us']:4.0f} us/req  non-2xx {run['non2xx']}  "
                  f"socket errors {run['errors']}")
        print(f"{tree:10} acknowledged writes missing from the ledger: {missing_}")
    for tree, found in runs.items():
        print(f"{tree:10} each round, GET status / GET required / POST req/s: "
              + ", ".join(f"{r[0]['rps']:.0f} / {r[1]['rps']:.0f} / {r[2]['rps']:.0f}"
                          for r in found))
    for name, ok in checks:
        print(f"  {'ok  ' if ok else 'MISS'} {name} (this tree)")
    return 0 if all(ok for _, ok in checks) else 1


@contextlib.contextmanager
def ledgers(postgres: str | None, folder: Path) -> Iterator:
    """``copy(folder)``: a fresh copy of the prepared ledger (``copy(None)``: the prepared
    ledger itself), SQLite files in ``folder`` or PostgreSQL databases on the server of
    ``postgres``, all dropped on exit."""
    prepared = folder / "prepared.db"
    databases: list[str] = []

    def sqlite_copy(place: Path | None) -> Path:
        if place is None:
            return prepared
        with sqlite3.connect(prepared) as source, sqlite3.connect(place / "ledger.db") as copy:
            source.backup(copy)  # with what is still in the prepared ledger's WAL (the keys)
        copy.close()
        return place / "ledger.db"

    def postgres_copy(place: Path | None) -> str:
        name = f"bench_api_{os.getpid()}_{len(databases)}"
        with psycopg.connect(postgres, autocommit=True) as conn:
            template = f" TEMPLATE {databases[0]}" if place is not None else ""
            conn.execute(f"CREATE DATABASE {name}{template}")
        databases.append(name)
        return postgres.rsplit("/", 1)[0] + "/" + name

    try:
        yield postgres_copy if postgres else sqlite_copy
    finally:
        if databases:
            with psycopg.connect(postgres, autocommit=True) as conn:
                for name in databases:
                    try:
                        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                    except psycopg.errors.InsufficientPrivilege:  # an autovacuum worker in it:
                        conn.execute(f"DROP DATABASE IF EXISTS {name}")  # only a plain drop stops it


Run = tuple[dict, dict, dict, int, bool]
"""The figures of the status, required and write runs, the acknowledged writes missing, and
whether the ledger verified."""


def measure(tree: Path, ledger_path: Path | str, secrets: dict[str, str], args, folder: Path
            ) -> Run:
    """Serve ``ledger_path`` (a copy of the prepared ledger) with the code of ``tree``, run the
    three wrk runs, and check every acknowledged write."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from termsledger.cli import cli; cli()", "serve",
         "--ledger", str(ledger_path), "--port", str(port), "--workers", str(args.workers)],
        stdout=subprocess.DEVNULL, stderr=open(folder / "server.log", "w"), cwd=folder,
        env={**os.environ, "PYTHONPATH": str(tree)})
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, folder / "server.log", args.workers)
        env = {"BENCH_SUBJECTS": str(args.subjects), "BENCH_ACKED": str(folder / "acked")}
        reads = wrk(url, GET_SCRIPT, secrets["read"], args, env, folder, server.pid)
        gates = wrk(url, REQUIRED_SCRIPT, secrets["read"], args, env, folder, server.pid)
        writes = wrk(url, POST_SCRIPT, secrets["write"], args, env, folder, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if reads["non2xx"] or gates["non2xx"] or writes["non2xx"]:
        print(f"{tree}: non-2xx answers; the server's log ends with:\n"
              + (folder / "server.log").read_text()[-3000:], file=sys.stderr)
    acked = [line for path in folder.glob("acked-*") for line in path.read_text().splitlines()]
    with Ledger(ledger_path) as ledger:
        missing = sum(s.status == "never" for s in ledger.statuses(acked, "terms"))
        missing += abs(len(acked) - writes["ok"])
        return reads, gates, writes, missing, ledger.verify().ok


def summary(runs: list[Run]) -> Run:
    """The median of each figure over ``runs``; every write missing from any run counts."""
    def median(figures: list[dict]) -> dict:
        return {key: statistics.median(f[key] for f in figures) for key in figures[0]}

    return (median([r[0] for r in runs]), median([r[1] for r in runs]),
            median([r[2] for r in runs]), sum(r[3] for r in runs), all(r[4] for r in runs))


def prepare(ledger_path: Path | str, subjects: int) -> dict[str, str]:
    """Publish this repository's content (the Terms and the Privacy Policy required at signup),
    record ``subjects`` acceptances and sequence them in the transparency log, make two
    keys."""
    with Ledger(ledger_path, create=True) as ledger:  # closing it checkpoints the WAL before the runs
        ledger.publish(terms.load(ROOT / "content"), required=["terms", "privacy"])
        ledger.record_many({"subject": f"bench/{i}", "document": "terms", "channel": "web",
                            "evidence": {"ip": "192.0.2.1"}} for i in range(1, subjects + 1))
        ledger.log.sequence_all()  # else each server's first run sequences them all meanwhile
        secrets = {scope: ledger.keys.create(f"bench {scope}", scope)[1] for scope in ("read", "write")}
    return secrets


def wrk(url: str, script: str, secret: str, args, env: dict, folder: Path, server: int) -> dict:
    """Run wrk; the result has its figures and the server's CPU time per request."""
    path = folder / "script.lua"
    cpu = cpu_seconds(server)
    path.write_text(script.replace("{done}", DONE))
    output = subprocess.run(
        ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "5s",
         "-s", str(path), "-H", f"Authorization: Bearer {secret}",
         "-H", "Content-Type: application/json", url],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=args.seconds + 60,
        check=True).stdout
    result = json.loads(output.split("RESULT ", 1)[1].splitlines()[0])
    result["cpu_us"] = (cpu_seconds(server) - cpu) / result["requests"] * 1e6
    result["rps"] = result["requests"] / result["seconds"]
    result["ok"] = result["requests"] - result["non2xx"]
    return result


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by process ``pid`` and its descendants (Linux ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, log: Path, workers: int) -> None:
    """Wait until the server answers and each of its ``workers`` has started (a connection made
    before a worker listens goes to another, and wrk's stay with the workers they first reach)."""
    for _ in range(300):
        try:
            if (httpx.get(f"{url}/healthz").status_code == 200
                    and log.read_text().count("Application startup complete.") >= workers):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    sys.exit("the server did not start within 30 s")


if __name__ == "__main__":
    sys.exit(main())
