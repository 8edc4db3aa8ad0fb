"""The anonymous page cache: whole public responses kept in the Django cache (Redis in production).

What is cached
    GET responses for anonymous visitors from Wagtail page serving and from views that opt in with
    ``mark_cacheable``, and syndication feeds, when the response is a 200, sets no cookie (except the language
    cookie, which names the language of the URL and is set again on every response, never stored), says nothing
    against caching (``private``, ``no-store``, ``no-cache``) and varies on nothing but ``Cookie`` (so the
    root redirect, which varies on ``Accept-Language``, is not stored). A page is stored only if
    the privacy gate (``portal.core.privacy``) says an anonymous viewer may read it, so a members-only page
    is never stored, whoever asked for it.

Which copies
    One entry per scheme, host, path (with its language prefix) and query string, where the query leaves out
    campaign tracking parameters (``utm_*``, ``mc_cid``, ``mc_eid``, ``fbclid``, ``gclid``...: setting
    ``PAGE_CACHE_IGNORED_PARAMETERS``) and is sorted by name: a newsletter link with ``?utm_source=`` is served
    the copy of the plain page. Every GET request's query string is put in that form before any view runs
    (``canonicalize_query``), so views, templates and fragment keys never see a tracking parameter or a new
    order of the same filters, whether or not the page is cached. At most ``PAGE_CACHE_MAX_VARIANTS``
    distinct query strings of one path are stored per content generation; beyond that a request is answered
    fresh and not stored (``X-Page-Cache: bypass``), nor are its template fragments (``portal.core.fragments``),
    so random parameters can neither fill the cache nor push out the copies visitors use. The plain path
    always is.

What is never served from the cache
    Anything for a request that carries a session cookie, a messages cookie or an ``Authorization`` header
    (every logged-in member has a session cookie), previews and the admin, POSTs, and paths outside pages
    and feeds (members' area, newsletter links, API, documents).

Forms and CSRF ("hole punching")
    Every page carries the newsletter signup form in its footer (and sometimes a signup block), so every
    page holds a CSRF token. A cached copy with the first visitor's token would make every later visitor's
    signup fail (their browser has no matching cookie). So, for a request that may be cached, the template
    context's ``csrf_token`` is a fixed placeholder (``csrf_placeholder`` context processor): the stored body
    holds the placeholder, never a token. Each response, fresh or from the cache, gets the visitor's own
    token put in place of the placeholder, and the CSRF cookie set by Django's own ``CsrfViewMiddleware``
    code when the visitor has none. CSRF protection of the subscribe view is unchanged and the forms work
    without JavaScript. Such responses are ``Cache-Control: private, no-cache`` (a shared proxy must not keep
    a token-bearing body), with an ETag that includes a hash of the visitor's CSRF secret, so a browser
    revalidating gets a 304 while its token is still good and a fresh body once its cookie changed.

Invalidation
    One generation number for the whole site, stored in the cache and incremented (after the transaction
    commits) whenever something any page may show changes: publishing, unpublishing, moving, deleting pages,
    view restrictions, group membership, snippets, statistics, images, documents and collections; never
    draft revisions, autosave, locks or workflow states. Which changes count is a registry apps fill from
    their ``ready()`` (``portal.core.generation``). Each entry records the generation read *before* its page
    was rendered, so a page rendered while an editor publishes is never served after the publish. Coarse,
    but pages show each other everywhere (menus, latest lists, related cards, feeds): one counter cannot miss
    a dependency.

Per-process copies
    Each web process also keeps the entries it recently checked against Redis in its own memory, for at most
    ``PAGE_CACHE_LOCAL_SECONDS`` (default 1): a hit then needs no network round trip. So an invalidation
    reaches other processes within that second (the committing process drops its copies at once); set it to 0
    for none.

Settings (environment): ``PAGE_CACHE_ENABLED`` (default: on when ``CACHE_URL`` is set), ``PAGE_CACHE_TIMEOUT``
(seconds an entry lives, 300), ``PAGE_CACHE_MAX_AGE`` (browser/proxy max-age of token-free public responses
such as feeds that set none themselves, 60), ``PAGE_CACHE_LOCAL_SECONDS`` (1), ``PAGE_CACHE_IGNORED_PARAMETERS``
(comma-separated) and ``PAGE_CACHE_MAX_VARIANTS`` (32).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified, QueryDict
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import parse_etags

from wagtail import hooks

from portal.core import i18n, memo, privacy
from portal.core.conf import conf
from portal.core.generation import (  # noqa: F401 - the generation's API, as callers know it from here
    GENERATION_KEY,
    bump_generation,
    current_generation,
    forget_generation,
    invalidate,
    on_forget,
    read_generation,
    tracking,
)
from portal.core.redirects import SITE_REDIRECT_ATTR

logger = logging.getLogger(__name__)

ENTRY_PREFIX = "portal:page-cache:entry:"
VARIANTS_PREFIX = "portal:page-cache:variants:"
# Stands in for the CSRF token in stored bodies; letters and digits only, so no escaping changes it.
CSRF_PLACEHOLDER = "portalcsrfplaceholder7c1e4a9f0b3d"
_PLACEHOLDER_BYTES = CSRF_PLACEHOLDER.encode()

# Requests under these paths are never looked up nor stored (personal, machine or admin endpoints).
EXCLUDED_PREFIXES = (
    "/admin/", "/members/", "/newsletter/", "/api/", "/documents/", "/static/", "/media/", "/health/",
    "/language/", "/statistics-data/", "/django-admin/",
)
# Response headers never copied into an entry (recomputed, or personal).
_SKIP_HEADERS = {"content-length", "set-cookie", "etag", "date"}

_STATE_ATTR = "_portal_page_cache"
_SERVED_PAGE_ATTR = "_portal_served_page"
_CACHEABLE_VIEW_ATTR = "_portal_cacheable_view"
_MAX_VARIANTS_ATTR = "_portal_max_variants"
_ON_HIT_ATTR = "_portal_cache_on_hit"


def enabled() -> bool:
    return bool(conf.PAGE_CACHE_ENABLED)


# --- Per-process copies (a one-second micro-cache in front of Redis) -------------------------------------
# A hit from Redis costs a network round trip; a hit from this process's memory costs none. An entry is kept
# here for at most PAGE_CACHE_LOCAL_SECONDS after it was last checked against the current generation in Redis,
# so another process's invalidation reaches this one within that time (the process that commits a change
# empties its own copies at once). 0 turns the copies off.

LOCAL_MAX_ENTRIES = 256  # at most a few megabytes per process


def _local_seconds() -> float:
    return float(conf.PAGE_CACHE_LOCAL_SECONDS or 0)


# Entries just checked against (or stored under) the current generation.
_local = memo.LocalCopies(LOCAL_MAX_ENTRIES, _local_seconds)
on_forget(_local.clear)  # when the generation moves


# --- Which requests and responses ------------------------------------------------------------------------


def is_personal_request(request) -> bool:
    """Whether this request may carry someone's identity or pending messages (then: never cached)."""
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies:
        return True
    return "HTTP_AUTHORIZATION" in request.META


