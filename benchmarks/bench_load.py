"""Benchmark: loading content from git history (issue 2).

Targets: a document with 30 versions of 60 KB each loads in under 0.5 s; a repository of
60 documents with 900 commits touching them loads in under 3 s. The plain baseline is
``git log -p`` of the same history, the least any reader of that history has to do.

    python benchmarks/bench_load.py
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _gitgen import fast_import, front_matter, paragraph, versioned_history

import terms


def best_of(runs: int, function) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def git_log_patch(repo: Path) -> None:
    subprocess.run(["git", "log", "-p", "--no-renames", "-q"], cwd=repo, check=True,
                   stdout=subprocess.DEVNULL)


def main() -> None:
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one"
        history = versioned_history("terms", 30, 60_000, date(2020, 1, 1), rng)
        fast_import(one, [(datetime.combine(eff, datetime.min.time()) - timedelta(days=30),
                           {"terms.md": text}) for eff, text in history])
        loaded = terms.load(one)
        assert len(loaded.versions("terms")) == 30
        seconds = best_of(5, lambda: terms.load(one))
        baseline = best_of(5, lambda: git_log_patch(one))
        print(f"30 versions x 60 KB of one document: {seconds * 1000:.0f} ms (target < 500 ms); "
              f"git log -p: {baseline * 1000:.0f} ms")

        many = Path(tmp) / "many"
        slugs = [f"policy-{n:02d}" for n in range(60)]
        texts = {slug: f"# {slug}\n\n" + "\n\n".join(paragraph(rng) for _ in range(20)) for slug in slugs}
        commits, when = [], datetime(2020, 1, 1)
        for number in range(900):
            slug = slugs[number % 60] if number < 60 else rng.choice(slugs)
            texts[slug] += "\n\n" + paragraph(rng, 25)
            effective = (when + timedelta(days=40)).date()
            commits.append((when, {f"{slug}.md": front_matter(slug, effective) + texts[slug]}))
            when += timedelta(days=1)
        fast_import(many, commits)
        loaded = terms.load(many)
        assert len(loaded.documents) == 60 and sum(len(d.versions) for d in loaded.documents.values()) == 900
        seconds = best_of(3, lambda: terms.load(many))
        baseline = best_of(3, lambda: git_log_patch(many))
        print(f"60 documents, 900 commits: {seconds * 1000:.0f} ms (target < 3000 ms); "
              f"git log -p: {baseline * 1000:.0f} ms")


if __name__ == "__main__":
    main()
