"""No hidden dependencies: the project's modules are imported at module level (issue 15, docs/architecture.md).

An import of a project module inside a function hides an arrow between modules from the reader and
from import-linter's cycle contract until the function runs. Three places may still need one, and
say so:

- an AppConfig's `ready()`, where an app connects its receivers and fills the registries of the apps
  below it (directory.hooks, core.schedule…) once every model is loaded;
- any other import marked on its line, or the line before, with `# local import: <reason>` (an
  optional heavy backend loaded only when configured, Django's app-registry loading order).

The apps' code is read with `ast` (not the tests, not migrations, which are frozen history).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

APPS = ["core", "config", "directory", "moderation", "membership", "parrainage", "forum", "chat", "cms", "search",
        "demo"]
SKIPPED_PARTS = {"migrations", "tests", "__pycache__"}
MARK = "# local import:"


def python_files(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if not SKIPPED_PARTS.intersection(p.parts))


def _imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # a relative import is always one of the project's own modules
        return ["." * node.level + (node.module or "")]
    return [node.module or ""]


def _is_project_module(name: str) -> bool:
    return name.startswith(".") or name.split(".")[0] in APPS


def _is_app_config(node: ast.ClassDef) -> bool:
    return any((isinstance(base, ast.Name) and base.id.endswith("AppConfig"))
               or (isinstance(base, ast.Attribute) and base.attr.endswith("AppConfig")) for base in node.bases)


def _is_marked(lines: list[str], node: ast.stmt) -> bool:
    """The import's own lines, or the line before it, carry `# local import: <reason>` with a reason."""
    first = max(node.lineno - 2, 0)
    for line in lines[first:node.end_lineno]:
        _code, mark, reason = line.partition(MARK)
        if mark and reason.strip():
            return True
    return False


def unexplained_local_imports(path: Path, root: Path = ROOT) -> list[str]:
    """`path:line in function(): module` for each project import inside a function that is neither in
    an AppConfig's ready() nor marked with its reason."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found: list[str] = []

    def visit(node: ast.AST, function: str | None, in_app_config: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, function, _is_app_config(child))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if in_app_config and function is None and child.name == "ready":
                    continue  # AppConfig.ready(): where an app wires itself once the models are loaded
                visit(child, child.name if function is None else f"{function}.{child.name}", False)
            elif isinstance(child, (ast.Import, ast.ImportFrom)) and function is not None:
                modules = [name for name in _imported_modules(child) if _is_project_module(name)]
                if modules and not _is_marked(lines, child):
                    found.extend(f"{path.relative_to(root)}:{child.lineno} in {function}(): {name}"
                                 for name in modules)
            else:
                visit(child, function, in_app_config)

    visit(ast.parse(source, filename=str(path)), None, False)
    return found


def test_project_modules_are_imported_at_module_level():
    files = [path for app in APPS for path in python_files(app)]
    assert len(files) > 100, "the apps' sources were not found"
    assert [found for path in files for found in unexplained_local_imports(path)] == []


def test_the_scan_finds_hidden_imports_and_accepts_explained_ones(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from django.apps import AppConfig\n"
        "import forum.models\n"
        "\n"
        "class SampleConfig(AppConfig):\n"
        "    def ready(self):\n"
        "        from chat import tasks\n"
        "\n"
        "class Service:\n"
        "    def ready(self):\n"
        "        from chat import selectors\n"
        "\n"
        "def hidden():\n"
        "    import json\n"
        "    from forum import services\n"
        "    from . import sibling\n"
        "    def inner():\n"
        "        import directory.access\n"
        "\n"
        "def explained():\n"
        "    # local import: an optional backend\n"
        "    from search.stores import elastic\n"
        "    from core import (  # local import: app-registry order\n"
        "        ics,\n"
        "    )\n"
        "    from core import markup  # local import:\n"
    )
    found = [line.split(" ", 1)[1] for line in unexplained_local_imports(sample, root=tmp_path)]
    assert found == [
        "in ready(): chat",
        "in hidden(): forum",
        "in hidden(): .",
        "in hidden.inner(): directory.access",
        "in explained(): core",  # a mark without a reason is no reason
    ]