def is_candidate(request) -> bool:
    """Whether this request may be answered from, or stored in, the page cache."""
    if request.method not in ("GET", "HEAD") or is_personal_request(request):
        return False
    if getattr(request, "is_preview", False):
        return False
    return not request.path_info.startswith(EXCLUDED_PREFIXES)


def mark_cacheable(request, *, max_variants: int | None = None, on_hit: tuple | None = None) -> None:
    """Let a public view's anonymous responses be stored (pages are marked by a hook, feeds recognised).

    ``max_variants``: how many query strings of this path may be stored per generation, instead of
    ``PAGE_CACHE_MAX_VARIANTS`` (search: one per query). ``on_hit``: ``(name, args)`` of a callback registered
    with ``on_cache_hit`` that each later response served from this entry runs (search counts its searches).
    """
    setattr(request, _CACHEABLE_VIEW_ATTR, True)
    setattr(request, _MAX_VARIANTS_ATTR, max_variants)  # None: PAGE_CACHE_MAX_VARIANTS, as if never set
    setattr(request, _ON_HIT_ATTR, on_hit)


_hit_callbacks: dict = {}


def on_cache_hit(name: str, callback) -> None:
    """Register ``callback(*args)``, run for each response served from an entry stored with ``on_hit=(name,
    args)`` (apps call it from ready(), so this module knows no feature app)."""
    _hit_callbacks[name] = callback


