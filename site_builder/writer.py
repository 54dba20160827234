"""Write the files of a build into the output folder: only files whose bytes changed,
never outside the folder, and remove what an earlier build wrote that this one did not."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .cache import FOLDER
from .errors import InvalidPath
from .status import NextChange

MANIFEST = f"{FOLDER}/manifest.txt"
"""The previous build's fingerprint and files, one per line: ``path<TAB>size mtime_ns``."""


@dataclass(frozen=True)
class BuildReport:
    """What a build did to its output folder. Paths are relative to ``out_dir``, sorted."""

    out_dir: Path
    written: tuple[str, ...]
    """Files created or rewritten because their bytes changed."""
    unchanged: tuple[str, ...]
    """Files left alone because they already had the right bytes."""
    removed: tuple[str, ...] = ()
    """Files an earlier build wrote that this build no longer produces."""
    next_change: NextChange | None = None
    """The next version to take effect after the build date: the day the site must be built again."""

    def __str__(self) -> str:
        text = f"{len(self.written)} files written, {len(self.unchanged)} unchanged"
        if self.removed:
            text += f", {len(self.removed)} removed"
        return f"{text} in {self.out_dir}"


class Writer:
    """Writes files under ``out_dir`` and keeps the account for a :class:`BuildReport`."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.root = self.out_dir.resolve()
        self._written: list[str] = []
        self._unchanged: list[str] = []

    def path(self, rel: str) -> Path:
        """The absolute path of ``rel``; raises :class:`InvalidPath` if it leaves the folder."""
        parts = PurePosixPath(rel).parts
        if not rel or rel.startswith("/") or "\\" in rel or any(p in ("..", ".") for p in parts):
            raise InvalidPath(f"refusing to write {rel!r}: not a plain path inside the output folder")
        target = (self.root / rel).resolve()
        if not target.is_relative_to(self.root):
            raise InvalidPath(f"refusing to write {rel!r}: it resolves outside {self.root}")
        return target

    def write(self, rel: str, data: bytes) -> None:
        """Write ``data`` to ``rel`` unless the file already holds exactly those bytes."""
        target = self.path(rel)
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                self._unchanged.append(rel)
                return
        except OSError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)
        self._written.append(rel)

    def up_to_date(self, fingerprint: str) -> BuildReport | None:
        """A report of nothing written if the previous build had ``fingerprint`` and its
        files are all still there, untouched (same size and modification time); else ``None``."""
        previous = self._manifest()
        if previous.get("") != fingerprint:
            return None
        files = sorted(rel for rel in previous if rel)
        for rel in files:
            try:
                stat = self.path(rel).stat()
            except OSError:
                return None
            if previous[rel] != f"{stat.st_size} {stat.st_mtime_ns}":
                return None
        return BuildReport(self.out_dir, (), tuple(files))

    def finish(self, fingerprint: str) -> BuildReport:
        """Remove the files the previous build wrote and this one did not, record this
        build's files and ``fingerprint``, and report."""
        produced = set(self._written) | set(self._unchanged)
        removed = sorted(rel for rel in self._manifest() if rel and rel not in produced)
        for rel in removed:
            target = self.path(rel)
            target.unlink(missing_ok=True)
            for parent in target.parents:
                if parent == self.root or any(parent.iterdir()):
                    break
                parent.rmdir()
        lines = [f"\t{fingerprint}"]
        for rel in sorted(produced):
            stat = self.path(rel).stat()
            lines.append(f"{rel}\t{stat.st_size} {stat.st_mtime_ns}")
        manifest = self.path(MANIFEST)
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return BuildReport(self.out_dir, tuple(sorted(self._written)), tuple(sorted(self._unchanged)),
                           tuple(removed))

    def _manifest(self) -> dict[str, str]:
        """The previous build's files (and, under ``""``, its fingerprint)."""
        manifest = self.path(MANIFEST)
        if not manifest.is_file():
            return {}
        return dict(line.split("\t", 1) for line in manifest.read_text(encoding="utf-8").splitlines()
                    if "\t" in line)
