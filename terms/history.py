"""Read the revisions of the files of a content folder from git history.

History is read with a constant number of git processes whatever its length:
one ``git log`` for the list of changes and one persistent ``git cat-file``
for the file contents.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import git


@dataclass(frozen=True)
class Revision:
    """One state of one file: its bytes at a commit, or in the working tree."""

    path: str
    """Path relative to the content folder, POSIX style."""
    data: bytes
    commit: str | None
    """The commit the bytes were read from; ``None`` for the working tree or a plain folder."""
    committed_at: datetime | None
    """UTC time of the commit; for uncommitted changes in git, :attr:`modified_at`; ``None``
    outside git."""
    modified_at: datetime | None = None
    """UTC modification time of the file, for text read from the working tree or a plain folder."""


def matches(path: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    """True if ``path`` (relative, POSIX) matches one of ``include`` and none of ``exclude``."""
    name = PurePosixPath(path).name

    def hit(patterns):
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(name, p) for p in patterns)

    return hit(include) and not hit(exclude)


def working_files(root: Path, include: tuple[str, ...], exclude: tuple[str, ...]) -> list[str]:
    """The files under ``root`` selected by the globs, as sorted relative POSIX paths."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in PurePosixPath(rel).parts):
            if matches(rel, include, exclude):
                found.append(rel)
    return sorted(found)


def open_repo(root: Path) -> git.Repo | None:
    """The git repository that contains ``root``, or ``None`` for a plain folder."""
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if repo.bare or not repo.head.is_valid():
        return None
    return repo


def file_histories(root: Path, include: tuple[str, ...], exclude: tuple[str, ...]) -> dict[str, list[Revision]]:
    """Map each file now in ``root`` to its revisions, oldest first, following renames.

    Outside git each file has a single revision. In git, each commit of the
    first-parent history that changed the file is a revision, and uncommitted
    changes in the working tree are a last revision with ``commit=None``.
    """
    root = root.resolve()
    current = working_files(root, include, exclude)
    repo = open_repo(root)
    if repo is None:
        return {rel: [_working(root, rel, in_git=False)] for rel in current}
    top = Path(repo.working_tree_dir).resolve()
    prefix = root.relative_to(top).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    chains = _chains(repo, prefix)
    histories = {}
    for rel in current:
        revisions = [
            Revision(path, _read_blob(repo, blob), commit, at)
            for path, blob, commit, at in chains.get(rel, [])
            if matches(path, include, exclude)
        ]
        working = _working(root, rel, in_git=True)
        if not revisions or revisions[-1].data != working.data:
            revisions.append(working)
        histories[rel] = revisions
    return histories


def _working(root: Path, rel: str, in_git: bool) -> Revision:
    """The text of ``rel`` in the working tree, dated by the file's modification time (to the
    second, like commits), so that loading the same files twice gives the same versions."""
    path = root / rel
    modified = datetime.fromtimestamp(int(path.stat().st_mtime), timezone.utc)
    return Revision(rel, path.read_bytes(), None, modified if in_git else None, modified)


def _read_blob(repo: git.Repo, sha: str) -> bytes:
    return repo.odb.stream(bytes.fromhex(sha)).read()


def _chains(repo: git.Repo, prefix: str) -> dict[str, list[tuple[str, str, str, datetime]]]:
    """Map each path under ``prefix`` that exists at HEAD or was deleted to its chain of
    ``(path, blob, commit, committed_at)``, renames followed; a path deleted and added again
    keeps one chain."""
    output = repo.git.log(
        "--topo-order", "--reverse", "--first-parent", "--diff-merges=first-parent",
        "--raw", "--no-abbrev", "-M", "-z", "--format=%x01%H %ct", "--", prefix or ".",
    )
    chains: dict[str, list] = {}
    deleted: dict[str, list] = {}  # chains of deleted paths, continued if a path is added again
    tokens = iter(output.split("\0"))
    commit, at = "", None
    for token in tokens:
        token = token.lstrip("\n")
        if token.startswith("\x01"):
            commit, stamp = token[1:].split()
            at = datetime.fromtimestamp(int(stamp), timezone.utc)
        elif token.startswith(":"):
            meta = token.split()
            blob, status = meta[3], meta[4]
            path = next(tokens)
            if status[0] in "RC":
                old, path = path, next(tokens)
                chain = chains.pop(old, []) if status[0] == "R" else list(chains.get(old, []))
            elif status[0] == "A":
                chain = deleted.pop(path, [])
            else:
                chain = chains.pop(path, [])
            if status[0] == "D":
                deleted[path] = chain
                continue
            chain.append((path, blob, commit, at))
            chains[path] = chain
    return {path[len(prefix):]: [(p[len(prefix):], *rest) for p, *rest in chain]
            for path, chain in (deleted | chains).items() if path.startswith(prefix)}
