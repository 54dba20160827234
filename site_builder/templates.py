"""The jinja2 environment: a site's own templates first, then the built-in ones, which
stay reachable as ``default:name.html`` (as in Datasette).

A site's templates come from its content repository, which many people may push to: with
overrides, every template renders in jinja2's sandbox (no access to Python internals, so no
``cycler.__init__.__globals__.os``), and an override is read only from a regular file inside
its folder (never through a symbolic link)."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, MutableMapping
from functools import cache
from pathlib import Path
from types import CodeType
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    __version__,
    pass_eval_context,
)
from jinja2.bccache import Bucket, FileSystemBytecodeCache
from jinja2.loaders import split_template_path
from jinja2.nodes import EvalContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from terms import file_problem, read_file

from .cache import code_version
from .errors import SiteBuildError
from .i18n import Localizer

BUILTIN = Path(__file__).parent / "templates"
MAX_TEMPLATE_BYTES = 2**20
"""The largest template or stylesheet override read (1 MiB)."""
OPTIONS: dict[str, Any] = {"autoescape": True, "trim_blocks": True, "lstrip_blocks": True,
                           "keep_trailing_newline": True, "auto_reload": False,
                           "extensions": ["jinja2.ext.i18n"]}
"""How every environment reads and compiles templates (besides its loader and ``undefined``)."""


class Overrides(BaseLoader):
    """Loads templates from a site's folder of overrides: regular files inside it only."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        data = override(self.folder, "/".join(split_template_path(template)))
        if data is None:
            raise TemplateNotFound(template)
        try:
            return data.decode("utf-8"), str(self.folder / template), lambda: True
        except UnicodeDecodeError as error:
            raise SiteBuildError(f"{self.folder / template} is not valid UTF-8 "
                                 f"(byte {error.start})") from None


def override(folder: Path, name: str) -> bytes | None:
    """The bytes of the override ``name`` in ``folder``, ``None`` when there is none. Raises
    :class:`SiteBuildError` when there is one that must not be read."""
    if not os.path.lexists(folder / name):
        return None
    problem = file_problem(folder, name, MAX_TEMPLATE_BYTES)
    data = read_file(folder, name, MAX_TEMPLATE_BYTES) if problem is None else None
    if data is None:
        raise SiteBuildError(f"{folder}: {problem or name + ' changed while it was read'}")
    return data


class _Template(Template):
    """A template whose ``{{ value }}`` passes a value already :class:`Markup` through as it is,
    where markupsafe's ``escape`` makes a copy of it (a diff page writes thousands of them)."""

    @classmethod
    def _from_namespace(cls, environment: Environment, namespace: MutableMapping[str, Any],
                        globals: MutableMapping[str, Any]) -> Template:
        namespace["escape"] = _escape  # what the template's code calls for each {{ value }}
        return super()._from_namespace(environment, namespace, globals)


def _escape(value: Any) -> Markup:
    """``markupsafe.escape(value)``."""
    return value if type(value) is Markup else escape(value)


def environment(templates: Path | None = None, localizer: Localizer | None = None) -> Environment:
    """An environment loading from ``templates`` (when given) before the built-in templates;
    sandboxed when there are ``templates``. Its words and dates are in the language of
    ``localizer`` (English when none), through jinja2's i18n extension (``{% trans %}``, ``_()``)."""
    builtin = FileSystemLoader(str(BUILTIN))
    loader = ChoiceLoader([
        *([Overrides(templates)] if templates else []),
        builtin,
        PrefixLoader({"default": builtin}, delimiter=":"),
    ])
    kind = ImmutableSandboxedEnvironment if templates else Environment
    env = kind(loader=loader, undefined=StrictUndefined, **OPTIONS)
    if not templates:
        env.bytecode_cache = _compiled()
    env.template_class = _Template
    localizer = localizer or Localizer("en")
    # added to the environment by the i18n extension at run time, unknown to jinja2's types
    env.install_gettext_callables(  # type: ignore[attr-defined]
        localizer.gettext, localizer.ngettext, newstyle=True)
    env.globals.update(_gettext_functions(localizer))
    env.filters["longdate"] = localizer.longdate
    env.globals.update(phrase=localizer.phrase, language_name=localizer.name,
                       day=lambda day: Markup('<time datetime="%s">%s</time>')
                       % (day.isoformat(), localizer.longdate(day)))
    return env


