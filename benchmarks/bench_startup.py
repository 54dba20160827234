"""Benchmark: start-up time of ``import terms`` and ``termsledger check --help`` (issue 11).

Each command runs in a fresh interpreter; the best and median wall time of ``--runs`` runs
are printed beside the plain baseline, a bare interpreter (``python -c pass``). With
``--against FOLDER`` (another checkout, for example ``git archive main | tar -x -C FOLDER``)
the same commands run on that code too, in the same run, for a before/after comparison.

    python benchmarks/bench_startup.py [--runs 15] [--against /tmp/main-tree]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "bare interpreter (baseline)": [sys.executable, "-c", "pass"],
    "import terms": [sys.executable, "-c", "import terms"],
    "import terms, site_builder": [sys.executable, "-c", "import terms, site_builder"],
    "termsledger check --help": [sys.executable, "-c",
                                 "from termsledger.cli import cli; cli(['check', '--help'])"],
}


def timed(command: list[str], code: Path, runs: int) -> list[float]:
    """Wall times of ``runs`` runs of ``command`` with ``code`` first on the module path."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--against", type=Path, help="another checkout to time beside this one")
    args = parser.parse_args()
    trees = {"this tree": ROOT} | ({f"{args.against}": args.against} if args.against else {})
    print(f"best and median of {args.runs} runs, wall time, ms")
    for name, command in COMMANDS.items():
        for tree, code in trees.items():
            times = timed(command, code, args.runs)
            label = f"{name} [{tree}]" if args.against else name
            print(f"   {label:<60} best {1000 * times[0]:7.1f}   median "
                  f"{1000 * statistics.median(times):7.1f}")


if __name__ == "__main__":
    main()
