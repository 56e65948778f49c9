"""Templates are compiled once per process in production: with DEBUG off the engine's only loader is
Django's cached loader, around the project's and the apps' template folders (config/settings.py)."""

from __future__ import annotations

from tests.manage_process import run_manage

SHOW_LOADERS = ("from django.template import engines; e = engines['django'].engine; "
                "print(e.debug, [type(l).__module__ + '.' + type(l).__name__ for l in e.template_loaders], "
                "[type(l).__module__ for l in e.template_loaders[0].loaders])")


def test_production_compiles_each_template_once(tmp_path):
    environment = {"DEBUG": "0", "SECRET_KEY": "k" * 20 + "abcdefghij" * 3, "ALLOWED_HOSTS": "passerelles.example.org"}

    result = run_manage(tmp_path, environment, "shell", "--no-imports", "-c", SHOW_LOADERS)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "False ['django.template.loaders.cached.Loader'] "
        "['django.template.loaders.filesystem', 'django.template.loaders.app_directories']")


def test_the_cached_loader_keeps_a_compiled_template():
    from django.template import engines

    engine = engines["django"].engine
    first = engine.get_template("base.html")

    assert engine.get_template("base.html") is first
