"""Read one revision of a document file: front matter, body and the problems in them."""

from __future__ import annotations

import calendar
import codecs
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml
from frontmatter.default_handlers import YAMLHandler
from slugify import slugify

from .markdown import unclosed_comment, without_comments
from .model import Problem
from .sections import first_heading
from .text import normalize

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 64
"""The most characters of a slug or a label: each names a folder of the site (a file name of
the system), and a slug a document of the ledger."""
_KEY = re.compile(r"^([^\s:#][^:]*?)\s*:")
"""A front-matter line that starts a key."""
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Characters XML cannot hold, and other control characters (tab and line breaks excepted)."""
FRONT_MATTER_KEYS = ("title", "slug", "effective", "summary", "material", "references", "label")
"""The front-matter keys termsledger reads; any other key is kept in ``extra``, ignored, and
reported (see :func:`read_source`)."""
_WORD = re.compile(r"[-_\s]|(?<=[a-z])(?=[A-Z])")
"""Where the words of a key (``effective_date``, ``effectiveDate``) meet."""
_NESTED = 100
"""The most brackets (``[``, ``{``) front matter may nest: YAML's reader may crash on many more."""
_KEPT_DEPTH, _KEPT_ITEMS = 20, 10_000
"""The deepest nesting and the most items of a value of a key termsledger does not use that it
keeps (in ``extra``), as written out (an alias repeats a value): others are left out."""
_HANDLER = YAMLHandler()


class _Written(reprlib.Repr):
    """Values as the editor wrote them in YAML (``2026-01-01``, ``true``, ``null``), not as
    Python writes them (``datetime.date(2026, 1, 1)``, ``True``, ``None``)."""

    def repr_bool(self, value: bool, level: int) -> str:
        return "true" if value else "false"

    def repr_NoneType(self, value: None, level: int) -> str:
        return "null"

    def repr_date(self, value: date, level: int) -> str:
        return value.isoformat()

    def repr_datetime(self, value: datetime, level: int) -> str:
        return value.isoformat()


_REPR = _Written()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 1, 6, 6, 80, 80
_BOOLEAN = ("YAML reads yes, no, on, off, true and false as true or false: put the value in quotes "
            "to keep it as text")


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # libyaml's loader when it is installed: the same rules, faster
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """Safe YAML loader that keeps an impossible date (``2025-13-01``) as text,
    so that the field, not the whole front matter, is reported."""


def _timestamp(loader: _Loader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


@dataclass
class Source:
    """The fields of one revision of a document file, with defaults filled in."""

    path: str
    slug: str
    title: str
    body: str
    body_line: int
    effective: date | None = None
    label: str | None = None
    summary: str = ""
    material: bool | None = None
    references: tuple[str, ...] = ()
    undated: bool = False
    """True when the front matter gives an effective date that is not a date, or cannot be
    read at all: the text's day of effect is unknown."""
    unreadable: bool = False
    """True when the front matter cannot be read (not YAML, not closed, not a mapping): its
    fields, the slug included, are unknown."""
    extra: dict[str, Any] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)
    """Line of the file on which each front-matter key stands."""
    problems: list[Problem] = field(default_factory=list)


def read_source(path: str, data: bytes, fields: Mapping[str, str] | None = None) -> Source:
    """Parse the bytes of a document file. Problems are collected, never raised:
    a field that is wrong is reported and replaced by its default.

    :param fields: the repository's own key for some of termsledger's fields
        (``{"effective": "last_updated"}``); their own names then mean nothing to termsledger.
    """
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        text = data.decode("utf-8", errors="replace")
        problems.append(Problem(path, line, "error", "saved as UTF-16, not UTF-8: save it as UTF-8"
                                if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else
                                f"not valid UTF-8: byte 0x{data[error.start]:02x} at offset {error.start}"))
    text = text.lstrip("\ufeff")
    if "\r" in text:  # Windows' line ends, and old Macs' (CR alone), read as the body's are (normalize)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta, fm_lines, body, body_line, unreadable = {}, [], text, 1, False
    if _HANDLER.detect(text):
        try:
            fm, content = _HANDLER.split(text)
        except ValueError:
            fm, content, unreadable = None, text, True
            problems.append(Problem(path, 1, "error",
                                    "front matter is not closed: add a line with '---' after it"))
        if fm is not None:
            fm_lines = fm.split("\n")
            body_line = text[: len(text) - len(content)].count("\n") + 1
            body = content
            nested = _nested_line(fm)
            if nested is not None:
                problems.append(Problem(path, nested, "error",
                                        f"front matter nests lists or mappings more than {_NESTED} deep: "
                                        f"it cannot be read"))
                loaded, unreadable = {}, True
            else:
                try:
                    loaded = _HANDLER.load(fm, Loader=_Loader)
                except yaml.YAMLError as error:
                    line, reason = _yaml_problem(error, fm_lines)
                    problems.append(Problem(path, line, "error", f"front matter is not valid YAML: {reason}"))
                    loaded, unreadable = {}, True
            if loaded is None:
                loaded = {}
            if not isinstance(loaded, dict):
                problems.append(Problem(path, 2, "error",
                                        "front matter must be a mapping of keys to values (key: value)"))
                loaded, unreadable = {}, True
            meta = loaded
    if not body.strip():
        problems.append(Problem(path, len(fm_lines) + 1, "error",
                                "document is empty: it has no text after the front matter"))
    stripped = body.lstrip("\r\n \t")
    body_line += body[: len(body) - len(stripped)].count("\n")
    body = normalize(body)
    unclosed = unclosed_comment(body)
    if unclosed is not None:
        problems.append(Problem(path, body_line + unclosed - 1, "error",
                                "this comment is never closed (no '-->' after it), so the rest of the "
                                "document is left out of the site: close it with -->"))
    source = Source(path=path, slug=file_slug(path), title="", body=body, body_line=body_line,
                    problems=problems, undated=unreadable, unreadable=unreadable)
    if meta:
        _twice(source, fm_lines)
    _apply_fields(source, meta, fm_lines, fields or {})
    return source


def file_slug(path: str) -> str:
    """The slug made from the name of the file at ``path``, for front matter without ``slug:``.

    >>> file_slug("legal/Refund Policy.md")
    'refund-policy'
    """
    return slugify(PurePosixPath(path).stem)


def _yaml_problem(error: yaml.YAMLError, fm_lines: list[str]) -> tuple[int, str]:
    """The line of the file (``fm_lines`` start on line 1, the ``---``) and the words for a YAML
    error, the common mistakes of people who do not write YAML every day explained."""
    problem = str(getattr(error, "problem", None) or error)
    context = str(getattr(error, "context", None) or "")
    at, start = getattr(error, "problem_mark", None), getattr(error, "context_mark", None)

    def line(mark: yaml.Mark | None) -> int:
        return mark.line + 1 if mark is not None else 1

    def text(mark: yaml.Mark | None) -> str:
        return fm_lines[mark.line] if mark is not None and mark.line < len(fm_lines) else ""

    def quoted(mark: yaml.Mark | None) -> str:
        key, _, value = text(mark).partition(":")
        key, value = key.strip(), value.strip()
        if not (key and value):
            return "put the value in quotes"
        if '"' not in value:
            return f'put the value in quotes: {key}: "{value}"'
        doubled = value.replace("'", "''")  # '' is a quote inside '…'
        return f"put the value in quotes: {key}: '{doubled}'"

    if problem.startswith(("did not find expected ',' or ']'", "expected ',' or ']'")):
        return line(start), "the list opened with '[' on this line is never closed with ']'"
    if problem.startswith(("did not find expected ',' or '}'", "expected ',' or '}'")):
        return line(start), "the '{' on this line is never closed with '}'"
    if "quoted scalar" in context and "end of stream" in problem:
        return line(start), "the quotation mark opened on this line is never closed"
    if isinstance(error, yaml.reader.ReaderError):
        return ("\n".join(fm_lines)[:error.position].count("\n") + 1,
                f"this line holds the control character U+{error.character:04X}: remove it")
    if "tab character" in problem or "'\\t'" in problem:
        return line(at), "this line holds a tab character: indent with spaces"
    if problem.startswith("mapping values are not allowed"):
        if text(at)[:1].isspace():
            return line(at), ("this line is indented, but the key above it holds a value, not other keys: "
                              "start the line at the beginning")
        return line(at), (f"the value holds ': ' (a colon and a space), which reads as another key: "
                          f"{quoted(at)}")
    if problem.startswith("could not find expected ':'"):
        return line(start), ("this line is not 'key: value': write the key, a colon and a space, then the "
                             "value")
    if problem.startswith("found character") and "cannot start any token" in problem:
        char = text(at)[at.column:at.column + 1] if at is not None else ""
        return line(at), f"a value cannot start with {char!r}: {quoted(at)}"
    if problem.startswith("found undefined alias"):
        return line(at), (f"a value cannot start with '*' (it reads as a reference to another value): "
                          f"{quoted(at)}")
    if problem.startswith(("did not find expected key", "expected <block end>")):
        if at is not None and text(at)[at.column:].startswith("-"):
            return line(at), ("a list item ('- ...') where a key is expected: list items go on the lines "
                              "under their key, after 'references:'")
        return line(at), f"there is more text after the value: {quoted(at)}"
    return line(at or start), problem


def _key_lines(fm_lines: list[str]) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(fm_lines):
        match = _KEY.match(line)
        if match:
            lines.setdefault(match.group(1), number + 1)
    return lines


def _twice(source: Source, fm_lines: list[str]) -> None:
    """An error for each key given a second time (YAML keeps the last silently)."""
    first: dict[str, int] = {}
    for number, line in enumerate(fm_lines, 1):
        match = _KEY.match(line)
        if match and match.group(1) in first:
            source.problems.append(Problem(source.path, number, "error",
                f"{match.group(1)!r} is given twice, on lines {first[match.group(1)]} and {number}: only the "
                f"last counts; remove one"))
        elif match:
            first[match.group(1)] = number


def _apply_fields(source: Source, meta: dict[Any, Any], fm_lines: list[str],
                  fields: Mapping[str, str]) -> None:
    names = {fields.get(key, key): key for key in FRONT_MATTER_KEYS}  # the file's key -> our field
    source.key_lines = {names.get(key, key): line for key, line in _key_lines(fm_lines).items()
                        if key in names or key not in fields}

    def wrong(key: str, message: str) -> None:
        if key in fields:
            message = f"{fields[key]}: {message}"
        source.problems.append(Problem(source.path, source.key_lines.get(key, 1), "error", message))

    for key, value in meta.items():
        if not isinstance(key, str):
            wrong(str(key), f"front-matter key {_shown(key)} is not a name")
        elif key not in names:
            _other_key(source, key, value, list(names), fields)
    meta = {names[key]: value for key, value in meta.items() if key in names}

    slug = meta.get("slug")
    if slug is not None:
        if isinstance(slug, str) and SLUG.match(slug) and len(slug) <= MAX_SLUG:
            source.slug = slug
        elif isinstance(slug, str) and SLUG.match(slug):
            wrong("slug", f"slug {_shown(slug)} is {len(slug)} characters long: a slug names a folder of the "
                          f"site and a document of the ledger, at most {MAX_SLUG} characters")
        elif isinstance(slug, (int, float)) and not isinstance(slug, bool) and SLUG.match(str(slug)):
            wrong("slug", f"slug {_shown(slug)} must be text: put it in quotes (slug: '{slug}')")
        else:
            written = isinstance(slug, (str, int, float)) and not isinstance(slug, bool)
            example = slugify(str(slug)) if written else ""
            wrong("slug", f"slug {_shown(slug)} is invalid: use lowercase letters, digits and single hyphens "
                          f"(for example {example or 'terms'!r})")
    if not SLUG.match(source.slug):
        wrong("slug", f"cannot make a slug from the file name {source.path!r}: add 'slug:' to the "
                      f"front matter")
    elif len(source.slug) > MAX_SLUG:
        wrong("slug", f"the slug made from the file name is {len(source.slug)} characters long, more than "
                      f"{MAX_SLUG}: add a shorter 'slug:' to the front matter")

    title = meta.get("title")
    if title is not None and not (isinstance(title, str) and without_comments(title).strip()):
        wrong("title", f"title must be text, not {_shown(title)}")
        title = None
    title_line = source.key_lines.get("title", 1)
    if title is None:
        heading = first_heading(without_comments(source.body))
        title = heading.text if heading else PurePosixPath(source.path).stem
        title_line = source.body_line + heading.line - 1 if heading else 1
    source.title = _plain(source, "title", str(title), title_line)

    if "effective" in meta:
        day = _day(meta["effective"])
        if isinstance(day, date):
            source.effective = day
        else:
            source.undated = True
            wrong("effective", f"effective date {day}")

    label = meta.get("label")
    if label is not None:
        valid = isinstance(label, (str, int)) and not isinstance(label, bool) and bool(SLUG.match(str(label)))
        if valid and len(str(label)) <= MAX_SLUG:
            source.label = str(label)
        elif valid:
            wrong("label", f"label {_shown(label)} is {len(str(label))} characters long: a label names a "
                           f"folder of the site, at most {MAX_SLUG} characters")
        else:
            wrong("label", f"label {_shown(label)} is invalid: use lowercase letters, digits and single "
                           f"hyphens")

    summary = meta.get("summary")
    if summary is not None:
        if isinstance(summary, str):
            source.summary = _plain(source, "summary", summary, source.key_lines.get("summary", 1))
        else:
            wrong("summary", f"summary must be text, not {_shown(summary)}")

    material = meta.get("material")
    if material is not None:
        if isinstance(material, bool):
            source.material = material
        else:
            wrong("material", f"material must be true or false, not {_shown(material)}")

    references = meta.get("references")
    if references is not None:
        if isinstance(references, str):
            references = [references]
        if isinstance(references, list) and all(isinstance(r, str) for r in references):
            source.references = tuple(dict.fromkeys(references))
        else:
            wrong("references", f"references must be a list of document slugs, not {_shown(references)}")


def _other_key(source: Source, key: str, value: Any, known: list[str], fields: Mapping[str, str]) -> None:
    """Keep ``key``, a front-matter key termsledger does not read, in ``extra`` (unless its value
    is too large); report it: an error when it looks like one of the ``known`` keys misspelled
    (its value may change what users accept), else a warning (other tools' keys, such as
    Jekyll's ``layout``, are kept), none for a key that ``fields`` replaced."""
    small, line = _small(value), source.key_lines.get(key, 1)
    if small:
        source.extra[key] = value
    meant = None if key in fields else _meant(key, known)
    if meant is not None:
        source.problems.append(Problem(source.path, line, "error",
            f"unknown front-matter key {key!r}, so its value is ignored: did you mean {meant!r}?"))
    elif not small:
        source.problems.append(Problem(source.path, line, "warning",
            f"{key!r} holds a value nested more than {_KEPT_DEPTH} levels deep or of more than "
            f"{_KEPT_ITEMS} items: it is left out (termsledger does not use it)"))
    elif key not in fields:
        source.problems.append(Problem(source.path, line, "warning",
            f"unknown front-matter key {key!r} is ignored (another tool may read it): termsledger's keys "
            f"are {', '.join(known)}; rename it if one of them is meant"))


def _meant(key: str, known: list[str]) -> str | None:
    """The key of ``known`` that ``key`` looks like a misspelling of, if one: the same in
    another case, one typo away (two for the longer keys), or with words after it.

    >>> _meant("refrences", ["references"]), _meant("effective_date", ["effective"])
    ('references', 'effective')
    >>> _meant("subtitle", ["title"]) is None
    True
    """
    from rapidfuzz.distance import OSA  # here: only an unknown key needs it

    lowered = key.lower()
    for name in known:
        if OSA.distance(lowered, name.lower()) <= (1 if len(name) <= 5 else 2):
            return name
    first = _WORD.split(key)[0].lower()
    return next((name for name in known if first != lowered and first == name.lower()), None)


def _plain(source: Source, name: str, text: str, line: int) -> str:
    """``text`` on one line, without comments and control characters (a problem for each of
    those: titles and summaries go into the Atom feed, and XML has no room for them)."""
    control = _CONTROL.search(text)
    if control:
        source.problems.append(Problem(source.path, line, "error",
                                       f"the {name} holds the control character "
                                       f"U+{ord(control.group()):04X}: remove it"))
    return " ".join(_CONTROL.sub("", without_comments(text)).split())


def _nested_line(fm: str) -> int | None:
    """The line on which brackets in ``fm`` (quoted or not) first nest more than :data:`_NESTED`
    deep, if they do."""
    depth = 0
    for at, char in enumerate(fm):
        if char in "[{":
            depth += 1
            if depth > _NESTED:
                return fm.count("\n", 0, at) + 1
        elif char in "]}":
            depth = max(depth - 1, 0)
    return None


def _small(value: Any) -> bool:
    """Whether ``value`` is nested at most :data:`_KEPT_DEPTH` deep and holds at most
    :data:`_KEPT_ITEMS` items, counted as written out (without recursion, so that any value
    can be told)."""
    waiting, count = [(value, 0)], 0
    while waiting:
        item, depth = waiting.pop()
        count += 1
        if count > _KEPT_ITEMS or depth > _KEPT_DEPTH:
            return False
        if isinstance(item, dict):
            waiting.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple, set)):
            waiting.extend((part, depth + 1) for part in item)
    return True