def _run_hit_callback(entry) -> None:
    if not entry.on_hit:
        return
    name, args = entry.on_hit
    callback = _hit_callbacks.get(name)
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:
        logger.exception("Page cache hit callback %s failed", name)


# --- Keys: tracking parameters ignored, a bounded number of query variants per path ---------------------------

def ignored_parameters() -> tuple[str, ...]:
    """Query parameters that never change a page (``PAGE_CACHE_IGNORED_PARAMETERS``; ``name*`` is a prefix)."""
    return tuple(conf.PAGE_CACHE_IGNORED_PARAMETERS)


def _is_ignored(name: str, patterns: tuple[str, ...]) -> bool:
    return any(name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern for pattern in patterns)


def split_query(query_string: str) -> tuple[list[tuple[str, str]], bool]:
    """The query's parameters in their order without the ignored ones, and whether any was dropped."""
    patterns = ignored_parameters()
    pairs = parse_qsl(query_string, keep_blank_values=True, encoding="utf-8", errors="replace")
    kept = [(name, value) for name, value in pairs if not _is_ignored(name, patterns)]
    return kept, len(kept) != len(pairs)


def canonical_query(parameters: list[tuple[str, str]]) -> str:
    """The query string as entries are keyed: sorted by name (the values of one name keep their order, which
    views may rely on), in one encoding."""
    return urlencode(sorted(parameters, key=lambda pair: pair[0]))


def canonicalize_query(request) -> str:
    """Put this GET or HEAD request's query string in its canonical form and return it: tracking parameters
    taken out, the rest sorted by name in one encoding. Views, templates and fragment keys then see the same
    query for every variant of one page (no ``utm_source`` in the pagination links of a copy served to
    everyone, no new fragment for each order of the same filters)."""
    query_string = request.META.get("QUERY_STRING", "")
    canonical = canonical_query(split_query(query_string)[0])
    if canonical != query_string:
        request.META["QUERY_STRING"] = canonical
        request.GET = QueryDict(canonical)
    return canonical


def _path_url(request) -> str:
    return f"{request.scheme}://{request.get_host()}{request.path}"


def entry_key(request, query: str | None = None) -> str:
    """One entry per page and meaningful query: scheme, host, path (with its language prefix) and the
    canonical query string (``query``, else computed from the request)."""
    if query is None:
        query = canonical_query(split_query(request.META.get("QUERY_STRING", ""))[0])
    url = _path_url(request) + (f"?{query}" if query else "")
    return ENTRY_PREFIX + hashlib.sha256(url.encode()).hexdigest()


def max_variants() -> int:
    """How many query variants of one path are stored per generation (``PAGE_CACHE_MAX_VARIANTS``)."""
    return int(conf.PAGE_CACHE_MAX_VARIANTS)


def may_store_variant(request, key: str, generation: int) -> bool:
    """Whether an entry with a query string may be stored: it is one of the first ``max_variants()`` distinct
    queries of its path stored under this generation. Later ones are served uncached, so random parameters
    can neither fill the cache nor push out the variants visitors use (the plain path is always stored).
    """
    if not request.META.get("QUERY_STRING"):
        return True
    path_hash = hashlib.sha256(_path_url(request).encode()).hexdigest()
    bound = getattr(request, _MAX_VARIANTS_ATTR, None) or max_variants()
    return _take_place(f"{VARIANTS_PREFIX}{generation}:{path_hash}", key, bound)


def _take_place(counter: str, key: str, bound: int) -> bool:
    """Whether the entry ``key`` holds, or now takes, one of the ``bound`` places ``counter`` counts.

    The entries already counted are marked, so re-storing one (after it expired) costs no place; an entry beyond
    the bound writes nothing at all. Counters and marks live as long as entries do.
    """
    mark = f"{counter}:{key.removeprefix(ENTRY_PREFIX)}"
    timeout = settings.PAGE_CACHE_TIMEOUT
    found = cache.get_many([counter, mark])
    if mark in found:
        return True
    if found.get(counter, 0) >= bound:
        return False
    cache.add(counter, 0, timeout=timeout)
    if cache.incr(counter) > bound:  # others took the last places meanwhile
        return False
    cache.set(mark, 1, timeout=timeout)
    return True


