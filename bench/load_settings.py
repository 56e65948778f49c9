"""Bench-only settings for the load test's opt-in variant (bench/bench_load.py): the site's settings with
CONN_MAX_AGE taken from PASSERELLES_LOAD_CONN_MAX_AGE.

config/settings.py lends PostgreSQL connections from a pool per process. This variant keeps them per
thread instead (no pool), as the site once did: under ASGI, Django runs each request's
synchronous code in a thread of its own (asgiref's ThreadSensitiveContext), so a kept connection
belongs to a thread that is gone after the request, and lingers until the garbage collector closes
it: the load test counts how many connections each topology holds. Setting
PASSERELLES_LOAD_CONN_MAX_AGE=0 measures the same load with a connection per request instead.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

# Without config's pool of connections (Django refuses a pool with CONN_MAX_AGE > 0): per-thread connections.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["PASSERELLES_LOAD_CONN_MAX_AGE"])
