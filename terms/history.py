"""Read the revisions of the files of a content folder from git history.

History is read with a constant number of git processes whatever its length: one ``git
rev-parse`` for the repository, one ``git log`` for the list of changes and one ``git
cat-file`` for the file contents, run directly. Anything unusual (no repository, no commit
yet, a damaged object…) is read again through GitPython, imported only then (it takes
longer to import than the history takes to read), which names what is wrong.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .errors import ContentError
from .files import MAX_DOCUMENT_BYTES, MAX_FILE_BYTES, file_problem, read_file, size_text
from .model import Problem

if TYPE_CHECKING:
    import git

_REGULAR_MODES = (0o100644, 0o100755)
_Chain = list[tuple[str, str, str, datetime]]
"""A file's revisions in git: ``(path, blob, commit, committed_at)``, oldest first."""


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

    @property
    def written_at(self) -> datetime:
        """When the text was written: the commit's time, else the file's modification time."""
        at = self.committed_at or self.modified_at
        if at is None:  # every revision read has one of the two
            raise ValueError(f"revision of {self.path} has neither a commit nor a modification time")
        return at


def matches(path: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    """True if ``path`` (relative, POSIX) matches one of ``include`` and none of ``exclude``."""
    name = PurePosixPath(path).name

    def hit(patterns: tuple[str, ...]) -> bool:
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(name, p) for p in patterns)

    return hit(include) and not hit(exclude)


def working_files(root: Path, include: tuple[str, ...],
                  exclude: tuple[str, ...]) -> tuple[list[str], list[Problem]]:
    """The regular files under ``root`` selected by the globs, as sorted relative POSIX paths,
    and a problem for each one left out: a symbolic link (to a file or a folder), a file name
    that is not UTF-8, a file too large to be a document. Hidden files and folders are skipped."""
    found, problems = [], []
    for folder, folders, names in os.walk(root):
        base = Path(folder).relative_to(root)
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in folders:
            if (root / base / name).is_symlink():
                rel = (base / name).as_posix()
                problems.append(Problem(_shown(rel), 1, "warning",
                                        f"{_shown(rel)} is a symbolic link to a folder: the documents in it "
                                        f"are left out (links are never followed: put the folder itself "
                                        f"there)"))
        for name in names:
            rel = (base / name).as_posix()
            if name.startswith(".") or not matches(rel, include, exclude):
                continue
            problem = file_problem(root, rel, MAX_DOCUMENT_BYTES) if _utf8(rel) else \
                "the file name is not valid UTF-8: rename it"
            if problem is None:
                found.append(rel)
            else:
                problems.append(Problem(_shown(rel), 1, "error", f"{problem}; this document is left out"))
    return sorted(found), problems


def _utf8(rel: str) -> bool:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(rel: str) -> str:
    """A path that is not valid UTF-8, shown with its bytes escaped."""
    return os.fsencode(rel).decode("utf-8", errors="backslashreplace")


def open_repo(root: Path) -> git.Repo | None:
    """The git repository that contains ``root``, or ``None`` for a plain folder (or a
    repository without a commit yet). Raises :class:`ContentError` when the repository's
    current commit cannot be read."""
    import git

    root = root.resolve()
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except git.NoSuchPathError:
        return None
    except git.InvalidGitRepositoryError:
        repo = None
    # a repository that is not bare works in its working tree
    top = Path(repo.working_dir).resolve() if repo is not None and not repo.bare else None
    _no_other_repository(root, top)
    if repo is None or top is None:
        return None
    try:
        head = repo.git.rev_parse("--verify", "--quiet", "HEAD")
    except git.GitCommandError:
        return None  # no commit yet
    try:
        repo.git.cat_file("-e", f"{head}^{{tree}}")
    except git.GitCommandError as error:
        raise ContentError(_damaged(repo, error, "the current commit", head)) from None
    return repo


def _no_other_repository(root: Path, top: Path | None) -> None:
    """Raise :class:`ContentError` when a folder from ``root`` up to the top of its repository
    ``top`` (or up to ``/`` without one) holds a ``.git`` that is not that repository."""
    for folder in (root, *root.parents):
        if folder == top:
            break
        if os.path.lexists(folder / ".git"):
            raise ContentError(f"{folder / '.git'} is not a git repository git can read: repair it, or "
                               f"remove it to read the folder without its history")


