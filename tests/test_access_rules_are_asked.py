"""Access is asked of directory/access.py, never restated (issue 15; docs/access.md).

The project's Python code and templates (not the tests, not migrations) are read for the four ways a
rule gets restated outside the access module:

- the account flags `is_superuser` and `is_staff` (the access module reads them: a superuser passes
  Wagtail's restrictions, `opens_site_admin` is Django's rule for /admin/; templates use the filters
  of directory/templatetags/access_tags.py);
- a group's label (directory.roles: ROLE_GROUP_NAMES, the region and working-group prefixes): groups
  are found by key, never by name;
- a lookup through a person's groups (`groups__managed__key=…`): the access module's querysets
  (`members`, `role_holders`…) say who is in them;
- machina's permission checker or handler imported, or its handler class asked of machina's loader:
  `access.forum_permission_handler()` gives the class machina's own views use (our override).

A place that legitimately needs one of them is listed in ALLOWED with the reason. Adding a use
anywhere else fails this test: ask directory.access (or add the question there) instead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from directory.roles import REGION_GROUP_PREFIX, ROLE_GROUP_NAMES, WORKING_GROUP_GROUP_PREFIX

ROOT = Path(__file__).resolve().parent.parent

# Not the project's application code: tests and their fixtures, migrations (history, frozen), tools.
SKIPPED_PARTS = {"tests", "migrations", ".venv", "node_modules", "__pycache__", ".git", "static", "staticfiles"}
SKIPPED_FILES = {"conftest.py"}  # the root conftest holds the tests' fixtures
RULE_BOOK = "directory/access.py"

FLAGS = "account flag"
LABELS = "group label"
GROUP_LOOKUPS = "group lookup"
MACHINA = "machina permission class"

# (file, kind of use) -> why it is not an access decision. Keep the reasons: they are the review.
ALLOWED: dict[tuple[str, str], str] = {
    # Accounts: the flags are account data written when an account is created, not rules read.
    ("directory/services.py", FLAGS): "create_person takes the admin flags of a new account",
    ("directory/administrators.py", FLAGS): "create_admin makes the federation's administrators",
    ("directory/admin.py", FLAGS): "Django admin's user form and list show and edit the flags",
    ("demo/directory.py", FLAGS): "the demo's accounts are created with their admin flags",
    # machina's override recipe: our handler subclasses machina's (forum/overrides).
    ("forum/overrides/forum_permission/handler.py", FLAGS): "machina's superuser rule, in machina's handler",
    ("forum/overrides/forum_permission/handler.py", MACHINA): "the override subclasses machina's handler",
    # Labels for people that happen to spell a role group's label: nothing looks a group up by them.
    ("directory/roles.py", LABELS): "where the labels are defined",
    ("directory/administrators.py", LABELS): "the administrators' job title, 'Équipe fédérale'",
    ("forum/structure.py", LABELS): "titles of forum categories ('Conseil d'administration'…)",
    ("forum/models.py", LABELS): "labels of forum kinds and meeting audiences",
    ("cms/content.py", LABELS): "labels of CMS audiences in Wagtail's editor",
    ("cms/setup.py", LABELS): "the title of the working groups' index page",
    # Reading groups that are not a person's: a restriction's groups; the demo's fixtures.
    ("cms/visibility.py", GROUP_LOOKUPS): "the keys of the groups a Wagtail restriction names",
    ("demo/cms.py", GROUP_LOOKUPS): "demo content picks its authors and readers among groups",
    ("demo/forum.py", GROUP_LOOKUPS): "demo topics are written by people of the forum's audience",
}

ACCOUNT_FLAGS = {"is_superuser", "is_staff"}
GROUP_LABELS = frozenset(ROLE_GROUP_NAMES.values())
GROUP_PREFIXES = (REGION_GROUP_PREFIX, WORKING_GROUP_GROUP_PREFIX)
GROUP_LOOKUP = re.compile(r"(^|__)(groups__|managed__key)")
MACHINA_MODULES = {"machina.apps.forum_permission.handler", "machina.apps.forum_permission.checker"}


def project_files(suffix: str) -> list[Path]:
    return sorted(
        path for path in ROOT.rglob(f"*{suffix}")
        if not SKIPPED_PARTS & set(path.relative_to(ROOT).parts[:-1]) and path.name not in SKIPPED_FILES
    )


def _is_flag_string(value: str) -> bool:
    return value in ACCOUNT_FLAGS or any(f"__{flag}" in value for flag in ACCOUNT_FLAGS)


def _is_label(value: str) -> bool:
    return value.strip() in GROUP_LABELS or value.startswith(GROUP_PREFIXES)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            found.add(id(body[0].value))
    return found


def python_uses(source: str, filename: str = "<source>") -> list[tuple[int, str, str]]:
    """(line, kind, what) for each use in a Python source."""
    tree = ast.parse(source, filename=filename)
    docstrings = _docstrings(tree)
    uses = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        names = []
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
        elif isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, (ast.keyword, ast.arg)) and node.arg:
            names.append(node.arg)
        for name in names:
            if name in ACCOUNT_FLAGS or _is_flag_string(name):
                uses.append((line, FLAGS, name))
            if isinstance(node, ast.keyword) and GROUP_LOOKUP.search(name):
                uses.append((line, GROUP_LOOKUPS, name))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if _is_flag_string(node.value):
                uses.append((line, FLAGS, node.value))
            if _is_label(node.value):
                uses.append((line, LABELS, node.value))
            if GROUP_LOOKUP.search(node.value):
                uses.append((line, GROUP_LOOKUPS, node.value))
        if isinstance(node, ast.Import):
            uses.extend((line, MACHINA, alias.name) for alias in node.names if alias.name in MACHINA_MODULES)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in MACHINA_MODULES:
                uses.append((line, MACHINA, node.module))
            elif node.module == "machina.apps.forum_permission":
                uses.extend((line, MACHINA, f"{node.module}.{alias.name}") for alias in node.names
                            if f"{node.module}.{alias.name}" in MACHINA_MODULES)
        elif isinstance(node, ast.Call):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0] if node.args else None
            if function in {"get_class", "get_classes"} and isinstance(first, ast.Constant) \
                    and str(first.value).startswith("forum_permission."):
                uses.append((line, MACHINA, f"{function}({first.value!r})"))
    return uses


# A template expression: {% … %} or {{ … }}. Translated texts are labels for people, not tests.
TEMPLATE_EXPRESSION = re.compile(r"{%.*?%}|{{.*?}}", re.DOTALL)
TRANSLATION_TAG = re.compile(r"{%\s*(translate|trans|blocktranslate|blocktrans)\b")
QUOTED = re.compile(r"\"([^\"]*)\"|'([^']*)'")


def template_uses(source: str) -> list[tuple[int, str, str]]:
    uses = []
    for match in TEMPLATE_EXPRESSION.finditer(source):
        expression = match.group(0)
        line = source.count("\n", 0, match.start()) + 1
        for flag in ACCOUNT_FLAGS:
            if re.search(rf"\b{flag}\b", expression):
                uses.append((line, FLAGS, flag))
        if re.search(r"\.groups\b", expression):
            uses.append((line, GROUP_LOOKUPS, ".groups"))
        if not TRANSLATION_TAG.match(expression):
            for quoted in QUOTED.finditer(expression):
                value = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
                if _is_label(value):
                    uses.append((line, LABELS, value))
    return uses


def offending(uses_by_file: dict[str, list[tuple[int, str, str]]]) -> list[str]:
    return [
        f"{name}:{line}: {kind} {what!r}"
        for name, uses in sorted(uses_by_file.items())
        for line, kind, what in uses
        if name != RULE_BOOK and (name, kind) not in ALLOWED
    ]


def project_uses() -> dict[str, list[tuple[int, str, str]]]:
    found = {}
    for path in project_files(".py"):
        found[str(path.relative_to(ROOT))] = python_uses(path.read_text(encoding="utf-8"), str(path))
    for path in project_files(".html"):
        if "templates" in path.relative_to(ROOT).parts:
            found[str(path.relative_to(ROOT))] = template_uses(path.read_text(encoding="utf-8"))
    return found


def test_access_rules_are_asked_of_the_access_module_only():
    uses = project_uses()
    assert RULE_BOOK in uses and "templates/base.html" in uses, "the project's sources were not found"
    assert offending(uses) == []


def test_every_allowed_place_still_needs_its_exception():
    """An exception nobody uses any more is removed, so that it cannot hide a new use."""
    uses = project_uses()
    used = {(name, kind) for name, found in uses.items() for _line, kind, _what in found}
    assert sorted(set(ALLOWED) - used) == []


@pytest.mark.parametrize(("source", "kind"), [
    ("if user.is_superuser:\n    pass\n", FLAGS),
    ("people = User.objects.filter(is_staff=True)\n", FLAGS),
    ("fields = ('username', 'is_staff')\n", FLAGS),
    ("rows = User.objects.filter(groups__managed__key='role:member')\n", GROUP_LOOKUPS),
    ("rows = Group.objects.filter(managed__key='role:member')\n", GROUP_LOOKUPS),
    ("group = Group.objects.get(name='Membres')\n", LABELS),
    ("name = f'Région : {region.name}'\n", LABELS),
    ("from machina.apps.forum_permission.handler import PermissionHandler\n", MACHINA),
    ("def f():\n    from machina.apps.forum_permission.checker import ForumPermissionChecker\n", MACHINA),
    ("from machina.apps.forum_permission import handler\n", MACHINA),
    ("import machina.apps.forum_permission.handler\n", MACHINA),
    ("Handler = get_class('forum_permission.handler', 'PermissionHandler')\n", MACHINA),
])
def test_the_scan_sees_each_restatement_in_python(source, kind):
    assert kind in {found_kind for _line, found_kind, _what in python_uses(source)}


def test_the_scan_leaves_docstrings_and_other_machina_modules_alone():
    source = ('"""Checks is_staff."""\n'
              "from machina.apps.forum_permission.models import ForumPermission\n"
              "Tracker = get_class('forum_tracking.handler', 'TrackingHandler')\n")
    assert python_uses(source) == []


@pytest.mark.parametrize(("source", "kind"), [
    ("{% if user.is_staff %}<a href='/admin/'>Admin</a>{% endif %}", FLAGS),
    ("{% if request.user.is_superuser %}x{% endif %}", FLAGS),
    ("{% for group in user.groups.all %}{{ group }}{% endfor %}", GROUP_LOOKUPS),
    ('{% if "Membres" in names %}x{% endif %}', LABELS),
])
def test_the_scan_sees_each_restatement_in_templates(source, kind):
    assert kind in {found_kind for _line, found_kind, _what in template_uses(source)}


def test_the_scan_leaves_translated_texts_and_access_filters_alone():
    source = ('{% load access_tags %}<h2>{% translate "Équipe fédérale" %}</h2>'
              "{% if user|opens_site_admin %}x{% endif %}")
    assert template_uses(source) == []
