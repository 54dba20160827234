"""The build cache, a folder outside the output folder (by default ``.termsledger-cache/``
beside it, see :func:`default_folder`), so that it is never published: this module alone
knows its layout.

- ``manifest.txt``: the previous build's :func:`fingerprint` (everything its output depended
  on) and the output folder it was written to (``<TAB>fingerprint<TAB>folder``), then each
  file it wrote with its size and modification time and, for a page, the key of what it
  was made from (see :class:`PageKeys`), one per line (``path<TAB>size mtime_ns<TAB>key``).
  A manifest of another output folder counts as none (two sites may share a cache folder).
  A build with the same fingerprint whose files are untouched does nothing; a page made from
  the same things as the untouched file already there is not rendered again; a build removes
  the files the previous one wrote and it does not.
- ``sources.json``: the working-tree files the previous build looked for (see
  :class:`site_builder.links.Assets`), whose sizes and times the next fingerprint covers.
- ``fragments.sqlite``: rendered fragments (redlines, bodies) as JSON, each under a
  :func:`key` made of its inputs (the texts' hashes, not the texts) and :func:`code_version`:
  content-addressed, so that adding a version to a long history computes only the new pairs,
  whose sections are mostly ones compared before, and a new version of termsledger or of the
  analysis computes everything again. What comparing versions finds in their pieces (a
  :class:`terms.Memo`'s values: a section's sentences, its redline…), whose keys cannot be
  known before it is needed, has its keys prefixed with :func:`kept_prefix` (which names the
  code's version), to be read all at once (see :meth:`Fragments.kind` and :func:`kept`); it
  is kept while the code's version is the same, used by a build or not (a build that compares
  one new pair uses little of it, the next one, a new version in force, much).

A cache that came with the content is never trusted: its fragments are HTML used as they are,
under keys anyone can compute, and its manifest names files to remove. When git tracks any
file of the cache folder in the content's repository (:func:`terms.tracked`, one ``git
ls-files``), anyone who can push may have forged it, so the build neither reads nor writes it
(:func:`ignored`): it builds as if there were none, holding fragments in memory, records
nothing, and its report names the folder (``BuildReport.ignored_cache``). Writing there would
change files of the repository's working tree (on which a ``git pull`` then stops); untracking
the folder (``git rm -r --cached``) and ignoring it (``.gitignore``) makes it used again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import orjson

import terms
from terms import Content, Memo, Version

from .errors import SiteBuildError, Unwritable, unwritable
from .settings import SiteSettings
from .writer import Writer

FOLDER = ".termsledger-cache"
"""The name of the default cache folder (and of the one older builds kept in the output folder)."""
MANIFEST = "manifest.txt"
SOURCES = "sources.json"
FRAGMENTS = "fragments.sqlite"
KEPT = "kept:"
"""The start of the keys of a :class:`terms.Memo`'s values among the fragments (see :func:`kept_prefix`)."""
PACKAGE = Path(__file__).parent
LIBRARIES = ("jinja2", "markdown_it", "mdit_py_plugins", "nh3", "rapidfuzz")
"""The modules of the libraries that render a site: upgrading any changes the fingerprint."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Previous:
    """What the cache folder holds of the previous build."""

    fingerprint: str | None
    """Its :func:`fingerprint`; ``None`` when there was none (or the manifest is unreadable)."""
    files: dict[str, str] = field(default_factory=dict)
    """Each file it wrote, relative to the output folder: its ``"size mtime_ns"`` then."""
    made_from: dict[str, str] = field(default_factory=dict)
    """The key of each page it wrote (see :class:`PageKeys`)."""
    sources: tuple[str, ...] = ()
    """The working-tree files it looked for, relative to the content folder."""


def default_folder(out_dir: str | Path) -> Path:
    """The cache folder of a build into ``out_dir`` when none is given: :data:`FOLDER` beside
    it (``build/`` beside ``termsledger.toml`` puts it there too, as ``.gitignore`` expects)."""
    return Path(out_dir).absolute().parent / FOLDER


def check_folder(folder: Path, writer: Writer) -> None:
    """Raise :class:`SiteBuildError` when the cache ``folder`` is the output folder or inside
    it, where it would be published with the site."""
    if folder.resolve().is_relative_to(writer.root):
        raise SiteBuildError(f"the build cache {folder} is inside the output folder {writer.out_dir}, "
                             f"so it would be published with the site: give a cache folder outside it")


def remove_old_folder(writer: Writer) -> None:
    """Remove the cache folder that builds before this one kept inside the output folder, so
    that it is published no more."""
    old = writer.root / FOLDER
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old)


def ignored(content: Content, folder: Path) -> bool:
    """Whether the cache ``folder`` is to be neither read nor written: git tracks files in it
    in the repository of ``content`` (see the module's docstring)."""
    return terms.tracked(Path(content.root), folder)


def previous(folder: Path, writer: Writer) -> Previous:
    """The previous build into ``writer``'s folder, as the manifest and sources in the cache
    ``folder`` record it; none when they record a build into another folder."""
    entries = [line.split("\t") for line in _read(folder / MANIFEST).splitlines()]
    if not entries or entries[0][0] != "" or entries[0][2:] != [str(writer.root)]:
        return Previous(fingerprint=None)
    files = {entry[0]: entry[1] for entry in entries[1:] if len(entry) in (2, 3)}
    made_from = {entry[0]: entry[2] for entry in entries[1:] if len(entry) == 3}
    try:
        sources = json.loads(_read(folder / SOURCES) or "[]")
    except ValueError:
        sources = []
    if not (isinstance(sources, list) and all(isinstance(s, str) for s in sources)):
        sources = []
    return Previous(fingerprint=entries[0][1], files=files, made_from=made_from, sources=tuple(sources))


def record(folder: Path, writer: Writer, fingerprint: str, sources: Iterable[str],
           made_from: dict[str, str]) -> None:
    """Record in the cache ``folder`` the build ``writer`` just finished: its ``fingerprint``
    and output folder, the files it wrote (as they are now) with the key (see :class:`PageKeys`)
    each page was ``made_from``, and the working-tree ``sources`` it looked for."""
    lines = [f"\t{fingerprint}\t{writer.root}"]
    for rel in sorted(writer.produced):
        made = [made_from[rel]] if rel in made_from else []
        lines.append("\t".join([rel, str(writer.stamp(rel)), *made]))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / SOURCES).write_text(json.dumps(sorted(sources)), encoding="utf-8")
        (folder / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as error:
        raise unwritable(error, folder) from None


def up_to_date(writer: Writer, before: Previous, fingerprint: str) -> bool:
    """Whether the previous build had ``fingerprint`` and its files are all still there, untouched."""
    return before.fingerprint == fingerprint and all(writer.stamp(rel) == stamp
                                                     for rel, stamp in before.files.items())


def fingerprint(content: Content, settings: SiteSettings, at: date, sources: Iterable[str]) -> str:
    """Everything the output depends on: the code and libraries that render it, templates,
    stylesheet, settings, every version (its text through its hash), which versions are in
    force on ``at`` (and ``at`` itself when a version is announced), and the size and
    modification time of the working-tree files in ``sources`` (see :class:`site_builder.links.Assets`)."""
    versions = [
        [v.slug, v.id, v.effective, v.label, v.title, v.summary, v.material, v.references,
         v.content_sha256, v.path, v.commit, v.committed_at, v.announced_at,
         [[t.language, t.title, t.summary, t.content_sha256, t.path, t.commit, t.committed_at]
          for t in v.translations], v.effective <= at]
        for document in content.documents.values() for v in document.versions
    ]
    announced = any(row[-1] is False for row in versions)  # their banners say on which day the site was built
    data = json.dumps([_installed(), _templates(settings), repr(settings), content.language,
                       list(content.documents), versions, _stats(Path(content.root), sources),
                       at if announced else None], default=str)
    return hashlib.sha256(data.encode()).hexdigest()


class PageKeys:
    """The key of each page of a build with ``settings``: a hash of what it is made from (its
    URL, templates, context…) and by (code, templates, settings). A version counts by its
    fields, its text by its hash; each version's fields are hashed once."""

    def __init__(self, settings: SiteSettings):
        self._made_by = hashlib.sha256(json.dumps([code_version(), _templates(settings),
                                                   repr(settings)]).encode()).hexdigest()
        self._versions: dict[int, tuple[Version, list[str]]] = {}
        """What each version met counts as, by ``id``, beside the version (kept, so that no other
        object takes its ``id``)."""

    def key(self, *made_from: Any) -> str | None:
        """The page's key; ``None`` when a value is of a kind it cannot tell apart (the page is
        then always rendered)."""
        return self._hash([self._made_by, made_from])

    def _hash(self, value: Any) -> str | None:
        try:
            data = json.dumps(value, sort_keys=True, default=self._made_from, ensure_ascii=False)
        except (TypeError, ValueError):
            return None
        return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()

    def _made_from(self, value: Any) -> Any:
        """``value`` as JSON, tagged with its kind; raises ``TypeError`` for a kind it cannot
        tell apart."""
        if isinstance(value, Version):
            if (known := self._versions.get(id(value))) is None or known[0] is not value:
                fields_hash = self._hash([None if f.name == "body" else getattr(value, f.name)
                                          for f in fields(value)])
                if fields_hash is None:
                    raise TypeError("cannot tell a version's fields apart")
                known = self._versions[id(value)] = (value, ["Version", fields_hash])
            return known[1]
        if is_dataclass(value) and not isinstance(value, type):
            return [type(value).__qualname__, *(getattr(value, f.name) for f in fields(value))]
        if isinstance(value, (date, datetime, Path)):
            return [type(value).__name__, str(value)]
        if isinstance(value, (set, frozenset)):
            return ["set", *sorted(value)]
        raise TypeError(f"cannot tell {type(value).__name__} values apart")


@cache
def code_version() -> str:
    """The version of the code that makes fragments: :func:`terms.analysis_version` (the
    analysis and the Markdown parser) and a hash of the source of ``site_builder`` and of the
    version of nh3, which sanitizes."""
    import nh3

    digest = hashlib.sha256(f"{terms.analysis_version()}\0nh3=={getattr(nh3, '__version__', '')}\0".encode())
    for path in sorted(PACKAGE.glob("*.py")):
        source = path.read_bytes()
        digest.update(f"{path.name}\0{len(source)}\0".encode() + source)
    return digest.hexdigest()


def key(*parts: Any) -> str:
    """The key of the fragment made from ``parts`` (JSON values) by the current :func:`code_version`."""
    data = json.dumps([code_version(), *parts], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


class Fragments:
    """The fragments of ``fragments.sqlite``, in memory for a build: :meth:`load` reads the
    ones a build needs, once, before work is shared out to other processes (which never
    open the file), :meth:`put` adds new ones (or :meth:`put_json`, as JSON already), and
    :meth:`save` writes them and removes the ones this build did not use. A damaged file
    counts as empty. :meth:`kind` reads all those whose keys start alike. Without a
    ``folder`` (an :func:`ignored` cache), they are held for the build only."""

    def __init__(self, folder: Path | None):
        self._file = folder / FRAGMENTS if folder is not None else None
        self._stored: dict[str, str] = {}
        self._new: dict[str, str] = {}
        self._values: dict[str, Any] = {}
        self._used: set[str] = set()
        self._kinds: dict[str, dict[str, str]] = {}

    def load(self, keys: Iterable[str]) -> list[str]:
        """Read the fragments of ``keys`` from the file; returns the keys it does not hold."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self._values and k not in self._stored]
        self._used.update(wanted)
        if wanted and self._file is not None and self._file.is_file():
            try:
                with self._connect() as db:
                    for start in range(0, len(wanted), 500):
                        chunk = wanted[start:start + 500]
                        marks = ",".join("?" * len(chunk))
                        rows = db.execute(f"SELECT key, value FROM fragments WHERE key IN ({marks})", chunk)
                        self._stored.update(rows)
            except sqlite3.DatabaseError:
                self._stored.clear()
        return [k for k in wanted if k not in self._stored]

    def kind(self, prefix: str) -> dict[str, str]:
        """The JSON text of every stored fragment whose key starts with ``prefix``, by its key
        without it (read once)."""
        if prefix not in self._kinds:
            self._kinds[prefix] = {}
            if self._file is not None and self._file.is_file():
                try:
                    with self._connect() as db:
                        rows = db.execute("SELECT key, value FROM fragments WHERE key >= ? AND key < ?",
                                          _range(prefix))
                        self._kinds[prefix] = {entry[len(prefix):]: text for entry, text in rows}
                except sqlite3.DatabaseError:
                    pass
        return self._kinds[prefix]

    def get(self, entry: str) -> Any | None:
        """The fragment under ``entry`` if it was loaded or put, else ``None``."""
        if entry not in self._values:
            text = self._stored.get(entry) or self._new.get(entry)
            if text is None:
                return None
            self._values[entry] = from_json(text)
        return self._values[entry]

    def put(self, entry: str, value: Any) -> None:
        """Keep ``value`` (a JSON value) under ``entry``, for this build and the next ones."""
        self._used.add(entry)
        self._values[entry] = value

    def put_json(self, entry: str, text: str) -> None:
        """Keep the JSON ``text`` under ``entry`` (a worker's result: made into JSON there)."""
        self._used.add(entry)
        self._new[entry] = text

    def save(self) -> None:
        """Write the fragments put in this build and delete those it did not use, but those
        under :func:`kept_prefix`."""
        if self._file is None:
            return
        new = list(self._new.items()) + [(entry, to_json(value))
                                         for entry, value in self._values.items()
                                         if entry not in self._stored and entry not in self._new]
        for attempt in (1, 2):
            try:
                with self._connect() as db:
                    db.execute("CREATE TABLE IF NOT EXISTS fragments "
                               "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                    db.executemany("INSERT OR REPLACE INTO fragments VALUES (?, ?)", new)
                    db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
                    db.executemany("INSERT INTO used VALUES (?)", ((k,) for k in self._used))
                    db.execute("DELETE FROM fragments WHERE key NOT IN (SELECT key FROM used) "
                               "AND NOT (key >= ? AND key < ?)", _range(kept_prefix()))
                return
            except OSError as error:
                raise unwritable(error, self._file) from None
            except sqlite3.DatabaseError as error:
                if attempt == 2:
                    raise Unwritable(f"cannot write {self._file}: {error}") from None
                self._file.unlink(missing_ok=True)  # damaged: start again

    def _connect(self) -> sqlite3.Connection:
        assert self._file is not None
        self._file.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self._file)
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA page_size = 65536")  # a new file: fragments of tens of KB, written twice as fast
        return db


def _templates(settings: SiteSettings) -> list[tuple[str, int, int]]:
    """Names, sizes and modification times of the templates, stylesheet and catalogs of ``settings``."""
    found = _files(PACKAGE / "templates", "*") + _files(PACKAGE / "static", "*") + \
        _files(PACKAGE / "locale", "*/LC_MESSAGES/*.mo")
    if settings.templates:
        folder = Path(settings.templates)
        found += _files(folder, "*") + _files(folder, "locale/*/LC_MESSAGES/*.po")
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return ""


def _files(folder: Path, pattern: str) -> list[tuple[str, int, int]]:
    return [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob(pattern))
            if p.is_file()]


def _installed() -> list[Any]:
    """Names, sizes and modification times of the code that renders (``terms``, ``site_builder``
    and the :data:`LIBRARIES`, which an upgrade rewrites): cheaper than reading it."""
    found: list[Any] = _files(Path(terms.__file__).parent, "*.py") + _files(PACKAGE, "*.py")
    for library in LIBRARIES:
        spec = find_spec(library)
        origin = Path(spec.origin) if spec and spec.origin else None
        found += [(str(origin), origin.stat().st_size, origin.stat().st_mtime_ns)] if origin else [library]
    return found


def _stats(root: Path, sources: Iterable[str]) -> list[tuple[str, tuple[int, int, int] | None]]:
    """Size, modification time and inode of each of ``sources`` (``None`` when missing or not a
    possible file name); of a symbolic link itself, never of what it points to."""
    stats: list[tuple[str, tuple[int, int, int] | None]] = []
    for source in sources:
        try:
            stat = os.lstat(root / source)
            stats.append((source, (stat.st_size, stat.st_mtime_ns, stat.st_ino)))
        except (OSError, ValueError):
            stats.append((source, None))
    return stats


def kept_prefix() -> str:
    """The start of the fragment keys of what comparing found (see :func:`kept`), which names
    the :func:`code_version`."""
    return f"{KEPT}{code_version()[:16]}:"


def memo() -> Memo:
    """A memo for comparing versions, its keys by :func:`code_version` (see :func:`kept`)."""
    return Memo(version=code_version())


def kept(found: Memo) -> dict[str, str]:
    """What the memo ``found`` since the last time, as JSON by fragment key."""
    prefix = kept_prefix()
    return {prefix + entry: to_json(value) for entry, value in found.take()[0].items()}


def to_json(value: Any) -> str:
    """``value`` as JSON text: with orjson, a few times quicker than :mod:`json` (on a redline's
    HTML, on what comparing found); with :mod:`json` for what orjson refuses (a lone surrogate,
    a key not a string, an integer over 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False)


def from_json(text: str) -> Any:
    """The value of the JSON ``text`` (see :func:`to_json`): with orjson, else with :mod:`json`
    (which reads what orjson refuses: a lone surrogate, an integer over 64 bits, ``NaN``)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _range(prefix: str) -> tuple[str, str]:
    """The keys from which and up to which keys start with ``prefix``."""
    return prefix, prefix + "\U0010ffff"
