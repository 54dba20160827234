"""Benchmark: ``termsledger build`` of a large history, against ``mkdocs build`` (issue 4).

A generated git repository holds a 30-version, 60 KB Terms of Use that references five
policies of 5 versions each. Targets, whole process: a cold build (empty output folder)
under 2 s, and a rebuild with nothing changed under 0.5 s. For comparison, ``mkdocs build``
of the same 30 versions as 30 pages runs in the same session; the ratio is reported.

The languages case (issue 16) gives every version a French and a German text (``terms.fr.md``…,
translated word by word so that each text is its own) and builds the site in the three
languages, beside the site of the same history in English alone: target, under 3 times as long.

    python benchmarks/bench_site.py             # every case
    python benchmarks/bench_site.py languages   # the languages case alone
"""

from __future__ import annotations

import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _gitgen import fast_import, versioned_history  # noqa: E402

POLICIES = ("privacy", "refund", "acceptable-use", "copyright", "cookies")
BUILD_DATE = "2026-01-01"
RUNS = 5


def history(rng: random.Random) -> list[tuple[datetime, dict[str, str]]]:
    """Commits of the Terms and the policies, each made 30 days before its effective date."""
    links = "\n\nSee also: " + ", ".join(f"[{slug}]({slug}.md)" for slug in POLICIES) + ".\n"
    commits = [(eff, "terms.md", text + links)
               for eff, text in versioned_history("terms", 30, 60_000, date(2022, 1, 1), rng,
                                                  references=POLICIES)]
    for slug in POLICIES:
        commits += [(eff, f"{slug}.md", text)
                    for eff, text in versioned_history(slug, 5, 12_000, date(2022, 2, 1), rng)]
    commits.sort(key=lambda c: (c[0], c[1]))
    return [(datetime.combine(eff, datetime.min.time()) - timedelta(days=30), {path: text})
            for eff, path, text in commits]


def translated(text: str, language: str) -> str:
    """``text`` as its translation into ``language`` would be written: the front matter of a
    translation (its effective date, its own title and summary), each word of its prose changed
    (links and headings' numbers kept, so that the texts keep their structure)."""
    front, _, body = text.partition("\n---\n")
    effective = next(line for line in front.splitlines() if line.startswith("effective:"))
    head = f"---\ntitle: {language} text\n{effective}\nsummary: Version ({language}).\n---\n"
    lines = [line if "](" in line else re.sub(r"\b([a-z]{3,})\b", rf"\1{language}", line)
             for line in body.split("\n")]
    return head + "\n".join(lines)


def with_translations(commits: list[tuple[datetime, dict[str, str]]],
                      languages: tuple[str, ...]) -> list[tuple[datetime, dict[str, str]]]:
    """``commits`` with each document's text in each of ``languages`` committed beside it."""
    return [(when, {**files, **{path.replace(".md", f".{language}.md"): translated(text, language)
                                for path, text in files.items() for language in languages}})
            for when, files in commits]


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def compare_time(repo: Path) -> tuple[float, int]:
    """Seconds the change engine takes, in this process and on one CPU, for every pair the
    site shows a diff of: what a cold build cannot avoid."""
    import terms
    from site_builder.pages import diff_pairs

    content = terms.load(repo)
    at = date.fromisoformat(BUILD_DATE)
    pairs = {pair for d in content.documents.values()
             for pair in [*zip(d.versions, d.versions[1:]), *diff_pairs(d, at)]}
    start = time.perf_counter()
    for old, new in pairs:
        terms.compare(old, new)
    return time.perf_counter() - start, len(pairs)


def mkdocs_project(folder: Path, commits: list[tuple[datetime, dict[str, str]]]) -> None:
    """The 30 versions of the Terms as 30 pages of a default MkDocs site."""
    docs = folder / "docs"
    docs.mkdir(parents=True)
    texts = [files["terms.md"] for _, files in commits if "terms.md" in files]
    for number, text in enumerate(texts, start=1):
        (docs / f"version-{number:02d}.md").write_text(text.split("\n---\n", 1)[1], encoding="utf-8")
    (docs / "index.md").write_text("# Terms of Use\n\nEvery version.\n", encoding="utf-8")
    (folder / "mkdocs.yml").write_text("site_name: Terms\n", encoding="utf-8")


def languages_case() -> None:
    """A cold build in English, French and German beside the same history built in English alone."""
    termsledger = shutil.which("termsledger")
    if not termsledger:
        sys.exit("needs the termsledger command: pip install -e .")
    commits = history(random.Random(4))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fast_import(tmp / "one", commits)
        fast_import(tmp / "three", with_translations(commits, ("fr", "de")))
        (tmp / "three" / "termsledger.toml").write_text('[site]\nlanguages = ["en", "fr", "de"]\n')
        one, three = [], []
        for run in range(RUNS):  # interleaved, so that both see the same machine load
            for repo, times in (("one", one), ("three", three)):
                times.append(timed([termsledger, "build", "--content", str(tmp / repo), "--date", BUILD_DATE,
                                    "--out", str(tmp / f"{repo}-{run}")], tmp))
        pages = [sum(1 for _ in (tmp / f"{repo}-0").rglob("*.html")) for repo in ("one", "three")]
    one_s, three_s = statistics.median(one), statistics.median(three)
    print(f"termsledger build, cold, English only:     {one_s:.2f} s median of {RUNS}; {pages[0]} pages")
    print(f"termsledger build, cold, English+fr+de:    {three_s:.2f} s median of {RUNS}; {pages[1]} pages")
    print(f"ratio three languages / one: {three_s / one_s:.2f} (target < 3)")


def main() -> None:
    if sys.argv[1:] == ["languages"]:
        return languages_case()
    termsledger, mkdocs = shutil.which("termsledger"), shutil.which("mkdocs")
    if not termsledger or not mkdocs:
        sys.exit("needs the termsledger and mkdocs commands: pip install -e '.[bench]'")
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        commits = history(rng)
        fast_import(tmp / "repo", commits)
        build = [termsledger, "build", "--content", str(tmp / "repo"), "--date", BUILD_DATE, "--out"]

        cold = []
        for run in range(RUNS):
            cold.append(timed(build + [str(tmp / f"cold-{run}")], tmp))
        warm = [timed(build + [str(tmp / "cold-0")], tmp) for _ in range(RUNS)]
        pages = sum(1 for _ in (tmp / "cold-0").rglob("*.html"))

        compare_s = compare_time(tmp / "repo")
        mkdocs_project(tmp / "mk", commits)
        reference = []
        for run in range(RUNS):
            reference.append(timed([mkdocs, "build", "-q", "-d", str(tmp / f"mk-site-{run}")], tmp / "mk"))

    cold_s, warm_s, mk_s = (statistics.median(t) for t in (cold, warm, reference))
    print(f"termsledger build, cold:      {cold_s:.2f} s median of {RUNS} (target < 2 s); {pages} pages")
    print(f"termsledger build, unchanged: {warm_s:.2f} s median of {RUNS} (target < 0.5 s)")
    print(f"  of which terms.compare of the {compare_s[1]} pairs with diff pages, serially in-process: "
          f"{compare_s[0]:.2f} s")
    print(f"mkdocs build, 30 pages:       {mk_s:.2f} s median of {RUNS}")
    print(f"ratio termsledger cold / mkdocs: {cold_s / mk_s:.2f}")
    languages_case()


if __name__ == "__main__":
    main()