@hooks.register("before_serve_page")
def _remember_served_page(page, request, serve_args, serve_kwargs):
    """Note which page a request serves; the response phase asks the privacy gate about it."""
    setattr(request, _SERVED_PAGE_ATTR, page)


def _publicly_readable(request, response) -> bool:
    """Whether what this request served is public: a page the privacy gate opens to anonymous viewers, a view
    that marked itself cacheable, a 404 (the same for every anonymous visitor), or one of the site's redirects."""
    if getattr(request, _CACHEABLE_VIEW_ATTR, False) or _is_feed(request):
        return True
    if response.status_code != 200:
        return True  # storable() lets through 404s and the site's own redirects only
    page = getattr(request, _SERVED_PAGE_ATTR, None)
    if page is None:
        return False
    return privacy.can_view(page, privacy.Viewer.anonymous())


def _only_replayable_cookies(request, response) -> bool:
    """Whether the response sets no cookie other than the language cookie naming the language of its URL.

    That one cookie is a function of the URL alone (``portal.core.locale_middleware``); it is never stored but set again
    on each response by ``_remember_language``. Any other cookie (session, CSRF, messages) forbids storing.
    """
    names = set(response.cookies.keys())
    if not names:
        return True
    language_cookie = settings.LANGUAGE_COOKIE_NAME
    if names != {language_cookie}:
        return False
    return response.cookies[language_cookie].value == _language_of_path(request.path_info)


def _language_of_path(path: str) -> str | None:
    return i18n.language_of_path(path)


def _is_feed(request) -> bool:
    """Syndication feeds are built for the anonymous viewer whoever asks (``portal.pages.feeds``)."""
    match = getattr(request, "resolver_match", None)
    return isinstance(getattr(match, "func", None), Feed)


def _vary_headers(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",")} - {""}


def storable(request, response) -> bool:
    """Whether a response may be kept for other anonymous visitors: an anonymous GET's response that carries
    nothing personal, of a page or view anyone may read."""
    return (
        request.method == "GET"
        and not _is_logged_in(request)
        and _carries_nothing_personal(request, response)
        and _publicly_readable(request, response)
    )


def _carries_nothing_personal(request, response) -> bool:
    """Whether the response is a 200, a 404 or a redirect from the site's redirects table
    (``portal.core.redirects``), never another redirect (logins, languages); not streamed; and sets no cookie,
    cache directive or Vary header that would make it one visitor's."""
    may_vary = _may_vary_on(request, response.status_code)
    return (
        may_vary is not None
        and not response.streaming
        and _only_replayable_cookies(request, response)
        and not _forbids_sharing(response.get("Cache-Control", ""))
        and _vary_headers(response) <= may_vary
    )


def _may_vary_on(request, status: int) -> set[str] | None:
    """The Vary headers a storable response with this status may name (None: never stored with this status)."""
    if status in (200, 404):
        return {"cookie"}
    if status in (301, 302) and getattr(request, SITE_REDIRECT_ATTR, False):
        # Old addresses are mostly unprefixed, so the locale middleware says the response varies on the
        # visitor's language; a redirect's target does not (a page's URL carries its own language prefix).
        return {"cookie", "accept-language"}
    return None


def _forbids_sharing(cache_control: str) -> bool:
    return any(word in cache_control.lower() for word in ("private", "no-store", "no-cache"))


def _is_logged_in(request) -> bool:
    """Whether the request's user (if authentication ran) is logged in."""
    return bool(getattr(getattr(request, "user", None), "is_authenticated", False))


def max_elsewhere() -> int:
    """How many 404 and redirect responses are stored per generation, all paths together
    (``PAGE_CACHE_MAX_NOT_FOUND``): a scanner trying random paths cannot fill the cache."""
    return int(conf.PAGE_CACHE_MAX_NOT_FOUND)


def may_store_elsewhere(key: str, generation: int) -> bool:
    """Whether one more 404 or redirect may be stored under this generation (re-storing one costs no place)."""
    return _take_place(f"{VARIANTS_PREFIX}{generation}:not-found", key, max_elsewhere())


# --- Generation (invalidation): portal.core.generation, named here too for existing callers ----------------


def fragments_enabled() -> bool:
    """Whether template fragments are cached (``{% fragment %}``, ``portal.core.fragments``)."""
    return bool(conf.FRAGMENT_CACHE_ENABLED)


