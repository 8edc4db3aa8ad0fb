"""Shared fixtures: a site with a home page, index pages, and users."""

import pytest

from tests.factories import (
    ArticleIndexPageFactory,
    ConferenceIndexPageFactory,
    make_site_home,
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run the tests that commit (transactional, live server) after those that roll back, as pytest-django orders.

    pytest-django sorts them first, but pytest's own reordering for package-scoped fixtures (the browser's) runs
    later and pulls the browser tests to the front: their flushes then ran before most of the suite. A stable sort
    keeps pytest's grouping inside each kind.
    """

    def commits(item) -> int:
        marker = item.get_closest_marker("django_db")
        transactional = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
        names = getattr(item, "fixturenames", ())
        if transactional or "transactional_db" in names or "live_server" in names:
            return 1
        return 0 if (marker or "db" in names) else 2

    items.sort(key=commits)


@pytest.fixture(scope="session", autouse=True)
def _migration_rows_survive_flushes():
    """After every flush (the end of each transactional test), put back the rows migrations inserted."""
    from django.apps import apps
    from django.db.models.signals import post_migrate

    from tests.services import restore_after_flush

    # post_migrate goes only to apps with models.
    last_app = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    post_migrate.connect(restore_after_flush, sender=last_app, dispatch_uid="tests.restore_after_flush")
    yield
    post_migrate.disconnect(dispatch_uid="tests.restore_after_flush", sender=last_app)


@pytest.fixture
def home(db):
    """The default site's home page."""
    return make_site_home()


@pytest.fixture
def article_index(home):
    return ArticleIndexPageFactory(parent=home, title="Best practices", slug="best-practices")


@pytest.fixture
def conference_index(home):
    return ConferenceIndexPageFactory(parent=home, title="Conference notes", slug="conferences")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a call as if its transaction committed, so what waits for the commit (tasks queued with on_commit,
    cache invalidation) happens at once. ``committed(client.post, url, data)`` returns what the call returned.
    """

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


@pytest.fixture
def warm_caches(settings):
    """Fragment caches, process memos, cached sessions and signed-in members on, as in production with Redis (the
    local-memory cache stands in), starting and ending empty."""
    from django.core.cache import cache

    from portal.core import cache as page_cache
    from portal.core import fragments, memo

    def empty():
        cache.clear()
        page_cache.forget_generation()
        memo.forget()
        fragments.local_copies.clear()

    settings.FRAGMENT_CACHE_ENABLED = True
    settings.CONTENT_MEMO_SECONDS = 30
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.AUTH_USER_CACHE_SECONDS = 300
    empty()
    yield
    empty()


# --- Hypothesis profiles (property and fuzz tests under tests/fuzz/) ---------------------------------------------
# "ci" (the default): no per-example deadline (two shared cores make timings noisy) and a bounded number of examples,
# so the fuzz tests cost seconds, not minutes. HYPOTHESIS_PROFILE=thorough runs many more examples locally.
import os as _os  # noqa: E402

from hypothesis import HealthCheck as _HealthCheck  # noqa: E402
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile(
    "ci", deadline=None, max_examples=60, derandomize=False, print_blob=True,
    suppress_health_check=[_HealthCheck.too_slow, _HealthCheck.function_scoped_fixture],
)
_hypothesis_settings.register_profile(
    "thorough", deadline=None, max_examples=1000, print_blob=True,
    suppress_health_check=[_HealthCheck.too_slow, _HealthCheck.function_scoped_fixture],
)
_hypothesis_settings.load_profile(_os.environ.get("HYPOTHESIS_PROFILE", "ci"))
