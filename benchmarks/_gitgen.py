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


def adopted_text(rng: random.Random, title: str, sections: int, size: int, first: int = 1) -> list[str]:
    """The blocks of a policy as published sites write them, without front matter: a setext
    title, then ``sections`` sections (numbered from ``first``) of about ``size`` bytes in all,
    with ATX headings, paragraphs that use bold and links to other sections, bullet lists, and
    now and then a hard line break."""
    per_section = max(size // sections, 100)
    blocks = [f"{title}\n{'=' * len(title)}\n"]
    for number in range(first, first + sections):
        body = []
        while sum(len(b) for b in body) < per_section:
            kind = rng.random()
            if kind < 0.2:
                body.append("\n".join(f"- **{rng.choice(WORDS).title()}**: {paragraph(rng, 12)}"
                                      for _ in range(rng.randint(2, 5))))
            elif kind < 0.3:
                body.append(f"{paragraph(rng, 15)}  \n{paragraph(rng, 15)}")
            else:
                text = paragraph(rng, rng.randint(30, 90))
                words = text.split(" ")
                spot = rng.randrange(1, len(words) - 1)
                words[spot] = (f"[{words[spot]}](#section-{rng.randint(1, 20)})" if rng.random() < 0.5
                               else f"**{words[spot]}**")
                body.append(" ".join(words))
        blocks.append(f"## {number}. Section {number}\n\n" + "\n\n".join(body) + "\n")
    return blocks


def adopted_history(title: str, versions: int, size: int, start: date, rng: random.Random,
                    days: int = 60) -> list[tuple[datetime, str]]:
    """``versions`` texts of one document without front matter, dated by their commits (about
    ``days`` apart), the first of about ``size`` bytes: each changes its "Last updated" line and
    1 to 8 sections, and now and then adds a section (the text about doubles over its history)
    or removes one."""
    blocks = adopted_text(rng, title, 36, size * 4 // 5)
    added = 36
    out = []
    when = datetime.combine(start, datetime.min.time())
    for index in range(versions):
        if index:
            for position in rng.sample(range(1, len(blocks)), rng.choice((1, 2, 3, 5, 8))):
                words = blocks[position].split(" ")
                spot = rng.randrange(4, len(words))
                words[spot:spot + rng.randint(0, 6)] = paragraph(rng, rng.randint(3, 25)).split(" ")
                blocks[position] = " ".join(words).rstrip("\n") + "\n"
            if rng.random() < 0.3:
                added += 1
                new = adopted_text(rng, title, 1, size // 30, added)[1]
                blocks.insert(rng.randrange(2, len(blocks)), new)
            elif rng.random() < 0.1:  # never sections 1 to 20, which others link to
                blocks.remove(rng.choice([b for b in blocks[1:] if int(b[3:].split(".")[0]) > 20]))
        when += timedelta(days=days + rng.randint(-20, 20))
        updated = f"_Last updated: {when:%B} {when.day}, {when.year}_\n"
        out.append((when, "\n".join([blocks[0], updated, *blocks[1:]])))
    return out
