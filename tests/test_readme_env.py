"""Every environment variable that config/settings.py reads is in the README's table.

The settings are read from the source, not imported: `os.environ.get("X")`, `os.environ["X"]`,
`os.getenv("X")`, and calls to the settings' own helpers (`env_bool("X", …)`, `env_list("X", …)`:
any function of the module that passes its first parameter to one of those reads). A read whose
name is not a literal string cannot be checked, so it fails here too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "config" / "settings.py"
README = ROOT / "README.md"
TABLE_HEADING = "## Variables d'environnement"
# A README row may stand for a family: `<NOM>_RATE_LIMIT` with the names listed in the same row.
FAMILY = "<NOM>"


def _is_os_environ(node: ast.AST) -> bool:
    """`os.environ`, or `environ` imported from os."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def _read_name(node: ast.AST) -> ast.AST | None:
    """The expression naming the variable when `node` reads the environment, else None."""
    if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
        return node.slice
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value):
            return node.args[0]
        if isinstance(func, ast.Attribute) and func.attr == "getenv" and isinstance(func.value, ast.Name) \
                and func.value.id == "os":
            return node.args[0]
        if isinstance(func, ast.Name) and func.id == "getenv":
            return node.args[0]
    return None


def _env_helpers(tree: ast.Module) -> set[str]:
    """Functions of the module that read the variable named by their first parameter."""
    helpers = set()
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef) or not function.args.args:
            continue
        first = function.args.args[0].arg
        for node in ast.walk(function):
            name = _read_name(node)
            if isinstance(name, ast.Name) and name.id == first:
                helpers.add(function.name)
    return helpers


def variables_read_by_settings() -> tuple[set[str], list[str]]:
    """(names read, reads whose name is not a literal string, as `line: source`)."""
    source = SETTINGS.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(SETTINGS))
    helpers = _env_helpers(tree)
    helper_bodies = {id(node) for function in tree.body
                     if isinstance(function, ast.FunctionDef) and function.name in helpers
                     for node in ast.walk(function)}
    names, unreadable = set(), []
    for node in ast.walk(tree):
        if id(node) in helper_bodies:
            continue
        name = _read_name(node)
        if name is None and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in helpers and node.args:
            name = node.args[0]
        if name is None:
            continue
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            names.add(name.value)
        else:
            unreadable.append(f"{node.lineno}: {ast.get_source_segment(source, node)}")
    return names, unreadable


def variables_in_readme() -> set[str]:
    """The names in the first column of the README's table, families expanded."""
    text = README.read_text(encoding="utf-8")
    assert TABLE_HEADING in text, f"the README has no section {TABLE_HEADING!r}"
    section = text.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        first = re.findall(r"`([^`]+)`", cells[0])
        for name in first:
            if FAMILY in name:
                members = re.findall(r"`([A-Z][A-Z0-9_]*)`", " ".join(cells[1:]))
                names.update(name.replace(FAMILY, member) for member in members)
            else:
                names.add(name)
    return names


def test_the_settings_name_every_variable_they_read_literally():
    _names, unreadable = variables_read_by_settings()
    assert unreadable == []


def test_the_settings_read_the_environment_as_this_test_expects():
    names, _unreadable = variables_read_by_settings()
    # The parser sees plain reads and the env_bool / env_list helpers alike.
    assert {"SECRET_KEY", "DATABASE_URL", "DEBUG", "ALLOWED_HOSTS", "PASSERELLES_DEMO_SERVER"} <= names


def test_every_variable_read_by_the_settings_is_in_the_readme_table():
    names, _unreadable = variables_read_by_settings()
    assert sorted(names - variables_in_readme()) == []
