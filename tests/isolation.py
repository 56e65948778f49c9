"""Keeping one test's traces away from the others'."""

from __future__ import annotations

import copy
import uuid


def own_cache_prefix(settings, label: str) -> None:
    """Give the default cache a key prefix of this test's own: the cache outlives a test and, on Redis, may
    be shared with other test runs, so a prefix rather than a flush keeps what each test writes apart."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"{label}-{uuid.uuid4().hex[:10]}"
    settings.CACHES = caches
