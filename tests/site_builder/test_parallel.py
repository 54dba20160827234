"""Sharing work out among processes (site_builder.parallel), as comparing and rendering do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from site_builder import parallel


def _note(folder: Path, run: int, task: int) -> tuple[int, int, int]:
    """A task: its place and the process it ran in, noted in ``folder`` too."""
    (folder / f"{os.getpid()}-{run}-{task}").touch()
    return run, task, os.getpid()


def _until_another_ran(folder: Path) -> None:
    """Wait (10 s at most) until a task ran in another process than this one."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and all(p.name.startswith(f"{os.getpid()}-") for p in folder.iterdir()):
        time.sleep(0.01)


def _together(folder: Path, run: int, task: int) -> tuple[int, int, int]:
    """:func:`_note`, then wait (10 s at most) until a task ran in another process too."""
    noted = _note(folder, run, task)
    _until_another_ran(folder)
    return noted


def test_the_work_is_shared_between_this_process_and_a_worker(tmp_path):
    runs = [[partial(_together, tmp_path, run, task) for task in range(30)] for run in range(4)]
    results = parallel.run(runs, processes=2)
    assert [[(run, task) for run, task, _ in found] for found in results] == \
        [[(run, task) for task in range(30)] for run in range(4)]
    processes = {pid for found in results for _, _, pid in found}
    assert len(processes) == 2 and os.getpid() in processes  # this process took runs too


def _fail(message: str) -> None:
    raise ValueError(message)


def test_the_error_raised_is_that_of_the_first_task_in_order(tmp_path):
    runs = [[partial(_together, tmp_path, run, task) for task in range(30)] for run in range(4)]
    runs[1][20] = partial(_fail, "first")
    runs[3][5] = partial(_fail, "later")
    with pytest.raises(ValueError, match="first"):
        parallel.run(runs, processes=2)


def test_a_worker_starts_for_as_few_tasks_as_are_worth_it(tmp_path):
    runs = [[partial(_note, tmp_path, 0, task) for task in range(2)]]
    results = parallel.run(runs, processes=2, meanwhile=partial(_until_another_ran, tmp_path), worth=1)
    assert [(run, task) for run, task, _ in results[0]] == [(0, 0), (0, 1)]
    assert {pid for _, _, pid in results[0]} != {os.getpid()}
    results = parallel.run(runs, processes=2)  # two pages to render: not worth a worker
    assert {pid for _, _, pid in results[0]} == {os.getpid()}


def _end_in_a_worker(parent: int) -> None:
    """A task that ends its process when it is a worker, as a worker killed by the system would end."""
    if os.getpid() != parent:
        os._exit(3)


def test_a_worker_that_ends_without_its_results_is_an_error(tmp_path):
    runs = [[partial(_note, tmp_path, run, 0), partial(_end_in_a_worker, os.getpid())] for run in range(2)]
    with pytest.raises(RuntimeError, match="ended before sending its results"):
        parallel.run(runs, processes=2, meanwhile=partial(_until_another_ran, tmp_path), worth=1)


def _unpicklable() -> object:
    return lambda: None


def test_a_result_that_cannot_be_sent_back_is_an_error(tmp_path):
    runs = [[partial(_note, tmp_path, run, 0), _unpicklable] for run in range(2)]
    with pytest.raises(RuntimeError, match="cannot be sent"):
        parallel.run(runs, processes=2, meanwhile=partial(_until_another_ran, tmp_path), worth=1)


def test_without_a_file_for_the_workers_results_the_work_is_done_here(tmp_path, monkeypatch):
    def refused(*args: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "memfd_create", refused, raising=False)
    monkeypatch.setattr(parallel.tempfile, "TemporaryFile", refused)
    runs = [[partial(_note, tmp_path, run, task) for task in range(30)] for run in range(4)]
    results = parallel.run(runs, processes=2)
    assert [[(run, task) for run, task, _ in found] for found in results] == \
        [[(run, task) for task in range(30)] for run in range(4)]
    assert {pid for found in results for _, _, pid in found} == {os.getpid()}


def test_a_site_builds_with_no_folder_for_temporary_files(example_content, tmp_path):
    """A build in a container whose file systems are read-only but for the output folder."""
    environment = {**os.environ, "TMPDIR": str(tmp_path / "missing")}
    script = ("import os, tempfile; os.memfd_create = None; del os.memfd_create; "
              "tempfile.tempdir = os.environ['TMPDIR']; "
              "from termsledger.cli import cli; cli()")
    done = subprocess.run([sys.executable, "-c", script, "build", "--content", str(example_content),
                           "--out", str(tmp_path / "site")], env=environment, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
