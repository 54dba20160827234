"""The jinja2 environment: a site's own templates first, then the built-in ones, which
stay reachable as ``default:name.html`` (as in Datasette)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined

BUILTIN = Path(__file__).parent / "templates"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def environment(templates: Path | None = None) -> Environment:
    """An environment loading from ``templates`` (when given) before the built-in templates."""
    paths = ([str(templates)] if templates else []) + [str(BUILTIN)]
    loader = ChoiceLoader([
        FileSystemLoader(paths),
        PrefixLoader({"default": FileSystemLoader(str(BUILTIN))}, delimiter=":"),
    ])
    env = Environment(loader=loader, autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      auto_reload=False)
    env.filters["longdate"] = longdate
    return env


def longdate(day: date) -> str:
    """``1 March 2026``: unambiguous in every English locale.

    >>> longdate(date(2026, 3, 1))
    '1 March 2026'
    """
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
