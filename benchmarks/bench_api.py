"""Load test of ``termsledger serve`` on loopback with wrk (Debian's ``wrk`` package).

Publishes this repository's own content to a fresh ledger, records acceptances for
``--subjects`` subjects, starts ``termsledger serve --workers N`` on a free 127.0.0.1 port and
runs two bounded wrk runs against it:

- ``GET /v1/subjects/{id}/status?document=terms`` for random known subjects:
  target at least 4,000 requests/s with p99 under 10 ms;
- ``POST /v1/consents``, each request a new subject: target at least 1,000 requests/s with
  p99 under 50 ms. Every acknowledged (201) write is logged by the wrk script; afterwards each
  must be in the ledger and ``verify`` must pass.

Run: ``python benchmarks/bench_api.py [--seconds 10] [--workers 2] [--connections 16]``;
``--postgres URL`` (a role that may create databases) runs the same against a PostgreSQL
ledger in a database of its own, dropped afterwards (targets there: POST >= 1,500 requests/s
with p99 under 50 ms, GET >= 4,000 requests/s).
Exits 1 when a target is missed. Only loopback is ever contacted, and wrk stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

import terms
from consent import Ledger

ROOT = Path(__file__).resolve().parent.parent

GET_SCRIPT = """
math.randomseed(os.time())
local n = tonumber(os.getenv("BENCH_SUBJECTS"))
request = function()
  return wrk.format("GET", "/v1/subjects/bench%2F" .. math.random(n) .. "/status?document=terms")
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
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="run against a PostgreSQL ledger (a database made and dropped here)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    load = os.getloadavg()
    database = None
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        target: str | Path = folder / "ledger.db"
        if args.postgres:
            import psycopg

            database = f"bench_api_{os.getpid()}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {database}")
            target = args.postgres.rsplit("/", 1)[0] + "/" + database
        ledger_path, secrets = prepare(target, args.subjects)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", "from termsledger.cli import cli; cli()", "serve",
             "--ledger", str(ledger_path), "--port", str(port), "--workers", str(args.workers)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url)
            env = {"BENCH_SUBJECTS": str(args.subjects), "BENCH_ACKED": str(folder / "acked")}
            reads = wrk(url, GET_SCRIPT, secrets["read"], args, env, folder, server.pid)
            writes = wrk(url, POST_SCRIPT, secrets["write"], args, env, folder, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        acked = [line for path in folder.glob("acked-*") for line in path.read_text().splitlines()]
        with Ledger(ledger_path) as ledger:
            missing = sum(s.status == "never" for s in ledger.statuses(acked, "terms"))
            verified = ledger.verify().ok
    if database:
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    post_target = 1500 if args.postgres else 1000
    checks = [
        ("GET status   >= 4000 req/s", reads["rps"] >= 4000),
        ("GET status   p99 < 10 ms", reads["p99_ms"] < 10),
        (f"POST consent >= {post_target} req/s", writes["rps"] >= post_target),
        ("POST consent p99 < 50 ms", writes["p99_ms"] < 50),
        ("every acknowledged write is in the ledger", missing == 0 and len(acked) == writes["ok"]),
        ("verify passes", verified),
    ]
    print(f"tool: wrk, -t1 -c{args.connections} -d{args.seconds}s; server: termsledger serve "
          f"--workers {args.workers} on 127.0.0.1; {os.cpu_count()} cores; load average "
          f"before {load[0]:.2f}, after {os.getloadavg()[0]:.2f} (other work on the machine skews this)")
    for name, run in (("GET  /v1/subjects/{id}/status", reads), ("POST /v1/consents", writes)):
        print(f"{name:32} {run['rps']:8.0f} req/s  p50 {run['p50_ms']:6.2f} ms  "
              f"p99 {run['p99_ms']:6.2f} ms  max {run['max_ms']:7.2f} ms  "
              f"server CPU {run['cpu_us']:4.0f} us/req  non-2xx {run['non2xx']}  "
              f"socket errors {run['errors']}")
    print(f"acknowledged writes: {len(acked)}, missing from the ledger: {missing}")
    for name, ok in checks:
        print(f"  {'ok  ' if ok else 'MISS'} {name}")
    return 0 if all(ok for _, ok in checks) else 1


def prepare(ledger_path: str | Path, subjects: int) -> tuple[str | Path, dict[str, str]]:
    """Publish this repository's content, record ``subjects`` acceptances, make two keys."""
    with Ledger(ledger_path, create=True) as ledger:  # closing it checkpoints the WAL before the runs
        ledger.publish(terms.load(ROOT / "content"))
        ledger.record_many({"subject": f"bench/{i}", "document": "terms", "channel": "web",
                            "evidence": {"ip": "192.0.2.1"}} for i in range(1, subjects + 1))
        secrets = {scope: ledger.keys.create(f"bench {scope}", scope)[1] for scope in ("read", "write")}
    return ledger_path, secrets


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


def wait_until_up(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    sys.exit("the server did not start within 30 s")


if __name__ == "__main__":
    sys.exit(main())
