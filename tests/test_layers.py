"""The layers of docs/architecture.md, read from the source: core <- directory <- moderation <- (forum, chat,
cms) <- membership <- parrainage <- search <- demo <- config. A lower layer never imports a higher one.
import-linter (.importlinter, `make test`) checks the same order on the import graph; this test also
reads the migrations, which import-linter does not see as a separate concern.

Every `import` and `from … import` statement counts, lazy ones inside functions included: a lazy
import is still a dependency, only a hidden one. Migrations count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Apps above the directory, and the demo data, which sits above everything.
ABOVE_DIRECTORY = {"moderation", "parrainage", "membership", "forum", "chat", "cms", "search", "demo"}
DOMAIN_APPS = ["directory", "membership", "parrainage", "forum", "chat", "cms", "search"]

PROJECT_APPS = {"directory", *ABOVE_DIRECTORY, "config"}


def python_files(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if "__pycache__" not in p.parts)


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """The top-level package of every absolute import in `path`, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((alias.name.split(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def offending_imports(app: str, forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {package}"
        for path in python_files(app)
        for package, line in sorted(imported_packages(path), key=lambda item: item[1])
        if package in forbidden
    ]


def test_the_directory_imports_no_app_above_it():
    """Only core below it; the settings are read through django.conf, never by importing config."""
    assert python_files("directory"), "the directory's sources were not found"
    assert offending_imports("directory", ABOVE_DIRECTORY | {"config"}) == []


def test_core_imports_no_project_app():
    """The bottom layer: the apps above fill its registries (core.schedule.register, core.backup.after_restore)."""
    assert python_files("core"), "core's sources were not found"
    assert offending_imports("core", PROJECT_APPS) == []


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_no_domain_app_imports_config(app):
    assert offending_imports(app, {"config"}) == []


def test_the_moderation_log_imports_only_the_directory_below_it():
    """moderation/ sits above the directory and below the forum and the chat, which write to it."""
    forbidden = (ABOVE_DIRECTORY - {"moderation"}) | {"config"}
    assert python_files("moderation"), "the moderation app's sources were not found"
    assert offending_imports("moderation", forbidden) == []


# Membership and parrainage sit above forum, chat and cms, which hear of them only through registries
# (chat.selectors.add_contact_source, directory.dashboard.add_section).
@pytest.mark.parametrize("app", ["forum", "chat", "cms"])
def test_forum_and_chat_import_neither_membership_nor_parrainage(app):
    assert offending_imports(app, {"membership", "parrainage"}) == []


def test_membership_does_not_import_parrainage():
    """Parrainage reads admitted applications and shows the commission's pages in its URL namespace;
    membership hands an admission over through directory.admission, never by importing parrainage."""
    assert offending_imports("membership", {"parrainage"}) == []


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_no_domain_app_imports_the_demo_data(app):
    assert offending_imports(app, {"demo"}) == []


def test_the_scan_sees_lazy_and_dotted_imports(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text("import chat.models\n\ndef f():\n    from forum import selectors\n    from . import local\n")
    assert {package for package, _line in imported_packages(source)} == {"chat", "forum"}