def _shown(value: Any) -> str:
    """``value`` as YAML writes it, cut short: with YAML aliases a few lines of front matter make
    a value of billions of items, which an error message must not spell out. A true or false
    value says why it is one (``slug: no`` is false)."""
    shown = _REPR.repr(value)
    return f"{shown} ({_BOOLEAN})" if isinstance(value, bool) else shown


def _day(value: Any) -> date | str:
    """``value`` (an effective date as YAML read it) as a day of UTC, or what is wrong with it."""
    if isinstance(value, datetime):
        try:
            return (value.astimezone(timezone.utc) if value.tzinfo else value).date()
        except OverflowError:
            outside = "before year 1" if value.year == 1 else "after year 9999"
            return f"{value.isoformat()!r} is {outside} in UTC"
    if value is None:
        return "is empty: write it as YYYY-MM-DD"
    if isinstance(value, str):
        value = _iso_date(value)
    return value if isinstance(value, date) else f"{_shown(value)} {not_a_date(value)}"


def not_a_date(value: Any) -> str:
    """Why ``value`` (not a ``YYYY-MM-DD`` day) is not a date, in words.

    >>> not_a_date("2027-02-30")
    'is not a day of the calendar: February 2027 has 28 days'
    >>> not_a_date("2027-13-01")
    'is not a day of the calendar: a year has 12 months'
    >>> not_a_date("next monday")
    'is not a date: write it as YYYY-MM-DD'
    >>> not_a_date("\uff12\uff10\uff12\uff15-05-01")
    'is not a date: write it as YYYY-MM-DD with the digits 0 to 9'
    """
    match = _DAY.fullmatch(value) if isinstance(value, str) else None
    if match is None and isinstance(value, str) and any(c.isdigit() and not c.isascii() for c in value):
        return "is not a date: write it as YYYY-MM-DD with the digits 0 to 9"
    if match is None:
        return "is not a date: write it as YYYY-MM-DD"
    year, month, day = (int(part) for part in match.groups())
    if year == 0:
        return "is not a day of the calendar: years start at 1"
    if not 1 <= month <= 12:
        return "is not a day of the calendar: a year has 12 months"
    if day == 0:
        return "is not a day of the calendar: days of the month start at 1"
    days = calendar.monthrange(year, month)[1]
    return f"is not a day of the calendar: {calendar.month_name[month]} {year} has {days} days"


def _iso_date(text: str) -> date | str:
    """``text`` as a date when it is one written as ``YYYY-MM-DD`` (a quoted date), else unchanged."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text
