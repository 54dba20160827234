"""``termsledger.toml``: the optional configuration of a content repository."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import terms

FILENAME = "termsledger.toml"
SIGNING_KEY_FILE = "termsledger-signing.key"
"""The signing key's file name by default, beside ``termsledger.toml``."""
CACHE_FOLDER = ".termsledger-cache"
"""The build cache's folder by default, beside ``termsledger.toml``."""
LEDGER_ENV = "TERMSLEDGER_LEDGER"
"""The environment variable naming the ledger (a file, or a ``postgresql://`` URL); it
overrides the configuration, and ``--ledger`` overrides it."""
SIGNING_KEY_ENV = "TERMSLEDGER_SIGNING_KEY"
"""The environment variable naming the signing key's file; it overrides the configuration."""


class ConfigError(Exception):
    """``termsledger.toml`` cannot be read or has a wrong key or value."""


@dataclass(frozen=True)
class Config:
    """Settings of a content repository; every one has a default."""

    content: Path = Path("content")
    """The folder of the documents."""
    include: tuple[str, ...] = terms.DEFAULT_INCLUDE
    exclude: tuple[str, ...] = terms.DEFAULT_EXCLUDE
    notice_days: int = 30
    """Days of notice a material version must be announced with."""
    watch: tuple[str, ...] = ()
    """Extra watch-list terms for the materiality analysis."""
    site_title: str = "Terms and Policies"
    base_url: str = ""
    organisation: str = ""
    contact: str = ""
    templates: Path | None = None
    """A folder whose templates override the site's built-in ones."""
    file_urls: bool = False
    """Links to pages' ``index.html`` files, so that the site works opened from disk."""
    language: str = "en"
    """BCP 47 tag of the language the documents are written in (``[site] language``)."""
    languages: tuple[str, ...] = ()
    """The languages the site is published in, the default one among them (``[site]
    languages``); the documents' translations (``terms.fr.md``) in the others."""
    prevailing_notice: str | None = None
    """The notice of which text prevails, on pages in other languages; ``None`` for the
    built-in one, ``""`` for none."""
    required: tuple[str, ...] = ()
    """The slugs of the documents every user must accept at signup (``[consent] required``):
    published as such, so that the ledger's ``required`` asks for them."""
    out: Path = Path("build")
    cache_dir: Path | None = None
    """The build cache's folder (``[site] cache_dir``), never published: beside
    ``termsledger.toml`` by default, else (no file) beside the output folder."""
    ledger: Path | str = Path("termsledger.db")
    """The ledger: a file (relative to ``termsledger.toml``), or a ``postgresql://`` URL."""
    signing_key: Path = Path(SIGNING_KEY_FILE)
    """The private key that signs receipts and checkpoints (``[receipts] signing_key``); kept
    out of the ledger and the site. Beside ``termsledger.toml`` by default."""
    webhooks: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """``[webhooks]``: how webhooks are delivered, by the name of a field of
    :class:`consent.DeliverySettings` (``allow_private = true``, ``timeout = 5``...)."""
    fields: Mapping[str, str] = field(default_factory=dict, hash=False)
    """The repository's own front-matter key for some of termsledger's fields, by field name
    (``[fields] effective = "last_updated"``)."""
    source: Path | None = field(default=None, compare=False)
    """The ``termsledger.toml`` these settings came from, if any."""
    content_from: str | None = field(default=None, compare=False)
    """What named :attr:`content`: ``"--content"``, the path of the ``termsledger.toml``, or
    ``None`` for the default."""

    def load_content(self) -> terms.Content:
        """Load the documents of :attr:`content` with this configuration's globs."""
        return terms.load(self.content, include=self.include, exclude=self.exclude, fields=self.fields,
                          language=self.language)

    @property
    def site_languages(self) -> tuple[str, ...]:
        """Every language the site is published in: :attr:`languages`, else :attr:`language`."""
        return self.languages or (self.language,)

    def ledger_location(self, option: str | Path | None = None) -> Path | str:
        """The ledger: ``option`` when given, else :data:`LEDGER_ENV`'s, else :attr:`ledger`;
        a URL (``postgresql://``, or another scheme, which the ledger refuses) as it is,
        anything else a file's path."""
        location = option or os.environ.get(LEDGER_ENV) or self.ledger
        return location if is_url(location) else Path(location)

    def delivery_settings(self) -> Any:
        """The :class:`consent.DeliverySettings` of ``[webhooks]``."""
        from consent import DeliverySettings

        return DeliverySettings(**self.webhooks)

    def signing_key_path(self, option: str | Path | None = None) -> Path:
        """The signing key's file: ``option`` when given, else :data:`SIGNING_KEY_ENV`'s,
        else :attr:`signing_key`."""
        return Path(option or os.environ.get(SIGNING_KEY_ENV) or self.signing_key)


