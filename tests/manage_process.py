"""`manage.py` in a process of its own, with a clean environment: what settings do when a deployment
starts them (nothing of the developer's or the test run's environment leaks in)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(tmp_path: Path, environment: dict[str, str], *arguments: str,
               timeout: int = 120) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PASSERELLES_VAR_DIR": str(tmp_path / "var"),
        **environment,
    }
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