class _Compiled(FileSystemBytecodeCache):
    """jinja2's cache of compiled templates, in the folder of its own choosing that only this
    user may write to (it checks that), as Python keeps the bytecode of modules: the built-in
    templates are compiled once per installation rather than at every build (about 0.1 s of
    CPU). Entries are keyed by what compiles them too (jinja2's version, the code of
    ``site_builder``: :data:`OPTIONS`, the filters…); a folder that cannot be read or written,
    or an entry that cannot be read back, only means compiling."""

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(f"{__version__}|{code_version()}|{name}", filename)

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # damaged: jinja2 unpickles its checksum unguarded (EOFError, UnpicklingError…)
            bucket.reset()
        if bucket.code is not None and not isinstance(bucket.code, CodeType):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@cache
def _compiled() -> _Compiled | None:
    """The cache of compiled built-in templates; ``None`` where jinja2 finds no safe folder."""
    try:
        return _Compiled()
    except (OSError, RuntimeError):  # RuntimeError: a folder others may write to
        return None


def _gettext_functions(localizer: Localizer) -> dict[str, Callable[..., str]]:
    """``_``, ``gettext`` and ``ngettext`` as jinja2's i18n extension makes them with
    ``newstyle=True``, but each one call rather than three (a page says a few dozen words)."""

    @pass_eval_context
    def gettext(eval_context: EvalContext, string: str, /, **variables: Any) -> str:
        text = localizer.gettext(string)
        return (Markup(text) if eval_context.autoescape else text) % variables

    @pass_eval_context
    def ngettext(eval_context: EvalContext, singular: str, plural: str, count: int, /,
                 **variables: Any) -> str:
        variables.setdefault("num", count)
        text = localizer.ngettext(singular, plural, count)
        return (Markup(text) if eval_context.autoescape else text) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def compile_builtin(env: Environment, unused: tuple[str, ...] = ()) -> None:
    """Compile the templates that have the names of the built-in ones (a site's own where it
    overrides them), but the ``unused`` ones, so that the processes forked after share them;
    one that fails is left for the page that uses it to report."""
    for path in sorted(BUILTIN.iterdir()):
        if path.name in unused:
            continue
        try:
            env.get_template(path.name)
        except (TemplateError, SiteBuildError):
            pass


def render(env: Environment, names: tuple[str, ...], what: str, /, *args: Any, **context: Any) -> str:
    """The first of the templates ``names`` that exists, rendered with ``context``. Raises
    :class:`SiteBuildError` naming ``what`` is built and the template file and line at fault."""
    try:
        return env.select_template(names).render(*args, **context)
    except SiteBuildError:
        raise
    except Exception as error:  # a template can raise anything: {{ 1 // 0 }}
        if isinstance(error, TemplateError):
            message = str(error.message or type(error).__name__)
        elif isinstance(error, RecursionError):
            message = "the template includes, extends or calls itself without end"
        else:
            message = f"{type(error).__name__}: {error}"
        if type(error) is TemplateNotFound:
            message = f"there is no template {error.name!r}"
        raise SiteBuildError(f"error building {what}: {_where(error)}{' '.join(message.split())}") from None


def _where(error: Exception) -> str:
    """``template <file>, line <n>: `` of the template at fault, when it is known."""
    if isinstance(error, TemplateSyntaxError) and error.filename:
        return f"template {error.filename}, line {error.lineno}: "
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f.filename.endswith((".html", ".xml")) and f.lineno]
    return f"template {frames[-1].filename}, line {frames[-1].lineno}: " if frames else ""
