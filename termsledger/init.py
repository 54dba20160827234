"""``termsledger init``: set up an existing repository — a commented ``termsledger.toml`` and
a ``.gitignore`` that keeps the built site, the ledger and the signing key out of git."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import git

import terms
from terms import matches

from .config import CACHE_FOLDER, FILENAME, SIGNING_KEY_FILE, Config, read_config

LEDGER_FILES = ("*.db", "*.db-wal", "*.db-shm", "*.lock")
"""The ledger's files (SQLite's database, write-ahead log and shared memory; the writers' lock):
a ledger holds personal data, which must never be committed."""

_IGNORE_NOTE = (b"# termsledger: the built site and its cache, the consent ledger (personal data) and the "
                b"signing key\n")

TEMPLATE = '''\
# termsledger's settings for this repository; see "Configuration" in termsledger's README.
# Paths are relative to this file. Every setting has a default: uncomment a line to change it.

content = "{content}"{content_note}
# include = ["*.md", "*.markdown"]    # file-name globs of the documents
# exclude = ["README.md", "CHANGELOG.md", "CONTRIBUTING.md", "LICENSE.md"]
# notice_days = 30                    # days of notice owed before a material version takes effect
# out = "build"                       # where `termsledger build` writes the site: a folder in this one
# ledger = "termsledger.db"           # the consent ledger: personal data, never commit it

[site]
# title = "Terms and Policies"
# base_url = "https://terms.example.com/"   # an http(s) URL, or a path (/legal/)
# organisation = "Example Ltd."
# contact = "legal@example.com"       # an e-mail address, or an http(s) URL
# templates = "templates"             # your overrides of the built-in templates
# file_urls = false                   # true: links end in index.html, so pages open from disk work
# cache_dir = ".termsledger-cache"    # the build cache, kept out of the site (and out of git)
# language = "en"                     # the language the documents are written in (BCP 47)
# languages = ["en", "fr"]            # the site's languages: terms.fr.md… translate terms.md
# prevailing_notice = "In case of conflict, the English version prevails."   # "" for none

# [materiality]
# watch = ["certificate", "tutor"]    # extra watch-list terms for the change analysis

# [consent]
# required = ["terms", "privacy"]     # documents every user must accept at signup

# [receipts]
# signing_key = "{signing_key}"   # signs consent receipts: never commit it

# [webhooks]                          # how webhooks are delivered
# allow_private = false               # true: endpoints on private or loopback addresses too

# [fields]                            # your own front-matter keys, by termsledger's field name
# effective = "last_updated"
'''


class InitError(Exception):
    """The folder cannot be set up as it is: nothing was written."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Setup:
    """What :func:`set_up` did."""

    config: Path
    """The ``termsledger.toml`` of the folder."""
    written: bool
    """Whether :attr:`config` was written (``False``: one was there, and was left as it is)."""
    content: str
    """The content folder the new configuration names (relative to the folder)."""
    ignored: tuple[str, ...]
    """The lines added to ``.gitignore`` (none when it had them all)."""
    committed: tuple[str, ...]
    """Files already committed that must not be: ledgers and signing keys."""


def set_up(folder: str | Path) -> Setup:
    """Write ``folder``'s ``termsledger.toml`` unless there is one, and add to its ``.gitignore``
    the lines it lacks among the built site's folder, :data:`LEDGER_FILES` and the signing key.

    Everything is checked before anything is written, and nothing is written through a
    symbolic link: :class:`InitError` (or :class:`~termsledger.config.ConfigError`) says what
    is wrong."""
    folder = Path(folder)
    config_path, ignore_path = folder / FILENAME, folder / ".gitignore"
    written = not _is_file(config_path, follow=True)
    ignore = ignore_path.read_bytes() if _is_file(ignore_path, follow=False) else b""
    content = _content_folder(folder)
    config = (Config(cache_dir=folder / CACHE_FOLDER, signing_key=folder / SIGNING_KEY_FILE)
              if written else read_config(config_path))  # the defaults the new file keeps
    patterns = _patterns(folder, config)
    present = {line.strip() for line in ignore.splitlines()}
    missing = tuple(p for p in patterns if p.encode() not in present)
    if written:
        _check_writable(config_path)
    if missing:
        _check_writable(ignore_path)
    if written:
        note = "" if content == "content" else '                         # the documents are in this folder'
        with config_path.open("x", encoding="utf-8") as file:  # never over a file, nor through a link
            file.write(TEMPLATE.format(content=content, content_note=note,
                                       signing_key=SIGNING_KEY_FILE))
    if missing:
        lead = b"\n" if ignore and not ignore.endswith(b"\n") else b""
        added = lead + _IGNORE_NOTE + "".join(f"{p}\n" for p in missing).encode()
        descriptor = os.open(ignore_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW,
                             0o666)
        with os.fdopen(descriptor, "wb") as file:
            file.write(added)
    return Setup(config=config_path, written=written, content=content, ignored=missing,
                 committed=_committed(folder, patterns))


def _is_file(path: Path, *, follow: bool) -> bool:
    """Whether ``path`` is a file (``False``: nothing is there); raises :class:`InitError` when
    it is something else, or a symbolic link (``follow``: one to no file)."""
    if path.is_symlink() and not (follow and path.is_file()):
        raise InitError(f"{path} is a symbolic link: termsledger init writes through no link; "
                        f"replace it with a file")
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise InitError(f"{path} is {kind}, where termsledger init needs a file: rename or "
                        f"remove it")
    return path.exists()


def _check_writable(path: Path) -> None:
    """Raise :class:`InitError` unless ``path`` (or its folder, for a new file) can be written."""
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise InitError(f"cannot write {path}: permission denied")


def _content_folder(folder: Path) -> str:
    """``content`` when there is such a folder or no document beside it; ``.`` when the folder
    itself holds the documents."""
    if (folder / "content").is_dir():
        return "content"
    documents = [p for p in folder.iterdir()
                 if p.is_file() and matches(p.name, terms.DEFAULT_INCLUDE, terms.DEFAULT_EXCLUDE)]
    return "." if documents else "content"


def _patterns(folder: Path, config: Config) -> list[str]:
    """The ``.gitignore`` lines for the built site, the ledger and the signing key of ``config``."""
    patterns = []
    out = _inside(folder, config.out)
    if out:
        patterns.append(out + "/")
    cache = _inside(folder, config.cache_dir) if config.cache_dir else None
    if cache:
        patterns.append(cache + "/")
    patterns.extend(LEDGER_FILES)
    ledger = _inside(folder, config.ledger) if isinstance(config.ledger, Path) else None  # not a URL
    if ledger and not ledger.endswith(".db"):
        patterns.extend(ledger + suffix for suffix in ("", "-wal", "-shm"))
    key = _inside(folder, config.signing_key)
    if key:
        patterns.append(key)
    return patterns


def _inside(folder: Path, path: Path) -> str | None:
    """``path`` (a default when relative: then in ``folder``) relative to ``folder`` (POSIX), or
    ``None`` when it is elsewhere."""
    try:
        return (folder / path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return None


def _committed(folder: Path, patterns: list[str]) -> tuple[str, ...]:
    """The files of ``folder`` committed to git that ``patterns`` (other than the site's) match."""
    try:
        listed = git.Git(str(folder)).ls_files("--", *(p for p in patterns if not p.endswith("/")))
    except git.GitCommandError:  # not in a git repository
        return ()
    return tuple(listed.splitlines())
