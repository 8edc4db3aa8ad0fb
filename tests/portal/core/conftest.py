"""Fixtures for the cache tests: the page cache on the local-memory backend and on a real Redis."""

import uuid

from django.core.cache import cache

import pytest

from portal.core import cache as page_cache
from portal.core import fragments, memo


def _forget_process_copies():
    page_cache._local.clear()
    page_cache.forget_generation()
    fragments.local_copies.clear()
    memo.forget()


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings):
    """The page cache, fragments and memos on, as in production, on each backend in turn: the local-memory
    cache, then Redis (REDIS_TEST_URL's server, database 2; keys under a prefix of their own, deleted after)."""
    if request.param == "redis":
        from tests.services import require_redis

        url = require_redis(2)
        prefix = f"test-page-cache-{uuid.uuid4().hex}"
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": url, "KEY_PREFIX": prefix, "TIMEOUT": 60}}
    else:
        cache.clear()
    settings.PAGE_CACHE_ENABLED = True
    settings.FRAGMENT_CACHE_ENABLED = True
    settings.CONTENT_MEMO_SECONDS = 30
    _forget_process_copies()
    yield request.param
    if request.param == "redis":
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    else:
        cache.clear()
    _forget_process_copies()


def _stored_keys() -> list[str]:
    if hasattr(cache, "_cache") and isinstance(cache._cache, dict):  # local memory
        return list(cache._cache)
    return [key.decode() for key in cache._cache.get_client().scan_iter(f"{cache.key_prefix}:*")]


def stored_entries() -> list[str]:
    """The page-cache entries in the current backend (whatever their generation)."""
    return [key for key in _stored_keys() if page_cache.ENTRY_PREFIX in key]


def stored_fragments() -> list[str]:
    """The template fragments in the current backend."""
    return [key for key in _stored_keys() if fragments.KEY_PREFIX in key]