def file_histories(root: Path, include: tuple[str, ...],
                   exclude: tuple[str, ...]) -> tuple[dict[str, list[Revision]], list[Problem]]:
    """Map each file now in ``root`` to its revisions, oldest first, following renames; and
    the problems of the files and revisions left out.

    Outside git each file has a single revision. In git, each commit of the first-parent
    history that changed the file is a revision, as long as it was a regular file there
    (never a symbolic link), and uncommitted changes in the working tree are a last revision
    with ``commit=None``. Raises :class:`ContentError` when git cannot read the history.
    """
    root = root.resolve()
    current, problems = working_files(root, include, exclude)
    read = _read_directly(root, current, include, exclude)
    if read is None:  # unusual: read through GitPython, which names what is wrong
        repo = open_repo(root)
        if repo is None:
            return {rel: [_working(root, rel, in_git=False)] for rel in current}, problems
        top = Path(repo.working_dir).resolve()  # not bare: see open_repo
        chains = _chains(partial(_log, repo), _prefix(root, top))
        wanted = _wanted(chains, current, include, exclude)
        blobs = {sha: _read_blob(repo, sha, what) for sha, what in wanted.items()}
    else:
        chains, blobs = read
    histories = {}
    for rel in current:
        revisions = []
        for path, blob, commit, at in chains.get(rel, []):
            if matches(path, include, exclude):
                data = blobs[blob]
                if data is None:
                    problems.append(Problem(rel, 1, "warning",
                                            f"the text of {path} in commit {commit[:10]} is larger than "
                                            f"{size_text(MAX_DOCUMENT_BYTES)}, so that revision is left out"))
                else:
                    revisions.append(Revision(path, data, commit, at))
        working = _working(root, rel, in_git=True)
        if not revisions or revisions[-1].data != working.data:
            revisions.append(working)
        histories[rel] = revisions
    return histories, problems


def _working(root: Path, rel: str, in_git: bool) -> Revision:
    """The text of ``rel`` in the working tree, dated by the file's modification time (to the
    second, like commits), so that loading the same files twice gives the same versions."""
    path = root / rel
    modified = datetime.fromtimestamp(int(path.lstat().st_mtime), timezone.utc)
    data = read_file(root, rel, MAX_DOCUMENT_BYTES)
    if data is None:
        raise ContentError(f"{path} changed while it was read")
    return Revision(rel, data, None, modified if in_git else None, modified)


def _read_blob(repo: git.Repo, sha: str, what: str, limit: int = MAX_DOCUMENT_BYTES) -> bytes | None:
    """The bytes of the blob ``sha`` (``what`` it is, for errors), ``None`` when larger than ``limit``.
    Raises :class:`ContentError` when git cannot read it."""
    import git

    try:
        stream = repo.odb.stream(bytes.fromhex(sha))
        if stream.size > limit:
            while stream.read(2**20):
                pass
            return None
        data: bytes = stream.read()
        return data
    except (ValueError, git.GitError) as error:
        raise ContentError(_damaged(repo, error, what, sha)) from None


