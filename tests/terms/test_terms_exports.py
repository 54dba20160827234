"""The packages built on ``terms`` use its public names only: everything they need is exported
from ``terms`` itself, so its modules can be rearranged freely and the type checker sees every
name (no lazy ``__getattr__``)."""

from __future__ import annotations

import ast

from support.repo import ROOT

import terms

USERS = ("site_builder", "consent", "termsledger")


def _imports_of_terms() -> list[tuple[str, str, str]]:
    """``(file, module, name)`` for each name imported from ``terms`` or one of its modules."""
    found = []
    for package in USERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                shown = str(path.relative_to(ROOT))
                if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "terms":
                    found += [(shown, node.module, alias.name) for alias in node.names]
                elif isinstance(node, ast.Import):
                    found += [(shown, alias.name, "") for alias in node.names
                              if alias.name.split(".")[0] == "terms"]
    return found


def test_site_builder_consent_and_the_cli_import_only_from_terms_itself():
    imports = _imports_of_terms()
    assert len(imports) > 20, "the scan finds the imports of terms"
    assert [(f, module) for f, module, _ in imports if module != "terms"] == []


def test_every_name_they_import_is_exported():
    imported = {name for _, _, name in _imports_of_terms() if name}
    assert imported - set(terms.__all__) == set()
    assert [name for name in terms.__all__ if not hasattr(terms, name)] == []
