"""``termsledger init``: set up an existing repository — a commented ``termsledger.toml`` and
a ``.gitignore`` that keeps the built site, the ledger and the signing key out of git."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import git

import terms
from terms import matches

from .config import FILENAME, SIGNING_KEY_FILE, Config, read_config

LEDGER_FILES = ("*.db", "*.db-wal", "*.db-shm", "*.lock")
"""The ledger's files (SQLite's database, write-ahead log and shared memory; the writers' lock):
a ledger holds personal data, which must never be committed."""

_IGNORE_NOTE = ("# termsledger: the built site and its cache, the consent ledger (personal data) and the "
                "signing key\n")

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

# [materiality]
# watch = ["certificate", "tutor"]    # extra watch-list terms for the change analysis

# [consent]
# required = ["terms", "privacy"]     # documents every user must accept at signup

# [receipts]
# signing_key = "{signing_key}"   # signs consent receipts: never commit it

# [fields]                            # your own front-matter keys, by termsledger's field name
# effective = "last_updated"
# slug = "permalink"
'''


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
    the lines it lacks among the built site's folder, :data:`LEDGER_FILES` and the signing key."""
    folder = Path(folder)
    config_path = folder / FILENAME
    content = _content_folder(folder)
    written = not config_path.exists()
    if written:
        note = "" if content == "content" else '                         # the documents are in this folder'
        text = TEMPLATE.format(content=content, content_note=note, signing_key=SIGNING_KEY_FILE)
        config_path.write_text(text, encoding="utf-8")
    patterns = _patterns(folder, read_config(config_path.resolve()))
    return Setup(config=config_path, written=written, content=content, ignored=_ignore(folder, patterns),
                 committed=_committed(folder, patterns))


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


def _ignore(folder: Path, patterns: list[str]) -> tuple[str, ...]:
    """Add the ``patterns`` that ``folder/.gitignore`` lacks to it; return them."""
    path = folder / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [p for p in patterns if p not in present]
    if missing:
        lead = "" if not text or text.endswith("\n") else "\n"
        path.write_text(text + lead + _IGNORE_NOTE + "".join(f"{p}\n" for p in missing), encoding="utf-8")
    return tuple(missing)


def _committed(folder: Path, patterns: list[str]) -> tuple[str, ...]:
    """The files of ``folder`` committed to git that ``patterns`` (other than the site's) match."""
    try:
        listed = git.Git(str(folder)).ls_files("--", *(p for p in patterns if not p.endswith("/")))
    except git.GitCommandError:  # not in a git repository
        return ()
    return tuple(listed.splitlines())
