"""Benchmark: rendering the site's pages in jinja2's sandbox, against a normal environment.

Template overrides come from the content repository and render in
``ImmutableSandboxedEnvironment``; the built-in templates alone keep a normal ``Environment``
because it is measurably faster. This measures both on the large history of
``bench_site.py`` (161 pages), alternating in one process, with the fragment cache warm so
that rendering templates is most of the build: the sandboxed build gets an empty folder of
overrides, so it renders exactly the built-in templates.

    python benchmarks/bench_templates.py
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _gitgen import fast_import
from bench_site import history

import site_builder
import terms

RUNS = 7


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fast_import(tmp / "repo", history(random.Random(4)))
        (tmp / "overrides").mkdir()
        content = terms.load(tmp / "repo")
        at = date(2026, 1, 1)
        out = tmp / "site"
        site_builder.build(content, out, now=at)  # fills the fragment cache
        settings = {"Environment (built-in templates)": site_builder.SiteSettings(),
                    "ImmutableSandboxedEnvironment": site_builder.SiteSettings(templates=tmp / "overrides")}
        times: dict[str, list[float]] = {name: [] for name in settings}
        for _ in range(RUNS):
            for name, setting in settings.items():
                start = time.perf_counter()
                site_builder.build(content, out, setting, now=at, processes=1)
                times[name].append(time.perf_counter() - start)
        pages = sum(1 for _ in out.rglob("*.html"))
    for name, values in times.items():
        print(f"{name:34s} {statistics.median(values):.3f} s median of {RUNS} builds of {pages} pages")


if __name__ == "__main__":
    main()
