"""Search fixtures: content built through the apps' own services and models, indexed as in production.

Tests run on the embedded database store whatever the environment says (ELASTICSEARCH_URL unset);
the Elasticsearch fallback tests point the setting at a closed port themselves.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from search import backend


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _embedded_store(settings):
    settings.SEARCH_ELASTICSEARCH_URL = ""
    settings.SEARCH_ELASTICSEARCH_API_KEY = ""
    settings.SEARCH_ELASTICSEARCH_CA_CERTS = ""
    backend._elastic.cache_clear()
    # The last Elasticsearch failure lives in the cache, which outlives a test.
    cache.delete(backend.LAST_FAILURE)
    yield
    backend._elastic.cache_clear()
    cache.delete(backend.LAST_FAILURE)
