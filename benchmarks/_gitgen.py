"""Make large git histories quickly with ``git fast-import``, for the benchmarks."""

from __future__ import annotations

import random
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

WORDS = ("the user agrees that any refund fee service account content licence liability data may shall "
         "within days notice terminate suspend platform course learner instructor policy law").split()


def paragraph(rng: random.Random, words: int = 60) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def document_text(rng: random.Random, size: int, sections: int = 40) -> list[str]:
    """A list of sections of Markdown that add up to about ``size`` bytes."""
    per_section = max(size // sections, 200)
    out = []
    for number in range(1, sections + 1):
        body = []
        while sum(len(p) for p in body) < per_section:
            body.append(paragraph(rng))
        out.append(f"## {number}. Section {number}\n\n" + "\n\n".join(body) + "\n")
    return out


def front_matter(slug: str, effective: date, references=()) -> str:
    refs = f"references: [{', '.join(references)}]\n" if references else ""
    return (f"---\ntitle: {slug.title()}\nslug: {slug}\neffective: {effective}\n"
            f"summary: Version of {effective}.\nmaterial: false\n{refs}---\n\n# {slug.title()}\n\n")


def fast_import(repo: Path, commits: list[tuple[datetime, dict[str, str]]]) -> None:
    """Create ``repo`` with one commit per ``(when, {path: text})``, in order."""
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    stream = []
    for mark, (when, files) in enumerate(commits, start=1):
        stamp = int(when.replace(tzinfo=timezone.utc).timestamp())
        message = f"commit {mark}".encode()
        stream.append(f"commit refs/heads/main\nmark :{mark}\n"
                      f"committer Bench <bench@example.invalid> {stamp} +0000\n".encode())
        stream.append(f"data {len(message)}\n".encode() + message + b"\n")
        if mark > 1:
            stream.append(f"from :{mark - 1}\n".encode())
        for path, text in files.items():
            data = text.encode()
            stream.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(stream), check=True)
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=repo, check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=True)


def versioned_history(slug: str, versions: int, size: int, start: date, rng: random.Random,
                      touch: int = 5, references=()) -> list[tuple[date, str]]:
    """``versions`` texts of one document, each changing ``touch`` sections of the last."""
    sections = document_text(rng, size)
    out = []
    for index in range(versions):
        if index:
            for position in rng.sample(range(len(sections)), touch):
                sections[position] = sections[position].replace("the", "each", 2) + paragraph(rng, 20) + "\n"
        effective = start + timedelta(days=45 * index)
        out.append((effective, front_matter(slug, effective, references) + "\n".join(sections)))
    return out
