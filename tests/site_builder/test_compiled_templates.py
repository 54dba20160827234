"""The built-in templates are compiled once per user and installation (jinja2's bytecode cache,
in the private folder it chooses under ``TMPDIR``), never a site's own templates, and a cache
that cannot be used only means compiling."""

from __future__ import annotations

import os
import subprocess
import sys

BUILD = """
import sys
from datetime import date
import jinja2
import terms, site_builder
if sys.argv[3] == "no compiling":
    def refused(*args, **kwargs):
        raise AssertionError("a built-in template was compiled again")
    jinja2.Environment._compile = refused
site_builder.build(terms.load(sys.argv[1]), sys.argv[2], now=date(2025, 7, 1))
"""


def _build(content, out, tmp, mode="compile"):
    environ = dict(os.environ, TMPDIR=str(tmp))
    return subprocess.run([sys.executable, "-c", BUILD, str(content), str(out), mode], env=environ,
                          capture_output=True, text=True)


def test_a_second_build_loads_the_compiled_built_in_templates(example_content, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    first = _build(example_content, tmp_path / "one", tmp)
    assert first.returncode == 0, first.stderr
    folder = tmp / f"_jinja2-cache-{os.getuid()}"
    assert oct(folder.stat().st_mode & 0o777) == "0o700" and any(folder.iterdir())
    second = _build(example_content, tmp_path / "two", tmp, "no compiling")
    assert second.returncode == 0, second.stderr
    pages = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.html"))
    assert pages and all((tmp_path / "one" / p).read_bytes() == (tmp_path / "two" / p).read_bytes()
                         for p in pages)


def test_a_damaged_entry_is_compiled_again(example_content, tmp_path):
    from jinja2.bccache import bc_magic

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    assert _build(example_content, tmp_path / "one", tmp).returncode == 0
    entries = list((tmp / f"_jinja2-cache-{os.getuid()}").iterdir())
    for n, entry in enumerate(entries):  # jinja2's header, then a cut or garbled checksum
        entry.write_bytes(bc_magic + (b"" if n % 2 else b"\x00garbage"))
    done = _build(example_content, tmp_path / "two", tmp)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "two" / "index.html").read_bytes() == (tmp_path / "one" / "index.html").read_bytes()
    assert all(entry.stat().st_size > len(bc_magic) + 9 for entry in entries)  # written again


def test_a_cache_folder_that_is_not_safe_is_not_used(example_content, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    (tmp / f"_jinja2-cache-{os.getuid()}").write_text("not a folder")  # jinja2 refuses it
    done = _build(example_content, tmp_path / "site", tmp)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_a_sites_own_templates_are_never_read_from_the_cache(tmp_path):
    from site_builder.templates import environment

    (tmp_path / "_footer.html").write_text("<footer>Ours</footer>\n", encoding="utf-8")
    assert environment(tmp_path).bytecode_cache is None  # sandboxed: compiled from their source
    assert environment().bytecode_cache is not None