_SECTIONS = {"site": {"title": "site_title", "base_url": "base_url", "organisation": "organisation",
                      "contact": "contact", "templates": "templates", "file_urls": "file_urls",
                      "language": "language", "languages": "languages",
                      "prevailing_notice": "prevailing_notice", "cache_dir": "cache_dir"},
             "materiality": {"watch": "watch"},
             "consent": {"required": "required"},
             "receipts": {"signing_key": "signing_key"}}
_PATHS = {"content", "templates", "out", "ledger", "signing_key", "cache_dir"}
_INSIDE = {"content": "give --content", "templates": "give --content", "out": "remove it and give --out",
           "cache_dir": "remove it and give --cache-dir"}
"""The folders that must be inside the folder of the file naming them (a symbolic link leading out of
it counts as outside), with what else to do: like the file, they come from the repository, so they
may name neither files to publish (content, templates) nor a place to write (the site, its cache)
elsewhere on the machine; on the command line, they are free."""
_CHECKS = {"site_title": "check_text", "organisation": "check_text", "base_url": "check_base_url",
           "contact": "check_contact", "prevailing_notice": "check_text"}
"""The site builder's rules for the values of ``[site]`` (imported when there is one to check)."""


def is_url(location: object) -> bool:
    """Whether ``location`` is a URL (``scheme://``) rather than a file's path: a PostgreSQL
    ledger's, or one of another scheme that the ledger refuses."""
    return isinstance(location, str) and re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", location) is not None


def find_config(content: str | Path | None = None, cwd: str | Path = ".") -> Config:
    """The configuration for a run: ``termsledger.toml`` in the ``content`` folder when
    given, else in ``cwd``, else in ``cwd/content``; defaults when there is none. ``content``
    overrides the file's."""
    candidates = [Path(content) / FILENAME] if content else []
    candidates.append(Path(cwd) / FILENAME)
    if not content:
        candidates.append(Path(cwd) / "content" / FILENAME)  # in the default content folder
    for path in candidates:
        if path.is_file():
            config = read_config(path)
            if content:
                config = replace(config, content=Path(content), content_from="--content")
            return config
    if content:
        return Config(content=Path(content), content_from="--content")
    return Config(content=Path(cwd) / "content")


def read_config(path: str | Path) -> Config:
    """Read a ``termsledger.toml``; paths in it are relative to its folder."""
    if sys.version_info >= (3, 11):  # imported here: without a configuration file, no need of it
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    path = Path(path)
    text: str | None = None
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        twice = _given_twice(text, str(error)) if text is not None else None
        raise ConfigError(f"{path}: {twice}" if twice else f"{path}: not valid TOML: {error}") from None
    values = {}
    for key, value in data.items():
        if key == "webhooks":
            values["webhooks"] = ("[webhooks]", _webhooks(path, value))
        elif key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {key} must be a section ([{key}] on a line of its own, its keys "
                                  f"on the lines after), not {_written(value)}")
            for inner, inner_value in value.items():
                if inner not in _SECTIONS[key]:
                    raise ConfigError(f"{path}: unknown key [{key}] {inner!r}; known keys: "
                                      f"{', '.join(_SECTIONS[key])}")
                values[_SECTIONS[key][inner]] = (f"[{key}] {inner}", inner_value)
        else:
            values[key] = (key, value)
    names = {f.name for f in fields(Config)} - {"source", "content_from", "site_title", "watch",
                                                "signing_key", "language", "languages", "prevailing_notice",
                                                "cache_dir", "required"}
    config: dict[str, Any] = {"source": path, "signing_key": path.parent / SIGNING_KEY_FILE,
              "cache_dir": path.parent / CACHE_FOLDER,
              "content_from": str(path) if "content" in values else None}
    for name, (label, value) in values.items():
        if name not in names | {v for section in _SECTIONS.values() for v in section.values()}:
            raise ConfigError(f"{path}: unknown key {label!r}; known keys: {', '.join(sorted(names))}, "
                              f"[site] {', '.join(_SECTIONS['site'])}, [materiality] watch, "
                              "[consent] required, [receipts] signing_key, [webhooks]")
        config[name] = _convert(path, label, name, value)
    language = config.get("language", "en")
    if config.get("languages") and language not in config["languages"]:
        raise ConfigError(f"{path}: [site] languages {_written(list(config['languages']))} must list "
                          f"the site's language {_written(language)} ([site] language)")
    return Config(**config)


