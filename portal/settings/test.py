"""Test settings: fast hashing, local-memory cache and email, eager Celery unless a broker is given."""

import os

from .base import *  # noqa: F403

SECRET_KEY = "test-only-key"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
PAGE_CACHE_ENABLED = False  # tests/portal/core/test_cache.py turns it on
FRAGMENT_CACHE_ENABLED = False  # tests/portal/core/test_fragments.py turns it on
CONTENT_MEMO_SECONDS = 0  # per request only; tests/portal/core/test_memo.py turns process memos on
SESSION_ENGINE = "django.contrib.sessions.backends.db"  # the warm_caches fixture switches to cached_db
SEARCH_HITS_FLUSH_SECONDS = 0  # each search counted at once (CACHE_URL in CI would batch them per 10 s)
AUTH_USER_CACHE_SECONDS = 0  # the warm_caches fixture keeps signed-in members in the cache
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SITE_URL = "http://testserver"
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAILAPI_BASE_URL = SITE_URL
# The suite always runs tasks eagerly; tests that need a real worker start one against CELERY_TEST_BROKER_URL.
CELERY_TEST_BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL") or os.environ.get("CELERY_BROKER_URL", "")
CELERY_BROKER_URL = "memory://localhost/"  # a host named: kombu warns on every task without one
CELERY_TASK_ALWAYS_EAGER = True
# django-axes refuses authenticate() calls without a request (as Client.login makes); the lockout tests turn it on.
AXES_ENABLED = False
# Second factor for sector groups: off, except in the tests that turn it on.
PRIVACY_SECOND_FACTOR_GROUPS: list[str] = []
