"""django-machina as shipped, in a process that otherwise runs our site: the forum bench's reference.

Our site mounts machina through `get_class`, which picks our overrides (forum/overrides/) first. A
bench server started on bench/stock_asgi.py (settings bench/stock_settings.py) serves machina's own
view classes (bench/stock_urls.py) and, through `stock_machina()` entered for the process's life
(`install()`), machina's own helper classes too.
"""

from __future__ import annotations

import contextlib
import importlib
import sys


def _override_apps() -> dict[str, str]:
    """Our override apps (dotted path) → the machina app each one replaces, longest path first."""
    from django.apps import apps

    pairs = {}
    for config in apps.get_app_configs():
        if config.name.startswith("forum.overrides."):
            base = next(k for k in type(config).__mro__[1:] if str(getattr(k, "name", "")).startswith("machina.apps."))
            pairs[config.name] = base.name
    return dict(sorted(pairs.items(), key=lambda item: -len(item[0])))


def _machina_twin_module(module_name: str, pairs: dict[str, str]):
    for ours, theirs in pairs.items():
        if module_name == ours or module_name.startswith(ours + "."):
            try:
                return importlib.import_module(theirs + module_name[len(ours):])
            except ImportError:
                return None
    return None


@contextlib.contextmanager
def stock_machina():
    """Inside this block machina runs without any of our overrides, as shipped.

    machina resolves its helper classes through `get_class`, most of them once, when its modules are
    imported: machina's views, template tags, middleware and receivers then hold our classes (the
    permission and tracking handlers, the attachment formset…). This block swaps, in every loaded machina
    module, each object that comes from one of our override modules for machina's object of the same
    name, swaps instances of our classes for instances of machina's, and makes `get_class` itself
    resolve to machina's apps; everything is put back on exit. Yields the number of objects swapped.
    """
    from machina.core import loading

    pairs = _override_apps()
    replacements: dict[int, object] = {}
    for name, module in list(sys.modules.items()):
        twin = _machina_twin_module(name, pairs) if module is not None else None
        if twin is None:
            continue
        for attribute, value in list(vars(module).items()):
            if attribute.startswith("__"):
                continue
            theirs = getattr(twin, attribute, None)
            if theirs is not None and theirs is not value:
                replacements[id(value)] = theirs

    swapped: list[tuple[object, str, object]] = []
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("machina."):
            continue
        for attribute, value in list(vars(module).items()):
            if id(value) in replacements:
                replacement = replacements[id(value)]
            elif id(type(value)) in replacements and isinstance(replacements[id(type(value))], type):
                replacement = replacements[id(type(value))]()  # e.g. machina's module-level track_handler
            else:
                continue
            swapped.append((module, attribute, value))
            setattr(module, attribute, replacement)

    original_path = loading._get_app_module_path

    def machina_app_path(module_label):
        path = original_path(module_label)
        return pairs.get(path, path)

    loading._get_app_module_path = machina_app_path
    try:
        yield len(swapped)
    finally:
        loading._get_app_module_path = original_path
        for module, attribute, value in reversed(swapped):
            setattr(module, attribute, value)


_installed: contextlib.ExitStack | None = None


def install() -> int:
    """Make this whole process stock machina (a bench server): load every module machina will use, then
    enter `stock_machina()` for good. Returns the number of objects swapped."""
    global _installed
    from django.template import engines
    from django.urls import get_resolver

    if _installed is not None:
        raise RuntimeError("machina d'origine déjà installé dans ce processus.")
    get_resolver().url_patterns  # noqa: B018 — imports the stock URLconf and every view module it names
    for engine in engines.all():
        engine.engine.template_libraries  # noqa: B018 — imports every template tag library
    for module in [name for name in sys.modules if name.startswith("machina.apps.") and name.endswith(".views")]:
        importlib.import_module(module)
    _installed = contextlib.ExitStack()
    return _installed.enter_context(stock_machina())
