"""Site-wide data read once instead of by every template tag: once per request, and across the requests of one
web process while the site's content generation is unchanged.

The site frame asks the same questions on every page: which subtrees are closed to this viewer (the privacy
gate), which pages are restricted at all (lock badges). Without a memo each tag asks the database again (the
closed paths were read three times per article view). ``remember(key, compute)`` answers from:

1. the current request's scope (a context variable set by ``RequestMemoMiddleware`` for GET and HEAD requests
   only, so a view that changes data never reads its own stale answer);
2. this process's memory, when ``CONTENT_MEMO_SECONDS`` > 0 and a content generation could be read from the
   shared cache (``portal.core.cache``): an answer computed under generation *g* is reused only by requests
   that read *g* when they started, and for at most ``CONTENT_MEMO_SECONDS`` (a safety net should an
   invalidation ever fail to reach the cache);
3. otherwise it computes the answer (and keeps it as above).

The generation is incremented after the commit of any change pages may show, restrictions included, so a
restriction added by an editor applies to every request that starts after the commit, in every process. Outside
a request (Celery tasks, management commands, newsletter rendering) nothing is memoised: every call computes.

Values kept here must be immutable (tuples, frozensets, frozen dataclasses): the same object is handed to every
request of the process.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import DatabaseError

from portal.core import generation as generation_counter
from portal.core.conf import conf

T = TypeVar("T")

_scope: ContextVar[dict | None] = ContextVar("portal_memo_scope", default=None)
_GENERATION = object()  # scope key of the generation this request reads under
GENERATION_ATTR = "_portal_content_generation"
_UNKNOWN = object()

_process: dict[tuple[int, Any], tuple[float, Any]] = {}
_process_lock = threading.Lock()
PROCESS_MAX_ENTRIES = 2048  # site answers, and the routing rows of each URL served (portal.pages)


def process_seconds() -> float:
    """How long a process keeps an answer for one generation (``CONTENT_MEMO_SECONDS``; 0: per request only)."""
    return float(conf.CONTENT_MEMO_SECONDS or 0)


class RequestMemoMiddleware:
    """Opens a memo scope for each GET/HEAD request (place it before anything that renders pages)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        scope = {}
        # The page cache (before this middleware) already read the generation for this request.
        generation = getattr(request, GENERATION_ATTR, None)
        if generation is not None:
            scope[_GENERATION] = generation
        token = _scope.set(scope)
        try:
            _find_site(request)
            return self.get_response(request)
        finally:
            _scope.reset(token)


def _find_site(request) -> None:
    """Wagtail looks the site up with a query on every request; ``Site.find_for_request`` reads what this leaves on
    the request. Only with process memos: then it costs no query, where views that never ask would pay. On a
    database error it is left to the view (the health check reports it as a 503)."""
    if process_seconds() > 0 and not hasattr(request, "_wagtail_site"):
        with contextlib.suppress(DatabaseError):
            request._wagtail_site = site_for_request(request)


def site_for_request(request):
    """The Wagtail site serving this request (Wagtail's own lookup), memoised by host and port."""
    from django.http.request import split_domain_port

    from wagtail.models import Site

    def find():
        site = Site._find_for_request(request)
        if site is not None:
            # Its root page in its specific form, as routing uses it (BasePage.localized then needs no query).
            site.root_page = site.root_page.specific
        return site

    hostname = split_domain_port(request._get_raw_host())[0]
    return remember(("wagtail-site", hostname, request.get_port()), find)


def on_request(request, attr: str, compute: Callable[[], T]) -> T:
    """``compute()``'s answer kept on ``request`` as ``attr``, so the tags of one render share it (any request
    method, this request only; without a request every call computes)."""
    if request is None:
        return compute()
    if attr not in request.__dict__:
        request.__dict__[attr] = compute()
    return request.__dict__[attr]


def in_request_scope() -> bool:
    """Whether the running code serves a GET/HEAD request with a memo scope."""
    return _scope.get() is not None


def set_generation(request, generation: int | None) -> None:
    """Record the content generation this request already read (the page cache reads it first)."""
    setattr(request, GENERATION_ATTR, generation)


def request_generation() -> int | None:
    """The content generation the current request reads under: read from the shared cache at most once per
    request; None outside a request, when process memos are off, or when the cache cannot be reached."""
    scope = _scope.get()
    if scope is None:
        return None
    generation = scope.get(_GENERATION, _UNKNOWN)
    if generation is _UNKNOWN:
        generation = None
        if process_seconds() > 0:
            generation = generation_counter.read_generation()
        scope[_GENERATION] = generation
    return generation


def remember(key: Any, compute: Callable[[], T]) -> T:
    """``compute()``'s answer for ``key``, memoised for this request and, under an unchanged content
    generation, for this process (see the module docstring). ``key`` must be hashable and say everything the
    answer depends on besides the content (the viewer, the language)."""
    scope = _scope.get()
    if scope is None:
        return compute()
    if key not in scope:
        scope[key] = _process_answer(key, compute)
    return scope[key]


def _process_answer(key: Any, compute: Callable[[], T]) -> T:
    """The answer this process keeps for ``key`` under the request's generation (for at most
    ``CONTENT_MEMO_SECONDS``), else ``compute()``'s, then kept."""
    generation = request_generation()
    if generation is None:
        return compute()
    item = _process.get((generation, key))
    if item is not None and time.monotonic() - item[0] <= process_seconds():
        return item[1]
    value = compute()
    _keep(generation, key, value)
    return value


def _keep(generation: int, key: Any, value: Any) -> None:
    with _process_lock:
        if len(_process) >= PROCESS_MAX_ENTRIES:
            _make_room(generation)
        _process[(generation, key)] = (time.monotonic(), value)


def _make_room(generation: int) -> None:
    """Drop older generations' answers (the lock held); if the current one alone fills the table, start it afresh."""
    stale = [entry for entry in _process if entry[0] != generation]
    for entry in stale or list(_process):
        del _process[entry]


def forget() -> None:
    """Drop every memoised answer of this process and of the running request (after a change here)."""
    scope = _scope.get()
    if scope is not None:
        generation = scope.get(_GENERATION, _UNKNOWN)
        scope.clear()
        if generation is not _UNKNOWN:
            # The change bumps the generation only when its transaction commits: until then, read afresh.
            scope[_GENERATION] = None
    with _process_lock:
        _process.clear()


class LocalCopies:
    """A small per-process LRU of values, each kept for at most ``seconds()`` after it was stored (the page
    cache's and the fragment cache's copies in front of Redis); ``seconds()`` <= 0 keeps nothing."""

    def __init__(self, max_entries: int, seconds: Callable[[], float]):
        self.max_entries = max_entries
        self.seconds = seconds
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        seconds = self.seconds()
        if seconds <= 0:
            return None
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            stored_at, value = item
            if time.monotonic() - stored_at > seconds:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        if self.seconds() <= 0:
            return
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


generation_counter.on_forget(forget, on_change=True)  # this process's change, and the generation moving