def _convert(path: Path, label: str, name: str, value: Any) -> Any:
    """``value`` of the key ``name`` (``label`` in messages) as :class:`Config` holds it."""
    default = getattr(Config, name, None)
    if name == "fields":
        return _fields(path, value)
    if name == "webhooks":
        return value
    if name in ("language", "languages"):
        return _languages(path, label, value)
    if name == "ledger" and is_url(value):
        return value
    if name in _PATHS:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {label} must be a path (text), not {_written(value)}")
        if "\0" in value:
            raise ConfigError(f"{path}: {label} {value!r} is not a possible path (it holds a NUL character)")
        folder = path.parent / value
        if name in _INSIDE and not folder.resolve().is_relative_to(path.parent.resolve()):
            raise ConfigError(f"{path}: {label} {value!r} is outside the folder of {FILENAME}: name a folder "
                              f"inside it (or {_INSIDE[name]})")
        if name in ("content", "templates"):
            return folder
        return Path(os.path.normpath(folder))  # content/../build is build
    if isinstance(default, tuple):
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(f"{path}: {label} must be a list of text, not {_written(value)}")
        if name == "include" and not value:
            raise ConfigError(f"{path}: include lists no pattern, so no file would be a document: "
                              f"name some (the default is {_written(list(default))}), or remove the key")
        return tuple(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: {label} must be true or false, not {_written(value)}")
        return value
    if name == "notice_days":
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise ConfigError(f"{path}: {label} must be a whole number of days, not {_written(value)}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {label} must be text, not {_written(value)}")
    if name in _CHECKS:
        import site_builder

        try:
            getattr(site_builder, _CHECKS[name])(value, label)
        except site_builder.InvalidSetting as error:
            raise ConfigError(f"{path}: {error}") from None
    return value


def _webhooks(path: Path, table: object) -> dict[str, Any]:
    """The ``[webhooks]`` table, checked by :class:`consent.DeliverySettings` (imported only
    when there is one)."""
    from dataclasses import fields as settings_fields

    from consent import DeliverySettings

    if not isinstance(table, dict):
        raise ConfigError(f"{path}: webhooks must be a table ([webhooks]), not {_written(table)}")
    known = [f.name for f in settings_fields(DeliverySettings)]
    for key in table:
        if key not in known:
            raise ConfigError(f"{path}: unknown key [webhooks] {key!r}; known keys: {', '.join(known)}")
    try:
        DeliverySettings(**table)
    except ValueError as error:
        raise ConfigError(f"{path}: [webhooks] {error}") from None
    return dict(table)


def _fields(path: Path, table: object) -> dict[str, str]:
    """The ``[fields]`` table: termsledger's field names and the repository's own keys."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: fields must be a table ([fields]) of termsledger's field names and "
                          f"your front-matter keys, not {_written(table)}")
    for name, key in table.items():
        if name not in terms.FRONT_MATTER_KEYS:
            raise ConfigError(f"{path}: unknown field {name!r} in [fields]; termsledger's fields are: "
                              f"{', '.join(terms.FRONT_MATTER_KEYS)}")
        if not isinstance(key, str):
            raise ConfigError(f"{path}: [fields] {name} must be the name of a front-matter key (text), "
                              f"not {_written(key)}")
    return dict(table)


_AT_LINE = re.compile(r" \(at line (\d+), column \d+\)$")
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_DOTTED = rf"{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART})*"
_KEY_LINE = re.compile(rf"[ \t]*({_DOTTED})[ \t]*=")
_TABLE_LINE = re.compile(rf"[ \t]*\[\[?[ \t]*({_DOTTED})[ \t]*\]")


def _given_twice(text: str, error: str) -> str | None:
    """What to say of TOML's refusal ``error`` of ``text`` when it is about a key or section given
    twice ("Cannot overwrite a value (at line 4, column 9)"): which one, on which lines, and what
    to do; ``None`` for another error."""
    at = _AT_LINE.search(error)
    if at is None:
        return None
    problem, number = error[:at.start()], int(at.group(1))
    lines = text.split("\n")
    if not 0 < number <= len(lines):
        return None
    line = lines[number - 1]
    section, earlier = "", None
    if problem == "Cannot overwrite a value" and (key := _KEY_LINE.match(line)):
        name = _key_name(key.group(1))
        for seen, before in enumerate(lines[:number - 1], 1):
            if table := _TABLE_LINE.match(before):
                section, earlier = _key_name(table.group(1)), None
            elif (other := _KEY_LINE.match(before)) and _key_name(other.group(1)) == name:
                earlier = seen
        label = f"[{section}] {name}" if section else name
        if earlier is not None:
            return f"{label} is given twice, on lines {earlier} and {number}: remove one of the two lines"
        return (f"line {number}: {label} clashes with a key or section given before it: give each "
                f"key once")
    if problem == "Cannot overwrite a value" and (table := _TABLE_LINE.match(line)):
        return (f"line {number}: the section [{_key_name(table.group(1))}] has the name of a key given "
                f"before it: rename or remove one of the two")
    if problem.startswith("Cannot declare ") and (table := _TABLE_LINE.match(line)):
        name = _key_name(table.group(1))
        earlier = next((seen for seen, before in enumerate(lines[:number - 1], 1)
                        if (other := _TABLE_LINE.match(before)) and _key_name(other.group(1)) == name),
                       None)
        if earlier is None:
            return (f"line {number}: the section [{name}] is given again (keys written {name}.key before "
                    f"it gave it already): give all its keys under one [{name}]")
        return (f"the section [{name}] is given twice, on lines {earlier} and {number}: give it once, "
                f"with all its keys under it")
    if duplicate := re.fullmatch(r"Duplicate inline table key (.*)", problem):
        return (f"line {number}: the key {duplicate.group(1)} is given twice in one {{ ... }} table: keep "
                f"one of the two")
    return None


def _key_name(key: str) -> str:
    """A TOML key as written (``site . "title"``) as it is meant (``site.title``)."""
    parts = re.findall(_KEY_PART, key)
    return ".".join(part[1:-1] if part[0] in "\"'" else part for part in parts)


def _written(value: Any) -> str:
    """``value`` as termsledger.toml writes it, for a message: ``true``, not Python's ``True``;
    a list as ``["en", "fr"]``, not Python's ``['en', 'fr']``. Text alone keeps its single
    quotes, a TOML literal string (``'yes'``), where it can."""
    if isinstance(value, str) and value.isprintable() and "'" not in value:
        return f"'{value}'"
    return _toml(value)


def _toml(value: Any) -> str:
    """``value`` as a TOML value (text as a basic string, ``"en"``)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return '"' + "".join(_escaped(c) for c in value) + '"'
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = [f"{k if re.fullmatch(r'[A-Za-z0-9_-]+', k) else _toml(k)} = {_toml(v)}"
                 for k, v in value.items()]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    if hasattr(value, "isoformat"):  # a date, time, or date and time
        return str(value.isoformat())
    return repr(value)


_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"',
            "\\": "\\\\"}


def _escaped(char: str) -> str:
    """``char`` in a TOML basic string: escaped unless printable."""
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    return f"\\u{ord(char):04X}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08X}"


def _languages(path: Path, label: str, value: object) -> str | tuple[str, ...]:
    """``[site] language`` or ``languages`` as BCP 47 tags (``"en"``, ``["en", "fr"]``)."""
    many = label.endswith("languages")
    if many and isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        given = [str(v) for v in value]
    elif many:
        raise ConfigError(f"{path}: {label} must be a list of language codes (\"en\", \"fr\"), "
                          f"not {_written(value)}")
    elif isinstance(value, str):
        given = [value]
    else:
        raise ConfigError(f"{path}: {label} must be a language code (\"en\"), not {_written(value)}")
    try:
        tags = [terms.language_tag(v, label) for v in given]
    except terms.TermsError as error:
        raise ConfigError(f"{path}: {error}") from None
    return tuple(dict.fromkeys(tags)) if many else tags[0]
