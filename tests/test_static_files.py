"""Static files in production: collected under names that carry a hash of their content (the proxy caches
them for a year, deploy/nginx.conf), every file a template names is among them, and DEBUG keeps plain
names. Production settings are read at import: each case runs manage.py in a subprocess.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import machina
import pytest
from django.conf import settings

from tests.manage_process import run_manage

STATIC_TAG = re.compile(r"""\{%\s*static\s+["']([^"']+)["']\s*%\}""")
SHOW_URL = "from django.templatetags.static import static; print(static('css/site.css'))"


def manage(tmp_path: Path, static_root: Path, *arguments: str, debug: bool = False) -> str:
    result = run_manage(tmp_path, {
        "STATIC_ROOT": str(static_root),
        "DEBUG": "1" if debug else "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "passerelles.example.org",
    }, *arguments, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """STATIC_ROOT after `collectstatic` with production settings, as the web service runs it."""
    folder = tmp_path_factory.mktemp("statiques")
    manage(folder, folder / "static", "collectstatic", "--noinput")
    return folder / "static"


def test_collectstatic_names_files_after_their_content_without_debug(collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())

    hashed = manifest["paths"]["css/site.css"]
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", hashed)
    assert (collected / hashed).is_file()


def test_pages_link_the_hashed_names_once_collected(collected, tmp_path):
    url = manage(tmp_path, collected, "shell", "-c", SHOW_URL).strip().splitlines()[-1]

    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", url)


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "sans-collectstatic"])
def test_plain_names_with_debug_or_before_any_collectstatic(tmp_path, debug):
    url = manage(tmp_path, tmp_path / "vide", "shell", "-c", SHOW_URL, debug=debug).strip().splitlines()[-1]

    assert url == "/static/css/site.css"


def test_every_static_file_a_template_names_is_collected(collected):
    # A name missing from the manifest would make the page fail (500) in production.
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    folders = [Path(folder) for template in settings.TEMPLATES for folder in template["DIRS"]]
    assert Path(machina.MACHINA_MAIN_TEMPLATE_DIR) in folders
    named = {
        (template.relative_to(folder).as_posix(), name)
        for folder in folders
        for template in folder.rglob("*.html")
        for name in STATIC_TAG.findall(template.read_text(encoding="utf-8"))
    }

    assert named, "aucune balise {% static %} trouvée : l'expression régulière ne reconnaît plus les gabarits"
    assert sorted((template, name) for template, name in named if name not in manifest) == []
