"""``serve --workers N`` on Linux: uvicorn's worker processes, each listening on a socket of
its own bound with ``SO_REUSEPORT``, so that the kernel shares the connections out among them.

uvicorn binds one socket and every worker accepts on it: the worker that wakes first takes
every connection waiting (asyncio accepts up to its backlog at once), and a keep-alive client
then stays with it. Sixteen connections opened together often all went to one of two workers,
which served them at half the rate while the other idled (uvicorn PR #2472 proposes the same
option upstream). uvicorn's supervisor still starts, watches and restarts the workers.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

BALANCED = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")
"""Whether the kernel shares connections out among sockets bound with ``SO_REUSEPORT`` (on
other systems one of them takes every connection)."""


class Listener(socket.socket):
    """A TCP socket bound with ``SO_REUSEPORT``. Pickled to start a worker process, it is
    unpickled there as a new socket bound to the same address: each worker listens on its own
    (uvicorn hands the same sockets to every worker it starts or restarts)."""

    @classmethod
    def bound(cls, host: str, port: int) -> Listener:
        """A socket bound to ``host`` and ``port`` (0: a free port), not yet listening. Made
        with the protocol named (``IPPROTO_TCP``): asyncio then sets ``TCP_NODELAY`` on the
        connections it accepts, as it does on the sockets it makes itself."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = cls(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
        except BaseException:
            sock.close()
            raise
        return sock

    def __reduce__(self) -> tuple[Any, ...]:
        host, port = self.getsockname()[:2]
        return (Listener.bound, (host, port))


def run(options: dict[str, Any]) -> None:
    """Serve as ``uvicorn.run(**options)`` does with several workers, each on a
    :class:`Listener` of its own."""
    from uvicorn import Config
    from uvicorn.supervisors import Multiprocess

    config = Config(**options)
    sock = Listener.bound(config.host, config.port)
    host, port = sock.getsockname()[:2]
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on http://%s:%d (Press CTRL+C to quit)",
        f"[{host}]" if ":" in host else host, port)
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
