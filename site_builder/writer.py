"""Write the files of a build into the output folder: only files whose bytes changed,
never outside the folder, and remove what an earlier build wrote that this one did not."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .cache import FOLDER
from .errors import InvalidPath

MANIFEST = f"{FOLDER}/manifest.txt"


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

    def finish(self) -> BuildReport:
        """Remove the files the previous build wrote and this one did not, record this
        build's files, and report."""
        produced = set(self._written) | set(self._unchanged)
        manifest = self.path(MANIFEST)
        previous = manifest.read_text(encoding="utf-8").split("\n") if manifest.is_file() else []
        removed = sorted(rel for rel in previous if rel and rel not in produced)
        for rel in removed:
            target = self.path(rel)
            target.unlink(missing_ok=True)
            for parent in target.parents:
                if parent == self.root or any(parent.iterdir()):
                    break
                parent.rmdir()
        listing = "\n".join(sorted(produced)) + "\n"
        if not manifest.is_file() or manifest.read_text(encoding="utf-8") != listing:
            manifest.parent.mkdir(parents=True, exist_ok=True)
            manifest.write_text(listing, encoding="utf-8")
        return BuildReport(self.out_dir, tuple(sorted(self._written)), tuple(sorted(self._unchanged)),
                           tuple(removed))
