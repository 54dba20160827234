"""Benchmark: ``termsledger build`` against ``mkdocs build`` of the same texts (issues 4 and 12).

Two generated git repositories, each built as a whole process (``termsledger build``) and
beside ``mkdocs build`` of the same versions as pages of a default MkDocs site, in the same run:

- *history*: a 30-version, 60 KB Terms of Use that references five policies of 5 versions each
  (161 pages, 92 of them redlines). Targets: a cold build (empty output folder) faster than
  mkdocs; a rebuild with nothing changed under 0.3 s; a rebuild after one new version of the
  Terms under 0.6 s, whether it is announced (one new pair to compare) or in force (every
  version gets a diff to it: 30 new pairs). mkdocs rebuilds with ``--dirty`` beside those.
- *real size*: a Terms of Use of 27 versions and a Privacy Policy of 42, without front matter
  (dated by their commits), about 1.5 MB of Markdown in all (135 diff pages). Targets: cold
  under 2 s, unchanged under 0.3 s.

- *languages* (issue 16): every version of *history* with a French and a German text
  (``terms.fr.md``…, translated word by word so that each text is its own), built in the three
  languages beside the same history in English alone: target, under 3 times as long.

Medians of ``RUNS`` runs, the runs of termsledger and mkdocs interleaved so that both see the
same load; CPU time (user + system, worker processes included) beside each. termsledger's
bytecode is written first, as an installed package has it (see :func:`compiled`).

    python benchmarks/bench_site.py                      # every case
    python benchmarks/bench_site.py languages            # the languages case alone
    python benchmarks/bench_site.py history --runs 3     # fewer runs, while iterating
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _gitgen import adopted_history, fast_import, front_matter, versioned_history

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


def new_version(commits: list[tuple[datetime, dict[str, str]]],
                effective: date) -> tuple[datetime, dict[str, str]]:
    """A 31st version of the Terms, effective on ``effective``: the last one with a section added."""
    last = next(files["terms.md"] for _, files in reversed(commits) if "terms.md" in files)
    text = front_matter("terms", effective, POLICIES) + last.split("\n---\n\n# Terms\n\n", 1)[1]
    return (datetime.combine(effective, datetime.min.time()) - timedelta(days=30),
            {"terms.md": text + "\n## 41. Notices\n\nWe write to you before any change.\n"})


def real_size(rng: random.Random) -> list[tuple[datetime, dict[str, str]]]:
    """The commits of a Terms of Use (27 versions) and a Privacy Policy (42), without front matter."""
    terms = adopted_history("Terms of Use", 27, 7000, date(2019, 1, 1), rng)
    privacy = adopted_history("Privacy Policy", 42, 9000, date(2018, 6, 1), rng)
    return sorted([(when, {"terms-of-use.md": text}) for when, text in terms]
                  + [(when, {"privacy-policy.md": text}) for when, text in privacy], key=lambda c: c[0])


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


def mkdocs_project(folder: Path, texts: list[str]) -> None:
    """``texts`` (front matter left out) as the pages of a default MkDocs site."""
    docs = folder / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for number, text in enumerate(texts, start=1):
        body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
        (docs / f"version-{number:02d}.md").write_text(body, encoding="utf-8")
    (docs / "index.md").write_text("# Terms\n\nEvery version.\n", encoding="utf-8")
    (folder / "mkdocs.yml").write_text("site_name: Terms\n", encoding="utf-8")


def installed(name: str) -> str | None:
    """The script ``name`` that pip installed beside this Python, else the one on ``PATH``: a
    version manager's shim (pyenv's is a shell script that runs ``pyenv exec``) would add its
    own start-up, about 0.07 s, to every build measured."""
    script = Path(sys.executable).parent / name
    return str(script) if script.is_file() and os.access(script, os.X_OK) else shutil.which(name)


def compiled() -> None:
    """Write the bytecode of the packages the ``termsledger`` command imports, as installing a
    package does (``pip install`` compiles it; mkdocs's is compiled): in an editable install run
    under ``PYTHONDONTWRITEBYTECODE`` no build writes it, and every build would compile each module
    of termsledger from source first (about 0.1 s of CPU that mkdocs does not pay)."""
    find = ("import importlib.util as u\n"
            "for p in ('terms', 'site_builder', 'termsledger', 'consent'):\n"
            "    print(*u.find_spec(p).submodule_search_locations)")
    folders = subprocess.run([sys.executable, "-P", "-c", find], check=True, capture_output=True,
                             text=True).stdout.splitlines()
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True,
                   stdout=subprocess.DEVNULL)


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (its processes' user + system) of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def report(name: str, ours: list[tuple[float, float]], target: str, baseline: list[tuple[float, float]],
           baseline_name: str) -> None:
    """Medians of ``ours`` and ``baseline`` (wall-clock and CPU seconds), their ratio, and every run."""
    wall, cpu = (statistics.median(t[i] for t in ours) for i in (0, 1))
    base_wall, base_cpu = (statistics.median(t[i] for t in baseline) for i in (0, 1))
    print(f"  {name:34s} {wall:5.2f} s (cpu {cpu:4.2f} s) {target:14s} {baseline_name} {base_wall:5.2f} s "
          f"(cpu {base_cpu:4.2f} s)   ratio {wall / base_wall:.2f}")
    print(f"  {'':34s} runs: {' '.join(f'{t[0]:.2f}' for t in ours)};  {baseline_name.split()[0]}: "
          f"{' '.join(f'{t[0]:.2f}' for t in baseline)}")


def into(folder: Path) -> list[str]:
    """The options of a build into ``folder`` with a cache of its own beside it (one cache
    shared by all the builds would make every build after the first a warm one)."""
    return ["--out", str(folder), "--cache-dir", str(folder.with_name(folder.name + ".cache"))]


def copy_site(source: Path, target: Path) -> None:
    """A copy of a built site and of its cache (see :func:`into`), files' modification times
    kept (as the build cache records them)."""
    for suffix in ("", ".cache"):
        shutil.rmtree(target.with_name(target.name + suffix), ignore_errors=True)
        shutil.copytree(source.with_name(source.name + suffix), target.with_name(target.name + suffix))


def bench_history(tmp: Path, termsledger: str, mkdocs: str) -> None:
    commits = history(random.Random(4))
    build = [termsledger, "build", "--date", BUILD_DATE, "--content"]
    repos = {"history": commits, "announced": [*commits, new_version(commits, date(2026, 1, 20))],
             "in force": [*commits, new_version(commits, date(2025, 12, 1))]}
    for name, repo_commits in repos.items():
        fast_import(tmp / name, repo_commits)
    texts = [files["terms.md"] for _, files in commits if "terms.md" in files]
    mkdocs_project(tmp / "mk", texts)
    mkdocs_project(tmp / "mk-new", texts)
    cold, unchanged, mk_cold, mk_dirty = [], [], [], []
    new: dict[str, list[tuple[float, float]]] = {"announced": [], "in force": []}
    mk_new = []
    for run in range(RUNS):
        cold.append(timed(build + [str(tmp / "history"), *into(tmp / f"cold-{run}")], tmp))
        mk_cold.append(timed([mkdocs, "build", "-q", "-d", str(tmp / f"mk-site-{run}")], tmp / "mk"))
    for _ in range(RUNS):
        unchanged.append(timed(build + [str(tmp / "history"), *into(tmp / "cold-0")], tmp))
        mk_dirty.append(timed([mkdocs, "build", "-q", "--dirty", "-d", str(tmp / "mk-site-0")], tmp / "mk"))
    # The site before the new version, built into the folder the rebuilds use (a cache records
    # its output folder: a site copied elsewhere is rendered again), kept to start each run from.
    subprocess.run(build + [str(tmp / "history"), *into(tmp / "new")], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    copy_site(tmp / "new", tmp / "new-before")
    for _ in range(RUNS):
        for name in new:
            copy_site(tmp / "new-before", tmp / "new")
            new[name].append(timed(build + [str(tmp / name), *into(tmp / "new")], tmp))
        shutil.rmtree(tmp / "mk-new" / "docs" / "version-31.md", ignore_errors=True)
        shutil.rmtree(tmp / "mk-new-site", ignore_errors=True)
        shutil.copytree(tmp / "mk-site-0", tmp / "mk-new-site")
        page = tmp / "mk-new" / "docs" / "version-31.md"
        page.write_text(texts[-1] + "\nA new section.\n", encoding="utf-8")
        mk_new.append(timed([mkdocs, "build", "-q", "--dirty", "-d", str(tmp / "mk-new-site")],
                            page.parents[1]))
    pages = sum(1 for _ in (tmp / "cold-0").rglob("*.html"))
    print(f"history: 30 versions of a 60 KB Terms and 5 policies of 5 versions; {pages} pages, "
          f"mkdocs 31 pages (medians of {RUNS})")
    report("cold build", cold, "(< mkdocs)", mk_cold, "mkdocs build        ")
    report("rebuild, nothing changed", unchanged, "(< 0.3 s)", mk_dirty, "mkdocs build --dirty")
    report("rebuild, new version announced", new["announced"], "(< 0.6 s)", mk_new, "mkdocs --dirty +page")
    report("rebuild, new version in force", new["in force"], "(< 0.6 s)", mk_new, "mkdocs --dirty +page")


def bench_real_size(tmp: Path, termsledger: str, mkdocs: str) -> None:
    commits = real_size(random.Random(7))
    fast_import(tmp / "real", commits)
    texts = [text for _, files in commits for text in files.values()]
    mkdocs_project(tmp / "mk-real", texts)
    build = [termsledger, "build", "--date", BUILD_DATE, "--content", str(tmp / "real")]
    cold, unchanged, mk_cold, mk_dirty = [], [], [], []
    for run in range(RUNS):
        cold.append(timed(build + into(tmp / f"real-{run}"), tmp))
        mk_cold.append(timed([mkdocs, "build", "-q", "-d", str(tmp / f"mk-real-{run}")], tmp / "mk-real"))
    for _ in range(RUNS):
        unchanged.append(timed(build + into(tmp / "real-0"), tmp))
        mk_dirty.append(timed([mkdocs, "build", "-q", "--dirty", "-d", str(tmp / "mk-real-0")],
                              tmp / "mk-real"))
    diffs = sum(1 for _ in (tmp / "real-0").glob("*/diff/*/index.html"))
    size = sum(len(text.encode()) for text in texts)
    print(f"real size: Terms of Use of 27 versions, Privacy Policy of 42, no front matter, "
          f"{size / 1e6:.2f} MB of Markdown; {diffs} diff pages, mkdocs {len(texts) + 1} pages")
    report("cold build", cold, "(< 2 s)", mk_cold, "mkdocs build        ")
    report("rebuild, nothing changed", unchanged, "(< 0.3 s)", mk_dirty, "mkdocs build --dirty")


def bench_languages(tmp: Path, termsledger: str) -> None:
    """A cold build in English, French and German beside the same history built in English alone."""
    commits = history(random.Random(4))
    fast_import(tmp / "one", commits)
    fast_import(tmp / "three", with_translations(commits, ("fr", "de")))
    (tmp / "three" / "termsledger.toml").write_text('[site]\nlanguages = ["en", "fr", "de"]\n')
    one: list[tuple[float, float]] = []
    three: list[tuple[float, float]] = []
    for run in range(RUNS):  # interleaved, so that both see the same machine load
        for repo, times in (("one", one), ("three", three)):
            times.append(timed([termsledger, "build", "--content", str(tmp / repo), "--date", BUILD_DATE,
                                *into(tmp / f"{repo}-{run}")], tmp))
    pages = [sum(1 for _ in (tmp / f"{repo}-0").rglob("*.html")) for repo in ("one", "three")]
    print(f"languages: the history in English alone ({pages[0]} pages), and in English, French and German "
          f"({pages[1]} pages)")
    report("cold build, three languages", three, "(< 3 x one)", one, "one language        ")


def main() -> None:
    global RUNS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    every = ["history", "real", "languages"]
    parser.add_argument("cases", nargs="*", help=f"the cases to run, of {', '.join(every)} (default: all)")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs of each build (default {RUNS})")
    options = parser.parse_args()
    if set(options.cases) - set(every):
        parser.error(f"no such case: {', '.join(sorted(set(options.cases) - set(every)))}")
    RUNS = options.runs
    cases = options.cases or every
    termsledger, mkdocs = installed("termsledger"), installed("mkdocs")
    if not termsledger or not mkdocs:
        sys.exit("needs the termsledger and mkdocs commands: pip install -e '.[bench]'")
    compiled()
    with tempfile.TemporaryDirectory() as tmp:
        if "history" in cases:
            bench_history(Path(tmp), termsledger, mkdocs)
        if "real" in cases:
            bench_real_size(Path(tmp), termsledger, mkdocs)
        if "languages" in cases:
            bench_languages(Path(tmp), termsledger)


if __name__ == "__main__":
    main()
