"""The random bytes of salts and message ids: read ahead, never handed out twice."""

import os
import threading

import pytest

from consent.entropy import AHEAD, random_bytes


def test_bytes_read_ahead_are_handed_out_once_in_every_thread():
    drawn: list[bytes] = []

    def draw() -> None:
        drawn.extend(random_bytes(16) for _ in range(2 * AHEAD // 16))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(drawn) == 4 * 2 * AHEAD // 16
    assert len(set(drawn)) == len(drawn)
    assert len(random_bytes(3 * AHEAD)) == 3 * AHEAD


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")
def test_a_forked_process_does_not_repeat_its_parents_bytes():
    random_bytes(16)  # this thread has bytes read ahead
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(writing, random_bytes(16))
        os._exit(0)
    os.close(writing)
    child = os.read(reading, 16)
    os.close(reading)
    os.waitpid(pid, 0)
    assert len(child) == 16
    assert child != random_bytes(16)
