"""The demo app sits above the domain apps: it uses their services, and none of them imports it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = ["core", "directory", "forum", "chat", "cms", "search", "config"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_no_domain_app_imports_the_demo(app):
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / app).rglob("*.py"))
        if any(name == "demo" or name.startswith("demo.") for name in imported_modules(path))
    ]
    assert offenders == []


def test_seed_demo_is_a_command_of_the_demo_app():
    from django.core.management import get_commands

    assert get_commands()["seed_demo"] == "demo"
