"""Write the files of a build into the output folder: only files whose bytes changed, never
outside the folder, and remove the files an earlier build wrote that this one did not (only
those still as that build left them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import InvalidPath, unwritable
from .status import NextChange


@dataclass(frozen=True, kw_only=True, slots=True)
class BuildReport:
    """What a build did to its output folder. Paths are relative to ``out_dir``, sorted."""

    out_dir: Path
    written: tuple[str, ...]
    """Files created or rewritten because their bytes changed."""
    unchanged: tuple[str, ...]
    """Files left alone because they already had the right bytes."""
    removed: tuple[str, ...] = ()
    """Files an earlier build wrote that this build no longer produces."""
    kept: tuple[str, ...] = ()
    """Files an earlier build wrote that this build no longer produces, left alone because they
    changed since (or are not those it wrote: see :meth:`Writer.remove`)."""
    next_change: NextChange | None = None
    """The next version to take effect after the build date: the day the site must be built again."""
    ignored_cache: Path | None = None
    """The build cache's folder when the build neither read nor wrote it, because git tracks
    files in it (see :mod:`site_builder.cache`)."""

    def __str__(self) -> str:
        text = f"{len(self.written)} files written, {len(self.unchanged)} unchanged"
        if self.removed:
            text += f", {len(self.removed)} removed"
        if self.kept:
            text += f", {len(self.kept)} left alone (changed since an earlier build)"
        return f"{text} in {self.out_dir}"


class Writer:
    """Writes files under ``out_dir`` and keeps the account for a :class:`BuildReport`."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.root = self.out_dir.resolve()
        self._written: set[str] = set()
        self._unchanged: set[str] = set()
        self._folders: dict[str, Path] = {"": self.root}
        """Each folder of the files met, relative, resolved (once: a page is a file in a folder
        of its own, inside folders shared by many)."""

    @property
    def produced(self) -> set[str]:
        """The files of this build so far, written or not."""
        return self._written | self._unchanged

    def path(self, rel: str) -> Path:
        """The absolute path of ``rel``; raises :class:`InvalidPath` if it leaves the folder."""
        parts = PurePosixPath(rel).parts
        if not rel or rel.startswith("/") or "\\" in rel or any(p in ("..", ".") for p in parts):
            raise InvalidPath(f"refusing to write {rel!r}: not a plain path inside the output folder")
        target = self._folder("/".join(parts[:-1])) / parts[-1]
        if target.is_symlink():
            target = target.resolve()
        if not target.is_relative_to(self.root):
            raise InvalidPath(f"refusing to write {rel!r}: it resolves outside {self.root}")
        return target

    def _folder(self, folder: str) -> Path:
        """The folder ``folder`` (relative, a plain path), resolved: its parent's, resolved
        once, and a symbolic link at its own name followed."""
        if (found := self._folders.get(folder)) is None:
            parent, _, name = folder.rpartition("/")
            found = self._folder(parent) / name
            if found.is_symlink():
                found = found.resolve()
            self._folders[folder] = found
        return found

    def write(self, rel: str, data: bytes) -> bool:
        """Write ``data`` to ``rel`` unless the file already holds exactly those bytes; returns
        whether it wrote."""
        target = self.path(rel)
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                self.account(rel, written=False)
                return False
        except OSError:
            pass
        temporary = target.with_name(f".{target.name}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(data)
            os.replace(temporary, target)
        except OSError as error:
            with suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise unwritable(error, target) from None
        self.account(rel, written=True)
        return True

    def account(self, rel: str, *, written: bool) -> None:
        """Count ``rel`` as written (or left unchanged) by this build: for a file that another
        process wrote with a copy of this writer."""
        (self._written if written else self._unchanged).add(rel)

    def stamp(self, rel: str) -> str | None:
        """``"size mtime_ns"`` of the file ``rel``, or ``None`` if there is none."""
        try:
            stat = self.path(rel).stat()
        except (OSError, InvalidPath):
            return None
        return f"{stat.st_size} {stat.st_mtime_ns}"

    def remove(self, files: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Delete those of ``files`` this build did not produce (and the folders they leave
        empty), but only those whose :meth:`stamp` is still the one ``files`` gives them (a
        forged manifest cannot name a file the build did not write); returns those removed and
        those left alone (there but changed), sorted."""
        produced = self.produced
        stamps = {rel: self.stamp(rel) for rel in sorted(files) if rel not in produced}
        removed = tuple(rel for rel, stamp in stamps.items() if stamp == files[rel])
        for rel in removed:
            target = self.path(rel)
            try:
                target.unlink(missing_ok=True)
                for parent in target.parents:
                    if parent == self.root or any(parent.iterdir()):
                        break
                    parent.rmdir()
            except OSError as error:
                raise unwritable(error, target) from None
        return removed, tuple(rel for rel, stamp in stamps.items() if stamp not in (None, files[rel]))

    def report(self, removed: tuple[str, ...] = (), kept: tuple[str, ...] = (),
               next_change: NextChange | None = None, ignored_cache: Path | None = None) -> BuildReport:
        """The account of this build (see :class:`BuildReport` for the arguments)."""
        return BuildReport(out_dir=self.out_dir, written=tuple(sorted(self._written)),
                           unchanged=tuple(sorted(self._unchanged)), removed=removed, kept=kept,
                           next_change=next_change, ignored_cache=ignored_cache)