def committed_file(repo: git.Repo, commit: str, path: str, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """The bytes of the file at ``path`` (from the top of the repository) as of ``commit``, if it
    is a regular file there of at most ``limit`` bytes (a symbolic link is not a file: it is
    ``None``, as is a path the commit does not have). Raises :class:`ContentError` when git
    cannot read it."""
    import git

    try:
        blob = repo.commit(commit).tree / path
    except KeyError:
        return None
    except (ValueError, git.GitError) as error:
        raise ContentError(_damaged(repo, error, f"commit {commit[:10]}")) from None
    if blob.type != "blob" or blob.mode not in _REGULAR_MODES:
        return None
    return _read_blob(repo, blob.hexsha, f"{path} in commit {commit[:10]}", limit)


def _damaged(repo: git.Repo, error: Exception, what: str, sha: str | None = None) -> str:
    """The error for a repository git cannot read: ``what`` (the object ``sha``) could not be
    read, and git's own words, which name the damaged file."""
    import git

    if sha and not isinstance(error, git.GitCommandError):
        try:  # the object store said "missing": ask git for its reasons
            repo.git.cat_file("-t", sha)
        except git.GitCommandError as detail:
            error = detail
    said = str(getattr(error, "stderr", "") or "").strip().removeprefix("stderr:").strip().strip("'")
    reason = "; ".join(dict.fromkeys(line.strip() for line in said.splitlines() if line.strip())) \
        or "git finds it missing or corrupt"
    where = what
    if sha:
        loose = Path(repo.git_dir) / "objects" / sha[:2] / sha[2:]
        where = f"{what}: object {sha} ({'file ' + str(loose) if loose.exists() else 'in a pack file'})"
    return (f"the git repository {repo.working_tree_dir} is damaged: cannot read {where}: {reason}. "
            f"'git fsck' lists what is damaged; clone the repository again")


def _prefix(root: Path, top: Path) -> str:
    """The content folder ``root`` in the repository whose working tree is ``top``: ``""`` or ``folder/``."""
    prefix = root.relative_to(top).as_posix()
    return "" if prefix == "." else prefix + "/"


def _wanted(chains: dict[str, _Chain], current: list[str], include: tuple[str, ...],
            exclude: tuple[str, ...]) -> dict[str, str]:
    """The blobs of the revisions :func:`file_histories` reads, each with what it is (for errors)."""
    return {blob: f"{path} in commit {commit[:10]}" for rel in current
            for path, blob, commit, _ in chains.get(rel, []) if matches(path, include, exclude)}


def _read_directly(root: Path, current: list[str], include: tuple[str, ...], exclude: tuple[str, ...]
                   ) -> tuple[dict[str, _Chain], dict[str, bytes | None]] | None:
    """The chains of the ``current`` files of ``root`` (see :func:`_chains`) and the bytes of
    the blobs of their revisions (``None`` when larger than :data:`MAX_DOCUMENT_BYTES`), read by
    running git directly; ``None`` when ``root`` is not plainly in the working tree of a
    repository with a commit whose objects git reads without a complaint."""
    try:
        found = _git(root, "rev-parse", "--is-bare-repository", "--show-toplevel", "--verify", "HEAD^{tree}")
        bare, top_text, tree = found.decode("utf-8", "surrogateescape").split("\n")
        if bare != "false":
            return None
        top = Path(top_text).resolve()
        _no_other_repository(root, top)
        chains = _chains(lambda *args: _git(top, "log", *args).decode("utf-8", "surrogateescape"),
                         _prefix(root, top))
        wanted = list(_wanted(chains, current, include, exclude))
        blobs = _cat_files(top, [tree, *wanted])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    if blobs is None:
        return None
    return chains, dict(zip(wanted, blobs[1:], strict=True))


def tracked(root: Path, path: Path) -> bool:
    """Whether git tracks ``path`` (a file, a symbolic link, or any file in a folder) in the
    repository of the content folder ``root``, with one ``git ls-files``: a symbolic link at
    ``path`` counts as itself, never followed. ``False`` outside git, and for a ``path``
    outside the repository."""
    absolute = Path(os.path.abspath(path))
    try:
        return bool(_git(root, "--literal-pathspecs", "ls-files", "-z", "--",
                         str(absolute.parent.resolve() / absolute.name)))
    except (OSError, ValueError, subprocess.SubprocessError):
        return False


def _log(repo: git.Repo, *args: str) -> str:
    """``git log args`` through GitPython; raises :class:`ContentError` naming what is damaged."""
    import git

    try:
        output: str = repo.git.log(*args)
    except git.GitCommandError as error:
        raise ContentError(_damaged(repo, error, "the history")) from None
    return output


def _git(folder: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """The output of ``git args`` run in ``folder`` (its last newline left out), as GitPython
    runs it; raises :class:`subprocess.CalledProcessError` when it fails."""
    env = {**os.environ, "LANGUAGE": "C", "LC_ALL": "C"}
    output = subprocess.run([os.environ.get("GIT_PYTHON_GIT_EXECUTABLE", "git"), *args], cwd=folder, env=env,
                            input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                            capture_output=True, check=True).stdout
    return output[:-1] if output.endswith(b"\n") else output


def _cat_files(top: Path, shas: list[str]) -> list[bytes | None] | None:
    """The bytes of each object of ``shas`` in the repository of ``top`` (``None`` for one
    larger than :data:`MAX_DOCUMENT_BYTES`, which is never read): their sizes from one ``git
    cat-file --batch-check``, then the others' bytes from one ``git cat-file --batch``; ``None``
    when git reports one missing or stops."""
    sizes: dict[str, int] = {}
    for line in _git(top, "cat-file", "--batch-check", stdin=_lines(shas)).split(b"\n"):
        fields = line.decode().split(" ")
        if len(fields) != 3:
            return None  # "<sha> missing", or git stopped
        sizes[fields[0]] = int(fields[2])
    if any(sha not in sizes for sha in shas):
        return None
    small = [sha for sha in dict.fromkeys(shas) if sizes[sha] <= MAX_DOCUMENT_BYTES]
    output = _git(top, "cat-file", "--batch", stdin=_lines(small)) if small else b""
    read: dict[str, bytes] = {}
    at = 0
    for sha in small:
        end = output.find(b"\n", at)
        header = output[at:end].split()
        if end < 0 or len(header) != 3 or header[0].decode() != sha or int(header[2]) != sizes[sha]:
            return None  # git stopped, or the object changed between the two
        at = end + 1 + sizes[sha] + 1
        if at > len(output) + 1:  # the last newline is left out
            return None
        read[sha] = output[end + 1:at - 1]
    return [read.get(sha) for sha in shas]


def _lines(shas: list[str]) -> bytes:
    return "".join(f"{sha}\n" for sha in shas).encode()


def _chains(log: Callable[..., str], prefix: str) -> dict[str, _Chain]:
    """Map each path under ``prefix`` that exists at HEAD or was deleted to its chain of
    ``(path, blob, commit, committed_at)``, renames followed, from ``log`` (which runs ``git
    log`` with the arguments it is given); a path deleted and added again keeps one chain."""
    output = log("--topo-order", "--reverse", "--first-parent", "--diff-merges=first-parent",
                 "--raw", "--no-abbrev", "-M", "-z", "--format=%x01%H %ct", "--", prefix or ".")
    chains: dict[str, _Chain] = {}
    deleted: dict[str, _Chain] = {}  # chains of deleted paths, continued if a path is added again
    tokens = iter(output.split("\0"))
    commit, at = "", datetime.fromtimestamp(0, timezone.utc)  # set by each commit's line, which comes first
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
            if int(meta[1], 8) in _REGULAR_MODES:  # a symbolic link (120000) is not a text
                chain.append((path, blob, commit, at))
            chains[path] = chain
    return {path[len(prefix):]: [(p[len(prefix):], b, c, t) for p, b, c, t in chain]
            for path, chain in (deleted | chains).items() if path.startswith(prefix)}
