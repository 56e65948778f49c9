"""ASGI entry point of the forum bench's "machina" servers: the site, with the forum as django-machina ships it
(settings bench/stock_settings.py, then bench.machina_stock.install() for the whole process)."""

import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.stock_settings")
application = get_asgi_application()

from bench.machina_stock import install  # noqa: E402

print(f"machina d'origine : {install()} objets de nos surcharges remplacés par ceux de machina.",
      file=sys.stderr, flush=True)
