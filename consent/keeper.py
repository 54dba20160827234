"""Keeping a server's transparency log current: a background thread that runs the sequencer
shortly after writes (and every :data:`PERIOD` seconds for writes of other processes), and
signs a checkpoint every ``checkpoint_interval`` seconds when the log has grown.

Several servers may keep one ledger's log: sequencer steps exclude each other, and a
checkpoint of a size already signed is not signed again. A failure (a busy or full disk, a
damaged log) is logged and tried again later; it never stops the server.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from .errors import ConsentError
from .ledger import Ledger
from .sequencer import MAX_BATCH

DELAY = 0.1
"""Seconds the sequencer waits after a write, so that the writes of that moment share a step."""
PERIOD = 2.0
"""Most seconds between two runs of the sequencer."""
CHECKPOINT_INTERVAL = 3600.0
"""Seconds between two signed checkpoints, by default."""
RETRY = 10.0
"""Seconds to wait after a failure."""

log = logging.getLogger("consent.log")


class LogKeeper:
    """Keeps the log of ``ledger`` current on a thread of its own (:meth:`start`,
    :meth:`stop`); :meth:`wake` after a write. Checkpoints are signed only when the ledger
    has a signing key and ``checkpoint_interval`` is not ``None``."""

    def __init__(self, ledger: Ledger, *, checkpoint_interval: float | None = CHECKPOINT_INTERVAL):
        self.ledger = ledger
        self.checkpoint_interval = checkpoint_interval
        self._woken = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="log-keeper", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A write happened: sequence soon."""
        self._woken.set()

    def stop(self) -> None:
        """Finish the current step and stop."""
        self._stopping.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self._woken.wait(PERIOD):
                self._woken.clear()
                if self._stopping.wait(DELAY):
                    return
            try:
                self.keep()
            except ConsentError as error:
                log.warning("The transparency log could not be kept up to date (tried again in "
                            "%g s): %s", RETRY, error)
                self._stopping.wait(RETRY)
            except Exception:  # never stop the server; say what happened
                log.exception("The transparency log could not be kept up to date")
                self._stopping.wait(RETRY)

    def keep(self) -> None:
        """One round: sequence what waits (in steps while they are full; what is written
        meanwhile waits for the next round), and sign a checkpoint when one is due."""
        ledger = self.ledger
        # Sequencing until none waited kept this thread stepping without pause while writes
        # went on, each step taking a few dozen records.
        while ledger.log.pending() and ledger.log.sequence() >= MAX_BATCH:
            continue
        if self.checkpoint_interval is None or ledger.receipt_settings is None:
            return
        latest = ledger.log.latest(published=False)
        if latest is not None:
            signed = datetime.fromisoformat(latest.time.replace("Z", "+00:00"))
            age = (datetime.now(timezone.utc) - signed).total_seconds()
            if age < self.checkpoint_interval or ledger.log.size == latest.size:
                return
        made = ledger.log.checkpoint()
        log.info("Signed a checkpoint of the transparency log: %d leaves", made.size)