# --- Entries ---------------------------------------------------------------------------------------------


@dataclass
class Entry:
    """A stored response: status, headers, body with the CSRF placeholder, and the generation it belongs to."""

    generation: int
    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    has_csrf_hole: bool
    path: str
    status: int = 200
    on_hit: tuple | None = None  # (callback name, args) run for each response served from this entry


def csrf_placeholder(request) -> dict:
    """Context processor: a placeholder CSRF token for requests that may be stored (see the module doc)."""
    if getattr(request, _STATE_ATTR, None) is not None:
        return {"csrf_token": CSRF_PLACEHOLDER}
    return {}


def _entry_for(request, response, generation: int) -> Entry:
    """What is stored of a response: its final headers (a Cache-Control added when it has none) and body."""
    body = response.content
    headers = [(name, value) for name, value in response.items() if name.lower() not in _SKIP_HEADERS]
    has_hole = _PLACEHOLDER_BYTES in body
    if not response.has_header("Cache-Control"):
        shared = f"public, max-age={settings.PAGE_CACHE_MAX_AGE}"
        headers.append(("Cache-Control", "private, no-cache" if has_hole else shared))
    return Entry(
        generation=generation,
        headers=headers,
        body=body,
        etag=hashlib.sha256(body).hexdigest()[:20],
        has_csrf_hole=has_hole,
        path=request.path_info,
        status=response.status_code,
        on_hit=getattr(request, _ON_HIT_ATTR, None),
    )


class AnonymousPageCacheMiddleware:
    """Serves and stores anonymous page responses (place it right after WhiteNoise, before sessions).

    A middleware rather than a Wagtail serve hook, so that a hit costs one cache round trip and none of the
    session, authentication or template work, and so that the stored headers are the final ones (those
    added by every inner middleware, such as ``X-Frame-Options`` and ``Content-Language``).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        # Django's own code reads and sets the CSRF cookie for responses this middleware completes.
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request):
        query = canonicalize_query(request) if request.method in ("GET", "HEAD") else None
        if not enabled():
            return self.get_response(request)
        if not is_candidate(request):
            return self._pass_through(request)
        key = entry_key(request, query)
        entry = _local.get(key)
        if entry is not None:
            _run_hit_callback(entry)
            return self._respond(request, entry, hit=True)
        try:
            generation, entry = self._lookup(request, key)
        except Exception:
            logger.exception("Page cache unavailable; serving without it")
            return self.get_response(request)
        if entry is not None and entry.generation == generation:
            _local.put(key, entry)
            _run_hit_callback(entry)
            return self._respond(request, entry, hit=True)
        return self._render_and_store(request, key, generation)

    def _pass_through(self, request):
        """A request the cache never answers (personal, machine or admin): marked private."""
        response = self.get_response(request)
        self._mark_private(request, response)
        return response

    @staticmethod
    def _lookup(request, key: str) -> tuple[int, Entry | None]:
        """The current generation and the stored entry, in one round trip (raises when the cache is down)."""
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        if generation is None:
            generation = current_generation()
        memo.set_generation(request, generation)
        return generation, found.get(key)

    def _render_and_store(self, request, key: str, generation: int):
        """Render the page, and store it for other anonymous visitors when it may be stored."""
        setattr(request, _STATE_ATTR, key)
        response = self.get_response(request)
        if not storable(request, response):
            self._fill_csrf_hole(request, response)
            self._mark_private(request, response)
            return response
        if not self._variant_allowed(request, key, generation, response.status_code):
            self._fill_csrf_hole(request, response)
            response["X-Page-Cache"] = "bypass"
            return response
        entry = _entry_for(request, response, generation)
        _store(key, entry)
        return self._respond(request, entry, hit=False)

    @staticmethod
    def _variant_allowed(request, key: str, generation: int, status: int = 200) -> bool:
        """Within the bound of stored query variants of a path (a 200) or of 404s and redirects (the rest)."""
        try:
            if status != 200:
                return may_store_elsewhere(key, generation)
            return may_store_variant(request, key, generation)
        except Exception:
            logger.exception("Page cache unavailable; serving without it")
            return False

    # Responses ------------------------------------------------------------------------------------------

    def _respond(self, request, entry: Entry, *, hit: bool) -> HttpResponse:
        """The entry as this visitor's response: their CSRF token and cookie, ETag, 304 when unchanged."""
        token, etag = self._visitor_token(request, entry)
        if entry.status == 200:
            unchanged = _etag_matches(etag, request.META.get("HTTP_IF_NONE_MATCH", ""))
            response = _not_modified(entry) if unchanged else _full_response(entry, token)
            response["ETag"] = etag
        else:
            response = _full_response(entry, token)
            # Django logs every 4xx response ("Not Found: ..."): a kept 404 was logged when it was rendered, and a
            # scanner's thousand repeats would cost a log write each.
            response._has_been_logged = hit
        response["X-Page-Cache"] = "hit" if hit else "miss"
        # Sets the CSRF cookie if the visitor had none and the body holds their token (Django asks get_token).
        self.csrf.process_response(request, response)
        _remember_language(request, response, entry.path)
        return response

    def _visitor_token(self, request, entry: Entry) -> tuple[str | None, str]:
        """The visitor's CSRF token for the entry's hole (None when it has none) and the entry's ETag for this
        visitor (the same body with another token is another representation)."""
        if not entry.has_csrf_hole:
            return None, f'W/"{entry.etag}"'
        self.csrf.process_request(request)  # reads the visitor's CSRF cookie, if any
        token = get_token(request)
        secret = request.META.get("CSRF_COOKIE", "")
        return token, f'W/"{entry.etag}-{hashlib.sha256(secret.encode()).hexdigest()[:12]}"'

    def _fill_csrf_hole(self, request, response) -> None:
        """A response that is not stored still gets the visitor's real token in place of the placeholder."""
        if response.streaming or _PLACEHOLDER_BYTES not in response.content:
            return
        self.csrf.process_request(request)
        response.content = response.content.replace(_PLACEHOLDER_BYTES, get_token(request).encode())
        self.csrf.process_response(request, response)
        patch_cache_control(response, private=True)

    @staticmethod
    def _mark_private(request, response) -> None:
        """Pages and feeds answered for a logged-in (or otherwise personal) request: no shared caching."""
        served = getattr(request, _SERVED_PAGE_ATTR, None) or getattr(request, _CACHEABLE_VIEW_ATTR, False)
        if not served or response.has_header("Cache-Control"):
            return
        if is_personal_request(request) or _is_logged_in(request):
            add_never_cache_headers(response)


