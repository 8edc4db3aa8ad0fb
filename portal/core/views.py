"""Machine endpoints: a health check for load balancers and monitoring, and robots.txt."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2
_HEALTH_CACHE_KEY = "portal:health-check"


def _error(exc: BaseException) -> str:
    # The class name says what failed without exposing hosts or credentials to an unauthenticated caller.
    return f"error: {type(exc).__name__}"


def check_database() -> str:
    """Run a trivial query on the default database; "ok" or "error: <kind>"."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.exception("Health check: database unreachable")
        return _error(exc)
    return "ok"


def broker_is_configured(url: str | None) -> bool:
    """Whether the broker URL names a real broker (empty means eager tasks, memory:// is in-process)."""
    return bool(url) and not url.startswith("memory://")


def check_broker() -> str:
    """Connect to the Celery broker once with a short timeout; "ok", "not configured" or "error: <kind>"."""
    url = settings.CELERY_BROKER_URL
    if not broker_is_configured(url):
        return "not configured"
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.exception("Health check: broker unreachable")
        return _error(exc)
    return "ok"


def check_cache() -> str:
    """Write and read back a value in the default cache; "ok" or "error: <kind>"."""
    try:
        cache.set(_HEALTH_CACHE_KEY, "ok", timeout=10)
        if cache.get(_HEALTH_CACHE_KEY) != "ok":
            return "error: value not stored"
    except Exception as exc:
        logger.exception("Health check: cache unreachable")
        return _error(exc)
    return "ok"


@never_cache
@require_safe
def health(request):
    """JSON status of the database, broker and cache: 200 when every configured part works, else 503."""
    checks = {"database": check_database(), "broker": check_broker(), "cache": check_cache()}
    healthy = all(value in {"ok", "not configured"} for value in checks.values())
    # never_cache adds "no-store", so monitors and proxies never see a stale status.
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


@require_safe
@cache_control(public=True, max_age=86400)
def robots_txt(request) -> HttpResponse:
    """robots.txt: crawl the public site, not the admin, members' area, personal newsletter links or search."""
    return render(request, "robots.txt", {"SITE_URL": settings.SITE_URL}, content_type="text/plain; charset=utf-8")
