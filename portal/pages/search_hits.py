"""Search counts for the promoted-results statistics (Wagtail's ``Query`` and ``QueryDailyHits``), written in
batches instead of three queries (two reads and an update of one contended row) on every search.

Each web process adds up its searches in memory and writes them at most every ``SEARCH_HITS_FLUSH_SECONDS``
(default 10 with a shared cache; 0, the default without one and in tests, writes each search at once), in the
request that comes after that time. A process that dies loses at most those seconds of counts: statistics, not
records. Searches answered from the page cache are counted the same way (``portal.core.cache`` calls back).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter

from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone

from portal.pages.conf import conf

logger = logging.getLogger(__name__)

_pending: Counter = Counter()
_lock = threading.Lock()
_last_flush = time.monotonic()


def flush_seconds() -> float:
    return float(conf.SEARCH_HITS_FLUSH_SECONDS or 0)


def record(query_string: str) -> None:
    """Count one search for ``query_string`` today (written now or with the process's next batch)."""
    global _last_flush
    if not query_string:
        return
    key = (query_string, timezone.now().date())
    seconds = flush_seconds()
    if seconds <= 0:
        _write({key: 1})
        return
    with _lock:
        _pending[key] += 1
        due = time.monotonic() - _last_flush >= seconds
        if due:
            batch = dict(_pending)
            _pending.clear()
            _last_flush = time.monotonic()
    if due:
        _write(batch)


def flush() -> None:
    """Write what this process has counted (at exit, and for tests)."""
    global _last_flush
    with _lock:
        batch = dict(_pending)
        _pending.clear()
        _last_flush = time.monotonic()
    if batch:
        _write(batch)


def _write(batch: dict) -> None:
    from wagtail.contrib.search_promotions.models import Query, QueryDailyHits

    try:
        for (query_string, date), hits in batch.items():
            query = Query.get(query_string)
            daily, _created = QueryDailyHits.objects.get_or_create(query=query, date=date)
            QueryDailyHits.objects.filter(pk=daily.pk).update(hits=F("hits") + hits)
    except DatabaseError:
        logger.warning("Could not record search counts", exc_info=True)


def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:
        logger.warning("Search counts lost at exit", exc_info=True)


atexit.register(_flush_at_exit)
