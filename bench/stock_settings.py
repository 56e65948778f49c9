"""Settings of the forum bench's "machina" servers (bench/stock_asgi.py): the site's settings, with the forum
served by django-machina as shipped.

- URLs: bench/stock_urls.py (machina's own view classes), and machina's own permission middleware in
  place of ours (forum/middleware.py: no 404 for private forums, machina's session key for anonymous
  visitors); everything else (sessions, login, members-only, security headers) is the site's;
- templates: with PASSERELLES_BENCH_STOCK_TEMPLATES=machina, machina's own templates and base template
  (`machina/templates/machina`, `_base.html`) come first, as a project without templates of its own
  gets them; otherwise ("ours") our templates, as the site has them.
"""

import copy
import os

import machina

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, MIDDLEWARE, TEMPLATES

ROOT_URLCONF = "bench.stock_urls"
_OURS = ("forum.middleware.ForumPermissionMiddleware", "forum.middleware.ForumVisibilityMiddleware")
_position = MIDDLEWARE.index(_OURS[0])
MIDDLEWARE = [m for m in MIDDLEWARE if m not in _OURS]
MIDDLEWARE.insert(_position, "machina.apps.forum_permission.middleware.ForumPermissionMiddleware")

STOCK_TEMPLATES = os.environ.get("PASSERELLES_BENCH_STOCK_TEMPLATES", "ours")
if STOCK_TEMPLATES == "machina":
    TEMPLATES = copy.deepcopy(TEMPLATES)
    TEMPLATES[0]["DIRS"] = [machina.MACHINA_MAIN_TEMPLATE_DIR, BASE_DIR / "templates"]
    MACHINA_BASE_TEMPLATE_NAME = "_base.html"
elif STOCK_TEMPLATES != "ours":
    raise ValueError("PASSERELLES_BENCH_STOCK_TEMPLATES : « machina » ou « ours ».")