def _store(key: str, entry: Entry) -> None:
    """Keep the entry in the shared cache and, once it is there, in this process."""
    try:
        cache.set(key, entry, timeout=settings.PAGE_CACHE_TIMEOUT)
    except Exception:
        logger.exception("Could not store a page in the cache")
    else:
        _local.put(key, entry)


def _etag_matches(etag: str, if_none_match: str) -> bool:
    """Whether If-None-Match is ``*`` (``parse_etags`` gives ``["*"]``, and nothing for an empty header) or names
    this ETag, weak or strong."""
    wanted = etag.removeprefix("W/")
    return any(candidate.removeprefix("W/") in ("*", wanted) for candidate in parse_etags(if_none_match))


# Headers a 304 repeats from the stored response (RFC 9110, 15.4.5).
_NOT_MODIFIED_HEADERS = {"cache-control", "vary", "content-location", "expires"}


def _not_modified(entry: Entry) -> HttpResponseNotModified:
    response = HttpResponseNotModified()
    for name, value in entry.headers:
        if name.lower() in _NOT_MODIFIED_HEADERS:
            response[name] = value
    return response


def _full_response(entry: Entry, token: str | None) -> HttpResponse:
    """The stored response, with the visitor's CSRF token (if any) in place of the placeholder."""
    body = entry.body if token is None else entry.body.replace(_PLACEHOLDER_BYTES, token.encode())
    response = HttpResponse(body, status=entry.status)
    response["Content-Length"] = str(len(body))
    for name, value in entry.headers:
        response[name] = value
    return response


def _remember_language(request, response, path: str) -> None:
    """Set the language cookie the locale middleware sets on pages under /fr/ etc. (derived from the URL)."""
    language = _language_of_path(path)
    if i18n.shows_new_language(request, response, language):
        i18n.remember_language(response, language)
