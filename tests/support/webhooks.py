"""A webhook receiver for the tests: a small threaded HTTP server on loopback that checks each
delivery's signature with ``standardwebhooks`` and can answer, fail, redirect, hang or go
down."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook as Verifier


@dataclass(frozen=True)
class Delivery:
    """A delivery the receiver got, its signature checked."""

    id: str
    timestamp: str
    body: bytes
    message: dict[str, Any]
    """The verified body, parsed."""

    @property
    def type(self) -> str:
        return self.message["type"]

    @property
    def data(self) -> dict[str, Any]:
        return self.message["data"]


class Receiver:
    """Receives webhooks at :attr:`url` until :meth:`stop`. ``mode`` is what it does with a
    delivery: ``ok`` (204), ``fail`` (500), ``redirect`` (302 to :attr:`url` + ``/moved``),
    ``hang`` (waits for :meth:`release`, then 204). Deliveries whose signature does not verify
    with :attr:`secret` are counted in :attr:`forged` and answered 400."""

    def __init__(self, port: int = 0):
        self.secret: str | None = None
        self.mode = "ok"
        self.received: list[Delivery] = []
        self.attempts: list[str] = []
        """The ``webhook-id`` of every request, whatever the answer."""
        self.forged = 0
        self.paths: list[str] = []
        self.fail_if: Callable[[bytes], bool] = lambda body: False
        """Bodies answered 500 whatever the mode."""
        self.delay = 0.0
        """Seconds to wait before answering."""
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._connections: set[socket.socket] = set()
        self.start(port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self, port: int | None = None) -> None:
        """Listen (again) on ``port``, by default the one it had."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver._connections.add(self.connection)

            def finish(self) -> None:
                super().finish()
                with receiver._lock:
                    receiver._connections.discard(self.connection)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver._handle(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port if port is None else port), Handler)
        server.daemon_threads = True
        server.allow_reuse_address = True
        self._server = server
        self.port = server.server_port
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Go down: the port refuses connections until :meth:`start`, and the connections
        open (kept alive by the sender) are closed."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def release(self) -> None:
        """Let the hanging requests (and later ones) answer."""
        self.mode = "ok"
        self._released.set()

    def ids(self, kind: str | None = None) -> list[str]:
        """The ``webhook-id`` of each verified delivery (of type ``kind``), in order."""
        with self._lock:
            return [d.id for d in self.received if kind is None or d.type == kind]

    def of(self, kind: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.received if d.type == kind]

    def wait_for(self, count: int, kind: str | None = None, timeout: float = 30.0) -> None:
        """Wait until ``count`` distinct messages (of type ``kind``) arrived."""
        deadline = time.monotonic() + timeout
        while len(set(self.ids(kind))) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(set(self.ids(kind)))} of {count} messages arrived "
                                     f"within {timeout} s")
            time.sleep(0.05)

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {key: value for key, value in handler.headers.items()}
        with self._lock:
            self.attempts.append(headers.get("webhook-id", ""))
            self.paths.append(handler.path)
        mode = self.mode
        if self.delay:
            time.sleep(self.delay)
        if self.fail_if(body):
            return _answer(handler, 500)
        if mode == "hang":
            self._released.wait(60)
        elif mode == "fail":
            return _answer(handler, 500)
        elif mode == "redirect":
            return _answer(handler, 302, {"Location": self.url + "/moved"})
        try:
            message = Verifier(self.secret or "").verify(body, headers)
        except Exception:  # WebhookVerificationError, or a malformed header or secret
            with self._lock:
                self.forged += 1
            return _answer(handler, 400)
        with self._lock:
            self.received.append(Delivery(id=headers["webhook-id"],
                                          timestamp=headers["webhook-timestamp"], body=body,
                                          message=message))
        _answer(handler, 204)


def _answer(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str] | None = None
            ) -> None:
    try:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    except OSError:  # the sender gave up (timed out, or was killed)
        pass


def toml(**settings: Any) -> str:
    """A ``termsledger.toml`` whose ``[webhooks]`` has ``settings``."""
    lines = ["[webhooks]"] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"
